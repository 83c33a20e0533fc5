#!/usr/bin/env bash
# Write the backprop explorer page of docs/backprop.md's 2-2-1 network.
#
#   ./scripts/explorer.sh [FILE.html]      default: backprop_explorer.html
#
# Installs missing Debian packages (scripts/deps.sh), configures build/ if it
# is not configured yet, builds, and runs examples/backprop_trace --html FILE
# (its text trace goes beside it, to FILE_trace.txt). Open FILE in any
# browser: it needs nothing but itself. NABLA_BUILD_DIR chooses another build
# directory (default: build).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
page=$(realpath -m "${1:-backprop_explorer.html}")
cd "$root"
build=${NABLA_BUILD_DIR:-build}

scripts/deps.sh

if [[ ! -f "$build/meson-private/coredata.dat" ]]; then
    meson setup "$build"
fi
ninja -C "$build"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/examples/backprop_trace" --html "$page" --dot "$work/graph.dot" --png '' \
    >"${page%.html}_trace.txt"
echo "wrote $page (open it in a browser: xdg-open $page)"
echo "and its text trace, ${page%.html}_trace.txt"
