"""Plotly charts that update in place: a Streamlit (components v2) element that keeps one plotly.js plot per key
and redraws it with ``Plotly.react`` when its figure changes.

``st.plotly_chart`` derives its element's identity from the figure itself (Streamlit 1.67), so every changed figure
is a new element: the old plot is torn down, the frontend re-serialises the figure and plotly draws from scratch.
Here the element's identity is its key, the figure travels as the JSON plotly writes (built once per figure and
cached), and the browser only diffs the new figure into the plot it already has. plotly.js is served by the app from
``dashboard/static/`` (no network): plotly.js built from its npm sources with heatmaps and scatter plots only, all
these charts draw (`make js`), or, without npm, the full bundle that ships with the plotly Python package.

A click on a point (``on_click``) reports the point's ``y`` (the landscape's sequence id) as a trigger value."""

from __future__ import annotations

import functools
import json
import os
import shutil
from importlib import metadata
from pathlib import Path

import streamlit as st

STATIC = Path(__file__).resolve().parent / "static"
OLD = 1577836800  # 2020-01-01: the served copy's modification time (ensure_plotly_js)

JS = STATIC.parent.parent / "assets" / "js"  # scripts/fetch_js.sh (`make js`) installs and builds here
BUILT = JS / "dist" / "plotly-heatmap.min.js"
TRACES = {"heatmap", "scatter"}  # what that bundle draws; a chart with another trace type is refused (see chart)


def _bundle() -> tuple[Path, str, set[str] | None]:
    """(the plotly.js file, the name it is served under, the trace types it draws: None for all). After `make js`:
    plotly.js bundled from its sources with scatter and heatmap only (assets/js/plotly-heatmap.js), 1.1 MB, which a
    browser evaluates in ~0.4 s (plotly.js's cartesian bundle: 1.5 MB, ~1.0 s; a new tab's first landscape, A/B:
    3.07 -> 2.58 s); without npm, the plotly package's full bundle (4.8 MB, ~2.4 s). The name carries plotly.js's
    version: what is served under a name never changes (see :func:`ensure_plotly_js`)."""
    source = JS / "node_modules" / "plotly.js" / "package.json"
    if BUILT.exists() and source.exists():
        return BUILT, f"plotly-heatmap-{json.loads(source.read_text())['version']}.min.js", TRACES
    full = Path(metadata.distribution("plotly").locate_file("plotly/package_data/plotly.min.js"))
    return full, f"plotly-{metadata.version('plotly')}.min.js", None


PLOTLY_SRC, PLOTLY_JS, PLOTLY_TRACES = _bundle()
_LOADER = r"""
const SRC = "app/static/PLOTLY_JS";
function firstChart() {
  if (!window.__dnalensFirstChart) {
    let settle;
    window.__dnalensFirstChart = new Promise((resolve) => { settle = resolve; });
    window.__dnalensFirstChart.settle = settle;
  }
  return window.__dnalensFirstChart;
}
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
""".replace("PLOTLY_JS", PLOTLY_JS)
_JS = (
    _LOADER
    + r"""
// first draws, one chart per frame in page order: the first chart is painted before the next one is drawn
const firstDraws = [];
const pageDrawn = firstChart();  // settled once the tab's first chart is drawn (or failed to draw)
function drawFirst(draw) {
  firstDraws.push(draw);
  if (firstDraws.length === 1) nextFirst();
}
function nextFirst() {
  if (!firstDraws.length) return;
  firstDraws[0]();
  requestAnimationFrame(() => setTimeout(() => { firstDraws.shift(); nextFirst(); }, 0));
}
export default function ({ parentElement, data, setTriggerValue }) {
  let el = parentElement.querySelector(".dnalens-plot");
  if (!el) {
    el = document.createElement("div");
    el.className = "dnalens-plot";
    el.style.width = "100%";
    parentElement.appendChild(el);
  }
  el.__data = data;  // what a click reads (its scroll target), also when the figure is unchanged
  if (el.__shown === data.figure) return;
  el.__shown = data.figure;
  const fig = JSON.parse(data.figure);
  // the plot's height is kept for it before plotly.js has drawn it: what is below does not jump when it comes
  if (fig.layout && fig.layout.height) el.style.minHeight = fig.layout.height + "px";
  // no "Share chart" button: plotly.js 4 offers to upload the figure to Plotly Cloud by default
  // one config per plot: plotly.js draws the plot anew when the config differs from the last one (the PNG
  // button's file name changes with the figure, so it is set on the plot's context instead)
  const config = el.__config || (el.__config = {
    responsive: true, displaylogo: false, showSendToCloud: false, showEditInChartStudio: false,
    modeBarButtonsToRemove: ["sendChartToCloud"], toImageButtonOptions: { filename: data.name } });
  const draw = (Plotly) => {
    if (el.__shown !== data.figure) return;  // a newer figure arrived meanwhile: that one is drawn
    Plotly.react(el, fig.data, fig.layout, config);
    el._context.toImageButtonOptions.filename = data.name;
    if (data.clickable && !el.__clicks) {
      el.__clicks = true;
      el.on("plotly_click", (ev) => {
        const p = ev.points && ev.points[0];
        if (p && p.y !== undefined) {
          setTriggerValue("click", String(p.y));
          const to = el.__data.scrollTo && document.querySelector(".st-key-" + el.__data.scrollTo);
          if (to) to.scrollIntoView({ behavior: "smooth", block: "start" });
        }
      });
    }
  };
  plotly().then((Plotly) => {
    if (el.__drawn) return draw(Plotly);  // a redraw in place: at once
    el.__drawn = true;
    drawFirst(() => {
      try { draw(Plotly); } catch (err) { el.textContent = String(err); }
      pageDrawn.settle();
    });
  }).catch((err) => { el.textContent = String(err); pageDrawn.settle(); });
}
"""
)

_served = {"plotly": False}
_component = st.components.v2.component("dnalens_chart", js=_JS, isolate_styles=False)
_preloader = st.components.v2.component(
    "dnalens_plotly_preload",
    js=_LOADER + "export default function () { plotly().catch(() => {}); }",
    isolate_styles=False,
)
_waiter = st.components.v2.component(
    "dnalens_after_first_chart",
    js=_LOADER
    + r"""export default function ({ parentElement, setTriggerValue }) {
  if (parentElement.__asked) return;
  parentElement.__asked = true;
  firstChart().then(() => requestAnimationFrame(() => setTriggerValue("ready", true)));
}""",
    isolate_styles=False,
)


def after_first_chart(key: str, on_ready) -> None:
    """An empty element that calls ``on_ready`` (a rerun of the fragment it is in, or of the page) once this browser
    tab has drawn its first chart: a page sends what comes below its first chart after that chart is on screen. The
    browser renders elements on one thread, so elements sent with the chart would be rendered before it is drawn."""
    _waiter(key=key, on_ready_change=on_ready)


def preload() -> None:
    """Start loading plotly.js as soon as a page opens (an empty element), not when the first chart arrives: the
    browser fetches and evaluates it while the server still runs the page."""
    _preloader(key="plotly_preload")


def ensure_plotly_js() -> None:
    """Copy plotly.js (:func:`_bundle`) to ``dashboard/static/<PLOTLY_JS>`` (served at app/static/) when it is
    missing or differs in size. Streamlit's static serving sends no Cache-Control and gzips each
    response (the full bundle: 0.3-0.6 s of server CPU per page open), so the copy gets an old modification time: browsers
    then keep it (heuristic freshness, a tenth of its age) instead of fetching it for every new tab. That is safe
    because the name carries the version: other plotly, other name. Once per process."""
    if _served["plotly"]:
        return
    src, dst = PLOTLY_SRC, STATIC / PLOTLY_JS
    if not dst.exists() or dst.stat().st_size != src.stat().st_size:
        STATIC.mkdir(exist_ok=True)
        tmp = dst.with_suffix(".tmp")
        shutil.copyfile(src, tmp)
        os.utime(tmp, (OLD, OLD))
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
    """``fig`` as the JSON the chart draws, in the app's look (:func:`_look`, put in the spec: a figure copy with a
    new template costs 60 ms; the spec is written once, numpy arrays as plotly's typed arrays). Made once per figure
    object: the pages' figures are built once per input, shared and never changed (:func:`dashboard.state.figure`);
    the figure itself (its HTML export) stays as built."""
    made = vars(fig).get("_dnalens_json")
    if made is None:
        from plotly.io.json import to_json_plotly

        spec = fig.to_plotly_json()
        spec["layout"] = dict(spec.get("layout") or {}, template=_look())
        made = fig._dnalens_json = to_json_plotly(spec)
    return made


def chart(fig, key: str, name: str = "figure", on_click=None, scroll_to: str | None = None):
    """Draw the plotly figure ``fig`` under ``key`` (the element stays and redraws in place when ``fig`` changes).
    ``name``: the file name of the chart's own PNG button. ``on_click``: called when a point is clicked, with the
    point's y in ``st.session_state[key]["click"]``; ``scroll_to``: the key of a container the page scrolls to on a
    click (where what the click selects is shown)."""
    missing = sorted({t.type or "scatter" for t in fig.data} - PLOTLY_TRACES) if PLOTLY_TRACES else []
    if missing:
        raise ValueError(f"{missing}: not in the plotly.js bundle the app serves ({PLOTLY_JS}, make js)")
    kwargs = {"on_click_change": on_click} if on_click is not None else {}
    data = {"figure": figure_json(fig), "name": name, "clickable": on_click is not None, "scrollTo": scroll_to}
    return _component(key=key, data=data, **kwargs)
