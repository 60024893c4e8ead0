"""Mutations page: saturation map of the selected sequence, attention beside it, user variants, before/after."""

import numpy as np
import pandas as pd
import streamlit as st

from core.lenses import Attention
from core.lenses.agreement import agreement
from core.lenses.ism import saturation_mutagenesis
from core.reports import figures as plots
from core.variants import variants as mu
from dashboard import state

st.title("Mutations")
lm = state.model()
if not lm.has_classifier:
    st.warning("This model has no classification head: mutation effects need predictions.")
    st.stop()
seq = state.select_sequence()
L = len(seq.seq)
a, b = st.slider("window (bp, 0-based, end exclusive)", 0, L, (0, min(L, 150)), key="ism_window")
if b - a < 1:
    st.stop()
target = st.selectbox("scored class", lm.label_names, index=len(lm.label_names) - 1, key="ism_target")


@st.cache_data(show_spinner=False, max_entries=16)
def ism(mkey, key, a, b, target):
    lm_ = state.load_model_cached(*mkey)
    s = state.from_key(key)[0]
    bar = st.progress(0.0, text=f"{3 * (b - a)} substitutions ...")
    res = saturation_mutagenesis(
        lm_, s, a, b, target=target, progress=lambda n: bar.progress(min(1.0, n / (3 * (b - a) + 1)))
    )
    bar.empty()
    return res


@st.cache_data(show_spinner="Scoring variants ...", max_entries=16)
def score(mkey, key, data: bytes, source):
    lm_ = state.load_model_cached(*mkey)
    items = state.from_key(key)
    variants = mu.parse_variant_bytes(data, items, source=source)  # a table or VCF (gzip, bgzip, BCF) from bytes
    return variants, mu.score_variants(lm_, items, variants)


@st.cache_data(show_spinner=False, max_entries=32)
def before_after(mkey, key, variant):
    lm_ = state.load_model_cached(*mkey)
    return mu.tracks_before_after(lm_, state.from_key(key)[0], variant)


att_lens = Attention()
try:
    res = ism(state.model_key(), state.seq_key([seq]), a, b, target)
    track = state.tracks_for(att_lens, [seq])[0][a:b]
except Exception as exc:
    state.show_error(exc)
    st.stop()
summary = res.per_position("maxabs")
ag = agreement(track, summary, top_k=10)
c1, c2, c3 = st.columns(3)
c1.metric(f"p({target}) of the reference", f"{res.p_ref:.3f}")
c2.metric(
    "attention–ISM Spearman ρ",
    f"{ag['spearman_rho']:.2f}",
    help="rank correlation between attention and max |Δp| per position: is attention a faithful explanation here?",
)
c3.metric(
    f"top-{ag['top_k']} overlap",
    f"{ag['top_k_overlap']} / {ag['top_k']}",
    help=f"random rankings would share {ag['expected_overlap_random']:.1f} on average",
)
title = f"{seq.id}: in-silico mutagenesis (Δp of {target}), bases {a}–{b - 1}, forward; above: {att_lens.describe()}"
fig = plots.plotly_mutation_map(res.effect, res.ref_seq, a, track, summary, title, score_name=att_lens.score_name)
st.plotly_chart(fig, width="stretch", key="ism_chart")
genomic = seq.genomic_positions() if seq.has_coordinates else None
state.downloads(
    f"ism_{seq.id}_{a}_{b}",
    lambda: plots.mutation_map_figure(
        res.effect, res.ref_seq, a, track, summary, title, genomic, seq.chrom, score_name=att_lens.score_name
    ),
    fig,
    key="ism",
)
state.table_downloads(res.table, f"saturation_{seq.id}", key="ism_tbl")
st.caption(
    "Δp = p_alt − p_ref of the scored class; ● marks the reference base. logOR in the table: "
    "> 0 means the substitution lowers the prediction."
)

st.subheader("Variants")
st.caption("Table: seq_id (or chrom for BED input), pos (1-based), ref, alt ('-' for none); or a VCF.")
up = st.file_uploader(
    "variant table or VCF (.vcf, .vcf.gz, .bcf)", type=["tsv", "csv", "txt", "vcf", "gz", "bcf"], key="var_up"
)
default = pd.DataFrame(
    {"seq_id": [seq.id], "pos": [a + 1], "ref": [seq.seq[a]], "alt": ["A" if seq.seq[a] != "A" else "C"]}
)
edited = st.data_editor(default, num_rows="dynamic", key="var_editor", width="stretch")
if st.button("Score variants", key="var_run") or st.session_state.get("var_done"):
    try:
        data = up.getvalue() if up is not None else edited.to_csv(sep="\t", index=False).encode()
        variants, df = score(
            state.model_key(), state.seq_key(state.seqs()), data, up.name if up is not None else "typed table"
        )
        st.session_state.var_done = True
    except Exception as exc:
        state.show_error(exc)
        st.stop()
    st.dataframe(df, hide_index=True, width="stretch", key="variants_table")
    if getattr(variants, "skipped", None):  # VCF alleles that could not be scored, and why
        counts = ", ".join(f"{why}: {n}" for why, n in variants.skip_counts().items())
        st.info(f"Skipped {len(variants.skipped)} alleles ({counts}).")
        state.table_downloads(variants.skipped_frame(), "skipped_variants", key="var_skipped")
    st.caption(
        "delta = p_alt − p_ref · diff = (p_alt − p_ref)·max(p_ref, p_alt) (> 0 raises the prediction) · "
        "logOR = log2 odds(ref) − log2 odds(alt) (> 0 lowers the prediction); probabilities clipped to "
        "[1e-6, 1 − 1e-6]."
    )
    state.table_downloads(df, "variants", key="var_tbl")
    labels = [
        f"{i + 1}: {v.seq_id} {v.offset + 1} {v.ref or '-'}>{v.alt or '-'} ({v.kind})" for i, v in enumerate(variants)
    ]
    k = labels.index(st.selectbox("attention before/after for", labels, key="var_pick"))
    v = variants[k]
    by_id = {s.id: s for s in state.seqs()}
    ba = before_after(state.model_key(), state.seq_key([by_id[v.seq_id]]), v)
    ba_title = f"{labels[k]}: {att_lens.describe()}, reference vs mutant on reference positions"
    bfig = plots.before_after_figure(
        ba.ref_track, ba.alt_on_ref, v.offset, ba_title, len(v.ref), score_name=att_lens.score_name
    )
    st.pyplot(bfig)
    plots.close(bfig)
    if len(ba.inserted):
        st.caption(
            f"{len(ba.inserted)} inserted bases after reference position {ba.inserted_after} have no "
            f"reference coordinate; their attention: {np.round(ba.inserted, 4).tolist()}"
        )
    state.downloads(
        f"before_after_{k + 1}",
        lambda: plots.before_after_figure(
            ba.ref_track, ba.alt_on_ref, v.offset, ba_title, len(v.ref), score_name=att_lens.score_name
        ),
        None,
        key="ba",
    )
