"""Writes fixtures/math-equiv-pairs.jsonl: gold/prediction answer pairs, each labelled equivalent or
not by construction, with Hugging Face math-verify's verdict beside the label, for a differential
check of Temper's math-equiv reward (issue 15).

usage: /work/venv/bin/python scripts/reference/math_equiv_pairs.py [OUT]   (needs pip math-verify)
Each row: {"prompt": "", "completion": "... \\boxed{PRED} ...", "answer": "\\boxed{GOLD}",
"equivalent": bool, "math_verify": bool, "category": str}. `temper reward --reward math-equiv
--data OUT` scores the same rows; Plugins/Rewards/Tests/MathEquivAgreementTests.swift requires
math-equiv's score to equal math-verify's verdict on each.
"""
import json
import os
import sys

from math_verify import parse, verify

# (category, gold, prediction, equivalent by construction)
PAIRS = [
    ("integer", "42", "42", True), ("integer", "42", "42.0", True), ("integer", "42", "43", False),
    ("integer", "-7", "-7", True), ("integer", "-7", "7", False), ("integer", "0", "0.00", True),
    ("fraction", "\\frac{1}{2}", "0.5", True), ("fraction", "\\frac{1}{2}", "1/2", True),
    ("fraction", "\\frac{1}{2}", "\\dfrac{1}{2}", True), ("fraction", "\\frac{1}{2}", "\\frac{2}{4}", True),
    ("fraction", "\\frac{1}{3}", "0.5", False), ("fraction", "\\frac{3}{4}", "\\tfrac34", True),
    ("fraction", "-\\frac{2}{3}", "\\frac{-2}{3}", True), ("fraction", "\\frac{2}{3}", "\\frac{3}{2}", False),
    ("decimal", "0.25", "\\frac{1}{4}", True), ("decimal", "0.25", "0.250", True), ("decimal", "0.25", "0.26", False),
    ("decimal", "3.14", "3.140", True), ("decimal", "1.5", "\\frac{3}{2}", True), ("decimal", "1.5", "2.5", False),
    ("percent", "50\\%", "50", True), ("percent", "25\\%", "25%", True), ("percent", "50\\%", "60\\%", False),
    ("sqrt", "\\sqrt{2}", "\\sqrt2", True), ("sqrt", "2\\sqrt{2}", "\\sqrt{8}", True), ("sqrt", "\\sqrt{3}", "\\sqrt{2}", False),
    ("sqrt", "\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}", True), ("sqrt", "\\sqrt{12}", "2\\sqrt{3}", True),
    ("pi", "2\\pi", "2 \\pi", True), ("pi", "\\frac{\\pi}{2}", "\\pi/2", True), ("pi", "3\\pi", "2\\pi", False),
    ("pi", "4\\pi", "\\pi \\cdot 4", True),
    ("interval", "(1, 2)", "(1,2)", True), ("interval", "[0, 1)", "[0,1)", True), ("interval", "(1, 2)", "[1, 2]", False),
    ("interval", "(-\\infty, 3]", "(-\\infty,3]", True), ("interval", "(2, \\infty)", "(3, \\infty)", False),
    ("set", "\\{1, 2, 3\\}", "\\{3, 2, 1\\}", True), ("set", "\\{1, 2\\}", "\\{1, 3\\}", False),
    ("tuple", "(3, 4)", "(3,4)", True), ("tuple", "(3, 4)", "(4, 3)", False), ("tuple", "(1, -2, 3)", "(1,-2,3)", True),
    ("equation", "x = 3", "3", True), ("equation", "3", "x=3", True), ("equation", "x = 3", "x = 4", False),
    ("equation", "y = 2x + 1", "y=2x+1", True),
    ("solutions", "x = 1, 2", "2, 1", True), ("solutions", "1, 2", "1, 3", False),
    ("units", "5", "5 \\text{ cm}", True), ("units", "12", "12\\text{ dollars}", True), ("units", "5", "6 \\text{ cm}", False),
    ("units", "90^\\circ", "90", True),
    ("text", "7", "\\text{7 apples}", True), ("text", "\\text{(B)}", "B", True), ("text", "\\text{(B)}", "C", False),
    ("boxed", "\\boxed{\\frac{1}{2}}", "\\frac12", True), ("boxed", "\\boxed{\\boxed{3}}", "3", True),
    ("thousands", "1000000", "1,000,000", True), ("thousands", "12345", "12,345", True), ("thousands", "1000", "1,001", False),
    ("scientific", "3 \\times 10^{5}", "300000", True), ("scientific", "1.5 \\times 10^{-3}", "0.0015", True),
    ("scientific", "2 \\times 10^{3}", "20000", False),
    ("expression", "x^2 + 2x + 1", "(x+1)^2", True), ("expression", "2x", "x + x", True), ("expression", "x^2", "2x", False),
    ("expression", "\\frac{x}{2}", "0.5x", True), ("expression", "a + b", "b + a", True),
    ("matrix", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", True),
    ("matrix", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 5 \\end{pmatrix}", False),
    ("matrix", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{bmatrix} 1 \\\\ 2 \\end{bmatrix}", True),
    ("pm", "\\pm 2", "2, -2", True), ("pm", "\\pm 2", "2", False),
    ("complex", "3 + 4i", "4i + 3", True), ("complex", "1 - i", "1 + i", False),
    ("power", "2^{10}", "1024", True), ("power", "2^{10}", "1000", False),
    ("degrees", "\\frac{\\pi}{4}", "0.7854", True), ("repeating", "\\frac{1}{3}", "0.333", True),
    ("log", "\\log_2 8", "3", True), ("log", "\\ln 1", "0", True),
]


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else "fixtures/math-equiv-pairs.jsonl"
    with open(out + ".tmp", "w") as f:  # written under a temporary name, then renamed
        for category, gold, prediction, equivalent in PAIRS:
            gold_box, pred_box = "$\\boxed{%s}$" % gold, "$\\boxed{%s}$" % prediction
            mv = bool(verify(parse(gold_box), parse(pred_box)))
            row = {"prompt": "", "completion": "So the final answer is " + pred_box + ".", "answer": "\\boxed{%s}" % gold,
                   "equivalent": equivalent, "math_verify": mv, "category": category}
            f.write(json.dumps(row) + "\n")
    os.replace(out + ".tmp", out)
    print("wrote %d pairs to %s" % (len(PAIRS), out))


if __name__ == "__main__":
    main()
