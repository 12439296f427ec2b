"""Side-by-side chapter: figure, table and caveats from the bundle's side-by-side rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import display as fmt
from .. import vocab  # noqa: F401  (also used by the chapter notebook)
from ..analyses.compare import KINDS  # noqa: F401
from .common import EVIDENCE, ROW_LABEL, SECONDARY_MARK, family_title, outcome_label

def n_text(r) -> str:
    if r.how == "reported":
        return f"{int(r.patients)} patients" if not pd.isna(r.patients) else "–"
    return " + ".join(("≈" if a else "") + fmt.count(e, n) + (f" {SECONDARY_MARK}" if sec else "")
                      for _, e, n, a, sec in r.counts)


def forest_rows(b) -> pd.DataFrame:
    """Adapter: the side-by-side rows as plots.forest_plot rows, grouped by outcome family."""
    rows = b["compare.side"].rows
    return pd.DataFrame({
        "label": [ROW_LABEL[r.kind] + (" (any haemorrhagic event)" if outcome_label(r) else "") for r in rows], "n_text": [n_text(r) for r in rows],
        "estimate": [r.estimate for r in rows], "ci_low": [r.ci_low for r in rows],
        "ci_high": [r.ci_high for r in rows], "weight": np.nan,
        "group": [family_title(b, r.family) for r in rows]})


def reader_table(b) -> pd.DataFrame:
    rows = b["compare.side"].rows

    def notes(r):
        return "; ".join(f"{b.label(s)}: {why}" for s, why in r.left_out) or "–"
    return pd.DataFrame({
        "Outcome": [outcome_label(r) or family_title(b, r.family) for r in rows],
        "Cohort and evidence": [f"{r.cohort}: {EVIDENCE[r.kind]}" for r in rows],
        "Patients (events/total)": [n_text(r) for r in rows],
        "Rate [CI]": [fmt.pct_ci(r.estimate, r.ci_low, r.ci_high) for r in rows],
        "Studies": ["reported" if r.how == "reported" else int(r.k) for r in rows],
        "Definition used": ["; ".join(r.definitions) for r in rows], "Not included": [notes(r) for r in rows]})


def caveats_context(b) -> dict:
    series = [r for r in b["compare.side"].rows if r.kind == KINDS[3]]
    sev = b["icass.severity"]
    return {"n": int(series[0].patients) if series else None, "sev": sev,
            "others": [f"{b.label(s)}: {v:g}" for s, _, v in sev.others],
            "q_nihss": b.ds.quote("icass-nihss-li"),
            "bleed": next((r for r in series if r.family == "haemorrhage"), None)}


def forest_plot(b):
    from .. import plots
    return plots.forest_plot(forest_rows(b), scale="proportion", group_col="group", show_weights=False,
                             xlabel="Rate among treated patients", est_label="Rate [CI]")
