"""Scratch arrays on disk for tracks too long to hold in memory.

A lens that scores a very long sequence (a chromosome-sized FASTA record) writes its stitched track into a
:func:`scratch_array`: a float64 ``numpy.memmap`` over an anonymous temporary file (deleted when the array is freed),
so it is an ordinary ndarray to every consumer. Writers and readers that walk such an array piece by piece call
:func:`release` behind them, which hands the pages back to the kernel (the data stays in the file), so resident
memory is bounded by the piece size rather than the sequence length. A walk releases everything behind it (``release(arr, 0, b)``, or
:class:`Behind`), not just its last piece. On an ordinary in-memory array both are harmless no-ops, so the same code serves short and long sequences.
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
    """Drop the resident pages holding flat elements ``[start, stop)`` of a file-backed (shared) memmap: the data
    stays in the file and the page cache, and touching it again reads it back. No-op for anything that is not the
    base array of a memmap."""
    mm = getattr(arr, "_mmap", None)
    if not isinstance(mm, mmap.mmap) or arr.base is not mm or stop <= start:
        return
    if getattr(arr, "mode", "c") in ("c", "copyonwrite"):  # a private copy-on-write mapping would lose changes
        return
    first = arr.offset % mmap.ALLOCATIONGRANULARITY + start * arr.itemsize
    last = arr.offset % mmap.ALLOCATIONGRANULARITY + stop * arr.itemsize
    # outward to whole pages: on a shared file mapping dropping a page loses nothing (the page cache and the file
    # keep it), so a page shared with a neighbouring piece is simply read back if touched again
    lo = first // mmap.PAGESIZE * mmap.PAGESIZE
    hi = min(len(mm), -(-last // mmap.PAGESIZE) * mmap.PAGESIZE)
    if hi <= lo:
        return
    try:
        mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
    except (AttributeError, OSError, ValueError):  # platforms without madvise: pages stay until the kernel needs them
        pass


class Behind:
    """Releases what a walk over ``arr`` (piece by piece, in one direction) has passed, every :data:`PIECE` values.

    Each release covers everything passed so far, not just the last piece: the kernel maps file pages in large
    folios, so a page released alone is mapped again with its folio when a neighbour is touched.
    """

    def __init__(self, arr: np.ndarray):
        self.arr, self.lo, self.hi, self.since = arr, None, None, 0

    def passed(self, start: int, stop: int) -> None:
        self.lo = start if self.lo is None else min(self.lo, start)
        self.hi = stop if self.hi is None else max(self.hi, stop)
        self.since += stop - start
        if self.since >= PIECE:
            self.flush()

    def flush(self) -> None:
        if self.lo is not None:
            release(self.arr, self.lo, self.hi)
        self.since = 0


def pieces(length: int, size: int = PIECE) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` ranges of at most ``size`` covering ``[0, length)``."""
    for a in range(0, length, size):
        yield a, min(length, a + size)


def divide(arr: np.ndarray, denom: float) -> None:
    """``arr /= denom`` piece by piece, releasing pages behind."""
    for a, b in pieces(len(arr)):
        arr[a:b] /= denom
        release(arr, 0, b)


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
        release(arr, 0, b)
    return float(np.sqrt(total)) if how == "l2" else total
