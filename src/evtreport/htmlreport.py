"""Assemble executed chapter notebooks into one self-contained, reader-facing HTML report.

nbconvert renders the merged notebook with an offline template (nothing loaded from
the network, figures embedded); this module then adds what nbconvert lacks: title
block with the run's parameters, numbered sections, a table of contents, numbered
figures and tables with resolvable cross-references (@fig:id, @tbl:id), a code
toggle (code hidden by default, no JavaScript) and a provenance footer.
"""

from __future__ import annotations

import copy
import html
import re
from pathlib import Path
from typing import Any, Iterable

import nbformat
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter

from . import params as params_mod
from .results import MIME as RESULTS_MIME

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES = PACKAGE_DIR / "templates"
CSS = PACKAGE_DIR / "assets" / "report.css"
HIDDEN_TAGS = {"parameters", "injected-parameters"}
_REF = re.compile(r"@(fig|tbl):([a-z0-9][a-z0-9-]*)")
_LINK = re.compile(r"^#(fig|tbl)-([a-z0-9][a-z0-9-]*)$")
# In table cells, keep intervals such as "[66.7–95.3]", ranges such as "[29, 86]" and names such as
# "ICASS-M1" on one line.
_NOWRAP = re.compile(r"(\S+ \[[^\]\s]{1,24}(?: to [^\]\s]{1,12})?\]|\[[^\]\s]{1,12}, [^\]\s]{1,12}\]"
                     r"|\b[A-Za-z]+-[A-Za-z0-9]+\b)")
# A table with this many columns of "estimate [interval]" is too wide for A4 with each on
# one line: there an estimate may stand above its interval.
STACK_FROM = 4
_KIND = {"fig": ("figure", "Figure"), "tbl": ("table", "Table")}
_APPENDIX = re.compile(r"^\s*Appendix ([A-Z])\.\s")


class ReportError(ValueError):
    """The notebooks cannot be assembled into a consistent report."""


def merge(notebooks: Iterable[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    """One notebook of all chapters, without parameter cells and results payloads."""
    notebooks = list(notebooks)
    if not notebooks:
        raise ReportError("no executed notebooks to assemble")
    merged = nbformat.v4.new_notebook(metadata=copy.deepcopy(notebooks[0].metadata))
    merged.metadata.pop("papermill", None)
    for n, nb in enumerate(notebooks):
        for cell in nb.cells:
            if HIDDEN_TAGS & set(cell.metadata.get("tags", [])):
                continue
            cell = copy.deepcopy(cell)
            cell["id"] = f"nb{n}-{cell.get('id', len(merged.cells))}"
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.outputs if RESULTS_MIME not in o.get("data", {})]
            merged.cells.append(cell)
    return merged


def to_html(nb: nbformat.NotebookNode, title: str) -> str:
    exporter = HTMLExporter(template_name="evtreport", extra_template_basedirs=[str(TEMPLATES)])
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _appendix_letter(h) -> str | None:
    """'A' for a chapter heading 'Appendix A. Title' (its first text), else None."""
    first = h.contents[0] if h.contents else None
    m = _APPENDIX.match(first) if isinstance(first, str) else None
    return m.group(1) if m else None


def _number_sections(main) -> list[tuple[str, str, str, int]]:
    """Prefix h1/h2 with section numbers; return TOC entries (number, title, id, level).
    A chapter headed 'Appendix A. Title' is numbered A (its sections A.1, A.2 ...): its
    'Appendix A.' becomes the number, and its TOC entry reads 'Appendix A. Title'."""
    toc, used = [], set()
    chapter = section = 0
    for h in main.find_all(["h1", "h2"]):
        for a in h.find_all("a", class_="anchor-link"):
            a.decompose()
        text = h.get_text(" ", strip=True)
        letter = _appendix_letter(h) if h.name == "h1" else None
        if letter:
            chapter, section = letter, 0
            number, level = f"Appendix {letter}.", 1
            text = text[len(number):].strip()
            h.contents[0].replace_with(h.contents[0][len(number):].lstrip())
        elif h.name == "h1":
            if isinstance(chapter, str):
                raise ReportError(f"chapter {text!r} follows an appendix: appendices come last")
            chapter, section = chapter + 1, 0
            number, level = f"{chapter}", 1
        else:
            if chapter == 0:
                raise ReportError(f"section heading {text!r} comes before any chapter heading (h1)")
            section += 1
            number, level = f"{chapter}.{section}", 2
        ident = h.get("id") or _slug(text)
        while ident in used:
            ident += "-" + number.replace(".", "-").replace(" ", "-")
        used.add(ident)
        h["id"] = ident
        # The space keeps number and title apart in text taken from the page (PDF outline).
        num = BeautifulSoup(f'<span class="evt-secnum">{number}</span> ', "html.parser")
        h.insert(0, num)
        if letter:
            h["class"] = h.get("class", []) + ["evt-appendix"]
        toc.append((number, text, ident, level))
    return toc


def _number_captions(soup, main) -> tuple[dict, list]:
    """Number figures and tables in reading order; return ({(kind, id): (label, anchor)}, list)."""
    counters = {"figure": 0, "table": 0}
    labels, listing = {}, []
    for cap in main.select("div.evt-caption"):
        kind, ident = cap["data-kind"], cap["data-id"]
        if (kind, ident) in labels:
            raise ReportError(f"{kind} id {ident!r} is used twice")
        counters[kind] += 1
        label = f"{kind.capitalize()} {counters[kind]}"
        anchor = ("fig-" if kind == "figure" else "tbl-") + ident
        target = cap
        if kind == "figure":
            # The image is the output just before the caption's output.
            holder = cap.find_parent(class_="jp-OutputArea-child")
            prev = holder.find_previous_sibling(class_="jp-OutputArea-child") if holder else None
            if prev is None or prev.find("img") is None:
                raise ReportError(f"figure {ident!r}: no image output precedes its caption")
            target = prev
        target["id"] = anchor
        tag = soup.new_tag("span", attrs={"class": "evt-label"})
        tag.string = label + "."
        cap.insert(0, tag)
        labels[(kind, ident)] = (label, anchor)
        text = cap.find(class_="evt-caption-text")
        text = text.get_text(" ", strip=True) if text else ""
        if kind == "figure":
            target.find("img")["alt"] = f"{label}. {text}"
        listing.append((kind, label, text, anchor))
    return labels, listing


def _resolve_refs(soup, main, labels: dict) -> None:
    """Turn @fig:id / @tbl:id and links to #fig-id / #tbl-id into "Figure n" / "Table n"
    links; every figure and table must be referred to."""
    missing, used = set(), set()
    for node in list(main.find_all(string=_REF)):
        if node.find_parent(["code", "pre", "script", "style"]):
            continue
        parts, last = [], 0
        for m in _REF.finditer(node):
            parts.append(html.escape(node[last:m.start()]))
            key = (_KIND[m.group(1)][0], m.group(2))
            if key not in labels:
                missing.add(m.group(0))
                parts.append(html.escape(m.group(0)))
            else:
                label, anchor = labels[key]
                used.add(key)
                parts.append(f'<a class="evt-ref" href="#{anchor}">{label}</a>')
            last = m.end()
        parts.append(html.escape(node[last:]))
        node.replace_with(BeautifulSoup("".join(parts), "html.parser"))
    # the readable form: <a href="#fig-id">Figure id</a> (display.readable_refs, Markdown cells)
    for a in main.find_all("a", href=_LINK):
        m = _LINK.match(a["href"])
        key = (_KIND[m.group(1)][0], m.group(2))
        if key not in labels:
            missing.add(f"@{m.group(1)}:{m.group(2)}")
            continue
        used.add(key)
        a.string = labels[key][0]
        a["class"] = "evt-ref"
    if missing:
        raise ReportError("cross-reference(s) to unknown figure/table id: "
                          + ", ".join(sorted(missing)))
    unreferenced = [f"{kind} {ident!r}" for kind, ident in labels if (kind, ident) not in used]
    if unreferenced:
        raise ReportError("never referred to in the text (write @fig:id or @tbl:id where the "
                          "reader should look at it): " + ", ".join(unreferenced))


def _keep_together(main) -> None:
    for table in main.select("table.evt-table"):
        interval_columns = {i for tr in table.find_all("tr")
                            for i, td in enumerate(tr.find_all("td", recursive=False))
                            if any("[" in m.group(0) for m in _NOWRAP.finditer(td.get_text()))}
        stack = len(interval_columns) >= STACK_FROM
        for node in table.find_all("td"):
            for text in list(node.find_all(string=_NOWRAP)):
                if text.find_parent(class_="evt-nowrap"):
                    continue
                parts = _NOWRAP.split(text)
                new = "".join(_nowrap_html(p, stack) if i % 2 else html.escape(p)
                              for i, p in enumerate(parts))
                text.replace_with(BeautifulSoup(new, "html.parser"))


def _nowrap_html(text: str, stack: bool) -> str:
    """A name, or an estimate with its interval, that never breaks; with `stack`, the
    estimate may stand above its interval ("86.4%" / "[66.7–95.3]")."""
    parts = text.split(" [", 1)
    if not stack or len(parts) == 1:
        return f'<span class="evt-nowrap">{html.escape(text)}</span>'
    return (f'<span class="evt-nowrap">{html.escape(parts[0])}</span> '
            f'<span class="evt-nowrap">[{html.escape(parts[1])}</span>')


def _params_block(values: dict[str, Any], params_file: str) -> str:
    items, changed = [], []
    for row in params_mod.describe(values):
        is_changed = row["value"] != row["default"]
        cls = ' class="evt-changed"' if is_changed else ""
        items.append(f'<li{cls} title="{html.escape(row["meaning"])}"><code>{row["parameter"]}</code> '
                     f'= {html.escape(row["value"])}</li>')
        if is_changed:
            changed.append(f'{row["parameter"]} (default {html.escape(row["default"])})')
    summary = ("all parameters at their defaults" if not changed
               else "changed from the defaults: " + "; ".join(changed))
    return (f'<div class="evt-params"><p><strong>Parameters of this run</strong> '
            f'(<code>{html.escape(params_file)}</code>): {summary}. Their meaning is given in the '
            f'Methods appendix.</p><ul>{"".join(items)}</ul></div>')


def _toc_block(toc, listing, where: str = "") -> str:
    """The table of contents; `where` 'screen' or 'print' shows it only there."""
    items, open_sub = [], False
    for number, text, ident, level in toc:
        link = f'<a href="#{ident}">{number}&nbsp; {html.escape(text)}</a>'
        if level == 1:
            if open_sub:
                items.append("</ol></li>")
                open_sub = False
            elif items:
                items.append("</li>")
            items.append(f"<li>{link}")
        else:
            if not open_sub:
                items.append("<ol>")
                open_sub = True
            items.append(f"<li>{link}</li>")
    items.append("</ol></li>" if open_sub else "</li>" if items else "")

    def lst(kind, title):
        entries = [f'<li><a href="#{a}">{label}</a>: {html.escape(text)}</li>'
                   for k, label, text, a in listing if k == kind]
        return (f'<details class="evt-lists"><summary>{title} ({len(entries)})</summary>'
                f'<ol>{"".join(entries)}</ol></details>') if entries else ""
    cls = f" evt-toc-{where}" if where else ""
    # In print the TOC opens the appendices: its heading is a top-level bookmark of its own.
    head = "h1" if where == "print" else "h2"
    return (f'<nav class="evt-toc{cls}" aria-label="Table of contents"><{head}>Contents</{head}>'
            f'<ol>{"".join(items)}</ol>{lst("figure", "List of figures")}'
            f'{lst("table", "List of tables")}</nav>')


def _place_toc(soup, main, toc, listing) -> str:
    """The TOC for the top of the page. In print the summary of findings comes first: the
    chapter after the title block starts on page 1, and the TOC is printed before the
    first appendix (the PDF outline lists every heading anyway)."""
    first = main.find("h1")
    first["class"] = first.get("class", []) + ["evt-first-chapter"]
    appendix = main.find("h1", class_="evt-appendix")
    if appendix is None:
        return _toc_block(toc, listing)
    cell = appendix.find_parent(class_="jp-Cell") or appendix
    cell.insert_before(BeautifulSoup(_toc_block(toc, listing, "print"), "html.parser"))
    return _toc_block(toc, listing, "screen")


def _data_block(data: dict[str, Any] | None) -> str:
    """Names the data folder when a run did not read the project's data/."""
    if not data or data.get("project_data", True):
        return ""
    return (f'<p class="evt-datainfo"><strong>Data folder:</strong> '
            f'<code>{html.escape(data["folder"])}/</code>, not the project\'s <code>data/</code>. '
            f'SHA-256 of its CSV files (<code>LC_ALL=C sha256sum *.csv | sha256sum</code> in '
            f'that folder): <code class="evt-checksum">{html.escape(data["sha256"])}</code>.</p>')


def postprocess(page: str, *, title: str, subtitle: str, run_name: str, params_file: str,
                values: dict[str, Any], build_info: str, data: dict[str, Any] | None = None,
                changes: str | None = None) -> str:
    soup = BeautifulSoup(page, "html.parser")
    main = soup.find("main")
    if main is None:
        raise ReportError("nbconvert output has no <main> element")
    toc = _number_sections(main)
    if not toc:
        raise ReportError("the report has no chapter headings")
    labels, listing = _number_captions(soup, main)
    _resolve_refs(soup, main, labels)
    _keep_together(main)
    toc_html = _place_toc(soup, main, toc, listing)

    header = (f'<header class="evt-titleblock"><h1 class="evt-title">{html.escape(title)}</h1>'
              f'<p class="evt-subtitle">{html.escape(subtitle)}</p>'
              f'<p class="evt-runinfo">Run <strong>{html.escape(run_name)}</strong> · '
              f'{html.escape(build_info)}</p>{_data_block(data)}{changes or ""}'
              f'{_params_block(values, params_file)}</header>{toc_html}')
    main.insert(0, BeautifulSoup(header, "html.parser"))
    footer = soup.new_tag("footer", attrs={"class": "evt-footer"})
    footer.string = (f"{title} — run {run_name}; {build_info}. Package versions and a SHA-256 "
                     f"checksum of every data file are listed in the Methods appendix.")
    main.append(footer)

    toggle = BeautifulSoup('<input type="checkbox" id="evt-show-code" class="evt-toggle">'
                           '<label for="evt-show-code" class="evt-toggle-label"></label>',
                           "html.parser")
    soup.body.insert(0, toggle)
    style = soup.new_tag("style")
    style.string = CSS.read_text(encoding="utf-8")
    soup.head.append(style)
    soup.title.string = title
    return str(soup)


def build_html(notebooks, *, title: str, subtitle: str, run_name: str, params_file: str,
               values: dict[str, Any], build_info: str, data: dict[str, Any] | None = None,
               changes: str | None = None) -> str:
    """`data`: the run's data folder (provenance.data_folder), named when it is not data/;
    `changes`: the HTML block of what moved since the published report (evtreport.diff)."""
    merged = merge(notebooks)
    return postprocess(to_html(merged, title), title=title, subtitle=subtitle, run_name=run_name,
                       params_file=params_file, values=values, build_info=build_info,
                       data=data, changes=changes)
