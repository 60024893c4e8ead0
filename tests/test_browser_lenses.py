"""The Lenses and Sets pages in a real browser (Chromium through Playwright, the app on 127.0.0.1, the sample data
and demo model): the stacked lens tracks and the projector render offline (any request off 127.0.0.1 fails the
module, see ``test_browser.browser_page``), a figure download is a PNG, and a click on a projector point selects that
sequence."""

import re
from pathlib import Path

import pytest
from test_browser import (  # noqa: F401 (fixtures)
    SHOTS,
    _download_every_button,
    _goto,
    _plots,
    _settle,
    browser_page,
    server,
)

pytestmark = pytest.mark.browser


def test_lenses_page_stacks_every_lens_with_agreement(browser_page, server):  # noqa: F811
    page, _ = browser_page
    _goto(page, server + "/lenses")
    page.wait_for_selector("text=Agreement with ISM on demo_pos_0001", timeout=300_000)
    _plots(page)
    _settle(page)
    stack = page.locator('[data-testid="stPlotlyChart"]').first
    assert (
        stack.locator(".cartesianlayer > .subplot").count() == 5
    )  # attention, grad-input, ig, expected-gradients, ISM
    for title in (  # each panel names its lens, settings and orientation, then the score
        "attention: attention (dnabert-viz, last layer, heads summed), forwardattention (dnabert-viz, l2-normalised)",
        "grad-input: gradient × input (log-odds), forwardgradient × input (log-odds of the positive class)",
        "ig: integrated gradients (32 steps, pad baseline, log-odds), forward",
        "ism: ISM (maxabs), forwardISM max |Δp|",
    ):
        texts = stack.locator(".annotation-text").all_text_contents()
        assert sum(t.startswith(title) for t in texts) == 1, (title, texts)
    assert stack.locator(".scatterlayer .trace path.js-line").count() == 5  # one drawn track per lens
    assert page.locator("text=Agreement with ISM on demo_pos_0001").count() == 1
    page.screenshot(path=str(SHOTS / "lenses.png"), full_page=True)
    with page.expect_download() as dl:
        page.locator('[data-testid="stDownloadButton"] button', has_text="PNG").first.click()
    data = Path(dl.value.path()).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    kinds = _download_every_button(page)  # the stack in every format, the agreement table; each file checked
    assert {"png", "svg", "pdf", "html", "csv", "parquet"} <= set(kinds.values())


def _selected(page) -> str:
    text = page.locator('[data-testid="stCaptionContainer"]', has_text="Selected:").first.inner_text()
    return re.search(r"Selected: (\S+)", text).group(1)


def test_sets_page_projector_click_selects_a_sequence(browser_page, server):  # noqa: F811
    page, _ = browser_page
    _goto(page, server + "/sets")
    page.wait_for_selector("text=Embedding projector")
    _plots(page, 3)
    _settle(page)
    before = _selected(page)
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    assert "coloured by label" in chart.locator(".gtitle").text_content()
    points = chart.locator(".scatterlayer .trace .points path")
    assert points.count() == 200
    for i in range(points.count()):  # a point away from the selected one, clicked where plotly listens
        box = points.nth(i).bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(150)
        hover = page.locator(".hoverlayer .hovertext").first
        if hover.count() and before not in hover.text_content():
            target = re.search(r"(demo_(?:pos|neg)_\d{4})", hover.text_content()).group(1)
            page.mouse.down()
            page.mouse.up()
            break
    else:
        pytest.fail("no projector point showed a hover label")
    _settle(page)
    page.wait_for_function(
        "t => [...document.querySelectorAll('[data-testid=\"stCaptionContainer\"]')]"
        ".some(e => e.innerText.includes('Selected: ' + t))",
        arg=target,
        timeout=60_000,
    )
    assert _selected(page) == target != before
    page.screenshot(path=str(SHOTS / "sets.png"), full_page=True)
    # the sections below the projector (k-mer contrast over every sequence's track, profiles) finish after it
    page.wait_for_selector('[data-testid="stDownloadButton"] button:has-text("kmer_contrast_attention.csv")')
    _settle(page)
    kinds = _download_every_button(page)  # projector, k-mer chart and table, profiles
    assert {"png", "svg", "pdf", "html", "csv", "parquet"} <= set(kinds.values())
