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


def references(ds) -> pd.DataFrame:
    """The reference list: every source in data/sources.csv in Vancouver style (formatted by
    citeproc-py, see evtreport.references), by first author, linked to its DOI or PubMed
    record where known."""
    from .references import reference_list

    by_id = ds.sources.set_index("source_id")
    return pd.DataFrame([{
        "Source id": code_id(sid),
        "Reference": ref,
        "Design": html.escape(by_id.at[sid, "design"]),
        "Cohort": html.escape(by_id.at[sid, "cohort"]),
    } for sid, ref in reference_list(ds.sources)])
