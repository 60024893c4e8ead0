"""Lenses page: every lens that applies to the model on the selected sequence, stacked on one position axis, beside
their agreement with ISM (this sequence, and over the set with the verdict); known sites (a truth table or a FIMO scan
of JASPAR matrices) shaded and scored as peak-in-site; the nucleotide dependency map of a window (masked LM)."""

import numpy as np
import streamlit as st

from core.lenses import ISM, MLM, make_lens
from core.lenses.agreement import agreement, importance, is_signed
from core.reports import lens_figures as lf
from core.reports.agreement import agreement_from_tracks, lenses_for
from core.reports.dependency import dependency_figure, plotly_dependency
from dashboard import jobs, state

ss = st.session_state
st.title("Lenses")
st.caption(
    "Every per-nucleotide method that applies to the loaded model, on one sequence, and how far each agrees with "
    "in-silico mutagenesis (ISM: the model's own answer to which base matters). Orientation, scored class and the "
    "options of the lens chosen in the sidebar apply here; the other lenses use their defaults."
)
lm = state.model()
seqs = state.seqs()
seq = state.select_sequence()
current = state.current_lens()
orientation = current.orientation
target = getattr(current, "target", None)
ism_lens = current if isinstance(current, ISM) else ISM(orientation=orientation, target=target)


def build(name: str):
    """The sidebar's lens when it is this one; else the lens's defaults with the shared orientation and class."""
    if name == current.name:
        return current
    opts = {"orientation": orientation}
    if target is not None and name != "attention":
        opts["target"] = target
    return make_lens(name, **opts)


chosen, skipped = lenses_for(lm, None, build)
c1, c2, c3 = st.columns([3, 1, 2])
names = c1.multiselect("lenses", list(chosen), default=list(chosen), key="lens_pick")
top_k = int(c2.number_input("top-k", 1, 100, 10, key="lens_topk", help="positions compared in the top-k overlap"))
site_how = c3.selectbox(
    "known sites",
    ["none", "sample truth.tsv", "upload a truth table", "JASPAR scan (FIMO)"],
    key="lens_sites",
    help="peak-in-site: does the lens's highest base fall in a known motif site? sample truth.tsv: where the sample "
    "data's motifs were planted",
)
if skipped:
    st.caption("Not shown: " + "; ".join(f"{n} ({why})" for n, why in skipped.items()))
lenses = {n: chosen[n] for n in names}


@st.cache_data(show_spinner="Scanning for JASPAR sites (FIMO) ...", max_entries=16)
def fimo_sites(key, ids: tuple, threshold: float):
    from core.motifs.sites import scan_sites

    return scan_sites(state.from_key(key), list(ids), None, threshold)


def _cells(values, fmt: str) -> list[str]:
    """Table cells as text: ``fmt`` for a number, "–" where there is none (NaN / None)."""
    return ["–" if v is None or v != v else fmt.format(v) for v in values]


def known_sites(items):
    """``(sites or None, where they came from)`` for ``items`` from the chosen source."""
    from core.motifs.sites import parse_sites, read_sites
    from core.paths import SAMPLE_DATA

    if site_how == "sample truth.tsv":
        return read_sites(SAMPLE_DATA / "truth.tsv"), "the sample data's truth.tsv"
    if site_how == "upload a truth table":
        up = st.file_uploader("truth table: id, start, end (0-based, half-open)", ["tsv", "csv", "txt"], key="lens_up")
        if up is None:
            return None, None
        return parse_sites(up.getvalue().decode("utf-8-sig"), up.name), f"truth table {up.name}"
    if site_how == "JASPAR scan (FIMO)":
        s1, s2 = st.columns(2)
        ids = tuple(i.strip() for i in s1.text_input("JASPAR ids", "MA0139.2, MA0108.3", key="lens_jaspar").split(","))
        thr = float(s2.select_slider("FIMO p <", [1e-5, 1e-4, 1e-3], 1e-4, key="lens_fimo_p"))
        sites, _ = fimo_sites(state.seq_key(items), tuple(i for i in ids if i), thr)
        return sites, f"FIMO (p < {thr:g}) of {', '.join(ids)}"
    return None, None


def lens_tracks(items, todo: dict, mkey=None):
    """``{name: Tracks}`` of every lens in ``todo`` on ``items`` (cached by model, sequences and lens), with a line
    saying which lens runs."""
    note = st.empty()
    out = {}
    for i, (name, lens) in enumerate(todo.items(), start=1):
        note.caption(f"lens {i} of {len(todo)}: {lens.describe()}")
        out[name] = state.lens_tracks(mkey or state.model_key(), state.seq_key(items), lens)
    note.empty()
    return out


try:
    sites, site_source = known_sites(seqs)
except Exception as exc:
    state.show_error(exc)
    sites, site_source = None, None
mine = {seq.id: sites[seq.id]} if sites and seq.id in sites else None

# ---- the selected sequence: every lens stacked, agreement beside
try:
    got = lens_tracks([seq], lenses | ({"ism": ism_lens} if lm.has_classifier else {}))
except Exception as exc:
    state.show_error(exc)
    st.stop()
with_mlm = (not lm.is_masked_lm) and st.checkbox(
    "also stack the masked-LM track of the demo MLM (another model: beside the numbers, not in the verdict)",
    key="lens_mlm",
)
extra = {}
if with_mlm:
    mlm = MLM(orientation=orientation)
    extra = {"mlm (demo-mlm)": lens_tracks([seq], {"mlm": mlm}, state.mlm_key())["mlm"]}

result = None
if lm.has_classifier and lenses:
    ref = got.pop("ism")
    result = agreement_from_tracks(got, ref, sites=mine, site_source=site_source, top_k=top_k, model=lm)
    got["ism"] = ref
rows_by = {} if result is None else {r.lens: r for r in result.per_sequence.itertuples()}
stack = []
for name, trs in {**got, **extra}.items():
    r = rows_by.get(name)
    note = ""
    if r is not None and name != "ism":
        note = f"ρ {r.spearman_rho:.2f}, top-{int(r.top_k)} {int(r.top_k_overlap)}/{int(r.top_k)} with ISM"
    elif name in extra and "ism" in got:
        ism_imp = importance(got["ism"][0].scores, is_signed(got["ism"].lens))
        a = agreement(importance(trs[0].scores, is_signed(trs.lens)), ism_imp, top_k)
        note = f"ρ {a['spearman_rho']:.2f}, top-{a['top_k']} {a['top_k_overlap']}/{a['top_k']} with ISM"
    stack.append(lf.StackRow(name, trs.lens.describe(), trs.lens.score_name, trs[0].scores, note))
if not stack:
    st.info("Choose at least one lens.")
    st.stop()
stack_title = f"{seq.id}: {len(stack)} lenses, {orientation}, model {lm.name}" + (
    "; shaded: known sites" if mine else ""
)
left, right = st.columns([5, 2])
fig = lf.plotly_lens_stack(seq.seq, stack, stack_title, (mine or {}).get(seq.id))
left.plotly_chart(fig, width="stretch", key="lens_stack")
with left:
    state.downloads(
        f"lenses_{seq.id}",
        lambda: lf.lens_stack_figure(seq.seq, stack, stack_title, (mine or {}).get(seq.id)),
        fig,
        key="lens_stack",
    )
with right:
    st.markdown(f"**Agreement with ISM on {seq.id}**")
    if result is None:
        st.info(
            "Agreement is measured against ISM, which needs a classification head."
            if not lm.has_classifier
            else "Choose lenses to compare with ISM."
        )
    else:
        per = result.per_sequence
        shown = {  # ISM's own row has no agreement with itself, and no sites means no "in site": "–", not "None"
            "lens": list(per["lens"]),
            "ρ": _cells(per["spearman_rho"], "{:.2f}"),
            f"top-{top_k}": _cells(per["top_k_overlap"], "{:.0f}"),
            "peak": _cells(per["peak"], "{:.0f}"),
            "in site": _cells(per["peak_in_site"], "{:.0f}"),
        }
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            key="lens_seq_table",
            column_config={
                "ρ": st.column_config.TextColumn(help="Spearman correlation with ISM"),
                f"top-{top_k}": st.column_config.TextColumn(help=f"top-{top_k} overlap with ISM"),
                "in site": st.column_config.TextColumn(help="1: the peak falls in a known site"),
            },
        )
        st.caption(
            f"ρ: Spearman correlation, top-{top_k}: how many of the {top_k} highest bases match, between each lens's "
            f"importance (|score| for signed lenses) and ISM's ({ism_lens.describe()}); chance overlap "
            f"{top_k * top_k / len(seq.seq):.1f}. peak: 0-based position of the highest importance; in site: 1 when "
            "it falls in a known site (empty without sites)."
        )
        state.table_downloads(result.per_sequence, f"agreement_{seq.id}", key="lens_seq_tbl")


def set_agreement(items, sites, site_source):
    """The set's agreement as ``work(progress)`` for :func:`dashboard.jobs.run`: every lens and ISM on ``items``,
    progress counted in sequences over all of them (a costly lens reports after each slice, so Stop acts soon)."""
    mkey, key, todo = state.model_key(), state.seq_key(items), lenses | {"ism": ism_lens}
    total = len(todo) * len(items)

    def work(progress):
        got = {}
        for i, (name, lens) in enumerate(todo.items()):
            note = f"lens {i + 1} of {len(todo)}: {name}"
            progress(i * len(items), total, note)
            got[name] = state.lens_tracks(
                mkey, key, lens, lambda d, i=i, note=note: progress(i * len(items) + d, total, note)
            )
        ref = got.pop("ism")
        return agreement_from_tracks(got, ref, sites=sites, site_source=site_source, top_k=top_k, model=lm)

    return work


# ---- over the set: the summary and the verdict
st.subheader("Over the set: which lens can I trust here?")
if not lm.has_classifier:
    st.info("The set's agreement is measured against ISM, which needs a classification head.")
elif lenses:
    c1, c2 = st.columns([1, 3])
    n = int(
        c1.number_input(
            "sequences",
            1,
            len(seqs),
            min(len(seqs), 20),
            key="lens_set_n",
            help="the first N loaded sequences; ISM costs 3 model calls per base",
        )
    )
    items = seqs[:n]
    asked = (state.model_key(), state.seq_key(items), tuple(lenses.items()), ism_lens, top_k, site_how)
    if c2.button(f"Measure agreement on {n} sequences", key="lens_set_run", type="primary"):
        ss.lens_set_asked = asked
    res = None
    if ss.get("lens_set_asked") == asked:
        try:  # in a thread: progress over every lens's sequences and a Stop button; stopped, the last table stays
            res = jobs.run("lens_set", asked, set_agreement(items, sites, site_source), f"Agreement on {n} sequences",
                           keep=True, page=False)  # fmt: skip
        except Exception as exc:
            state.show_error(exc)
    if res is not None:
        st.success(res.verdict)
        st.dataframe(res.summary, hide_index=True, width="stretch", key="lens_set_summary")
        st.caption(
            f"{res.per_sequence['id'].nunique()} sequences; one row per lens, best first (mean Spearman with ISM), "
            "ISM last. pooled: Spearman over "
            "every base of the set; peak_in_site: fraction of the sequences with a known site whose lens peak falls "
            "in one; max_abs_convergence_delta: integrated gradients' completeness error (log-odds)."
        )
        state.table_downloads(res.summary, "agreement_summary", key="lens_set_sum")
        state.table_downloads(res.per_sequence, "agreement_per_sequence", key="lens_set_per")
    else:
        c2.caption("Computes every lens and ISM on these sequences (cached; progress and a Stop button while it runs).")

# ---- nucleotide dependency map of a window (masked LM)
st.subheader("Nucleotide dependencies")
mlm_lm = state.mlm_model()
st.caption(
    f"How substituting base j (columns) changes masked LM **{mlm_lm.name}**'s predicted distribution at base i "
    "(rows): the largest |Δ log2-odds| over the substitutions at j and the four bases at i, in bits "
    "(core/lenses/dependency.py). A window of at most 200 bp; L × (3(L − 1) + 1) masked forward passes."
)
L = len(seq.seq)
limit = min(L, 200, mlm_lm.tokenizer.window_nt())
c1, c2 = st.columns([3, 1])
a, b = c1.slider("window (bp, 0-based, end exclusive)", 0, L, (0, min(limit, 60)), key="dep_window")
if b - a > limit:
    b = a + limit
    c1.caption(f"window cut to {limit} bp: bases {a}–{b - 1}")


@st.cache_data(show_spinner=False, max_entries=8)
def dep_map(mkey, key, a: int, b: int, orientation: str, _progress=None):
    """The map of bases ``a``–``b``; ``_progress(i, n)`` (not in the key) after each target base, from a run in a
    thread (:mod:`dashboard.jobs`), which it stops by raising."""
    from core.io.sequences import Sequence
    from core.lenses.dependency import dependency_map

    s = state.from_key(key)[0]
    seq_ = Sequence(s.id, s.seq[a:b])
    return dependency_map(state.load_model_cached(*mkey), seq_, orientation=orientation, progress=_progress)


asked = (state.mlm_key(), state.seq_key([seq]), a, b, orientation)
if c2.button("Compute the map", key="dep_run", disabled=b - a < mlm_lm.tokenizer.min_length()):
    ss.dep_asked = asked
dm = None
if ss.get("dep_asked") == asked:
    try:  # in a thread with progress (target bases) and a Stop button; stopped, the last map stays
        dm, a, b = jobs.run(
            "dep_map",
            asked,
            lambda progress, a=a, b=b: (dep_map(*asked, lambda i, n: progress(i, n, "target bases")), a, b),
            f"Dependency map of {b - a} bp",
            keep=True,
        )  # stopped: the map shown before, with its own window
    except Exception as exc:
        state.show_error(exc)
        st.stop()
if dm is not None:
    dep_title = (
        f"{dm.seq_id}: nucleotide dependencies, bases {a}–{b - 1}, masked LM {mlm_lm.name} (every covering token "
        f"masked), {orientation}"
    )
    dfig = plotly_dependency(dm.matrix, dm.seq, dep_title, first=a)
    st.plotly_chart(dfig, width="stretch", key="dep_chart")
    state.downloads(
        f"dependency_{dm.seq_id}_{a}_{b}",
        lambda: dependency_figure(dm.matrix, dm.seq, dep_title, first=a),
        dfig,
        key="dep",
    )
    off = dm.matrix[~np.eye(len(dm.matrix), dtype=bool)]
    st.caption(
        f"{dm.passes:,} masked forward passes; strongest dependency {dm.matrix.max():.2f} bits, median "
        f"{np.median(off) if off.size else 0:.3f} bits off the diagonal."
    )
else:
    c2.caption("cached per window; about a minute for 200 bp")
