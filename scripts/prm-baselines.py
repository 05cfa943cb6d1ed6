#!/usr/bin/env python3
"""Baselines for a process reward model on step-labelled chains (`temper data make ... --steps`).

    python3 scripts/prm-baselines.py TRAIN.jsonl EVAL.jsonl

Prints, on EVAL, the figures `temper train --objective prm` logs (`eval_loss`, step `accuracy`,
`first_wrong_step_accuracy`, and first-wrong-step accuracy among the wrong chains) for three
predictors that never read the arithmetic:
  always-correct  every step passes (P(correct) = 1 - 1e-6 for the loss);
  position prior  P(correct) of step k = the fraction of TRAIN's step-k labels that are true,
                  flagged when that is <= 1/2 (a model that learns only where a step is);
  chance          the first wrong step drawn uniformly from "none" and the chain's steps.
Standard library only; the Swift tests never run it.
"""
import json
import math
import sys


def rows(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def first_false(labels):
    return next((k for k, label in enumerate(labels) if not label), -1)


def figures(eval_rows, p_correct):
    """Loss, step accuracy, first-wrong-step accuracy (all chains, wrong chains) of P(correct) per step."""
    nll = hits = steps = first_hits = wrong = wrong_hits = 0
    for r in eval_rows:
        ps = p_correct(len(r["labels"]))
        flagged = [p <= 0.5 for p in ps]
        for p, label, flag in zip(ps, r["labels"], flagged):
            nll -= math.log(p if label else 1 - p)
            hits += flag != label  # flagged (predicted wrong) on a false label, or passed on a true one
            steps += 1
        truth = first_false(r["labels"])
        guess = next((k for k, flag in enumerate(flagged) if flag), -1)
        first_hits += guess == truth
        if truth >= 0:
            wrong += 1
            wrong_hits += guess == truth
    return nll / steps, hits / steps, first_hits / len(eval_rows), wrong_hits / max(wrong, 1)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: prm-baselines.py TRAIN.jsonl EVAL.jsonl")
    train, evaluation = rows(sys.argv[1]), rows(sys.argv[2])
    longest = max(len(r["labels"]) for r in train)
    if any(len(r["labels"]) > longest for r in evaluation):
        sys.exit(f"{sys.argv[2]}: a chain has more steps than any in {sys.argv[1]} ({longest}), so the position prior has no figure for its last steps")
    prior = []
    for k in range(longest):
        labels = [r["labels"][k] for r in train if len(r["labels"]) > k]
        prior.append(min(max(sum(labels) / len(labels), 1e-6), 1 - 1e-6))
    print("baseline        loss    step acc  first-wrong acc  first-wrong acc (wrong chains)")
    for name, p in [("always-correct", lambda n: [1 - 1e-6] * n), ("position prior", lambda n: prior[:n])]:
        loss, acc, first, first_wrong = figures(evaluation, p)
        print(f"{name:15} {loss:.4f}  {acc:.4f}    {first:.4f}           {first_wrong:.4f}")
    # Chance: a uniform guess among "none" and the n steps; among wrong chains, among the n steps.
    n = [len(r["labels"]) for r in evaluation]
    n_wrong = [len(r["labels"]) for r in evaluation if first_false(r["labels"]) >= 0]
    print(f"{'chance':15} -       -         {sum(1 / (k + 1) for k in n) / len(n):.4f}           "
          f"{sum(1 / k for k in n_wrong) / max(len(n_wrong), 1):.4f}")
    print(f"eval: {len(evaluation)} chains, {sum(n)} steps, {sum(first_false(r['labels']) >= 0 for r in evaluation)} with a wrong step; "
          f"position prior P(correct) by step: {', '.join(f'{p:.3f}' for p in prior)}")


if __name__ == "__main__":
    main()
