#!/usr/bin/env bash
# Train the reference MNIST MLP (784-128-64-10, Adam, categorical
# cross-entropy) in nabla and in PyTorch on the same data, batch sizes and
# thread counts, in the same run, and print per configuration the median
# epoch time of each, their ratio and each one's test accuracy, the epoch
# time of nabla's portable kernel (a -Dblas=disabled build), and the floor:
# the one-thread epoch time of the step's products, Adam and batch copy,
# each alone (bench/nabla_floor.c), with nabla's epoch time over it.
#
#   bench/compare.sh                  # installs what is missing, builds, runs
#
# Environment (defaults in brackets):
#   NABLA_BUILD_DIR [build-bench]  build directory (configured -Dnative=true)
#   PORTABLE_BUILD_DIR [build-bench-portable]  the same with -Dblas=disabled;
#                      PORTABLE=0 leaves the portable column out
#   NABLA_DATA [/usr/share/datasets/fashion-mnist]
#   EPOCHS [3]         nabla epochs per configuration (the median is reported)
#   TORCH_EPOCHS [1]   PyTorch epochs per configuration
#   TORCH_SAMPLES [48000]  PyTorch samples per epoch; below 48000 its epoch
#                      time is scaled to 48,000 samples (and its accuracy is
#                      that of the shorter training)
#   BATCHES ["32 128"]  THREADS ["1 2"]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# shellcheck source=../scripts/deps.sh
. scripts/deps.sh
NABLA_DEB_PACKAGES+=(python3-torch python3-numpy)
nabla_deps_install

build=${NABLA_BUILD_DIR:-build-bench}
portable_build=${PORTABLE_BUILD_DIR:-build-bench-portable}
portable=${PORTABLE:-1}
data=${NABLA_DATA:-/usr/share/datasets/fashion-mnist}
epochs=${EPOCHS:-3}
torch_epochs=${TORCH_EPOCHS:-1}
torch_samples=${TORCH_SAMPLES:-48000}
batches=${BATCHES:-32 128}
threads=${THREADS:-1 2}
python=/usr/bin/python3 # Debian's, which sees python3-torch (not a pyenv one)

if [[ ! -d "$build" ]]; then
    meson setup "$build" -Dnative=true -Dbuildtype=release >/dev/null
fi
meson compile -C "$build" bench/nabla_bench >/dev/null
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

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; $(date -u '+%Y-%m-%d %H:%M UTC')"
# OpenBLAS picks its kernels for the CPU unless this says otherwise; it
# applies to nabla and PyTorch alike (docs/performance.md)
echo "OPENBLAS_CORETYPE: ${OPENBLAS_CORETYPE:-unset}"
echo "load at start:$(uptime | sed 's/.*load average:/ /')"
row='%-6s %-8s %-10s %-10s %-8s %-10s %-10s %-9s %-14s %-11s %-8s %s\n'
# shellcheck disable=SC2059 # the format is the row above
printf "$row" batch threads nabla_s torch_s ratio nabla_acc torch_acc nabla_MB "nabla_GFLOP/s" \
    portable_s floor_s of_floor
for b in $batches; do
    f_s=-
    if [[ -x "$floor_bin" ]]; then
        "$floor_bin" --batch "$b" --epochs "$epochs" >"$out/floor" 2>&1
        f_s=$(field floor_seconds "$out/floor")
    fi
    for t in $threads; do
        "$build/bench/nabla_bench" --data "$data" --batch "$b" --threads "$t" \
            --epochs "$epochs" >"$out/nabla" 2>&1
        "$python" bench/torch_mlp.py --data "$data" --batch "$b" --threads "$t" \
            --epochs "$torch_epochs" --samples "$torch_samples" >"$out/torch" 2>&1
        p_s=-
        if [[ $portable == 1 ]]; then
            "$portable_build/bench/nabla_bench" --data "$data" --batch "$b" --threads "$t" \
                --epochs "$epochs" >"$out/portable" 2>&1
            p_s=$(field "median epoch_seconds" "$out/portable")
        fi
        n_s=$(field "median epoch_seconds" "$out/nabla")
        t_s=$(field "median epoch_seconds" "$out/torch")
        t_s=$(awk -v s="$t_s" -v n="$torch_samples" 'BEGIN { printf "%.4f", s * 48000 / n }')
        of_floor=-
        if [[ $f_s != - ]]; then
            of_floor=$(awk -v a="$n_s" -v b="$f_s" 'BEGIN { printf "%.2f", a / b }')
        fi
        # shellcheck disable=SC2059
        printf "$row" "$b" "$t" "$n_s" "$t_s" \
            "$(awk -v a="$t_s" -v b="$n_s" 'BEGIN { printf "%.1fx", a / b }')" \
            "$(field "test accuracy" "$out/nabla")" "$(field "test accuracy" "$out/torch")" \
            "$(field peak_rss_mb "$out/nabla")" "$(field gflops "$out/nabla")" "$p_s" "$f_s" \
            "$of_floor"
    done
done
echo "ratio = PyTorch epoch time / nabla epoch time (above 1: nabla is faster);" \
    "portable_s = nabla with its portable kernel;"
echo "floor_s = one thread's products, Adam and batch copy alone (bench/nabla_floor.c);" \
    "of_floor = nabla_s / floor_s (1.00 would be no time at all outside them)"
echo "load at end:$(uptime | sed 's/.*load average:/ /')"
