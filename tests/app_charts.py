"""The plotly figures an AppTest run drew, whichever element drew them: ``st.plotly_chart`` (most pages) or the
dashboard's own chart component (:mod:`dashboard.chart`, the Attention page), which AppTest lists as an unknown
``bidi_component`` element whose JSON data holds the figure's JSON; and the dashboard as an AppTest
(:func:`dashboard_app`)."""

from __future__ import annotations

import json
from pathlib import Path

COMPONENT = "dnalens_chart"
APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


def dashboard_app(timeout: int = 300):
    """The dashboard as an AppTest, as a browser tab that has drawn the Attention page's landscape. AppTest runs no
    browser, so the chart never reports its first draw and the page would keep the selected sequence's panels back
    (``dashboard.state.LANDSCAPE_SHOWN``; tests/test_browser.py sees the real report)."""
    from streamlit.testing.v1 import AppTest

    from dashboard.state import LANDSCAPE_SHOWN

    app = AppTest.from_file(APP, default_timeout=timeout)
    app.session_state[LANDSCAPE_SHOWN] = True
    return app


def _figure(node) -> dict | None:
    """The plotly figure (a dict) a tree node draws, or None when it draws none."""
    if node.type == "plotly_chart":
        return json.loads(node.proto.spec)
    if node.type == "bidi_component" and node.proto.component_name == COMPONENT:
        return json.loads(json.loads(node.proto.json)["figure"])
    return None


def _walk(node, out: list) -> list:
    """Every (node, figure) under ``node``, depth first: the order of the page."""
    children = getattr(node, "children", None)
    if children is not None:
        for child in children.values():
            _walk(child, out)
        return out
    fig = _figure(node)
    if fig is not None:
        out.append((node, fig))
    return out


def charted(app) -> list:
    """``[(element, figure dict)]`` of every chart the last run drew (main area, then sidebar), in page order."""
    return _walk(app.main, []) + _walk(app.sidebar, [])


def figures(app) -> list[dict]:
    """Every chart's figure dict the last run drew, in page order."""
    return [fig for _, fig in charted(app)]


def figure(app, key: str) -> dict:
    """The figure of the chart whose key is ``key`` (an element's id ends with its user key)."""
    for node, fig in charted(app):
        if node.proto.id.endswith(f"-{key}") or getattr(node, "key", None) == key:
            return fig
    raise AssertionError(f"no chart '{key}' on the page")
