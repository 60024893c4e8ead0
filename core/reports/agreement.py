"""``dnalens agreement``: which lens can I trust for this model and these sequences?

Every lens that applies to the model (all registered ones, or those asked for) is compared with in-silico
mutagenesis, the model's own answer to "which base matters" (:class:`core.lenses.ism.ISM`), per sequence (Spearman,
top-k overlap; rules in :mod:`core.lenses.agreement`) and over the set; when motif sites are known (a truth table, or
a FIMO scan of JASPAR matrices) also the fraction of sequences whose lens peak falls in a site. The output folder:

``per_sequence.csv``  one row per (sequence, lens), the reference included (``lens = ism``: its peak)
``summary.csv``       one row per lens, best first (mean Spearman with ISM), the reference last
``verdict.txt``       one line naming the lens that agrees best with ISM
``sites.csv``         the FIMO hits, when sites came from a JASPAR scan
``provenance.json``   model, every lens's settings, where the sites came from, how long each lens took
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, fields

import pandas as pd


@dataclass
class AgreementResult:
    """The tables written, the verdict, and every lens's tracks (``tracks[name]``; the reference under ``ism``), so a
    view can stack them beside the numbers without computing them again."""

    per_sequence: pd.DataFrame
    summary: pd.DataFrame
    verdict: str
    provenance: dict
    tracks: dict


def lenses_for(model, names: list[str] | None = None, build=None, *, orientation: str = "forward", target=None):
    """``({name: Lens}, {name: why skipped})``: the named lenses (default: every registered lens but ISM) that apply
    to ``model``. ``build(name) -> Lens`` makes each one (default: its defaults with the shared ``orientation`` and
    ``target``). A named lens that cannot explain the model is an error; a default one is skipped with the reason."""
    from ..errors import InputError
    from ..lenses import LENSES, make_lens

    def default_build(name):
        cls = LENSES.get(name)
        opts = {"orientation": orientation}
        if target is not None and (cls is None or "target" in {f.name for f in fields(cls)}):
            opts["target"] = target
        return make_lens(name, **opts)

    out, skipped = {}, {}
    for name in names or [n for n in LENSES if n != "ism"]:
        lens = (build or default_build)(name)
        why = None
        if lens.needs_classifier and not model.has_classifier:
            why = "needs a classification head"
        elif lens.needs_masked_lm and not model.is_masked_lm:
            why = "needs a masked-language-model head"
        elif hasattr(lens, "applies_to"):
            why = lens.applies_to(model)
        if why and names:
            raise InputError(f"lens '{name}' does not apply to model '{model.name}': {why}")
        if why:
            skipped[name] = why
        else:
            out[name] = lens
    return out, skipped


def _sites(sequences, truth, jaspar_ids, release, threshold):
    """``(sites or None, FIMO hits or None, where they came from)``."""
    from ..motifs.sites import read_sites, scan_sites

    if truth and jaspar_ids:
        from ..errors import InputError

        raise InputError("give either a truth table or JASPAR ids to scan for sites, not both")
    if truth:
        return read_sites(truth), None, f"truth table {truth}"
    if jaspar_ids:
        sites, hits = scan_sites(sequences, list(jaspar_ids), release, threshold)
        return sites, hits, f"FIMO (p < {threshold:g}) of {', '.join(jaspar_ids)} ({release or 'default release'})"
    return None, None, None


def measure_agreement(
    model,
    sequences: list,
    *,
    lenses: list[str] | None = None,
    build=None,
    orientation: str = "forward",
    target=None,
    ism_summary: str = "maxabs",
    sites: dict | None = None,
    site_source: str | None = None,
    top_k: int = 10,
    batch_size: int = 32,
    progress=None,
) -> AgreementResult:
    """Compare lenses with ISM on ``sequences`` and return the tables, verdict and tracks (nothing is written; the
    dashboard's Lenses page and :func:`agreement_report` share it). ``sites``: ``{id: [(start, end), ...]}`` known
    sites (:mod:`core.motifs.sites`), ``site_source`` says where they came from. ``progress(lens name, done,
    total)``."""
    from ..errors import InputError
    from ..lenses import ISM, tracks

    if not model.has_classifier:
        raise InputError(f"agreement is measured against ISM, which needs a classifier; model '{model.name}' has none")
    if not sequences:
        raise InputError("no sequences to compare the lenses on")
    chosen, skipped = lenses_for(model, lenses, build, orientation=orientation, target=target)
    reference_lens = ISM(orientation=orientation, summary=ism_summary, target=target)
    result_tracks, seconds = {}, {}
    for name, lens in [*chosen.items(), ("ism", reference_lens)]:
        t0 = time.time()
        step = (lambda done, name=name: progress(name, done, len(sequences))) if progress else None
        result_tracks[name] = tracks(model, sequences, lens, batch_size=batch_size, progress=step)
        seconds[name] = round(time.time() - t0, 2)
    reference = result_tracks.pop("ism")
    return agreement_from_tracks(
        result_tracks,
        reference,
        sites=sites,
        site_source=site_source,
        top_k=top_k,
        model=model,
        skipped=skipped,
        seconds=seconds,
    )


def agreement_from_tracks(
    lens_tracks: dict,
    reference,
    *,
    sites: dict | None = None,
    site_source: str | None = None,
    top_k: int = 10,
    model=None,
    skipped: dict | None = None,
    seconds: dict | None = None,
) -> AgreementResult:
    """The tables, verdict and provenance from tracks already computed (``lens_tracks``: ``{name: Tracks}``;
    ``reference``: ISM's :class:`~core.lenses.base.Tracks` of the same sequences), e.g. the dashboard's cached
    tracks. ``model`` only goes into the provenance."""
    from ..lenses.agreement import per_sequence_agreement, summarize_agreement, verdict
    from ..lenses.base import provenance

    per_seq = per_sequence_agreement(lens_tracks, reference, sites, top_k)
    descriptions = {n: t.lens.describe() for n, t in lens_tracks.items()} | {"ism": reference.lens.describe()}
    summary = summarize_agreement(per_seq, lens_tracks, reference, descriptions)
    line = verdict(summary)
    prov = {
        "model": model.card() if model is not None else None,
        "lenses": {n: provenance(model, t.lens) if model is not None else t.provenance for n, t in lens_tracks.items()},
        "reference": provenance(model, reference.lens) if model is not None else reference.provenance,
        "skipped_lenses": skipped or {},
        "sites": site_source,
        "top_k": top_k,
        "seconds": seconds or {},
        "verdict": line,
        "n_sequences": len(reference),
    }
    return AgreementResult(per_seq, summary, line, prov, {**lens_tracks, "ism": reference})


def agreement_report(
    model,
    sequences: list,
    out_dir,
    *,
    lenses: list[str] | None = None,
    build=None,
    orientation: str = "forward",
    target=None,
    ism_summary: str = "maxabs",
    truth=None,
    jaspar_ids: list[str] | None = None,
    jaspar_release: str | None = None,
    fimo_threshold: float = 1e-4,
    top_k: int = 10,
    batch_size: int = 32,
    progress=None,
    announce=None,
) -> AgreementResult:
    """Compare lenses with ISM on ``sequences`` (:func:`measure_agreement`) and write the folder (see the module
    docstring). ``lenses``/``build``: see :func:`lenses_for`; the reference is ``ISM(orientation, ism_summary,
    target)``. ``progress(stage, done, total)``; the folder appears only when everything succeeded."""
    from ..errors import InputError
    from ..io.atomic import atomic_dir

    if not model.has_classifier:
        raise InputError(f"agreement is measured against ISM, which needs a classifier; model '{model.name}' has none")
    if not sequences:
        raise InputError("no sequences to compare the lenses on")
    sites, hits, site_source = _sites(sequences, truth, jaspar_ids, jaspar_release, fimo_threshold)
    result = measure_agreement(
        model,
        sequences,
        lenses=lenses,
        build=build,
        orientation=orientation,
        target=target,
        ism_summary=ism_summary,
        sites=sites,
        site_source=site_source,
        top_k=top_k,
        batch_size=batch_size,
        progress=progress,
    )
    with atomic_dir(out_dir, announce) as tmp:
        result.per_sequence.to_csv(tmp / "per_sequence.csv", index=False)
        result.summary.to_csv(tmp / "summary.csv", index=False)
        (tmp / "verdict.txt").write_text(result.verdict + "\n")
        if hits is not None:
            hits.to_csv(tmp / "sites.csv", index=False)
        (tmp / "provenance.json").write_text(json.dumps(result.provenance, indent=2, default=str) + "\n")
    return result
