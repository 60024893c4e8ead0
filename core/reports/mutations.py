"""The mutation output folders: saturation maps (``dnalens mutate``) and scored variants (``dnalens variants``)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..io.atomic import atomic_dir
from ..io.sequences import Sequence
from ..io.tables import write_table

LEGEND = (
    "Columns: p_ref / p_alt = probability of the scored class for the reference / mutant sequence; "
    "delta = p_alt - p_ref; diff = (p_alt - p_ref) * max(p_ref, p_alt) (DNABERT-viz; > 0: the variant RAISES "
    "the prediction); logOR = log2 odds(p_ref) - log2 odds(p_alt) (DNABERT-viz; > 0: the variant LOWERS the "
    "prediction). Probabilities are clipped to [1e-6, 1 - 1e-6]. Positions: 'position' is always 0-based "
    "along the sequence as read by the model; 'pos' is 1-based, as in the input variant table or VCF; "
    "'genomic_position' is 0-based on the forward strand; 'genomic' is chrom:pos (1-based, VCF).\n"
)

Progress = Callable[[str, int, int], None]


def _write_tables(df: pd.DataFrame, out: Path, stem: str) -> None:
    write_table(df, out / f"{stem}.csv")
    write_table(df, out / f"{stem}.parquet")
    (out / "LEGEND.txt").write_text(LEGEND)


def _save_all(fig, folder: Path, name: str) -> None:
    from .figures import close, safe_name, save_figure

    for fmt in ("png", "svg", "pdf"):
        save_figure(fig, folder / f"{safe_name(name)}.{fmt}")
    close(fig)


def _map_figure(model, s: Sequence, res, track, summary, start: int, title_lens: str, rho: float):
    from .figures import mutation_map_figure

    return mutation_map_figure(
        res.effect,
        res.ref_seq,
        start,
        attention=track,
        summary=summary,
        title=f"{s.id}: in-silico mutagenesis ({model.label_names[res.target]}), {title_lens} vs ISM Spearman {rho:.2f}",
        genomic=s.genomic_positions() if s.has_coordinates else None,
        chrom=s.chrom,
    )


def saturation_report(
    model,
    seqs: list[Sequence],
    out: str | os.PathLike,
    *,
    start: int = 0,
    end: int | None = None,
    orientation: str = "forward",
    target=None,
    top_k: int = 10,
    max_figures: int = 20,
    batch_size: int = 64,
    progress: Progress | None = None,
    announce=None,
) -> pd.DataFrame:
    """ISM of every sequence (window ``[start, end)``), the attention track beside it and their agreement:
    ``saturation.csv/.parquet``, ``agreement.csv``, ``maps/<id>.{png,svg,pdf}``, ``run.json``. Returns the
    agreement table."""
    from ..lenses import Attention, tracks
    from ..lenses.agreement import agreement
    from ..lenses.ism import saturation_mutagenesis

    attention = tracks(model, seqs, Attention(orientation=orientation))
    tables, agree = [], []
    with atomic_dir(out, announce) as tmp:
        for n, (s, att) in enumerate(zip(seqs, attention)):
            stop = len(s.seq) if end is None else end
            report = (lambda k, s=s, m=3 * (stop - start) + 1: progress(f"ISM {s.id}", k, m)) if progress else None
            res = saturation_mutagenesis(
                model, s, start, stop, batch_size=batch_size, orientation=orientation, target=target, progress=report
            )
            track, summary = att.scores[start:stop], res.per_position("maxabs")
            ag = agreement(track, summary, top_k)
            agree.append(
                {
                    "id": s.id,
                    "start": start,
                    "end": stop,
                    "p_ref": res.p_ref,
                    "class": model.label_names[res.target],
                    **ag,
                }
            )
            tables.append(res.table)
            if n < max_figures:
                fig = _map_figure(model, s, res, track, summary, start, attention.lens.describe(), ag["spearman_rho"])
                _save_all(fig, tmp / "maps", s.id)
        _write_tables(pd.concat(tables, ignore_index=True), tmp, "saturation")
        agree_df = pd.DataFrame(agree)
        agree_df.to_csv(tmp / "agreement.csv", index=False)
        run = {
            "model": model.card(),
            "orientation": orientation,
            "start": start,
            "end": end,
            "top_k": top_k,
            "attention": attention.lens.params(),
        }
        (tmp / "run.json").write_text(json.dumps(run, indent=2, default=str))
    return agree_df


def _with_zero_shot(df, mlm, seqs, variants, orientation: str, progress) -> pd.DataFrame:
    """The zero-shot columns of :func:`core.variants.zero_shot.zero_shot_scores`, alone or beside ``df`` (``llr``
    right after ``delta``, the other zero-shot columns at the end)."""
    from ..variants.zero_shot import zero_shot_scores

    n = len({v.seq_id for v in variants})
    zs = zero_shot_scores(
        mlm,
        seqs,
        variants,
        orientation=orientation,
        progress=(lambda k: progress("zero-shot", k, n)) if progress else None,
    )
    if df is None:
        return zs
    cols = ["mlm_p_ref", "mlm_p_alt", "llr", "llr_note", "mlm_model"]
    out = df.assign(**{c: zs[c].to_numpy() for c in cols})
    if "delta" in out.columns:
        order = [c for c in out.columns if c != "llr"]
        order.insert(order.index("delta") + 1, "llr")
        out = out[order]
    return out


def variant_table(
    model,
    seqs: list[Sequence],
    variants: list,
    *,
    zero_shot=None,
    orientation: str = "forward",
    target=None,
    batch_size: int = 64,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """The scored variants (nothing written): the classifier's columns (``p_ref``, ``p_alt``, ``delta`` = Δp, ``diff``,
    ``logOR``; :func:`core.variants.variants.score_variants`) when ``model`` is given, and the zero-shot columns
    (``llr`` beside ``delta``; :mod:`core.variants.zero_shot`) when ``zero_shot`` (a masked LM) is; at least one."""
    from ..errors import InputError
    from ..variants.variants import score_variants

    if model is None and zero_shot is None:
        raise InputError("scoring variants needs a classifier or a masked LM (zero-shot)")
    total = len(variants) + len({v.seq_id for v in variants})
    df = None
    if model is not None:
        df = score_variants(
            model,
            seqs,
            variants,
            batch_size=batch_size,
            orientation=orientation,
            target=target,
            progress=(lambda k: progress("variants", k, total)) if progress else None,
        )
    if zero_shot is not None:
        df = _with_zero_shot(df, zero_shot, seqs, variants, orientation, progress)
    return df


def variants_report(
    model,
    seqs: list[Sequence],
    variants: list,
    out: str | os.PathLike,
    *,
    orientation: str = "forward",
    target=None,
    max_figures: int = 20,
    batch_size: int = 64,
    progress: Progress | None = None,
    announce=None,
    zero_shot=None,
) -> pd.DataFrame:
    """Score ``variants`` on ``seqs``: ``variants.csv/.parquet``, ``LEGEND.txt``, attention before/after figures
    (``before_after/``) and, for :class:`core.variants.variants.Variants`, ``skipped.tsv`` (the input alleles
    that were not scored and why). Returns the table. ``zero_shot``: a masked LM whose zero-shot columns (``llr``
    ...; :mod:`core.variants.zero_shot`) are added; ``model`` may then be None (no classifier columns, no
    before/after figures)."""
    from ..lenses import Attention
    from ..variants.variants import tracks_before_after
    from .figures import before_after_figure

    df = variant_table(
        model,
        seqs,
        variants,
        zero_shot=zero_shot,
        orientation=orientation,
        target=target,
        batch_size=batch_size,
        progress=progress,
    )
    by_id = {s.id: s for s in seqs}
    lens = Attention(orientation=orientation)
    with atomic_dir(out, announce) as tmp:
        _write_tables(df, tmp, "variants")
        if zero_shot is not None:
            from ..variants.zero_shot import LEGEND as ZERO_SHOT_LEGEND

            (tmp / "LEGEND.txt").write_text((LEGEND if model is not None else "") + ZERO_SHOT_LEGEND)
        if hasattr(variants, "skipped_frame"):  # what the input held but could not be scored, and why
            variants.skipped_frame().to_csv(tmp / "skipped.tsv", sep="\t", index=False)
        for k, v in enumerate(variants[:max_figures] if model is not None else []):
            ba = tracks_before_after(model, by_id[v.seq_id], v, lens)
            _save_all(
                before_after_figure(
                    ba.ref_track,
                    ba.alt_on_ref,
                    v.offset,
                    title=f"{v.seq_id} {v.offset + 1} {v.ref or '-'}>{v.alt or '-'} ({v.kind}): "
                    f"Δp {df.loc[k, 'delta']:+.3f}; {lens.describe()}",
                    ref_len_marked=len(v.ref),
                ),
                tmp / "before_after",
                f"{k + 1:03d}_{v.seq_id}_{v.offset + 1}",
            )
    return df
