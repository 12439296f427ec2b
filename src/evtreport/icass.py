"""The ICASS-M1 chapter: acute M1 occlusion due to intracranial atherosclerotic severe stenosis.

Everything the notebook ``03_icass_m1`` shows is built here from ``data/``:

* the cohort paper's Tables 1 and 2 rebuilt from baseline.csv, outcomes.csv and
  distributions.csv, each percentage as printed next to the percentage recomputed from
  count/total, with a flag where they disagree (:func:`table1`, :func:`table2`);
* the series' outcomes with confidence intervals chosen by the parameters
  (:func:`series_outcomes`);
* the 3-month mRS and post-procedure mTICI distributions as Grotta bars
  (:func:`mrs_figure`, :func:`mtici_figure`) and the treatment steps (:func:`strategies_table`);
* the comparison with the other ICAS-related occlusion series that the paper's discussion
  cites (:func:`comparator_analysis`, :func:`comparator_table`, :func:`comparator_forest`,
  :func:`loo_table`).

Row selection follows :mod:`evtreport.evidence` (``select_counts``, ``pool_rates``,
``proportion_ci``), so the report parameters act here as in every other chapter. Two
additions are specific to this chapter:

* figures the cohort paper *quotes* from other series (rows ``icassm1-2022.cited.<name>.*``)
  are attributed to the series they describe (``dobrocky-icas-m1``, ``lee-2018``, ...), so that
  ``exclude_studies`` acts on that series, and a quoted figure is left out when the original
  publication's own row for the same outcome is in the data (no series counted twice);
* the series' favourable outcome is the sum of its reported 3-month mRS distribution up to
  ``favourable_mrs_max`` (19/22 for mRS 0-2, as printed; 13/22 for mRS 0-1, not printed by the
  paper), cross-checked against the outcome rows.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import display as fmt
from . import evidence as ev
from . import meta
from . import plots

SERIES = "icassm1-2022"
GROUP = "ICASS-related M1"
COHORT = "ICASS-M1"

# The paper's definition of the condition (Methods, "Patients"); no data file holds
# definitions of populations, so it is kept here with its location.
ICASS_DEFINITION = (
    "An ICASS-related occlusion was defined as a degree of fixed stenosis > 70% after "
    "thrombectomy in the occlusion site, not sensitive to vasoactive substances, with impairment "
    "of perfusion of the dependent territory.", "Methods, Patients")

# The paper's comparison of its baseline NIHSS with the Li meta-analysis (Discussion), used
# only if the data hold no baseline NIHSS row for the meta-analysis.
NIHSS_COMPARISON_QUOTE = (
    "relatively low and lower than the initial NIHSS score (16.0) in the meta-analysis performed "
    "by Li et al. [9]", "Discussion")

EM = "\u2003"  # indentation of sub-rows (not collapsed by HTML)


# =============================================================================================
# Tables 1 and 2 as printed, with recomputed percentages
# =============================================================================================

# (kind, key, label, where): kind "head" = a section header row, "bl" = baseline.csv row
# <SERIES>.bl.<key>, "out" = outcomes.csv row <SERIES>.<key>, "dist" = a distribution
# (key = mRS or mTICI), "fav" = the printed favourable-outcome row.
TABLE1_SPEC = [
    ("bl", "age", "Age (years)", "Table 1"),
    ("head", None, "Sex", "Table 1"),
    ("bl", "male", f"{EM}Male", "Table 1"),
    ("bl", "female", f"{EM}Female", "Table 1"),
    ("bl", "nihss", "NIHSS at admission", "Table 1"),
    ("head", None, "Risk factors", "Table 1"),
    ("bl", "diabetes", f"{EM}Diabetes mellitus", "Table 1"),
    ("bl", "hypertension", f"{EM}Hypertension", "Table 1"),
    ("bl", "hyperlipidemia", f"{EM}Hyperlipidaemia", "Table 1"),
    ("bl", "atrial_fibrillation", f"{EM}Atrial fibrillation", "Table 1"),
    ("bl", "previous_stroke", f"{EM}Previous stroke", "Table 1"),
    ("bl", "smoking", f"{EM}Smoking", "Table 1"),
    ("bl", "drinking", f"{EM}Alcohol drinking", "Table 1"),
    ("head", None, "Side of the occluded middle cerebral artery", "Table 1"),
    ("bl", "side_left", f"{EM}Left", "Table 1"),
    ("bl", "side_right", f"{EM}Right", "Table 1"),
    ("head", None, "Site of the occlusion within M1", "Results text"),
    ("bl", "m1_proximal", f"{EM}Proximal", "Results text"),
    ("bl", "m1_middle", f"{EM}Middle", "Results text"),
    ("bl", "m1_distal", f"{EM}Distal", "Results text"),
    ("out", "bridging_ivt", "Intravenous alteplase before EVT (bridging)", "Table 1"),
    ("bl", "onset_to_puncture", "Onset to groin puncture (minutes)", "Table 1"),
]

TABLE2_SPEC = [
    ("out", "general_anesthesia", "General anaesthesia", "Table 2"),
    ("bl", "procedure_time", "Procedure time (minutes)", "Table 2"),
    ("head", None, "Treatment strategy", "Table 2"),
    ("out", "rescue_stenting", f"{EM}Balloon angioplasty and stenting", "Table 2"),
    ("out", "rescue_angioplasty_alone", f"{EM}Balloon angioplasty alone", "Table 2"),
    ("out", "staged_stenting", f"{EM}{EM}of whom staged stenting later", "Results text"),
    ("out", "failed_first_evt", f"{EM}Failed recanalization at the first EVT", "Results text"),
    ("out", "reperfusion", "Successful revascularization (mTICI 2b–3)", "Table 2"),
    ("dist", "mTICI", "mTICI grade after the procedure", "Table 2"),
    ("out", "periprocedural_complication", "Perioperative complications", "Results text"),
    ("out", "hemorrhagic_complication", f"{EM}Haemorrhagic event", "Table 2"),
    ("out", "thromboembolic_complication", f"{EM}Thromboembolic event", "Table 2"),
    ("out", "angiographic_followup", "Angiographic follow-up available", "Results text"),
    ("bl", "angio_followup_time", f"{EM}Time to angiographic follow-up (months)", "Table 2"),
    ("out", "restenosis", f"{EM}Stenosis worse than after the procedure (of those followed up)",
     "Results text"),
    ("dist", "mRS", "mRS score at 3 months", "Table 2"),
    ("out", "mrs_0_2", "Favourable outcome (mRS 0–2) at 3 months", "Results text"),
]


def _decimals(raw: str) -> int:
    raw = (raw or "").strip()
    return len(raw.split(".")[1]) if "." in raw else 0


def percent_check(count: int, total: int, printed_raw: str | None) -> dict[str, Any]:
    """Compare a printed percentage with count/total.

    The printed value is consistent when it is count/total rounded to the printed number of
    decimals (|printed - exact| <= half a unit of the last printed digit). Returns
    ``recomputed`` (percent, unrounded), ``printed`` (float or None), ``consistent``
    (True/False, None when nothing is printed) and ``text`` (the reader's check column).
    """
    exact = 100 * count / total
    if printed_raw is None or str(printed_raw).strip() in ("", "nan"):
        return {"recomputed": exact, "printed": None, "consistent": None,
                "text": "no percentage printed"}
    printed = float(printed_raw)
    d = _decimals(str(printed_raw))
    ok = abs(printed - exact) <= 0.5 * 10 ** -d + 1e-9
    if ok:
        text = "matches"
    else:
        text = (f"differs: printed {printed_raw}%, but {count}/{total} = {exact:.2f}%, "
                f"which rounds to {exact:.{max(d, 1)}f}%")
    return {"recomputed": exact, "printed": printed, "consistent": ok, "text": text}


def _raw_row(ds, table: str, row_id: str) -> pd.Series | None:
    raw = ds.raw[table]
    hit = raw[raw["row_id"] == row_id]
    return None if hit.empty else hit.iloc[0]


def _printed_mean(raw: pd.Series, unit_range: bool = True) -> str:
    text = f"{raw['value']} ± {raw['sd']}"
    if unit_range and raw.get("low") and raw.get("high"):
        text += f" (range {raw['low']}–{raw['high']})"
    return text


def _count_line(kind_key: str, label: str, where: str, count: int, total: int,
                printed_raw: str | None, quote: str, row_id: str) -> dict[str, Any]:
    chk = percent_check(count, total, printed_raw)
    if chk["printed"] is None:
        printed = "—" if quote.strip() == "—" else f"{count} (no %)" if count else "—"
        if quote.strip() != "—" and count:
            printed = f"{count} of {total} (no % printed)"
    else:
        printed = f"{count} ({printed_raw}%)"
    if quote.strip() == "—":
        check = "printed as “—” (none)" if count == 0 else "printed as “—” but count > 0"
        flag = count != 0
    else:
        check = chk["text"]
        flag = chk["consistent"] is False
    return {"key": kind_key, "label": label, "where": where, "printed": printed,
            "recomputed": f"{count}/{total} = {fmt.pct(count / total)}", "check": check,
            "flag": flag, "count": count, "total": total, "printed_pct": chk["printed"],
            "row_id": row_id}


def _table_lines(ds, spec) -> list[dict[str, Any]]:
    lines = []
    for kind, key, label, where in spec:
        if kind == "head":
            lines.append({"key": None, "label": label, "where": "", "printed": "",
                          "recomputed": "", "check": "", "flag": False, "count": None,
                          "total": None, "printed_pct": None, "row_id": ""})
        elif kind == "bl":
            rid = f"{SERIES}.bl.{key}"
            raw = _raw_row(ds, "baseline", rid)
            if raw is None:
                continue
            if raw["statistic"] == "count":
                lines.append(_count_line(f"bl.{key}", label, where, int(raw["count"]),
                                         int(raw["total"]), raw["reported_percent"],
                                         raw["quote"], rid))
            else:
                n = f", n = {raw['total']}" if raw["total"] and raw["total"] != "22" else ""
                lines.append({"key": f"bl.{key}", "label": label, "where": where,
                              "printed": _printed_mean(raw) + n,
                              "recomputed": "not recomputable (summary statistic)",
                              "check": "–", "flag": False, "count": None, "total": None,
                              "printed_pct": None, "row_id": rid})
        elif kind == "out":
            rid = f"{SERIES}.{key}"
            raw = _raw_row(ds, "outcomes", rid)
            if raw is None:
                continue
            lines.append(_count_line(key, label, where, int(raw["events"]), int(raw["total"]),
                                     raw["reported_percent"], raw["quote"], rid))
        elif kind == "dist":
            dist = ds.distribution(SERIES, key, subgroup=GROUP)
            if dist.empty:
                continue
            lines.append({"key": None, "label": label, "where": where, "printed": "",
                          "recomputed": "", "check": "", "flag": False, "count": None,
                          "total": None, "printed_pct": None, "row_id": ""})
            tag = "mtici" if key == "mTICI" else "mrs3m"
            desc = plots.MTICI_DESCRIPTIONS if key == "mTICI" else plots.MRS_DESCRIPTIONS
            for _, r in dist.iterrows():
                raw = _raw_row(ds, "distributions", r["row_id"])
                g = r["grade"]
                glabel = f"{EM}{key} {g}" + (f" ({desc[g].lower()})" if g in desc else "")
                lines.append(_count_line(f"{tag}.{g}", glabel, where,
                                         int(r["count"]), int(r["total"]),
                                         raw["reported_percent"], raw["quote"], r["row_id"]))
    return lines


def table1_lines(ds) -> list[dict[str, Any]]:
    """Table 1 (baseline characteristics) as a list of row dicts (see :func:`as_table`)."""
    return _table_lines(ds, TABLE1_SPEC)


def table2_lines(ds) -> list[dict[str, Any]]:
    """Table 2 (procedural details and outcomes) as a list of row dicts."""
    return _table_lines(ds, TABLE2_SPEC)


def _label_html(label: str, header: bool) -> str:
    depth = len(label) - len(label.lstrip(EM))
    text = html.escape(label.lstrip(EM))
    if header:
        text = f"<strong>{text}</strong>"
    return f'<span style="padding-left:{1.4 * depth:g}em">{text}</span>' if depth else text


def as_table(lines: list[dict[str, Any]]) -> pd.DataFrame:
    """Reader table (HTML cells, show with ``escape=False``): characteristic (section headers in
    bold, sub-rows indented), as printed, recomputed from counts, check, where printed."""
    def cell(s: str) -> str:
        return _nb(html.escape(s))

    return pd.DataFrame({
        "Characteristic": [_label_html(ln["label"], ln["count"] is None and not ln["printed"])
                           for ln in lines],
        "As printed": [cell(ln["printed"]) for ln in lines],
        "Recomputed from counts": [cell(ln["recomputed"]) for ln in lines],
        "Check": [("<strong>⚠ " + cell(ln["check"]) + "</strong>") if ln["flag"]
                  else cell(ln["check"]) for ln in lines],
        "Where printed": [cell(ln["where"]) for ln in lines],
    })


def flagged(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [ln for ln in lines if ln["flag"]]


def record_table(results, lines: list[dict[str, Any]], prefix: str) -> None:
    """Record each recomputed percentage as ``icass.<prefix>.<key>``."""
    for ln in lines:
        if ln["count"] is None or ln["key"] is None:
            continue
        results.add(f"icass.{prefix}.{ln['key']}", cohort=COHORT, subgroup=GROUP,
                    outcome=ln["key"].split(".")[-1] if ln["key"].startswith("bl.") else ln["key"],
                    analysis=f"{prefix} rebuilt: percentage recomputed from count/total",
                    level="derived", measure="proportion", estimate=ln["count"] / ln["total"],
                    events=ln["count"], total=ln["total"],
                    method=("printed " + (f"{ln['printed_pct']:g}%" if ln["printed_pct"] is not None
                                          else "without percentage") + "; " + ln["check"]),
                    sources=SERIES)


# =============================================================================================
# The series' outcomes with confidence intervals
# =============================================================================================

def series_excluded(params: dict[str, Any]) -> bool:
    return SERIES in params["exclude_studies"]


def favourable_counts(ds, params: dict[str, Any]) -> dict[str, Any]:
    """Favourable outcome of the series from its 3-month mRS distribution.

    Returns events, total, outcome name (mrs_0_1 / mrs_0_2), whether the paper prints it
    (``printed``) and the outcomes.csv row it was checked against.
    """
    k = params["favourable_mrs_max"]
    dist = ds.distribution(SERIES, "mRS", subgroup=GROUP)
    grades = dist["grade"].astype(int)
    events = int(dist.loc[grades <= k, "count"].sum())
    total = int(dist["total"].iloc[0])
    name = ev.favourable(params)
    rows = ds.outcome_rows(source_id=SERIES, outcome=name, subgroup=GROUP)
    row = rows.iloc[0] if not rows.empty else None
    if row is not None and (int(row["events"]), int(row["total"])) != (events, total):
        raise ValueError(f"{row['row_id']}: {row['events']}/{row['total']} disagrees with the "
                         f"mRS distribution ({events}/{total})")
    printed = row is not None and row["count_status"] == "reported"
    return {"events": events, "total": total, "outcome": name, "printed": printed,
            "row_id": None if row is None else row["row_id"], "grades": list(range(k + 1))}


SERIES_OUTCOMES = [
    # (results key, outcome name in outcomes.csv, plain label)
    ("reperfusion", "reperfusion", "Successful reperfusion (mTICI 2b–3)"),
    ("favourable", None, None),
    ("mortality", "mortality_90d", "Death by 3 months"),
    ("complications", "periprocedural_complication", "Perioperative complications"),
    ("restenosis", "restenosis", "Stenosis worse at angiographic follow-up"),
]


def series_outcomes(ds, params: dict[str, Any]) -> pd.DataFrame:
    """One row per key outcome of the series: events, total, estimate and CI (ci_method)."""
    rows = []
    for key, outcome, label in SERIES_OUTCOMES:
        if key == "favourable":
            fav = favourable_counts(ds, params)
            k = params["favourable_mrs_max"]
            label = f"Favourable outcome (mRS 0–{k}) at 3 months"
            events, total, name = fav["events"], fav["total"], fav["outcome"]
            definition = f"mRS 0–{k} at 3 months"
            note = ("printed by the paper" if fav["printed"] else
                    "not printed by the paper: sum of mRS " +
                    " + ".join(str(g) for g in fav["grades"]) + " in its Table 2")
            rid = fav["row_id"] or ""
        else:
            r = ds.outcome_rows(source_id=SERIES, outcome=outcome, subgroup=GROUP).iloc[0]
            events, total, name = int(r["events"]), int(r["total"]), outcome
            definition, note, rid = r["definition"], "printed by the paper", r["row_id"]
        low, high = ev.proportion_ci(events, total, params)
        rows.append({"key": key, "outcome": name, "label": label, "definition": definition,
                     "events": events, "total": total, "estimate": events / total,
                     "ci_low": low, "ci_high": high, "note": note, "row_id": rid})
    return pd.DataFrame(rows)


def series_outcomes_table(df: pd.DataFrame, level: str) -> pd.DataFrame:
    return pd.DataFrame({
        "Outcome": df["label"],
        "Definition (paper)": [d if n == "printed by the paper" else f"{d} ({n})"
                               for d, n in zip(df["definition"], df["note"])],
        "Patients": [fmt.count(e, t) for e, t in zip(df["events"], df["total"])],
        f"Rate [{level} CI]": [_nb(fmt.pct_ci(e, lo, hi)) for e, lo, hi in
                                zip(df["estimate"], df["ci_low"], df["ci_high"])],
        "CI width (points)": [f"{100 * (hi - lo):.1f}" for lo, hi in
                              zip(df["ci_low"], df["ci_high"])],
    })


def _nb(text: str) -> str:
    """Keep '86.4% [66.7–95.3]' on one line in narrow table columns."""
    return text.replace("% [", "%\u00a0[").replace("–", "–\u2060")


def ci_method_name(params: dict[str, Any]) -> str:
    return {"wilson": "Wilson score", "clopper-pearson": "Clopper-Pearson (exact)",
            "jeffreys": "Jeffreys", "agresti-coull": "Agresti-Coull",
            "wald": "Wald"}[params["ci_method"]]


def record_series(results, df: pd.DataFrame, params: dict[str, Any]) -> None:
    for _, r in df.iterrows():
        results.add(f"icass.series.{r['key']}", cohort=COHORT, subgroup=GROUP,
                    outcome=r["outcome"], analysis="single series, proportion with CI",
                    measure="proportion", estimate=r["estimate"], ci_low=r["ci_low"],
                    ci_high=r["ci_high"], events=r["events"], total=r["total"],
                    method=f"{params['ci_method']} {round(100 * params['confidence_level'], 1):g}% CI",
                    sources=SERIES)


def width_sentence(df: pd.DataFrame, level: str, params: dict[str, Any]) -> str:
    widths = 100 * (df["ci_high"] - df["ci_low"])
    n = int(df.loc[df["key"] == "reperfusion", "total"].iloc[0])
    rep = df[df["key"] == "reperfusion"].iloc[0]
    fav = df[df["key"] == "favourable"].iloc[0]
    return (
        f"With {n} patients one patient is {100 / n:.1f} percentage points, and the "
        f"{level} {ci_method_name(params)} intervals are {widths.min():.0f} to "
        f"{widths.max():.0f} percentage points wide. The reperfusion rate of "
        f"{fmt.pct(rep['estimate'])} is compatible with a true rate as low as "
        f"{fmt.pct(rep['ci_low'])}, and the favourable-outcome rate of "
        f"{fmt.pct(fav['estimate'])} with one as low as {fmt.pct(fav['ci_low'])}: a series of "
        f"this size can show that a treatment is feasible, not how often it works to within a few "
        f"percent.")


# =============================================================================================
# Distributions and treatment steps
# =============================================================================================

def distribution_frame(ds, scale: str, group: str) -> pd.DataFrame:
    dist = ds.distribution(SERIES, scale, subgroup=GROUP)
    return pd.DataFrame({"group": group, "grade": dist["grade"].astype(str),
                         "count": dist["count"].astype(int)})


def series_group_label(ds, n: int) -> str:
    """Bar label (grotta_bar adds "(n = 22)" itself)."""
    return ev.study_label(ds, SERIES)


def mrs_figure(ds, params: dict[str, Any]):
    df = distribution_frame(ds, "mRS", "")
    df["group"] = series_group_label(ds, int(df["count"].sum()))
    return plots.grotta_bar(df, scale="mRS", cutoff=params["favourable_mrs_max"])


def mtici_figure(ds):
    df = distribution_frame(ds, "mTICI", "")
    df["group"] = series_group_label(ds, int(df["count"].sum()))
    return plots.grotta_bar(df, scale="mTICI", cutoff="2a")


STRATEGY_ROWS = [
    ("bridging_ivt", "Intravenous alteplase before EVT (bridging therapy)"),
    ("direct_evt", "Direct EVT (no intravenous thrombolysis)"),
    ("general_anesthesia", "General anaesthesia"),
    ("rescue_stenting", "Rescue balloon angioplasty and stenting at the first EVT"),
    ("rescue_angioplasty_alone", "Rescue balloon angioplasty alone at the first EVT"),
    ("staged_stenting", "… of these, staged stenting later"),
    ("failed_first_evt", "Failed recanalization at the first EVT (treated a month later)"),
]


def strategies(ds, params: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for outcome, label in STRATEGY_ROWS:
        hit = ds.outcome_rows(source_id=SERIES, outcome=outcome, subgroup=GROUP)
        if hit.empty:
            continue
        r = hit.iloc[0]
        e, t = int(r["events"]), int(r["total"])
        low, high = ev.proportion_ci(e, t, params)
        rows.append({"key": outcome, "label": label, "events": e, "total": t,
                     "estimate": e / t, "ci_low": low, "ci_high": high,
                     "definition": r["definition"], "row_id": r["row_id"]})
    return pd.DataFrame(rows)


def strategies_table(df: pd.DataFrame, level: str) -> pd.DataFrame:
    return pd.DataFrame({
        "Step": df["label"],
        "Patients": [fmt.count(e, t) for e, t in zip(df["events"], df["total"])],
        f"Rate [{level} CI]": [_nb(fmt.pct_ci(e, lo, hi)) for e, lo, hi in
                                zip(df["estimate"], df["ci_low"], df["ci_high"])],
        "As the paper describes it": df["definition"],
    })


def record_strategies(results, df: pd.DataFrame, params: dict[str, Any]) -> None:
    for _, r in df.iterrows():
        results.add(f"icass.strategy.{r['key']}", cohort=COHORT, subgroup=GROUP,
                    outcome=r["key"], analysis="single series, proportion with CI",
                    measure="proportion", estimate=r["estimate"], ci_low=r["ci_low"],
                    ci_high=r["ci_high"], events=r["events"], total=r["total"],
                    method=f"{params['ci_method']} {round(100 * params['confidence_level'], 1):g}% CI",
                    sources=SERIES)


# =============================================================================================
# Comparison with other ICAS-related occlusion series
# =============================================================================================

FAMILY_TITLES = {"reperfusion": "successful reperfusion or recanalization",
                 "favourable": "favourable functional outcome"}

_CITED = re.compile(rf"^{re.escape(SERIES)}\.cited\.([a-z]+)\.")
_REF_PREFIX = re.compile(r"^[A-Z][\w-]* et al\. \[\d+\]\s*")


def family_outcomes(family: str, params: dict[str, Any]) -> tuple[str, ...]:
    """Outcome names that answer the family's question under the parameters.

    Favourable outcome: the mRS 0-2-type outcomes of ``evidence.OUTCOME_FAMILIES`` when
    ``favourable_mrs_max`` = 2; only ``mrs_0_1`` when it is 1 (no functional-independence
    figure can stand in for mRS 0-1).
    """
    if family == "favourable":
        return ev.OUTCOME_FAMILIES["favourable"] if params["favourable_mrs_max"] == 2 \
            else (ev.favourable(params),)
    return ev.OUTCOME_FAMILIES[family]


def _original_source(ds, row_id: str) -> str | None:
    m = _CITED.match(row_id)
    if not m:
        return None
    hits = [s for s in ds.sources["source_id"] if s.split("-")[0] == m.group(1) and s != SERIES]
    return hits[0] if len(hits) == 1 else None


def _is_comparator_group(subgroup: str) -> bool:
    return "ICAS" in subgroup and subgroup != GROUP


def candidate_rows(ds, family: str) -> pd.DataFrame:
    """Comparator rows of every outcome of the family (mRS 0-1 included), cited rows attributed
    to their original series: columns of outcomes.csv plus ``quoted_in``, ``label``, ``group``."""
    names = set(ev.OUTCOME_FAMILIES.get(family, (family,)))
    if family == "favourable":
        names |= {"mrs_0_1"}
    rows = ds.outcome_rows(cohort=COHORT, outcome=sorted(names))
    rows = rows[rows["subgroup"].map(_is_comparator_group)].copy()
    quoted_in, sources = [], []
    for _, r in rows.iterrows():
        orig = _original_source(ds, r["row_id"])
        quoted_in.append(r["source_id"] if orig else "")
        sources.append(orig or r["source_id"])
    rows["quoted_in"] = quoted_in
    rows["source_id"] = sources
    rows["label"] = [ev.study_label(ds, s) for s in rows["source_id"]]
    rows["group"] = [_REF_PREFIX.sub("", g) for g in rows["subgroup"]]
    return rows.reset_index(drop=True)


@dataclass
class ComparatorAnalysis:
    """A comparison of one outcome family: rows used, reported pooled rows, rows left out."""
    family: str
    outcomes: tuple[str, ...]
    used: pd.DataFrame
    reported: pd.DataFrame
    left_out: pd.DataFrame
    res: meta.PoolResult | None
    params: dict[str, Any] = field(repr=False)

    @property
    def k(self) -> int:
        return len(self.used)


def comparator_analysis(ds, family: str, params: dict[str, Any]) -> ComparatorAnalysis:
    """Select, under the parameters, the comparator rows of an outcome family and pool them."""
    cand = candidate_rows(ds, family)
    wanted = family_outcomes(family, params)
    pre_reasons = []
    originals = set(cand.loc[cand["quoted_in"] == "", "source_id"])
    for _, r in cand.iterrows():
        reason = None
        if r["outcome"] not in wanted:
            if family == "favourable" and params["favourable_mrs_max"] == 1:
                reason = ("reports a functional-independence / favourable outcome (mRS 0–2-type "
                          "or cut-off not stated), not the mRS 0–1 outcome chosen by "
                          "favourable_mrs_max = 1")
            else:
                reason = f"outcome {ev.outcome_label(r['outcome'])} is not the one analysed"
        elif r["quoted_in"] and r["source_id"] in originals:
            reason = ("the same figure as quoted by the ICASS-M1 paper; the original "
                      "publication's own row is used instead")
        pre_reasons.append(reason)
    cand["pre_reason"] = pre_reasons
    keep = cand[cand["pre_reason"].isna()].drop(columns="pre_reason")
    pre = cand[cand["pre_reason"].notna()].rename(columns={"pre_reason": "reason"})
    if len(keep):
        used, left = ev.select_counts(keep, params)
    else:
        used = keep.assign(events_used=pd.Series(dtype=int), approx=pd.Series(dtype=bool))
        left = keep.assign(reason=pd.Series(dtype=str))
    is_rep = left["reason"].astype(str).str.startswith("a pooled estimate")
    reported = left[is_rep].copy()
    left_out = pd.concat([left[~is_rep], pre], ignore_index=True)
    used = used.reset_index(drop=True)
    res = ev.pool_rates(used, params) if len(used) else None
    return ComparatorAnalysis(family, wanted, used, reported.reset_index(drop=True),
                              left_out.reset_index(drop=True), res, params)


def reported_level(r) -> str:
    """Confidence level of a reported interval, read from the row's quote ('95%'), else ''."""
    m = re.search(r"(\d{2}(?:\.\d)?)\s*%\s*CI", str(r.get("quote", "")))
    return f"{m.group(1)}%" if m else ""


def _where(r) -> str:
    loc = r["location"]
    return f"quoted in the ICASS-M1 paper ({loc})" if r.get("quoted_in") else loc


def comparator_table(ca: ComparatorAnalysis, level: str) -> pd.DataFrame:
    """Every comparator row: used (count, rate with CI), shown as reported, or left out (why)."""
    out = []
    p = ca.params
    for _, r in ca.used.iterrows():
        low, high = ev.proportion_ci(int(r["events_used"]), int(r["total"]), p)
        out.append((r, ev.count_text(r), _nb(fmt.pct_ci(r["events_used"] / r["total"], low, high)),
                    "yes" + (" (count derived from the printed percentage)"
                             if r["count_status"] == "derived" else
                             " (count rounded from the printed percentage, ≈)" if r["approx"]
                             else "")))
    for _, r in ca.reported.iterrows():
        ci = (f" [{r['reported_ci_low']:g}–{r['reported_ci_high']:g}]"
              if ev.is_finite(r["reported_ci_low"]) else "")
        n = f"{int(r['total'])} patients in the review" if not pd.isna(r["total"]) else "–"
        lvl = reported_level(r)
        out.append((r, n, _nb(f"{r['reported_percent']:g}%{ci}") + " (pooled, as reported"
                    + (f", {lvl} CI)" if lvl and ci else ")"),
                    "no: " + r["reason"]))
    for _, r in ca.left_out.iterrows():
        n = f"–/{int(r['total'])}" if not pd.isna(r["total"]) else "not printed"
        pct = (f"{r['reported_percent']:g}% (as printed)" if ev.is_finite(r["reported_percent"])
               else "–")
        out.append((r, n, pct, "no: " + r["reason"]))
    return pd.DataFrame({
        "Series": [r["label"] for r, *_ in out],
        "Group": [r["group"] for r, *_ in out],
        "Outcome (source's own definition)": [r["definition"] for r, *_ in out],
        "Timepoint": [r["timepoint"] for r, *_ in out],
        "Patients": [n for _, n, _, _ in out],
        f"Rate [{level} CI]": [x for _, _, x, _ in out],
        "Where the figure comes from": [_where(r) for r, *_ in out],
        "In the pooled estimate?": [u for *_, u in out],
    })


def _comparator_id(ca: ComparatorAnalysis, r) -> str:
    dup = (ca.used["source_id"] == r["source_id"]).sum() > 1
    return f"icass.comparators.{ca.family}." + (r["row_id"] if dup else r["source_id"])


def record_comparators(results, ca: ComparatorAnalysis, series_row: pd.Series | None) -> None:
    """Per-series rates (``icass.comparators.<family>.<source_id>``), the reported meta-analysis
    estimate, and the pooled estimate (``icass.comparators.<family>.pooled``)."""
    p = ca.params
    method = f"{p['ci_method']} {round(100 * p['confidence_level'], 1):g}% CI"
    for _, r in ca.used.iterrows():
        low, high = ev.proportion_ci(int(r["events_used"]), int(r["total"]), p)
        results.add(_comparator_id(ca, r), cohort=COHORT, subgroup=r["group"],
                    outcome=r["outcome"], analysis="comparator series, proportion with CI",
                    measure="proportion", estimate=r["events_used"] / r["total"], ci_low=low,
                    ci_high=high, events=int(r["events_used"]), total=int(r["total"]),
                    method=method + (" (count rounded from a percentage)" if r["approx"] else ""),
                    sources=r["source_id"])
    for _, r in ca.reported.iterrows():
        results.add(f"icass.comparators.{ca.family}.{r['source_id']}", cohort=COHORT,
                    subgroup=r["group"], outcome=r["outcome"],
                    analysis="meta-analysis pooled estimate, as reported (not re-pooled)",
                    measure="proportion", estimate=r["reported_percent"] / 100,
                    ci_low=r["reported_ci_low"] / 100, ci_high=r["reported_ci_high"] / 100,
                    total=r["total"], method="as reported by the source", sources=r["source_id"])
    pid = f"icass.comparators.{ca.family}.pooled"
    outcome = "/".join(ca.outcomes)
    if ca.res is None:
        results.add(pid, cohort=COHORT, outcome=outcome, analysis="comparator series pooled",
                    estimate=float("nan"), k_studies=0,
                    method="not available: no comparator series with a usable count for "
                           + " or ".join(ev.outcome_label(o) for o in ca.outcomes))
    elif ca.res.k == 1:
        r = ca.used.iloc[0]
        low, high = ev.proportion_ci(int(r["events_used"]), int(r["total"]), p)
        results.add(pid, cohort=COHORT, outcome=outcome,
                    analysis="comparator series pooled: one series only, nothing pooled",
                    measure="proportion", estimate=r["events_used"] / r["total"], ci_low=low,
                    ci_high=high, events=int(r["events_used"]), total=int(r["total"]),
                    k_studies=1, method=f"single series, {method}", sources=r["source_id"])
    else:
        results.add_pooled(pid, ca.res, cohort=COHORT, outcome=outcome,
                           analysis="comparator series pooled (ICASS-M1 series not included)",
                           sources=list(ca.used["source_id"]))


def pooled_sentence(ca: ComparatorAnalysis, level: str) -> str:
    """Plain sentence on the pooled comparator estimate (or why there is none)."""
    title = FAMILY_TITLES[ca.family]
    if ca.res is None:
        return (f"No comparator series gives a usable count for {title} under the current "
                "parameters, so nothing was pooled.")
    res = ca.res
    if res.k == 1:
        r = ca.used.iloc[0]
        low, high = ev.proportion_ci(int(r["events_used"]), int(r["total"]), ca.params)
        return (f"Only one comparator series gives a usable count for {title} "
                f"({r['label']}, {ev.count_text(r)}), so nothing was pooled: its own rate is "
                f"{fmt.pct_ci(r['events_used'] / r['total'], low, high)} ({level} "
                f"{ci_method_name(ca.params)} CI).")
    s = (f"Pooled over {res.k} comparator series ({res.n_total} patients), the rate of {title} "
         f"is {fmt.pct_ci(res.estimate, res.ci_low, res.ci_high)} ({res.method_text}; {level} CI)")
    if ev.is_finite(res.pi_low):
        s += (f"; the {level} prediction interval, the range in which the rate of a new series "
              f"would be expected, is {100 * res.pi_low:.1f}–{100 * res.pi_high:.1f}%")
        if res.tau2 == 0:
            s += (" (the same as the CI, because the estimated between-series variance τ² is "
                  "zero)")
    het = ev.heterogeneity_text(res)
    s += f". {het}." if het else "."
    if res.k < 5:
        s += (f" With only {res.k} series, τ² and I² are estimated very imprecisely: an I² of "
              "0% does not show that the series agree.")
    return s


def comparator_forest(ds, ca: ComparatorAnalysis, series: pd.Series | None, level: str):
    """Forest plot: the comparator series pooled here (with diamond and prediction interval),
    a meta-analysis's reported pooled estimate and the ICASS-M1 series, in three groups.
    Every row's CI is the single-proportion CI chosen by ci_method (not the model's Wald CI).
    Returns None when there is nothing to show."""
    p = ca.params
    g_pool = ("Comparator series, pooled" if ca.res is not None and ca.res.k > 1
              else "Comparator series (one: not pooled)")
    g_rep = "Meta-analysis, as reported"
    g_series = "ICASS-M1 series (not pooled)"
    rows = []
    weights = (ca.res.studies["weight"].to_numpy() if ca.res is not None and ca.res.k > 1
               else [np.nan] * ca.k)
    for (_, r), w in zip(ca.used.iterrows(), weights):
        low, high = ev.proportion_ci(int(r["events_used"]), int(r["total"]), p)
        rows.append({"label": r["label"], "n_text": ev.count_text(r),
                     "estimate": r["events_used"] / r["total"], "ci_low": low, "ci_high": high,
                     "weight": w, "grp": g_pool})
    for _, r in ca.reported.iterrows():
        rows.append({"label": r["label"], "n_text": "pooled",
                     "estimate": r["reported_percent"] / 100,
                     "ci_low": r["reported_ci_low"] / 100, "ci_high": r["reported_ci_high"] / 100,
                     "weight": np.nan, "grp": g_rep})
    if series is not None:
        rows.append({"label": ev.study_label(ds, SERIES),
                     "n_text": fmt.count(series["events"], series["total"]),
                     "estimate": series["estimate"], "ci_low": series["ci_low"],
                     "ci_high": series["ci_high"], "weight": np.nan, "grp": g_series})
    if not rows:
        return None
    sub = {}
    if ca.res is not None and ca.res.k > 1:
        d = ev.pooled_dict(ca.res, "Pooled estimate")
        d["heterogeneity"] = ev.heterogeneity_text(ca.res)
        sub[g_pool] = d
    return plots.forest_plot(pd.DataFrame(rows), None, scale="proportion", group_col="grp",
                             subgroup_pooled=sub, est_label=f"Rate [{level} CI]",
                             xlim=(0.0, 1.0))


def loo_table(ca: ComparatorAnalysis, level: str) -> pd.DataFrame | None:
    """Leave-one-out refits of the pooled comparator estimate (None if k < 2)."""
    if ca.res is None or ca.res.k < 2:
        return None
    p = ca.params
    loo = meta.leave_one_out(meta.pool_proportions, ca.used["events_used"].to_numpy(),
                             ca.used["total"].to_numpy(), labels=list(ca.used["label"]),
                             transform=p["transform"], **ev.pool_options(p))
    loo["source_id"] = list(ca.used["source_id"])
    return loo


def loo_display(loo: pd.DataFrame, level: str) -> pd.DataFrame:
    return pd.DataFrame({
        "Series left out": loo["omitted"],
        "Series remaining": loo["k"],
        f"Pooled rate of the others [{level} CI]": [
            _nb(fmt.pct_ci(e, lo, hi)) + (" (one series: nothing pooled)" if k == 1 else "")
            for e, lo, hi, k in zip(loo["estimate"], loo["ci_low"], loo["ci_high"], loo["k"])],
        "I²": ["–" if not ev.is_finite(i) else f"{i:.0f}%" for i in loo["i2"]],
    })


def record_loo(results, ca: ComparatorAnalysis, loo: pd.DataFrame) -> None:
    for _, r in loo.iterrows():
        results.add(f"icass.comparators.{ca.family}.loo.{r['source_id']}", cohort=COHORT,
                    outcome="/".join(ca.outcomes),
                    analysis=f"leave-one-out: pooled comparator rate without {r['omitted']}",
                    level="sensitivity", measure="proportion", estimate=r["estimate"],
                    ci_low=r["ci_low"], ci_high=r["ci_high"], pi_low=r["pi_low"], pi_high=r["pi_high"],
                    k_studies=int(r["k"]), tau2=r["tau2"], i2=r["i2"],
                    method=ca.res.method_text, sources=";".join(
                        s for s in ca.used["source_id"] if s != r["source_id"]))


# =============================================================================================
# Prose helpers
# =============================================================================================

def nihss(ds) -> dict[str, Any]:
    """Baseline NIHSS of the series and, if the data hold one, of the Li meta-analysis."""
    own = ds.row(f"{SERIES}.bl.nihss")
    li = ds.baseline_rows(cohort=COHORT)
    li = li[(li["source_id"] != SERIES) & li["variable"].str.contains("NIHSS", case=False)]
    return {"mean": own["value"], "sd": own["sd"],
            "other": None if li.empty else li.iloc[0]}


def fmt_pct_row(r) -> str:
    return f"{r['reported_percent']:g}%"


def comparator_favourable_range(ds, params: dict[str, Any]) -> tuple[float, float] | None:
    """Lowest and highest printed functional-independence / favourable-outcome percentage
    (mRS 0-2-type) among the comparator rows not excluded by the parameters (None if none)."""
    cand = candidate_rows(ds, "favourable")
    cand = cand[cand["outcome"].isin(ev.OUTCOME_FAMILIES["favourable"])
                & ~cand["source_id"].isin(params["exclude_studies"])
                & cand["reported_percent"].notna()]
    if cand.empty:
        return None
    return float(cand["reported_percent"].min()), float(cand["reported_percent"].max())


def favourable_comparison_sentence(ds, params: dict[str, Any], fav: pd.Series) -> str:
    """How the series' favourable rate compares with the other series' printed figures."""
    rng = comparator_favourable_range(ds, params)
    if rng is None:
        return ""
    span = f"{rng[0]:g}–{rng[1]:g}%"
    k = params["favourable_mrs_max"]
    if k == 2:
        word = "higher than" if 100 * fav["estimate"] > rng[1] else "within or below"
        return (f"The ICASS-M1 series' favourable-outcome rate ({fmt.pct(fav['estimate'])}, "
                f"mRS 0–2) is {word} the functional-independence or favourable-outcome rates "
                f"the other series report ({span}).")
    printed = ds.outcome_rows(source_id=SERIES, outcome="mrs_0_2", subgroup=GROUP)
    extra = ""
    if not printed.empty:
        r = printed.iloc[0]
        extra = (f"; the series' own mRS 0–2 rate, {int(r['events'])}/{int(r['total'])} "
                 f"({fmt.pct(r['events'] / r['total'])}), is the figure comparable with theirs")
    return (f"The ICASS-M1 series' mRS 0–{k} rate ({fmt.pct(fav['estimate'])}) cannot be "
            f"set against the other series' functional-independence or favourable-outcome rates "
            f"({span}), which use a wider mRS range{extra}.")


def exclusion_note(params: dict[str, Any]) -> str:
    """Text for a run whose exclude_studies lists the series itself ('' otherwise)."""
    if not series_excluded(params):
        return ""
    return ("**Note.** This run's parameter `exclude_studies` lists the ICASS-M1 series itself. "
            "The series is never part of a pooled estimate in this chapter, so the exclusion "
            "changes no analysis; this chapter, which is about that series, still describes it. "
            "The comparator figures the paper quotes are attributed to the series they describe "
            "and are excluded only if those are listed.")


def forest_caption(ca: ComparatorAnalysis, level: str, what: str) -> str:
    """Caption of a comparator forest plot, saying what each of its groups shows."""
    p = ca.params
    ci = f"{level} {ci_method_name(p)} intervals"
    if ca.res is not None and ca.res.k > 1:
        top = (f"Top: the {ca.k} comparator series with a usable count (squares sized by their "
               f"weight in the pooled estimate, {ci}) and their pooled estimate (diamond; "
               f"{ca.res.method_text}, {level} CI) with its prediction interval (orange bar). ")
    elif ca.k == 1:
        top = (f"Top: the only comparator series with a usable count ({ci}); nothing was "
               "pooled. ")
    else:
        top = ("No comparator series has a usable count under the parameters of this run, so "
               "no series is pooled. ")
    lv = [reported_level(r) for _, r in ca.reported.iterrows()]
    mid = ("Then: the pooled estimate of the Li et al. meta-analysis as reported (square, with "
           + (f"its reported {lv[0]} CI" if lv and lv[0] else "its reported CI")
           + "; not pooled again). " if len(ca.reported) else "")
    return (f"{what} after EVT in ICAS-related occlusion. {top}{mid}Bottom: the ICASS-M1 series "
            f"({ci}), shown for comparison and not included in any pooled estimate.")


def favourable_comparison_text(favc: "ComparatorAnalysis", fav: pd.Series, params: dict[str, Any],
                               level: str) -> str:
    """The paragraph introducing the favourable-outcome comparison (numbers computed)."""
    k = params["favourable_mrs_max"]
    if k == 1:
        intro = (
            "This run defines the favourable outcome as mRS 0–1 (`favourable_mrs_max = 1`). None of "
            "the comparator series reports mRS 0–1: they report functional independence or a "
            "“favourable outcome” (mRS 0–2-type, often without the cut-off), which cannot stand in "
            "for mRS 0–1, so the comparison can only use series reporting mRS 0–1. "
            + pooled_sentence(favc, level)
            + f" The ICASS-M1 series had mRS 0–1 in {fav['events']}/{fav['total']} "
              f"({fmt.pct_ci(fav['estimate'], fav['ci_low'], fav['ci_high'])})."
        )
    else:
        intro = (
            pooled_sentence(favc, level)
            + f" The ICASS-M1 series reached mRS 0–2 in {fav['events']}/{fav['total']} "
              f"({fmt.pct_ci(fav['estimate'], fav['ci_low'], fav['ci_high'])})"
            + (f"; the meta-analysis of Li et al. reported a pooled favourable outcome of "
               f"{favc.reported.iloc[0]['reported_percent']:g}% "
               f"[{favc.reported.iloc[0]['reported_ci_low']:g}–"
               f"{favc.reported.iloc[0]['reported_ci_high']:g}]" if len(favc.reported) else "")
            + ". The sources do not state their mRS cut-offs (functional independence usually "
              "means mRS 0–2), and the Lee et al. count is rounded from a percentage of the whole "
              "ICAS group: the 3-month denominators are probably a little smaller."
        )
    return (intro + " The rows are listed in @tbl:icass-comp-favourable"
                     + (" and plotted in @fig:icass-forest-favourable." if k == 2 else "."))


def summary_text(so: pd.DataFrame, byk: pd.DataFrame, rep: "ComparatorAnalysis",
                 flagged_lines: list[dict[str, Any]], params: dict[str, Any], level: str) -> str:
    """The chapter's closing paragraph: every number computed from the analyses above."""
    comp = so.set_index("key")
    k = params["favourable_mrs_max"]
    f1 = flagged_lines
    def rate(key):
        r = comp.loc[key]
        return (f"{r['events']}/{r['total']} "
                f"({fmt.pct_ci(r['estimate'], r['ci_low'], r['ci_high'])})")
    pool_txt = (f"the {rep.k} comparator series with usable counts pool to "
                f"{fmt.pct_ci(rep.res.estimate, rep.res.ci_low, rep.res.ci_high)}"
                if rep.res is not None and rep.res.k > 1 else
                "too few comparator series give counts to pool")
    return (
        f"In {int(comp.loc['reperfusion', 'total'])} patients with ICASS-related M1 occlusion, "
        f"thrombectomy followed by rescue angioplasty (with a stent in "
        f"{byk.loc['rescue_stenting', 'events']}) achieved successful reperfusion in "
        f"{rate('reperfusion')}, a favourable outcome (mRS 0–{k}) at 3 months in {rate('favourable')} "
        f"and death in {rate('mortality')}; perioperative complications occurred in "
        f"{rate('complications')}, and the stenosis had worsened at follow-up in "
        f"{rate('restenosis')} ({level} {ci_method_name(params)} intervals). For reperfusion, "
        f"{pool_txt}. The intervals are wide, the series is retrospective, single-centre and "
        "selected (only patients with complete data), and its patients had milder strokes than "
        "those of the comparators: the results show that the strategy is feasible in selected "
        "patients, not that it is better than the alternatives. "
        + (f"Only one printed percentage in the two tables disagrees with its count "
           f"({f1[0]['label'].strip().lower()}: {f1[0]['printed_pct']:g}% printed, "
           f"{100 * f1[0]['count'] / f1[0]['total']:.1f}% recomputed)."
           if len(flagged_lines) == 1 else
           f"{len(flagged_lines)} printed percentages in the two tables disagree with their counts.")
    )
