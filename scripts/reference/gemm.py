"""numpy (OpenBLAS) reference for `temper-bench gemm`: best float32 GFLOP/s of an n x n x n product.

    python scripts/reference/gemm.py 1024 1.5     # size, seconds of timed runs: prints GFLOP/s
    python scripts/reference/gemm.py --describe   # prints numpy's and its BLAS's versions

The caller sets OPENBLAS_NUM_THREADS to Temper's thread count.
"""
import sys
import time

import numpy as np


def describe():
    """numpy's version and the BLAS it was built with, as numpy reports them."""
    config = np.show_config(mode="dicts") if hasattr(np, "show_config") else {}
    blas = config.get("Build Dependencies", {}).get("blas", {}) if isinstance(config, dict) else {}
    return f"numpy {np.__version__} with {blas.get('name', 'unknown BLAS')} {blas.get('version', '')}".strip()


def gflops(n, budget):
    """Best GFLOP/s of `a @ b` over at least 3 runs and about `budget` seconds, after two warm-ups."""
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    c = a @ b
    c = a @ b
    best, spent, runs = float("inf"), 0.0, 0
    while runs < 3 or spent < budget:
        start = time.perf_counter()
        np.matmul(a, b, out=c)
        elapsed = time.perf_counter() - start
        best, spent, runs = min(best, elapsed), spent + elapsed, runs + 1
    return 2.0 * n ** 3 / best / 1e9


if __name__ == "__main__":
    if sys.argv[1:] == ["--describe"]:
        print(describe())
    elif len(sys.argv) == 3:
        print(gflops(int(sys.argv[1]), float(sys.argv[2])))
    else:
        sys.exit(__doc__)
