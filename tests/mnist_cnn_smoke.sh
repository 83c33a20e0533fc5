#!/usr/bin/env bash
# The convnet end to end on a tiny fake MNIST: a short run on two threads,
# the Keras summary, history and saved model, then the saved model evaluated
# without training gives the same test accuracy.
# usage: mnist_cnn_smoke.sh MAKE_FAKE_MNIST MNIST_CNN
set -euo pipefail
make_fake=$1 cnn=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$make_fake" "$dir"
out=$("$cnn" --data "$dir" --epochs 2 --samples 1000 --threads 2 --verbose 2 --curves '' \
      --history "$dir/history.csv" --save "$dir/model.safetensors")
echo "$out"
grep -q ' conv2d_1 (Conv2D)           (None, 11, 11, 64)        18,496' <<<"$out"
grep -q 'Total params: 34,826' <<<"$out"
grep -q '^Epoch 2/2' <<<"$out"
grep -Eq '^test accuracy: [01]\.[0-9]{4}$' <<<"$out"
acc=$(sed -n 's/^test accuracy: //p' <<<"$out")
awk -v a="$acc" 'BEGIN { exit !(a >= 0.9) }' || { echo "accuracy $acc < 0.9 on the easy fake data"; exit 1; }
[[ $(head -1 "$dir/history.csv") == "epoch,loss,accuracy,val_loss,val_accuracy" ]]
again=$("$cnn" --data "$dir" --load "$dir/model.safetensors" --epochs 0 --curves '')
echo "$again"
[[ $(grep '^test accuracy' <<<"$again") == $(grep '^test accuracy' <<<"$out") ]]
echo "mnist_cnn_smoke: ok"
