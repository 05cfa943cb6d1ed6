#!/usr/bin/env bash
# The test suite: both packages, in release (numeric code is 10-100x slower in debug).
set -euo pipefail
cd "$(dirname "$0")/.."

# The real-model tests need SmolLM2's GGUF file (downloaded once into .cache/models/).
scripts/fetch-smollm2.sh

echo "== TemperKit (runtime, models, host) =="
# -enable-testing: TemperKit's tests reach internals with @testable import (its own build folder).
swift test -c release -Xswiftc -enable-testing --package-path TemperKit

echo "== Temper app (CLI, plugins loaded through dlopen) =="
# The same configuration as the README's `swift build -c release` (the app's tests use only public
# API), so after it only the tests are compiled here. One build of every product and test: the app
# tests load the plugin libraries from the build folder, and a plain `swift test` after
# `swift build` would compile everything a second time.
swift build -c release --build-tests
swift test -c release --skip-build
