"""The Genome page in a real browser (Debian's Chromium via Playwright), offline: igv.js and the session's files
come from the app on 127.0.0.1, every other request is recorded and aborted, and the test fails if there was one.
It sees the reference, the loaded sequences, the attention wiggle track, motif instances after a Motifs run and a
scored-variant track after a VCF upload; a click on a sequence selects it on the other pages."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlparse

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
def app_url():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: `make test` installs Debian's chromium (scripts/install_chromium.sh)")
        pytest.skip("Chromium is not installed (make browser)")
    if not (ROOT / "dashboard" / "static" / "igv.min.js").exists():
        pytest.fail("igv.min.js is missing: `make js` installs it from npm")
    port = _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"), "--server.port", str(port)]
    cmd += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(cmd, cwd=ROOT / "dashboard", env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
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


@pytest.fixture()
def page(app_url):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    outside = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        ctx = browser.new_context(viewport={"width": 1500, "height": 1200})

        def route(r):
            u = r.request.url
            if u.startswith(("data:", "blob:")) or urlparse(u).hostname == "127.0.0.1":
                return r.continue_()
            outside.append(u)
            return r.abort()

        ctx.route("**/*", route)
        pg = ctx.new_page()
        pg.set_default_timeout(180_000)
        yield pg
        ctx.close()
        browser.close()
    assert not outside, f"requests left 127.0.0.1: {outside[:5]}"


def _idle(pg):
    pg.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=180_000)


def _nav(pg, title):
    pg.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    _idle(pg)


def _browser_ready(pg, build=None):
    errors = "#igv-error, [data-testid='stAlertContentError'], [data-testid='stException']"
    pg.wait_for_function(
        "([b, e]) => { const h = document.getElementById('dnalens-igv'); return document.querySelector(e) "
        "|| (h && h.dataset.ready === h.dataset.build && (!b || h.dataset.build !== b)); }",
        arg=[build, errors],
    )
    assert pg.locator(errors).count() == 0, pg.locator(errors).first.inner_text()
    return pg.evaluate("document.getElementById('dnalens-igv').dataset.build")


def _track_names(pg):
    return pg.evaluate("window.igvBrowser.trackViews.map(tv => tv.track.name)")


def _check_attention(bw_path, seqs):
    import numpy as np
    import pyBigWig

    from core.lenses import Attention, tracks
    from core.model.loading import load_model

    want = tracks(load_model("demo", device="cpu"), seqs, Attention())
    bw = pyBigWig.open(str(bw_path))
    for s, t in zip(seqs, want):
        np.testing.assert_allclose(bw.values(s.id, 0, len(s.seq), numpy=True), t.scores, rtol=1e-4, atol=1e-6)
    bw.close()


def test_genome_view_offline_with_tracks_motifs_variants_and_selection(page, app_url, tmp_path):
    from core.io.sequences import read_fasta
    from core.paths import SAMPLE_DATA

    seqs = read_fasta(SAMPLE_DATA / "demo.fa")
    page.goto(app_url + "/genome")
    page.wait_for_selector('[data-testid="stSidebarNav"]')
    _idle(page)
    build = _browser_ready(page)
    names = _track_names(page)
    assert "loaded sequences" in names and "attention" in names
    first = seqs[0]
    got = page.evaluate(f"window.igvBrowser.genome.getSequence({json.dumps(first.id)}, 0, 12)")
    assert got.upper() == first.seq[:12]  # the reference igv reads is the loaded sequences, served by the app
    # the attention wiggle track igv reads, fetched from the app, holds the attention scores of the sequences
    rel = page.evaluate("window.igvBrowser.trackViews.find(v => v.track.name === 'attention').track.config.url")
    bw_path = tmp_path / "attention.bw"
    bw_path.write_bytes(urllib.request.urlopen(urljoin(app_url + "/genome", rel)).read())
    _check_attention(bw_path, seqs[:3])

    # motif instances: a run on the Motifs page (same session), then back here
    _nav(page, "Motifs")
    page.get_by_role("button", name="Find motifs").click()
    page.wait_for_selector("text=Instances on their sequences", timeout=240_000)
    _nav(page, "Genome")
    build = _browser_ready(page, build)
    assert "motif instances" in _track_names(page)

    # a VCF uploaded here is scored and shown as a variant track
    s = seqs[1]
    vcf = tmp_path / "mine.vcf"
    alt = {"A": "G", "C": "T", "G": "A", "T": "C"}
    rows = [f"{s.id}\t{p}\tv{p}\t{s.seq[p - 1]}\t{alt[s.seq[p - 1]]}\t.\tPASS\t." for p in (20, 50, 80)]
    rows.append(f"{s.id}\t90\tbad\tN\tA\t.\tPASS\t.")  # REF mismatch: listed as skipped
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "\n".join(rows) + "\n")
    page.locator('[data-testid="stMainBlockContainer"] input[type="file"]').set_input_files(str(vcf))
    page.wait_for_selector("text=Scored variants")
    _idle(page)
    _browser_ready(page, build)
    assert "scored variants" in _track_names(page)
    assert page.locator("text=3 alleles; 1 skipped").count() == 1
    page.screenshot(path=str(SHOTS / "genome.png"), full_page=True)

    # a click on a loaded sequence in igv selects it for the other pages
    target = seqs[5].id
    page.evaluate(
        "(id) => { const t = window.igvBrowser.trackViews.find(v => v.track.name === 'loaded sequences').track;"
        " window.igvBrowser.fireEvent('trackclick', [t, [{name: 'Name', value: id}]]); }",
        target,
    )
    page.wait_for_selector(f"text=Selected sequence: {target}")
    _nav(page, "Attention")
    # the Attention page's sequence picker shows it
    page.wait_for_function(
        '(id) => [...document.querySelectorAll(\'[data-testid="stMainBlockContainer"] [data-testid="stSelectbox"]\')]'
        ".some(b => b.innerText.includes(id) || [...b.querySelectorAll('input')].some(i => i.value === id))",
        arg=target,
    )
    page.screenshot(path=str(SHOTS / "genome_selected_attention.png"), full_page=True)
