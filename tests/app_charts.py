"""The plotly figures an AppTest run drew, whichever element drew them: ``st.plotly_chart`` (most pages) or the
dashboard's own chart component (:mod:`dashboard.chart`, the Attention page), which AppTest lists as an unknown
``bidi_component`` element whose JSON data holds the figure's JSON."""

from __future__ import annotations

import json

COMPONENT = "dnalens_chart"


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
