"""Motif discovery parameters; the defaults are those of DNABERT-viz's ``find_motifs.py``."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import InputError

REGION_RULES = ("dnabert-viz", "zscore", "quantile")


@dataclass(frozen=True)
class MotifParams:
    """Parameters; defaults are those of DNABERT-viz's ``find_motifs.py``."""

    window_size: int = 24
    min_len: int = 5
    pval_cutoff: float = 0.005
    min_n_motif: int = 3
    align_all_ties: bool = False
    region_rule: str = "zscore"
    min_factor: float = 10.0
    z: float = 2.0
    quantile: float = 0.9
    both_strands: bool = True
    parity: bool = False
    end_gap_score: float = -1.0  # Biopython >= 1.86 default; 0 gives the 2021 (Biopython <= 1.85) behaviour

    def __post_init__(self):
        if self.region_rule not in REGION_RULES:
            raise InputError(f"unknown region rule '{self.region_rule}' (use {', '.join(REGION_RULES)})")
        if self.window_size < 1 or self.min_len < 1 or self.min_n_motif < 1:
            raise InputError("window size, min_len and min_n_motif must be positive")
        if not 0 < self.pval_cutoff <= 1:
            raise InputError("the p-value cutoff must be in (0, 1]")

    @classmethod
    def dnabert_viz(cls, **overrides) -> MotifParams:
        """Parity with DNABERT-viz's ``find_motifs.py`` (forward strand, its region rule, its window quirks)."""
        base = dict(parity=True, both_strands=False, region_rule="dnabert-viz")
        base.update(overrides)
        return cls(**base)


def params_dict(params: MotifParams) -> dict:
    return asdict(params)
