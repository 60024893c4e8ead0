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


def _plots(page, n=1):
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg')
    assert page.locator('[data-testid="stPlotlyChart"] .main-svg').count() >= n


def test_attention_page_opens_on_demo_with_landscape(browser_page, server):
    page, _ = browser_page
    _goto(page, server)
    page.wait_for_selector("text=Landscape")
    _plots(page, 3)
    assert page.locator("text=attention landscape").count() >= 1
    page.screenshot(path=str(SHOTS / "attention.png"), full_page=True)
    # a figure download: PNG of the selected sequence's track
    with page.expect_download() as dl:
        page.locator('[data-testid="stDownloadButton"] button', has_text="PNG").first.click()
    data = Path(dl.value.path()).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


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
    page.wait_for_selector("text=Download all (zip)")
    page.screenshot(path=str(SHOTS / "export.png"), full_page=True)
