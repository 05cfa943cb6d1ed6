"""Checks a reward model Temper wrote (`temper train --objective reward-modeling`) in transformers.

    /work/venv/bin/python scripts/check-hf-reward-model.py RUN_DIR COMPLETIONS.jsonl

Loads RUN_DIR with AutoModelForSequenceClassification and prints, for each row of the completions
file, transformers' score of prompt + completion + EOS (the text `--reward reward-model` scores), one
JSON line each, to set beside `temper reward --reward reward-model:path=RUN_DIR --data COMPLETIONS.jsonl`.
"""
import json
import sys

import torch
import transformers

folder, data = sys.argv[1], sys.argv[2]
model = transformers.AutoModelForSequenceClassification.from_pretrained(folder, dtype=torch.float32)
model.eval()
tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
print(f"{type(model).__name__}, num_labels {model.config.num_labels}, pad_token_id {model.config.pad_token_id}", file=sys.stderr)
with open(data) as f:
    for index, line in enumerate(f):
        row = json.loads(line)
        ids = tokenizer(row["prompt"] + row["completion"])["input_ids"] + [tokenizer.eos_token_id]
        with torch.no_grad():
            score = model(input_ids=torch.tensor([ids])).logits[0, 0].item()
        print(json.dumps({"index": index, "reward": score}))
