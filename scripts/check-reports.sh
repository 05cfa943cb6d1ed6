#!/usr/bin/env bash
# Makes a few real run reports and renders each in headless Chromium: a 3-step SFT (full and LoRA)
# and a 2-step GRPO on the tiny fixture model, a tiny `temper eval`, and `temper report` overlaying
# the two SFT runs. For every page it saves a PNG screenshot and fails when Chromium logs a console
# message or uncaught error, when the page has no chart, or when a chart draws nothing (each <svg>
# needs a <polyline> of two or more points or a point marker). CI runs it after the test suite.
#
# Usage: scripts/check-reports.sh [OUTPUT_DIR]   (default: runs/check-reports; needs .build/release)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="${1:-runs/check-reports}"
temper=.build/release/temper
[ -x "$temper" ] || { echo "check-reports: $temper is not built (swift build -c release)" >&2; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "check-reports: Chromium is not installed (apt-get install chromium)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"

quiet() { "$@" >"$out/last-command.log" 2>&1 || { cat "$out/last-command.log" >&2; echo "check-reports: failed: $*" >&2; exit 1; }; }
tiny=(--packing false --per_device_train_batch_size 2 --max_length 40 --logging_steps 1 --save_steps 100)
echo "== runs =="
quiet "$temper" train examples/recipes/sft-full.yaml --output_dir "$out/sft-full" --max_steps 3 --eval_steps 3 "${tiny[@]}"
quiet "$temper" train examples/recipes/sft-full.yaml --output_dir "$out/sft-lora" --max_steps 3 --eval_steps 3 --peft lora:r=4 \
    --learning_rate 1e-2 "${tiny[@]}"
quiet "$temper" data make addition --digits 1 --n 16 --seed 1 --output "$out/add.jsonl"
quiet "$temper" train --objective grpo --model fixtures/tiny-llama-hf --data "$out/add.jsonl" --output_dir "$out/grpo" \
    --reward 'format:pattern=\d,match=search' --reward math-equiv --num_generations 4 --per_device_train_batch_size 8 \
    --max_completion_length 8 --max_steps 2 --peft lora:r=4 --learning_rate 1e-2 --logging_steps 1 --save_steps 100
quiet "$temper" eval --model fixtures/tiny-llama-hf --data "$out/add.jsonl" --limit 4 --reward math-equiv --verifier oracle \
    --search greedy --search best-of-n --search self-consistency --budgets 1,2,4 --seeds 2 --temperature 1 --max-new-tokens 6 \
    --output-dir "$out/eval"
quiet "$temper" report "$out/sft-full" "$out/sft-lora" --output "$out/full-vs-lora.html"

# Every <svg> must draw something; prints the chart count, or why not.
check_dom() {
    python3 - "$1" <<'PY'
import re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
svgs = re.findall(r"<svg\b.*?</svg>", dom, flags=re.S)
if not svgs:
    sys.exit("no chart in the page")
for i, svg in enumerate(svgs):
    title = re.search(r"<title>(.*?)</title>", svg, flags=re.S)
    lines = [p for p in re.findall(r'<polyline[^>]*\bpoints="([^"]*)"', svg) if len(p.split()) >= 2]
    if not lines and "<circle" not in svg:
        sys.exit(f"chart {i + 1} ({title.group(1) if title else 'untitled'}) draws no line and no point")
print(len(svgs))
PY
}

echo "== rendering in $(basename "$browser") =="
failed=0
pages=("$out/sft-full/report.html" "$out/sft-lora/report.html" "$out/grpo/report.html" "$out/eval/report.html" "$out/full-vs-lora.html")
for page in "${pages[@]}"; do
    name=$(echo "${page#"$out"/}" | tr '/' '-' | sed 's/\.html$//')
    [ -f "$page" ] || { echo "FAIL $page: not written"; failed=1; continue; }
    url="file://$root/$page"
    flags=(--headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --enable-logging=stderr --v=0)
    "$browser" "${flags[@]}" --dump-dom "$url" >"$out/$name.dom.html" 2>"$out/$name.chromium.log" || true
    "$browser" "${flags[@]}" --window-size=1280,2200 --screenshot="$out/$name.png" "$url" >/dev/null 2>>"$out/$name.chromium.log" || true
    if ! charts=$(check_dom "$out/$name.dom.html" 2>&1); then echo "FAIL $page: $charts"; failed=1; continue; fi
    if grep -E "CONSOLE|Uncaught|console\.(error|warn)" "$out/$name.chromium.log"; then
        echo "FAIL $page: console messages above"; failed=1; continue
    fi
    [ -s "$out/$name.png" ] || { echo "FAIL $page: no screenshot"; failed=1; continue; }
    echo "ok   $page: $charts charts, screenshot $out/$name.png"
done
[ "$failed" = 0 ] || { echo "check-reports: some reports failed (logs and DOM dumps in $out)" >&2; exit 1; }
