"""The Export page's provenance.json describes what is in the zip (AppTest, a tiny checkpoint): every input the
zipped files came from (sha256 of their bytes), and per file the lens, its settings and the sequence set."""

import hashlib
import io
import json
import zipfile

import numpy as np
import pytest
from app_charts import dashboard_app

from core.io.sequences import Sequence


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from checkpoints import make_dnabert_checkpoint

    from core.model.loading import load_model

    path = make_dnabert_checkpoint(tmp_path_factory.mktemp("tiny_pv"), k=6, layers=2, hidden=16, heads=2, max_pos=64)
    return load_model(str(path), device="cpu")


@pytest.mark.slow
def test_zip_provenance_lists_every_input_and_each_files_lens(tiny):

    from core.lenses import make_lens

    rng = np.random.default_rng(0)
    seqs = [Sequence(f"s{i}", "".join(rng.choice(list("ACGT"), 40)), label=i % 2) for i in range(3)]
    first = "".join(f">{s.id}\n{s.seq}\n" for s in seqs).encode()
    at = dashboard_app(300)
    at.session_state["seqs"] = seqs
    at.session_state["source_label"] = "first.fa"
    at.session_state["inputs"] = {"first.fa": first}
    at.session_state["model_name"] = tiny.path
    at.run()
    at.selectbox(key="att_recipe").set_value("rollout").run()  # the Attention page draws with rollout
    assert not at.exception, [e.value for e in at.exception]
    rollout = make_lens("attention", recipe="rollout")
    drawn = dict(at.session_state["exports"])
    assert any(n.startswith("layer_head_grid_") for n in drawn) and any(n.startswith("attention_") for n in drawn)
    pasted = ">p1\n" + "ACGT" * 10 + "\n"
    at.switch_page("views/sequences.py").run()
    at.text_area(key="paste_text").input(pasted)
    at.button(key="load_paste").click().run()
    assert [s.id for s in at.session_state["seqs"]] == ["p1"]
    at.selectbox(key="att_recipe").set_value("dnabert-viz")
    at.switch_page("views/export.py").run()
    assert any("made from a sequence set loaded earlier" in c.value for c in at.caption)
    at.button(key="exp_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    z = zipfile.ZipFile(io.BytesIO(at.session_state["export_zip"]["data"]))
    prov = json.loads(z.read("provenance.json"))
    assert prov["inputs_sha256"] == {
        "first.fa": hashlib.sha256(first).hexdigest(),
        "pasted.txt": hashlib.sha256(pasted.encode()).hexdigest(),
    }
    assert "attention" not in prov["parameters"]
    for name in drawn:
        meta = prov["files"][f"figures/{name}"]
        assert f"figures/{name}.png" in z.namelist()
        if name.startswith("layer_head_grid_"):  # raw [CLS] attention of every head, whatever the recipe
            assert meta["lens"].startswith("[CLS] attention of every layer and head") and "lens_settings" not in meta
        else:
            assert meta["lens"] == rollout.describe() and meta["lens_settings"]["recipe"] == "rollout"
        assert meta["from_loaded_sequences"] is False and meta["sequences"]["label"] == "first.fa"
        assert meta["sequences"]["inputs_sha256"] == {"first.fa": hashlib.sha256(first).hexdigest()}
    table = prov["files"]["tables/attention"]
    assert table["lens"] == make_lens("attention").describe() and table["from_loaded_sequences"] is True
    assert table["sequences"]["n"] == 1 and table["sequences"]["label"] == "pasted text"
