"""ICASS-M1 analyses: the 22-patient series (its Tables 1 and 2 recomputed, outcomes and
treatment steps with CIs) and the ICAS-related occlusion series it compares itself with
(selected and pooled under the parameters). Numbers only.

Figures the cohort paper *quotes* from other series (rows ``icassm1-2022.cited.<name>.*``)
are attributed to the series they describe (``dobrocky-icas-m1``, ``lee-2018``...), so that
``exclude_studies`` acts on that series, and a quoted figure is left out when the original
publication's own row for the same outcome is in the data (no series counted twice). The
series' favourable outcome is the sum of its 3-month mRS distribution up to
``favourable_mrs_max``, cross-checked against the outcome rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import meta, vocab
from . import common as cm

SERIES = "icassm1-2022"
GROUP = "ICASS-related M1"
COHORT = "ICASS-M1"
#: Comparator families: the series' and the comparators' outcomes that answer one question.
FAMILIES = ("reperfusion", "favourable", "mortality", "haemorrhage")

# Rows of the paper's Tables 1 and 2 in printed order: (kind, key, where printed). kind "head"
# = a section header, "bl" = baseline.csv row <SERIES>.bl.<key>, "out" = outcomes.csv row
# <SERIES>.<key>, "dist" = a distribution (key = scale). The present layer labels them.
TABLE1 = (
    ("bl", "age", "Table 1"), ("head", "sex", "Table 1"), ("bl", "male", "Table 1"),
    ("bl", "female", "Table 1"), ("bl", "nihss", "Table 1"), ("head", "risk_factors", "Table 1"),
    ("bl", "diabetes", "Table 1"), ("bl", "hypertension", "Table 1"),
    ("bl", "hyperlipidemia", "Table 1"), ("bl", "atrial_fibrillation", "Table 1"),
    ("bl", "previous_stroke", "Table 1"), ("bl", "smoking", "Table 1"),
    ("bl", "drinking", "Table 1"), ("head", "side", "Table 1"), ("bl", "side_left", "Table 1"),
    ("bl", "side_right", "Table 1"), ("head", "site", "Results text"),
    ("bl", "m1_proximal", "Results text"), ("bl", "m1_middle", "Results text"),
    ("bl", "m1_distal", "Results text"), ("out", "bridging_ivt", "Table 1"),
    ("bl", "onset_to_puncture", "Table 1"),
)
TABLE2 = (
    ("out", "general_anesthesia", "Table 2"), ("bl", "procedure_time", "Table 2"),
    ("head", "strategy", "Table 2"), ("out", "rescue_stenting", "Table 2"),
    ("out", "rescue_angioplasty_alone", "Table 2"), ("out", "staged_stenting", "Results text"),
    ("out", "failed_first_evt", "Results text"), ("out", "reperfusion", "Table 2"),
    ("dist", "mTICI", "Table 2"), ("out", "periprocedural_complication", "Results text"),
    ("out", "hemorrhagic_complication", "Table 2"),
    ("out", "thromboembolic_complication", "Table 2"),
    ("out", "angiographic_followup", "Results text"), ("bl", "angio_followup_time", "Table 2"),
    ("out", "restenosis", "Results text"), ("dist", "mRS", "Table 2"),
    ("out", "mrs_0_2", "Results text"),
)
#: Key outcomes of the series: (key, outcome name; None = favourable at the run's cut-off).
SERIES_OUTCOMES = (("reperfusion", "reperfusion"), ("favourable", None),
                   ("mortality", "mortality_90d"), ("complications", "periprocedural_complication"),
                   ("restenosis", "restenosis"))
STRATEGIES = ("bridging_ivt", "direct_evt", "general_anesthesia", "rescue_stenting",
              "rescue_angioplasty_alone", "staged_stenting", "failed_first_evt")


def series_excluded(params: dict[str, Any]) -> bool:
    return SERIES in params["exclude_studies"]


# --------------------------------------------------------------------------- Tables 1 and 2

@dataclass(frozen=True)
class TableLine:
    """One row of the rebuilt Table 1 or 2. kind: head, count, summary (mean ± SD), grade."""
    kind: str
    key: str
    where: str
    row_id: str = ""
    count: int | None = None
    total: int | None = None
    printed_raw: str = ""        # the percentage as printed ('' = none)
    printed_dash: bool = False   # the paper prints "—" (no patient)
    summary: str = ""            # summary statistic as printed, e.g. '62.0 ± 11.6 (range 40–84)'
    scale: str = ""
    consistent: bool | None = None  # printed % equals count/total at the printed decimals

    @property
    def flag(self) -> bool:
        if self.printed_dash:
            return bool(self.count)
        return self.consistent is False

    @property
    def recomputed(self) -> float | None:
        return None if self.count is None else 100 * self.count / self.total

    @property
    def printed_pct(self) -> float | None:
        return float(self.printed_raw) if self.printed_raw else None

    @property
    def decimals(self) -> int:
        return len(self.printed_raw.split(".")[1]) if "." in self.printed_raw else 0


def percent_consistent(count: int, total: int, printed_raw: str) -> bool | None:
    """The printed percentage is count/total rounded to its printed decimals
    (|printed - exact| <= half a unit of the last printed digit); None when none is printed."""
    if not printed_raw:
        return None
    d = len(printed_raw.split(".")[1]) if "." in printed_raw else 0
    return abs(float(printed_raw) - 100 * count / total) <= 0.5 * 10 ** -d + 1e-9


def _raw_row(ds, table: str, row_id: str) -> pd.Series | None:
    hit = ds.raw[table][ds.raw[table]["row_id"] == row_id]
    return None if hit.empty else hit.iloc[0]


def _count_line(kind, key, where, row_id, count, total, printed_raw, quote, scale="") -> TableLine:
    printed_raw = "" if str(printed_raw).strip() in ("", "nan") else str(printed_raw).strip()
    return TableLine(kind=kind, key=key, where=where, row_id=row_id, count=count, total=total,
                     printed_raw=printed_raw, printed_dash=str(quote).strip() == "—", scale=scale,
                     consistent=percent_consistent(count, total, printed_raw))


def _lines_for(ds, kind, key, where) -> list[TableLine]:
    if kind == "head":
        return [TableLine("head", key, where)]
    if kind == "bl":
        rid = f"{SERIES}.bl.{key}"
        raw = _raw_row(ds, "baseline", rid)
        if raw is None:
            return []
        if raw["statistic"] == "count":
            return [_count_line("count", f"bl.{key}", where, rid, int(raw["count"]),
                                int(raw["total"]), raw["reported_percent"], raw["quote"])]
        text = f"{raw['value']} ± {raw['sd']}"
        if raw.get("low") and raw.get("high"):
            text += f" (range {raw['low']}–{raw['high']})"
        if raw["total"] and raw["total"] != "22":
            text += f", n = {raw['total']}"
        return [TableLine("summary", f"bl.{key}", where, row_id=rid, summary=text)]
    if kind == "out":
        rid = f"{SERIES}.{key}"
        raw = _raw_row(ds, "outcomes", rid)
        if raw is None:
            return []
        return [_count_line("count", key, where, rid, int(raw["events"]), int(raw["total"]),
                            raw["reported_percent"], raw["quote"])]
    dist = ds.distribution(SERIES, key, subgroup=GROUP)
    if dist.empty:
        return []
    tag = "mtici" if key == "mTICI" else "mrs3m"
    out = [TableLine("head", f"dist.{key}", where, scale=key)]
    for _, r in dist.iterrows():
        raw = _raw_row(ds, "distributions", r["row_id"])
        out.append(_count_line("grade", f"{tag}.{r['grade']}", where, r["row_id"], int(r["count"]),
                               int(r["total"]), raw["reported_percent"], raw["quote"], scale=key))
    return out


@dataclass(frozen=True)
class PaperTable:
    """The paper's Table 1 or 2 rebuilt from the data, each percentage recomputed."""
    name: str                      # 'table1' or 'table2'
    lines: tuple[TableLine, ...]

    @property
    def flagged(self) -> tuple[TableLine, ...]:
        return tuple(ln for ln in self.lines if ln.flag)


def paper_table(ds, name: str) -> PaperTable:
    spec = {"table1": TABLE1, "table2": TABLE2}[name]
    return PaperTable(name, tuple(ln for s in spec for ln in _lines_for(ds, *s)))


# --------------------------------------------------------------------------- the series

@dataclass(frozen=True)
class Rate:
    """One proportion of the series with its CI under the run's ci_method."""
    key: str
    outcome: str
    events: int
    total: int
    ci_low: float
    ci_high: float
    definition: str = ""
    row_id: str = ""
    printed: bool = True            # False: computed here (e.g. mRS 0-1 from the distribution)
    grades: tuple[int, ...] = ()    # for favourable outcome: the mRS grades summed

    @property
    def estimate(self) -> float:
        return self.events / self.total


def favourable_rate(ds, params: dict[str, Any]) -> Rate:
    """Favourable outcome of the series from its 3-month mRS distribution, checked against
    the outcome row when the paper prints one."""
    k = params["favourable_mrs_max"]
    dist = ds.distribution(SERIES, "mRS", subgroup=GROUP)
    grades = dist["grade"].astype(int)
    events, total = int(dist.loc[grades <= k, "count"].sum()), int(dist["total"].iloc[0])
    name = cm.favourable(params)
    rows = ds.outcome_rows(source_id=SERIES, outcome=name, subgroup=GROUP)
    row = rows.iloc[0] if not rows.empty else None
    if row is not None and (int(row["events"]), int(row["total"])) != (events, total):
        raise ValueError(f"{row['row_id']}: {row['events']}/{row['total']} disagrees with the "
                         f"mRS distribution ({events}/{total})")
    lo, hi = cm.proportion_ci(events, total, params)
    return Rate("favourable", name, events, total, lo, hi, definition=f"mRS 0–{k} at 3 months",
                row_id="" if row is None else row["row_id"],
                printed=row is not None and row["count_status"] == "reported",
                grades=tuple(range(k + 1)))


def _rate(ds, key: str, outcome: str, params) -> Rate | None:
    hit = ds.outcome_rows(source_id=SERIES, outcome=outcome, subgroup=GROUP)
    if hit.empty:
        return None
    r = hit.iloc[0]
    e, t = int(r["events"]), int(r["total"])
    lo, hi = cm.proportion_ci(e, t, params)
    return Rate(key, outcome, e, t, lo, hi, definition=r["definition"], row_id=r["row_id"])


@dataclass(frozen=True)
class SeriesRates:
    """Rates of the series by key (``rates['reperfusion']`` ...), in display order."""
    rates: dict[str, Rate]

    def __getitem__(self, key: str) -> Rate:
        return self.rates[key]

    def __iter__(self):
        return iter(self.rates.values())

    @property
    def n(self) -> int:
        return max(r.total for r in self.rates.values())


def series_outcomes(ds, params) -> SeriesRates:
    out = {}
    for key, outcome in SERIES_OUTCOMES:
        r = favourable_rate(ds, params) if outcome is None else _rate(ds, key, outcome, params)
        if r is not None:
            out[key] = r
    return SeriesRates(out)


def strategies(ds, params) -> SeriesRates:
    return SeriesRates({k: r for k in STRATEGIES if (r := _rate(ds, k, k, params)) is not None})


@dataclass(frozen=True)
class Inclusion:
    """How the series was selected: patients included of the M1 occlusions treated."""
    included: int
    of_total: int
    printed_pct: float


def inclusion(ds) -> Inclusion:
    r = ds.row(f"{SERIES}.bl.icass_among_m1_evt")
    return Inclusion(int(r["count"]), int(r["total"]), float(r["reported_percent"]))


@dataclass(frozen=True)
class Severity:
    """Admission NIHSS of the series and of any comparator whose NIHSS the data hold."""
    mean: float
    sd: float
    others: tuple[tuple[str, str, float], ...]   # (source_id, statistic, value)


def severity(ds) -> Severity:
    own = ds.row(f"{SERIES}.bl.nihss")
    rows = ds.baseline_rows(cohort=COHORT)
    rows = rows[(rows["source_id"] != SERIES) & rows["variable"].str.contains("NIHSS", case=False)]
    return Severity(float(own["value"]), float(own["sd"]),
                    tuple((r["source_id"], r["statistic"], float(r["value"]))
                          for _, r in rows.iterrows()))


# --------------------------------------------------------------------------- comparators

_CITED = re.compile(rf"^{re.escape(SERIES)}\.cited\.([a-z]+)\.")
_REF_PREFIX = re.compile(r"^[A-Z][\w-]* et al\. \[\d+\]\s*")


def _original_source(ds, row_id: str) -> str | None:
    m = _CITED.match(row_id)
    if not m:
        return None
    hits = [s for s in ds.sources["source_id"] if s.split("-")[0] == m.group(1) and s != SERIES]
    return hits[0] if len(hits) == 1 else None


def candidate_rows(ds, family: str) -> pd.DataFrame:
    """Comparator rows of every outcome of the family (mRS 0-1 included), cited rows attributed
    to their original series: columns of outcomes.csv plus ``quoted_in`` and ``group``."""
    names = set(cm.family_outcomes(family, {"favourable_mrs_max": 2}))
    if family == "favourable":
        names |= {"mrs_0_1"}
    rows = ds.outcome_rows(cohort=COHORT, outcome=sorted(names))
    rows = rows[rows["subgroup"].map(lambda g: "ICAS" in g and g != GROUP)].copy()
    orig = [_original_source(ds, rid) for rid in rows["row_id"]]
    rows["quoted_in"] = [s if o else "" for s, o in zip(rows["source_id"], orig)]
    rows["source_id"] = [o or s for s, o in zip(rows["source_id"], orig)]
    rows["group"] = [_REF_PREFIX.sub("", g) for g in rows["subgroup"]]
    return rows.reset_index(drop=True)


@dataclass(frozen=True)
class ComparatorPool:
    """One outcome family across the comparator series: rows used (``events_used``,
    ``approx``, ``ci_low``/``ci_high`` of the run's single-proportion CI), meta-analysis rows
    shown as reported, rows left out (``reason``), the pooled result (k >= 2) and the
    leave-one-out refits (k >= 2)."""
    family: str
    outcomes: tuple[str, ...]
    used: pd.DataFrame
    reported: pd.DataFrame
    left_out: pd.DataFrame
    result: meta.PoolResult | None
    loo: pd.DataFrame | None

    @property
    def k(self) -> int:
        return len(self.used)

    @property
    def estimate(self) -> tuple[float, float, float] | None:
        """(estimate, low, high) of the comparator evidence: the pooled rate (k >= 2), the one
        series' own rate and CI (k = 1), or None."""
        if self.k == 0:
            return None
        if self.k == 1:
            r = self.used.iloc[0]
            return r["events_used"] / r["total"], r["ci_low"], r["ci_high"]
        return self.result.estimate, self.result.ci_low, self.result.ci_high


def _pre_reason(r, family, wanted, originals, params) -> str | None:
    if r["outcome"] not in wanted:
        if family == "favourable" and params["favourable_mrs_max"] == 1:
            return ("reports a functional-independence / favourable outcome (mRS 0–2-type or "
                    "cut-off not stated), not the mRS 0–1 outcome chosen by favourable_mrs_max = 1")
        return f"outcome {vocab.outcome_label(r['outcome'])} is not the one analysed"
    if r["quoted_in"] and r["source_id"] in originals:
        return ("the same figure as quoted by the ICASS-M1 paper; the original publication's "
                "own row is used instead")
    return None


def comparator_pool(ds, family: str, params: dict[str, Any]) -> ComparatorPool:
    """Select, under the parameters, the comparator rows of an outcome family and pool them."""
    cand = candidate_rows(ds, family)
    wanted = cm.family_outcomes(family, params)
    originals = set(cand.loc[cand["quoted_in"] == "", "source_id"])
    cand["pre_reason"] = [_pre_reason(r, family, wanted, originals, params)
                          for _, r in cand.iterrows()]
    keep = cand[cand["pre_reason"].isna()].drop(columns="pre_reason")
    pre = cand[cand["pre_reason"].notna()].rename(columns={"pre_reason": "reason"})
    if len(keep):
        used, left = cm.select_counts(keep, params)
    else:
        used = keep.assign(events_used=pd.Series(dtype=int), approx=pd.Series(dtype=bool))
        left = keep.assign(reason=pd.Series(dtype=str))
    is_rep = left["reason"].astype(str).str.startswith("a pooled estimate")
    used = used.reset_index(drop=True)
    cis = [cm.proportion_ci(int(e), int(n), params) for e, n in zip(used["events_used"], used["total"])]
    used["ci_low"] = [c[0] for c in cis]
    used["ci_high"] = [c[1] for c in cis]
    res = cm.pool_rates(used, params) if len(used) > 1 else None
    loo = cm.leave_one_out(used, params) if len(used) > 1 else None
    return ComparatorPool(family, wanted, used, left[is_rep].reset_index(drop=True),
                          pd.concat([left[~is_rep], pre], ignore_index=True), res, loo)


def reported_level(row) -> str:
    """Confidence level of a reported interval, read from the row's quote ('95%'), else ''."""
    m = re.search(r"(\d{2}(?:\.\d)?)\s*%\s*CI", str(row.get("quote", "")))
    return f"{m.group(1)}%" if m else ""


def favourable_range(ds, params) -> tuple[float, float] | None:
    """Lowest and highest printed mRS 0-2-type favourable percentage among the comparator rows
    not excluded by the parameters (None if none)."""
    cand = candidate_rows(ds, "favourable")
    cand = cand[cand["outcome"].isin(cm.favourable_outcomes({"favourable_mrs_max": 2}))
                & ~cand["source_id"].isin(params["exclude_studies"])
                & cand["reported_percent"].notna()]
    if cand.empty:
        return None
    return float(cand["reported_percent"].min()), float(cand["reported_percent"].max())
