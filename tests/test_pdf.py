"""The printed report: report.pdf carries every heading and paragraph of index.html, with an
outline, working internal links, page numbers, unbroken intervals and legible figures; the
print cannot hang, and two prints of one commit are byte-identical.

The checks on the whole report run on the committed report/ (what readers get) and on a
fresh build (what the code makes now)."""

from __future__ import annotations

import base64
import re
import subprocess
import time
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader
from pypdf.generic import ContentStream

from evtreport import build, display, pdf, provenance
from conftest import ROOT

MIN_PT = 7.0
FOOTER = re.compile(r"page \d+ of \d+\s*$")


# -- helpers ---------------------------------------------------------------------------------

INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060"))  # soft hyphen, zero-width space/joiner


def squash(text: str) -> str:
    """Text compared without whitespace (a PDF breaks lines and words where HTML has spaces),
    invisible characters, and with ligatures unfolded (the PDF's 'ﬁ')."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).translate(INVISIBLE))


def one_line(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).translate(INVISIBLE).split())


def own_text(element) -> str:
    """An element's text without that of lists nested in it (a TOC entry's sub-entries)."""
    lists = element.find_all(["ol", "ul"])
    return " ".join(t for t in element.find_all(string=True)
                    if not any(t in lst.descendants for lst in lists))


class Report:
    def __init__(self, directory: Path):
        self.html = BeautifulSoup((directory / "index.html").read_text(encoding="utf-8"),
                                  "html.parser")
        self.main = self.html.find("main")
        for a in self.main.select("a.anchor-link"):  # the hidden '¶' of each heading
            a.decompose()
        self.reader = PdfReader(directory / "report.pdf")
        self.pages = [p.extract_text() for p in self.reader.pages]
        # joined without the page footers, so a paragraph running over a page break reads on
        self.text = squash("".join(FOOTER.sub("", p) for p in self.pages))

    def printed(self, element) -> bool:
        """False for what the print CSS hides: code, the collapsed lists of figures/tables."""
        return not element.find_parent(["details"]) and not any(
            "jp-Cell-inputWrapper" in (a.get("class") or [])
            and "jp-CodeCell" in (a.parent.get("class") or []) for a in element.parents)

    def outline(self) -> list[tuple[int, str, int]]:
        """(depth, title, page number from 1) of every outline entry, in order."""
        out = []

        def walk(items, depth):
            for item in items:
                if isinstance(item, list):
                    walk(item, depth + 1)
                else:
                    out.append((depth, one_line(item.title),
                                self.reader.get_destination_page_number(item) + 1))
        walk(self.reader.outline, 0)
        return out


def _reports():
    return [pytest.param("published", id="published"),
            pytest.param("fresh", id="fresh", marks=pytest.mark.slow)]


@pytest.fixture(scope="module", params=_reports())
def report(request) -> Report:
    if request.param == "published":
        return Report(ROOT / "report")
    return Report(request.getfixturevalue("fresh_build") / "report")


def headings(main, names=("h1", "h2", "h3")):
    return [h for h in main.find_all(list(names))]


def first_sentence(text: str) -> str:
    text = one_line(text)
    m = re.search(r"[.!?:;](?=\s)", text)
    return text[:m.end()] if m else text


# -- text: every heading and paragraph, no code ------------------------------------------------

def test_every_heading_and_first_sentence_of_every_paragraph_is_in_the_pdf(report):
    """Headings h1-h3, and paragraphs and list items (the key findings, caveats), of the HTML."""
    hs = [one_line(h.get_text(" ")) for h in headings(report.main) if report.printed(h)]
    paragraphs = [first_sentence(own_text(p)) for p in report.main.find_all(["p", "li"])
                  if report.printed(p) and p.get_text(strip=True)]
    assert len(hs) > 40 and len(paragraphs) > 100
    missing_h = [h for h in hs if squash(h) not in report.text]
    missing_p = [p for p in paragraphs if squash(p) not in report.text]
    assert not missing_h, f"{len(missing_h)} of {len(hs)} headings not in the PDF: {missing_h[:8]}"
    assert not missing_p, (f"{len(missing_p)} of {len(paragraphs)} paragraphs not in the PDF: "
                           f"{missing_p[:5]}")


def test_code_is_not_printed(report):
    lines = [ln.strip() for pre in report.main.select(".jp-CodeCell .jp-InputArea pre")
             for ln in pre.get_text().splitlines() if len(ln.strip()) > 25]
    assert len(lines) > 10
    printed = [ln for ln in lines if squash(ln) in report.text]
    assert not printed, f"code printed in the PDF: {printed[:5]}"


# -- navigation: outline, links, page numbers ---------------------------------------------------

def test_outline_lists_every_chapter_with_its_sections(report):
    outline = report.outline()
    assert outline, "the PDF has no outline (bookmarks)"
    expected = []  # (chapter, [sections]) in reading order
    for h in headings(report.main, ("h1", "h2")):
        if h.find(class_="evt-secnum") is None:
            continue
        title = one_line(h.get_text(" "))
        if h.name == "h1":
            expected.append((title, []))
        else:
            expected[-1][1].append(title)
    assert len(expected) == 9
    top = [(i, title, page) for i, (depth, title, page) in enumerate(outline) if depth == 0]
    top_titles = [t for _, t, _ in top]
    for chapter, sections in expected:
        assert chapter in top_titles, f"chapter {chapter!r} is not a top-level bookmark: {top_titles}"
        i = top_titles.index(chapter)
        start, page = top[i][0], top[i][2]
        end = top[i + 1][0] if i + 1 < len(top) else len(outline)
        children = [t for depth, t, _ in outline[start + 1:end] if depth == 1]
        assert children == sections, f"bookmarks under {chapter!r}: {children} != {sections}"
        assert squash(chapter) in squash(report.pages[page - 1]), (
            f"bookmark {chapter!r} points to page {page}, which does not show that heading")
    assert [t for t in top_titles if t in {c for c, _ in expected}] == [c for c, _ in expected]


CLINICAL_PAGES = 25  # the clinical part (summary of findings to claims) fits in this many pages


def test_summary_of_findings_is_on_pages_1_and_2(report):
    """The PDF opens with the title block and the summary of findings: its heading, its tables'
    captions and every cell of its tables are in the text of pages 1-2."""
    start = squash("".join(report.pages[:2]))
    heading = next(h for h in report.main.find_all("h2") if "Summary of findings" in h.get_text())
    assert squash(heading.get_text(" ")) in start
    tables = [report.main.find(id=f"tbl-{i}") or report.main.find(attrs={"data-id": i})
              for i in ("sof-dmvo", "sof-icass")]
    for cap in tables:
        assert squash(cap.get_text(" ")) in start, cap.get_text(" ")[:80]
        cells = [c.get_text(" ") for c in cap.find_next("table").find_all(["th", "td"])]
        missing = [c for c in cells if squash(c) not in start]
        assert cells and not missing, f"cells of the summary of findings not on pages 1-2: {missing[:5]}"


def test_clinical_part_ends_by_page_25_and_the_appendices_follow(report):
    """The first appendix (its bookmark and heading) starts by page 26; the chapters before it
    are the clinical report, the appendices come after it, each opening a page."""
    top = [(title, page) for depth, title, page in report.outline() if depth == 0]
    appendix = [(t, p) for t, p in top if t.startswith("Appendix ")]
    clinical = [(t, p) for t, p in top if re.match(r"\d+ ", t)]
    assert len(appendix) >= 3 and len(clinical) >= 5
    assert [t for t, _ in top if t in dict(appendix) or t in dict(clinical)] == \
        [t for t, _ in clinical] + [t for t, _ in appendix], "appendices come after the chapters"
    first_title, first_page = appendix[0]
    assert squash(first_title) in squash(report.pages[first_page - 1])
    assert first_page <= CLINICAL_PAGES + 1, (
        f"the clinical part runs to page {first_page - 1} (first appendix on page {first_page}); "
        f"it should fit in {CLINICAL_PAGES} pages")


def test_every_internal_link_resolves_to_a_page(report):
    targets = {a["href"][1:] for a in report.main.find_all("a", href=True)
               if a["href"].startswith("#") and report.printed(a)}
    toc = [a["href"][1:] for a in report.main.select("nav.evt-toc > ol a")]
    named = {str(k).lstrip("/"): v for k, v in report.reader.named_destinations.items()}
    missing = sorted(t for t in targets if t not in named)
    assert len(toc) > 30 and not missing, f"links of the HTML with no destination in the PDF: {missing[:8]}"
    links, unresolved = 0, []
    for page in report.reader.pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") != "/Link" or "/URI" in annot.get("/A", {}):
                continue
            links += 1
            dest = annot.get("/Dest") or annot.get("/A", {}).get("/D")
            name = str(dest).lstrip("/")
            if name not in named:
                unresolved.append(name)
    assert links >= len(toc), f"{links} internal links in the PDF for {len(toc)} TOC entries"
    assert not unresolved, f"links to nothing: {unresolved[:8]}"
    # a TOC entry lands on the page of its heading
    for ident in toc[:: max(1, len(toc) // 8)]:
        page = report.reader.get_destination_page_number(named[ident])
        heading = report.main.find(id=ident)
        assert squash(heading.get_text(" ")) in squash(report.pages[page]), ident


def test_every_page_is_numbered_page_n_of_m(report):
    n = len(report.pages)
    unnumbered = [i for i, text in enumerate(report.pages, 1) if f"page {i} of {n}" not in text]
    assert not unnumbered, f"pages without 'page N of {n}': {unnumbered[:10]}"


# -- layout: intervals on one line, figure text size ---------------------------------------

def test_intervals_in_table_cells_are_not_broken_across_lines(report):
    """Each interval "[66.7–95.3]" of a table cell is whole on one line of the PDF (so neither
    broken at its dash nor cut off at the page edge); its estimate may stand above it."""
    intervals = {one_line(m.group(0)) for cell in report.main.select("table.evt-table td")
                 for m in re.finditer(r"\[[−\-]?\d[^\[\]]{2,30}\d\]", cell.get_text())}
    assert len(intervals) > 50
    lines = "\n".join(squash(ln) for page in report.pages for ln in page.splitlines())
    broken = sorted(i for i in intervals if squash(i) not in lines)
    assert not broken, f"{len(broken)} intervals broken across lines in table cells: {broken[:8]}"


def _image_placements(reader: PdfReader) -> list[tuple[float, int, int]]:
    """(printed width in inches, pixel width, pixel height) of every image drawn, in order."""
    out = []

    def mul(m, n):
        a, b, c, d, e, f = m
        A, B, C, D, E, F = n
        return [a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D,
                e * A + f * C + E, e * B + f * D + F]

    def walk(content, resources, ctm):
        stack, xobjects = [], (resources or {}).get("/XObject", {})
        for operands, op in ContentStream(content, reader).operations:
            if op == b"q":
                stack.append(ctm)
            elif op == b"Q":
                ctm = stack.pop()
            elif op == b"cm":
                ctm = mul([float(v) for v in operands], ctm)
            elif op == b"Do":
                x = xobjects[operands[0]].get_object()
                if x["/Subtype"] == "/Image":
                    out.append((abs(ctm[0]) / 72, int(x["/Width"]), int(x["/Height"])))
                elif x["/Subtype"] == "/Form":
                    m = [float(v) for v in x.get("/Matrix", [1, 0, 0, 1, 0, 0])]
                    walk(x, x.get("/Resources"), mul(m, ctm))

    for page in reader.pages:
        walk(page.get_contents(), page["/Resources"], [1, 0, 0, 1, 0, 0])
    return out


def _png_info(data: bytes) -> tuple[int, int, float, dict[str, str]]:
    """Pixel width, height, dots per inch and text chunks of a PNG."""
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    dpi, texts, i = 72.0, {}, 8
    while i < len(data):
        length, kind = int.from_bytes(data[i:i + 4], "big"), data[i + 4:i + 8]
        body = data[i + 8:i + 8 + length]
        if kind == b"pHYs" and body[8] == 1:
            dpi = int.from_bytes(body[:4], "big") * 0.0254
        elif kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            texts[key.decode("latin-1")] = value.decode("latin-1")
        i += 12 + length
    return width, height, dpi, texts


def test_figure_text_prints_at_7_pt_or_more(report):
    """Measured: the size of each figure's smallest text (recorded in its PNG when drawn),
    times the width the PDF prints the image at, over the width it was drawn at."""
    figures = []
    for img in report.main.select("[id^='fig-'] img"):
        src = img["src"]
        assert src.startswith("data:image/png;base64,"), "figures are embedded PNGs"
        figures.append((img["alt"].split(".")[0], _png_info(base64.b64decode(src.split(",", 1)[1]))))
    placed = _image_placements(report.reader)
    assert len(figures) >= 8 and len(placed) == len(figures), (len(placed), len(figures))
    small = []
    for (label, (w, h, dpi, texts)), (printed_in, pw, ph) in zip(figures, placed):
        assert abs(pw / ph - w / h) < 0.01, f"{label}: PDF images are not in the HTML's order"
        size = texts.get(display.SMALLEST_TEXT_KEY)
        if size is None:
            small.append(f"{label}: no text size recorded")
            continue
        pt = float(size) * printed_in / (w / dpi)
        if pt < MIN_PT:
            small.append(f"{label}: {size} pt drawn {w / dpi:.1f} in wide, printed "
                         f"{printed_in:.2f} in wide = {pt:.1f} pt")
    assert not small, f"figure text below {MIN_PT} pt in print: {small}"


def test_figure_with_too_small_text_stops_the_build(monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    monkeypatch.setattr("IPython.display.display", lambda *a, **k: None)
    fig = Figure(figsize=(10, 3))
    fig.text(0.02, 0.5, "small label at the left edge", fontsize=8)
    fig.text(0.98, 0.5, "right edge", fontsize=11, ha="right")
    # 8 pt in a figure 9.8 in wide printed 7.3 in wide is 6.0 pt
    with pytest.raises(ValueError, match=r"figure 'too-small'.*\(8 pt in a figure 9\.\d+ in wide\) prints at [56]\.\d pt"):
        display.figure(fig, "too-small", "A caption.")
    fig = Figure(figsize=(10, 3))
    fig.text(0.02, 0.5, "large label at the left edge", fontsize=10)
    fig.text(0.98, 0.5, "right edge", fontsize=11, ha="right")
    display.figure(fig, "large-enough", "A caption.")  # 10 pt prints at 7.3 pt


# -- the print itself: bounded, scripts cannot stall it, reproducible ---------------------------

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Fixture</title></head>
<body><h1>Chapter one</h1><p>A paragraph that must be printed.</p>
<script>alert("blocked?"); document.body.insertAdjacentText("beforeend", "SCRIPT-RAN");</script>
<img src="missing.png" onerror="alert('onerror'); document.title = 'SCRIPT-RAN'">
<h2>Section</h2><p>Last paragraph.</p></body></html>"""


@pytest.fixture
def page_file(tmp_path) -> Path:
    path = tmp_path / "page.html"
    path.write_text(PAGE, encoding="utf-8")
    return path


def test_a_page_that_calls_alert_prints_without_running_scripts(page_file, tmp_path):
    out = tmp_path / "page.pdf"
    pdf.print_pdf(page_file, out, timeout=60)  # the command-line print hung here for 180 s
    text = "".join(p.extract_text() for p in PdfReader(out).pages)
    assert "A paragraph that must be printed." in text and "Last paragraph." in text
    assert "SCRIPT-RAN" not in text and PdfReader(out).metadata["/Title"] == "Fixture"


def test_a_hung_browser_is_stopped_with_a_clear_error(page_file, tmp_path, monkeypatch):
    pidfile = tmp_path / "browser.pid"
    fake = tmp_path / "chromium"
    fake.write_text(f"#!/bin/sh\necho $$ > {pidfile}\nexec sleep 600\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CHROMIUM", str(fake))
    monkeypatch.setenv("EVTREPORT_PDF_TIMEOUT", "5")
    with pytest.raises(build.BuildError) as err:
        build.print_pdf(page_file, tmp_path / "page.pdf")
    message = str(err.value)
    assert message.startswith("printing the PDF: ") and str(page_file) in message
    assert "within 5 s" in message
    pid = int(pidfile.read_text())
    for _ in range(50):  # SIGKILL is delivered at once; the process table may lag a moment
        if not Path(f"/proc/{pid}").exists() or "Z" in _state(pid):
            break
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists() or "Z" in _state(pid), "the browser was left running"
    assert not (tmp_path / "page.pdf").exists()


def test_a_browser_that_fails_to_start_is_named_with_its_exit_status_and_message(page_file, tmp_path,
                                                                                  monkeypatch):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'fake failure: cannot open display' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CHROMIUM", str(fake))
    with pytest.raises(build.BuildError) as err:
        build.print_pdf(page_file, tmp_path / "page.pdf")
    assert str(err.value) == (f"printing the PDF: Chromium could not print {page_file}: "
                              "the browser exited (exit 3): fake failure: cannot open display")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_a_bad_timeout_setting_is_named(page_file, tmp_path, monkeypatch):
    monkeypatch.setenv("EVTREPORT_PDF_TIMEOUT", "soon")
    with pytest.raises(build.BuildError, match="EVTREPORT_PDF_TIMEOUT.*got 'soon'"):
        build.print_pdf(page_file, tmp_path / "page.pdf")


def _pdf_date(path: Path) -> datetime:
    raw = PdfReader(path).metadata["/CreationDate"]
    return datetime.strptime(raw[2:16], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)


def test_two_prints_are_identical_and_dated_by_source_date_epoch(page_file, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01 00:00:00 UTC
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    build.print_pdf(page_file, a)
    time.sleep(1.1)  # Chromium's own stamp has whole seconds
    build.print_pdf(page_file, b)
    assert a.read_bytes() == b.read_bytes()
    meta = PdfReader(a).metadata
    assert meta["/CreationDate"] == meta["/ModDate"] == "D:20260101000000+00'00'"


def test_without_source_date_epoch_the_pdf_carries_the_commit_time(page_file, tmp_path,
                                                                   monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    # the commit the build's inputs come from (a commit of the rebuilt report alone is not it)
    iso = subprocess.run(["git", "log", "-1", "--format=%cI", "--", ".", ":(exclude)report",
                          ":(exclude)build"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    build.print_pdf(page_file, tmp_path / "a.pdf")
    assert _pdf_date(tmp_path / "a.pdf") == datetime.fromisoformat(iso)


def test_source_date_epoch_must_be_seconds(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "2026-01-01")
    with pytest.raises(ValueError, match="SOURCE_DATE_EPOCH.*'2026-01-01'"):
        provenance.source_date_epoch()


@pytest.mark.slow
def test_printing_the_built_report_again_gives_the_same_bytes(fresh_build, tmp_path):
    """Two prints of one commit's report (the build's and this one) are byte-identical."""
    again = tmp_path / "again.pdf"
    build.print_pdf(fresh_build / "report" / "index.html", again)
    assert again.read_bytes() == (fresh_build / "report" / "report.pdf").read_bytes()
