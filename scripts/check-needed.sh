#!/usr/bin/env bash
# Fails unless `temper` and every Swift plugin library (libTemperPlugin*.so) in a build folder
# have a NEEDED entry for libTemperKit.so, i.e. link the core dynamically. A binary that carries
# its own copy of TemperCore would register into a second registry and break every cast across
# the plugin boundary (see issue 2 / DESIGN.md). C plugins (a temper-plugin.json in
# Plugins/<Name>/) do not link the core and are skipped.
#
# Usage: scripts/check-needed.sh [BUILD_FOLDER]   (default: .build/release)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/.build/release}"
if [ ! -d "$build" ]; then
    echo "check-needed: build folder $build does not exist (build first)" >&2
    exit 2
fi

status=0
checked=0
check() {
    local file="$1"
    if readelf -d "$file" | grep -q 'NEEDED.*\[libTemperKit\.so\]'; then
        echo "ok       $file"
    else
        echo "MISSING  $file has no NEEDED entry for libTemperKit.so (it links TemperKit statically or not at all)" >&2
        status=1
    fi
    checked=$((checked + 1))
}

if [ ! -x "$build/temper" ]; then
    echo "MISSING  $build/temper does not exist" >&2
    status=1
else
    check "$build/temper"
fi

shopt -s nullglob
for lib in "$build"/libTemperPlugin*.so; do
    name="$(basename "$lib" .so)"
    name="${name#libTemperPlugin}"
    if [ -f "$root/Plugins/$name/temper-plugin.json" ]; then
        echo "skipped  $lib (C plugin)"
        continue
    fi
    check "$lib"
done

if [ "$checked" -lt 2 ]; then
    echo "check-needed: found no Swift plugin libraries in $build" >&2
    status=1
fi
exit $status
