"""The lens interface: every per-nucleotide method behind one verb.

A *lens* turns (model, sequences) into one score per nucleotide. It is a small frozen dataclass that holds the
method's parameters (:class:`core.lenses.attention.Attention`, :class:`core.lenses.ism.ISM`, ...); one entry runs
any of them::

    from core.lenses import tracks, Attention, ISM
    result = tracks(model, sequences, Attention(recipe="rollout", orientation="both"))
    result["seq_1"].scores          # [L] float64, position 0 = the first base of the sequence as given

The design follows captum (one interface, many methods) and scikit-learn (one verb, the same parameter names
everywhere): ``orientation`` is how the model reads each sequence (``forward``, ``reverse``: its reverse
complement, scores mapped back to the sequence's own positions, ``both``: the two combined as the lens defines);
positions are 0-based along the sequence as given; genomic coordinates, when the sequence came from a BED
interval, come from :meth:`Track.genomic_positions`. Consumers (CLI, motifs, mutations' agreement, dashboard,
exports, benchmarks) only ever call :func:`iter_tracks` or :func:`tracks`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import ClassVar

import numpy as np

from ..errors import InputError
from ..io.sequences import Sequence

ORIENTATIONS = ("forward", "reverse", "both")


@dataclass(frozen=True)
class Lens:
    """Base class of every lens. Subclasses set ``name`` and implement :meth:`compute`."""

    name: ClassVar[str] = ""
    needs_classifier: ClassVar[bool] = False  # the lens scores a class probability
    needs_masked_lm: ClassVar[bool] = False  # the lens reads a masked-LM head
    orientation: str = "forward"

    def __post_init__(self):
        if self.orientation not in ORIENTATIONS:
            raise InputError(f"unknown orientation '{self.orientation}' (use forward, reverse or both)")

    @property
    def score_name(self) -> str:
        """What a score means, for table legends and axis labels."""
        return "score"

    def describe(self) -> str:
        """The lens and its settings in a few words, for figure titles and provenance."""
        return f"{self.name}, {self.orientation}"

    def params(self) -> dict:
        return {"lens": self.name, **asdict(self)}

    def compute(
        self,
        model,
        sequences: Iterable[Sequence],
        *,
        batch_size: int,
        overlap: int | None,
        progress: Callable[[int], None] | None,
    ) -> Iterator[Track]:
        raise NotImplementedError(f"lens '{self.name}' does not implement compute()")

    def compute_ensemble(
        self, models: list, sequences: Iterable[Sequence], *, batch_size: int, progress: Callable[[int], None] | None
    ) -> Iterator[Track]:
        raise InputError(f"the {self.name} lens has no multi-model ensemble; give one --model")


@dataclass(frozen=True)
class Track:
    """One sequence's scores under one lens.

    scores: float64 ``[L]``, ``scores[i]`` belongs to ``sequence.seq[i]`` (0-based, the sequence as given; for a
    ``-`` strand BED interval that is the reverse-complemented read, see :meth:`genomic_positions`).
    probs: class probabilities ``[C]`` when the lens computed them (else None).
    detail: lens-specific extras, e.g. ISM's per-substitution effects, IG's convergence delta.
    """

    sequence: Sequence
    scores: np.ndarray
    probs: np.ndarray | None = None
    detail: dict = field(default_factory=dict, compare=False)

    @property
    def id(self) -> str:
        return self.sequence.id

    def genomic_positions(self) -> np.ndarray | None:
        """0-based forward-strand genomic coordinate of each score (None without coordinates)."""
        return self.sequence.genomic_positions() if self.sequence.has_coordinates else None


@dataclass(frozen=True)
class Tracks:
    """Every sequence's :class:`Track` under one lens, in input order, with what produced them."""

    items: tuple[Track, ...]
    lens: Lens
    provenance: dict = field(default_factory=dict, compare=False)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Track]:
        return iter(self.items)

    def __getitem__(self, key: int | str) -> Track:
        if isinstance(key, str):
            for t in self.items:
                if t.id == key:
                    return t
            raise KeyError(key)
        return self.items[key]

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.items]

    @property
    def scores(self) -> list[np.ndarray]:
        return [t.scores for t in self.items]

    @property
    def sequences(self) -> list[Sequence]:
        return [t.sequence for t in self.items]


def provenance(models, lens: Lens) -> dict:
    """Which model(s) and lens settings produced a set of tracks."""
    models = models if isinstance(models, (list, tuple)) else [models]
    names = ", ".join(m.name for m in models)
    description = lens.describe() + (f"; ensemble of {names} (summed)" if len(models) > 1 else f"; model {names}")
    return {
        "lens": lens.params(),
        "description": description,
        "score": lens.score_name,
        "models": [{"name": m.name, "config_hash": m.config_hash} for m in models],
    }


def _check_model(model, lens: Lens) -> None:
    if lens.needs_classifier and not model.has_classifier:
        raise InputError(
            f"the {lens.name} lens scores a class probability, and model '{model.name}' has no "
            "classification head (a pre-trained-only checkpoint)"
        )
    if lens.needs_masked_lm and not model.is_masked_lm:
        raise InputError(
            f"the {lens.name} lens needs a masked-language-model head, and model '{model.name}' "
            "has none; use a pre-trained (BertForMaskedLM) checkpoint such as the demo MLM"
        )


def iter_tracks(
    model,
    sequences: Iterable[Sequence],
    lens: Lens,
    *,
    batch_size: int = 32,
    overlap: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Track]:
    """Stream one :class:`Track` per sequence, in input order (memory does not grow with the input).

    ``model``: a loaded model, or a list of them for a multi-model ensemble (lenses that define one).
    ``progress(n)`` is called with the number of sequences finished.
    """
    if batch_size < 1:
        raise InputError("batch size must be at least 1")
    if isinstance(model, (list, tuple)):
        for m in model:
            _check_model(m, lens)
        yield from lens.compute_ensemble(list(model), sequences, batch_size=batch_size, progress=progress)
        return
    _check_model(model, lens)
    yield from lens.compute(model, sequences, batch_size=batch_size, overlap=overlap, progress=progress)


def tracks(model, sequences: Iterable[Sequence], lens: Lens, **options) -> Tracks:
    """Every sequence's track under ``lens`` (see :func:`iter_tracks` for the options)."""
    return Tracks(tuple(iter_tracks(model, sequences, lens, **options)), lens, provenance(model, lens))
