"""Formats and plot adapters shared by the chapters' presentation modules (no chapter module
imports another: what two chapters both show lives here or in :mod:`.findings`)."""

from __future__ import annotations

import math
import re

import pandas as pd

from .. import display as fmt
from .. import vocab
from ..analyses import common as cm
from ..analyses.compare import KINDS

SECONDARY_MARK = "†"
PREPRINT_MARK = "‡"
FAMILY_TITLE = {"mortality": "Death by 90 days", "sich": "Symptomatic intracranial haemorrhage (sICH)"}


def title(b, family: str) -> str:
    """Reader title of an RCT outcome family under the run's favourable cut-off."""
    if family == "favourable":
        return vocab.outcome_label(cm.favourable(b.params))
    return FAMILY_TITLE.get(family, vocab.family_label(family))


def short(b, source_id: str) -> str:
    """'ESCAPE-MeVO' for a source: its label without the parenthesis (and ' protocol')."""
    s = b.label(source_id).split(" (")[0].strip()
    return s[:-len(" protocol")] if s.endswith(" protocol") else s


def marked(b, source_id: str, secondary: bool = False) -> str:
    return b.label(source_id) + (f" {SECONDARY_MARK}" if secondary else "")


def where(locations) -> str:
    """'Abstract, Results; † Secondary report: ...' from (location, secondary) pairs."""
    return "; ".join((f"{SECONDARY_MARK} {loc}" if sec else loc) or "–" for loc, sec in locations) or "–"


def clean_notes(text) -> str:
    """Curator notes for readers: web addresses shortened to their site name (the full
    address stays in the data), internal file references removed."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    t = re.sub(r"https?://(?:www\.)?([^/\s)]+)[^\s)]*?(?=[.,;)]?(?:\s|$))", r"\1", str(text))
    t = re.sub(r",? ?see NOTES\.md;?", "", t).replace(" ()", "")
    return re.sub(r"\s{2,}", " ", t).strip()
def reported_ci(r) -> str:
    if pd.isna(r["ci_low"]) or pd.isna(r["ci_high"]):
        return f"{r['estimate']:.2f} [CI not readable]"
    if r["measure"] == "risk difference":
        return fmt.num_ci(r["estimate"], r["ci_low"], r["ci_high"], digits=1) + " pp"
    return fmt.num_ci(r["estimate"], r["ci_low"], r["ci_high"])


def _p_text(p) -> str:
    return "–" if p is None or pd.isna(p) or str(p).strip() == "" else str(p)


def outcome_text(name: str) -> str:
    return "mRS shift (ordinal)" if name == "mrs_shift" else vocab.outcome_label(name)


def pooled_row(res, label: str = "Pooled estimate") -> dict:
    """Adapter: a PoolResult as plots.forest_plot's pooled row (no prediction interval when
    meta.py gives none, i.e. below three studies)."""
    return {"label": f"{label} ({res.model} effect)", "estimate": res.estimate,
            "ci_low": res.ci_low, "ci_high": res.ci_high, "pi_low": res.pi_low, "pi_high": res.pi_high}


def heterogeneity_text(res) -> str | None:
    if res is None or res.k < 2:
        return None
    tau = "" if res.model == "fixed" else f"τ² = {res.tau2:.3g}; "
    return (f"Heterogeneity: {tau}I² = {res.i2:.0f}% (Q = {res.q:.2f}, df = {res.q_df}, "
            f"{fmt.p_value(res.q_p)})")


def overall_effect_text(res) -> str | None:
    """RevMan's 'Test for overall effect: Z = 1.05 (P = 0.29)' (t for Hartung-Knapp)."""
    if res is None or res.k < 2 or res.se == 0:
        return None
    stat = "t" if res.ci_method.startswith("hksj") else "Z"
    return f"Test for overall effect: {stat} = {abs(res.mu / res.se):.2f} ({fmt.p_value(res.pval)})"


def rate_text(r) -> str:
    """'21/22 (95.5% [78.2–99.2])' for a rate with events, total and CI."""
    return f"{r.events}/{r.total} ({fmt.pct_ci(r.estimate, r.ci_low, r.ci_high)})"


def comparison_verdict(series, est) -> str:
    """'higher', 'lower' or 'similar' for a series' rate against other evidence (estimate,
    low, high): a comparative word only when the two intervals do not overlap."""
    if series is None or est is None:
        return ""
    if series.ci_low > est[2]:
        return "higher"
    if series.ci_high < est[1]:
        return "lower"
    return "similar"


def study_label(ds, source_id: str) -> str:
    """Short label, e.g. 'ESCAPE-MeVO (Goyal 2025)', from sources.csv."""
    src = ds.source(source_id)
    if src.get("label"):
        return src["label"]
    first = (src.get("authors") or "").split(",")[0].split(" ")[0].strip()
    return f"{first} {src['year']}".strip() if first else source_id


def describe_row(ds, row_id: str) -> str:
    """One plain line for an outcomes.csv or effects.csv row: who, which arm, what, the number."""
    row = ds.row(row_id)
    who = study_label(ds, row["source_id"])
    what = vocab.outcome_label(row["outcome"])
    if "measure" in row.index and row.get("measure"):  # effects.csv
        if cm.is_finite(row["ci_low"]) and cm.is_finite(row["ci_high"]):
            value = fmt.num_ci(row["estimate"], row["ci_low"], row["ci_high"])
        else:
            value = f"{row['estimate']:.2f} (confidence interval not fully reported)"
        return f"{who}: {what}, {row['measure']} ({row['comparison']}) {value}"
    arm = "" if row["arm"] in ("all", "") else f", {row['arm']} arm"
    group = "" if row["subgroup"] in ("all", "") else f" ({row['subgroup']})"
    if row["estimate_type"] == "pooled":
        number = f"pooled {row['reported_percent']:g}%"
        if cm.is_finite(row["reported_ci_low"]):
            number += f" [{row['reported_ci_low']:g}–{row['reported_ci_high']:g}]"
    elif not pd.isna(row["events"]):
        number = f"{int(row['events'])}/{int(row['total'])}"
        if cm.is_finite(row["reported_percent"]):
            number += f" ({row['reported_percent']:g}%)"
    else:
        number = f"{row['reported_percent']:g}%" + (
            f" of {int(row['total'])}" if not pd.isna(row["total"]) else "")
    return f"{who}{group}{arm}: {what}, {number}"


ROW_LABEL = {KINDS[0]: "DMVO trials, EVT arms", KINDS[1]: "DMVO meta-analysis, primary DMVO",
             KINDS[2]: "DMVO meta-analysis, secondary DMVO", KINDS[3]: "ICASS-M1 series",
             KINDS[4]: "Other ICAS series"}
EVIDENCE = {KINDS[0]: "EVT arms of the randomized trials",
            KINDS[1]: "Observational meta-analysis, primary DMVO (as reported)",
            KINDS[2]: "Observational meta-analysis, secondary DMVO (as reported)",
            KINDS[3]: "ICASS-M1 series", KINDS[4]: "Other ICAS-related occlusion series"}


def family_title(b, family: str) -> str:
    if family == "favourable":
        return f"Favourable outcome (mRS 0–{b.params['favourable_mrs_max']})"
    return vocab.family_label(family)


def outcome_label(r) -> str:
    """The row's own outcome label when it is not the family's usual outcome (the ICASS-M1
    series' any haemorrhagic event where the others report symptomatic ICH), else ''."""
    odd = [o for o in r.outcomes if o in vocab.outcomes_of("haemorrhage")]
    return vocab.outcome_label(odd[0]) if odd else ""
