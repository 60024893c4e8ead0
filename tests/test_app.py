"""Dashboard pages through streamlit.testing.v1.AppTest (the script runs; JS does not)."""

import json
import os

import pytest
from app_charts import charted, dashboard_app, figure, figures


@pytest.fixture
def at():

    app = dashboard_app(240)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def values(arr):
    """A plotly JSON array: a list, or base64 ``bdata`` with a dtype."""
    import base64

    import numpy as np

    if isinstance(arr, dict) and "bdata" in arr:
        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=arr["dtype"]).tolist()
    return list(arr)


def frame_with(app, column):
    """The first dataframe shown that has ``column``."""
    for d in app.dataframe:
        if column in d.value.columns:
            return d.value
    raise AssertionError(f"no table with a '{column}' column on the page")


def test_opens_on_attention_with_demo_model_and_sample_data(at):
    assert at.title[0].value == "Attention"
    assert len(at.session_state.seqs) == 200 and at.session_state.model_name == "demo"
    figs = figures(at)
    assert len(figs) >= 4  # landscape, then the selected sequence's track, layer x head grid, matrix
    assert (
        "attention (dnabert-viz, last layer, heads summed), forward: 200 sequences"
        in (figs[0]["layout"]["title"]["text"])
    )  # the landscape comes first
    track = figs[1]
    assert track == figure(at, "track_chart")
    sent = {n.proto.id.rsplit("-", 1)[1]: json.loads(n.proto.json) for n, _ in charted(at)}
    assert {k: (v["name"], v["clickable"]) for k, v in sent.items()} == {  # only the landscape answers clicks
        "landscape_chart": ("landscape", True),
        "track_chart": ("attention_demo_pos_0001", False),
        "grid_chart": ("layer_head_grid_demo_pos_0001", False),
        "matrix_chart": ("matrix_demo_pos_0001_L1H0", False),
    }
    assert track["layout"]["title"]["text"].startswith("demo_pos_0001")
    assert len(values(track["data"][1]["y"])) == 100  # one score per base


def test_landscape_says_when_it_shows_only_some_sequences(at):
    at.slider(key="land_rows_200").set_value(50).run()
    assert not at.exception
    titles = [f["layout"]["title"]["text"] for f in figures(at)]
    landscape = [t for t in titles if "sorted by" in t]
    assert len(landscape) == 1 and ": 50 of 200 sequences, sorted by prediction" in landscape[0]
    assert any("first 50 of 200" in c.value and "raise 'rows'" in c.value for c in at.caption)


@pytest.mark.slow
def test_attention_controls_change_the_track(at):
    before = values(figure(at, "track_chart")["data"][1]["y"])
    at.selectbox(key="att_recipe").set_value("custom").run()
    at.multiselect(key="att_layers").set_value([0]).run()
    after = values(figure(at, "track_chart")["data"][1]["y"])
    assert before != after
    at.segmented_control(key="land_sort").set_value("peak").run()
    assert not at.exception


def test_sequences_page_bad_paste_keeps_data_then_good_paste_replaces(at):
    at.switch_page("views/sequences.py").run()
    at.text_area(key="paste_text").set_value(">ok\nACGTACGT\n>bad one\nACGTXACGT\n").run()
    at.button(key="load_paste").click().run()
    assert any("record 'bad', line 4: invalid character 'X'" in e.value for e in at.error)
    assert len(at.session_state.seqs) == 200  # nothing lost
    at.text_area(key="paste_text").set_value(">a label=1\nACGTACGTTTGACCATATAAAAGG\n>b\nGGGCCCAAATTTACG\n").run()
    at.button(key="load_paste").click().run()
    assert [s.id for s in at.session_state.seqs] == ["a", "b"]
    table = frame_with(at, "gc")
    assert list(table["id"]) == ["a", "b"] and "p_positive" in table.columns


@pytest.mark.slow
def test_motifs_page_finds_planted_motifs(at):
    at.switch_page("views/motifs.py").run()
    at.button(key="mt_run").click().run()
    assert not at.exception and not at.error
    metrics = {m.label: int(m.value) for m in at.metric}
    assert metrics["kept"] >= 2 and metrics["regions"] > 50
    table = frame_with(at, "best_jaspar_id")
    assert {"MA0108.3", "MA0139.2"} <= set(table["best_jaspar_id"])
    shown = next(d for d in at.dataframe if "best_jaspar_id" in d.value.columns)
    conf = json.loads(shown.proto.columns)  # p/q in scientific notation: 3e-15 is not 0.0000
    assert all(conf[c]["type_config"]["format"] == "%.2e" for c in ("p", "q", "best_jaspar_p", "best_jaspar_q"))


@pytest.mark.slow
def test_mutations_page_map_agreement_and_variants(at):
    at.switch_page("views/mutations.py").run()
    assert not at.exception
    labels = {m.label: m.value for m in at.metric}
    assert float(labels["attention–ISM Spearman ρ"]) > 0.0
    assert figures(at)[0]["layout"]["title"]["text"].startswith("demo_pos_0001: in-silico mutagenesis")
    at.button(key="var_run").click().run()
    df = frame_with(at, "logOR")
    assert list(df.columns[:5]) == ["seq_id", "position", "pos", "genomic", "variant_id"] and len(df) == 1


def _bertviz_js_installed() -> bool:
    """Whether `make js` put bertviz's JavaScript in place (CI always runs it: there it must be)."""
    from core.reports.headview import MissingJavaScript, offline_scripts

    try:
        offline_scripts()
    except MissingJavaScript:
        assert not os.environ.get("CI"), "CI: `make js` did not install bertviz's JavaScript"
        return False
    return True


@pytest.mark.slow  # over 1 s on 2 cores: the fast tier stays under a minute
def test_heads_and_export_pages(at):
    at.switch_page("views/heads.py").run()
    assert not at.exception
    frames = at.get("iframe")
    if _bertviz_js_installed():
        srcdoc = frames[0].proto.srcdoc if frames else ""
        assert "d3" in srcdoc and "cdnjs" not in srcdoc.split("require.config")[0]
    else:  # a plain `pytest` before `make js`: the page says what to run, and the native view is still drawn
        assert not frames and any("make js" in w.value for w in at.warning)
        assert at.get("plotly_chart")
    at.switch_page("views/export.py").run()
    assert not at.exception
    assert any(b.proto.label == "Build the zip" for b in at.button)


@pytest.mark.slow
def test_sessions_do_not_share_data():

    a = dashboard_app(240).run()
    b = dashboard_app(240).run()
    a.switch_page("views/sequences.py").run()
    a.text_area(key="paste_text").set_value("ACGTACGTACGT\n").run()
    a.button(key="load_paste").click().run()
    assert len(a.session_state.seqs) == 1 and len(b.session_state.seqs) == 200


@pytest.mark.slow
def test_model_picker_keeps_model_on_error_and_loads_a_folder(at, tmp_path):
    from checkpoints import make_dnabert_checkpoint

    at.selectbox(key="model_pick").set_value("another folder or hub id ...").run()
    at.text_input(key="model_input").set_value(str(tmp_path / "missing")).run()
    at.sidebar.button[0].click().run()
    assert any("not found" in e.value for e in at.error) and at.session_state.model_name == "demo"
    path = make_dnabert_checkpoint(tmp_path / "mine", k=6, layers=1, hidden=16, heads=2)
    at.text_input(key="model_input").set_value(str(path)).run()
    at.sidebar.button[0].click().run()
    assert at.session_state.model_name == str(path) and str(path) in at.session_state.model_folders
    assert not at.exception


@pytest.mark.slow
def test_dnabert2_layout_needs_the_trust_box_then_shows_heads(at, tmp_path):
    from checkpoints import make_alibi_checkpoint

    path = make_alibi_checkpoint(tmp_path / "dnabert2", alibi_size=32)
    at.selectbox(key="model_pick").set_value("another folder or hub id ...").run()
    at.text_input(key="model_input").set_value(str(path)).run()
    at.sidebar.button[0].click().run()
    assert any("trust remote code" in e.value for e in at.error) and at.session_state.model_name == "demo"
    at.checkbox(key="trust_pick").check().run()
    at.sidebar.button[0].click().run()
    assert at.session_state.model_name == str(path) and at.session_state.trust_remote_code
    at.switch_page("views/heads.py").run()
    assert not at.exception and not at.error  # bertviz (when installed) from recomputed matrices
    assert bool(at.get("iframe")) == _bertviz_js_installed()
    at.switch_page("views/attention.py").run()
    assert not at.exception and not at.error and len(figures(at)) >= 4


# ------------------------------------------------------------------------------ issue 14: what the buttons give
@pytest.mark.slow
def test_export_zip_holds_every_listed_figure_and_table(at):
    """Built in the page's own run (it used to fail outside the session): every figure shown so far in PNG, SVG
    and PDF, every table in CSV and Parquet, none empty; HTML only on request, sharing one plotly.js."""
    import io
    import zipfile

    at.switch_page("views/export.py").run()
    at.button(key="exp_build").click().run()
    assert not at.exception and not at.error
    built = at.session_state.export_zip
    z = zipfile.ZipFile(io.BytesIO(built["data"]))
    names = set(z.namelist())
    figures = list(at.session_state.exports)
    assert len(figures) >= 4  # the attention page's track, landscape, grid and matrix
    for name in figures:
        for fmt in ("png", "svg", "pdf"):
            assert f"figures/{name}.{fmt}" in names, (name, fmt)
    for table in ("attention", "predictions"):
        assert {f"tables/{table}.csv", f"tables/{table}.parquet"} <= names
    assert "provenance.json" in names and not any(n.endswith((".html", ".js")) for n in names)
    assert all(z.getinfo(n).file_size > 0 for n in names)
    assert any(b.proto.label.startswith("Download all (zip") for b in at.get("download_button"))
    shown = frame_with(at, "bytes")  # the listing on the page is what the zip holds
    assert set(shown["file"]) == names
    at.checkbox(key="exp_html").check().run()
    at.button(key="exp_build").click().run()
    z = zipfile.ZipFile(io.BytesIO(at.session_state.export_zip["data"]))
    htmls = [n for n in z.namelist() if n.endswith(".html")]
    assert len(htmls) == len(figures) and "figures/plotly.min.js" in z.namelist()
    for name in htmls:  # plotly.js is shared, not inlined (its banner names it)
        page = z.read(name).decode()
        assert 'src="plotly.min.js"' in page and "* plotly.js v" not in page, name
    assert "* plotly.js v" in z.read("figures/plotly.min.js").decode()[:200]
    # the track (the first figure before the landscape moved to the top of the page) stays small; the landscape's
    # HTML holds 200 x 100 cells of scores, bases and positions (about 250 kB)
    assert len(z.read("figures/attention_demo_pos_0001.html")) < 200_000


@pytest.mark.slow
def test_sidebar_count_is_current_and_sample_label_matches(at):
    at.switch_page("views/sequences.py").run()
    at.text_area(key="paste_text").set_value(">a\nACGTACGTACGTACGT\n>b\nGGGGCCCCAAAATTTT\n").run()
    at.button(key="load_paste").click().run()
    assert any(c.value.startswith("2 sequences loaded: pasted text") for c in at.sidebar.caption)
    choice = at.selectbox(key="sample_choice")
    assert choice.options[0].startswith("demo.fa (200 labelled")
    at.button(key="load_sample").click().run()
    n = len(at.session_state.seqs)
    assert n == 200 and any(
        c.value.startswith("200 sequences loaded: sample demo.fa: 200 sequences") for c in at.sidebar.caption
    )
    assert "100 labelled 1, 100 labelled 0" in at.session_state.source_label


@pytest.mark.slow
def test_token_crop_is_in_tokens_and_never_empty(at):
    fig = figure(at, "matrix_chart")
    assert fig["layout"]["title"]["text"].endswith("tokens 0–63 of 97 (forward; 0 = [CLS])")
    size = next(s for s in at.slider if s.label == "crop: tokens shown")
    assert size.max == 97  # 95 k-mers of a 100-bp sequence + [CLS] + [SEP], counted in tokens
    size.set_value(97).run()
    fig = figure(at, "matrix_chart")
    assert len(values(fig["data"][0]["x"])) == 97 and fig["layout"]["title"]["text"].endswith(
        "tokens 0–96 of 97 (forward; 0 = [CLS])"
    )
    size = next(s for s in at.slider if s.label == "crop: tokens shown")
    size.set_value(10).run()
    first = next(s for s in at.slider if s.label == "crop: first token")
    assert first.max == 87
    first.set_value(87).run()
    fig = figure(at, "matrix_chart")
    assert values(fig["data"][0]["x"]) == list(range(87, 97))


def _axis_titles(fig):
    return {
        k: (v.get("title") or {}).get("text", "") for k, v in fig["layout"].items() if k.startswith(("xaxis", "yaxis"))
    }


@pytest.mark.slow
def test_every_figure_names_lens_orientation_and_axis_units(at):
    """Every chart title says what produced it (lens/recipe or layer/head) and the orientation; every axis that
    shows ticks has a title, and position axes say bp and 0-based."""
    pages = [("views/attention.py", 4), ("views/heads.py", 1), ("views/mutations.py", 1)]
    at.selectbox(key="att_recipe").set_value("custom").run()
    for page, n in pages:
        at.switch_page(page).run()
        assert not at.exception
        figs = figures(at)
        assert len(figs) >= n
        for f in figs:
            title = f["layout"]["title"]["text"]
            assert any(w in title for w in ("forward", "reverse", "both")), title
            assert any(w in title for w in ("attention (", "layer", "mutagenesis")), title
            for name, text in _axis_titles(f).items():
                ax = f["layout"][name]
                if ax.get("visible") is False or ax.get("showticklabels") is False:
                    continue
                assert text, (title, name)
                if "position" in text:
                    assert "bp" in text and "0-based" in text, (title, text)
    at.switch_page("views/attention.py").run()
    track = figure(at, "track_chart")
    assert "attention (custom: layers 1, all heads sum, layers mean), forward" in track["layout"]["title"]["text"]
    assert _axis_titles(track)["yaxis2"].startswith("attention (custom, l2-normalised)")


def test_upload_reads_a_dnabert_dev_tsv(at):
    seqs = ["ACGTACGTTTGACCATATAAAAGG", "GGGCCCAAATTTACGGTACCAGTT"]
    rows = ["sequence\tlabel"] + [
        " ".join(s[i : i + 6] for i in range(len(s) - 5)) + f"\t{y}" for s, y in zip(seqs, (1, 0))
    ]
    at.switch_page("views/sequences.py").run()
    at.file_uploader(key="fasta_up").set_value(("dev.tsv", ("\n".join(rows) + "\n").encode(), "text/plain")).run()
    at.button(key="load_fasta").click().run()
    assert not at.exception and not at.error
    assert [(s.seq, s.label) for s in at.session_state.seqs] == [(seqs[0], 1), (seqs[1], 0)]
    assert any(c.value.startswith("2 sequences loaded: dev.tsv") for c in at.sidebar.caption)


@pytest.mark.slow  # four reruns
def test_matrix_crop_keeps_its_first_token_when_widened(at):
    """Widening the token matrix's crop moves its first token back only as far as the wider window needs (it used
    to jump to 0), without Streamlit's "default value also set via Session State" complaint."""

    def slider(prefix):
        return next(s for s in at.slider if s.key.startswith(prefix))

    slider("mat_size").set_value(2).run()
    last = int(slider("mat_start").max)
    slider("mat_start").set_value(last).run()
    slider("mat_size").set_value(20).run()
    assert slider("mat_start").value == last + 2 - 20 == slider("mat_start").max
    assert not at.exception and not at.warning
    assert [h.value for h in at.subheader][1].startswith("Selected sequence: ")
