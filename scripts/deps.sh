#!/usr/bin/env bash
# Install the Debian 12 packages nabla needs to build, test and run its demos.
#
#   scripts/deps.sh          install what is missing (as root), or print the
#                            sudo line to run and exit 1 (as another user)
#   scripts/deps.sh --list   print the package list, one per line
#   . scripts/deps.sh        define nabla_deps_install and NABLA_DEB_PACKAGES
#
# Silent when everything is already installed. NABLA_SKIP_DEPS=1 skips the
# check (for machines that are not Debian, where you install these yourself).

# build: compiler, Meson + Ninja, pkg-config (Meson finds the libraries with it)
# libraries: OpenBLAS (cblas), zlib, cJSON, PLplot, and plplot-driver-cairo,
#   the package that provides PLplot's "pngcairo" device (PNG files)
# tests: Check; valgrind for the memory-checked CI run
# distributed training: Open MPI, its library and headers and its mpirun
#   (docs/distributed.md; the 'mpi' test suite runs under mpirun)
# demos: the Fashion-MNIST data set (/usr/share/datasets/fashion-mnist) and
#   graphviz (dot) to draw exported tape graphs
NABLA_DEB_PACKAGES=(
    gcc libc6-dev meson ninja-build pkg-config
    libopenblas-dev zlib1g-dev libcjson-dev libplplot-dev plplot-driver-cairo
    check valgrind
    libopenmpi-dev openmpi-bin
    dataset-fashion-mnist graphviz
)

# Print the packages of NABLA_DEB_PACKAGES that are not installed.
nabla_deps_missing() {
    local pkg
    for pkg in "${NABLA_DEB_PACKAGES[@]}"; do
        if [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null)" != ii* ]]; then
            printf '%s\n' "$pkg"
        fi
    done
}

# Install what is missing. Returns non-zero when something could not be installed.
nabla_deps_install() {
    if [[ "${NABLA_SKIP_DEPS:-0}" == 1 ]]; then
        return 0
    fi
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "deps: not a Debian system (no dpkg-query); install the equivalents of:" >&2
        echo "deps:   ${NABLA_DEB_PACKAGES[*]}" >&2
        return 0
    fi
    local missing
    missing=$(nabla_deps_missing | tr '\n' ' ')
    missing=${missing% }
    if [[ -z "$missing" ]]; then
        return 0
    fi
    if [[ "$(id -u)" != 0 ]]; then
        echo "deps: missing Debian packages: $missing" >&2
        echo "deps: install them with:" >&2
        echo "    sudo apt-get update && sudo apt-get install -y $missing" >&2
        return 1
    fi
    echo "deps: installing $missing"
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing; }; then
        echo "deps: apt-get failed to install: $missing" >&2
        return 1
    fi
    local still
    still=$(nabla_deps_missing | tr '\n' ' ')
    if [[ -n "${still% }" ]]; then
        echo "deps: still missing after apt-get: $still" >&2
        return 1
    fi
}

# Run when executed, not when sourced.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    case "${1:-}" in
        --list) printf '%s\n' "${NABLA_DEB_PACKAGES[@]}" ;;
        "") nabla_deps_install ;;
        *) echo "usage: $0 [--list]" >&2; exit 2 ;;
    esac
fi
