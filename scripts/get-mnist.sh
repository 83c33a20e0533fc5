#!/usr/bin/env bash
# Download the four MNIST files into DIR and check their SHA-256 sums.
#
#   scripts/get-mnist.sh [DIR]        (DIR defaults to data/mnist)
#
# nabla reads the .gz files directly (nb_mnist_load, nb_idx_load), so they are
# not unpacked. A file already in DIR with the right sum is kept. A download
# whose sum is wrong is deleted and the script fails: a mirror serving
# different bytes is worth knowing about, not retrying around.
#
# The sums are those TensorFlow Datasets pins for MNIST
# (tensorflow_datasets/url_checksums/mnist.txt); the mirrors are the one
# torchvision uses (ossci-datasets) and the one TensorFlow uses (cvdf-datasets).
#
# Environment:
#   MNIST_BASE_URL    one folder URL to fetch from instead of the mirrors,
#                     ending in "/". file:///some/dir/ is copied with cp, so
#                     the checksum logic can be tested without a network:
#                         MNIST_BASE_URL=file:///tmp/fake/ scripts/get-mnist.sh /tmp/out
#                     fails loudly and deletes each fake file.
#   MNIST_SHA256SUMS  a file in `sha256sum` format (sum, two spaces, file name)
#                     whose sums replace the built-in ones: for testing, or for
#                     an MNIST-format data set with its own sums.
set -euo pipefail

dir=${1:-data/mnist}

files=(
    train-images-idx3-ubyte.gz
    train-labels-idx1-ubyte.gz
    t10k-images-idx3-ubyte.gz
    t10k-labels-idx1-ubyte.gz
)
declare -A sha256=(
    [train-images-idx3-ubyte.gz]=440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609
    [train-labels-idx1-ubyte.gz]=3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c
    [t10k-images-idx3-ubyte.gz]=8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6
    [t10k-labels-idx1-ubyte.gz]=f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6
)
mirrors=(
    https://ossci-datasets.s3.amazonaws.com/mnist/
    https://storage.googleapis.com/cvdf-datasets/mnist/
)

die() {
    echo "get-mnist: $*" >&2
    exit 1
}

if [[ -n "${MNIST_BASE_URL:-}" ]]; then
    mirrors=("${MNIST_BASE_URL%/}/")
fi
if [[ -n "${MNIST_SHA256SUMS:-}" ]]; then
    [[ -r "$MNIST_SHA256SUMS" ]] || die "cannot read MNIST_SHA256SUMS file '$MNIST_SHA256SUMS'"
    while read -r sum name; do
        name=${name#\*}
        if [[ -n "${sha256[$name]+set}" ]]; then
            sha256[$name]=$sum
        fi
    done <"$MNIST_SHA256SUMS"
fi

command -v sha256sum >/dev/null || die "sha256sum is needed (Debian package coreutils)"
if command -v curl >/dev/null; then
    fetch() { curl --fail --location --silent --show-error --retry 2 --output "$2" "$1"; }
elif command -v wget >/dev/null; then
    fetch() { wget --quiet --tries=3 --output-document="$2" "$1"; }
else
    fetch() { die "neither curl nor wget is installed: cannot download $1"; }
fi

# Copy file:// URLs, download the others.
get() {
    local url=$1 out=$2
    if [[ "$url" == file://* ]]; then
        cp -- "${url#file://}" "$out"
    else
        fetch "$url" "$out"
    fi
}

sum_of() { sha256sum -- "$1" | cut -d' ' -f1; }

mkdir -p -- "$dir"
for name in "${files[@]}"; do
    want=${sha256[$name]}
    target=$dir/$name
    if [[ -f "$target" ]]; then
        if [[ "$(sum_of "$target")" == "$want" ]]; then
            echo "get-mnist: $target is already there (SHA-256 ok)"
            continue
        fi
        echo "get-mnist: $target has a wrong SHA-256; deleting it and downloading it again"
        rm -f -- "$target"
    fi
    part=$target.part
    got=
    for base in "${mirrors[@]}"; do
        echo "get-mnist: fetching ${base}$name"
        if get "${base}$name" "$part"; then
            got=$base
            break
        fi
        rm -f -- "$part"
        echo "get-mnist: could not fetch ${base}$name" >&2
    done
    [[ -n "$got" ]] || die "no mirror had $name (tried: ${mirrors[*]})"
    actual=$(sum_of "$part")
    if [[ "$actual" != "$want" ]]; then
        rm -f -- "$part"
        die "SHA-256 MISMATCH for ${got}$name:
    expected $want
    got      $actual
  the file was deleted; check the mirror (or MNIST_BASE_URL) and try again"
    fi
    mv -- "$part" "$target"
    echo "get-mnist: $target ok"
done
echo "get-mnist: MNIST is in $dir (load it with nb_mnist_load(\"$dir\", &mnist))"
