#!/usr/bin/env bash
# input_gradient on a tiny fake MNIST: the saliency map is written and the
# gradient-penalty step (a double backward) lowers the penalty.
# usage: input_gradient_smoke.sh MAKE_FAKE_MNIST INPUT_GRADIENT
set -euo pipefail
make_fake=$1 program=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$make_fake" "$dir"
out=$("$program" --data "$dir" --epochs 2 --samples 256 --png "$dir/saliency.png")
echo "$out"
grep -q '^saliency of test image 0 (label [0-9]): loss ' <<<"$out"
grep -q '^gradient penalty sum((dL/dx)^2) on a batch of 32: ' <<<"$out"
if grep -q 'saliency map written' <<<"$out"; then
    [[ $(head -c 8 "$dir/saliency.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]
fi
echo "input_gradient_smoke: ok"
