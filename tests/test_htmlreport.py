"""Report assembly: numbering, table of contents, cross-references, offline page."""

import base64

import nbformat
import pytest
from bs4 import BeautifulSoup

from evtreport import display, htmlreport, params
from evtreport.results import MIME

PNG_1PX = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")).decode()


def html_out(html):
    return nbformat.v4.new_output("display_data", data={"text/html": html, "text/plain": ""})


def chapter(title, *, fig_id=None, tbl_id=None, text=""):
    cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
             nbformat.v4.new_markdown_cell(f"# {title}\n\n{text}\n\n## Part A\n\n## Part B")]
    code = nbformat.v4.new_code_cell("plot()")
    if fig_id:
        code.outputs.append(nbformat.v4.new_output("display_data", data={"image/png": PNG_1PX}))
        code.outputs.append(html_out(display._caption_html("figure", fig_id, "A plot.", None)))
    if tbl_id:
        code.outputs.append(html_out(display._caption_html("table", tbl_id, "A table.", None)
                                     + "<table><tr><td>1</td></tr></table>"))
    code.outputs.append(nbformat.v4.new_output("display_data", data={MIME: {"rows": []}}))
    cells.append(code)
    nb = nbformat.v4.new_notebook(cells=cells)
    return nb


def build(*nbs):
    page = htmlreport.build_html(nbs, title="T", subtitle="S", run_name="default",
                                 params_file="params/default.yaml", values=dict(params.DEFAULTS),
                                 build_info="test")
    return BeautifulSoup(page, "html.parser")


def test_sections_figures_tables_are_numbered_in_reading_order_and_linked():
    soup = build(chapter("One", fig_id="f1", tbl_id="t1", text="See @fig:f2, @fig:f1 and @tbl:t1."),
                 chapter("Two", fig_id="f2"))
    headings = [h.get_text(" ", strip=True) for h in soup.select("main h1, main h2")
                if not h.find_parent(["header", "nav"])]
    assert headings[:4] == ["1 One", "1.1 Part A", "1.2 Part B", "2 Two"]
    labels = [s.get_text() for s in soup.select(".evt-caption .evt-label")]
    assert labels == ["Figure 1.", "Table 1.", "Figure 2."]
    refs = {a.get_text(): a["href"] for a in soup.select("a.evt-ref")}
    assert refs == {"Figure 1": "#fig-f1", "Figure 2": "#fig-f2", "Table 1": "#tbl-t1"}
    for href in refs.values():  # the anchor is on the image output of a figure
        assert soup.find(id=href[1:]) is not None
    assert soup.find(id="fig-f2").find("img")["alt"] == "Figure 2. A plot."
    toc = [a["href"] for a in soup.select("nav.evt-toc > ol a")]
    assert len(toc) == 6 and all(soup.find(id=h[1:]) for h in toc)


def test_duplicate_heading_ids_are_made_unique():
    soup = build(chapter("Same"), chapter("Same"))
    ids = [h["id"] for h in soup.select("main h1[id], main h2[id]")]
    assert len(ids) == len(set(ids))


def test_unknown_cross_reference_stops_the_build():
    with pytest.raises(htmlreport.ReportError, match="@fig:nowhere"):
        build(chapter("One", text="As @fig:nowhere shows."))


def test_a_figure_never_referred_to_stops_the_build():
    with pytest.raises(htmlreport.ReportError, match="never referred to in the text.*figure 'lonely'"):
        build(chapter("One", fig_id="lonely"))


def test_figure_caption_without_image_stops_the_build():
    nb = chapter("One")
    nb.cells[-1].outputs.insert(0, html_out(display._caption_html("figure", "lost", "x", None)))
    with pytest.raises(htmlreport.ReportError, match="figure 'lost': no image"):
        build(nb)


def test_page_is_offline_and_code_is_hidden_by_default():
    soup = build(chapter("One"))
    assert not soup.find_all("script", src=True)
    assert not [l for l in soup.find_all("link", href=True) if l["href"].startswith("http")]
    toggle = soup.find("input", id="evt-show-code")
    assert toggle is not None and not toggle.has_attr("checked")
    assert "x = 1" not in soup.get_text()  # the parameters cell is dropped
    assert MIME not in str(soup)            # results payloads are not rendered


def test_changed_parameters_are_flagged_in_the_title_block():
    values = dict(params.DEFAULTS, favourable_mrs_max=1)
    page = htmlreport.build_html([chapter("One")], title="T", subtitle="S", run_name="x",
                                 params_file="params/x.yaml", values=values, build_info="b")
    block = BeautifulSoup(page, "html.parser").select_one(".evt-params")
    assert "changed from the defaults: favourable_mrs_max (default 2)" in block.get_text()
    assert block.select_one("li.evt-changed").get_text() == "favourable_mrs_max = 1"


def test_readable_references_of_a_live_notebook_are_numbered_by_the_build():
    text = display.readable_refs("As @fig:f1 and @tbl:t1 show.")
    assert text == "As [Figure f1](#fig-f1) and [Table t1](#tbl-t1) show."
    assert "@" not in display._caption_html("table", "t1", "See @fig:f1.", "Also @tbl:t1.")
    soup = build(chapter("One", fig_id="f1", tbl_id="t1", text=text))
    refs = {a.get_text(): a["href"] for a in soup.select("a.evt-ref")}
    assert refs == {"Figure 1": "#fig-f1", "Table 1": "#tbl-t1"}
    with pytest.raises(htmlreport.ReportError, match="@fig:nowhere"):
        build(chapter("One", fig_id="f1", text="[Figure nowhere](#fig-nowhere), @fig:f1"))


def test_title_block_names_another_data_folder_and_its_checksum():
    def page(data):
        return htmlreport.build_html(
            [chapter("One")], title="T", subtitle="S", run_name="x", params_file="p.yaml",
            values=dict(params.DEFAULTS), build_info="test", data=data)
    other = {"folder": "data-new-study", "sha256": "ab" * 32, "project_data": False}
    header = BeautifulSoup(page(other), "html.parser").find("header")
    info = header.find(class_="evt-datainfo").get_text(" ", strip=True)
    assert "data-new-study/" in info and "ab" * 32 in info
    same = {"folder": "data", "sha256": "cd" * 32, "project_data": True}
    assert BeautifulSoup(page(same), "html.parser").find(class_="evt-datainfo") is None


def test_appendices_are_lettered_and_the_printed_toc_opens_them():
    """A chapter headed 'Appendix A. ...' is numbered A (sections A.1 ...); the chapter before
    it keeps its number; on screen the TOC follows the title block, in print it stands just
    before the first appendix, so the first chapter starts on page 1."""
    soup = build(chapter("One"), chapter("Appendix A. Tables"), chapter("Appendix B. Methods"))
    headings = [h.get_text(" ", strip=True) for h in soup.select("main h1, main h2")
                if not h.find_parent(["header", "nav"])]
    assert headings == ["1 One", "1.1 Part A", "1.2 Part B", "Appendix A. Tables", "A.1 Part A",
                        "A.2 Part B", "Appendix B. Methods", "B.1 Part A", "B.2 Part B"]
    screen, printed = soup.select("nav.evt-toc")
    assert "evt-toc-screen" in screen["class"] and "evt-toc-print" in printed["class"]
    assert screen.find_previous("header", class_="evt-titleblock") is not None
    first_appendix = soup.find("h1", class_="evt-appendix")
    assert first_appendix.get_text(" ", strip=True) == "Appendix A. Tables"
    following = [h for h in printed.find_all_next("h1") if h.find_parent("nav") is None]
    assert following[0] is first_appendix
    assert printed.find("h1").get_text() == "Contents"  # a top-level bookmark of the PDF
    assert printed.find_previous("h1").get_text(" ", strip=True) == "1 One"
    entries = [a.get_text(" ", strip=True) for a in printed.select("ol a")]
    assert entries[3] == "Appendix A.\xa0 Tables" and entries[4] == "A.1\xa0 Part A"
    chapters = [h for h in soup.select("main h1") if not h.find_parent("header")]
    assert "evt-first-chapter" in chapters[0]["class"] and "evt-appendix" not in chapters[0]["class"]
    css = htmlreport.CSS.read_text()
    assert "nav.evt-toc-print { display: none; }" in css  # on screen
    assert "nav.evt-toc-screen { display: none; }" in css  # in print


def test_a_chapter_after_an_appendix_stops_the_build():
    with pytest.raises(htmlreport.ReportError, match="follows an appendix"):
        build(chapter("Appendix A. Tables"), chapter("Late chapter"))


def test_without_appendices_one_toc_follows_the_title_block():
    soup = build(chapter("One"), chapter("Two"))
    (nav,) = soup.select("nav.evt-toc")
    assert nav["class"] == ["evt-toc"]
