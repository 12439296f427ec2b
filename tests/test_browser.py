"""Open the built report from disk in headless Chromium, as a reader would, offline."""

from urllib.parse import unquote

import pytest

from conftest import CHROMIUM

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# The chapters a reader must find, in reading order (heading text after its number).
CHAPTERS = ["Evidence at a glance", "DMVO", "ICASS-M1", "side by side", "Claims check",
            "Data audit", "Methods and reproducibility"]


@pytest.fixture(scope="module")
def page_report(fresh_build):
    from playwright.sync_api import sync_playwright

    index = fresh_build / "report" / "index.html"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requests, console_errors = [], []
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: console_errors.append(str(e)))
        page.goto(index.as_uri(), wait_until="load")
        page.wait_for_timeout(300)
        yield page, requests, console_errors
        browser.close()


def test_nothing_is_requested_outside_the_file(page_report):
    _, requests, _ = page_report
    outside = [u for u in requests if not u.startswith(("file://", "data:"))]
    assert not outside, f"the report requests network resources: {outside[:5]}"


def test_no_console_errors(page_report):
    assert page_report[2] == []


def test_every_image_loaded(page_report):
    page = page_report[0]
    sizes = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.alt, i.complete, i.naturalWidth])")
    assert sizes, "the report has no images"
    broken = [alt for alt, complete, width in sizes if not complete or width == 0]
    assert not broken, f"images that did not load: {broken}"


def test_every_toc_link_and_cross_reference_resolves(page_report):
    page = page_report[0]
    hrefs = page.eval_on_selector_all("nav.evt-toc a, a.evt-ref", "as => as.map(a => a.getAttribute('href'))")
    assert len(hrefs) > 5
    ids = set(page.eval_on_selector_all("[id]", "es => es.map(e => e.id)"))
    missing = [h for h in hrefs if unquote(h[1:]) not in ids]  # ids may hold quotes or ':'
    assert not missing, f"links to nothing: {missing}"


def test_every_chapter_is_present_in_order(page_report):
    page = page_report[0]
    h1 = page.eval_on_selector_all("main h1:not(.evt-title)", "hs => hs.map(h => h.textContent)")
    positions = []
    for name in CHAPTERS:
        hits = [i for i, text in enumerate(h1) if name in text]
        assert hits, f"chapter {name!r} missing; headings are {h1}"
        positions.append(hits[0])
    assert positions == sorted(positions), f"chapters out of order: {h1}"


def test_no_empty_table_and_every_figure_numbered(page_report):
    page = page_report[0]
    rows = page.eval_on_selector_all("table.evt-table", "ts => ts.map(t => t.tBodies[0].rows.length)")
    assert rows and min(rows) > 0
    figures = page.eval_on_selector_all("[id^='fig-'] img", "is => is.map(i => i.naturalWidth)")
    assert figures and min(figures) > 0


def test_code_is_hidden_until_the_reader_asks(page_report):
    page = page_report[0]
    first_code = page.query_selector(".jp-CodeCell .jp-Cell-inputWrapper")
    assert first_code is not None and not first_code.is_visible()
    page.click("label.evt-toggle-label")
    assert first_code.is_visible()
    page.click("label.evt-toggle-label")
    assert not first_code.is_visible()


def test_printed_pages_clip_nothing(page_report):
    """The PDF is Chromium's print of this page: laid out as printed on A4 (186 mm between the
    margins of the print CSS, about 703 CSS px), no table or figure may be wider than its
    column, or its right edge is cut off in the PDF."""
    page = page_report[0].context.browser.new_page(viewport={"width": 703, "height": 1000})
    page.emulate_media(media="print")
    page.goto(page_report[0].url, wait_until="load")
    too_wide = page.evaluate("""() => [...document.querySelectorAll('table.evt-table, main img')]
        .filter(e => e.getBoundingClientRect().right > document.querySelector('main').getBoundingClientRect().right + 1)
        .map(e => (e.previousElementSibling?.textContent || e.alt || e.tagName).slice(0, 60))""")
    page.close()
    assert not too_wide, f"wider than the printed page: {too_wide}"
