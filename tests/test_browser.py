"""End to end in a real browser: the app served on 127.0.0.1, Debian's Chromium driven by Playwright.

Visits every page, checks that plots rendered (plotly SVG in the DOM, bertviz SVG lines in its iframe), runs motifs
and a mutation map, downloads a figure and a table and checks them, fails on any request to a host other than
127.0.0.1, and saves a screenshot of each page under artifacts/screenshots/ (gitignored).
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: `make test` installs Debian's chromium (scripts/install_chromium.sh)")
        pytest.skip("Chromium is not installed (make browser)")
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "dashboard" / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read().strip() == b"ok":
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("the app did not start: " + proc.stdout.read().decode(errors="replace")[-2000:])
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser_page(server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    outside = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(viewport={"width": 1500, "height": 1100}, accept_downloads=True)

        def watch(request):
            host = urlparse(request.url).hostname
            if request.url.startswith(("http://", "https://", "ws://", "wss://")) and host not in ("127.0.0.1",):
                outside.append(request.url)

        context.on("request", watch)
        page = context.new_page()
        page.set_default_timeout(120_000)
        yield page, outside
        context.close()
        browser.close()
    assert not outside, f"requests left 127.0.0.1: {outside[:5]}"


def _goto(page, url):
    page.goto(url)
    page.wait_for_selector('[data-testid="stSidebarNav"]')
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)


# the plotly plots on a page, in page order: st.plotly_chart's, and the dashboard's own chart component's (the
# Attention page, dashboard/chart.py: a plotly div of class dnalens-plot in the element, no stPlotlyChart)
PLOTS = '[data-testid="stPlotlyChart"] .js-plotly-plot, .dnalens-plot'
ATTENTION_CHARTS = ("landscape_chart", "track_chart", "grid_chart", "matrix_chart")  # in page order


def _plot(chart: int | str) -> str:
    """A CSS selector of one plotly plot: the ``chart``-th on the page, or the one of the element keyed ``chart``."""
    if isinstance(chart, str):
        return f".st-key-{chart} .js-plotly-plot"
    return f":is({PLOTS}) >> nth={chart}"


def _plots(page, n=1):
    page.wait_for_selector(f":is({PLOTS}) .main-svg")
    assert page.locator(f":is({PLOTS}) .main-svg").count() >= n


def _component_charts(page, keys=ATTENTION_CHARTS):
    """The dashboard's chart component drew each chart in ``keys``, in that order, and st.plotly_chart none."""
    for key in keys:
        page.wait_for_selector(f".st-key-{key} .dnalens-plot .main-svg")
    import re

    classes = page.locator(".dnalens-plot").evaluate_all(
        "els => els.map(e => e.closest('[data-testid=\"stElementContainer\"]').className)"
    )
    order = [re.search(r"\bst-key-(\S+)", c).group(1) for c in classes]
    assert order == list(keys) and page.locator('[data-testid="stPlotlyChart"]').count() == 0, order


def test_attention_page_opens_on_demo_with_landscape(browser_page, server):
    page, _ = browser_page
    _goto(page, server)
    page.wait_for_selector("text=Landscape")
    _component_charts(page)
    assert page.locator("text=200 sequences, sorted by prediction").count() >= 1  # the landscape's title
    page.screenshot(path=str(SHOTS / "attention.png"), full_page=True)
    # a figure download: PNG of the selected sequence's track
    with page.expect_download() as dl:
        page.locator('[data-testid="stDownloadButton"] button', has_text="PNG").first.click()
    data = Path(dl.value.path()).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_a_new_tab_draws_the_landscape_before_the_rest_of_the_page(browser_page, server):
    """A new tab (a new session) gets the selected sequence's panels only after the landscape is drawn, then all of
    them (tests/test_app_runs.py: the page in AppTest, before and after the report)."""
    page, _ = browser_page
    tab = page.context.new_page()
    tab.set_default_timeout(120_000)
    seen = """window.__seen = {};
new MutationObserver(() => {
  const t = performance.now(), s = window.__seen;
  if (!s.landscape && document.querySelector('.st-key-landscape_chart .main-svg')) s.landscape = t;
  if (!s.track && document.querySelector('.st-key-track_chart')) s.track = t;
}).observe(document, {subtree: true, childList: true});"""
    tab.add_init_script(seen)
    try:
        _goto(tab, server)
        _component_charts(tab)
        first = tab.evaluate("() => window.__seen")
        assert first["landscape"] < first["track"], first  # the track's element came after the landscape's drawing
        assert tab.get_by_text("follow once the landscape is drawn").count() == 0
    finally:
        tab.close()


def test_model_popover_says_what_is_wrong_and_keeps_the_model(browser_page, server):
    """The sidebar's model controls sit in a popover (drawn only when opened); a folder that does not exist gets
    its message in the open popover, and the loaded model stays (its caption, the landscape)."""
    page, _ = browser_page
    _goto(page, server)
    side = page.locator('[data-testid="stSidebar"]')
    assert side.get_by_role("checkbox", name="trust remote code").count() == 0  # not drawn until opened
    side.get_by_role("button", name="Choose or load a model").click()
    box = page.locator('[data-testid="stPopoverBody"]')
    box.get_by_role("button", name="Open").first.click()
    page.get_by_role("option", name="another folder or hub id ...").click()
    field = box.get_by_role("textbox")
    field.wait_for()
    field.fill("/no/such/folder")
    field.press("Enter")
    _settle(page)
    box.get_by_role("button", name="Load model").click()
    box.locator('[data-testid="stAlert"]').wait_for(timeout=60_000)
    said = box.locator('[data-testid="stAlert"]').inner_text()
    assert "'/no/such/folder' not found" in said, said
    side.get_by_text("demo · BertForSequenceClassification").wait_for(timeout=120_000)  # the model stays
    page.wait_for_selector("text=200 sequences, sorted by prediction", timeout=120_000)


def test_sequences_page_and_table_download(browser_page, server):
    page, _ = browser_page
    _goto(page, server + "/sequences")
    page.wait_for_selector("text=Loaded: 200 sequences")
    page.screenshot(path=str(SHOTS / "sequences.png"), full_page=True)
    with page.expect_download() as dl:
        page.locator('[data-testid="stDownloadButton"] button', has_text=".csv").first.click()
    text = Path(dl.value.path()).read_text()
    assert text.splitlines()[0].startswith("id,length,gc") and len(text.splitlines()) == 201


def test_heads_page_bertviz_renders_offline(browser_page, server):
    page, _ = browser_page
    _goto(page, server + "/heads")
    _plots(page)
    frame = page.frame_locator("iframe").first
    frame.locator("svg line").first.wait_for(state="attached", timeout=60_000)
    assert frame.locator("svg line").count() > 10
    page.screenshot(path=str(SHOTS / "heads.png"), full_page=True)


def test_motifs_page_runs(browser_page, server):
    page, _ = browser_page
    _goto(page, server + "/motifs")
    page.get_by_role("button", name="Find motifs").click()
    page.wait_for_selector("text=Instances on their sequences", timeout=180_000)
    assert page.locator('[data-testid="stMetric"]').count() >= 6
    page.screenshot(path=str(SHOTS / "motifs.png"), full_page=True)


def test_mutations_page_map(browser_page, server):
    page, _ = browser_page
    _goto(page, server + "/mutations")
    _plots(page)
    page.wait_for_selector("text=attention–ISM Spearman")
    page.screenshot(path=str(SHOTS / "mutations.png"), full_page=True)


def test_export_page(browser_page, server):
    page, _ = browser_page
    _goto(page, server + "/export")
    page.wait_for_selector("text=Build the zip")
    page.screenshot(path=str(SHOTS / "export.png"), full_page=True)


# ------------------------------------------------------------------------------ issue 14: what the buttons give
def _settle(page, rounds: int = 6):
    """Wait until the app stopped running and nothing is still loading."""
    calm = 0
    for _ in range(600):
        busy = page.evaluate(
            "() => !!document.querySelector('[data-testid=\"stStatusWidget\"]') || "
            "document.querySelectorAll('[data-testid=\"stSkeleton\"]').length > 0"
        )
        calm = 0 if busy else calm + 1
        if calm >= rounds:
            return
        time.sleep(0.25)


def _check_file(name: str, data: bytes) -> str:
    """What a downloaded file must be, by its extension; returns the kind checked."""
    import io
    import zipfile

    assert data, f"{name} is empty"
    ext = name.rsplit(".", 1)[-1].lower()
    if ext == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000, name
    elif ext == "svg":
        assert b"<svg" in data[:2000], name
    elif ext == "pdf":
        assert data[:5] == b"%PDF-", name
    elif ext == "html":
        assert b"<html" in data[:500].lower() and (b"plotly" in data or b"bertviz" in data or b"d3" in data), name
    elif ext in ("csv", "bedgraph"):
        lines = data.decode().splitlines()
        assert len(lines) >= 2 and lines[0].strip(), name
    elif ext == "parquet":
        import pandas as pd

        assert data[:4] == b"PAR1" and len(pd.read_parquet(io.BytesIO(data))) > 0, name
    elif ext == "meme":
        assert data.startswith(b"MEME version"), name
    elif ext == "json":
        import json

        assert json.loads(data), name
    elif ext == "npy":
        import numpy as np

        assert np.load(io.BytesIO(data), allow_pickle=False).size > 0, name
    elif ext == "js":
        assert b"plotly" in data[:5000].lower(), name
    elif name.startswith("inputs/"):  # a session's input files, kept as their bytes
        pass
    elif ext == "zip":
        z = zipfile.ZipFile(io.BytesIO(data))
        for member in z.namelist():
            _check_file(member, z.read(member))
    else:
        raise AssertionError(f"unexpected download {name}")
    return ext


def _download_every_button(page) -> dict[str, str]:
    """Click every download button in the page's main area and check what each gives: ``{file: kind}``."""
    got = {}
    buttons = page.locator('[data-testid="stMain"] [data-testid="stDownloadButton"] button')
    n = buttons.count()
    assert n > 0
    for i in range(n):
        button = page.locator('[data-testid="stMain"] [data-testid="stDownloadButton"] button').nth(i)
        button.scroll_into_view_if_needed()
        with page.expect_download(timeout=180_000) as dl:
            button.click()
        name = dl.value.suggested_filename
        got[name] = _check_file(name, Path(dl.value.path()).read_bytes())
    return got


def _nav(page, title: str, ready: str | None = None):
    """Go to another page of the same session (a new URL would start a new session)."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    if ready:
        page.wait_for_selector(f"text={ready}", timeout=240_000)
    _settle(page)


def _selectbox(page, label: str) -> str:
    """The text a selectbox (found by its label) shows."""
    return page.locator('[data-testid="stMain"]').get_by_role("combobox", name=label, exact=True).input_value()


def _segment(page, label: str, option: str | None = None) -> str:
    """The option a segmented control (found by its label) shows as picked, after clicking ``option`` if given."""
    group = page.locator(f'[data-testid="stMain"] [role="radiogroup"][aria-label="{label}"]')
    if option is not None:
        group.get_by_role("radio", name=option, exact=True).click()
        _settle(page)
    return group.locator('[aria-checked="true"]').inner_text().strip()


def _plot_data(page, chart: int | str, trace: int) -> list:
    """The y values plotly drew for trace ``trace`` of a chart (by page order or key, :func:`_plot`)."""
    return page.locator(_plot(chart)).evaluate("(el, t) => Array.from(el._fullData[t].y)", trace)


def _chart_title(page, chart: int | str) -> str:
    return page.locator(_plot(chart)).locator(".gtitle").text_content()


def test_every_download_button_gives_its_file(browser_page, server):
    page, _ = browser_page
    kinds = {}
    _goto(page, server)  # one session from here on: the zip holds what this session showed
    for title, ready in (("Attention", "Token × token attention"), ("Heads", "bertviz"), ("Sequences", "Loaded:")):
        _nav(page, title, ready)
        kinds.update(_download_every_button(page))
    _nav(page, "Motifs", "Find motifs")
    page.get_by_role("button", name="Find motifs").click()
    page.wait_for_selector("text=Instances on their sequences", timeout=240_000)
    _settle(page)
    kinds.update(_download_every_button(page))
    _nav(page, "Mutations", "attention–ISM Spearman")
    page.get_by_role("button", name="Score variants").click()
    page.wait_for_selector("text=attention before/after for", timeout=180_000)
    _settle(page)
    kinds.update(_download_every_button(page))
    assert {"png", "svg", "pdf", "html", "csv", "parquet", "meme"} <= set(kinds.values())
    # the zip: built on the page with a progress bar, then every listed figure and table is inside, none empty
    _nav(page, "Export", "Build the zip")
    page.get_by_role("button", name="Build the zip").click()
    page.wait_for_selector("text=Download all (zip", timeout=300_000)
    _settle(page)
    listed = page.locator('[data-testid="stMarkdownContainer"]', has_text="figures shown this session").inner_text()
    figures = listed.split("shown this session:")[1].split("\n")[0].strip().split(", ")
    with page.expect_download(timeout=180_000) as dl:
        page.get_by_role("button", name="Download all (zip").click()
    import io
    import zipfile

    data = Path(dl.value.path()).read_bytes()
    _check_file("dnalens_export.zip", data)
    names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    assert len(figures) >= 8
    for fig in figures:
        assert {f"figures/{fig}.png", f"figures/{fig}.svg", f"figures/{fig}.pdf"} <= names, fig
    for table in ("attention", "predictions", "motifs", "instances", "variants"):
        assert {f"tables/{table}.csv", f"tables/{table}.parquet"} <= names, table
    assert {"motifs.meme", "provenance.json"} <= names
    assert len(data) < 8 * 2**20  # lean: no inlined plotly.js per figure
    kinds.update(_download_every_button(page))
    page.screenshot(path=str(SHOTS / "export_built.png"), full_page=True)


def test_landscape_row_click_selects_the_sequence_everywhere(browser_page, server):
    """A click on a landscape cell (the heatmap itself answers hover and click) selects that row's sequence: the
    selected sequence's charts redraw in place (the same plot elements) with the clicked row's track, the picker
    follows here and on the Heads page, and the browser logs no error."""
    import re

    page, _ = browser_page
    errors = []

    def console(msg):
        if msg.type == "error":
            errors.append(msg.text)

    def crashed(exc):
        errors.append(str(exc))

    page.on("console", console)
    page.on("pageerror", crashed)
    page.set_viewport_size({"width": 1500, "height": 2400})
    _goto(page, server)
    page.wait_for_selector("text=Landscape")
    _component_charts(page)
    _settle(page)
    before_title, before = _chart_title(page, "track_chart"), _plot_data(page, "track_chart", 1)
    land = page.locator(_plot("landscape_chart"))
    ids = land.evaluate("el => Array.from(el._fullData[0].y)")
    row = next(i for i in range(2, len(ids)) if not before_title.startswith(ids[i] + " "))
    for key in ("landscape_chart", "track_chart"):  # marks on the plots' drawings: kept if redrawn in place
        page.locator(_plot(key)).evaluate("el => { el.querySelector('.main-svg').__dnalensTestMark = true; }")
    land.scroll_into_view_if_needed()
    # the charts' toolbar offers no upload: plotly.js 4's "Share chart" would send the figure to Plotly Cloud
    assert page.locator(".dnalens-plot .modebar-btn").count() > 0
    assert page.locator('.dnalens-plot .modebar-btn[data-title*="Share"]').count() == 0
    section = page.locator(".st-key-selected_sequence")
    top_before = section.evaluate("el => el.getBoundingClientRect().top")
    box = land.locator(".nsewdrag").first.bounding_box()
    x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * (row + 0.5) / len(ids)  # row's centre
    page.mouse.move(x, y)
    hover = page.locator(".hoverlayer .hovertext").first
    hover.wait_for(timeout=10_000)
    text, extra = hover.locator(".nums").text_content(), hover.locator(".name").text_content()
    assert text.startswith(ids[row]) and extra == "click: select", (ids[row], text, extra)  # the row under the mouse
    assert re.search(r"position \d+", text) and re.search(r"base [ACGT]", text), text
    assert re.search(r"score -?\d+\.\d{4}", text), text
    page.mouse.click(x, y)
    page.wait_for_function(
        "(id) => document.querySelector('.st-key-track_chart .gtitle')?.textContent.startsWith(id + ' ')",
        arg=ids[row],
        timeout=120_000,
    )
    _settle(page)
    # the page scrolled to the selected sequence's section, which names it
    page.wait_for_function(
        "(before) => document.querySelector('.st-key-selected_sequence').getBoundingClientRect().top < before - 200",
        arg=top_before,
        timeout=10_000,
    )
    assert f"Selected sequence: {ids[row]}" in section.locator("h3").first.text_content()
    after = _plot_data(page, "track_chart", 1)
    assert after != before and len(after) == 100
    assert all(_chart_title(page, k).startswith(ids[row] + ":") for k in ("grid_chart", "matrix_chart"))
    assert ids[row] in _selectbox(page, "sequence")
    kept = [
        page.locator(_plot(k)).evaluate("el => el.querySelector('.main-svg').__dnalensTestMark === true")
        for k in ("landscape_chart", "track_chart")
    ]
    assert kept == [True, True]  # the landscape stayed, the track redrew in place (not drawn anew)
    # its PNG button names the file after the sequence now shown
    png_name = page.locator(_plot("track_chart")).evaluate("el => el._context.toImageButtonOptions.filename")
    assert png_name == f"attention_{ids[row]}", png_name
    page.remove_listener("console", console)
    page.remove_listener("pageerror", crashed)
    assert not errors, errors
    _nav(page, "Heads", "Native head view")
    assert ids[row] in _selectbox(page, "sequence")
    assert ids[row] in _chart_title(page, 0)
    page.set_viewport_size({"width": 1500, "height": 1100})


def test_native_head_view_is_legible_and_bertviz_frames_fit(browser_page, server):
    page, _ = browser_page
    page.set_viewport_size({"width": 1500, "height": 3400})
    _goto(page, server + "/heads")
    page.wait_for_selector("text=Native head view")
    frame = page.frame_locator("iframe").first
    frame.locator("svg line").first.wait_for(state="attached", timeout=60_000)
    _settle(page)
    native = page.locator('[data-testid="stPlotlyChart"]').first
    native.screenshot(path=str(SHOTS / "heads_native.png"))
    sizes = page.evaluate(
        "() => Array.from(document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .textpoint text'))"
        ".map(t => parseFloat(getComputedStyle(t).fontSize))"
    )
    assert sizes and min(sizes) >= 12  # token labels at 12 px or more
    box = native.bounding_box()
    assert box["height"] >= 18 * 57  # 57 tokens, one 18-px row each
    for view in ("head view", "model view"):
        page.get_by_text(view, exact=True).click()
        _settle(page)
        frame = page.frame_locator("iframe").first
        frame.locator("svg").first.wait_for(state="attached", timeout=60_000)
        time.sleep(1)
        inner = page.evaluate(
            "() => { const f = document.querySelector('iframe'); const d = f.contentDocument;"
            " return [d.documentElement.scrollHeight, f.getBoundingClientRect().height]; }"
        )
        assert inner[0] <= inner[1] + 2, (view, inner)  # nothing cut off
        assert inner[1] - inner[0] < 300, (view, inner)  # and no large empty band
        page.screenshot(path=str(SHOTS / f"heads_{view.split()[0]}_view.png"), full_page=True)
    page.set_viewport_size({"width": 1500, "height": 1100})


def test_session_save_then_restore(browser_page, server, tmp_path):
    """A DNABERT dev.tsv uploaded and a setting changed, saved to one file, opened in a fresh browser session:
    the same sequences, setting and track come back."""
    page, _ = browser_page
    rows = ["sequence\tlabel"]
    import numpy as np

    rng = np.random.default_rng(4)
    for i in range(12):
        s = "".join(rng.choice(list("ACGT"), 80))
        rows.append(" ".join(s[j : j + 6] for j in range(75)) + f"\t{i % 2}")
    dev = tmp_path / "dev.tsv"
    dev.write_text("\n".join(rows) + "\n")
    _goto(page, server + "/sequences")
    page.get_by_role("tab", name="Upload a file").click()
    page.locator('[data-testid="stMain"] [data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(dev))
    page.get_by_role("button", name="Load file").click()
    page.wait_for_selector("text=Loaded 12 sequences from dev.tsv")
    _nav(page, "Attention", "Landscape")
    _segment(page, "sort rows by", "peak")
    track = _plot_data(page, "track_chart", 1)
    title = _chart_title(page, "track_chart")
    assert title.startswith("row2 ") and len(track) == 80
    page.get_by_text("Session: save or open").click()
    with page.expect_download() as dl:
        page.get_by_role("button", name="Save session").click()
    saved = tmp_path / dl.value.suggested_filename
    dl.value.save_as(saved)
    _check_file(saved.name, saved.read_bytes())
    fresh = page.context.browser.new_context(viewport={"width": 1500, "height": 1100})
    other = fresh.new_page()
    other.set_default_timeout(120_000)
    _goto(other, server)
    other.wait_for_selector("text=200 sequences loaded")
    other.get_by_text("Session: save or open").click()
    other.locator('[data-testid="stSidebar"] [data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(saved))
    other.get_by_role("button", name="Restore this session").click()
    other.wait_for_selector("text=12 sequences loaded: dev.tsv")
    _nav(other, "Attention", "Landscape")
    assert _chart_title(other, "track_chart") == title
    assert np.allclose(_plot_data(other, "track_chart", 1), track)
    assert _segment(other, "sort rows by") == "peak"
    other.screenshot(path=str(SHOTS / "session_restored.png"), full_page=True)
    fresh.close()


def test_landscape_settings_show_as_left_after_another_page(browser_page, server):
    """The landscape's sort and alignment and the matrix's layer and head, changed, then another page and back: the
    widgets show what the charts are drawn with (they used to show their defaults over a landscape still sorted as chosen); so does the Heads
    page's bertviz view."""
    page, _ = browser_page
    _goto(page, server)
    _component_charts(page)
    for label, option in (("sort rows by", "label"), ("align", "center"), ("layer", "0"), ("head", "2")):
        _segment(page, label, option)
    _nav(page, "Mutations", "Mutations")
    _nav(page, "Attention", "Landscape")
    _component_charts(page)
    assert (_segment(page, "sort rows by"), _segment(page, "align")) == ("label", "center")
    assert "sorted by label, aligned center" in _chart_title(page, "landscape_chart")
    assert (_segment(page, "layer"), _segment(page, "head")) == ("0", "2")  # the matrix's choice too
    assert ": layer 0, head 2," in _chart_title(page, "matrix_chart")
    for label, option in (("sort rows by", "prediction"), ("align", "left")):  # back to the defaults: drawn so
        _segment(page, label, option)
    assert "sorted by prediction, aligned left" in _chart_title(page, "landscape_chart")
    _nav(page, "Heads", "bertviz")  # a setting on another page (every kept setting's widget persists the same way)
    page.get_by_text("model view", exact=True).click()
    _settle(page)
    _nav(page, "Attention", "Landscape")
    _nav(page, "Heads", "bertviz")
    assert page.get_by_role("radio", name="model view").is_checked()
