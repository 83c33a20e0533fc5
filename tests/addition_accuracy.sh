#!/usr/bin/env bash
# examples/addition_rnn with its defaults (3 digits, 50,000 questions, 30
# epochs) must reach a validation accuracy of at least 0.99 per character
# (with the weights of its best epoch, which the program keeps).
# With NABLA_ADDITION_SHORT=1 (set by .ci/run's sanitize stage, where the
# full run would take hours) it trains 2 epochs on 4,000 questions and only
# checks that the run completes with its accuracy line.
# usage: addition_accuracy.sh ADDITION_RNN
set -euo pipefail
if [[ "${NABLA_ADDITION_SHORT:-0}" == 1 ]]; then
    out=$("$1" --train-size 4000 --epochs 2 --verbose 2)
    min=0
else
    out=$("$1" --verbose 2)
    min=0.99
fi
echo "$out"
acc=$(sed -n 's/^validation accuracy: //p' <<<"$out")
[[ -n "$acc" ]] || { echo "no 'validation accuracy:' line"; exit 1; }
awk -v a="$acc" -v m="$min" 'BEGIN { exit !(a >= m) }' || { echo "validation accuracy $acc < $min"; exit 1; }
