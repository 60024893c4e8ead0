"""A costly lens over the whole set on the Attention page (AppTest): picking it starts nothing (its cost and a
button are shown, the selected sequence's track is computed at once), the run counts sequences out of N, and Stop
leaves the previous lens's track and landscape on the page, labelled with that lens."""

import json
from pathlib import Path

import numpy as np
import pytest

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


def _app(**state):
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(APP, default_timeout=600)
    for k, v in state.items():
        app.session_state[k] = v
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _charts(app) -> dict:
    """title -> the first trace's z (or y) numbers, of every plotly chart the last run drew."""
    import base64

    def numbers(arr):
        if isinstance(arr, dict) and "bdata" in arr:
            return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=arr["dtype"])
        return np.asarray(arr, dtype=float)

    out = {}
    for c in app.get("plotly_chart"):
        spec = json.loads(c.proto.spec)
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
