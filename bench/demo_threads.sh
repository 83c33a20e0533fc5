#!/usr/bin/env bash
# The demo (examples/mnist_mlp) as a user runs it, against its explicit
# thread settings: per batch size and thread count (0 = nabla's automatic
# choice, the default), the median epoch time as the demo prints it
# (training and the validation pass), over EPOCHS epochs a run and ROUNDS
# interleaved rounds, and the default's time over the best explicit one.
#
#   bench/demo_threads.sh              # after a build in BUILD_DIR
#
# Environment (defaults in brackets): BUILD_DIR [build], ROUNDS [3],
# EPOCHS [3], BATCHES ["32 128"], THREADS ["1 2"] (the explicit settings;
# the default always runs too), NABLA_DATA [Fashion-MNIST's directory].
set -euo pipefail
build=${BUILD_DIR:-build}
rounds=${ROUNDS:-3}
epochs=${EPOCHS:-3}
batches=${BATCHES:-32 128}
threads=${THREADS:-1 2}
data=${NABLA_DATA:-/usr/share/datasets/fashion-mnist}
demo=$build/examples/mnist_mlp
[[ -x $demo ]] || { echo "demo_threads.sh: no $demo (build first)" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "OPENBLAS_CORETYPE: ${OPENBLAS_CORETYPE:-unset}; load:$(uptime | sed 's/.*load average:/ /')"
# epoch_ms FILE: the epoch times the demo printed ("1500/1500 - 974ms ..."
# or "- 1.2s ..."), in ms, one per line, the first epoch left out (it
# allocates)
epoch_ms() {
    sed -n 's|^[0-9]*/[0-9]* - \([0-9.]*\)\(m\?s\) .*|\1 \2|p' "$1" |
        awk 'NR > 1 { print ($2 == "s" ? $1 * 1000 : $1) }'
}
median() {
    sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-";
        else printf "%.0f\n", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
for ((r = 1; r <= rounds; r++)); do
    for b in $batches; do
        for t in $threads 0; do
            "$demo" --data "$data" --epochs "$epochs" --batch "$b" --threads "$t" --verbose 2 \
                --curves '' >"$out/b$b.t$t.r$r" 2>&1
        done
    done
done
echo "load at end:$(uptime | sed 's/.*load average:/ /')"
printf '%-6s %-10s %-16s %s\n' batch threads "epoch ms" "test accuracy"
for b in $batches; do
    best=
    for t in $threads 0; do
        ms=$(for f in "$out"/b$b.t$t.r*; do epoch_ms "$f"; done | median)
        acc=$(sed -n 's/^test accuracy: //p' "$out/b$b.t$t.r1")
        label=$t
        [[ $t == 0 ]] && label="0 ($(sed -n 's/^threads: \([0-9]*\).*/\1/p' "$out/b$b.t$t.r1"))"
        printf '%-6s %-10s %-16s %s\n' "$b" "$label" "$ms" "$acc"
        if [[ $t != 0 ]]; then
            [[ -z $best || $ms -lt $best ]] && best=$ms
        else
            echo "batch $b: the default's epoch over the best explicit setting's: $(awk -v a="$ms" \
                -v b="$best" 'BEGIN { printf "%.3f", a / b }')"
        fi
    done
done
