"""Reading precomputed per-nucleotide scores: a ``dnalens tracks``/``attention`` table, or an ``.npy`` matrix
``[n, width]`` in FASTA order such as DNABERT-viz's ``atten.npy``."""

from __future__ import annotations

import os

import numpy as np

from ..errors import InputError
from .files import check_regular_file
from .sequences import Sequence


def read_score_file(path: str | os.PathLike, seqs: list[Sequence]) -> list[np.ndarray]:
    """One score row per sequence of ``seqs``: from a table by id, or from an ``.npy`` by row (FASTA order; longer
    rows are cut at each sequence's length, as DNABERT-viz's ``find_motifs.py`` does)."""
    from .tables import read_scores_table

    path = check_regular_file(path, "scores file")
    if path.endswith(".npy"):
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise InputError(f"not a numeric .npy array ({exc})", source=path) from None
        if arr.ndim != 2 or arr.shape[0] != len(seqs):
            raise InputError(
                f"scores array has shape {arr.shape}; expected [{len(seqs)}, length] (one row per "
                "positive, in FASTA order)",
                source=path,
            )
        return [arr[i] for i in range(len(seqs))]
    table = read_scores_table(path)
    missing = [s.id for s in seqs if s.id not in table]
    if missing:
        raise InputError(
            f"no scores for {len(missing)} positives (first: '{missing[0]}'); the table's ids must match the FASTA ids",
            source=path,
        )
    return [table[s.id] for s in seqs]
