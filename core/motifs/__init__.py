"""Motif discovery from per-nucleotide tracks (any lens): regions -> enrichment -> merging -> windows -> PWMs ->
JASPAR. The stages live in their own modules; :func:`discover_motifs` runs them in order."""

from .background import dinucleotide_shuffle, shuffled_background
from .discover import Motif, MotifResult, discover_motifs
from .params import MotifParams, params_dict

__all__ = [
    "Motif",
    "MotifParams",
    "MotifResult",
    "discover_motifs",
    "dinucleotide_shuffle",
    "params_dict",
    "shuffled_background",
]
