"""Sets page: the loaded sequences as a set. An embedding projector (sequence or k-mer embeddings, PCA or UMAP; a
click selects the sequence everywhere), the k-mers the sidebar's lens scores high in positives against negatives,
the average lens profile of each class, and each discovered motif's logo beside its JASPAR match."""

import numpy as np
import streamlit as st

from core.lenses import sets as sv
from core.lenses.agreement import is_signed
from core.reports import lens_figures as lf
from core.reports.figures import close
from dashboard import jobs, lens_runs, state

ss = st.session_state
st.title("Sets")
lm = state.model()
seqs = state.seqs()
if len(seqs) < 2:
    st.info("Load at least two sequences (Sequences page) to see them as a set.")
    st.stop()
lens = state.current_lens()
preds = state.predictions()
ids = [s.id for s in seqs]


@st.cache_resource(show_spinner="Compiling UMAP (once per server, about 20 s) ...")
def umap_ready() -> bool:
    sv.warm_umap()
    return True


@st.cache_data(show_spinner="Embedding the sequences ...", max_entries=8)
def embeddings(mkey, key, pool: str, orientation: str):
    return sv.sequence_embeddings(state.load_model_cached(*mkey), state.from_key(key), pool, orientation=orientation)


@st.cache_data(show_spinner=False, max_entries=4)
def kmer_table(mkey):
    return sv.kmer_embedding_table(state.load_model_cached(*mkey))


@st.cache_data(show_spinner="Projecting ...", max_entries=16)
def projected(X: np.ndarray, method: str):
    return sv.project(X, method)


# ---- embedding projector
st.subheader("Embedding projector")
c1, c2, c3, c4 = st.columns(4)
what = c1.selectbox("points", ["sequences: mean-pooled", "sequences: [CLS]", "k-mer embedding table"], key="proj_what")
methods = ["PCA", "UMAP"] if sv.umap_available() else ["PCA"]
method = c2.selectbox(
    "projection",
    methods,
    key="proj_method",
    help="PCA: linear, instant. UMAP: non-linear (umap-learn, the optional extra .[umap]); its first fit per server "
    "compiles for about 20 s" + ("" if sv.umap_available() else ". Not installed here: pip install -e '.[umap]'"),
)
sequences = what.startswith("sequences")
colour_by = c3.selectbox(
    "colour", ["label", "prediction", "cluster"] if sequences else ["GC fraction"], key="proj_colour"
)
k = int(c4.number_input("clusters (k-means)", 2, 12, 3, key="proj_k")) if colour_by == "cluster" else 0
try:
    if sequences:
        pool = "mean" if "mean" in what else "cls"
        names, X = embeddings(state.model_key(), state.seq_key(seqs), pool, lens.orientation)
        source = f"{'mean-pooled' if pool == 'mean' else '[CLS]'} final hidden states of {len(seqs)} sequences"
    else:
        names, X = kmer_table(state.model_key())
        source = f"input embeddings of the model's {len(names)} k-mer tokens"
    if method == "UMAP":
        umap_ready()
    coords, info = projected(X, method.lower())
except Exception as exc:
    state.show_error(exc)
    st.stop()
if colour_by == "label":
    colour = [s.label for s in seqs]
elif colour_by == "prediction":
    colour = [float(preds[i][-1]) for i in ids] if preds else [None] * len(ids)
elif colour_by == "cluster":
    colour = [f"{c}" for c in sv.kmeans_clusters(X, min(k, len(X)))]
else:
    colour = sv.gc_fraction(names)
colour_name = {"prediction": f"p({lm.label_names[-1]})" if lm.has_classifier else "prediction"}.get(
    colour_by, colour_by
)
proj_title = (
    f"{source}, model {lm.name}{f', {lens.orientation}' if sequences else ''}: {method}, coloured by {colour_name}"
)
ss.setdefault("proj_gen", 0)
pfig = lf.plotly_projection(coords, names, colour, colour_name, info["axes"], proj_title, clickable=sequences)
event = st.plotly_chart(
    pfig,
    width="stretch",
    key=f"proj_chart_{ss.proj_gen}",
    on_select="rerun" if sequences else "ignore",
    selection_mode="points",
)
clicked = [p.get("customdata") for p in (event.selection.points if sequences and event else [])]
clicked = [c for c in clicked if c in set(ids)]
if clicked and clicked[0] != ss.get("selected"):
    ss.selected = clicked[0]
    ss.proj_gen += 1  # a fresh chart: the selection is consumed, the next click counts again
    st.rerun()
st.caption(
    (
        f"Selected: **{ss.get('selected')}** (a click on a point selects that sequence on every page). "
        if sequences
        else ""
    )
    + ("Axes: " + ", ".join(info["axes"]) + ".")
)
state.downloads(
    f"projector_{what.split(':')[0].replace(' ', '_')}_{method.lower()}",
    lambda: lf.projection_figure(coords, colour, colour_name, info["axes"], proj_title, None if sequences else names),
    pfig,
    key="proj",
)

# ---- positives against negatives under the sidebar's lens
st.subheader("Positives against negatives")
c1, c2, c3, c4 = st.columns(4)
split = c1.selectbox(
    "classes", ["label 1 vs label 0"] + (["prediction ≥ 0.5 vs < 0.5"] if preds else []), key="set_split"
)
costly = lens.name != "attention"
n = int(
    c2.number_input(
        "sequences (the first N)",
        2,
        len(seqs),
        min(len(seqs), 40) if costly else len(seqs),
        key=f"set_n_{lens.name}",
        help="lenses other than attention cost many model calls per sequence",
    )
)
kk = int(c3.number_input("k-mer size", 3, 8, 6, key="set_k"))
min_count = int(c4.number_input("min occurrences", 1, 100, 5, key="set_minc"))
items = seqs[:n]
if split.startswith("label"):
    pos_ids = {s.id for s in items if s.label == 1}
    neg_ids = {s.id for s in items if s.label == 0}
else:
    pos_ids = {s.id for s in items if preds[s.id][-1] >= 0.5}
    neg_ids = {s.id for s in items if preds[s.id][-1] < 0.5}
if not pos_ids or not neg_ids:
    st.info(
        f"{len(pos_ids)} positives and {len(neg_ids)} negatives among these {n} sequences: the views below need both."
    )
    st.stop()
# a costly lens starts from its button, in a thread with progress and Stop; stopped or not asked for, the tracks
# computed before stay, under their own lens
shown = lens_runs.set_tracks(lens, items=items, slot="set_tracks")
if shown.scores is None:
    st.stop()
trs, lens = shown.scores, shown.lens
if shown.lens != state.current_lens():
    st.caption(f"Below: **{lens.describe()}**, the tracks computed before (not the sidebar's lens).")
pos = [t for t in trs if t.id in pos_ids]
neg = [t for t in trs if t.id in neg_ids]
who = f"{len(pos)} positives vs {len(neg)} negatives ({split})"
contrast = sv.kmer_contrast(pos, neg, k=kk, min_count=min_count)
if contrast.empty:
    st.info(f"No {kk}-mer occurs {min_count} times: lower the minimum or the k-mer size.")
else:
    top = 20
    kmer_title = f"{lens.describe()}: {kk}-mers, {who}; Mann–Whitney AUC of occurrence scores, top {top} by p"
    kfig = lf.plotly_kmer_contrast(contrast, kmer_title, top)
    st.plotly_chart(kfig, width="stretch", key="kmer_chart")
    state.downloads(
        f"kmers_{lens.name}_{kk}", lambda: lf.kmer_contrast_figure(contrast, kmer_title, top), kfig, key="kmer"
    )
    st.caption(
        f"A {kk}-mer occurrence scores the mean {lens.score_name} over its bases. AUC = U / (n_pos · n_neg) of the "
        "Mann–Whitney test of occurrence scores in positives against negatives: the probability that an "
        "occurrence in a positive outscores one in a negative (0.5: no difference); p two-sided, q "
        "Benjamini–Hochberg. log2_rate_ratio compares how often the k-mer occurs (per kb, pseudocount 1)."
    )
    st.dataframe(
        contrast, hide_index=True, width="stretch", key="kmer_table", column_config=state.pvalue_columns(contrast)
    )
    state.table_downloads(contrast, f"kmer_contrast_{lens.name}", key="kmer_tbl")
with st.expander(f"top-scoring {kk}-mers over all {n} sequences"):
    st.dataframe(sv.top_kmers(trs, k=kk, top=30, min_count=min_count), hide_index=True, width="stretch", key="kmer_top")

# ---- average profiles
align = st.selectbox(
    "align the tracks at",
    ["center", "left", "peak"],
    key="set_align",
    help="center: each sequence's middle; left: position 0; peak: each track's highest importance (±25 bp)",
)
prof = sv.profile_contrast(pos, neg, align, 51 if align == "peak" else None, signed=is_signed(lens))
prof_title = f"{lens.describe()}: average profile, {who}, aligned at {align}; band: ± standard error"
ffig = lf.plotly_profiles(prof, prof_title, lens.score_name, align)
st.plotly_chart(ffig, width="stretch", key="profile_chart")
state.downloads(
    f"profile_{lens.name}_{align}",
    lambda: lf.profile_figure(prof, prof_title, lens.score_name, align),
    ffig,
    key="prof",
)

# ---- discovered motifs beside their JASPAR matches
lens = state.current_lens()  # motifs are found with the sidebar's lens (the views above may show an earlier one)
st.subheader("Discovered motifs beside their JASPAR matches")


@st.cache_data(show_spinner=False, max_entries=4)
def find_motifs(mkey, key, lens_, release: str, _progress=None):
    """(motifs, TOMTOM table); ``_progress(done, total, note)`` (not in the key) over the positives' tracks and then
    discovery, from a run in a thread (:mod:`dashboard.jobs`), which it stops by raising."""
    from core.reports.motifs import discover_from_tracks

    n = len(key)
    trs = state.lens_tracks(mkey, key, lens_, lambda k: _progress(k, n + 1, lens_.name))
    _progress(n, n + 1, "regions → enrichment → merging → JASPAR")
    return discover_from_tracks(trs, jaspar_release=release)


run = ss.get("motif_run")  # the Motifs page's last run in this session, with the same model and lens
if run and (run.get("model"), run.get("lens_params")) != (state.model_key(), lens):
    run = None
c1, c2 = st.columns([3, 1])
release = c2.selectbox("JASPAR release", ["JASPAR2026", "JASPAR2024", "JASPAR2022", "JASPAR2020"], key="set_release")
pos_items = [s for s in items if s.id in pos_ids]
asked = (state.model_key(), state.seq_key(pos_items), lens, release)
if c1.button(f"Find motifs in the {len(pos_items)} positives with {lens.describe()}", key="set_motifs_run"):
    ss.set_motifs_asked = asked
if ss.get("set_motifs_asked") == asked:
    try:  # in a thread with progress and a Stop button; stopped, the motifs found before stay (with their lens)
        found = jobs.run(
            "set_motifs",
            asked,
            lambda progress: (find_motifs(*asked, progress), lens.describe(), release),
            f"Finding motifs in {len(pos_items)} positives",
            keep=True,
        )
    except Exception as exc:
        state.show_error(exc)
        st.stop()
    (res, tomtom), found_lens, found_release = found
    run = {"result": res, "tomtom": tomtom, "lens": found_lens, "release": found_release}
if not run:
    st.caption(
        f"Run discovery here (or on the Motifs page, with the same lens: {lens.describe()}) to see each motif beside "
        "its best JASPAR match."
    )
    st.stop()
res, tomtom = run["result"], run["tomtom"]
matched = [] if tomtom is None else [m for m in res.motifs if (tomtom["Query_ID"] == m.name).any()]
if not matched:
    st.info(f"No motif with a JASPAR match ({res.explanation or f'{len(res.motifs)} motifs'}).")
    st.stop()
c1, c2 = st.columns([2, 1])
pick = c1.selectbox("motif", [m.name for m in matched], key="set_motif_pick")
mode = c2.radio("letters", ["information", "probability"], horizontal=True, key="set_logo_mode")
m = next(x for x in matched if x.name == pick)
best = tomtom[tomtom["Query_ID"] == m.name].sort_values("p-value", kind="stable").iloc[0].to_dict()
try:
    from core.motifs.jaspar import load_jaspar, motif_alignment

    known = {t.id: t for t in load_jaspar(run.get("release", release))}[best["Target_ID"]]
    al = motif_alignment(m, best, known)
except Exception as exc:
    state.show_error(exc)
    st.stop()
strand = "reverse complement" if al.orientation == "-" else "as in JASPAR"
q_title = f"{m.name}: discovered, {m.n_instances} instances in {m.n_sequences} sequences (regions from {run['lens']})"
t_title = f"{known.id} {known.name} ({strand}), TOMTOM offset {best['Optimal_offset']}, q = {best['q-value']:.1e}"
logo_title = (
    f"{m.name} (regions from {run['lens']}) beside its best JASPAR match {known.id}, aligned by TOMTOM's offset and "
    f"orientation ({mode})"
)
lfig = lf.plotly_aligned_logos(al, q_title, t_title, logo_title, mode)  # the HTML download
shown = lf.aligned_logos_figure(al, q_title, t_title, logo_title, mode)
st.pyplot(shown)
close(shown)
state.downloads(
    f"logo_pair_{m.name}_{known.id}",
    lambda: lf.aligned_logos_figure(al, q_title, t_title, logo_title, mode),
    lfig,
    key="logo_pair",
)
st.caption(
    "TOMTOM compares the motif's informative core; the whole discovered window is drawn, the JASPAR matrix in the "
    "orientation that matched. Columns are those of the alignment (1 = its first column)."
)
