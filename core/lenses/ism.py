"""The ISM lens: in-silico (saturation) mutagenesis, the model's own answer to "which base matters".

Every single-base substitution of a sequence (or a window of it) is scored by the model in batches; the effect of
a substitution is ``delta = p_alt - p_ref`` of the target class (:mod:`core.model.scoring`). Per-position
summaries (``ISM.summary``):

``maxabs``   max |delta| over the alternatives (how much any change at this base moves the prediction; default)
``mean``     mean delta over the alternatives (signed)
``toward-ref``  ``p_ref - mean(p_alt)`` = -mean: how much the reference base itself supports the prediction
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io.sequences import Sequence
from ..model.scoring import class_probabilities, effect_scores, target_class
from .base import Lens, Track

BASES = "ACGT"
SUMMARIES = ("maxabs", "mean", "toward-ref")


@dataclass
class SaturationResult:
    """ISM of one sequence window.

    table: one row per substitution: id, position (0-based), genomic_position (when known), ref, alt, p_ref, p_alt,
    delta, diff, logOR. effect: ``[4, W]`` delta per base (A, C, G, T) over the window, 0 at the reference base.
    """

    seq_id: str
    start: int
    end: int
    ref_seq: str
    target: int
    p_ref: float
    table: pd.DataFrame
    effect: np.ndarray

    def per_position(self, how: str = "maxabs") -> np.ndarray:
        """Per-position summary ``[W]`` (see the module docstring for ``how``)."""
        n_alt = np.array([4 if b not in BASES else 3 for b in self.ref_seq], dtype=np.float64)
        if how == "maxabs":
            return np.abs(self.effect).max(axis=0)
        if how == "mean":
            return self.effect.sum(axis=0) / n_alt
        if how == "toward-ref":
            return -self.effect.sum(axis=0) / n_alt
        raise InputError(f"unknown ISM summary '{how}' (use {', '.join(SUMMARIES)})")


def _mutants(seq: Sequence, start: int, end: int) -> tuple[list[Sequence], list[tuple[int, str, str]]]:
    s = seq.seq
    mutants, rows = [], []
    for p in range(start, end):
        for b in BASES:
            if b != s[p]:
                mutants.append(replace(seq, id=f"{seq.id}:{p}{b}", seq=s[:p] + b + s[p + 1 :]))
                rows.append((p, s[p], b))
    return mutants, rows


def saturation_mutagenesis(
    lm,
    seq: Sequence,
    start: int = 0,
    end: int | None = None,
    *,
    batch_size: int = 64,
    orientation: str = "forward",
    target: int | str | None = None,
    progress: Callable[[int], None] | None = None,
) -> SaturationResult:
    """Every single-base substitution in ``seq.seq[start:end]`` (0-based, half-open), scored in batches."""
    L = len(seq.seq)
    end = L if end is None else end
    if not (0 <= start < end <= L):
        raise InputError(f"window {start}-{end} is outside the sequence (length {L})", record=seq.id)
    mutants, rows = _mutants(seq, start, end)
    probs = class_probabilities(lm, [seq] + mutants, batch_size=batch_size, orientation=orientation, progress=progress)
    t = target_class(lm, probs[0], target)
    p_ref, p_alt = float(probs[0, t]), probs[1:, t]
    sc = effect_scores(np.full(len(p_alt), p_ref), p_alt)
    table = pd.DataFrame({"id": seq.id, "position": [r[0] for r in rows]})
    if seq.has_coordinates:
        table["genomic_position"] = seq.genomic_positions()[table["position"].to_numpy()]
    table = table.assign(
        ref=[r[1] for r in rows],
        alt=[r[2] for r in rows],
        p_ref=p_ref,
        p_alt=p_alt,
        delta=sc["delta"],
        diff=sc["diff"],
        logOR=sc["logOR"],
    )
    effect = np.zeros((4, end - start))
    effect[[BASES.index(r[2]) for r in rows], [r[0] - start for r in rows]] = sc["delta"]
    return SaturationResult(seq.id, start, end, seq.seq[start:end], t, p_ref, table, effect)


@dataclass(frozen=True)
class ISM(Lens):
    """In-silico mutagenesis: 3 model calls per base (4 at N). ``target``: the scored class (name or index;
    default the positive class of a binary model)."""

    name: ClassVar[str] = "ism"
    needs_classifier: ClassVar[bool] = True
    summary: str = "maxabs"
    target: int | str | None = None

    def __post_init__(self):
        super().__post_init__()
        if self.summary not in SUMMARIES:
            raise InputError(f"unknown ISM summary '{self.summary}' (use {', '.join(SUMMARIES)})")

    @property
    def score_name(self) -> str:
        return {"maxabs": "ISM max |Δp|", "mean": "ISM mean Δp", "toward-ref": "ISM p_ref − mean p_alt"}[self.summary]

    def describe(self) -> str:
        target = "" if self.target is None else f", class {self.target}"
        return f"ISM ({self.summary}{target}), {self.orientation}"

    def compute(self, model, sequences, *, batch_size, overlap, progress):
        done = 0
        for seq in sequences:
            res = saturation_mutagenesis(
                model, seq, batch_size=max(batch_size, 64), orientation=self.orientation, target=self.target
            )
            done += 1
            if progress:
                progress(done)
            yield Track(seq, res.per_position(self.summary), None, {"saturation": res})
