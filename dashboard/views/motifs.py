"""Motifs page: positives and background, DNABERT-viz parameters, run, table with JASPAR matches, logos, instances."""

import html

import streamlit as st

from core import motifs as mt
from core.motifs.discover import SUPPORT_RULE
from core.motifs.jaspar import meme_text
from core.reports import figures as plots
from core.reports.motifs import motif_summary
from dashboard import jobs, state

st.title("Motifs")
lm = state.model()
seqs = state.seqs()
preds = state.predictions()
ids = [s.id for s in seqs]

c1, c2 = st.columns(2)
how = c1.radio(
    "positives", ["label = 1", "prediction ≥ threshold", "chosen sequences"], key="mt_pos", persist_state="session"
)
if how == "label = 1":
    pos = [s for s in seqs if s.label == 1]
elif how == "prediction ≥ threshold":
    if not preds:
        st.warning("The model has no classification head; choose positives by label or by hand.")
        st.stop()
    thr = c1.slider("threshold", 0.0, 1.0, 0.5, 0.01, key="mt_thr", persist_state="session")
    pos = [s for s in seqs if preds[s.id][-1] >= thr]
else:
    chosen = c1.multiselect("sequences", ids, default=ids[: min(10, len(ids))], key="mt_ids")
    pos = [s for s in seqs if s.id in set(chosen)]
bg = c2.radio(
    "background",
    ["dinucleotide-shuffled positives", "loaded negatives (label = 0)", "loaded sequences that are not positives"],
    key="mt_bg",
    persist_state="session",
)
pos_ids = {s.id for s in pos}
if bg.startswith("loaded negatives"):
    neg = [s.seq for s in seqs if s.label == 0]
elif bg.startswith("loaded sequences"):
    neg = [s.seq for s in seqs if s.id not in pos_ids]
else:
    neg = mt.shuffled_background([s.seq for s in pos], copies=2, seed=0)
c2.caption(f"{len(pos)} positives, {len(neg)} background sequences")

with st.expander("parameters (DNABERT-viz defaults)", expanded=False):
    p1, p2, p3, p4 = st.columns(4)
    window = p1.number_input("window size", 4, 200, 24, key="mt_w", persist_state="session")
    min_len = p2.number_input("min region length", 2, 50, 5, key="mt_minlen", persist_state="session")
    cutoff = p3.number_input("q-value cutoff", 1e-10, 1.0, 0.005, format="%.4f", key="mt_cut", persist_state="session")
    min_n = p4.number_input("min instances", 1, 1000, 3, key="mt_minn", persist_state="session")
    p5, p6, p7 = st.columns(3)
    parity = p5.checkbox(
        "DNABERT-viz parity mode",
        key="mt_parity",
        persist_state="session",
        help="reproduce motif_analysis exactly (forward strand, its quirks)",
    )
    rule = p6.selectbox(
        "region rule", ["zscore", "dnabert-viz", "quantile"], key="mt_rule", persist_state="session", disabled=parity
    )
    release = p7.selectbox(
        "JASPAR release",
        ["JASPAR2026", "JASPAR2024", "JASPAR2022", "JASPAR2020"],
        key="mt_release",
        persist_state="session",
    )


@st.cache_data(show_spinner=False, max_entries=8)
def discover(mkey, pos_key, neg, params, release, lens, _progress):
    """(motifs, TOMTOM table) from ``lens``'s tracks of the positives (a signed lens: its positive part, as
    ``dnalens motifs --lens``); ``_progress(done, total, note)`` between the stages (raises when stopped)."""
    from core.motifs.jaspar import match_jaspar
    from core.reports.motifs import motif_scores

    items = state.from_key(pos_key)
    n = len(items)
    _progress(0, n + 2, lens.name)
    tracks = state.lens_tracks(mkey, pos_key, lens, lambda k: _progress(k, n + 2, lens.name))
    scores, _ = motif_scores(tracks)
    _progress(n, n + 2, "regions → enrichment → merging")
    res = mt.discover_motifs([s.seq for s in items], scores, list(neg), params, pos_ids=[s.id for s in items])
    _progress(n + 1, n + 2, "JASPAR")
    tomtom = match_jaspar(res, release) if res.motifs else None
    return res, tomtom


def model_calls(lens, items) -> str:
    """About how many model calls ``lens`` costs on ``items`` (forward passes; attributions also one backward)."""
    bases = sum(len(s.seq) for s in items)
    per = {
        "attention": len(items),
        "ism": 3 * bases + len(items),
        "grad-input": len(items),
        "ig": len(items) * getattr(lens, "n_steps", 1),
        "expected-gradients": len(items) * getattr(lens, "n_steps", 1) * getattr(lens, "shuffles", 1),
    }.get(lens.name)
    if per is None:
        return "several model calls per base"
    return f"about {per * (2 if lens.orientation == 'both' else 1):,} model calls"


lens = state.current_lens()
st.caption(
    f"regions from: **{lens.describe()}** (the sidebar's lens; {model_calls(lens, pos)} on the {len(pos)} positives"
    + (
        "; signed: its positive part, the bases pushing toward the scored class"
        if getattr(lens, "signed", False)
        else ""
    )
    + ")"
)

params = (
    mt.MotifParams.dnabert_viz(
        window_size=int(window), min_len=int(min_len), pval_cutoff=float(cutoff), min_n_motif=int(min_n)
    )
    if parity
    else mt.MotifParams(
        window_size=int(window),
        min_len=int(min_len),
        pval_cutoff=float(cutoff),
        min_n_motif=int(min_n),
        region_rule=rule,
    )
)
if st.button("Find motifs", type="primary", key="mt_run") or st.session_state.get("mt_done"):
    if not pos:
        st.error("No positive sequences with this choice.")
        st.stop()
    asked = (state.model_key(), state.seq_key(pos), tuple(neg), params, release, lens)
    try:  # in a thread, with progress and a Stop button; a stopped run keeps the motifs shown before
        res, tomtom = jobs.run(
            "motifs",
            asked,
            lambda progress: discover(*asked, progress),
            f"Finding motifs: {lens.describe()} → regions → enrichment → merging → JASPAR",
            keep=True,
        )
        st.session_state.mt_done = True
    except Exception as exc:
        state.show_error(exc)
        st.stop()
    if not jobs.current("motifs").stopped:
        st.session_state.params["motifs"] = {
            **mt.params_dict(params),
            "jaspar_release": release,
            "background": bg,
            "positives": how,
            "lens": lens.describe(),
        }
        st.session_state.motif_run = {  # the Sets page shows these motifs beside their JASPAR matches
            "result": res,
            "tomtom": tomtom,
            "lens": lens.describe(),
            "lens_params": lens,
            "model": state.model_key(),
            "release": release,
        }
    stg = res.stages
    cols = st.columns(6)
    for col, (k, v) in zip(
        cols,
        [
            ("regions", stg["regions"]),
            ("candidates", stg["candidates"]),
            ("passing FDR", stg["passing_fdr"]),
            ("merged", stg["merged"]),
            ("consolidated", stg.get("consolidated", stg["merged"])),
            ("kept", stg["kept"]),
        ],
    ):
        col.metric(k, v)
    if not res.motifs:
        st.warning(f"No motifs: {res.explanation}")
        st.stop()
    summary = motif_summary(res, tomtom)  # supported motifs first
    n_low = int(summary["low_support"].sum())
    st.caption(
        f"{len(summary) - n_low} supported, {n_low} with low support ({SUPPORT_RULE}). A motif is named after a "
        "JASPAR matrix (label, jaspar_match) only when the match's q < 0.01; consensus: the informative core."
    )
    st.dataframe(
        summary,
        width="stretch",
        hide_index=True,
        key="motif_table",
        column_config={
            **state.pvalue_columns(summary),
            "low_support": st.column_config.CheckboxColumn("low support", help=SUPPORT_RULE),
        },
    )
    state.table_downloads(summary, "motifs", key="motifs_tbl")
    inst = res.instances()
    state.table_downloads(inst, "instances", key="inst_tbl")
    meme = meme_text([(m.name, m.ppm, m.n_instances) for m in res.motifs])
    st.download_button(
        "motifs.meme", meme, file_name="motifs.meme", mime="text/plain", key="dl_meme", on_click="ignore"
    )
    st.session_state.setdefault("texts", {})["motifs.meme"] = meme
    if tomtom is not None:
        st.session_state.tables["tomtom"] = tomtom

    by_name = {m.name: m for m in res.motifs}
    shown = {r.name: f"{r.label}{' (low support)' if r.low_support else ''}" for r in summary.itertuples()}
    c1, c2 = st.columns([2, 1])
    pick = c1.selectbox("motif", list(shown), format_func=shown.get, key="mt_pick")
    mode = c2.radio("logo", ["information", "probability"], horizontal=True, key="mt_logo", persist_state="session")
    m = by_name[pick]
    logo_title = (
        f"{shown[pick]}: {m.n_instances} instances in {m.n_sequences} sequences · regions from {lens.describe()}"
    )
    fig = plots.logo_figure(m.ppm, mode, title=logo_title)
    st.pyplot(fig)
    plots.close(fig)
    state.downloads(f"logo_{m.name}_{mode}", lambda: plots.logo_figure(m.ppm, mode, title=logo_title), None, key="logo")
    if tomtom is not None:
        st.dataframe(
            tomtom[tomtom["Query_ID"] == m.name],
            hide_index=True,
            width="stretch",
            column_config=state.pvalue_columns(tomtom),
            key="tomtom_table",
        )
    st.markdown("**Instances on their sequences** (motif core highlighted, window underlined)")
    seq_of = {s.id: s.seq for s in pos}
    rows = []
    for r in m.instances.head(25).itertuples():
        s = seq_of[r.sequence_id]
        a, b = max(0, r.start), min(len(s), r.end)
        cs, ce = max(0, r.core_start), min(len(s), r.core_end)
        parts = [
            html.escape(s[:a]),
            "<u>",
            html.escape(s[a:cs]),
            "<mark>",
            html.escape(s[cs:ce]),
            "</mark>",
            html.escape(s[ce:b]),
            "</u>",
            html.escape(s[b:]),
        ]
        rows.append(
            f"<div style='font-family:monospace;font-size:12px;white-space:nowrap'>"
            f"{html.escape(r.sequence_id)} ({r.strand}) {''.join(parts)}</div>"
        )
    st.markdown("".join(rows), unsafe_allow_html=True)
