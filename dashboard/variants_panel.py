"""The Mutations page's variants panel: a typed table or an uploaded table/VCF, scored by the loaded classifier (Δp)
and by a masked LM's zero-shot llr beside it (the loaded model when it is a masked LM, else the demo MLM), with the
lens's before/after tracks of one variant. Widgets and calls into core only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.reports import figures as plots
from core.variants import variants as mu
from core.variants.zero_shot import INDEL_NOTE
from dashboard import jobs, state

LLR_CAPTION = (
    "llr = log P(alt) − log P(ref) at the variant (natural log) under masked LM **{mlm}**: the masked LM's "
    "distribution over A/C/G/T at that base with every token covering it masked, read on the reference sequence "
    "(< 0: the model finds the alternative less likely in this context; no classifier involved). Multi-base "
    "substitutions sum the per-base llr (masked marginals). Insertions and deletions get no llr (empty; llr_note: "
    "“" + INDEL_NOTE + "”)."
)


@st.cache_data(show_spinner=False, max_entries=16)
def score(mkey, mlm_key, key, data: bytes, source, _progress):
    """``(variants, table)``: the classifier's columns when ``mkey``, zero-shot llr beside Δp when ``mlm_key``.
    ``_progress(done, total, note)`` per batch (raises when stopped)."""
    from core.reports.mutations import variant_table

    items = state.from_key(key)
    variants = mu.parse_variant_bytes(data, items, source=source)  # a table or VCF (gzip, bgzip, BCF) from bytes
    lm_ = state.load_model_cached(*mkey) if mkey else None
    mlm = state.load_model_cached(*mlm_key) if mlm_key else None
    table = variant_table(lm_, items, variants, zero_shot=mlm, progress=lambda what, k, n: _progress(k, n, what))
    return variants, table


@st.cache_data(show_spinner=False, max_entries=32)
def before_after(mkey, key, variant, lens):
    lm_ = state.load_model_cached(*mkey)
    return mu.tracks_before_after(lm_, state.from_key(key)[0], variant, lens)


def _inputs(seq, a: int):
    """``(uploaded file or None, typed table or None)``: exactly one of them is what "Score variants" uses."""
    st.caption("Table: seq_id (or chrom for BED input), pos (1-based), ref, alt ('-' for none); or a VCF.")
    up = st.file_uploader(
        "variant table or VCF (.vcf, .vcf.gz, .bcf)", type=["tsv", "csv", "txt", "vcf", "gz", "bcf"], key="var_up"
    )
    if up is not None:
        src = st.radio(
            "variants from", [f"uploaded file ({up.name})", "typed table"], horizontal=True, key="var_src", index=0
        )
        if src.startswith("uploaded"):
            return up, None
    default = pd.DataFrame(
        {"seq_id": [seq.id], "pos": [a + 1], "ref": [seq.seq[a]], "alt": ["A" if seq.seq[a] != "A" else "C"]}
    )
    edited = st.data_editor(default, num_rows="dynamic", key="var_editor", width="stretch")
    return None, edited


def _shown(df: pd.DataFrame) -> pd.DataFrame:
    """The table as displayed: empty text cells blank (not "None")."""
    out = df.copy()
    for c in out.columns:
        if not pd.api.types.is_numeric_dtype(out[c]):
            out[c] = out[c].astype(object).where(out[c].notna(), "")
    return out


def _legend(lm, mlm_name: str | None) -> None:
    if lm.has_classifier:
        st.caption(
            "delta = Δp = p_alt − p_ref · diff = (p_alt − p_ref)·max(p_ref, p_alt) (> 0 raises the prediction) · "
            "logOR = log2 odds(ref) − log2 odds(alt) (> 0 lowers the prediction); probabilities clipped to "
            "[1e-6, 1 − 1e-6]."
        )
    if mlm_name:
        st.caption(LLR_CAPTION.format(mlm=mlm_name))


def variants_panel(lm, seq, a: int, lens) -> None:
    """The whole panel: inputs, the scored table (Δp, llr beside it), skipped VCF alleles, before/after tracks of
    one variant under ``lens``."""
    st.subheader("Variants")
    up, edited = _inputs(seq, a)
    zero_shot = lm.is_masked_lm or st.checkbox(
        "zero-shot llr from the demo masked LM beside Δp",
        value=True,
        key="var_llr",
        help="llr needs a masked-LM head; the loaded classifier has none, so the shipped demo MLM gives it",
    )
    mlm_key = state.mlm_key() if zero_shot else None
    if not (st.button("Score variants", key="var_run") or st.session_state.get("var_done")):
        return
    try:
        data = up.getvalue() if up is not None else edited.to_csv(sep="\t", index=False).encode()
        mkey = state.model_key() if lm.has_classifier else None
        source = up.name if up is not None else "typed table"
        asked = (mkey, mlm_key, state.seq_key(state.seqs()), data, source)
        variants, df = jobs.run(  # in a thread, with progress and a Stop button; stopped: the last table stays
            "variants", asked, lambda progress: score(*asked, progress), "Scoring variants", keep=True
        )
        st.session_state.var_done = True
        st.session_state.var_last = (asked[2], variants, df)
    except Exception as exc:
        state.show_error(exc)
        last = st.session_state.get("var_last")
        if not last or last[0] != state.seq_key(state.seqs()):
            st.stop()
        _, variants, df = last  # a failed scoring keeps the last results (same sequences) shown
        st.caption("Below: the results of the last scoring that succeeded.")
    config = {"class": st.column_config.TextColumn("scored class", help="the class p_ref and p_alt are of")}
    st.dataframe(_shown(df), hide_index=True, width="stretch", key="variants_table", column_config=config)
    if getattr(variants, "skipped", None):  # VCF alleles that could not be scored, and why
        counts = ", ".join(f"{why}: {n}" for why, n in variants.skip_counts().items())
        st.info(f"Skipped {len(variants.skipped)} alleles ({counts}).")
        state.table_downloads(variants.skipped_frame(), "skipped_variants", key="var_skipped")
    _legend(lm, state.load_model_cached(*mlm_key).name if mlm_key else None)
    state.table_downloads(df, "variants", key="var_tbl", lens="variant effects (Δp of the scored class; llr)")
    _before_after(variants, lens)


def _before_after(variants, lens) -> None:
    labels = [
        f"{i + 1}: {v.seq_id} {v.offset + 1} {v.ref or '-'}>{v.alt or '-'} ({v.kind})" for i, v in enumerate(variants)
    ]
    if not labels:
        return
    k = labels.index(st.selectbox(f"{lens.name} before/after for", labels, key="var_pick"))
    v = variants[k]
    by_id = {s.id: s for s in state.seqs()}
    try:
        ba = before_after(state.model_key(), state.seq_key([by_id[v.seq_id]]), v, lens)
    except Exception as exc:
        state.show_error(exc)
        return
    ba_title = f"{labels[k]}: {lens.describe()}, reference vs mutant on reference positions"

    def draw():
        return plots.before_after_figure(
            ba.ref_track, ba.alt_on_ref, v.offset, ba_title, len(v.ref), score_name=lens.score_name
        )

    bfig = draw()
    st.pyplot(bfig)
    plots.close(bfig)
    if len(ba.inserted):
        st.caption(
            f"{len(ba.inserted)} inserted bases after reference position {ba.inserted_after} have no "
            f"reference coordinate; their scores: {np.round(ba.inserted, 4).tolist()}"
        )
    state.downloads(f"before_after_{k + 1}", draw, None, key="ba", lens=lens)
