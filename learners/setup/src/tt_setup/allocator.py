"""Opt-in tuning of glibc's allocator for training loops that allocate large arrays each step.

By default glibc serves every block above 128 KiB-32 MiB (adaptive) with a fresh mmap and
returns it to the kernel on free. A training step that creates and frees many activations of a
few MB each then pays a page fault for every 4 KiB page, every step: on the CIFAR-10 CNN that
was about 2 ms per 7 MB array. Raising the mmap threshold keeps those blocks in the heap, and
raising the trim threshold stops glibc from handing freed heap back, so later steps reuse it.
"""

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1  # mallopt parameter numbers, from glibc's <malloc.h>
M_MMAP_THRESHOLD = -3


def tune_allocator(mmap_threshold=32 * 2**20, trim_threshold=2**30):
    """Ask glibc to keep large freed blocks for reuse; returns True when it was applied.

    Nothing happens (False) on systems without glibc. It costs memory that is freed but not
    returned to the OS (at most about `trim_threshold` bytes); call it explicitly, e.g. at the
    top of a training script: importing TinyTorch never changes the allocator.
    """
    path = ctypes.util.find_library("c")
    if path is None:
        return False
    try:
        mallopt = ctypes.CDLL(path).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok_mmap = mallopt(M_MMAP_THRESHOLD, int(mmap_threshold)) == 1
    ok_trim = mallopt(M_TRIM_THRESHOLD, int(trim_threshold)) == 1
    return ok_mmap and ok_trim
