#!/usr/bin/env bash
# Scaffolds one plugin of every template kind into this checkout, builds it with the next
# `swift build`, checks `temper plugins` lists it, and runs its generated test unedited.
# CI runs it in its throw-away clone; elsewhere it removes what it created, built libraries
# included: a probe C library left in the build folder without its manifest would be a loader
# warning in every later `temper plugins` and plugin test.
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-c release)   # the configuration of scripts/test.sh and the README, so nothing is rebuilt
build=.build/release
temper=$build/temper
kinds=(optimizer peft reward search objective c-reward)
names=()
cleanup() {
    for n in "${names[@]}"; do
        rm -rf "Plugins/$n" "$build/libTemperPlugin$n.so" "$build/TemperPlugin$n.product" "$build/$n.build" "$build/${n}Tests.build"
    done
    git checkout -q -- Package.swift 2>/dev/null || true
}
trap cleanup EXIT

for kind in "${kinds[@]}"; do
    name="Probe$(echo "$kind" | tr -d '-' | sed 's/./\U&/')Template"
    names+=("$name")
    "$temper" new "$kind" "$name"
done
swift build "${flags[@]}" --build-tests
listing=$("$temper" plugins)
for n in "${names[@]}"; do
    lib="libTemperPlugin$n"
    if ! grep -q "$lib" <<<"$listing"; then
        echo "check-templates: $lib is not listed by temper plugins" >&2
        exit 1
    fi
done
filter=$(printf '%sTests|' "${names[@]}")
swift test "${flags[@]}" --skip-build --filter "${filter%|}"
