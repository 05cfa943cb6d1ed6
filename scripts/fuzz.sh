#!/usr/bin/env bash
# Fuzzes every parser a user's file or string reaches: GGUF, safetensors, tokenizer.json,
# config.json, JSONL dataset rows, YAML recipes and component specs (temper-fuzz list).
#
# usage: scripts/fuzz.sh [EXECUTIONS_PER_TARGET] [SEED]   (defaults: 100000, 1)
#
# Builds temper-fuzz and the plugins (release), then runs each target for the given number of
# executions in child processes (2 s per input, 2 GB of address space) and prints, per target, the
# executions per second and the crashes and hangs found. Findings, minimized, go to
# .build/fuzz-crashes/<target>/ with a report each (temper-fuzz replay TARGET FILE reproduces one).
# Exit 0 when no target found anything.
set -euo pipefail
cd "$(dirname "$0")/.."
executions="${1:-100000}"
seed="${2:-1}"
swift build -c release > /dev/null   # temper-fuzz and the plugins the recipe and spec targets resolve against
status=0
for target in $(.build/release/temper-fuzz list | cut -d' ' -f1); do
  .build/release/temper-fuzz run "$target" --executions "$executions" --seed "$seed" --crashes .build/fuzz-crashes || status=1
done
exit "$status"
