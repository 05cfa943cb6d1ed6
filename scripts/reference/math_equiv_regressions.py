"""Writes fixtures/math-equiv-regressions.jsonl: Temper's own regression pairs for the kinds of
answer that math-equiv got wrong on Math-Verify's regression suite (issue 15; measured with
scripts/reference/math_verify_suite.py and `temper-bench math-equiv --suite`). The kinds come from
that suite's misses; the pairs are written here, with other numbers and wording, each labelled by
construction, with Hugging Face math-verify's verdict (`verify(parse(gold), parse(completion))`,
default extraction) beside the label.

usage: /work/venv/bin/python scripts/reference/math_equiv_regressions.py [OUT]   (needs pip math-verify)
Each row: {"prompt": "", "completion": str, "answer": str, "equivalent": bool, "math_verify": bool,
"category": str}. Plugins/Rewards/Tests/MathEquivAgreementTests.swift requires math-equiv's score to
equal `equivalent` on every row.
"""
import json
import os
import sys

from math_verify import parse, verify

# (category, gold, completion, equivalent by construction)
PAIRS = [
    ("final answer after a box", "36",
     "Each crate holds $\\boxed{12}$ apples, and there are 3 crates. Final Answer: The final answer is $36$. I hope it is correct.", True),
    ("final answer after a box", "12",
     "Each crate holds $\\boxed{12}$ apples, and there are 3 crates. Final Answer: The final answer is $36$. I hope it is correct.", False),
    ("final answer in the reference", "So each costs $4$ dollars. Final Answer: The final answer is $4$. I hope it is correct.",
     "The price is $\\boxed{4}$.", True),
    ("final answer in the reference", "So each costs $4$ dollars. Final Answer: The final answer is $4$. I hope it is correct.",
     "The price is $\\boxed{5}$.", False),
    ("digits inside a word", "9", "Model ZX9B is the one.", False),
    ("digits inside a word", "12", "Model ZX9B costs 12 dollars.", True),
    ("bare LaTeX completion", "7/3", "\\frac{7}{3}", True),
    ("bare LaTeX completion", "-7/3", "-\\dfrac{7}{3}", True),
    ("bare LaTeX completion", "3", "\\frac{7}{3}", False),
    ("space as thousands separator", "2500", "The town has 2 500 people", True),
    ("space as thousands separator", "500", "The town has 2 500 people", False),
    ("words between boxes", "$\\{2, 5\\}$", "$\\boxed{2} \\text{ for the first and } \\boxed{5}$", True),
    ("words between boxes", "5", "$\\boxed{2} \\text{ for the first and } \\boxed{5}$", False),
    ("spacing command without a space", "$a_{1}=3,\\quada_{2}=7$", "$\\boxed{3} \\quad \\text{and} \\quad \\boxed{7}$", True),
    ("spacing command without a space", "$a_{1}=3,\\quada_{2}=7$", "$\\boxed{3} \\quad \\text{and} \\quad \\boxed{8}$", False),
    ("repeated solutions", "$(1,2),(2,1)$", "$\\boxed{(2,1), (1,2), (2,1)}$", True),
    ("repeated solutions", "$(1,2),(2,1)$", "$\\boxed{(2,1), (1,3)}$", False),
    ("inequality chain as interval", "$2 < x < 5$", "$\\boxed{(2, 5)}$", True),
    ("inequality chain as interval", "$2 < x < 5$", "$\\boxed{[2, 5)}$", False),
    ("inequality chain as interval", "$5 \\ge y > 2$", "$\\boxed{(2, 5]}$", True),
    ("named left side", "$\\frac{AB}{CD} = \\frac{3}{4}$", "$\\boxed{\\frac{3}{4}}$", True),
    ("named left side", "$\\frac{AB}{CD} = \\frac{3}{4}$", "$\\boxed{\\frac{4}{3}}$", False),
    ("named left side", "$|PQ| = 5$", "$\\boxed{5}$", True),
]


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else "fixtures/math-equiv-regressions.jsonl"
    with open(out + ".tmp", "w") as f:  # written under a temporary name, then renamed
        for category, gold, completion, equivalent in PAIRS:
            mv = bool(verify(parse(gold), parse(completion)))
            row = {"prompt": "", "completion": completion, "answer": gold, "equivalent": equivalent,
                   "math_verify": mv, "category": category}
            f.write(json.dumps(row) + "\n")
    os.replace(out + ".tmp", out)
    print("wrote %d pairs to %s" % (len(PAIRS), out))


if __name__ == "__main__":
    main()
