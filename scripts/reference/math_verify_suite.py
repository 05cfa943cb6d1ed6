"""Turns Hugging Face Math-Verify's own regression tests into a JSONL suite for `temper-bench
math-equiv --suite` (issue 15: math-equiv measured on an independent public grader's cases).

usage: /work/venv/bin/python scripts/reference/math_verify_suite.py REPO OUT
  REPO: a checkout of github.com/huggingface/Math-Verify, or its bare git directory (read with
        `git show HEAD:tests/...`); OUT: the JSONL to write, outside this repository (the cases are
        Math-Verify's, MIT-licensed, and are not copied into Temper).

The test files are read as Python syntax trees, never imported or run: every
`@pytest.mark.parametrize("gold, pred, expected", [...])` list whose rows are literals becomes rows
{"prompt": "", "completion": pred, "answer": gold, "expected": bool, "category": "file::test"}.
Rows that only hold under a non-default Math-Verify option (strict=False,
allow_set_relation_comp=True, a float_rounding other than the default 6) are left out and counted,
as are rows that are not literals (f-strings); the counts are printed.
"""
import ast
import json
import os
import subprocess
import sys

FILES = ["tests/test_all.py", "tests/test_numina_cases.py", "tests/test_open_thoughts.py",
         "tests/test_string_extraction.py", "tests/test_boxed.py", "tests/test_yujianll.py",
         "tests/test_strict.py"]
DEFAULTS = {"strict": True, "allow_set_relation_comp": False, "precision": 6}


def read(repo: str, path: str) -> str:
    if os.path.exists(os.path.join(repo, path)):
        with open(os.path.join(repo, path)) as f:
            return f.read()
    return subprocess.run(["git", "--git-dir", repo, "show", "HEAD:" + path], check=True,
                          capture_output=True, text=True).stdout


def fixed_options(function: ast.FunctionDef) -> dict:
    """Keyword options the test passes to compare_strings as literals (e.g. precision=5)."""
    options = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "compare_strings":
            for keyword in node.keywords:
                if keyword.arg in DEFAULTS:
                    try:
                        options[keyword.arg] = ast.literal_eval(keyword.value)
                    except ValueError:
                        pass  # a parameter of the test: read from each row
    return options


def cases(path: str, source: str, skipped: dict):
    for function in ast.parse(source).body:
        if not isinstance(function, ast.FunctionDef):
            continue
        for decorator in function.decorator_list:
            if not (isinstance(decorator, ast.Call) and getattr(decorator.func, "attr", "") == "parametrize"):
                continue
            names = [n.strip() for n in ast.literal_eval(decorator.args[0]).split(",")]
            if "gold" not in names or "pred" not in names:
                continue
            verdict = "expected" if "expected" in names else "result"
            for element in decorator.args[1].elts:
                try:
                    values = dict(zip(names, ast.literal_eval(element)))
                except ValueError:
                    skipped["not a literal"] = skipped.get("not a literal", 0) + 1
                    continue
                options = {**fixed_options(function), **{k: v for k, v in values.items() if k in DEFAULTS}}
                changed = sorted(k for k, v in options.items() if v != DEFAULTS[k])
                if changed:
                    key = "non-default " + ", ".join(changed)
                    skipped[key] = skipped.get(key, 0) + 1
                    continue
                yield {"prompt": "", "completion": values["pred"], "answer": values["gold"],
                       "expected": bool(values[verdict]),
                       "category": "%s::%s" % (os.path.basename(path), function.name)}


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    repo, out = sys.argv[1], sys.argv[2]
    skipped: dict = {}
    rows = [row for path in FILES for row in cases(path, read(repo, path), skipped)]
    with open(out + ".tmp", "w") as f:  # written under a temporary name, then renamed
        for row in rows:
            f.write(json.dumps(row) + "\n")
    os.replace(out + ".tmp", out)
    equal = sum(row["expected"] for row in rows)
    print("wrote %d cases (%d equivalent, %d not) to %s; left out: %s"
          % (len(rows), equal, len(rows) - equal, out, skipped or "none"))


if __name__ == "__main__":
    main()
