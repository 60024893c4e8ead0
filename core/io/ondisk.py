"""Scratch arrays on disk for tracks too long to hold in memory.

A lens that scores a very long sequence (a chromosome-sized FASTA record) writes its stitched track into a
:func:`scratch_array`: a float64 ``numpy.memmap`` over an anonymous temporary file (deleted when the array is freed),
so it is an ordinary ndarray to every consumer. Writers and readers that walk such an array piece by piece call
:func:`release` behind them, which hands the pages back to the kernel (the data stays in the file), so resident
memory is bounded by the piece size rather than the sequence length. On an ordinary in-memory array both are
harmless no-ops, so the same code serves short and long sequences.
"""

from __future__ import annotations

import mmap
import tempfile
from collections.abc import Iterator

import numpy as np

PIECE = 1 << 16  # elements per piece when walking a long array


def scratch_array(length: int, dtype=np.float64) -> np.ndarray:
    """A zero-filled 1-D array of ``length`` values backed by an unlinked temporary file (in ``TMPDIR``)."""
    if length == 0:
        return np.zeros(0, dtype=dtype)
    with tempfile.TemporaryFile(prefix="dnalens-track-") as fh:  # the mapping keeps the file alive, unlinked
        return np.memmap(fh, dtype=dtype, mode="w+", shape=(int(length),))


def release(arr: np.ndarray, start: int, stop: int) -> None:
    """Drop the resident pages of flat elements ``[start, stop)`` of a file-backed memmap (the file keeps the
    data; touching them again reads it back). No-op for anything that is not the base array of a memmap."""
    mm = getattr(arr, "_mmap", None)
    if not isinstance(mm, mmap.mmap) or arr.base is not mm or stop <= start:
        return
    first = arr.offset % mmap.ALLOCATIONGRANULARITY + start * arr.itemsize
    last = arr.offset % mmap.ALLOCATIONGRANULARITY + stop * arr.itemsize
    lo = -(-first // mmap.PAGESIZE) * mmap.PAGESIZE
    hi = last // mmap.PAGESIZE * mmap.PAGESIZE
    if hi <= lo:
        return
    try:
        mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
    except (AttributeError, OSError, ValueError):  # platforms without madvise: pages stay until the kernel needs them
        pass


def pieces(length: int, size: int = PIECE) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` ranges of at most ``size`` covering ``[0, length)``."""
    for a in range(0, length, size):
        yield a, min(length, a + size)


def divide(arr: np.ndarray, denom: float) -> None:
    """``arr /= denom`` piece by piece, releasing pages behind."""
    for a, b in pieces(len(arr)):
        arr[a:b] /= denom
        release(arr, a, b)


def norm(arr: np.ndarray, how: str) -> float:
    """The denominator of a normalisation over the whole array, read piece by piece: ``l2`` (Euclidean norm),
    ``max`` (largest absolute value), ``sum``."""
    total = 0.0
    for a, b in pieces(len(arr)):
        part = np.asarray(arr[a:b])
        if how == "l2":
            total += float(np.dot(part, part))
        elif how == "max":
            total = max(total, float(np.max(np.abs(part))) if len(part) else 0.0)
        else:
            total += float(np.sum(part))
        release(arr, a, b)
    return float(np.sqrt(total)) if how == "l2" else total
