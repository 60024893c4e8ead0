"""Plotly charts that update in place: a Streamlit (components v2) element that keeps one plotly.js plot per key
and redraws it with ``Plotly.react`` when its figure changes.

``st.plotly_chart`` derives its element's identity from the figure itself (Streamlit 1.67), so every changed figure
is a new element: the old plot is torn down, the frontend re-serialises the figure and plotly draws from scratch.
Here the element's identity is its key, the figure travels as the JSON plotly writes (built once per figure and
cached), and the browser only diffs the new figure into the plot it already has. plotly.js itself is the copy that
ships with the plotly Python package, served by the app from ``dashboard/static/`` (no network).

A click on a point (``on_click``) reports the point's ``y`` (the landscape's sequence id) as a trigger value."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import streamlit as st

STATIC = Path(__file__).resolve().parent / "static"

_JS = r"""
const SRC = "app/static/plotly.min.js";
function plotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__dnalensPlotly) {
    window.__dnalensPlotly = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = new URL(SRC, document.baseURI).href;
      s.onload = () => resolve(window.Plotly);
      s.onerror = () => reject(new Error("plotly.js could not be loaded from " + SRC));
      document.head.appendChild(s);
    });
  }
  return window.__dnalensPlotly;
}
export default function ({ parentElement, data, setTriggerValue }) {
  let el = parentElement.querySelector(".dnalens-plot");
  if (!el) {
    el = document.createElement("div");
    el.className = "dnalens-plot";
    el.style.width = "100%";
    parentElement.appendChild(el);
  }
  if (el.__shown === data.figure) return;
  el.__shown = data.figure;
  const fig = JSON.parse(data.figure);
  const config = { responsive: true, displaylogo: false, toImageButtonOptions: { filename: data.name } };
  plotly().then((Plotly) => {
    if (el.__shown !== data.figure) return;  // a newer figure arrived while plotly.js loaded
    Plotly.react(el, fig.data, fig.layout, config);
    if (data.clickable && !el.__clicks) {
      el.__clicks = true;
      el.on("plotly_click", (ev) => {
        const p = ev.points && ev.points[0];
        if (p && p.y !== undefined) setTriggerValue("click", String(p.y));
      });
    }
  }).catch((err) => { el.textContent = String(err); });
}
"""

_served = {"plotly": False}
_component = st.components.v2.component("dnalens_chart", js=_JS, isolate_styles=False)


def ensure_plotly_js() -> None:
    """Copy the plotly Python package's plotly.min.js to ``dashboard/static/`` (served at app/static/) when it is
    missing or differs in size: the copy always matches the installed plotly. Once per process."""
    if _served["plotly"]:
        return
    import plotly

    src = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    dst = STATIC / "plotly.min.js"
    if not dst.exists() or dst.stat().st_size != src.stat().st_size:
        STATIC.mkdir(exist_ok=True)
        tmp = dst.with_suffix(".tmp")
        shutil.copyfile(src, tmp)
        tmp.replace(dst)
    _served["plotly"] = True


FONT = '"Source Sans", "Source Sans Pro", sans-serif'  # Streamlit's own font, served with the app
TEXT = "#31333F"  # Streamlit's text colour


@functools.cache
def _look() -> dict:
    """plotly's white template with Streamlit's font and text colour, as JSON (made once)."""
    import plotly.io as pio

    look = pio.templates["plotly_white"].to_plotly_json()
    layout = look.setdefault("layout", {})
    layout["font"] = {"family": FONT, "color": TEXT}
    for axis in ("xaxis", "yaxis"):  # tick labels are not measured for overflow on each draw (~50 ms a change)
        layout.setdefault(axis, {})["ticklabeloverflow"] = "allow"
    return look


def figure_json(fig) -> str:
    """``fig`` as the JSON the chart draws, in the app's look (:func:`_look`, put in the JSON: a figure copy with a
    new template costs 60 ms, this 8). Made once per figure object: the pages' figures are built once per input,
    shared and never changed (:func:`dashboard.state.figure`); the figure itself (its HTML export) stays as built."""
    made = vars(fig).get("_dnalens_json")
    if made is None:
        spec = json.loads(fig.to_json())
        spec.setdefault("layout", {})["template"] = _look()
        made = fig._dnalens_json = json.dumps(spec)
    return made


def chart(fig, key: str, name: str = "figure", on_click=None):
    """Draw the plotly figure ``fig`` under ``key`` (the element stays and redraws in place when ``fig`` changes).
    ``name``: the file name of the chart's own PNG button. ``on_click``: called when a point is clicked, with the
    point's y in ``st.session_state[key]["click"]``."""
    kwargs = {"on_click_change": on_click} if on_click is not None else {}
    data = {"figure": figure_json(fig), "name": name, "clickable": on_click is not None}
    return _component(key=key, data=data, **kwargs)
