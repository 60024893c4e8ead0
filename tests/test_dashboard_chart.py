"""dashboard/chart.py, the Attention page's plotly component, without a browser: the figure JSON it sends (made once
per figure object, in the app's look, the figure's data unchanged) and plotly.js served (the cartesian bundle from npm, else the plotly package's)."""

import json
from pathlib import Path

import numpy as np
import pytest


def test_figure_json_is_made_once_per_figure_in_the_app_look(monkeypatch):
    import plotly.graph_objects as go

    from dashboard import chart

    calls = []
    to_json, to_spec = go.Figure.to_json, go.Figure.to_plotly_json

    def counted(self, *args, **kwargs):
        calls.append(self)
        return to_spec(self, *args, **kwargs)

    monkeypatch.setattr(go.Figure, "to_plotly_json", counted)
    fig = go.Figure(go.Scatter(x=[0, 1, 2], y=np.array([3.0, 1.0, 2.0], np.float32)), {"title": {"text": "t"}})
    built = json.loads(to_json(fig))
    first = chart.figure_json(fig)
    assert chart.figure_json(fig) is first and len(calls) == 1  # the same object: the string made once
    spec = json.loads(first)
    assert spec["data"] == built["data"] and spec["layout"]["title"] == built["layout"]["title"]
    look = spec["layout"]["template"]["layout"]
    assert look["xaxis"]["ticklabeloverflow"] == "allow" and look["yaxis"]["ticklabeloverflow"] == "allow"
    assert look["font"] == {"family": chart.FONT, "color": chart.TEXT}
    assert look["plot_bgcolor"] == "white"  # plotly's white template underneath
    assert json.loads(to_json(fig))["layout"]["template"] == built["layout"]["template"]  # the figure kept its own
    other = go.Figure(go.Scatter(x=[0, 1, 2], y=[3.0, 1.0, 5.0]))  # another figure object: its own JSON
    assert json.loads(chart.figure_json(other))["data"][0]["y"] == [3.0, 1.0, 5.0] and len(calls) == 2


def test_ensure_plotly_js_copies_the_chosen_bundle(tmp_path, monkeypatch):
    """The bundle :func:`chart._bundle` chose (built by `make js` with scatter and heatmap only, else the plotly
    package's) is served byte for byte under a versioned name with an old modification time (so browsers keep it)."""
    from dashboard import chart

    src, name, traces = chart._bundle()
    assert name == chart.PLOTLY_JS and src == chart.PLOTLY_SRC and name.endswith(".min.js")
    if traces:
        assert traces == {"heatmap", "scatter"} and name.startswith("plotly-heatmap-")
        assert 500_000 < src.stat().st_size < 1_400_000  # the cartesian bundle: 1.5 MB; the full one 4.8 MB
    else:
        import plotly

        assert src.samefile(Path(plotly.__file__).parent / "package_data" / "plotly.min.js")
        assert plotly.__version__ in name
    static = tmp_path / "static"
    monkeypatch.setattr(chart, "STATIC", static)
    monkeypatch.setitem(chart._served, "plotly", False)
    chart.ensure_plotly_js()
    (dst,) = static.iterdir()
    assert dst.name == name and dst.read_bytes() == src.read_bytes() and chart._served["plotly"]
    assert dst.stat().st_mtime == chart.OLD
    dst.write_text("stale")
    chart.ensure_plotly_js()
    assert dst.read_text() == "stale"  # once per process
    chart._served["plotly"] = False
    chart.ensure_plotly_js()  # a copy of another size (another version) is replaced
    assert dst.read_bytes() == src.read_bytes()
    assert list(static.iterdir()) == [dst]  # no temporary file left


def test_the_full_bundle_is_used_without_npm(tmp_path, monkeypatch):
    import plotly

    from dashboard import chart

    monkeypatch.setattr(chart, "JS", tmp_path / "missing")
    monkeypatch.setattr(chart, "BUILT", tmp_path / "missing" / "dist" / "plotly-heatmap.min.js")
    src, name, traces = chart._bundle()
    assert traces is None and name == f"plotly-{plotly.__version__}.min.js"
    assert src.samefile(Path(plotly.__file__).parent / "package_data" / "plotly.min.js")


def test_a_trace_the_served_bundle_lacks_is_refused(monkeypatch):
    import plotly.graph_objects as go

    from dashboard import chart

    monkeypatch.setattr(chart, "PLOTLY_TRACES", {"heatmap", "scatter"})
    with pytest.raises(ValueError, match="bar"):
        chart.chart(go.Figure(go.Bar(x=[1], y=[1])), key="k")
