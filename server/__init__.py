"""faceclock: attendance backend with facial login."""

import os as _os

# One BLAS/OpenMP compute thread per inference. OpenBLAS, MKL and OpenMP read these variables once, when their
# library is loaded (OpenBLAS: when numpy is first imported), so they are set here, before any server module can
# import numpy. Concurrency comes from the inference semaphore (FACE_THREADS, one slot per core) instead, so two
# workers on 2 cores never run 2x2 threads. setdefault: an explicit value in the environment still wins.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")
del _var


def _bound_malloc() -> None:
    """glibc's allocator, tuned before any thread starts, so that freed image buffers go back to the system.

    A kiosk check decodes a photo into a few buffers of 1-30 MB that live for milliseconds. By default glibc raises
    its mmap threshold after the first such buffer is freed, so later ones come from per-thread arenas (up to 8 per
    core) and stay resident: measured here, a server that answered 32 concurrent kiosks grew from 190 MB to 640 MB.
    With buffers >= 128 KiB always mmapped and 2 arenas, the same run ended at 256 MB. MALLOC_ARENA_MAX and
    MALLOC_MMAP_THRESHOLD_ in the environment win; other C libraries are left alone.
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_mmap_threshold, m_arena_max = -3, -8  # <malloc.h>
    if "MALLOC_MMAP_THRESHOLD_" not in _os.environ:
        mallopt(m_mmap_threshold, 128 * 1024)
    if "MALLOC_ARENA_MAX" not in _os.environ:
        mallopt(m_arena_max, 2)


_bound_malloc()

__version__ = "0.1.0"
