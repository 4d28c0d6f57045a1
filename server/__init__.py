"""faceclock: attendance backend with facial login."""

import os as _os

# One BLAS/OpenMP compute thread per inference. OpenBLAS, MKL and OpenMP read these variables once, when their
# library is loaded (OpenBLAS: when numpy is first imported), so they are set here, before any server module can
# import numpy. Concurrency comes from the inference semaphore (FACE_THREADS, one slot per core) instead, so two
# workers on 2 cores never run 2x2 threads. setdefault: an explicit value in the environment still wins.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")
del _var

__version__ = "0.1.0"
