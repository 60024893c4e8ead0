"""The dashboard's reruns and long runs (AppTest): a fragment's rerun shows the same numbers as a full run, a long
run can be stopped and leaves the session usable, short sequences and few sequences draw every panel."""

import json

import numpy as np
import pytest
from app_charts import charted, dashboard_app, figure, figures


def _app(**state):
    app = dashboard_app(600)
    for k, v in state.items():
        app.session_state[k] = v
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _charts(app) -> list:
    """The plotly JSON of the charts the last run drew, in page order (:func:`app_charts.figures`)."""
    return figures(app)


def _numbers(arr):
    import base64

    if isinstance(arr, dict) and "bdata" in arr:
        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=arr["dtype"]).tolist()
    return arr


def _data(spec) -> list:
    """Every trace's numbers (x, y, z, customdata) of a chart, decoded; NaN (the gaps between a grid's heads) as the
    string "NaN", so that equal charts compare equal."""

    def plain(v):
        if isinstance(v, list):
            return [plain(x) for x in v]
        return "NaN" if isinstance(v, float) and v != v else v

    return [{k: plain(_numbers(t[k])) for k in ("x", "y", "z", "customdata") if k in t} for t in spec["data"]]


def _browser_run(app, monkeypatch, fragment: str) -> None:
    """Run ``app`` as a browser asks for a rerun after a widget inside the fragment ``fragment`` changed: that
    fragment only (the request names its id; AppTest itself always asks for a full run)."""
    import functools

    from streamlit.testing.v1 import local_script_runner

    (fid,) = app._fragment_storage.resolve_target(fragment)
    with monkeypatch.context() as m:
        m.setattr(local_script_runner, "RerunData", functools.partial(local_script_runner.RerunData, fragment_id=fid))
        app.run()
    assert not app.exception, [e.value for e in app.exception]


@pytest.mark.slow
def test_fragment_reruns_show_what_a_full_run_shows(monkeypatch):
    """A new sequence reruns only the fragment that shows it (the landscape is not redrawn); its figures hold the
    same numbers as a new session's full run on that sequence; so do the matrix's layer and the landscape's sort."""
    at = _app()
    full_before = _charts(at)
    assert len(full_before) == 4  # landscape, then the selected sequence's track, grid and matrix
    at.selectbox(key="select_seq_attention").set_value("demo_neg_0003")
    _browser_run(at, monkeypatch, "att_selected")
    got = _charts(at)
    assert len(got) == 3  # track, grid and matrix of the new sequence; no landscape
    assert at.selectbox(key="select_seq_attention").value == "demo_neg_0003"  # the picker is in that fragment
    assert all(c["layout"]["title"]["text"].startswith("demo_neg_0003") for c in got)
    fresh = _app(selected="demo_neg_0003")
    whole = _charts(fresh)
    assert len(whole) == 4
    assert "sorted by" in whole[0]["layout"]["title"]["text"]  # the landscape, first
    for mine, theirs in zip(got, whole[1:], strict=True):
        assert mine["layout"]["title"] == theirs["layout"]["title"] and _data(mine) == _data(theirs)
    assert _data(got[0]) != _data(full_before[1])  # another sequence's track indeed
    for app in (at, fresh):
        app.segmented_control(key="mat_layer_2").set_value(0).run()
        app.segmented_control(key="land_sort").set_value("peak").run()
    mine = {c["layout"]["title"]["text"]: _data(c) for c in _charts(at)}
    theirs = {c["layout"]["title"]["text"]: _data(c) for c in _charts(fresh)}
    assert any("sorted by peak" in t for t in mine) and all(theirs[t] == d for t, d in mine.items())


def _click_landscape(app, chart_id: str, value: str) -> None:
    """What the browser's chart sends when a landscape cell is clicked: the component's "click" trigger with the
    cell's y (its row's id), in the trigger aggregator widget (``<element id>__events``) of the chart ``chart_id``."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    states = app._tree.get_widget_states()
    w = WidgetState(id=f"$$STREAMLIT_INTERNAL_KEY_{chart_id}__events")
    w.json_trigger_value = json.dumps([{"event": "click", "value": value}])
    states.widgets.append(w)
    app._run(widget_state=states)
    assert not app.exception, [e.value for e in app.exception]


def _components(node, out=None) -> list[str]:
    """The names of the custom components (``bidi_component`` elements) under ``node``, in page order."""
    out = [] if out is None else out
    children = getattr(node, "children", None)
    if children is not None:
        for child in children.values():
            _components(child, out)
    elif node.type == "bidi_component":
        out.append(node.proto.component_name)
    return out


@pytest.mark.slow
def test_a_new_tab_gets_the_selected_panels_once_its_landscape_is_drawn():
    """Before the browser reports the landscape drawn, the Attention page sends the landscape, the selected
    sequence's heading, a line saying what follows and the element that waits for the drawing; after the report
    (its callback sets the flag, its fragment reruns), the same charts as a tab that had drawn a landscape before."""
    from dashboard.state import LANDSCAPE_SHOWN

    app = _app(**{LANDSCAPE_SHOWN: False})
    assert [name for name in _components(app.main) if not name.endswith("plotly_preload")] == [
        "dnalens_chart",
        "dnalens_after_first_chart",
    ], _components(app.main)
    assert len(_charts(app)) == 1 and figure(app, "landscape_chart")
    assert any("follow once the landscape is drawn" in c.value for c in app.caption)
    app.session_state[LANDSCAPE_SHOWN] = True  # what the report's callback does
    app.run()
    assert not app.exception and not any("follow once" in c.value for c in app.caption)
    assert "dnalens_after_first_chart" not in _components(app.main)
    assert _charts(app) == _charts(_app())


@pytest.mark.slow
def test_the_landscape_other_sort_orders_are_built_once_it_is_shown(monkeypatch):
    """Once a tab shows the landscape, its other three sort orders are built in the background (once per view):
    picking one then builds nothing and draws what a run that built it draws."""
    import threading

    from core.reports import figures as plots
    from dashboard import state

    state.figure.clear()  # every figure built anew in this test
    built = []
    real = plots.plotly_landscape
    monkeypatch.setattr(plots, "plotly_landscape", lambda *a, **k: built.append(k["title"]) or real(*a, **k))

    def prepared():
        for t in threading.enumerate():
            if t.name == "dnalens-landscape-orders":
                t.join(120)

    app = _app()
    prepared()
    assert sorted(t.split("sorted by ")[1].split(",")[0] for t in built) == ["input", "label", "peak", "prediction"]
    for order in ("peak", "label", "input"):
        app.segmented_control(key="land_sort").set_value(order).run()
        prepared()  # nothing more to prepare: the view is the same
        assert not app.exception and len(built) == 4, built
        assert f"sorted by {order}," in figure(app, "landscape_chart")["layout"]["title"]["text"]
    state.figure.clear()
    assert figure(_app(land_sort="input"), "landscape_chart") == figure(app, "landscape_chart")
    app.segmented_control(key="land_align").set_value("center").run()  # another view: its other orders prepared
    prepared()
    assert len(built) == 4 + 1 + 4 + 3, built  # input/left anew (cache cleared), its 3 others; input/center, 3 others


@pytest.mark.slow
def test_landscape_click_selects_that_row_and_reruns_only_the_selected_panels():
    """A click on a landscape row selects its sequence: only the selected sequence's fragment reruns (track, grid and
    matrix of the clicked row; the landscape is not redrawn), with what a full run on that sequence shows; the
    sequence picker follows; a click on an id that is not loaded changes nothing."""
    at = _app()
    land = figure(at, "landscape_chart")
    chart_id = next(node.proto.id for node, _ in charted(at) if node.proto.id.endswith("-landscape_chart"))
    ids = land["data"][0]["y"]
    assert len(land["data"]) == 1 and land["data"][0]["type"] == "heatmap"  # the cells answer clicks themselves
    target = ids[3]
    assert target != at.session_state["selected"]
    _click_landscape(at, chart_id, target)
    assert at.session_state["selected"] == target
    got = _charts(at)
    assert len(got) == 3 and all(c["layout"]["title"]["text"].split()[0].rstrip(":") == target for c in got)
    assert at.selectbox(key="select_seq_attention").value == target
    whole = _charts(_app(selected=target))
    for mine, theirs in zip(got, whole[1:], strict=True):
        assert mine["layout"]["title"] == theirs["layout"]["title"] and _data(mine) == _data(theirs)
    _click_landscape(at, chart_id, "no_such_sequence")
    assert at.session_state["selected"] == target


@pytest.mark.slow
def test_stop_button_ends_a_long_run_and_keeps_the_session(monkeypatch):
    """Integrated gradients on 200 sequences (asked for with its button) runs in a thread with a Stop button and
    counts sequences out of 200; Stop ends it between slices, the page says so and still shows the attention track
    and landscape (labelled attention), nothing loaded or computed before is lost, and other lenses work at once."""
    from dashboard import jobs

    at = _app()
    keys = ("track_chart", "landscape_chart")
    before = [_data(figure(at, k)) for k in keys]  # the attention track and landscape
    monkeypatch.setattr(jobs, "BLOCK_S", 1.0)  # the page stops following after 1 s, so the test can click Stop
    at.session_state["ig_steps"] = 128
    at.selectbox(key="lens_name").set_value("ig").run()
    assert at.session_state["_jobs"]["tracks"].signature[2].name == "attention"  # picking it started nothing
    at.button(key="lens_compute_tracks").click().run()
    job = at.session_state["_jobs"]["tracks"]
    assert not job.finished.is_set() and "200 sequences" in job.label and job.total == 200
    assert at.button(key="job_stop_tracks").label == "Stop" and not _charts(at)
    at.button(key="job_stop_tracks").click().run()
    assert job.finished.wait(300) and job.stopped and job.done < 200 and job.total == 200
    at.run()
    assert not at.exception
    assert any(m.value.startswith("Stopped: ") and "/200 done" in m.value for m in at.info)
    assert at.button(key="job_again_tracks").label == "Run again"
    shown = [figure(at, k) for k in keys]
    assert [_data(c) for c in shown] == before  # what was shown before the run, still shown
    assert all("attention (dnabert-viz" in c["layout"]["title"]["text"] for c in shown)
    assert at.session_state["lens"].name == "ig"  # the sidebar stays on the new lens; the panels say theirs
    assert len(at.session_state.seqs) == 200
    at.selectbox(key="lens_name").set_value("attention").run()
    assert not at.exception and _data(figure(at, "track_chart")) == before[0]  # the attention tracks are intact
    assert not at.session_state["_jobs"]["tracks"].stopped


def _motif_table(app):
    return next(d.value for d in app.dataframe if "low_support" in d.value.columns)


@pytest.mark.slow
def test_stopped_motif_run_keeps_the_motifs_shown_before(monkeypatch):
    """A motif run stopped by its button leaves the previous run's table on the page."""
    from dashboard import jobs

    at = _app()
    at.switch_page("views/motifs.py").run()
    at.button(key="mt_run").click().run()
    first = _motif_table(at)
    assert len(first) >= 1
    job = {}

    def slow(slot, signature, work, label, **kw):  # the next run waits on an event before it starts working
        import threading

        gate = job.setdefault("gate", threading.Event())

        def held(progress):
            gate.wait(60)
            return work(progress)

        return real(slot, signature, held, label, **kw)

    real = jobs.run
    monkeypatch.setattr(jobs, "run", slow)
    monkeypatch.setattr(jobs, "BLOCK_S", 0.5)
    at.number_input(key="mt_minn").set_value(4).run()
    assert at.button(key="job_stop_motifs").label == "Stop"
    at.button(key="job_stop_motifs").click().run()  # the held run is asked to stop
    job["gate"].set()  # it starts working, reports progress and ends there
    assert at.session_state["_jobs"]["motifs"].finished.wait(60)
    at.run()
    assert at.session_state["_jobs"]["motifs"].stopped and not at.exception
    assert any(m.value.startswith("Stopped: Finding motifs") for m in at.info)
    assert _motif_table(at).equals(first)


@pytest.mark.slow
@pytest.mark.parametrize("n,length", [(1, 40), (5, 40), (2, 8)])
def test_short_and_few_sequences_draw_every_attention_panel(n, length):
    """40 bp (fewer tokens than the crop's default 64), 8 bp (3 k-mers), and five sequences (as many as the
    landscape's smallest row count): every panel is drawn and the crop stays inside the tokens."""
    rng = np.random.default_rng(length)
    fasta = "".join(f">s{i}\n{''.join(rng.choice(list('ACGT'), length))}\n" for i in range(n))
    at = _app()
    at.switch_page("views/sequences.py").run()
    at.file_uploader(key="fasta_up").set_value(("short.fa", fasta.encode(), "text/plain")).run()
    at.button(key="load_fasta").click().run()
    assert len(at.session_state.seqs) == n
    at.switch_page("views/attention.py").run()
    assert not at.exception, [e.value for e in at.exception]
    charts = _charts(at)
    n_tok = length - 6 + 1 + 2  # k-mers + [CLS] + [SEP]
    assert (
        len(charts) == 4
        and charts[3] == figure(at, "matrix_chart")
        and charts[3]["layout"]["title"]["text"].endswith(f"of {n_tok} (forward; 0 = [CLS])")
    )
    assert len(_numbers(charts[3]["data"][0]["x"])) == n_tok
    sizes = [s for s in at.slider if s.label == "crop: tokens shown"]
    if sizes:
        assert sizes[0].max == n_tok
        sizes[0].set_value(2).run()
        first = next(s for s in at.slider if s.label == "crop: first token")
        assert first.max == n_tok - 2 and not at.exception
