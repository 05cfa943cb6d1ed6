#!/usr/bin/env bash
# Runs every command of README.md and CONTRIBUTING.md as written, so the docs cannot drift from the
# code: each line of a ```sh block (continued lines joined) must exit 0. CI runs it after the test
# suite, with the release build in .build/release.
#
# - Each document runs in a scratch copy of this working tree (tracked and untracked, not ignored
#   files; .cache/models linked in), so scaffolded plugins, runs/ and data files land there, not
#   here. Commands run in order, each in its own shell at the copy's root: later lines see the files
#   earlier ones wrote.
# - `temper` and `.build/release/...` are what the document's own steps built in the copy, or, for
#   a document that builds nothing itself, this tree's .build/release (linked into the copy).
# - README's set-up block is not run here: .ci/run runs its first command in a clean clone before
#   anything is built (`scripts/check-docs.sh --setup` prints it) and its second is the suite itself.
# - Blocks marked ```text are shown, not run: the README's PyTorch set-up (a 6 GB download).
# - Long commands get a cap, printed with the command: `temper train` stops after 2 steps, and each
#   `temper-bench` runs a small size once.
#
# Usage: scripts/check-docs.sh [--setup] [FILE.md ...]   (default: README.md CONTRIBUTING.md)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# Prints the commands of the ```sh blocks of $1, one per line, as "<heading>\t<command>".
commands() {
    awk '
        /^#+ / && !inblock { heading = $0; sub(/^#+ +/, "", heading) }
        /^```sh[ \t]*$/ { inblock = 1; next }
        /^```/ && inblock { inblock = 0; next }
        inblock {
            line = $0
            if (pending != "") { line = pending " " line; pending = "" }
            if (line ~ /\\[ \t]*$/) { sub(/\\[ \t]*$/, "", line); pending = line; next }
            if (line ~ /^[ \t]*(#.*)?$/) next
            sub(/^[ \t]+/, "", line)
            sub(/[ \t]+#[^"'"'"']*$/, "", line)   # a trailing comment (not a # inside quotes)
            print heading "\t" line
        }' "$1"
}

if [ "${1:-}" = "--setup" ]; then
    # Reads every line (no early exit): the writer would die of SIGPIPE under pipefail.
    first=$(commands README.md | awk -F'\t' '$1 ~ /^Set-up/ && !found { print $2; found = 1 }')
    [ -n "$first" ] || { echo "check-docs: README.md has no \`\`\`sh block under a 'Set-up' heading" >&2; exit 2; }
    printf '%s\n' "$first"
    exit 0
fi

docs=("$@")
[ ${#docs[@]} -gt 0 ] || docs=(README.md CONTRIBUTING.md)

# The step cap a long command runs with in CI (printed with it).
capped() {
    local cmd="$1"
    case "$cmd" in
        *"temper train "*) [[ "$cmd" == *--max_steps* ]] || cmd="$cmd --max_steps 2" ;;
        *"temper quickstart"*) cmd="$cmd --max_steps 5 --held_out 10" ;;
        *"temper-bench gemm"*) cmd="$cmd --sizes 96 --seconds 0.1 --rounds 1" ;;
        *"temper-bench block"*) cmd="$cmd --batch 1 --seq-len 16 --warmup 1 --steps 1" ;;
        *"temper-bench generate"*) cmd="$cmd --prompt-tokens 16 --new-tokens 8 --rounds 1" ;;
        *"temper-bench sft"*) cmd="$cmd --batch 1 --seq-len 16 --steps 1" ;;
        *"temper-bench dpo"*) cmd="$cmd --pairs 1 --max-length 16 --steps 1" ;;
        *"temper-bench math-equiv"*) cmd="$cmd --completions 2048 --rounds 1" ;;
        *"temper-bench code-exec"*) cmd="$cmd --runs 8 --rounds 1" ;;
        *"temper-bench prefix-sharing"*) cmd="$cmd --steps 2 --step-tokens 4 --prompt-tokens 16" ;;
        *"temper-bench grpo-learning"*) cmd="$cmd --seeds 1 --sft-steps 2 --grpo-steps 2" ;;
        *"temper-bench grpo"*) cmd="$cmd --steps 1" ;;
    esac
    printf '%s' "$cmd"
}

passed=0
failed=0
scratch_base=$(mktemp -d "${TMPDIR:-/tmp}/temper-docs.XXXXXX")
trap 'rm -rf "$scratch_base"' EXIT

for doc in "${docs[@]}"; do
    [ -f "$doc" ] || { echo "check-docs: no file $doc" >&2; exit 2; }
    scratch="$scratch_base/$(basename "$doc" .md)"
    mkdir -p "$scratch"
    # Tracked files deleted in the working tree are not copied (the copy is the tree as it is).
    git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do if [ -e "$f" ]; then printf '%s\0' "$f"; fi; done \
        | xargs -0 cp --parents -t "$scratch"
    if [ -d .cache/models ]; then mkdir -p "$scratch/.cache" && ln -s "$root/.cache/models" "$scratch/.cache/models"; fi
    # A document that builds nothing itself (README: its set-up lines run elsewhere) uses this
    # tree's build, where its `.build/release/...` commands point.
    if ! commands "$doc" | grep -v "^Set-up" | cut -f2 | grep -q "swift build"; then
        mkdir -p "$scratch/.build" && ln -s "$root/.build/release" "$scratch/.build/release"
    fi
    echo "== $doc (in $scratch) =="
    while IFS=$'\t' read -r heading cmd; do
        if [ "$doc" = README.md ] && [[ "$heading" == Set-up* ]]; then
            echo "skip  $cmd   (set-up: .ci/run runs it)"
            continue
        fi
        run=$(capped "$cmd")
        [ "$run" = "$cmd" ] && echo "run   $cmd" || echo "run   $run   (cap for CI)"
        start=$(date +%s)
        log="$scratch_base/last.log"
        # The documents' commands assume a shell at the repository root with `temper` on PATH.
        # A documented `swift test --filter` that matches nothing exits 0: count that as a failure.
        if (cd "$scratch" && PATH="$scratch/.build/release:$root/.build/release:$PATH" \
                bash -euo pipefail -c "$run" <<<"What is 2 + 2?" >"$log" 2>&1) \
            && ! grep -q "Executed 0 tests" "$log"; then
            passed=$((passed + 1))
            echo "      ok ($(( $(date +%s) - start )) s)"
        else
            status=$?
            failed=$((failed + 1))
            grep -q "Executed 0 tests" "$log" && status="0 but ran no test"
            echo "      FAILED (exit $status) in $doc, section '$heading': $cmd"
            tail -n 25 "$log" | sed 's/^/      | /'
        fi
    done < <(commands "$doc")
done

echo "docs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
