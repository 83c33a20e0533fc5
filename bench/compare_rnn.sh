#!/usr/bin/env bash
# examples/addition_rnn (LSTM 128 encoder, RepeatVector, LSTM 128 decoder,
# Dense 12 softmax; Adam, batch 32) against the same model in PyTorch
# (bench/torch_addition.py, nn.LSTM), in the same run, one thread each by
# default. Both train on the same number of questions; each prints its
# seconds per epoch (training and validation) and its validation accuracy.
# The two programs alternate ROUNDS times, so that a shared machine's
# changes of speed fall on both; the table gives every round.
#
#   bench/compare_rnn.sh
#
# Environment (defaults in brackets):
#   NABLA_BUILD_DIR [build-bench]  build directory (configured release)
#   TRAIN_SIZE [50000]  questions (the last tenth for validation)
#   EPOCHS [2]          epochs per run; the run's time is its mean
#   ROUNDS [2]          THREADS [1]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

build=${NABLA_BUILD_DIR:-build-bench}
train_size=${TRAIN_SIZE:-50000}
epochs=${EPOCHS:-2}
rounds=${ROUNDS:-2}
threads=${THREADS:-1}
python=/usr/bin/python3 # Debian's, which sees python3-torch

if [[ ! -d "$build" ]]; then
    meson setup "$build" -Dnative=true -Dbuildtype=release >/dev/null
fi
meson compile -C "$build" examples/addition_rnn >/dev/null

printf "addition RNN, %s questions, %s epoch(s) per run, %s thread(s)\n" \
    "$train_size" "$epochs" "$threads"
printf "%-6s %14s %14s %8s %10s %10s\n" round "nabla s/epoch" "torch s/epoch" ratio \
    "nabla acc" "torch acc"
for round in $(seq 1 "$rounds"); do
    nabla=$("$build/examples/addition_rnn" --train-size "$train_size" --epochs "$epochs" \
        --threads "$threads" --verbose 0)
    torch=$(OMP_NUM_THREADS=$threads "$python" bench/torch_addition.py \
        --train-size "$train_size" --epochs "$epochs" --threads "$threads")
    n_time=$(sed -n 's/^\([0-9.]*\) s per epoch.*/\1/p' <<<"$nabla")
    t_time=$(sed -n 's/^epoch_seconds: //p' <<<"$torch" | awk '{ s += $1 } END { print s / NR }')
    n_acc=$(sed -n 's/^validation accuracy: //p' <<<"$nabla")
    t_acc=$(sed -n 's/^validation accuracy: //p' <<<"$torch")
    printf "%-6s %14.2f %14.2f %8.2f %10s %10s\n" "$round" "$n_time" "$t_time" \
        "$(awk -v a="$t_time" -v b="$n_time" 'BEGIN { print a / b }')" "$n_acc" "$t_acc"
done
echo "ratio: PyTorch's epoch time over nabla's (above 1: nabla is faster)"
