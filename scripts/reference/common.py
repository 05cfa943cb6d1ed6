"""What the reference programs share: thread set-up, model loading, timing and peak memory.

The reference programs measure the same work as `temper-bench` in PyTorch, so that a ratio printed by
`temper-bench` compares two runs on the same machine at the same moment, never a remembered figure.
"""
import json
import os
import resource
import statistics
import sys
import time


def set_threads(threads):
    """Pins torch's intra-op pool to `threads`, the count Temper's kernels use in the same run."""
    import torch

    torch.set_num_threads(threads)


def load_model(path):
    """Loads a causal LM in float32 from a `.gguf` file or a Hugging Face directory.

    transformers dequantizes a quantized GGUF to float32 on load, as Temper does, so both sides
    compute with the same weights.
    """
    import torch
    import transformers

    if not os.path.exists(path):
        sys.exit(f"no model at {path}")
    if path.endswith(".gguf"):
        folder, name = os.path.split(os.path.abspath(path))
        return transformers.AutoModelForCausalLM.from_pretrained(
            folder, gguf_file=name, dtype=torch.float32, attn_implementation="sdpa")
    return transformers.AutoModelForCausalLM.from_pretrained(
        path, dtype=torch.float32, attn_implementation="sdpa")


def seconds(body):
    """Wall-clock seconds that one call of `body` takes."""
    start = time.perf_counter()
    body()
    return time.perf_counter() - start


def best_of(runs, body):
    """Fastest of `runs` calls of `body`, in seconds: the figure least disturbed by other load."""
    return min(seconds(body) for _ in range(runs))


def decode_rate(generate, new_tokens, rows=1, runs=2, first_runs=3):
    """Decode tokens/s of `generate(count)`, which produces `count` tokens for each of `rows` sequences.

    The time of one token (the prompt's prefill and the first step) is taken away, so the rate counts
    the `new_tokens - 1` decode steps after it, as `temper-bench` measures its own decode; both are
    the best of their runs."""
    first = best_of(first_runs, lambda: generate(1))
    full = best_of(runs, lambda: generate(new_tokens))
    if full <= first:
        sys.exit(f"decoding {new_tokens} tokens took no longer than the first one: too few to time, use more --new-tokens")
    note(f"{rows} x {new_tokens} tokens in {full:.3f} s, the first in {first:.3f} s")
    return rows * (new_tokens - 1) / (full - first)


def median(values):
    """Median of a non-empty list."""
    return statistics.median(values)


def peak_rss_mb():
    """This process's peak resident set size (VmHWM) in MiB, the figure Temper reports for itself.

    Not ru_maxrss: a child that temper-bench starts with posix_spawn inherits, at execve, the
    high-water mark of the parent's address space, so ru_maxrss would report Temper's peak."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(result):
    """Prints the result as one JSON line on stdout, the line `temper-bench` reads."""
    print(json.dumps(result), flush=True)


def note(message):
    """Progress for a person running the program alone; stderr, so stdout stays one JSON line."""
    print(message, file=sys.stderr, flush=True)
