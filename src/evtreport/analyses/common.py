"""Row selection and pooling under the report's parameters, shared by every analysis.

Analyses never pick rows or methods themselves: they call these functions, so a parameter
(excluded studies, use of derived or percentage-only counts, pooling model, CI method...)
changes every analysis the same way. Numbers only: nothing here formats text for readers.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pandas as pd

from .. import ci as ci_mod
from .. import meta, vocab

SECONDARY_NOTE = "SECONDARY REPORT"


def alpha(params: dict[str, Any]) -> float:
    return round(1 - params["confidence_level"], 10)


def favourable(params: dict[str, Any]) -> str:
    """Outcome name of the favourable outcome chosen by `favourable_mrs_max`."""
    return f"mrs_0_{params['favourable_mrs_max']}"


def favourable_outcomes(params: dict[str, Any]) -> tuple[str, ...]:
    """Outcome names that answer "favourable outcome" at the run's cut-off: mRS 0-2 and the
    sources' mRS 0-2-type wordings for cut-off 2; only mRS 0-1 for cut-off 1 (no functional
    independence figure can stand in for mRS 0-1)."""
    if params["favourable_mrs_max"] == 1:
        return ("mrs_0_1",)
    return ("mrs_0_2", "functional_independence", "favorable_outcome")


def family_outcomes(family: str, params: dict[str, Any]) -> tuple[str, ...]:
    """Outcome names pooled for an outcome family under the parameters."""
    if family == "favourable":
        return favourable_outcomes(params)
    if family == "haemorrhage":  # symptomatic ICH, or any haemorrhagic event where that is all
        return vocab.outcomes_of("sich") + vocab.outcomes_of("haemorrhage")
    return vocab.outcomes_of(family)


def is_secondary(row) -> bool:
    """True when the row's numbers come from a secondary report, not the publication."""
    loc = str(row.get("location", "") or "")
    notes = str(row.get("notes", "") or "")
    return loc.lower().startswith("secondary report") or SECONDARY_NOTE in notes


def is_preprint(ds, source_id: str) -> bool:
    """True for a preprint (medRxiv etc.), from sources.csv."""
    src = ds.source(source_id)
    text = " ".join(str(src.get(c) or "") for c in ("journal", "notes", "doi")).lower()
    return ("preprint" in text or "medrxiv" in text or str(src.get("doi") or "").startswith("10.1101/")
            or "preprint" in source_id or "medrxiv" in source_id)


def sources_by_design(ds, cohort: str, designs) -> list[str]:
    """Source ids of a cohort (or 'both') with one of the designs, ordered by year then id."""
    s = ds.sources
    s = s[s["cohort"].isin([cohort, "both"]) & s["design"].isin(list(designs))]
    return sorted(s["source_id"], key=lambda sid: (str(ds.source(sid).get("year") or ""),
                                                     str(ds.source(sid).get("label") or sid)))


def not_excluded(ids, params) -> list[str]:
    return [s for s in ids if s not in params["exclude_studies"]]


# -- which rows give usable counts ------------------------------------------------------------

def select_counts(rows: pd.DataFrame, params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split outcome rows into (used, left_out) under the parameters.

    `used` gains `events_used` (int) and `approx` (True when the count was rounded from a
    printed percentage for this report); `left_out` gains `reason` (plain words).
    """
    rows = rows.copy()
    picked = [_pick(r, params) for _, r in rows.iterrows()]
    rows["reason"] = [p[0] for p in picked]
    rows["events_used"] = [p[1] for p in picked]
    rows["approx"] = [p[2] for p in picked]
    used = rows[rows["reason"].isna()].drop(columns="reason")
    used["events_used"] = used["events_used"].astype(int)
    used["total"] = used["total"].astype(int)
    left_out = rows[rows["reason"].notna()].drop(columns=["events_used", "approx"])
    return used, left_out


def _pick(r, params) -> tuple[str | None, int | None, bool]:
    if r["source_id"] in params["exclude_studies"]:
        return "excluded by the parameter exclude_studies", None, False
    if r["estimate_type"] == "pooled":
        return "a pooled estimate of a meta-analysis (shown as reported, not pooled again)", None, False
    if r["count_status"] == "derived" and not params["use_derived"]:
        return "count derived from a printed percentage (use_derived = false)", None, False
    if r["count_status"] == "percent_only":
        if pd.isna(r["total"]) or pd.isna(r["reported_percent"]):
            return "percentage only, without a denominator", None, False
        if not params["use_percent_only"]:
            return "percentage only (use_percent_only = false)", None, False
        return None, int(round(r["reported_percent"] * int(r["total"]) / 100)), True
    return None, int(r["events"]), False


# -- statistics under the parameters -----------------------------------------------------------

def pool_options(params: dict[str, Any]) -> dict[str, Any]:
    """meta.pool_* options of the run. hksj = true is the modified Hartung-Knapp-Sidik-Jonkman
    interval (variance factor at least 1), so it is never narrower than the Wald interval."""
    return {"model": params["model"], "tau2": params["tau2_method"],
            "ci": "hksj-adhoc" if params["hksj"] else "z", "alpha": alpha(params)}


def proportion_ci(events: int, total: int, params: dict[str, Any]) -> tuple[float, float]:
    low, high = ci_mod.proportion_ci(events, total, method=params["ci_method"], alpha=alpha(params))
    return _unit(float(low)), _unit(float(high))


def _unit(x: float) -> float:
    return x if math.isnan(x) else min(1.0, max(0.0, x))


def clip_rates(res: meta.PoolResult) -> meta.PoolResult:
    """A pooled proportion with its estimate and intervals truncated to [0, 1] (the raw scale
    can give limits outside; every table, figure and results.csv shows the truncated ones)."""
    return dataclasses.replace(res, **{f: _unit(getattr(res, f)) for f in
                                       ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")})


def pool_rates(used: pd.DataFrame, params: dict[str, Any]) -> meta.PoolResult:
    """Random/fixed-effects pooled proportion of the `used` rows (one row per study)."""
    res = meta.pool_proportions(used["events_used"].to_numpy(), used["total"].to_numpy(),
                                labels=list(used["source_id"]), transform=params["transform"],
                                **pool_options(params))
    return clip_rates(res)


def pool_trials(pairs: pd.DataFrame, params: dict[str, Any]) -> meta.PoolResult:
    """Pooled EVT-vs-medical effect; `pairs` has events_t, total_t, events_c, total_c, source_id."""
    res = meta.pool_two_arm(pairs["events_t"].to_numpy(), pairs["total_t"].to_numpy(),
                            pairs["events_c"].to_numpy(), pairs["total_c"].to_numpy(),
                            labels=list(pairs["source_id"]), measure=params["two_arm_measure"],
                            **pool_options(params))
    if params["two_arm_measure"] == "RD":  # a difference of proportions lies in [-1, 1]
        res = dataclasses.replace(res, **{f: max(-1.0, min(1.0, getattr(res, f))) for f in
                                          ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")
                                          if not math.isnan(getattr(res, f))})
    return res


def leave_one_out(used: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Leave-one-out refits of a pooled rate, limits truncated to [0, 1]; column source_id."""
    loo = meta.leave_one_out(meta.pool_proportions, used["events_used"].to_numpy(),
                             used["total"].to_numpy(), labels=list(used["source_id"]),
                             transform=params["transform"], **pool_options(params))
    for c in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
        loo[c] = loo[c].map(_unit)
    loo["source_id"] = list(used["source_id"])
    return loo


def null_value(measure: str) -> float:
    return 0.0 if measure == "RD" else 1.0


def excludes_null(low: float, high: float, measure: str) -> bool:
    """True when the interval lies wholly on one side of no effect."""
    null = null_value(measure)
    return not (math.isnan(low) or math.isnan(high)) and (low > null or high < null)


def is_finite(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x)) and not pd.isna(x)


def nan(x) -> float:
    return float("nan") if x is None or pd.isna(x) else float(x)


def empty_like(rows: pd.DataFrame, **cols) -> pd.DataFrame:
    return rows.iloc[0:0].assign(**{c: pd.Series(dtype=t) for c, t in cols.items()})


__all__ = [n for n in dir() if not n.startswith("_") and n not in ("annotations", "np")]
