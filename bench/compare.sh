#!/usr/bin/env bash
# Train the reference MNIST MLP (784-128-64-10, Adam, categorical
# cross-entropy) in nabla and in PyTorch on the same data, batch sizes and
# thread counts, in the same run, and print per configuration the median
# epoch time of each, their ratio and each one's test accuracy, the epoch
# time of nabla's portable kernel (a -Dblas=disabled build), and the floor:
# the one-thread epoch time of the step's products, Adam and batch copy,
# each alone (bench/nabla_floor.c), with nabla's epoch time over it.
#
# This machine's speed changes from minute to minute (it is shared), so
# the whole set of runs is repeated ROUNDS times, every program once per
# configuration in each round: nabla and PyTorch run a few seconds apart,
# and each ratio is taken within a round. The table gives the median over
# the rounds of each time and of the per-round ratios, with the lowest and
# highest ratio; a last table gives nabla's two-thread speed-up over one
# thread, also within each round.
#
#   bench/compare.sh                  # installs what is missing, builds, runs
#
# Environment (defaults in brackets):
#   NABLA_BUILD_DIR [build-bench]  build directory: the default release
#                      build, as a user or a distribution builds it (nabla's
#                      own loops pick their CPU's kernels at run time)
#   NATIVE_BUILD_DIR [build-bench-native]  the same with -Dnative=true;
#                      NATIVE=0 leaves the native column out
#   PORTABLE_BUILD_DIR [build-bench-portable]  -Dblas=disabled -Dnative=true;
#                      PORTABLE=0 leaves the portable column out
#   NABLA_DATA [/usr/share/datasets/fashion-mnist]
#   ROUNDS [3]         repetitions of the whole set of runs
#   EPOCHS [3]         nabla epochs per run (the run's median is its time)
#   TORCH_EPOCHS [1]   PyTorch epochs per run
#   TORCH_SAMPLES [48000]  PyTorch samples per epoch; below 48000 its epoch
#                      time is scaled to 48,000 samples (and its accuracy is
#                      that of the shorter training)
#   BATCHES ["32 128"]  THREADS ["1 2 0"]; a thread count of 0 is nabla's
#                      automatic choice (what a program gets without
#                      nb_set_num_threads), which PyTorch has no run for
#   CNN [1]            also the Keras MNIST convnet (nabla_bench --model cnn
#                      against bench/torch_cnn.py) at batch CNN_BATCH [128]
#                      on THREADS, CNN_SAMPLES [54000] images an epoch,
#                      CNN_EPOCHS [2] nabla and TORCH_CNN_EPOCHS [1] PyTorch
#                      epochs per run; CNN=0 leaves it out
#   RNN [1]            also the Keras addition RNN against the same model in
#                      PyTorch, by bench/compare_rnn.sh (its own variables,
#                      TRAIN_SIZE, EPOCHS... apply; ROUNDS is passed on);
#                      RNN=0 leaves it out
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# shellcheck source=../scripts/deps.sh
. scripts/deps.sh
NABLA_DEB_PACKAGES+=(python3-torch python3-numpy)
nabla_deps_install

build=${NABLA_BUILD_DIR:-build-bench}
native_build=${NATIVE_BUILD_DIR:-build-bench-native}
native=${NATIVE:-1}
portable_build=${PORTABLE_BUILD_DIR:-build-bench-portable}
portable=${PORTABLE:-1}
data=${NABLA_DATA:-/usr/share/datasets/fashion-mnist}
rounds=${ROUNDS:-3}
epochs=${EPOCHS:-3}
torch_epochs=${TORCH_EPOCHS:-1}
torch_samples=${TORCH_SAMPLES:-48000}
batches=${BATCHES:-32 128}
threads=${THREADS:-1 2 0}
cnn=${CNN:-1}
cnn_batch=${CNN_BATCH:-128}
cnn_samples=${CNN_SAMPLES:-54000}
cnn_epochs=${CNN_EPOCHS:-2}
torch_cnn_epochs=${TORCH_CNN_EPOCHS:-1}
python=/usr/bin/python3 # Debian's, which sees python3-torch (not a pyenv one)

if [[ ! -d "$build" ]]; then
    meson setup "$build" -Dbuildtype=release >/dev/null
fi
meson compile -C "$build" bench/nabla_bench >/dev/null
if [[ $native == 1 ]]; then
    if [[ ! -d "$native_build" ]]; then
        meson setup "$native_build" -Dnative=true -Dbuildtype=release -Dtests=disabled \
            -Dexamples=false >/dev/null
    fi
    meson compile -C "$native_build" bench/nabla_bench >/dev/null
fi
floor_bin=$build/bench/nabla_floor # built only with cblas
if [[ -f "$build/build.ninja" ]] && ninja -C "$build" -t targets all | grep -q '^bench/nabla_floor:'; then
    meson compile -C "$build" bench/nabla_floor >/dev/null
fi
if [[ $portable == 1 ]]; then
    if [[ ! -d "$portable_build" ]]; then
        meson setup "$portable_build" -Dnative=true -Dbuildtype=release -Dblas=disabled \
            -Dtests=disabled -Dexamples=false >/dev/null
    fi
    meson compile -C "$portable_build" bench/nabla_bench >/dev/null
fi

field() { # field NAME FILE: the value after "NAME: "
    sed -n "s/^$1: \([0-9.]*\).*/\1/p" "$2" | head -n 1
}
shown() { # shown NAME FILE: the value after "NAME: ", or - when there is none
    local v
    v=$(field "$1" "$2" 2>/dev/null || true)
    echo "${v:--}"
}

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; $(date -u '+%Y-%m-%d %H:%M UTC')"
# OpenBLAS picks its kernels for the CPU unless this says otherwise; it
# applies to nabla and PyTorch alike (docs/performance.md)
echo "OPENBLAS_CORETYPE: ${OPENBLAS_CORETYPE:-unset}"
echo "load at start:$(uptime | sed 's/.*load average:/ /')"

# ---- the runs: round r writes $out/PROGRAM.bB.tT.rR ------------------------
# run FILE COMMAND...: COMMAND's output into FILE; a failing run is said,
# with the end of its output, and shows as - in the tables (its numbers are
# missing), instead of ending the rounds
run() {
    local file=$1 status=0
    shift
    "$@" >"$file" 2>&1 || status=$?
    if [[ $status -ne 0 ]]; then
        echo "compare.sh: $* failed (exit $status); its last lines:" >&2
        tail -n 5 "$file" >&2
        : >"$file"
    fi
}
for ((r = 1; r <= rounds; r++)); do
    for b in $batches; do
        if [[ -x "$floor_bin" ]]; then
            run "$out/floor.b$b.r$r" "$floor_bin" --batch "$b" --epochs "$epochs"
        fi
        for t in $threads; do
            run "$out/nabla.b$b.t$t.r$r" "$build/bench/nabla_bench" --data "$data" --batch "$b" \
                --threads "$t" --epochs "$epochs"
            [[ $t == 0 ]] ||
                run "$out/torch.b$b.t$t.r$r" "$python" bench/torch_mlp.py --data "$data" \
                    --batch "$b" --threads "$t" --epochs "$torch_epochs" --samples "$torch_samples"
            if [[ $native == 1 ]]; then
                run "$out/native.b$b.t$t.r$r" "$native_build/bench/nabla_bench" \
                    --data "$data" --batch "$b" --threads "$t" --epochs "$epochs"
            fi
            if [[ $portable == 1 ]]; then
                run "$out/portable.b$b.t$t.r$r" "$portable_build/bench/nabla_bench" \
                    --data "$data" --batch "$b" --threads "$t" --epochs "$epochs"
            fi
        done
    done
    if [[ $cnn == 1 ]]; then
        for t in $threads; do
            run "$out/cnn_nabla.t$t.r$r" "$build/bench/nabla_bench" --model cnn --data "$data" \
                --batch "$cnn_batch" --threads "$t" --epochs "$cnn_epochs" --samples "$cnn_samples"
            [[ $t == 0 ]] ||
                run "$out/cnn_torch.t$t.r$r" "$python" bench/torch_cnn.py --data "$data" \
                    --batch "$cnn_batch" --threads "$t" --epochs "$torch_cnn_epochs" \
                    --samples "$cnn_samples"
        done
    fi
    echo "round $r of $rounds done, load:$(uptime | sed 's/.*load average:/ /')"
done
first_b=${batches%% *}
first_t=${threads%% *}
# the first line of a nabla run names the build, OpenBLAS's kernels among it
sed -n 1p "$out/nabla.b$first_b.t$first_t.r1"

# ---- the tables ---------------------------------------------------------
# rounds_of NAME FILE_STEM [SCALE]: the field NAME of each round's file, one
# line per round, times SCALE; - for a run that did not print it
rounds_of() {
    local r v
    for ((r = 1; r <= rounds; r++)); do
        v=
        [[ -f "$2.r$r" ]] && v=$(field "$1" "$2.r$r")
        if [[ -n $v ]]; then
            awk -v v="$v" -v k="${3:-1}" 'BEGIN { printf "%.4f\n", v * k }'
        else
            echo -
        fi
    done
}
median() { # the median of the numbers on standard input (- ignored), or -
    { grep -v '^-$' || true; } | sort -g | awk '{ a[NR] = $1 } END {
        if (NR == 0) print "-"
        else if (NR % 2) printf "%.4g\n", a[(NR + 1) / 2]
        else printf "%.4g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
lowest() { # the lowest of the numbers on standard input (- ignored), or -
    { grep -v '^-$' || true; } | sort -g | awk 'NR == 1 { v = $1 } END { print NR ? v : "-" }'
}
# ratios A_LINES B_LINES: A / B, round by round (both lists in round order;
# a round where either is - gives none)
ratios() {
    paste <(printf '%s\n' "$1") <(printf '%s\n' "$2") |
        awk '$1 != "-" && $2 != "-" && $2 > 0 { printf "%.2f\n", $1 / $2 }'
}
spread() { # "median (lowest to highest)x" of the numbers on standard input
    sort -g | awk '{ a[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
        printf "%.1fx (%.1f to %.1f)\n", m, a[1], a[NR] }'
}
threads_label() { # "2 threads", or "automatic threads" for 0
    if [[ $1 == 0 ]]; then echo "automatic threads"; else echo "$1 threads"; fi
}
torch_scale=$(awk -v n="$torch_samples" 'BEGIN { print 48000 / n }')

row='%-6s %-8s %-9s %-9s %-20s %-10s %-10s %-9s %-14s %-9s %-11s %-8s %s\n'
echo
echo "medians over $rounds round(s); ratio = PyTorch's time / nabla's, round by round"
# shellcheck disable=SC2059 # the format is the row above
printf "$row" batch threads nabla_s torch_s "ratio (low to high)" nabla_acc torch_acc nabla_MB \
    "nabla_GFLOP/s" native_s portable_s floor_s of_floor
for b in $batches; do
    f_s=$(rounds_of floor_seconds "$out/floor.b$b" | median)
    for t in $threads; do
        stem=b$b.t$t
        n_all=$(rounds_of "median epoch_seconds" "$out/nabla.$stem")
        t_all=$(rounds_of "median epoch_seconds" "$out/torch.$stem" "$torch_scale")
        n_s=$(median <<<"$n_all")
        of_floor=-
        if [[ $f_s != - && $n_s != - ]]; then
            of_floor=$(awk -v a="$n_s" -v b="$f_s" 'BEGIN { printf "%.2f", a / b }')
        fi
        # shellcheck disable=SC2059
        printf "$row" "$b" "$t" "$n_s" "$(median <<<"$t_all")" \
            "$(ratios "$t_all" "$n_all" | spread)" \
            "$(shown "test accuracy" "$out/nabla.$stem.r1")" \
            "$(shown "test accuracy" "$out/torch.$stem.r1")" \
            "$(shown peak_rss_mb "$out/nabla.$stem.r1")" \
            "$(rounds_of gflops "$out/nabla.$stem" | median)" \
            "$(rounds_of "median epoch_seconds" "$out/native.$stem" | median)" \
            "$(rounds_of "median epoch_seconds" "$out/portable.$stem" | median)" "$f_s" "$of_floor"
    done
done
echo "nabla_s = the default release build; native_s = the same sources -Dnative=true"
echo "portable_s = nabla with its portable kernel; floor_s = one thread's products, Adam and"
echo "batch copy alone (bench/nabla_floor.c); of_floor = nabla_s / floor_s (1.00 would be no"
echo "time at all outside them); accuracies are those of round 1; threads 0 = nabla's"
echo "automatic choice (nabla_bench prints the count it made)"

# what the floor is made of, and how far its products are from the core's
# peak multiply-add rate
if [[ -x "$floor_bin" ]]; then
    echo
    echo "the floor's parts (medians over the rounds; bench/nabla_floor.c):"
    part() { rounds_of "$1" "$out/floor.b$b" | median; } # the field NAME for batch $b
    for b in $batches; do
        echo "  batch $b: products $(part gemm_seconds) s (OpenBLAS), $(part gemm_at_peak_seconds) s" \
            "at the core's peak of $(part peak_gflops) GFLOP/s; Adam $(part adam_seconds) s;" \
            "batch copy $(part gather_seconds) s"
    done
fi

# the comparison the project aims at: nabla on its first thread count against PyTorch's
# best thread count of the same round
echo
echo "nabla with $first_t thread(s) against PyTorch's best thread count, round by round:"
for b in $batches; do
    # one line per round: the lowest of that round's PyTorch times, or -
    best=$(for ((r = 1; r <= rounds; r++)); do
        for t in $threads; do
            rounds_of "median epoch_seconds" "$out/torch.b$b.t$t" "$torch_scale" | sed -n "${r}p"
        done | lowest
    done)
    echo "  batch $b: $(ratios "$best" \
        "$(rounds_of "median epoch_seconds" "$out/nabla.b$b.t$first_t")" | spread)"
done

# nabla's speed-up from more threads, round by round, against its first thread count
if [[ $threads == *" "* ]]; then
    echo
    echo "nabla, epoch time with $first_t thread(s) / with more, round by round:"
    for b in $batches; do
        base=$(rounds_of "median epoch_seconds" "$out/nabla.b$b.t$first_t")
        for t in $threads; do
            [[ $t == "$first_t" ]] && continue
            echo "  batch $b, $(threads_label "$t"): $(ratios "$base" \
                "$(rounds_of "median epoch_seconds" "$out/nabla.b$b.t$t")" | spread)"
        done
    done
fi
# the convnet: the same table's first columns, with both GFLOP/s (the same
# FLOP count for both, nabla_bench's: 14,256,384 per sample) against the
# core's peak that nabla_floor measured
if [[ $cnn == 1 ]]; then
    peak=$(rounds_of peak_gflops "$out/floor.b${first_b}" 2>/dev/null | median)
    echo
    echo "the Keras MNIST convnet, batch $cnn_batch, $cnn_samples images an epoch (medians over" \
        "$rounds round(s)); the core's measured peak: ${peak:--} GFLOP/s"
    crow='%-8s %-9s %-9s %-20s %-10s %-10s %-14s %s\n'
    # shellcheck disable=SC2059
    printf "$crow" threads nabla_s torch_s "ratio (low to high)" nabla_acc torch_acc \
        "nabla_GFLOP/s" "torch_GFLOP/s"
    for t in $threads; do
        n_all=$(rounds_of "median epoch_seconds" "$out/cnn_nabla.t$t")
        t_all=$(rounds_of "median epoch_seconds" "$out/cnn_torch.t$t")
        t_s=$(median <<<"$t_all")
        t_gflops=-
        if [[ $t_s != - ]]; then
            t_gflops=$(awk -v s="$t_s" -v n="$cnn_samples" 'BEGIN { printf "%.2f", 14256384 * n / s / 1e9 }')
        fi
        # shellcheck disable=SC2059
        printf "$crow" "$t" "$(median <<<"$n_all")" "$t_s" "$(ratios "$t_all" "$n_all" | spread)" \
            "$(shown "test accuracy" "$out/cnn_nabla.t$t.r1")" \
            "$(shown "test accuracy" "$out/cnn_torch.t$t.r1")" \
            "$(rounds_of gflops "$out/cnn_nabla.t$t" | median)" "$t_gflops"
    done
    if [[ $threads == *" "* ]]; then
        base=$(rounds_of "median epoch_seconds" "$out/cnn_nabla.t$first_t")
        for t in $threads; do
            [[ $t == "$first_t" ]] && continue
            echo "  nabla's convnet, epoch time with $first_t thread(s) / with $(threads_label "$t"): $(ratios "$base" \
                "$(rounds_of "median epoch_seconds" "$out/cnn_nabla.t$t")" | spread)"
        done
    fi
fi
if [[ ${RNN:-1} == 1 ]]; then
    echo
    ROUNDS=$rounds "$root/bench/compare_rnn.sh"
fi
echo "load at end:$(uptime | sed 's/.*load average:/ /')"
