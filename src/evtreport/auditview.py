"""Reader-facing tables of the consistency audit (evtreport.audit)."""

from __future__ import annotations

import html

import pandas as pd

from .audit import STATUSES, audit_dataset, summarize
from .display import code_id

CHECK_LABELS = {
    "percent_vs_counts": "percentage vs count/total",
    "distribution_percent": "grade percentage vs count/total",
    "derived_unique": "derived count is the only one possible",
    "grim_percent": "percentage possible with this denominator",
    "distribution_sum": "grades add up to the total",
    "distribution_percent_sum": "grade percentages add up to 100",
    "distribution_vs_outcome": "outcome equals the sum of its grades",
    "grim_mean": "mean possible for whole-number data (GRIM)",
    "grimmer_sd": "SD possible for whole-number data (GRIMMER)",
    "sd_range_bound": "SD possible within the printed range",
}
STATUS_MEANING = {
    "ok": "agrees at the printed precision",
    "rounding": "within one unit of the last printed digit, but not correctly rounded",
    "mismatch": "further off than rounding explains",
    "impossible": "no whole-number data can give the printed figure",
}


def status_summary(audit: pd.DataFrame) -> pd.DataFrame:
    counts = summarize(audit)
    return pd.DataFrame({"Result": list(STATUSES), "Meaning": [STATUS_MEANING[s] for s in STATUSES],
                         "Figures": [counts[s] for s in STATUSES]})


def check_summary(audit: pd.DataFrame) -> pd.DataFrame:
    """Figures checked per kind of check and result."""
    table = audit.pivot_table(index="check", columns="status", values="row_id", aggfunc="count",
                              fill_value=0).reindex(columns=list(STATUSES), fill_value=0)
    table.columns.name = None  # else the pivot's "status" shows as a stray header cell
    table.index = [CHECK_LABELS.get(c, c) for c in table.index]
    table.insert(0, "Checked", table.sum(axis=1))
    return table.reset_index().rename(columns={"index": "Check"})


def _status_html(status: str) -> str:
    return f'<span class="evt-status-{status}">{html.escape(status)}</span>'


def findings(audit: pd.DataFrame, *, only_problems: bool = True) -> pd.DataFrame:
    rows = audit[audit["status"] != "ok"] if only_problems else audit
    return pd.DataFrame({
        "Data row": rows["row_id"].map(code_id),
        "File": rows["file"].map(html.escape),
        "Check": rows["check"].map(lambda c: html.escape(CHECK_LABELS.get(c, c))),
        "Printed": rows["reported"].map(lambda v: html.escape(str(v))),
        "Recomputed": rows["recomputed"].map(lambda v: html.escape(str(v))),
        "Result": rows["status"].map(_status_html),
        "Explanation": rows["message"].map(html.escape),
    })


__all__ = ["audit_dataset", "status_summary", "check_summary", "findings"]
