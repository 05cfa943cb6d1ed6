"""PyTorch + transformers reference for `temper-bench generate`: the same three measurements.

    python scripts/reference/generate.py --model .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --threads 2

- prefill: one forward over 8 x PROMPT_TOKENS random tokens, all logits, best of 3 after a warm-up;
- decode batch 1, greedy: NEW_TOKENS tokens after a 16-token prompt, best of 2, minus the time of
  generating one token (the prompt's prefill), so the rate counts NEW_TOKENS - 1 decode steps;
- decode batch 8, sampling (temperature 1, top-p 0.95, no top-k): the same at batch 8.

Prints one JSON line of tokens/s: {"prefill": ..., "decode1": ..., "decode8": ...}.
"""
import argparse

from common import best_of, decode_rate, emit, load_model, note, set_threads


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a .gguf file or Hugging Face directory")
    parser.add_argument("--prompt-tokens", type=int, default=128, help="prompt length for prefill")
    parser.add_argument("--new-tokens", type=int, default=128, help="tokens to decode per sequence")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    args = parser.parse_args()
    if args.prompt_tokens < 16 or args.new_tokens < 2:
        parser.error("--prompt-tokens must be at least 16 and --new-tokens at least 2")

    import torch

    set_threads(args.threads)
    model = load_model(args.model).eval()
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(100, model.config.vocab_size, (8, args.prompt_tokens), generator=generator)
    # Every sequence runs to exactly new_tokens: an end-of-sequence token must not stop it early.
    fixed = dict(min_new_tokens=args.new_tokens, pad_token_id=model.config.eos_token_id)

    def generate(prompts, new_tokens, sample):
        mask = torch.ones_like(prompts)
        if sample:
            model.generate(prompts, attention_mask=mask, max_new_tokens=new_tokens, do_sample=True,
                           temperature=1.0, top_p=0.95, top_k=0, **fixed)
        else:
            model.generate(prompts, attention_mask=mask, max_new_tokens=new_tokens, do_sample=False,
                           temperature=None, top_p=None, top_k=None, **fixed)

    with torch.inference_mode():
        model(ids)  # warm-up: first-touch of weights and allocator caches
        prefill = best_of(3, lambda: model(ids))
        note(f"prefill 8 x {args.prompt_tokens}: {8 * args.prompt_tokens / prefill:.1f} tokens/s")

        one = ids[:1, :16]
        decode1 = decode_rate(lambda count: generate(one, count, False), args.new_tokens, first_runs=3)
        note(f"decode batch 1, greedy: {decode1:.1f} tokens/s")

        eight = ids[:, :16]
        decode8 = decode_rate(lambda count: generate(eight, count, True), args.new_tokens, rows=8, first_runs=2)
        note(f"decode batch 8, sampling: {decode8:.1f} tokens/s")

    emit({"prefill": 8 * args.prompt_tokens / prefill, "decode1": decode1, "decode8": decode8})


if __name__ == "__main__":
    main()
