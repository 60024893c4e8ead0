"""Class probabilities of many sequences and the effect scores of a change (DNABERT-viz ``SNP.py`` conventions).

``delta = p_alt - p_ref``; ``diff = (p_alt - p_ref) * max(p_ref, p_alt)`` (> 0: the change raises the prediction);
``logOR = log2(p_ref / (1 - p_ref)) - log2(p_alt / (1 - p_alt))`` (> 0: the change **lowers** the prediction).
Probabilities are clipped to ``[1e-6, 1 - 1e-6]`` first, so nothing is infinite.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence as SeqType

import numpy as np

from ..errors import InputError
from ..io.sequences import Sequence

EPS = 1e-6


def clip(p):
    return np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)


def effect_scores(p_ref, p_alt) -> dict[str, np.ndarray]:
    """delta, DNABERT-viz's diff and logOR (> 0: the change lowers the prediction), probabilities clipped."""
    r, a = clip(p_ref), clip(p_alt)
    return {"delta": a - r, "diff": (a - r) * np.maximum(r, a), "logOR": np.log2(r / (1 - r)) - np.log2(a / (1 - a))}


def target_class(lm, probs_ref: np.ndarray | None = None, target: int | str | None = None) -> int:
    """Class whose probability is scored: given (name or index), else the last class of a binary model (the
    positive class), else the reference's predicted class."""
    if not lm.has_classifier:
        raise InputError(f"model '{lm.name}' has no classification head: effects on the prediction need one")
    if target is not None:
        if isinstance(target, str) and not target.lstrip("-").isdigit():
            names = lm.label_names
            if target not in names:
                raise InputError(f"unknown class '{target}' (the model's classes: {', '.join(names)})")
            return names.index(target)
        if not 0 <= int(target) < lm.num_labels:
            raise InputError(f"class {target} does not exist (the model has {lm.num_labels}: 0..{lm.num_labels - 1})")
        return int(target)
    if lm.num_labels == 2 or probs_ref is None:
        return lm.num_labels - 1
    return int(np.argmax(probs_ref))


def class_probabilities(
    lm,
    seqs: SeqType[Sequence],
    *,
    batch_size: int = 64,
    orientation: str = "forward",
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """``[N, C]`` class probabilities of ``seqs`` in input order (read both ways: the mean of the two)."""
    from .inference import run

    out = np.empty((len(seqs), lm.num_labels), dtype=np.float64)
    for rec in run(lm, seqs, batch_size=batch_size, orientation=orientation, attention=False, progress=progress):
        out[rec.index] = rec.probs
    return out
