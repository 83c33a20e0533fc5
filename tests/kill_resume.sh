#!/usr/bin/env bash
# kill_resume.sh RESUME_TRAIN: training survives SIGKILL at any moment.
#
# RESUME_TRAIN (tests/resume_train.c) trains with nb_backup_and_restore. It
# is run once to the end for a reference, then again and again, each time
# killed with SIGKILL after a random delay (by timeout(1), so nothing here
# sleeps) and started anew, which resumes from the backup. After every kill
# the backup must load; when a run finally completes, its weights must be
# the reference's, byte for byte. Rounds repeat until at least NABLA_KILLS
# (20) kills have happened, at most 300 runs in all.
#
# The delays come from bash's RANDOM seeded with NABLA_KILL_SEED (printed;
# by default the clock), so a failing sequence can be replayed.
set -u

prog=$1
kills_wanted=${NABLA_KILLS:-20}
max_runs=300
seed=${NABLA_KILL_SEED:-$(($(date +%s) % 32768))}
RANDOM=$seed
echo "kill_resume: seed $seed (NABLA_KILL_SEED=$seed replays it)"

dir=$(mktemp -d /tmp/nb_kill_resume_XXXXXX)
trap 'rm -rf "$dir"' EXIT

fail() {
    echo "kill_resume: FAIL: $*" >&2
    exit 1
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

start=$(now_ms)
"$prog" "$dir/reference.backup" "$dir/reference.safetensors" ||
    fail "the uninterrupted reference run failed"
run_ms=$(($(now_ms) - start + 1))
echo "kill_resume: an uninterrupted run takes ${run_ms} ms"

kills=0 runs=0 rounds=0
while ((kills < kills_wanted)); do
    rounds=$((rounds + 1))
    rm -f "$dir"/run.backup* "$dir/final.safetensors"
    while true; do
        runs=$((runs + 1))
        ((runs <= max_runs)) || fail "$kills kills in $runs runs: too few runs were killed"
        delay=$((RANDOM % run_ms + 1))
        timeout -s KILL "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))" \
            "$prog" "$dir/run.backup" "$dir/final.safetensors" 2>"$dir/stderr"
        rc=$?
        if ((rc == 0)); then
            "$prog" --same "$dir/final.safetensors" "$dir/reference.safetensors" ||
                fail "round $rounds: the resumed run's weights differ from the reference's"
            break
        fi
        ((rc == 137)) || fail "run $runs exited with $rc: $(cat "$dir/stderr")"
        kills=$((kills + 1))
        if [[ -e "$dir/run.backup" ]]; then
            "$prog" --check "$dir/run.backup" >/dev/null ||
                fail "after a kill at ${delay} ms (run $runs) the backup does not load"
        fi
    done
done

# A kill during a save leaves the temporary file (run.backup.XXXXXX) behind;
# the backup itself is always whole.
left=$(find "$dir" -name 'run.backup.*' | wc -l)
echo "kill_resume: $kills kills in $runs runs over $rounds rounds: every backup loaded and" \
    "every resumed run ended with the reference's weights ($left temporary files left by" \
    "kills during a save)"
