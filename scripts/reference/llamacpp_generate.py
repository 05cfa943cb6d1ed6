"""llama.cpp reference for `temper-bench generate --keep-quantized`: greedy decode at batch 1 from blocks.

    python scripts/reference/llamacpp_generate.py --model .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --threads 2

Through llama-cpp-python (llama.cpp's own kernels on the file's blocks, its int8 activations):
NEW_TOKENS greedy tokens after a 16-token random prompt, best of 3, minus the time of generating
one token (the prompt's prefill), so the rate counts NEW_TOKENS - 1 decode steps — the measurement
Temper's decode batch 1 makes. `--requantize q8_0|q4_0|q4_1` first re-encodes the file with
llama.cpp's own quantizer (into a temporary file), the counterpart of Temper's `--requantize`.

Prints one JSON line: {"decode1": tokens/s, "rss_mb": peak resident MiB}.
"""
import argparse
import os
import random
import tempfile

from common import decode_rate, emit, note, peak_rss_mb

FORMATS = {"q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0", "q4_0": "LLAMA_FTYPE_MOSTLY_Q4_0", "q4_1": "LLAMA_FTYPE_MOSTLY_Q4_1"}


def requantized(path, name, folder):
    """The model re-encoded to `name` by llama.cpp's quantizer, written into `folder`."""
    import llama_cpp

    out = os.path.join(folder, f"model-{name}.gguf")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, FORMATS[name])
    params.allow_requantize = True
    params.nthread = 2
    if llama_cpp.llama_model_quantize(path.encode(), out.encode(), params) != 0:
        raise SystemExit(f"llama.cpp could not re-encode {path} to {name}")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a .gguf file")
    parser.add_argument("--new-tokens", type=int, default=128, help="tokens to decode")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads")
    parser.add_argument("--requantize", choices=sorted(FORMATS), help="re-encode with llama.cpp first")
    args = parser.parse_args()
    if args.new_tokens < 2:
        parser.error("--new-tokens must be at least 2")

    import llama_cpp

    with tempfile.TemporaryDirectory() as folder:
        path = requantized(args.model, args.requantize, folder) if args.requantize else args.model
        llm = llama_cpp.Llama(model_path=path, n_threads=args.threads, n_threads_batch=args.threads,
                              n_ctx=256, n_batch=256, verbose=False)
        rng = random.Random(1)
        prompt = [rng.randrange(100, llm.n_vocab()) for _ in range(16)]

        def decode(count):
            # A fresh sequence each time (no cached prefix), greedy, never stopped by an end token.
            llm.reset()
            for produced, _ in enumerate(llm.generate(prompt, top_k=1, temp=0.0, reset=False), start=1):
                if produced == count:
                    break

        decode(args.new_tokens)     # warm-up: page in the weights
        note(f"llama.cpp {llama_cpp.__version__}")
        emit({"decode1": decode_rate(decode, args.new_tokens, runs=3), "rss_mb": peak_rss_mb()})


if __name__ == "__main__":
    main()
