"""PyTorch + PEFT reference for `temper-bench sft`: one SFT step, timed, for one method per process.

    python scripts/reference/sft.py --model .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --method lora --threads 2

A step is what Temper times: forward with the causal-LM loss over every token, backward, AdamW
update (lr 1e-5), gradients cleared. The model is float32 (with --bf16 the forward runs under
torch.autocast("cpu", bfloat16), HF Trainer's bf16=True on a CPU); the batch is BATCH x SEQ_LEN random tokens.
- lora: PEFT LoraConfig(r=8, lora_alpha=16, lora_dropout=0, target_modules="all-linear"), the seven
  projections of every layer, base weights frozen;
- full: every parameter trainable.
One warm-up step, then STEPS timed steps. Peak RSS is the process's high-water mark (VmHWM), as
Temper reports it, which is why each method runs in a process of its own.

Prints one JSON line: {"best": tokens/s, "median": tokens/s, "peak_rss_mb": ..., "steps": [seconds, ...], ...}.
"""
import argparse

from common import emit, load_model, median, note, peak_rss_mb, seconds, set_threads


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a .gguf file or Hugging Face directory")
    parser.add_argument("--method", required=True, choices=["lora", "full"])
    parser.add_argument("--batch", type=int, default=8, help="sequences per step")
    parser.add_argument("--seq-len", type=int, default=128, help="tokens per sequence")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--steps", type=int, default=3, help="timed steps after one warm-up step")
    parser.add_argument("--bf16", action="store_true", help="forward under torch.autocast('cpu', bfloat16), as HF's bf16=True")
    args = parser.parse_args()
    if args.batch < 1 or args.seq_len < 2 or args.threads < 1 or args.steps < 1:
        parser.error("--batch, --threads and --steps must be positive and --seq-len at least 2")

    import torch

    set_threads(args.threads)
    torch.manual_seed(1)
    model = load_model(args.model)
    if args.method == "lora":
        import peft

        config = peft.LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules="all-linear",
                                 task_type="CAUSAL_LM")
        model = peft.get_peft_model(model, config)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-5)
    ids = torch.randint(100, model.config.vocab_size, (args.batch, args.seq_len))
    note(f"{args.method}: {sum(p.numel() for p in trainable)} trainable of "
         f"{sum(p.numel() for p in model.parameters())} parameters, float32{' + bf16 autocast' if args.bf16 else ''}, {args.threads} thread(s), "
         f"batch {args.batch} x {args.seq_len}")

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    warm = seconds(step)
    times = [seconds(step) for _ in range(args.steps)]
    tokens = args.batch * args.seq_len
    rss = peak_rss_mb()
    note(f"  warm-up {warm:.2f} s; steps {', '.join(f'{t:.2f}' for t in times)} s; "
         f"best {tokens / min(times):.1f} tokens/s, median {tokens / median(times):.1f}; peak RSS {rss:.0f} MB")
    emit({"method": args.method, "best": tokens / min(times), "median": tokens / median(times),
          "peak_rss_mb": rss, "warmup": warm, "steps": times})


if __name__ == "__main__":
    main()
