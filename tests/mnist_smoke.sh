#!/usr/bin/env bash
# End to end on a tiny fake MNIST: train, write curves, history and model,
# then evaluate the saved model without training. Checks what a user sees.
# usage: mnist_smoke.sh MAKE_FAKE_MNIST MNIST_MLP
set -euo pipefail
make_fake=$1 mnist=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$make_fake" "$dir"
out=$("$mnist" --data "$dir" --epochs 2 --verbose 2 --curves "$dir/curves.png" \
      --history "$dir/history.csv" --save "$dir/model.safetensors")
echo "$out"
grep -q 'Total params: 109,386' <<<"$out"
grep -q '^Epoch 2/2' <<<"$out"
grep -Eq '^test accuracy: [01]\.[0-9]{4}$' <<<"$out"
acc=$(sed -n 's/^test accuracy: //p' <<<"$out")
awk -v a="$acc" 'BEGIN { exit !(a >= 0.9) }' || { echo "accuracy $acc < 0.9 on the easy fake data"; exit 1; }
[[ $(head -1 "$dir/history.csv") == "epoch,loss,accuracy,val_loss,val_accuracy" ]]
[[ $(wc -l < "$dir/history.csv") -eq 3 ]]
if grep -q 'training curves written' <<<"$out"; then
    [[ $(head -c 8 "$dir/curves.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]
fi
again=$("$mnist" --data "$dir" --load "$dir/model.safetensors" --epochs 0 --curves '')
echo "$again"
[[ $(grep '^test accuracy' <<<"$again") == $(grep '^test accuracy' <<<"$out") ]]
echo "mnist_smoke: ok"
