#!/usr/bin/env bash
# Samples per second of the MNIST MLP (784-128-64-10, Adam) trained by one
# process and by P processes together over MPI (docs/distributed.md), with
# the same global batch and one thread per process.
#
#   bench/mpi.sh                  # installs what is missing, builds, runs
#
# Environment (defaults in brackets):
#   NABLA_BUILD_DIR [build-bench]  build directory (configured -Dnative=true)
#   NABLA_DATA [Debian's Fashion-MNIST]  EPOCHS [3]  SAMPLES [48000]
#   BATCHES ["32 128"]  PROCESSES ["2"]
# As root, mpirun needs OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1,
# which this script sets.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=../scripts/deps.sh
. scripts/deps.sh
nabla_deps_install

build=${NABLA_BUILD_DIR:-build-bench}
epochs=${EPOCHS:-3}
samples=${SAMPLES:-48000}
batches=${BATCHES:-32 128}
processes=${PROCESSES:-2}
data_args=()
[[ -n "${NABLA_DATA:-}" ]] && data_args=(--data "$NABLA_DATA")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

if [[ ! -d "$build" ]]; then
    meson setup "$build" -Dnative=true -Dbuildtype=release -Dmpi=enabled >/dev/null
fi
meson compile -C "$build" bench/nabla_bench >/dev/null

field() { # field NAME TEXT: the number after "NAME: "
    sed -n "s/^$1: \([0-9.]*\).*/\1/p" <<<"$2" | head -n 1
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; $(date -u '+%Y-%m-%d %H:%M UTC')"
printf '%-6s %-10s %-14s %-16s %-8s %s\n' batch processes epoch_seconds samples_per_second \
    speedup test_accuracy
for b in $batches; do
    base=
    for p in 1 $processes; do
        args=("${data_args[@]}" --batch "$b" --threads 1 --epochs "$epochs" --samples "$samples")
        if [[ $p == 1 ]]; then
            out=$("$build/bench/nabla_bench" "${args[@]}")
        else
            out=$(mpirun -np "$p" --oversubscribe "$build/bench/nabla_bench" \
                "${args[@]}" --mpi)
        fi
        sps=$(field samples_per_second "$out")
        base=${base:-$sps}
        printf '%-6s %-10s %-14s %-16s %-8s %s\n' "$b" "$p" \
            "$(field 'median epoch_seconds' "$out")" "$sps" \
            "$(awk -v a="$sps" -v b="$base" 'BEGIN { printf "%.2fx", a / b }')" \
            "$(field 'test accuracy' "$out")"
    done
done
