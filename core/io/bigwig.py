"""Tracks as bigWig for genome browsers (pyBigWig), streamed like :class:`core.io.tables.TrackWriter`.

* Chromosome sizes come from the reference's FASTA index (``.fai``), in its order; the header lists every
  chromosome of the reference and entries are written in that order, sorted, without overlaps (bigWig requires it).
* A sequence's score at position ``i`` goes to its genomic coordinate (:meth:`Sequence.genomic_positions`), so a
  ``-`` strand interval, read reverse-complemented, lands back on forward-strand coordinates.
* **Overlaps:** where intervals overlap, a base's value is the **mean** of the scores every interval gives it.
* NaN scores are left out (no data); runs of neighbouring bases with equal values become one entry. Values are
  stored as float32 (bigWig's type).

Memory holds the covered bases' coordinates and scores until :meth:`BigWigWriter.close` (16 bytes a base).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import InputError
from .sequences import Sequence

SUFFIXES = (".bw", ".bigwig")


def is_bigwig(path: str | os.PathLike) -> bool:
    return str(path).lower().endswith(SUFFIXES)


def chrom_sizes(reference: str | os.PathLike) -> list[tuple[str, int]]:
    """``[(chromosome, length)]`` of a reference FASTA, in its index order."""
    from .sequences import open_reference

    fa = open_reference(os.fspath(reference))
    return [(name, len(fa[name])) for name in fa.keys()]


def _pybigwig():
    try:
        import pyBigWig
    except ImportError:
        raise InputError(
            "writing bigWig needs pyBigWig, which has no build for this platform; write a table "
            "(.parquet/.csv) or bedGraph instead"
        ) from None
    return pyBigWig


def merge_bases(positions: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique positions and the mean value at each (the overlap rule)."""
    uniq, inv = np.unique(positions, return_inverse=True)
    sums = np.bincount(inv, weights=values, minlength=len(uniq))
    counts = np.bincount(inv, minlength=len(uniq))
    return uniq, sums / counts


def runs(positions: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(starts, ends, values)``: neighbouring positions with equal (float32) values merged into one entry."""
    v = values.astype(np.float32)
    if len(positions) == 0:
        return positions, positions, v
    brk = np.flatnonzero((np.diff(positions) != 1) | (v[1:] != v[:-1])) + 1
    first = np.concatenate([[0], brk])
    last = np.concatenate([brk, [len(positions)]]) - 1
    return positions[first], positions[last] + 1, v[first]


class BigWigWriter:
    """``write(sequence, scores)`` for sequences with genomic coordinates, ``close()`` writes the file."""

    def __init__(self, path: str | os.PathLike, sizes: list[tuple[str, int]]):
        self.path = Path(path)
        self.sizes = list(sizes)
        self._lengths = dict(self.sizes)
        self._pos: dict[str, list[np.ndarray]] = {}
        self._val: dict[str, list[np.ndarray]] = {}
        _pybigwig()

    def write(self, seq: Sequence, scores: np.ndarray) -> None:
        if not seq.has_coordinates:
            raise InputError(
                f"sequence '{seq.id}' has no genomic coordinates: bigWig needs BED intervals on a reference "
                "(--bed B --reference R)"
            )
        if seq.chrom not in self._lengths:
            raise InputError(f"chromosome '{seq.chrom}' of sequence '{seq.id}' is not in the reference")
        scores = np.asarray(scores, dtype=np.float64)
        g = seq.genomic_positions()[: len(scores)].astype(np.int64)
        keep = np.isfinite(scores)
        self._pos.setdefault(seq.chrom, []).append(g[keep])
        self._val.setdefault(seq.chrom, []).append(scores[keep])

    def close(self) -> None:
        bw = _pybigwig().open(str(self.path), "w")
        try:
            bw.addHeader(self.sizes)
            for chrom, _ in self.sizes:
                if chrom not in self._pos:
                    continue
                pos, val = merge_bases(np.concatenate(self._pos.pop(chrom)), np.concatenate(self._val.pop(chrom)))
                starts, ends, values = runs(pos, val)
                if len(starts):
                    bw.addEntries(
                        [chrom] * len(starts),
                        starts.tolist(),
                        ends=ends.tolist(),
                        values=values.astype(np.float64).tolist(),
                    )
        finally:
            bw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.close()
        return False
