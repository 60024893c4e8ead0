"""Lenses: every per-nucleotide method behind one interface (see :mod:`core.lenses.base`).

``tracks(model, sequences, lens) -> Tracks`` and its streaming twin ``iter_tracks`` are the only way consumers turn
a model into nucleotide scores. :func:`make_lens` builds a lens from its name (``attention``, ``ism``, the attribution
lenses ``grad-input``, ``ig``, ``expected-gradients`` (:mod:`core.lenses.attribution`), the masked-LM lens
``mlm`` (:mod:`core.lenses.mlm`) and the attention presets ``dnabert-viz``, ``dnabert-viz-parity``, ``rollout``) and options.
"""

from __future__ import annotations

from .attention import PRESETS as ATTENTION_PRESETS
from .attention import Attention
from .attribution import NOT_PROVIDED, ExpectedGradients, GradInput, IntegratedGradients
from .base import ORIENTATIONS, Lens, Track, Tracks, iter_tracks, tracks
from .ism import ISM
from .mlm import MLM

LENSES: dict[str, type[Lens]] = {
    "attention": Attention,
    "ism": ISM,
    "grad-input": GradInput,
    "ig": IntegratedGradients,
    "expected-gradients": ExpectedGradients,
    "mlm": MLM,
}


def lens_names() -> list[str]:
    """Every name :func:`make_lens` accepts."""
    return list(LENSES) + list(ATTENTION_PRESETS)


def make_lens(name: str, **options) -> Lens:
    """A lens from its name and options (unknown option names are refused by the dataclass)."""
    from ..errors import InputError

    if name in ATTENTION_PRESETS:
        return Attention(**{**ATTENTION_PRESETS[name], **options})
    if name in NOT_PROVIDED:
        raise InputError(NOT_PROVIDED[name])
    if name not in LENSES:
        raise InputError(f"unknown lens '{name}' (use one of {', '.join(lens_names())})")
    try:
        return LENSES[name](**options)
    except TypeError as exc:
        raise InputError(f"lens '{name}': {exc}") from None


__all__ = [
    "ORIENTATIONS",
    "Attention",
    "ExpectedGradients",
    "GradInput",
    "ISM",
    "IntegratedGradients",
    "LENSES",
    "Lens",
    "MLM",
    "Track",
    "Tracks",
    "iter_tracks",
    "lens_names",
    "make_lens",
    "tracks",
]
