"""Background sequences: dinucleotide-shuffled positives (Altschul & Erikson 1985)."""

from __future__ import annotations

import random
from collections.abc import Sequence as SeqType

from ..io.shuffle import dinucleotide_shuffle


def shuffled_background(seqs: SeqType[str], copies: int = 1, seed: int = 0) -> list[str]:
    """Dinucleotide-shuffled copies of ``seqs`` (the default background)."""
    rng = random.Random(seed)
    return [dinucleotide_shuffle(s, rng) for _ in range(copies) for s in seqs]
