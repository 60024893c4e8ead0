"""Writing tracks and predictions: the ``dnalens tracks`` / ``attention`` / ``predict`` outputs.

A track file is written whole or not at all (a temporary sibling moved into place when the run finished). Tables
stream in chunks, so memory does not grow with the number of sequences.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from ..io.atomic import atomic_file
from ..io.sequences import Sequence
from ..io.tables import TrackWriter, format_of, predictions_frame, write_table

Progress = Callable[[int], None]


def write_tracks(
    model,
    sequences: Iterable[Sequence],
    lens,
    out: str | os.PathLike,
    *,
    n_records: int,
    max_length: int = 0,
    coordinates: bool = False,
    batch_size: int = 32,
    overlap: int | None = None,
    progress: Progress | None = None,
    announce=None,
    reference: str | os.PathLike | None = None,
    on_track: Callable | None = None,
) -> int:
    """Stream every sequence's track under ``lens`` to ``out`` (``.parquet``, ``.csv``, ``.tsv`` or ``.npy``; or
    ``.bw`` bigWig for sequences from BED intervals, chromosome sizes from ``reference``: see
    :mod:`core.io.bigwig` for the overlap rule); returns the number of sequences written.

    ``model``: one loaded model or a list (an ensemble). ``n_records``/``max_length`` size the ``.npy`` matrix
    (``[n, max_length]``, NaN past each row's end); the dnabert-viz-parity recipe writes DNABERT-viz's exact
    ``atten.npy`` rows, ``[n, T]`` float64. ``on_track(track)`` sees every track as it is written (e.g. to summarise
    integrated gradients' convergence deltas).
    """
    from ..io.bigwig import is_bigwig
    from ..lenses import iter_tracks

    if is_bigwig(out):
        tracks = iter_tracks(model, sequences, lens, batch_size=batch_size, overlap=overlap, progress=progress)
        return write_bigwig(_observed(tracks, on_track), out, reference, announce)
    fmt = format_of(out)
    parity = getattr(lens, "recipe", None) == "dnabert-viz-parity"
    width = lens.max_seq_length if (parity and fmt == "npy") else max_length
    done = 0
    with atomic_file(out, announce) as tmp:
        with TrackWriter(
            tmp,
            coordinates=coordinates,
            n_records=n_records,
            max_length=width,
            npy_dtype="float64" if parity else "float32",  # DNABERT-viz's atten.npy is float64
        ) as w:
            for t in iter_tracks(model, sequences, lens, batch_size=batch_size, overlap=overlap, progress=progress):
                w.write(t.sequence, t.detail["parity_row"] if (parity and fmt == "npy") else t.scores)
                done += 1
                if on_track:
                    on_track(t)
    return done


def _observed(tracks: Iterable, on_track: Callable | None):
    for t in tracks:
        if on_track:
            on_track(t)
        yield t


def write_bigwig(tracks: Iterable, out: str | os.PathLike, reference, announce=None) -> int:
    """Tracks of BED-derived sequences as one bigWig over ``reference``'s chromosomes; returns how many."""
    from ..errors import InputError
    from ..io.bigwig import BigWigWriter, chrom_sizes

    if reference is None:
        raise InputError("bigWig output needs the reference the intervals come from: --bed B --reference R")
    done = 0
    with atomic_file(out, announce) as tmp, BigWigWriter(tmp, chrom_sizes(reference)) as w:
        for t in tracks:
            w.write(t.sequence, t.scores)
            done += 1
    return done


def write_predictions(
    model,
    sequences: list[Sequence],
    out: str | os.PathLike,
    *,
    orientation: str = "forward",
    batch_size: int = 32,
    progress: Progress | None = None,
    announce=None,
):
    """Class probabilities of every sequence as a table (``.csv``, ``.tsv``, ``.parquet``); returns the frame.
    ``announce`` is told when an existing file will be replaced."""
    from ..errors import InputError
    from ..model.inference import run

    if not model.has_classifier:
        raise InputError(
            f"model '{model.name}' has no classification head (a pre-trained-only checkpoint): "
            "predictions are absent; the attention and masked-LM lenses still work with it"
        )
    rows = [
        (rec.sequence, rec.probs)
        for rec in run(
            model, sequences, batch_size=batch_size, orientation=orientation, attention=False, progress=progress
        )
    ]
    df = predictions_frame(rows, model.label_names)
    with atomic_file(out, announce) as tmp:
        write_table(df, tmp)
    return df
