#!/usr/bin/env bash
# The reference program as a user runs it (10 epochs, batch 32, validation
# split 0.2, nabla's automatic thread count) on Fashion-MNIST must reach a
# test accuracy of at least 0.87. The thread count changes the order of
# the sums and so the last digits: on 2 CPUs 0.8737 with the automatic
# choice (two threads), 0.8764 with --threads 1, and 0.8819 before
# 2026-12-08, when OpenBLAS ran its own threads (docs/performance.md).
# usage: mnist_accuracy.sh MNIST_MLP
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=$("$1" --verbose 2 --curves "$dir/curves.png")
echo "$out"
acc=$(sed -n 's/^test accuracy: //p' <<<"$out")
awk -v a="$acc" 'BEGIN { exit !(a >= 0.87) }' || { echo "test accuracy $acc < 0.87"; exit 1; }
