#!/usr/bin/env bash
# Set up, build and run nabla's tests.
#
#   ./scripts/test.sh                 every suite, 'slow' included
#   ./scripts/test.sh --quick         every suite except 'slow'
#   ./scripts/test.sh --suite unit    extra arguments go to `meson test`
#
# Installs missing Debian packages (scripts/deps.sh), configures build/ if it
# is not configured yet, builds, runs `meson test`, and ends with the line
# "N passed, N failed" counting individual Check tests (scripts/count-tests.sh
# says how). Exits non-zero when anything failed.
# NABLA_BUILD_DIR chooses another build directory (default: build).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${NABLA_BUILD_DIR:-build}

suites=()
args=()
for arg in "$@"; do
    case "$arg" in
        --quick) suites=(--no-suite slow) ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) args+=("$arg") ;;
    esac
done

scripts/deps.sh

if [[ ! -f "$build/meson-private/coredata.dat" ]]; then
    meson setup "$build"
fi
if ! ninja -C "$build"; then
    echo "test: the build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

log="$build/meson-logs/testlog.json"
rm -f "$log"
status=0
meson test -C "$build" --print-errorlogs "${suites[@]}" "${args[@]}" || status=$?

read -r passed failed skipped < <(scripts/count-tests.sh --numbers "$log")
if [[ $status -ne 0 && $failed -eq 0 ]]; then
    failed=1 # meson test itself failed without a failing test to show for it
fi
if [[ $skipped -gt 0 ]]; then
    echo "$skipped skipped"
fi
echo "$passed passed, $failed failed" # always the last line, in this form
[[ $failed -eq 0 ]]
