#!/usr/bin/env python3
"""Checks a Hugging Face folder that `temper merge` wrote from a GGUF base against transformers.

Run by hand (not part of the test suite) with a Python that has torch, transformers, peft and gguf:

    temper merge --model .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --adapter runs/x --output /tmp/merged
    python scripts/check-hf-export.py --merged /tmp/merged \
        --gguf .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --adapter runs/x --temper .build/release/temper

It loads the folder with AutoModelForCausalLM and AutoTokenizer, then checks
  1. token ids: AutoTokenizer on the folder gives the ids of fixtures/smollm2/tokenizer.json for every
     string and chat (those ids came from SmolLM2's own tokenizer);
  2. logits: the folder's logits against the reference model — transformers loading the GGUF itself
     (`gguf_file=`) with the adapter applied by PEFT (`--adapter`), or, without an adapter, against
     fixtures/smollm2/logits.json (whose values Temper reproduces, see SmolLM2ReferenceTests);
  3. greedy generation: transformers' greedy continuation on the folder against what
     `temper generate --adapter` printed (`--temper`), token for token.
It prints the largest differences and exits non-zero when one is over its tolerance.
"""
import argparse
import json
import os
import subprocess
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures", "smollm2")


def check_tokenizer(tokenizer):
    with open(os.path.join(FIXTURES, "tokenizer.json")) as f:
        cases = json.load(f)["cases"]
    bad = 0
    for case in cases:
        if "text" in case:
            ids = tokenizer(case["text"], add_special_tokens=False)["input_ids"]
        else:
            rendered = tokenizer.apply_chat_template(case["chat"], tokenize=False, add_generation_prompt=True)
            if rendered != case["rendered"]:
                print(f"  chat template renders differently: {rendered!r}")
                bad += 1
            ids = tokenizer(rendered, add_special_tokens=False)["input_ids"]
        if ids != case["ids"]:
            print(f"  ids differ for {case.get('text', case.get('chat'))!r}: {ids} != {case['ids']}")
            bad += 1
    print(f"tokenizer: {len(cases) - bad}/{len(cases)} fixture cases give the reference ids")
    return bad == 0


def reference_model(args):
    model = AutoModelForCausalLM.from_pretrained(os.path.dirname(os.path.abspath(args.gguf)),
                                                 gguf_file=os.path.basename(args.gguf), dtype=torch.float32)
    if args.adapter:
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, args.adapter)
    return model.eval()


def check_logits(model, args):
    with open(os.path.join(FIXTURES, "logits.json")) as f:
        cases = json.load(f)["cases"]
    reference = reference_model(args) if args.gguf else None
    worst = 0.0
    for case in cases:
        ids = torch.tensor([case["input_ids"]])
        with torch.no_grad():
            logits = model(ids).logits[0].float()
            if reference is not None:
                expected = reference(ids).logits[0].float()
                worst = max(worst, (logits - expected).abs().max().item())
            else:
                top_ids = torch.tensor(case["top_ids"])
                expected = torch.tensor(case["top_logits"])
                worst = max(worst, (logits.gather(1, top_ids) - expected).abs().max().item())
    what = "transformers on the GGUF" + (" + PEFT adapter" if args.adapter else "") if reference is not None else "fixture top-10 logits"
    print(f"logits: max |folder - {what}| = {worst:.3g} over {len(cases)} prompts (tolerance {args.tolerance})")
    return worst <= args.tolerance


def check_greedy(model, tokenizer, args):
    prompt = [{"role": "user", "content": args.prompt}]
    ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, return_tensors="pt", return_dict=True)["input_ids"]
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=args.max_new_tokens)
    hf_ids = out[0, ids.shape[1]:].tolist()
    eos = tokenizer.eos_token_id
    hf_ids = hf_ids[:hf_ids.index(eos)] if eos in hf_ids else hf_ids
    command = [args.temper, "generate", "--chat", "--prompt", args.prompt, "--max-new-tokens", str(args.max_new_tokens),
               "--model", args.gguf or args.merged] + (["--adapter", args.adapter] if args.adapter and args.gguf else [])
    printed = subprocess.run(command, check=True, capture_output=True, text=True).stdout.removesuffix("\n")
    temper_ids = tokenizer(printed, add_special_tokens=False)["input_ids"]
    same = temper_ids == hf_ids
    print(f"greedy: transformers {hf_ids}\n        temper       {temper_ids} ({'identical' if same else 'DIFFERENT'})")
    return same


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--merged", required=True, help="the folder temper merge wrote")
    parser.add_argument("--gguf", help="the GGUF base it was made from (reference logits from transformers)")
    parser.add_argument("--adapter", help="the adapter folder that was merged (applied to the reference with PEFT)")
    parser.add_argument("--temper", help="the temper executable, to compare its greedy generation")
    parser.add_argument("--prompt", default="What is 21 + 34?")
    parser.add_argument("--max-new-tokens", type=int, default=24)
    parser.add_argument("--tolerance", type=float, default=1e-3)
    args = parser.parse_args()

    tokenizer = AutoTokenizer.from_pretrained(args.merged)
    model = AutoModelForCausalLM.from_pretrained(args.merged, dtype=torch.float32).eval()
    ok = check_tokenizer(tokenizer)
    ok = check_logits(model, args) and ok
    if args.temper:
        ok = check_greedy(model, tokenizer, args) and ok
    print("OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
