"""The dashboard in a real browser (Playwright + Debian's Chromium, as tests/test_browser.py drives it).

* server start: what ``dnalens app`` (``make app``) runs, ``python dashboard/serve.py`` (``streamlit run
  dashboard/app.py`` in trees without it), until its health check answers.
* cold open, fresh server: the page opened as soon as a new server answers, until the landscape is drawn (its
  plotly title, ``... 200 sequences, sorted by ...``, is in the DOM).
* cold open, running server: a new Streamlit session (a new tab of a browser that opened the app before, so
  plotly.js is in its cache) on a server that served one before, until the landscape; also reported for a new
  browser (an empty cache: plotly.js is fetched and compiled again).
* full rerun: the "r" key (Streamlit's rerun), timed from the key until Streamlit is idle.
* control changes on the Attention page: another sequence (selectbox), the landscape's sort order and the token
  matrix's layer (segmented controls, or selectboxes in older trees); each timed from the change until Streamlit is
  idle.

Reruns and changes are timed on the page's own clock, as a user meets them: from the page's input event (the click
or key) to the painted frame after the page's last change. Beside it: the same input until this process saw the
page idle (Playwright's events and calls reach it 20-60 ms after the page), and from Playwright's call (which first
waits until the element is visible and stable, 50-130 ms that are not the app's).

"Idle": the server reported the run finished (a ``script_finished`` ForwardMsg read off the websocket, so a change
is never timed before its run started) and the DOM shows no status widget (``[data-testid="stStatusWidget"]``) and
no element marked stale (``[data-stale="true"]``), after two animation frames; and no further run starts within
0.3 s (a change that reruns two fragments one after the other is timed until the second is drawn; the 0.3 s of
waiting is not counted). On the page's clock the change ends at the first animation frame, after the run's
``script_finished`` message reached the page and after the last DOM change the page made before this process saw it
idle, at which the DOM is idle; then the next frame (that one painted). Medians of several tries.

``--baseline COMMIT`` runs the same measurements on another commit of this repository (``git archive`` into a
temporary folder, nothing in the working tree changes) and reports ours / baseline.

python bench/bench_dashboard.py [--quick] [--baseline COMMIT] [--tries N]
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from common import ROOT, Row

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LANDSCAPE = "200 sequences, sorted by"
LANDSCAPE_JS = f"""() => [...document.querySelectorAll('.js-plotly-plot .gtitle')]
    .some(e => e.textContent.includes("{LANDSCAPE}"))"""
IDLE_JS = """() => !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-stale="true"]')"""
# what the page records for timing on its own clock: its last input event (a click or key), the arrival of every
# websocket message, and, while a change is timed, every animation frame (idle or not) and every DOM change
INPUT_JS = """for (const t of ["click", "keydown"]) {
  document.addEventListener(t, (e) => { window.__dnalensInput = e.timeStamp; }, true);
}
window.__dnalensMsgs = [];  // [page time, bytes] of every websocket message, in arrival order
const PageSocket = window.WebSocket;
window.WebSocket = class extends PageSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (e) => {
      window.__dnalensMsgs.push([performance.now(), e.data.byteLength ?? e.data.size ?? e.data.length]);
    });
  }
};
window.__dnalensFrames = null;  // [page time, idle] of every animation frame while a change is timed
window.__dnalensChanges = [];  // page times of DOM changes while a change is timed
new MutationObserver(() => {
  if (window.__dnalensFrames !== null) window.__dnalensChanges.push(performance.now());
}).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
window.__dnalensWatch = () => {
  window.__dnalensFrames = [];
  window.__dnalensChanges = [];
  const frame = () => {
    if (window.__dnalensFrames === null) return;
    window.__dnalensFrames.push([performance.now(), (IDLE)()]);
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
};"""
INPUT_JS = INPUT_JS.replace("(IDLE)", IDLE_JS)
# how long the change took on the page's own clock: from the input to the frame after the page's last change (the
# first idle frame after the run's script_finished message and after the last DOM change seen before Python saw it
# idle), painted (the next frame)
PAGE_DONE_JS = """([k, bytes, age]) => {
  const msgs = window.__dnalensMsgs, frames = window.__dnalensFrames || [], input = window.__dnalensInput;
  window.__dnalensFrames = null;
  if (input == null || k >= msgs.length || msgs[k][1] !== bytes) return null;
  const cutoff = performance.now() - age;
  const changes = window.__dnalensChanges.filter((t) => t <= cutoff);
  const from = Math.max(msgs[k][0], changes.length ? changes[changes.length - 1] : 0);
  const i = frames.findIndex((f) => f[0] >= from && f[1]);
  if (i < 0) return null;
  return (i + 1 < frames.length ? frames[i + 1][0] : frames[i][0]) - input;
}"""
SETTLE_MS = 300  # after idle, a run that starts within this long still belongs to the change (not timed itself)
TARGETS = {"running": 3.0, "rerun": 1.0, "control": 0.3, "serve": 30.0}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(root: Path):
    """A streamlit server on ``root``'s app; yields (url, seconds until its health check answered)."""
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    args = ["--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"]
    args += ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    t0 = time.perf_counter()
    serve = root / "dashboard" / "serve.py"  # what `dnalens app` runs (older trees: streamlit run app.py)
    cmd = [str(serve)] if serve.exists() else ["-m", "streamlit", "run", str(root / "dashboard" / "app.py")]
    proc = subprocess.Popen(
        [sys.executable, *cmd, *args],
        cwd=root / "dashboard",  # as `dnalens app`: dashboard/.streamlit/config.toml applies
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if proc.poll() is not None or time.perf_counter() - t0 > 120:
                raise RuntimeError(f"the app in {root} did not start")
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read().strip() == b"ok":
                    break
            except OSError:
                time.sleep(0.05)
        yield url, time.perf_counter() - t0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


class Session:
    """One browser session (its own context, so its own Streamlit session) that counts finished script runs."""

    def __init__(self, browser, url: str, context=None):
        self.own = context is None  # a context of its own: an empty browser cache (plotly.js loaded and compiled)
        self.context = browser.new_context(viewport={"width": 1500, "height": 1100}) if self.own else context
        self.page = self.context.new_page()
        self.page.add_init_script(INPUT_JS)
        self.page.set_default_timeout(120_000)
        self.url = url
        self.finished = 0
        self.frames = []  # bytes of every binary websocket frame received, in order (the page's __dnalensMsgs)
        self.finished_at = []  # the index in ``frames`` of each script_finished message
        self.page.on("websocket", self._watch)

    def _watch(self, ws) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        def frame(payload):
            if isinstance(payload, (bytes, bytearray)):
                self.frames.append(len(payload))
                msg = ForwardMsg()
                try:
                    msg.ParseFromString(bytes(payload))
                except Exception:  # not a ForwardMsg (never expected); ignore it
                    return
                if msg.WhichOneof("type") == "script_finished":
                    self.finished += 1
                    self.finished_at.append(len(self.frames) - 1)

        ws.on("framereceived", frame)

    def open(self) -> float:
        """Seconds from navigation until the landscape is drawn. Returns once the whole page is there: a new tab gets
        the selected sequence's panels after its landscape is drawn (dashboard/views/attention.py)."""
        t0 = time.perf_counter()
        self.page.goto(self.url)
        self.page.wait_for_function(LANDSCAPE_JS, polling="raf", timeout=600_000)
        dt = time.perf_counter() - t0
        self.page.wait_for_selector(".st-key-matrix_chart .main-svg", timeout=600_000)
        self.idle(0)
        return dt

    def idle(self, before: int) -> None:
        """Wait for a script run finished after ``before`` runs, then for an idle DOM and two frames."""
        t0 = time.perf_counter()
        while self.finished <= before:
            if time.perf_counter() - t0 > 300:
                raise RuntimeError("no script run finished within 300 s of the action (did it change anything?)")
            self.page.wait_for_timeout(2)
        self.page.wait_for_function(IDLE_JS, polling="raf", timeout=600_000)
        self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")

    def timed(self, action, prepare=None) -> tuple[float, float, float]:
        """Seconds from the page's input event to the painted frame after the page's last change, on the page's own
        clock (:data:`PAGE_DONE_JS`); the same to when this process saw the page idle; and from the ``action`` call
        to then (``prepare``, e.g. opening a dropdown, runs first, untimed)."""
        if prepare is not None:
            prepare()
        before = self.finished
        self.page.evaluate("() => { window.__dnalensInput = null; window.__dnalensWatch(); }")
        t0 = time.perf_counter()
        action()
        self.idle(before)
        done = time.perf_counter()
        while True:  # a change may run two fragments one after the other: idle only when no run follows
            runs = self.finished
            self.page.wait_for_timeout(SETTLE_MS)
            if self.finished == runs and self.page.evaluate(IDLE_JS):
                break
            self.idle(runs)
            done = time.perf_counter()
        k = self.finished_at[-1]
        on_page = self.page.evaluate(PAGE_DONE_JS, [k, self.frames[k], (time.perf_counter() - done) * 1000])
        until_seen = done - self._input_time(t0)
        return until_seen if on_page is None else on_page / 1000, until_seen, done - t0

    def _input_time(self, fallback: float) -> float:
        """When the page saw the input, on this process's clock (the page's clock is read mid-call: ±1 ms)."""
        a = time.perf_counter()
        since = self.page.evaluate(
            "() => window.__dnalensInput == null ? null : performance.now() - window.__dnalensInput"
        )
        b = time.perf_counter()
        return fallback if since is None else (a + b) / 2 - since / 1000

    def close(self) -> None:
        (self.context if self.own else self.page).close()


def _open(page, label: str):
    """Open the main-area selectbox labelled ``label`` (a react-aria combobox); returns its options. A click that
    lands while the page still settles may not open the list, so it is tried again."""
    has = page.get_by_role("combobox", name=label, exact=True)
    box = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').filter(has=has)
    combo = box.get_by_role("combobox")
    options = page.get_by_role("option")
    for _ in range(20):
        if combo.get_attribute("aria-expanded") != "true":
            box.get_by_role("button", name="Open").click()
        try:
            options.first.wait_for(state="visible", timeout=1000)
            return options
        except Exception:  # playwright's TimeoutError: not open yet
            page.keyboard.press("Escape")
    raise RuntimeError(f"the selectbox {label!r} did not open")


def _select(page, label: str, option_index: int):
    """(prepare, action) picking option ``option_index`` of the main-area control labelled ``label``: a selectbox
    (opening its list is not timed) or a segmented control (one click on the option)."""
    held = {}
    group = page.locator(f'[data-testid="stMain"] [role="radiogroup"][aria-label="{label}"]')

    def prepare():
        if group.count():
            held["options"] = group.get_by_role("radio")
            held["options"].nth(option_index).wait_for()
        else:
            held["options"] = _open(page, label)

    return prepare, lambda: held["options"].nth(option_index).click()


def blur(page) -> None:
    """Focus nothing: Streamlit's "r" shortcut is ignored while a widget (the last combobox picked) has focus."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")


def rerun(page) -> None:
    page.keyboard.press("r")


def measure(browser, url: str, tries: int) -> dict:
    """Cold open on the (fresh) server, then a second session's open, reruns and control changes."""
    out = {"fresh": None, "cold": [], "running": [], "rerun": [], "sequence": [], "sort": [], "layer": []}
    calls = {k: [] for k in ("rerun", "sequence", "sort", "layer")}  # the same, timed from Playwright's call
    seen = {k: [] for k in calls}  # the same, until this process saw the page idle
    first = Session(browser, url)
    out["fresh"] = first.open()
    first.page.close()  # its browser (cache) stays for the new tabs below
    print(f"  first landscape on a fresh server: {out['fresh']:.2f} s", file=sys.stderr, flush=True)
    for _ in range(max(2, tries)):  # new-tab opens vary by ±0.4 s: as many as the changes
        s = Session(browser, url)  # a browser that never saw the app
        out["cold"].append(s.open())
        s.close()
        s = Session(browser, url, first.context)  # a new tab of a browser that opened the app before
        out["running"].append(s.open())
        s.close()
    first.close()
    s = Session(browser, url)
    s.open()
    page = s.page
    for i in range(tries):
        for name, times in (("rerun", s.timed(lambda: rerun(page), lambda: blur(page))),):
            out[name].append(times[0])
            seen[name].append(times[1])
            calls[name].append(times[2])
        for name, label, index in (
            ("sequence", "sequence", 1 + i % 5),  # each pick differs from the one before, so each one reruns
            ("sort", "sort rows by", (i + 1) % 4),
            ("layer", "layer", i % 2),
        ):
            prepare, action = _select(page, label, index)
            on_page, from_input, from_call = s.timed(action, prepare)
            out[name].append(on_page)
            seen[name].append(from_input)
            calls[name].append(from_call)
        print(
            f"  try {i + 1}/{tries}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in out.items() if isinstance(v, list)),
            file=sys.stderr,
            flush=True,
        )
    s.close()
    out["calls"], out["seen"] = calls, seen
    return out


def bench_tree(root: Path, tries: int) -> dict:
    from playwright.sync_api import sync_playwright

    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=flags)
        try:
            with server(root) as (url, serve):
                res = measure(browser, url, tries)
                res["serve"] = serve
        finally:
            browser.close()
    return res


@contextmanager
def checkout(commit: str):
    """``commit`` of this repository in a temporary folder (git archive; the working tree is untouched)."""
    with tempfile.TemporaryDirectory(prefix="dnalens-bench-app-") as tmp:
        archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        js = ROOT / "assets" / "js"
        if js.exists():  # npm's JavaScript is not in git
            shutil.copytree(js, Path(tmp) / "assets" / "js", symlinks=True, dirs_exist_ok=True)
        yield Path(tmp)


def _med(xs) -> float:
    return statistics.median(xs) if isinstance(xs, list) else xs


def rows(ours: dict, base: dict | None, label: str) -> list[Row]:
    controls = ours["sequence"] + ours["sort"] + ours["layer"]
    items = [
        ("dashboard server answers (make app)", "serve", ours["serve"], "<= 30 s"),
        ("dashboard first landscape, fresh server", "fresh", ours["fresh"], "reported"),
        ("dashboard first landscape, running server, new browser", "cold", _med(ours["cold"]), "reported"),
        ("dashboard first landscape, running server", "running", _med(ours["running"]), "<= 3 s"),
        ("dashboard full rerun (median)", "rerun", _med(ours["rerun"]), "<= 1 s"),
        ("dashboard control change (median of 3 controls)", "control", _med(controls), "<= 0.3 s"),
    ]
    out = []
    for name, key, value, target in items:
        if base is not None:
            b = _med(base["sequence"] + base["sort"] + base["layer"]) if key == "control" else _med(base[key])
            baseline, ratio = f"{label}: {b:.2f} s", value / b
        else:
            baseline, ratio = "-", 1.0
        limit = TARGETS.get(key)
        out.append(Row(name, baseline, f"{value:.2f} s", ratio, target, limit is None or value <= limit))
    per = ", ".join(f"{k} {_med(ours[k]):.2f} s" for k in ("sequence", "sort", "layer"))
    calls, seen = ours.get("calls", {}), ours.get("seen", {})
    if calls:
        call = _med(calls["sequence"] + calls["sort"] + calls["layer"])
        idle = f"until this process saw it idle {_med(seen['sequence'] + seen['sort'] + seen['layer']):.2f} s; " * bool(
            seen
        )
        out[-1].note = f"per control: {per}; {idle}from Playwright's call {call:.2f} s; tries {len(ours['rerun'])}"
        rerun_idle = f"until this process saw it idle {_med(seen['rerun']):.2f} s; " * bool(seen)
        out[-2].note = f"{rerun_idle}from Playwright's call {_med(calls['rerun']):.2f} s"
    else:
        out[-1].note = f"per control: {per}; tries {len(ours['rerun'])}"
    return out


def run(quick: bool = False, baseline: str | None = None, tries: int | None = None) -> list[Row]:
    if not os.path.exists(CHROMIUM):
        print("bench_dashboard: Chromium is not installed (make browser); skipped")
        return []
    tries = tries or (3 if quick else 7)
    base = None
    if baseline:
        with checkout(baseline) as tree:
            base = bench_tree(tree, tries)
    ours = bench_tree(ROOT, tries)
    return rows(ours, base, f"commit {baseline}" if baseline else "")


if __name__ == "__main__":
    import argparse

    from common import print_table

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--baseline", help="another commit, measured the same way first")
    ap.add_argument("--tries", type=int)
    a = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    print_table(run(a.quick, a.baseline, a.tries))
    print(f"load average after: {os.getloadavg()}")
