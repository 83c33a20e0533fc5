#!/usr/bin/env bash
# Set up, build and run nabla's main demo.
#
#   ./scripts/demo.sh [demo flags...]
#
# Installs missing Debian packages (scripts/deps.sh), configures build/ if it
# is not configured yet, builds, and runs the demo with the given flags.
# NABLA_BUILD_DIR chooses another build directory (default: build).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${NABLA_BUILD_DIR:-build}

scripts/deps.sh

if [[ ! -f "$build/meson-private/coredata.dat" ]]; then
    meson setup "$build"
fi
ninja -C "$build"

# The main demo: examples/mnist_mlp, the Keras MNIST MLP trained on
# Fashion-MNIST (from the dataset-fashion-mnist package); it writes
# training_curves.png here. Flags go to it (--help lists them).
exec "$build/examples/mnist_mlp" "$@"
