#!/usr/bin/env bash
# mnist_mlp --mpi on 2 ranks, end to end on the tiny fake MNIST: the output
# is printed once (by rank 0), the history file is written (by rank 0), and
# the test accuracy is that of one process up to rounding (the weights agree
# to f32 rounding, docs/distributed.md).
# usage: mnist_mpi_smoke.sh MPIRUN MAKE_FAKE_MNIST MNIST_MLP
set -euo pipefail
mpirun=$1 make_fake=$2 mnist=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$make_fake" "$dir"
alone=$("$mnist" --data "$dir" --epochs 2 --verbose 2 --curves '')
out=$("$mpirun" -np 2 --oversubscribe --timeout 120 "$mnist" --mpi --data "$dir" --epochs 2 \
      --verbose 2 --curves '' --history "$dir/history.csv")
echo "$out"
[[ $(grep -c '^Epoch 2/2' <<<"$out") -eq 1 ]] || { echo "expected one progress report"; exit 1; }
[[ $(grep -c '^test accuracy' <<<"$out") -eq 1 ]]
[[ $(wc -l < "$dir/history.csv") -eq 3 ]]
a=$(sed -n 's/^test accuracy: //p' <<<"$alone")
b=$(sed -n 's/^test accuracy: //p' <<<"$out")
echo "test accuracy: one process $a, two ranks $b"
awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; exit !(d < 0.02 && d > -0.02) }' ||
    { echo "mnist_mpi_smoke: the accuracies differ by more than 0.02"; exit 1; }
echo "mnist_mpi_smoke: ok"
