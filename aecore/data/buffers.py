"""The one array a large set's pixels live in, allocated so that filling it costs what the copy
costs.

numpy asks the kernel for transparent huge pages on every large array (madvise). Where huge pages
are granted only after a direct compaction (THP defrag "madvise", Ubuntu's default, on a host
whose memory is fragmented), first touching such an array stalls: on this project's VM, filling
1.1 GB took 6 to 24 s with numpy's np.empty, and 1.4 s without the advice. So a set's buffer is
an anonymous mapping of its own, which asks for nothing (`python -m benchmarks.big_colour`
measures a load).
"""
from __future__ import annotations

import math
import mmap
from pathlib import Path

import numpy as np
from numpy.lib import format as npy

SMALL = 16 << 20  # bytes below which numpy's own allocation is used


def empty_images(shape: tuple[int, ...]) -> np.ndarray:
    """A writable uint8 array of `shape`, zero-filled when large (an anonymous mapping)."""
    size = math.prod(shape)
    if size < SMALL:
        return np.empty(shape, np.uint8)
    return np.frombuffer(mmap.mmap(-1, size), np.uint8).reshape(shape)


def read_uint8_npy(path: Path) -> np.ndarray:
    """A uint8 .npy file (as np.save writes one, C order) read into empty_images; ValueError for
    any other .npy. Nothing in it is unpickled: only the header's dtype, order and shape are read."""
    with open(path, "rb") as f:
        version = npy.read_magic(f)
        shape, fortran, dtype = (npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0)(f)
        if dtype != np.uint8 or fortran:
            raise ValueError(f"{path}: {dtype} in {'Fortran' if fortran else 'C'} order; expected uint8 in C order")
        out = empty_images(tuple(shape))
        if f.readinto(memoryview(out).cast("B")) != out.nbytes or f.read(1):
            raise ValueError(f"{path}: not {out.nbytes:,} bytes of data as its header says")
    return out
