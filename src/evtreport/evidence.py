"""From curated rows to analysed evidence, under the report's parameters.

Chapters never pick rows or methods themselves: they call these functions, so a
parameter (excluded studies, use of derived or percentage-only counts, pooling model,
CI method...) changes every chapter the same way.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from . import ci as ci_mod
from . import display as fmt
from . import meta

# Plain-language outcome names for tables and captions.
OUTCOME_LABELS = {
    "reperfusion": "Successful reperfusion",
    "recanalization": "Successful recanalization",
    "mrs_0_1": "Excellent outcome (mRS 0–1)",
    "mrs_0_2": "Functional independence (mRS 0–2)",
    "mrs_0_3": "mRS 0–3",
    "mrs_shift": "mRS distribution (ordinal shift)",
    "functional_independence": "Functional independence",
    "favorable_outcome": "Favourable outcome",
    "mortality_90d": "Death by 90 days",
    "mortality": "Death",
    "sich": "Symptomatic intracranial haemorrhage",
    "any_ich": "Any intracranial haemorrhage",
    "periprocedural_complication": "Perioperative complication",
    "hemorrhagic_complication": "Haemorrhagic complication",
    "thromboembolic_complication": "Thromboembolic complication",
}

# Outcomes that answer the same clinical question under the sources' own definitions.
OUTCOME_FAMILIES = {
    "reperfusion": ("reperfusion", "recanalization"),
    "favourable": ("mrs_0_2", "functional_independence", "favorable_outcome"),
    "mortality": ("mortality_90d", "mortality"),
    # The ICASS-M1 series reports any haemorrhagic event, the other sources symptomatic ICH.
    "haemorrhage": ("sich", "hemorrhagic_complication"),
}


def outcome_label(name: str) -> str:
    return OUTCOME_LABELS.get(name, name.replace("_", " "))


def favourable(params: dict[str, Any]) -> str:
    """Outcome name of the favourable outcome chosen by `favourable_mrs_max`."""
    return f"mrs_0_{params['favourable_mrs_max']}"


def study_label(ds, source_id: str) -> str:
    """Short label, e.g. 'ESCAPE-MeVO (Goyal 2025)', from sources.csv."""
    src = ds.source(source_id)
    if src.get("label"):
        return src["label"]
    first = (src.get("authors") or "").split(",")[0].split(" ")[0].strip()
    return f"{first} {src['year']}".strip() if first else source_id


def row_label(ds, row) -> str:
    """Label of an outcome row: its study, or for a figure quoted by another paper
    (row id `<source>.cited.<series>.<outcome>`) the quoted series and who quotes it."""
    if ".cited." in row["row_id"]:
        return f"{row['subgroup']}, as quoted by {study_label(ds, row['source_id'])}"
    return study_label(ds, row["source_id"])


# -- which rows give usable counts ------------------------------------------------------------

def select_counts(rows: pd.DataFrame, params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split outcome rows into (used, left_out) under the parameters.

    `used` gains `events_used` (int) and `approx` (True when the count was rounded from a
    printed percentage for this report); `left_out` gains `reason`.
    """
    rows = rows.copy()
    reasons, events_used, approx = [], [], []
    for _, r in rows.iterrows():
        reason, ev, ap = None, None, False
        if r["source_id"] in params["exclude_studies"]:
            reason = "excluded by the parameter exclude_studies"
        elif r["estimate_type"] == "pooled":
            reason = "a pooled estimate of a meta-analysis (shown as reported, not pooled again)"
        elif r["count_status"] == "derived" and not params["use_derived"]:
            reason = "count derived from a printed percentage (use_derived = false)"
        elif r["count_status"] == "percent_only":
            if pd.isna(r["total"]) or pd.isna(r["reported_percent"]):
                reason = "percentage only, without a denominator"
            elif not params["use_percent_only"]:
                reason = "percentage only (use_percent_only = false)"
            else:
                ev, ap = int(round(r["reported_percent"] * int(r["total"]) / 100)), True
        else:
            ev = int(r["events"])
        reasons.append(reason)
        events_used.append(ev)
        approx.append(ap)
    rows["reason"] = reasons
    rows["events_used"] = events_used
    rows["approx"] = approx
    used = rows[rows["reason"].isna()].drop(columns="reason")
    used["events_used"] = used["events_used"].astype(int)
    used["total"] = used["total"].astype(int)
    left_out = rows[rows["reason"].notna()].drop(columns=["events_used", "approx"])
    return used, left_out


def count_text(row) -> str:
    """'19/22', or '≈42/271' for a count rounded from a percentage."""
    return ("≈" if row["approx"] else "") + fmt.count(row["events_used"], row["total"])


# -- statistics under the parameters -----------------------------------------------------------

def pool_options(params: dict[str, Any]) -> dict[str, Any]:
    return {"model": params["model"], "tau2": params["tau2_method"],
            "ci": "hksj" if params["hksj"] else "z", "alpha": round(1 - params["confidence_level"], 10)}


def proportion_ci(events: int, total: int, params: dict[str, Any]) -> tuple[float, float]:
    low, high = ci_mod.proportion_ci(events, total, method=params["ci_method"],
                                     alpha=round(1 - params["confidence_level"], 10))
    return float(low), float(high)


def pool_rates(used: pd.DataFrame, params: dict[str, Any], labels=None) -> meta.PoolResult:
    """Random/fixed-effects pooled proportion of the `used` rows (one row per study)."""
    return meta.pool_proportions(used["events_used"].to_numpy(), used["total"].to_numpy(),
                                 labels=list(labels if labels is not None else used["label"]),
                                 transform=params["transform"], **pool_options(params))


def pool_trials(pairs: pd.DataFrame, params: dict[str, Any]) -> meta.PoolResult:
    """Pooled EVT-vs-medical effect; `pairs` has events_t, total_t, events_c, total_c, label."""
    return meta.pool_two_arm(pairs["events_t"].to_numpy(), pairs["total_t"].to_numpy(),
                             pairs["events_c"].to_numpy(), pairs["total_c"].to_numpy(),
                             labels=list(pairs["label"]), measure=params["two_arm_measure"],
                             **pool_options(params))


def heterogeneity_text(res: meta.PoolResult) -> str | None:
    if res.k < 2:
        return None
    tau = "" if res.model == "fixed" else f"τ² = {res.tau2:.3g}; "
    return (f"Heterogeneity: {tau}I² = {res.i2:.0f}% (Q = {res.q:.2f}, df = {res.q_df}, "
            f"{fmt.p_value(res.q_p)})")


def pooled_dict(res: meta.PoolResult, label: str | None = None) -> dict[str, Any]:
    if label is None:
        label = "Pooled estimate" if res.k > 1 else "Single study (nothing pooled)"
    return {"label": f"{label} ({res.model} effect)" if res.k > 1 else label,
            "estimate": res.estimate, "ci_low": res.ci_low, "ci_high": res.ci_high,
            "pi_low": res.pi_low, "pi_high": res.pi_high}


def rate_forest_frame(used: pd.DataFrame, res: meta.PoolResult) -> pd.DataFrame:
    """Rows for `plots.forest_plot` (proportion scale) from used rows and their pooled result."""
    st = res.studies.reset_index(drop=True)
    return pd.DataFrame({
        "label": list(used["label"]),
        "n_text": [count_text(r) for _, r in used.iterrows()],
        "estimate": st["estimate"].to_numpy(), "ci_low": st["ci_low"].to_numpy(),
        "ci_high": st["ci_high"].to_numpy(),
        "weight": st["weight"].to_numpy() if res.k > 1 else [np.nan] * len(st),
    })


def rate_with_ci(events: int, total: int, params: dict[str, Any]) -> str:
    low, high = proportion_ci(events, total, params)
    return fmt.pct_ci(events / total, low, high)


def is_finite(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def describe_row(ds, row_id: str) -> str:
    """One plain line for an outcomes.csv or effects.csv row: who, which arm, what, the number."""
    row = ds.row(row_id)
    who = study_label(ds, row["source_id"])
    what = outcome_label(row["outcome"])
    if "measure" in row.index and row.get("measure"):  # effects.csv
        if is_finite(row["ci_low"]) and is_finite(row["ci_high"]):
            value = fmt.num_ci(row["estimate"], row["ci_low"], row["ci_high"])
        else:
            value = f"{row['estimate']:.2f} (confidence interval not fully reported)"
        return f"{who}: {what}, {row['measure']} ({row['comparison']}) {value}"
    arm = "" if row["arm"] in ("all", "") else f", {row['arm']} arm"
    group = "" if row["subgroup"] in ("all", "") else f" ({row['subgroup']})"
    if row["estimate_type"] == "pooled":
        number = f"pooled {row['reported_percent']:g}%"
        if is_finite(row["reported_ci_low"]):
            number += f" [{row['reported_ci_low']:g}–{row['reported_ci_high']:g}]"
    elif not pd.isna(row["events"]):
        number = f"{int(row['events'])}/{int(row['total'])}"
        if is_finite(row["reported_percent"]):
            number += f" ({row['reported_percent']:g}%)"
    else:
        number = f"{row['reported_percent']:g}%" + (
            f" of {int(row['total'])}" if not pd.isna(row["total"]) else "")
    return f"{who}{group}{arm}: {what}, {number}"
