"""BLAS/OpenMP thread caps are in place before numpy loads OpenBLAS (it reads them only once, at load)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import ctypes, json, os, sys
import server.main  # noqa: F401  (what uvicorn imports first)
import numpy
maps = open("/proc/self/maps").read().split()
libs = sorted({p for p in maps if "openblas" in os.path.basename(p).lower() and ".so" in p})
threads = None
for path in libs:
    lib = ctypes.CDLL(path)  # already loaded: the same handle numpy uses
    for sym in ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads", "openblas_get_num_threads64_",
                "openblas_get_num_threads"):
        fn = getattr(lib, sym, None)
        if fn is not None:
            threads = int(fn())
            break
    if threads is not None:
        break
print(json.dumps({"env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                         "MKL_NUM_THREADS")},
                  "libs": libs, "blas_threads": threads, "numpy_loaded_by_server": "numpy" in sys.modules}))
"""


def _run(extra_env: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")}
    env.update(extra_env or {}, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_numpy_blas_runs_one_thread_after_importing_the_server():
    got = _run()
    assert got["env"] == {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    assert got["libs"], "numpy's OpenBLAS not found in the process maps"
    assert got["blas_threads"] == 1, got


def test_an_explicit_setting_still_wins():
    """setdefault: an operator who wants 2 BLAS threads gets them (and the check above is not vacuous)."""
    got = _run({"OPENBLAS_NUM_THREADS": "2"})
    assert got["env"]["OPENBLAS_NUM_THREADS"] == "2"
    assert got["blas_threads"] == 2, got
