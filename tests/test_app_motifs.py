"""The Motifs page discovers motifs from the sidebar's lens (AppTest, a tiny checkpoint and a few short sequences):
the lens is named before the run, the numbers are core's for that lens, and the Sets page gets the same run."""

import numpy as np
import pytest
from app_charts import dashboard_app

from core.io.sequences import Sequence


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from checkpoints import make_dnabert_checkpoint

    from core.model.loading import load_model

    path = make_dnabert_checkpoint(tmp_path_factory.mktemp("tiny_mt"), k=6, layers=1, hidden=16, heads=2, max_pos=64)
    return load_model(str(path), device="cpu")


def _seqs(n=8, L=40):
    """Six positives (label 1) and two negatives."""
    rng = np.random.default_rng(3)
    return [Sequence(f"s{i}", "".join(rng.choice(list("ACGT"), L)), label=int(i < 6)) for i in range(n)]


def _core_stages(model, seqs, lens):
    from core import motifs as mt
    from core.lenses import tracks
    from core.reports.motifs import motif_scores

    pos = [s.seq for s in seqs]
    scores, _ = motif_scores(tracks(model, seqs, lens))
    params = mt.MotifParams(window_size=24, min_len=3, pval_cutoff=0.005, min_n_motif=3, region_rule="quantile")
    neg = mt.shuffled_background(pos, copies=2, seed=0)
    return mt.discover_motifs(pos, scores, neg, params, pos_ids=[s.id for s in seqs]).stages


@pytest.mark.slow
def test_motifs_page_uses_the_sidebar_lens(tiny):

    from core.lenses import make_lens

    seqs = _seqs()
    at = dashboard_app(300)
    at.session_state["seqs"] = seqs
    at.session_state["source_label"] = "test sequences"
    at.session_state["inputs"] = {}
    at.session_state["model_name"] = tiny.path
    at.switch_page("views/motifs.py")
    at.run()
    at.selectbox(key="lens_name").set_value("grad-input").run()
    lens = at.session_state["lens"]
    assert lens == make_lens("grad-input", orientation="forward")
    shown = " ".join(c.value for c in at.caption)
    assert f"regions from: **{lens.describe()}**" in shown and "about 6 model calls" in shown
    assert "signed: its positive part" in shown
    at.selectbox(key="mt_rule").set_value("quantile")
    at.number_input(key="mt_minlen").set_value(3)
    at.button(key="mt_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: int(m.value) for m in at.metric}
    core = _core_stages(tiny, seqs[:6], lens)
    assert (metrics["regions"], metrics["candidates"]) == (core["regions"], core["candidates"])
    assert at.session_state["motif_run"]["lens"] == lens.describe()
    assert at.session_state["params"]["motifs"]["lens"] == lens.describe()
    # attention gives other regions: the page follows the lens
    at.selectbox(key="lens_name").set_value("attention").run()
    metrics_att = {m.label: int(m.value) for m in at.metric}
    core_att = _core_stages(tiny, seqs[:6], make_lens("attention"))
    assert metrics_att["regions"] == core_att["regions"]
    assert core["regions"] > core_att["regions"] > 0  # different regions: the page follows the lens
    assert at.session_state["motif_run"]["lens"] == make_lens("attention").describe()
    # the Sets page shows this run (same model and lens) instead of asking for another
    at.switch_page("views/sets.py").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(c.value for c in at.caption) + " ".join(i.value for i in at.info)
    assert "Run discovery here" not in shown and "No motif with a JASPAR match (" in shown
    # another lens: the Motifs page's run is not shown as if it came from it
    at.selectbox(key="lens_name").set_value("grad-input").run()
    assert any("with the same lens: " + lens.describe() in c.value for c in at.caption)
