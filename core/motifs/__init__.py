"""Motif discovery from per-nucleotide tracks (any lens): regions -> enrichment -> merging -> windows -> PWMs ->
JASPAR. The stages live in their own modules; :func:`discover_motifs` runs them in order."""

from .background import dinucleotide_shuffle, shuffled_background
from .params import MotifParams, params_dict

_DISCOVER = ("Motif", "MotifResult", "discover_motifs")


def __getattr__(name: str):
    """The discovery names on first use: ``core.motifs.discover`` imports pandas (~0.3 s), which reading the
    parameters (``MotifParams``) does not need."""
    if name in _DISCOVER:
        from . import discover

        return getattr(discover, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Motif",
    "MotifParams",
    "MotifResult",
    "discover_motifs",
    "dinucleotide_shuffle",
    "params_dict",
    "shuffled_background",
]
