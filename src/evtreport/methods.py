"""Text and tables of the Methods chapter, written from the parameters actually used."""

from __future__ import annotations

import html

import pandas as pd

from .display import code_id
from .vocab import outcome_label

def statistical_methods(params: dict):
    """Markdown paragraphs describing the analysis exactly as parameterised (vocabulary
    descriptions of the methods, data/vocabulary.csv)."""
    from . import text, vocab
    return text.render(
        "methods/statistical.block.j2", p=params, level=vocab.level_text(params["confidence_level"]),
        ci=vocab.description("ci_method", params["ci_method"]),
        transform=vocab.description("transform", params["transform"]),
        tau2=vocab.description("tau2_method", params["tau2_method"]),
        measure=vocab.description("measure", params["two_arm_measure"]))


def outcome_definitions(ds) -> pd.DataFrame:
    """Each outcome with the definitions its sources use."""
    df = pd.concat([ds.outcomes[["outcome", "definition", "source_id"]],
                    ds.effects[["outcome", "definition", "source_id"]]])
    rows = []
    for outcome, grp in df.groupby("outcome", sort=True):
        defs = sorted({d for d in grp["definition"] if d})
        rows.append({"Outcome": outcome_label(outcome),
                     "Definitions used by the sources": "; ".join(defs) or "not stated",
                     "Sources": grp["source_id"].nunique()})
    return pd.DataFrame(rows)


def _sentence(text: str) -> str:
    """Escaped text ending with one full stop (none added after '.', '?' or '!')."""
    text = html.escape(text.strip())
    return text if text.endswith((".", "?", "!")) else text + "."


def references(ds) -> pd.DataFrame:
    """The reference list: every source in data/sources.csv, by first author. A missing part
    is left out rather than printed empty; a source whose original was not read says so."""
    rows = []
    for _, s in ds.sources.sort_values(["authors", "year", "source_id"],
                                       key=lambda c: c.astype(str).str.lower()).iterrows():
        if s["doi"]:
            link = f'doi:{html.escape(s["doi"])}'
        elif s["pmid"]:
            link = f'PMID {html.escape(str(s["pmid"]))}'
        else:
            link = html.escape(s["url"])
        year = "" if pd.isna(s["year"]) or s["year"] == "" else f" ({int(s['year'])})"
        where = ", ".join(x for x in (s["journal"], s["volume_pages"]) if x)
        parts = [_sentence((s["authors"] or "Authors not recorded") + year)]
        if s["title"]:
            parts.append(_sentence(s["title"]))
        elif link:
            parts.append("Title not shown in the text read.")
        else:
            parts.append("Original publication not read; its figures are used only as quoted by "
                         "the paper that cites it (see the notes in <code>data/sources.csv</code>).")
        if where:
            parts.append(f"<i>{html.escape(where)}</i>.")
        if link:
            parts.append(link)
        rows.append({
            "Source id": code_id(s["source_id"]),
            "Reference": " ".join(parts),
            "Design": html.escape(s["design"]),
            "Cohort": html.escape(s["cohort"]),
        })
    return pd.DataFrame(rows)
