"""TRL reference for `temper-bench grpo`: GRPOTrainer steps on SmolLM2 with LoRA, timed.

    python scripts/reference/grpo.py --model .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --threads 2

What Temper times: one optimizer step of GRPO — sample num_generations=4 completions of one prompt
(max_completion_length=64, temperature 1), score them with -|40 - len(completion)|/40, per-token
log-probs, the loss, backward, AdamW — with per_device_train_batch_size=4, beta=0 (no reference
model, TRL's default), PEFT LoraConfig(r=8, lora_alpha=16, target_modules="all-linear"), float32
on the CPU. Prompts are "Write a short sentence about the number {i}." as chats, one per step. One
warm-up step, then STEPS timed steps (measured between TrainerCallback.on_step_begin and on_step_end,
which bracket generation and the update). Peak RSS is the process's high-water mark (VmHWM).

Prints one JSON line: {"best": s/step, "median": s/step, "peak_rss_mb": ..., "steps": [seconds, ...]}.
"""
import argparse
import os
import tempfile
import time

from common import emit, load_model, median, note, peak_rss_mb, set_threads


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a .gguf file or Hugging Face directory")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--steps", type=int, default=3, help="timed steps after one warm-up step")
    args = parser.parse_args()
    if args.threads < 1 or args.steps < 1:
        parser.error("--threads and --steps must be positive")

    import datasets
    import peft
    import torch
    import transformers
    import trl

    set_threads(args.threads)
    torch.manual_seed(1)
    model = load_model(args.model)
    # transformers dequantizes the GGUF to float32 on load but keeps it flagged as quantized, which
    # its Trainer refuses to train; the weights are plain float32 tensors, as Temper's are.
    model.hf_quantizer = None
    model.is_quantized = False
    if args.model.endswith(".gguf"):
        folder, name = os.path.split(os.path.abspath(args.model))
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=name)
    else:
        tokenizer = transformers.AutoTokenizer.from_pretrained(args.model)
    steps = args.steps + 1
    prompts = datasets.Dataset.from_list(
        [{"prompt": [{"role": "user", "content": f"Write a short sentence about the number {i}."}]} for i in range(steps)])

    def length_reward(completions, **kwargs):
        return [-abs(40 - len(c[0]["content"] if isinstance(c, list) else c)) / 40 for c in completions]

    times, started = [], []

    class Timer(transformers.TrainerCallback):
        def on_step_begin(self, *a, **k):
            started.append(time.perf_counter())

        def on_step_end(self, *a, **k):
            times.append(time.perf_counter() - started[-1])

    with tempfile.TemporaryDirectory() as out:
        config = trl.GRPOConfig(output_dir=out, per_device_train_batch_size=4, num_generations=4, max_completion_length=64,
                                max_steps=steps, learning_rate=1e-6, beta=0.0, use_cpu=True, bf16=False, fp16=False,
                                report_to=[], logging_steps=1, save_strategy="no", shuffle_dataset=False, seed=1,
                                dataloader_num_workers=0)
        trainer = trl.GRPOTrainer(model=model, reward_funcs=length_reward, args=config, train_dataset=prompts,
                                  processing_class=tokenizer,
                                  peft_config=peft.LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules="all-linear",
                                                              task_type="CAUSAL_LM"),
                                  callbacks=[Timer()])
        trainer.train()
    warm, timed = times[0], times[1:]
    rss = peak_rss_mb()
    note(f"GRPO (TRL {trl.__version__}): warm-up {warm:.2f} s; steps {', '.join(f'{t:.2f}' for t in timed)} s; "
         f"best {min(timed):.2f} s/step, median {median(timed):.2f}; peak RSS {rss:.0f} MB")
    emit({"best": min(timed), "median": median(timed), "peak_rss_mb": rss, "warmup": warm, "steps": timed})


if __name__ == "__main__":
    main()
