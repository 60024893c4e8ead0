"""The Mutations page's variants panel (AppTest, a tiny checkpoint): which input is scored, the scored-class header,
blank empty cells, and a failed re-score that keeps the last results."""

import json

import numpy as np
import pytest
from app_charts import dashboard_app

from core.io.sequences import Sequence


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from checkpoints import make_dnabert_checkpoint

    from core.model.loading import load_model

    path = make_dnabert_checkpoint(tmp_path_factory.mktemp("tiny_var"), k=6, layers=1, hidden=16, heads=2, max_pos=64)
    return load_model(str(path), device="cpu")


def _table(at):
    shown = next(d for d in at.dataframe if "delta" in d.value.columns)
    return shown.value, json.loads(shown.proto.columns)


@pytest.mark.slow
def test_variants_from_upload_or_table_and_failed_rescore_keeps_results(tiny):

    from core.reports.mutations import variant_table
    from core.variants.variants import parse_variant_bytes

    rng = np.random.default_rng(1)
    seqs = [Sequence(f"s{i}", "".join(rng.choice(list("ACGT"), 40)), label=i % 2) for i in range(2)]
    s = seqs[0].seq
    good = f"seq_id\tpos\tref\talt\ns0\t3\t{s[2]}\t{'A' if s[2] != 'A' else 'C'}\ns1\t10\t{seqs[1].seq[9]}\t-\n"
    at = dashboard_app(300)
    at.session_state["seqs"] = seqs
    at.session_state["source_label"] = "test"
    at.session_state["inputs"] = {}
    at.session_state["model_name"] = tiny.path
    at.switch_page("views/mutations.py")
    at.run()
    at.checkbox(key="var_llr").uncheck().run()
    at.file_uploader(key="var_up").set_value(("v.tsv", good.encode(), "text/tab-separated-values")).run()
    assert at.radio(key="var_src").value == "uploaded file (v.tsv)"  # the file is what is scored, the editor hidden
    at.button(key="var_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    df, conf = _table(at)
    core = variant_table(tiny, seqs, parse_variant_bytes(good.encode(), seqs, source="v.tsv"))
    assert np.allclose(df["delta"], core["delta"]) and len(df) == 2
    assert conf["class"]["label"] == "scored class"
    assert list(df["genomic"]) == ["", ""] and "None" not in df.astype(str).to_numpy()
    # a wrong REF: the error is shown and the last results stay
    bad = good.replace(f"s0\t3\t{s[2]}", f"s0\t3\t{'G' if s[2] != 'G' else 'T'}")
    at.file_uploader(key="var_up").set_value(("bad.tsv", bad.encode(), "text/tab-separated-values")).run()
    at.button(key="var_run").click().run()
    assert at.error and "ref" in at.error[0].value.lower()
    assert np.allclose(_table(at)[0]["delta"], core["delta"])
    # the typed table instead of the file
    at.radio(key="var_src").set_value("typed table").run()
    at.button(key="var_run").click().run()
    assert not at.error and len(_table(at)[0]) == 1
