#!/usr/bin/env bash
# The convnet with its defaults (15 epochs, batch 128, validation split 0.1)
# on Fashion-MNIST must reach a test accuracy of at least 0.90.
# Under sanitizers (several times slower) the build passes --quick: one
# epoch on 5000 images, which must reach 0.50 (it reaches about 0.6), so
# the stage stays short.
# usage: mnist_cnn_accuracy.sh MNIST_CNN [--quick]
set -euo pipefail
args=(--verbose 2 --curves '')
want=0.90
if [[ ${2:-} == --quick ]]; then
    args+=(--epochs 1 --samples 5000)
    want=0.50
fi
start=$SECONDS
out=$("$1" "${args[@]}")
echo "$out"
echo "mnist_cnn_accuracy: $((SECONDS - start)) s"
acc=$(sed -n 's/^test accuracy: //p' <<<"$out")
awk -v a="$acc" -v w="$want" 'BEGIN { exit !(a >= w) }' || { echo "test accuracy $acc < $want"; exit 1; }
