#!/usr/bin/env bash
# The test suite: both packages, in release (numeric code is 10-100x slower in debug).
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-c release -Xswiftc -enable-testing)

echo "== TemperKit (runtime, models, host) =="
swift test "${flags[@]}" --package-path TemperKit

echo "== Temper app (CLI, plugins loaded through dlopen) =="
# One build of every product and test (the app tests load the plugin libraries from the build
# folder); a plain `swift test` after `swift build` would compile everything a second time.
swift build "${flags[@]}" --build-tests
swift test "${flags[@]}" --skip-build
