"""The motifs output folder: ``motifs.csv``, ``instances.csv``, ``candidates.csv``, ``motifs.meme``,
``tomtom.tsv``, ``stages.json`` and logos."""

from __future__ import annotations

import contextlib

import numpy as np

from ..io.tables import write_csv
from ..motifs.discover import SUPPORT_RULE, TABLE_COLUMNS, MotifResult
from ..motifs.params import params_dict

JASPAR_NAMING_Q = 0.01  # a motif is called after a JASPAR matrix only when the match's q is below this


SUMMARY_COLUMNS = [
    TABLE_COLUMNS[0],
    "label",
    *TABLE_COLUMNS[1:],
    "best_jaspar_id",
    "best_jaspar_name",
    "best_jaspar_p",
    "best_jaspar_q",
    "jaspar_match",
]


def _best_hits(tomtom) -> dict:
    """``{motif: (id, name, p, q)}``: each query's best TOMTOM target by p-value."""
    best = {}
    if tomtom is not None and len(tomtom):
        for q, g in tomtom.groupby("Query_ID", sort=False):
            r = g.sort_values("p-value").iloc[0]
            best[q] = (r["Target_ID"], r["Target_name"], r["p-value"], r["q-value"])
    return best


def summary_rows(result: MotifResult, tomtom=None) -> list[dict]:
    """``motifs.csv``'s rows (columns :data:`SUMMARY_COLUMNS`): one per motif with its best JASPAR hit, supported
    motifs first (then by q, then by instances). ``label`` is the JASPAR name and id when that hit's q < 0.01
    (``jaspar_match``), else the trimmed consensus; ``low_support`` follows
    :data:`core.motifs.discover.SUPPORT_RULE`. No pandas unless ``tomtom`` (a DataFrame) is given."""
    best = _best_hits(tomtom)
    rows = []
    for r in result.table_rows():
        hit = best.get(r["name"], (None,) * 4)
        match = f"{hit[1]} ({hit[0]})" if hit[3] is not None and hit[3] < JASPAR_NAMING_Q else ""
        r = {
            **r,
            "best_jaspar_id": hit[0],
            "best_jaspar_name": hit[1],
            "best_jaspar_p": hit[2],
            "best_jaspar_q": hit[3],
            "jaspar_match": match,
        }
        r["label"] = match or r["consensus"] or r["name"]
        rows.append({c: r[c] for c in SUMMARY_COLUMNS})
    return sorted(rows, key=lambda r: (r["low_support"], r["q"], -r["instances"]))


def motif_summary(result: MotifResult, tomtom=None):
    """:func:`summary_rows` as a DataFrame (the dashboard's table)."""
    import pandas as pd

    return pd.DataFrame(summary_rows(result, tomtom), columns=SUMMARY_COLUMNS)


def labelled_split(records: list, negatives: list | None = None) -> tuple[list, list | None, list[int]]:
    """``(positives, background or None, rows of the positives in records)``. A labelled input (DNABERT's
    ``dev.tsv``, FASTA with ``label=``) with no separate negatives is read as ``find_motifs.py`` reads ``dev.tsv``:
    the label-1 rows are the positives and the label-0 rows the background; anything else is all positives."""
    labels = {s.label for s in records}
    if negatives is None and None not in labels and {0, 1} <= labels:
        rows = [i for i, s in enumerate(records) if s.label == 1]
        return [records[i] for i in rows], [s for s in records if s.label == 0], rows
    return list(records), negatives, list(range(len(records)))


def write_report(
    result: MotifResult,
    out_dir,
    tomtom=None,
    logos: bool = True,
    formats: tuple[str, ...] = ("png",),
    extra: dict | None = None,
    logo_worker=None,
    modes: tuple[str, ...] = ("information",),
) -> dict:
    """Write ``motifs.csv``, ``instances.csv``, ``motifs.meme``, ``tomtom.tsv``, ``stages.json``, ``candidates.csv``
    and logos (``logos/<motif>_{information,probability}.<format>`` for each of ``formats``: png, svg, pdf) into
    ``out_dir``."""
    import json
    from pathlib import Path

    from ..motifs.jaspar import write_meme

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs = _logo_jobs(result.motifs, out / "logos", formats, modes) if logos else None
    if jobs and jobs[1] and logo_worker is not None:
        logo_worker.start(jobs[1])  # the helper paints the PNGs while the tables are written
    rows = summary_rows(result, tomtom)
    write_csv(out / "motifs.csv", {c: [r[c] for r in rows] for c in SUMMARY_COLUMNS})
    write_csv(out / "instances.csv", result.instance_columns())
    write_csv(out / "candidates.csv", result.candidate_columns)
    write_meme([(m.name, m.ppm, m.n_instances) for m in result.motifs], out / "motifs.meme")
    if tomtom is not None:
        tomtom.to_csv(out / "tomtom.tsv", sep="\t", index=False)
    files = _write_logos(jobs, formats, logo_worker) if jobs else []
    info = {
        "stages": result.stages,
        "explanation": result.explanation,
        "params": params_dict(result.params),
        "background": result.background,
        "pseudocount": "total 1 per column, spread evenly (0.25 per base)",
        "low_support_rule": SUPPORT_RULE,
        "jaspar_naming": f"a motif is labelled with a JASPAR name only when the match's q < {JASPAR_NAMING_Q}",
    }
    if extra:
        info.update(extra)
    (out / "stages.json").write_text(json.dumps(info, indent=2, default=str) + "\n")
    return {"motifs": len(result.motifs), "logos": len(files)}


def _logo_jobs(motifs: list, folder, formats: tuple[str, ...], modes=("information",)) -> tuple[list, list]:
    """``(logos, pngs)``: a logo per motif and mode (``information``: bits, as find_motifs.py draws one per motif;
    ``probability``) as ``(ppm, mode, title, path stem)``, and the PNG jobs among them (with their file names)."""
    from .figures import STATIC_FORMATS, safe_name

    unknown = [f for f in formats if f not in STATIC_FORMATS]
    if unknown:
        raise ValueError(f"unknown logo format(s) {', '.join(unknown)} (use {', '.join(STATIC_FORMATS)})")
    logos = [
        (m.ppm, mode, f"{m.name} ({m.n_instances} instances)", folder / f"{safe_name(m.name)}_{mode}")
        for m in motifs
        for mode in modes
    ]
    pngs = [(ppm, mode, title, f"{stem}.png") for ppm, mode, title, stem in logos] if "png" in formats else []
    return logos, pngs


def _write_logos(jobs: tuple[list, list], formats: tuple[str, ...], worker=None) -> list[str]:
    """Write the logos of :func:`_logo_jobs` in each of ``formats``; PNGs through the fast batch writer, or taken
    from the helper process ``worker`` (a :class:`core.reports.logos.LogoWorker` already started on them)."""
    from .figures import logo_figure, save_figure
    from .logos import write_logo_pngs

    logos, pngs = jobs
    files = []
    for fmt in (f for f in formats if f != "png"):
        files += [save_figure(logo_figure(ppm, mode, title), f"{stem}.{fmt}") for ppm, mode, title, stem in logos]
    files += worker.finish() if worker is not None else write_logo_pngs(pngs)
    return [str(f) for f in files]


def motif_scores(result_tracks) -> tuple[list, dict]:
    """``(score arrays, what was done)``: the scores motif discovery reads from a lens's
    :class:`~core.lenses.base.Tracks`: DNABERT-viz's ``atten.npy`` row for the parity recipe, the positive part of
    signed lenses (see :func:`motifs_report`), the tracks otherwise."""
    lens = result_tracks.lens
    scores = result_tracks.scores
    info = {}
    if getattr(lens, "recipe", None) == "dnabert-viz-parity":  # find_motifs.py: atten row [0:len(seq)]
        scores = [t.detail["parity_row"][: len(t.sequence.seq)] for t in result_tracks]
    if getattr(lens, "signed", False):  # attributions: regions from the part that supports the target class
        scores = [np.clip(s, 0.0, None) for s in scores]
        info["signed_scores"] = "positive part used (bases pushing the prediction toward the target class)"
    info["scores"] = result_tracks.provenance
    return scores, info


def discover_from_tracks(result_tracks, negatives: list[str] | None = None, params=None, jaspar_release=None, seed=0):
    """``(result, tomtom or None)`` from a lens's tracks of the positives, nothing written (the dashboard's Sets
    page): :func:`motif_scores`, the background (``negatives``' bases, or one dinucleotide-shuffled copy of each
    positive), discovery and, with ``jaspar_release``, TOMTOM against JASPAR CORE vertebrates."""
    from ..motifs import MotifParams, discover_motifs, shuffled_background
    from ..motifs.jaspar import match_jaspar

    seqs = result_tracks.sequences
    scores, _ = motif_scores(result_tracks)
    neg = list(negatives) if negatives is not None else shuffled_background([s.seq for s in seqs], copies=1, seed=seed)
    result = discover_motifs([s.seq for s in seqs], scores, neg, params or MotifParams(), pos_ids=[s.id for s in seqs])
    result.background = f"{len(neg)} negatives" if negatives is not None else "dinucleotide-shuffled positives"
    tomtom = match_jaspar(result, jaspar_release) if (result.motifs and jaspar_release) else None
    return result, tomtom


def motifs_report(
    positives: list,
    out_dir,
    *,
    scores: list | None = None,
    model=None,
    lens=None,
    negatives: list | None = None,
    params=None,
    jaspar_release: str | None = None,
    shuffle_copies: int = 1,
    seed: int = 0,
    batch_size: int = 32,
    progress=None,
    announce=None,
    extra: dict | None = None,
    logo_formats: tuple[str, ...] = ("png",),
    logo_worker=None,
    logo_modes: tuple[str, ...] = ("information",),
):
    """The whole ``dnalens motifs`` run: tracks of the positives under ``lens`` (unless ``scores`` are given),
    the background (``negatives`` or dinucleotide-shuffled positives), discovery, JASPAR matches, and the output
    folder, which appears only when everything succeeded. Returns ``(result, tomtom or None)``.

    Signed lenses (attributions) are searched on their positive part, ``max(score, 0)``: the bases that push the
    prediction toward the target class (``--target`` picks another class). Every region rule then works as on
    attention (the dnabert-viz rule's ``min_factor x min`` would otherwise be a large negative number)."""
    from ..io.atomic import atomic_dir
    from ..motifs import MotifParams, discover_motifs, shuffled_background
    from ..motifs.jaspar import match_jaspar

    params = params or MotifParams()
    # with given scores, the logo helper starts now (unless the caller started it): its imports overlap discovery
    worker = logo_worker
    if worker is None and scores is not None:
        from .logos import start_logo_worker

        worker = start_logo_worker(tuple(logo_formats), params.window_size, tuple(logo_modes))
    if negatives is None:
        neg = shuffled_background([s.seq for s in positives], copies=shuffle_copies, seed=seed)
        background = f"dinucleotide-shuffled positives ({shuffle_copies} per positive, seed {seed})"
    else:
        neg, background = [s.seq for s in negatives], f"{len(negatives)} negatives"
    info = dict(extra or {})
    if scores is None:
        from ..lenses import Attention, tracks  # only with a model: the lenses import torch

        lens = lens or Attention()
        result_tracks = tracks(model, positives, lens, batch_size=batch_size, progress=progress)
        scores, how = motif_scores(result_tracks)
        info.update(how)
    result = discover_motifs([s.seq for s in positives], scores, neg, params, pos_ids=[s.id for s in positives])
    result.background = background
    tomtom = match_jaspar(result, jaspar_release) if (result.motifs and jaspar_release) else None
    info["jaspar_release"] = jaspar_release
    with worker or contextlib.nullcontext(), atomic_dir(out_dir, announce) as tmp:
        write_report(
            result, tmp, tomtom, formats=tuple(logo_formats), extra=info, logo_worker=worker, modes=tuple(logo_modes)
        )
    return result, tomtom
