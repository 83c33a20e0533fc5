#!/usr/bin/env bash
# Count individual test results from Meson's JSON test logs.
#
#   scripts/count-tests.sh [--numbers] LOG.json...
#
# LOG is build/meson-logs/testlog.json (or testlog-valgrind.json, ...): one
# JSON object per test executable. Prints "P passed, F failed" (plus
# ", S skipped" when some were skipped), or with --numbers just "P F S".
#
# Counting rules:
#   - A Check executable prints "NN%: Checks: N, Failures: F, Errors: E":
#     it adds N - F - E passed and F + E failed.
#   - If Meson judged it failed although Check reported no failure (it
#     crashed after the summary, or valgrind/a sanitizer found an error and
#     changed the exit status), it adds 1 failed.
#   - An executable without a Checks line (a crash before Check's summary, a
#     timeout, or a test that is not a Check suite, like the examples) counts
#     as 1, passed or failed by Meson's verdict; SKIP counts as skipped.
#   - A missing log (the tests never ran) counts as 1 failed.
set -euo pipefail

numbers=0
if [[ "${1:-}" == --numbers ]]; then
    numbers=1
    shift
fi
if [[ $# -eq 0 ]]; then
    echo "usage: $0 [--numbers] LOG.json..." >&2
    exit 2
fi

totals=$(for log in "$@"; do
    if [[ -f "$log" ]]; then
        cat "$log"
    else
        echo "count-tests: no test log $log: counting 1 failed" >&2
        echo '{"name": "(missing log)", "result": "ERROR"}'
    fi
done | awk '
    # Plain POSIX awk (Debian installs mawk by default).
    function field(line, key,    s) {
        if (!match(line, "\"" key "\": \"[^\"]*\""))
            return ""
        s = substr(line, RSTART + length(key) + 5, RLENGTH - length(key) - 6)
        return s
    }
    {
        result = field($0, "result")
        checks = 0; bad = 0; rest = $0
        while (match(rest, /Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/)) {
            split(substr(rest, RSTART, RLENGTH), w, /[^0-9]+/)
            # w[1] is empty (the text before the first digit)
            checks++
            passed += w[2] - w[3] - w[4]
            bad += w[3] + w[4]
            rest = substr(rest, RSTART + RLENGTH)
        }
        ok = (result == "OK" || result == "EXPECTEDFAIL")
        if (checks > 0) {
            failed += bad
            if (!ok && bad == 0)
                failed++
        } else if (result == "SKIP") {
            skipped++
        } else if (ok) {
            passed++
        } else {
            failed++
        }
    }
    END { printf "%d %d %d\n", passed, failed, skipped }
')

read -r passed failed skipped <<<"$totals"
if [[ $numbers == 1 ]]; then
    echo "$passed $failed $skipped"
elif [[ $skipped -gt 0 ]]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
