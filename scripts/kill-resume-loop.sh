#!/usr/bin/env bash
# kill -9 / resume loop: does a training run killed at random moments (including in the middle of
# writing a checkpoint) and resumed with --resume_from_checkpoint true end with the same weights,
# bit for bit, as the same run left alone?
#
# usage: scripts/kill-resume-loop.sh [--kills N] [--seed S] [--work DIR] [--mid-save-share P] -- TRAIN_COMMAND...
#
#   TRAIN_COMMAND  the whole training command without --output_dir, e.g.
#                  .build/release/temper train --objective sft --model fixtures/tiny-llama-hf ...
#                  (any objective: SFT, or an online RL run with --objective grpo ...). It must save
#                  checkpoints (--save_steps) and stop by itself (--max_steps); the script adds
#                  --output_dir, and --resume_from_checkpoint true when a checkpoint exists.
#   --kills N      SIGKILLs to deliver before the last, uninterrupted resume (default 5)
#   --seed S       seed of the kill schedule (default 1), so a failing schedule can be replayed
#   --mid-save-share P  percent of kills aimed at a checkpoint being written: the script polls for
#                  the checkpoint's temporary folder (.checkpoint-N.tmp-PID) and kills then (default 50)
#   --work DIR     where the two runs go (default: a new temporary folder, kept for inspection)
#
# Prints each kill (when, and what was on disk), then compares every *.safetensors file of the
# final output folder and of its newest checkpoint with the uninterrupted run's
# (scripts/compare-safetensors.py). Exit 0: all identical; 1: a difference; 2: bad usage or a
# run that failed for another reason than the kill.
set -u

kills=5 seed=1 work="" mid_save_share=50
while [ $# -gt 0 ]; do
  case "$1" in
    --kills) kills="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --mid-save-share) mid_save_share="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "kill-resume-loop: unknown option '$1' (the training command goes after --)" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "kill-resume-loop: no training command after --" >&2; exit 2; }
case "$kills$seed$mid_save_share" in *[!0-9]*) echo "kill-resume-loop: --kills, --seed and --mid-save-share take whole numbers" >&2; exit 2 ;; esac
here="$(cd "$(dirname "$0")" && pwd)"
[ -n "$work" ] || work="$(mktemp -d /tmp/kill-resume.XXXXXX)"
mkdir -p "$work"
ref="$work/uninterrupted" run="$work/killed"
rm -rf "$ref" "$run"
RANDOM=$seed

now_ms() { date +%s%3N; }

# The reference: the same command, left alone. Its duration sets the window for random kills.
t0=$(now_ms)
if ! "$@" --output_dir "$ref" > "$work/uninterrupted.log" 2>&1; then
  echo "kill-resume-loop: the uninterrupted run failed; see $work/uninterrupted.log:" >&2
  tail -5 "$work/uninterrupted.log" >&2
  exit 2
fi
duration=$(( $(now_ms) - t0 ))
echo "uninterrupted run: ${duration} ms -> $ref"

has_checkpoint() { compgen -G "$run/checkpoint-*/trainer_state.json" > /dev/null; }

start_run() {  # starts the run in the background (resuming when a checkpoint exists); sets pid
  local resume=()
  if has_checkpoint; then resume=(--resume_from_checkpoint true); fi
  "$@" --output_dir "$run" "${resume[@]}" >> "$work/killed.log" 2>&1 &
  pid=$!
}

delivered=0 attempts=0 status=1
while [ "$delivered" -lt "$kills" ]; do
  attempts=$((attempts + 1))
  start_run "$@"
  started=$(now_ms)
  if [ $((RANDOM % 100)) -lt "$mid_save_share" ]; then
    mode="mid-save"
    # Poll for a checkpoint being written: its hidden temporary folder, or a file's temporary name.
    while kill -0 "$pid" 2>/dev/null; do
      if compgen -G "$run/.checkpoint-*.tmp-*" > /dev/null || compgen -G "$run/.*.safetensors.tmp-*" > /dev/null; then
        kill -9 "$pid" 2>/dev/null && break
      fi
      sleep 0.002
    done
  else
    mode="random"
    delay=$(( RANDOM * 32768 + RANDOM ))
    # A resumed run has less left to do than the whole run: aim within its first half.
    delay=$(( delay % (duration > 1 ? duration / 2 : 1) ))
    while kill -0 "$pid" 2>/dev/null && [ $(( $(now_ms) - started )) -lt "$delay" ]; do sleep 0.005; done
    kill -9 "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  status=$?
  at=$(( $(now_ms) - started ))
  on_disk="$(cd "$run" 2>/dev/null && ls -a | grep -E '^(\.?checkpoint-|.*\.tmp-)' | tr '\n' ' ')"
  if [ "$status" -eq 137 ]; then
    delivered=$((delivered + 1))
    echo "kill $delivered ($mode) after ${at} ms; on disk: ${on_disk:-nothing yet}"
  elif [ "$status" -eq 0 ]; then
    echo "attempt $attempts ($mode): the run finished before the kill (${at} ms); comparing after $delivered kills"
    break
  else
    echo "kill-resume-loop: the run exited with status $status (not killed); see $work/killed.log:" >&2
    tail -5 "$work/killed.log" >&2
    exit 2
  fi
done

# The last resume runs to the end (unless the last attempt already did).
if [ "$status" -ne 0 ]; then start_run "$@"; fi
if [ "$status" -ne 0 ] && ! wait "$pid"; then
  echo "kill-resume-loop: the final resume failed; see $work/killed.log:" >&2
  tail -5 "$work/killed.log" >&2
  exit 2
fi

newest() { ls -d "$1"/checkpoint-* 2>/dev/null | sed 's/.*checkpoint-//' | sort -n | tail -1; }
result=0 compared=0
step_ref="$(newest "$ref")" step_run="$(newest "$run")"
if [ "$step_ref" != "$step_run" ]; then
  echo "newest checkpoint: step $step_ref uninterrupted, step $step_run killed"
  result=1
fi
for f in "$ref"/*.safetensors ${step_ref:+"$ref/checkpoint-$step_ref"/*.safetensors}; do
  [ -e "$f" ] || continue
  rel="${f#"$ref"/}"
  compared=$((compared + 1))
  if [ ! -e "$run/$rel" ]; then echo "$rel: missing in the killed run"; result=1; continue; fi
  verdict="$(python3 "$here/compare-safetensors.py" "$ref/$rel" "$run/$rel")" || result=1
  echo "$rel: $(echo "$verdict" | tail -1)"
  echo "$verdict" | sed '$d'   # the tensors that differ, if any
done
[ "$compared" -gt 0 ] || { echo "kill-resume-loop: the uninterrupted run wrote no *.safetensors to compare" >&2; exit 2; }
if [ "$result" -eq 0 ]; then
  echo "BIT-IDENTICAL after $delivered kills ($compared files compared; runs in $work)"
else
  echo "DIFFERENT after $delivered kills (runs in $work)"
fi
exit "$result"
