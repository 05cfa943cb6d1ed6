"""PyTorch + transformers reference for `temper-bench search`: best-of-N's sampling as transformers
users write it, `generate(num_return_sequences=N)` on one chat prompt.

    python scripts/reference/search.py --model .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --threads 2

Every candidate generates exactly NEW_TOKENS tokens (temperature 1, top-p 0.95); the time includes
the prompt's prefill, as Temper's search does. Best of 2 after a warm-up. Prints one JSON line:
{"tokens_per_second": ...} (generated tokens of all candidates per second).
"""
import argparse

from common import best_of, emit, load_model, note, set_threads


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a .gguf file or Hugging Face directory")
    parser.add_argument("--prompt", required=True, help="the user message, rendered with the chat template")
    parser.add_argument("--samples", type=int, default=8, help="num_return_sequences (N)")
    parser.add_argument("--new-tokens", type=int, default=128, help="tokens per candidate")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    args = parser.parse_args()

    import os

    import torch
    import transformers

    set_threads(args.threads)
    model = load_model(args.model).eval()
    folder, name = os.path.split(os.path.abspath(args.model))
    tokenizer = (transformers.AutoTokenizer.from_pretrained(folder, gguf_file=name) if name.endswith(".gguf")
                 else transformers.AutoTokenizer.from_pretrained(args.model))
    ids = tokenizer.apply_chat_template([{"role": "user", "content": args.prompt}], add_generation_prompt=True,
                                        return_tensors="pt", return_dict=True)["input_ids"]
    torch.manual_seed(5)

    def search():
        model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True, temperature=1.0, top_p=0.95, top_k=0,
                       num_return_sequences=args.samples, max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens,
                       pad_token_id=tokenizer.eos_token_id)

    with torch.inference_mode():
        search()  # warm-up
        elapsed = best_of(2, search)
    rate = args.samples * args.new_tokens / elapsed
    note(f"best-of-{args.samples} sampling: {rate:.1f} tokens/s")
    emit({"tokens_per_second": rate})


if __name__ == "__main__":
    main()
