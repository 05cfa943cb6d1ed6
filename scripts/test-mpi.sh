#!/usr/bin/env bash
# Multi-rank checks of data-parallel training on Open MPI (issue 16), run after the release build
# (.build/release/temper and its plugins) and with openmpi-bin + libopenmpi-dev installed:
#   1. SFT with LoRA and 2. full fine-tuning: `mpirun -np 2` with gradient_accumulation_steps 1
#      against one process with gradient_accumulation_steps 2 (the same global batch): the written
#      weights are compared byte for byte and the logged loss curves line by line. Tolerance: none;
#      with 2 ranks the gradient sum rank 0 + rank 1 is the same single addition per element as
#      one process's micro-batch 0 + micro-batch 1, so the runs are bit-identical (the sums start
#      during backward, bucket by bucket: when they run does not change them).
#      The full fine-tuning and GRPO runs cap MPI messages at 1000 bytes
#      (TEMPER_MPI_MAX_MESSAGE_BYTES), so every all-reduce, broadcast and gather goes in pieces,
#      as those past 2 GiB would.
#   3. GRPO: each rank samples and scores half of every generation batch's prompts; the advantages
#      need the whole groups, so the weights only match if they equal one process's. Same checks,
#      plus the logged rewards. num_iterations 2 with a KL term (beta) makes the π_old and reference
#      log-prob passes run, each rank scoring half of the micro-batches.
#   4. A rank killed (SIGKILL) mid-run: the job must end, non-zero, with mpirun naming the rank, in
#      under 60 s (no hang); then the run resumes from its last checkpoint on ONE rank (the same
#      global batch) and ends with the weights of an uninterrupted run.
# The model is the quickstart's tiny Llama (written by `temper quickstart`), so this takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
temper=$PWD/.build/release/temper
[ -x "$temper" ] || { echo "test-mpi: build first (swift build -c release)" >&2; exit 1; }
scripts/build-mpi.sh >/dev/null
mpirun=(mpirun --allow-run-as-root --oversubscribe --bind-to none)
export TEMPER_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$temper" quickstart --output_dir "$work/qs" --seeds 1 --stages sft --max_steps 1 --held_out 2 >/dev/null 2>&1
model=$work/qs/model data=$work/qs/data/sft.jsonl
[ -d "$model" ] && [ -f "$data" ] || { echo "test-mpi: the quickstart wrote no model/data in $work/qs" >&2; exit 1; }
common=(--model "$model" --data "$data" --per_device_train_batch_size 2 --logging_steps 1 --learning_rate 1e-2 --seed 3)

fail() { echo "test-mpi: FAIL: $*" >&2; exit 1; }
losses() { grep -o '"loss":[^,}]*' "$1/metrics.jsonl"; }
same() {   # same NAME DIR1 DIR2 FILE [KEY...]: byte-identical FILE and identical logged KEY values
    local name=$1 a=$2 b=$3 file=$4; shift 4
    cmp -s "$a/$file" "$b/$file" || fail "$name: $file differs between np=1 and np=2"
    for key in loss "$@"; do
        diff <(grep -o "\"$key\":[^,}]*" "$a/metrics.jsonl") <(grep -o "\"$key\":[^,}]*" "$b/metrics.jsonl") >/dev/null \
            || fail "$name: logged $key differs between np=1 and np=2"
    done
    echo "test-mpi: $name: np=2 == np=1 ($file byte-identical, $(losses "$a" | wc -l) logged losses identical${*:+, and $*})"
}

for peft in lora:r=4,alpha=8,target_modules=all-linear full; do
    name="sft ${peft%%:*}"
    file=$([ "$peft" = full ] && echo model.safetensors || echo adapter_model.safetensors)
    "$temper" train "${common[@]}" --peft "$peft" --max_steps 6 --gradient_accumulation_steps 2 --output_dir "$work/$name-1" 2>/dev/null >/dev/null
    small=$([ "$peft" = full ] && echo 1000 || echo 2147483647)
    "${mpirun[@]}" -x TEMPER_MPI_MAX_MESSAGE_BYTES=$small -np 2 "$temper" train "${common[@]}" --peft "$peft" --max_steps 6 --gradient_accumulation_steps 1 \
        --output_dir "$work/$name-2" 2>/dev/null >/dev/null
    same "$name" "$work/$name-1" "$work/$name-2" "$file"
done

# GRPO on the quickstart's prompts (with their answer column), rewarded by exact match of the answer
# and (so that rewards differ within groups of the barely trained model) for containing a digit.
head -n 16 "$work/qs/data/prompts.jsonl" > "$work/prompts.jsonl"
grep -q '"answer"' "$work/prompts.jsonl" || fail "no GRPO prompts with an answer in $work/qs/data/prompts.jsonl"
grpo=(--model "$model" --data "$work/prompts.jsonl" --objective grpo:beta=0.04 --num_iterations 2 --reward exact-match --reward 'format:pattern=\d'
      --peft lora:r=4,alpha=8,target_modules=all-linear
      --per_device_train_batch_size 4 --num_generations 4 --max_completion_length 6 --max_steps 3 --logging_steps 1 --learning_rate 1e-2 --seed 5)
"$temper" train "${grpo[@]}" --gradient_accumulation_steps 2 --output_dir "$work/grpo-1" 2>/dev/null >/dev/null
"${mpirun[@]}" -x TEMPER_MPI_MAX_MESSAGE_BYTES=1000 -np 2 "$temper" train "${grpo[@]}" --gradient_accumulation_steps 1 --output_dir "$work/grpo-2" 2>/dev/null >/dev/null
same grpo "$work/grpo-1" "$work/grpo-2" adapter_model.safetensors reward reward_std grad_norm
grep -q '"reward_std": 0\.[0-9]*[1-9]' "$work/grpo-1/metrics.jsonl" || fail "grpo: no step had differing rewards (the check would be vacuous)"

# Kill rank 1 after the first checkpoint; resume on one rank.
long=("${common[@]}" --peft lora:r=4,alpha=8,target_modules=all-linear --max_steps 400 --save_steps 20)
"$temper" train "${long[@]}" --gradient_accumulation_steps 2 --output_dir "$work/straight" 2>/dev/null >/dev/null
"${mpirun[@]}" -np 2 "$temper" train "${long[@]}" --gradient_accumulation_steps 1 --output_dir "$work/killed" >"$work/killed.log" 2>&1 &
launcher=$!
for _ in $(seq 600); do [ -d "$work/killed/checkpoint-20" ] && break; sleep 0.05; done
[ -d "$work/killed/checkpoint-20" ] || fail "the 2-rank run wrote no checkpoint-20"
victim=""
for pid in $(pgrep -P "$launcher"); do
    tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && victim=$pid
done
[ -n "$victim" ] || fail "found no rank-1 process under mpirun (pid $launcher)"
kill -9 "$victim"
start=$SECONDS
status=0
for _ in $(seq 600); do kill -0 "$launcher" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$launcher" 2>/dev/null; then kill -9 -- "$launcher"; fail "the job still ran 60 s after rank 1 was killed (hang)"; fi
wait "$launcher" || status=$?
[ "$status" -ne 0 ] || fail "the job exited 0 after rank 1 was killed"
grep -q "rank 1" "$work/killed.log" || { cat "$work/killed.log" >&2; fail "the job's output does not name rank 1"; }
[ -f "$work/killed/adapter_model.safetensors" ] && fail "the killed job wrote a final adapter"
echo "test-mpi: kill: rank 1 killed, job ended with status $status in $((SECONDS - start)) s; mpirun said: $(grep -m1 'rank 1' "$work/killed.log" | sed 's/^ *//')"
"$temper" train "${long[@]}" --gradient_accumulation_steps 2 --output_dir "$work/killed" --resume_from_checkpoint true 2>/dev/null >/dev/null
cmp -s "$work/straight/adapter_model.safetensors" "$work/killed/adapter_model.safetensors" \
    || fail "resumed on 1 rank, the adapter differs from the uninterrupted run's"
echo "test-mpi: resume: the killed 2-rank run resumed on 1 rank ends byte-identical to an uninterrupted run"
echo "test-mpi: all passed"
