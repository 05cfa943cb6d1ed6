"""TRL reference for `temper-bench dpo`: one DPO step of TRL's DPOTrainer, timed.

    python scripts/reference/dpo.py --model .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --threads 2

The set-up of issue 11's speed target, which `temper-bench dpo` runs too: SmolLM2-135M-Instruct in
float32, PEFT LoraConfig(r=8, lora_alpha=16, lora_dropout=0, target_modules="all-linear"), the
reference being the base model with the adapter disabled (TRL's default under PEFT), DPOConfig with
beta=0.1, max_length=128, per_device_train_batch_size=4 (4 pairs, chosen and rejected in one
forward), AdamW; the pairs are
prompt "Question {i}: What is {i} plus {i}?", chosen " The answer is {2i}. " + "It is computed by
adding the two numbers together. " x 2, rejected " The answer is {2i+1}. " + "I am not really sure
about this one at all. " x 2. One warm-up step, then STEPS timed steps (a callback takes the time
from the start to the end of each optimizer step, so the data loader's work is inside it, as it is
in a real run).

Prints one JSON line: {"best": seconds, "median": seconds, "steps": [seconds, ...], ...}.
"""
import argparse
import os
import tempfile
import time

from common import emit, median, note, set_threads


def pairs(count):
    """The issue's pairs, as TRL's plain-text preference rows."""
    rows = []
    for i in range(count):
        rows.append({"prompt": f"Question {i}: What is {i} plus {i}?",
                     "chosen": f" The answer is {2 * i}. " + "It is computed by adding the two numbers together. " * 2,
                     "rejected": f" The answer is {2 * i + 1}. " + "I am not really sure about this one at all. " * 2})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a .gguf file or Hugging Face directory")
    parser.add_argument("--pairs", type=int, default=4, help="preference pairs per step")
    parser.add_argument("--max-length", type=int, default=128, help="DPOConfig.max_length")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--steps", type=int, default=3, help="timed steps after one warm-up step")
    args = parser.parse_args()
    if args.pairs < 1 or args.max_length < 2 or args.threads < 1 or args.steps < 1:
        parser.error("--pairs, --threads and --steps must be positive and --max-length at least 2")

    import datasets
    import peft
    import torch
    import transformers
    import trl

    set_threads(args.threads)
    torch.manual_seed(1)
    if not os.path.exists(args.model):
        raise SystemExit(f"no model at {args.model}")
    kwargs = {}
    folder = args.model
    if args.model.endswith(".gguf"):
        folder, kwargs["gguf_file"] = os.path.split(os.path.abspath(args.model))
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="sdpa", **kwargs)
    # transformers dequantizes a GGUF to float32 but keeps marking the model as GGUF-quantized, which
    # its Trainer refuses to train; the weights are plain float32 tensors, as Temper's are.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, **kwargs)
    steps = args.steps + 1
    data = datasets.Dataset.from_list(pairs(args.pairs * steps))

    times = []

    class StepTimer(transformers.TrainerCallback):
        def on_step_begin(self, *_, **__):
            self.start = time.perf_counter()

        def on_step_end(self, *_, **__):
            times.append(time.perf_counter() - self.start)

    with tempfile.TemporaryDirectory() as out:
        config = trl.DPOConfig(output_dir=out, per_device_train_batch_size=args.pairs, max_length=args.max_length, beta=0.1,
                               learning_rate=1e-5, max_steps=steps, logging_steps=1000, save_strategy="no", report_to=[],
                               use_cpu=True, dataloader_num_workers=0, seed=1)
        lora = peft.LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")
        trainer = trl.DPOTrainer(model=model, args=config, train_dataset=data, processing_class=tokenizer, peft_config=lora,
                                 callbacks=[StepTimer()])
        trainer.train()
    timed = times[1:]
    lengths = [len(tokenizer(r["prompt"] + r["chosen"])["input_ids"]) for r in pairs(args.pairs)]
    note(f"TRL {trl.__version__} DPOTrainer, LoRA r=8 all-linear, {args.pairs} pairs, about {sum(lengths) // len(lengths)} tokens "
         f"a chosen sequence; warm-up {times[0]:.2f} s; steps {', '.join(f'{t:.2f}' for t in timed)} s")
    emit({"best": min(timed), "median": median(timed), "warmup": times[0], "steps": timed, "trl": trl.__version__})


if __name__ == "__main__":
    main()
