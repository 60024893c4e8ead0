"""A costly lens over the whole set on the Attention page (AppTest): picking it starts nothing (its cost and a
button are shown, the selected sequence's track is computed at once), the run counts sequences out of N, and Stop
leaves the previous lens's track and landscape on the page, labelled with that lens."""

import numpy as np
import pytest
from app_charts import dashboard_app, figures
from test_app_runs import _app  # an AppTest of the app with session state set, run once


def _charts(app) -> dict:
    """title -> the first trace's z (or y) numbers, of every plotly chart the last run drew (either element)."""
    import base64

    def numbers(arr):
        if isinstance(arr, dict) and "bdata" in arr:
            return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=arr["dtype"])
        return np.asarray(arr, dtype=float)

    out = {}
    for spec in figures(app):
        trace = spec["data"][0]
        out[spec["layout"]["title"]["text"]] = numbers(trace["z"] if "z" in trace else trace["y"])
    return out


def _one(charts: dict, start: str):
    return next(v for t, v in charts.items() if t.startswith(start))


@pytest.mark.slow
def test_picking_a_costly_lens_starts_nothing_until_its_button():
    """expected-gradients picked in the sidebar: no run over the set, its cost and button on the page, the landscape
    still the attention one (so labelled), the selected sequence's track under the new lens; the button starts
    the run, whose total is the number of sequences, and its landscape then replaces the attention one."""
    from core.lenses import tracks
    from dashboard import lens_runs

    at = _app(eg_steps=1, eg_shuffles=1)
    att = _charts(at)
    at.selectbox(key="lens_name").set_value("expected-gradients").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["_jobs"]["tracks"].signature[2].name == "attention"  # nothing new started
    warn = " ".join(w.value for w in at.warning)
    assert "200 sequences" in warn and "model calls" in warn
    button = at.button(key="lens_compute_tracks")
    assert button.label == "Compute expected-gradients for 200 sequences"
    got = _charts(at)
    land = _one(got, "attention (dnabert-viz")
    assert np.allclose(land, _one(att, "attention (dnabert-viz"), equal_nan=True)  # the attention landscape
    track = _one(got, "demo_pos_0001")
    lens = at.session_state["lens"]
    assert "expected gradients" in next(t for t in got if t.startswith("demo_pos_0001"))
    lm = lens_runs.state.load_model_cached("demo", "auto", "float32", False)
    want = tracks(lm, at.session_state.seqs[:1], lens).scores[0]
    assert np.allclose(track, want, atol=1e-6)
    button.click().run()
    job = at.session_state["_jobs"]["tracks"]
    assert job.signature[2] == lens and job.finished.wait(600) and job.error is None
    assert job.total == 200 and job.done == 200
    at.run()
    land = next(v for t, v in _charts(at).items() if t.startswith("expected gradients"))
    assert land.size and not np.allclose(land[: land.size // 2], 0)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from checkpoints import make_dnabert_checkpoint

    return make_dnabert_checkpoint(tmp_path_factory.mktemp("tiny_runs"), k=6, layers=1, hidden=16, heads=2, max_pos=64)


def _open(page, n, model, **state):

    from core.io.sequences import Sequence

    rng = np.random.default_rng(0)
    seqs = [Sequence(f"s{i}", "".join(rng.choice(list("ACGT"), 40)), label=1 - i % 2) for i in range(n)]
    at = dashboard_app(300)
    for k, v in {"seqs": seqs, "source_label": "test", "inputs": {}, "model_name": str(model), **state}.items():
        at.session_state[k] = v
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _held(monkeypatch):
    """jobs.run whose next runs wait on an event before working (so the test can click Stop first)."""
    import threading

    from dashboard import jobs

    gate, real = threading.Event(), jobs.run

    def slow(slot, signature, work, label, **kw):
        def held(progress):
            gate.wait(60)
            return work(progress)

        return real(slot, signature, held, label, **kw)

    monkeypatch.setattr(jobs, "run", slow)
    monkeypatch.setattr(jobs, "BLOCK_S", 0.5)
    return gate


def _summary(at):
    return next(d.value for d in at.dataframe if "mean_spearman" in d.value.columns)


@pytest.mark.slow
def test_set_agreement_counts_sequences_of_every_lens_and_stop_keeps_the_table(tiny, monkeypatch):
    """The Lenses page's "Measure agreement" runs in a thread: its total is lenses × sequences; stopped, the summary
    measured before stays on the page with its own sequence count, and the page below is still drawn."""
    at = _open("views/lenses.py", 3, tiny)
    at.button(key="lens_set_run").click().run()
    first = _summary(at)
    done = at.session_state["_jobs"]["lens_set"]
    assert done.total == 3 * (len(first)) and done.done == done.total  # every lens and ISM, 3 sequences each
    gate = _held(monkeypatch)
    at.number_input(key="lens_set_n").set_value(2).run()
    at.button(key="lens_set_run").click().run()
    job = at.session_state["_jobs"]["lens_set"]
    assert job.total == 0 or job.total == 2 * len(first)
    at.button(key="job_stop_lens_set").click().run()
    gate.set()
    assert job.finished.wait(60)
    at.run()
    assert not at.exception and job.stopped and job.total == 2 * len(first)
    assert any(m.value.startswith("Stopped: Agreement on 2 sequences") for m in at.info)
    assert _summary(at).equals(first)
    assert any(c.value.startswith("3 sequences; one row per lens") for c in at.caption)
    assert at.button(key="dep_run").label == "Compute the map"  # the rest of the page is drawn


@pytest.mark.slow
def test_sets_page_costly_lens_waits_for_its_button_and_counts_sequences(tiny):
    """ig picked in the sidebar: the Sets page shows its cost and button and starts nothing; the button starts a
    run over the chosen sequences (total = that number) and the views then name ig."""
    at = _open("views/sets.py", 4, tiny, lens_name="ig", ig_steps=2)
    assert "set_tracks" not in at.session_state["_jobs"] if "_jobs" in at.session_state else True
    button = at.button(key="lens_compute_set_tracks")
    assert button.label == "Compute ig for 4 sequences"
    assert "4 sequences × about 3 model calls" in " ".join(w.value for w in at.warning)
    button.click().run()
    job = at.session_state["_jobs"]["set_tracks"]
    assert job.finished.wait(120) and job.error is None and job.total == 4 and job.done == 4
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    titles = [f["layout"]["title"]["text"] for f in figures(at)]
    assert any(t.startswith("integrated gradients") and "average profile" in t for t in titles), titles
