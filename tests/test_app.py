"""Dashboard pages through streamlit.testing.v1.AppTest (the script runs; JS does not)."""

import json
from pathlib import Path

import pytest

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


@pytest.fixture
def at():
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(APP, default_timeout=240)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def charts(app):
    return [json.loads(c.proto.spec) for c in app.get("plotly_chart")]


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
    figs = charts(at)
    assert len(figs) >= 4  # track, landscape, layer x head grid, matrix
    assert any(
        "attention (dnabert-viz, last layer, heads summed), forward: 200 sequences" in f["layout"]["title"]["text"]
        for f in figs
    )
    track = figs[0]
    assert track["layout"]["title"]["text"].startswith("demo_pos_0001")
    assert len(values(track["data"][1]["y"])) == 100  # one score per base


def test_attention_controls_change_the_track(at):
    before = values(charts(at)[0]["data"][1]["y"])
    at.selectbox(key="att_recipe").set_value("custom").run()
    at.multiselect(key="att_layers").set_value([0]).run()
    after = values(charts(at)[0]["data"][1]["y"])
    assert before != after
    at.selectbox(key="land_sort").set_value("peak").run()
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


def test_mutations_page_map_agreement_and_variants(at):
    at.switch_page("views/mutations.py").run()
    assert not at.exception
    labels = {m.label: m.value for m in at.metric}
    assert float(labels["attention–ISM Spearman ρ"]) > 0.0
    assert charts(at)[0]["layout"]["title"]["text"].startswith("demo_pos_0001: in-silico mutagenesis")
    at.button(key="var_run").click().run()
    df = frame_with(at, "logOR")
    assert list(df.columns[:5]) == ["seq_id", "position", "pos", "genomic", "variant_id"] and len(df) == 1


def test_heads_and_export_pages(at):
    at.switch_page("views/heads.py").run()
    assert not at.exception
    frames = at.get("iframe")
    assert (
        frames and "d3" in frames[0].proto.srcdoc and "cdnjs" not in frames[0].proto.srcdoc.split("require.config")[0]
    )
    at.switch_page("views/export.py").run()
    assert not at.exception
    assert any(b.proto.label == "Download all (zip)" for b in at.get("download_button"))


def test_sessions_do_not_share_data():
    from streamlit.testing.v1 import AppTest

    a = AppTest.from_file(APP, default_timeout=240).run()
    b = AppTest.from_file(APP, default_timeout=240).run()
    a.switch_page("views/sequences.py").run()
    a.text_area(key="paste_text").set_value("ACGTACGTACGT\n").run()
    a.button(key="load_paste").click().run()
    assert len(a.session_state.seqs) == 1 and len(b.session_state.seqs) == 200


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
    assert not at.exception and not at.error and at.get("iframe")  # bertviz from recomputed matrices
    at.switch_page("views/attention.py").run()
    assert not at.exception and not at.error and charts(at)
