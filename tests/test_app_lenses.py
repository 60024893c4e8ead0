"""The Lenses and Sets pages and the Mutations page's zero-shot column in AppTest: what each view gives equals what
core gives for the same inputs (a tiny checkpoint and a few short sequences keep it quick; the tests that compute
every lens, ISM, a dependency map or motifs on the sample data are in the slow tier)."""

import base64
import json

import numpy as np
import pandas as pd
import pytest
from app_charts import dashboard_app

from core.io.sequences import Sequence


def _values(arr):
    if isinstance(arr, dict) and "bdata" in arr:
        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=arr["dtype"]).tolist()
    return list(arr)


def _chart(at, key):
    """The plotly JSON of the chart whose widget key ends with ``key``."""
    for c in at.get("plotly_chart"):
        if c.proto.id.endswith(key) or c.key == key:
            return json.loads(c.proto.spec), c
    raise AssertionError(f"no chart '{key}' on the page")


def _frame(at, column):
    for d in at.dataframe:
        if column in d.value.columns:
            return d.value
    raise AssertionError(f"no table with a '{column}' column")


def _check_titles(spec):
    """A figure's title names the lens (or recipe) and the orientation; every axis that shows ticks has a title, and
    a position axis says bp and 0-based."""
    title = spec["layout"]["title"]["text"]
    assert any(w in title for w in ("forward", "reverse", "both")), title
    for name, ax in spec["layout"].items():
        if not name.startswith(("xaxis", "yaxis")) or ax.get("visible") is False or ax.get("showticklabels") is False:
            continue
        text = (ax.get("title") or {}).get("text", "")
        if name.startswith("xaxis") and ax.get("matches"):  # a shared axis: the bottom panel names it
            continue
        assert text, (title, name)
        if "position" in text:
            assert "bp" in text and "0-based" in text, (title, text)


def _seqs(n=3, L=40, seed=0):
    rng = np.random.default_rng(seed)
    return [Sequence(f"s{i}", "".join(rng.choice(list("ACGT"), L)), label=1 - i % 2) for i in range(n)]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from checkpoints import make_dnabert_checkpoint

    from core.model.loading import load_model

    path = make_dnabert_checkpoint(tmp_path_factory.mktemp("tiny_app"), k=6, layers=1, hidden=16, heads=2, max_pos=64)
    return load_model(str(path), device="cpu")


def _open(page, seqs, model_name=None):
    """An app session holding ``seqs`` and ``model_name`` that opens on ``page`` (the Attention page never runs)."""

    at = dashboard_app(300)
    at.session_state["seqs"] = seqs
    at.session_state["source_label"] = "test sequences"
    at.session_state["inputs"] = {}
    if model_name:
        at.session_state["model_name"] = model_name
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow
def test_lenses_page_numbers_and_tracks_equal_core(tiny):
    """The stack holds every applicable lens's track of the selected sequence with its description and unit; the
    numbers beside it are core's agreement for the same sequence, lenses and sites (an uploaded truth table)."""
    from core.motifs.sites import parse_sites
    from core.reports.agreement import measure_agreement

    seqs = _seqs(2)
    at = _open("views/lenses.py", seqs, tiny.path)
    truth = "id\tstart\tend\ns0\t10\t20\n"
    at.selectbox(key="lens_sites").set_value("upload a truth table").run()
    at.file_uploader(key="lens_up").set_value(("truth.tsv", truth.encode(), "text/tab-separated-values")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    core = measure_agreement(tiny, seqs[:1], sites=parse_sites(truth), top_k=10)
    shown = _frame(at, "ρ")
    assert (
        list(shown["lens"])
        == list(core.per_sequence["lens"])
        == ["attention", "grad-input", "ig", "expected-gradients", "ism"]
    )

    def num(column):  # cells are text: a number as shown, "–" where there is none (ISM against itself)
        return np.array([np.nan if c == "–" else float(c) for c in shown[column]])

    assert np.allclose(num("ρ")[:4], core.per_sequence["spearman_rho"][:4], atol=0.005)  # shown to 2 decimals
    assert shown["ρ"].iloc[4] == "–" and shown["top-10"].iloc[4] == "–"
    assert num("top-10")[:4].tolist() == core.per_sequence["top_k_overlap"][:4].tolist()
    assert num("peak").tolist() == core.per_sequence["peak"].tolist()
    assert np.array_equal(num("in site"), core.per_sequence["peak_in_site"].to_numpy(float), True)
    spec, _ = _chart(at, "lens_stack")
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    for name, trs, trace, title in zip(core.tracks, core.tracks.values(), spec["data"], titles, strict=True):
        assert np.allclose(_values(trace["y"]), trs[0].scores), name
        assert title.startswith(f"<b>{name}</b>: {trs.lens.describe()}<br>{trs.lens.score_name}"), title
    assert "forward" in spec["layout"]["title"]["text"] and "known sites" in spec["layout"]["title"]["text"]
    assert spec["layout"][f"xaxis{len(titles)}"]["title"]["text"] == "position (bp, 0-based)"
    assert len(spec["layout"]["shapes"]) == len(titles)  # the site shaded in every panel
    _check_titles(spec)


@pytest.mark.slow
def test_lenses_page_set_verdict_and_dependency_map_equal_core(tiny):
    from core.lenses.dependency import dependency_map
    from core.model.loading import load_model
    from core.reports.agreement import measure_agreement

    seqs = _seqs(3)
    at = _open("views/lenses.py", seqs, tiny.path)
    at.button(key="lens_set_run").click().run()
    assert not at.exception and not at.error
    core = measure_agreement(tiny, seqs, top_k=10)
    shown = _frame(at, "mean_spearman")
    assert at.success[0].value == core.verdict and core.verdict.split()[0] in shown["lens"].tolist()
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), core.summary, check_dtype=False)
    at.slider(key="dep_window").set_value((5, 25)).run()
    at.button(key="dep_run").click().run()
    assert not at.exception and not at.error
    spec, _ = _chart(at, "dep_chart")
    dm = dependency_map(load_model("demo-mlm"), Sequence("s0", seqs[0].seq[5:25]))
    z = np.array(spec["data"][0]["z"] if isinstance(spec["data"][0]["z"], list) else _values(spec["data"][0]["z"]))
    assert np.allclose(z.reshape(20, 20), dm.matrix, atol=1e-9)
    assert _values(spec["data"][0]["x"])[0] == 5 and "bases 5–24" in spec["layout"]["title"]["text"]
    assert "position (bp, 0-based)" in spec["layout"]["xaxis"]["title"]["text"]
    _check_titles(spec)


def _click(at, chart, sid):
    """What the browser sends when a point is clicked: the chart's selection with that point's customdata."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    states = at._tree.get_widget_states()
    w = WidgetState(id=chart.proto.id)
    point = {"customdata": sid, "curve_number": 0, "point_number": 0, "point_index": 0, "x": 0, "y": 0}
    w.string_value = json.dumps({"selection": {"points": [point], "point_indices": [0], "box": [], "lasso": []}})
    states.widgets.append(w)
    at._run(widget_state=states)
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.slow
def test_projector_points_are_core_pca_and_a_click_selects_the_sequence(tiny):
    from core.lenses.sets import pca, sequence_embeddings

    seqs = _seqs(6)
    at = _open("views/sets.py", seqs, tiny.path)
    assert not at.error, [e.value for e in at.error]
    spec, chart = _chart(at, "proj_chart_0")
    ids, X = sequence_embeddings(tiny, seqs, "mean")
    want = dict(zip(ids, pca(X, 2)[0]))
    got = {}
    for trace in spec["data"]:  # one trace per label
        for sid, x, y in zip(trace["customdata"], _values(trace["x"]), _values(trace["y"])):
            got[sid] = (x, y)
    assert set(got) == set(ids) and all(np.allclose(got[i], want[i]) for i in ids)
    assert (
        spec["layout"]["xaxis"]["title"]["text"].startswith("PC1 (")
        and "coloured by label" in spec["layout"]["title"]["text"]
    )
    _check_titles(spec)
    assert at.session_state["selected"] == "s0"
    _click(at, chart, "s4")
    assert at.session_state["selected"] == "s4"
    at.switch_page("views/lenses.py").run()
    assert at.selectbox(key="select_seq_lenses").value == "s4"  # selected everywhere


@pytest.mark.slow  # over 1 s on 2 cores: the fast tier stays under a minute
def test_sets_page_kmers_and_profiles_equal_core(tiny):
    from core.lenses import Attention, tracks
    from core.lenses.sets import kmer_contrast, profile_contrast

    seqs = _seqs(6, L=60, seed=2)
    at = _open("views/sets.py", seqs, tiny.path)
    at.number_input(key="set_k").set_value(3).run()
    at.number_input(key="set_minc").set_value(2).run()
    assert not at.exception and not at.error
    trs = tracks(tiny, seqs, Attention())
    pos, neg = [t for t in trs if t.sequence.label == 1], [t for t in trs if t.sequence.label == 0]
    core = kmer_contrast(pos, neg, k=3, min_count=2)
    shown = _frame(at, "auc")
    pd.testing.assert_frame_equal(shown, core, check_dtype=False)
    spec, _ = _chart(at, "kmer_chart")
    top = core.dropna(subset=["auc"]).head(20)
    assert _values(spec["data"][0]["y"]) == top.kmer.tolist()[::-1]
    assert np.allclose(_values(spec["data"][0]["x"]), top.auc.to_numpy()[::-1])
    assert (
        "Mann–Whitney AUC" in spec["layout"]["title"]["text"]
        and "attention (dnabert-viz" in spec["layout"]["title"]["text"]
    )
    prof = profile_contrast(pos, neg, "center")
    spec, _ = _chart(at, "profile_chart")
    means = [t for t in spec["data"] if t.get("name") == "positives"][0]
    assert np.allclose(_values(means["y"]), prof.mean_pos.to_numpy(), equal_nan=True)
    assert spec["layout"]["xaxis"]["title"]["text"] == "offset from each sequence's centre (bp)"
    for key in ("kmer_chart", "profile_chart"):
        _check_titles(_chart(at, key)[0])
        assert "attention (dnabert-viz" in _chart(at, key)[0]["layout"]["title"]["text"]


@pytest.mark.slow
def test_sets_page_motif_beside_its_jaspar_match(demo_model):
    """On the sample data (demo model, attention): discovery here finds the planted motifs (core's result on the same
    positives); the pair drawn is the best TOMTOM row's JASPAR matrix placed by core's alignment."""
    from core.io.sequences import read_fasta
    from core.lenses import Attention, tracks
    from core.motifs.jaspar import load_jaspar, motif_alignment
    from core.paths import SAMPLE_DATA
    from core.reports.motifs import discover_from_tracks

    seqs = read_fasta(SAMPLE_DATA / "demo.fa")
    at = _open("views/sets.py", seqs)
    at.button(key="set_motifs_run").click().run()
    assert not at.exception and not at.error
    res, tomtom = discover_from_tracks(
        tracks(demo_model, [s for s in seqs if s.label == 1], Attention()), jaspar_release="JASPAR2026"
    )
    pick = at.selectbox(key="set_motif_pick")
    assert pick.options == [m.name for m in res.motifs if (tomtom.Query_ID == m.name).any()] and pick.value
    best = tomtom[tomtom.Query_ID == pick.value].sort_values("p-value", kind="stable").iloc[0]
    assert best.Target_ID in {"MA0139.2", "MA0108.3"}  # CTCF or TBP, as planted
    m = next(x for x in res.motifs if x.name == pick.value)
    al = motif_alignment(m, best.to_dict(), {t.id: t for t in load_jaspar()}[best.Target_ID])
    name = next(k for k in at.session_state["exports"] if k.startswith(f"logo_pair_{m.name}_{best.Target_ID}"))
    fig = at.session_state["exports"][name][1]  # the plotly view behind the HTML download
    target = np.array([t.y for t in fig.data if t.xaxis == "x2"]).T  # [alignment width, 4]: the JASPAR row
    query = np.array([t.y for t in fig.data if t.xaxis == "x"]).T
    assert target.shape == query.shape == (al.width, 4)
    assert np.allclose(target[: al.target_start], 0) and np.allclose(target[al.target_start + len(al.target) :], 0)
    assert (target[al.target_start : al.target_start + len(al.target)].sum(axis=1) > 0).all()
    assert np.allclose(query[al.query_start + len(al.query) :], 0)
    title = fig.layout.annotations[1].text
    assert best.Target_ID in title and ("reverse complement" in title) == (best.Orientation == "-")


@pytest.mark.slow
def test_variants_show_llr_beside_delta_and_alone_for_a_masked_lm():
    from core.model.loading import load_model
    from core.variants.variants import parse_variants
    from core.variants.zero_shot import zero_shot_scores

    seqs = _seqs(2)
    at = _open("views/mutations.py", seqs)
    at.button(key="var_run").click().run()
    assert not at.exception and not at.error
    df = _frame(at, "llr")
    cols = list(df.columns)
    assert cols[cols.index("delta") + 1] == "llr"
    s = seqs[0].seq
    variants = parse_variants(f"seq_id\tpos\tref\talt\ns0\t1\t{s[0]}\t{'A' if s[0] != 'A' else 'C'}\n", seqs)
    core = zero_shot_scores(load_model("demo-mlm"), seqs, variants)
    assert df.llr.iloc[0] == pytest.approx(core.llr.iloc[0]) and df.mlm_model.iloc[0] == "demo-mlm"
    assert any("llr = log P(alt) − log P(ref)" in c.value and "Insertions and deletions" in c.value for c in at.caption)
    at = _open("views/mutations.py", seqs, "demo-mlm")
    at.button(key="var_run").click().run()
    assert not at.exception and not at.error
    df = _frame(at, "llr")
    assert "delta" not in df.columns and df.llr.iloc[0] == pytest.approx(core.llr.iloc[0])
