#!/usr/bin/env bash
# Epoch time of the MNIST MLP as the first hidden layer widens (128 to 2048,
# batch 32) and as the batch grows (1 to 1024, hidden 128), for each thread
# count in THREADS: one CSV row per point, and one picture with a line per
# thread count in each of the two panels.
# Short runs: each point trains on SAMPLES images (at least 8 batches) for
# 3 epochs, takes the median and scales it to a 48,000-sample epoch. The
# thread counts of a point run one after the other, so that they see the
# machine in the same minute.
#
#   bench/scaling.sh [OUT.csv [OUT.png]]
#       defaults: docs/performance_scaling.csv, docs/images/performance_scaling.png
# Environment: NABLA_BUILD_DIR [build-bench], NABLA_DATA, SAMPLES [9600], THREADS ["1 2"]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
. scripts/deps.sh
nabla_deps_install

build=${NABLA_BUILD_DIR:-build-bench}
csv=${1:-docs/performance_scaling.csv}
png=${2:-docs/images/performance_scaling.png}
samples=${SAMPLES:-9600}
threads=${THREADS:-1 2}
data_args=()
[[ -n "${NABLA_DATA:-}" ]] && data_args=(--data "$NABLA_DATA")
if [[ ! -d "$build" ]]; then
    meson setup "$build" -Dnative=true -Dbuildtype=release >/dev/null
fi
meson compile -C "$build" bench/nabla_bench bench/plot_scaling >/dev/null

point() { # point SWEEP VALUE HIDDEN BATCH: a row for each thread count
    local n=$samples t out
    ((n < 8 * $4)) && n=$((8 * $4))
    for t in $threads; do
        out=$("$build/bench/nabla_bench" "${data_args[@]}" --hidden "$3" --batch "$4" \
            --threads "$t" --epochs 3 --samples "$n")
        awk -v sweep="$1" -v value="$2" -v t="$t" -v n="$n" '
            /^median epoch_seconds:/ { s = $3 }
            /^gflops:/ { g = $2 }
            END {
                if (s <= 0) {
                    print "scaling.sh: no epoch time for " sweep " " value ", " t " thread(s)" \
                        > "/dev/stderr"
                    exit 1
                }
                printf "%s,%s,%s,%.4f,%.0f,%s\n", sweep, value, t, s * 48000 / n, n / s, g }' \
            <<<"$out"
    done
}

# the CSV is written beside its place and moved there whole: a sweep that
# stops part way leaves the previous one
partial=$(mktemp "$csv.XXXXXX")
trap 'rm -f "$partial"' EXIT
chmod 0644 "$partial"
{
    echo "sweep,value,threads,epoch_seconds,samples_per_second,gflops"
    for h in 128 256 512 1024 2048; do point hidden "$h" "$h" 32; done
    for b in 1 2 4 8 16 32 64 128 256 512 1024; do point batch "$b" 128 "$b"; done
} | tee "$partial"
mv "$partial" "$csv"
"$build/bench/plot_scaling" "$csv" "$png"
