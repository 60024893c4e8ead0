"""Mutations page: saturation map of the selected sequence, attention beside it, user variants, before/after."""

import streamlit as st

from core.lenses import Attention
from core.lenses.agreement import agreement
from core.lenses.ism import saturation_mutagenesis
from core.reports import figures as plots
from dashboard import state
from dashboard.variants_panel import variants_panel

st.title("Mutations")
lm = state.model()
if not lm.has_classifier:
    if not lm.is_masked_lm:
        st.warning("This model has no classification head: mutation effects need predictions.")
        st.stop()
    st.info(
        "This checkpoint is a masked LM without a classification head: no Δp or saturation map; the variants "
        "below get its zero-shot llr."
    )
    variants_panel(lm, state.select_sequence(), 0, Attention())
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
    lens=f"in-silico mutagenesis (Δp of {target}, bases {a}–{b - 1}); track above: {att_lens.describe()}",
)
state.table_downloads(
    res.table, f"saturation_{seq.id}", key="ism_tbl", lens=f"in-silico mutagenesis (Δp of {target}, bases {a}–{b - 1})"
)
st.caption(
    "Δp = p_alt − p_ref of the scored class; ● marks the reference base. logOR in the table: "
    "> 0 means the substitution lowers the prediction."
)

variants_panel(lm, seq, a, att_lens)
