"""Evidence at a glance: the main estimates of every chapter and key findings in words.

Nothing here is typed by hand: each sentence is filled in from the same analyses the
chapters run (dmvo.rct_analyses, dmvo.meta_rates, compare.side_by_side, the claims and
the audit), so a parameter change moves the summary with the chapters.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from . import audit as audit_mod
from . import claims as claims_mod
from . import compare, dmvo
from . import display as fmt
from . import evidence as ev

MEASURE_NAME = {"RR": "risk ratio", "OR": "odds ratio", "RD": "risk difference"}


def _effect(res, measure: str) -> str:
    if measure == "RD":
        return (f"{100 * res.estimate:+.1f} percentage points "
                f"[{100 * res.ci_low:+.1f} to {100 * res.ci_high:+.1f}]").replace("-", "−")
    return fmt.num_ci(res.estimate, res.ci_low, res.ci_high)


def _lower_first(text: str) -> str:
    """'Death by 90 days' -> 'death by 90 days', leaving 'mRS' and 'sICH' alone."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _direction(res, measure: str, what: str) -> str:
    """Plain reading of a two-arm estimate: which way its interval points, if any."""
    null = 0.0 if measure == "RD" else 1.0
    if res.ci_low <= null <= res.ci_high:
        return f"no clear difference in {what}"
    return f"{'more' if res.ci_low > null else 'less'} {what} with thrombectomy"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _ci_width(row) -> float:
    return 100 * (row["ci_high"] - row["ci_low"])


def _meta_k(ds, params) -> str:
    """Number of studies of the DMVO meta-analysis, as its source reports it."""
    rates = dmvo.meta_rates(ds, params)
    k = rates["k"].max() if not rates.empty else math.nan
    return "?" if pd.isna(k) else str(int(k))


def summary_table(ds, params: dict[str, Any], rct=None, side=None) -> pd.DataFrame:
    """One row per cohort, outcome and body of evidence, with its estimate."""
    rct = rct or dmvo.rct_analyses(ds, params)
    meta_k = _meta_k(ds, params)
    side = side if side is not None else compare.side_by_side(ds, params)
    measure = params["two_arm_measure"]
    rows = []
    for key, an in rct.items():
        res = an.result
        if res is None:
            continue
        rows.append({
            "Cohort": "DMVO", "Outcome": an.title,
            "Evidence": f"randomized trials, EVT vs medical treatment ({MEASURE_NAME[measure]})",
            "Estimate [CI]": _effect(res, measure), "Studies": res.k,
            "Patients": res.n_total,
            "Design": "RCT" + ("s" if res.k > 1 else ""),
        })
    for _, r in side.iterrows():
        if r["cohort"] == "DMVO" and r["evidence"].startswith("EVT arms"):
            continue  # the trials are summarised by their between-arm effects above
        design = {"DMVO": "meta-analysis of observational studies", "ICASS-M1": ""}[r["cohort"]]
        if r["evidence"].startswith("ICASS-M1 series"):
            design = "single-centre retrospective series"
        elif r["evidence"].startswith("Other ICAS"):
            design = "registry / cohort series"
        rows.append({
            "Cohort": r["cohort"], "Outcome": compare.FAMILIES[r["family"]][0]
            if r["family"] != "favourable" else ev.outcome_label(ev.favourable(params)),
            "Evidence": r["evidence"],
            "Estimate [CI]": fmt.pct_ci(r["estimate"], r["ci_low"], r["ci_high"]),
            "Studies": f"{meta_k} (as reported)" if math.isnan(r["k"]) else int(r["k"]),
            "Patients": "–" if pd.isna(r["patients"]) else int(r["patients"]),
            "Design": design,
        })
    table = pd.DataFrame(rows)
    return table.sort_values("Cohort", kind="stable", ignore_index=True)


def key_findings(ds, params: dict[str, Any], rct=None, side=None) -> list[str]:
    """Five to eight plain-language findings with computed numbers (Markdown)."""
    rct = rct or dmvo.rct_analyses(ds, params)
    side = side if side is not None else compare.side_by_side(ds, params)
    measure = params["two_arm_measure"]
    level = f"{100 * params['confidence_level']:g}%"
    out = []

    fav = rct.get("favourable")
    if fav is not None and fav.result is not None:
        res = fav.result
        trials = "one trial" if res.k == 1 else f"{res.k} trials"
        out.append(
            f"**DMVO, randomized evidence.** In the {trials} comparing thrombectomy with medical "
            f"treatment ({res.n_total} patients), there was "
            f"{_direction(res, measure, _lower_first(fav.title))}: "
            f"{MEASURE_NAME[measure]} {_effect(res, measure)} ({level} CI).")
    harms = []
    for key in ("mortality", "sich"):
        an = rct.get(key)
        if an is not None and an.result is not None:
            harms.append(f"{_direction(an.result, measure, _lower_first(an.title))} "
                         f"({MEASURE_NAME[measure]} {_effect(an.result, measure)}, "
                         f"{_plural(an.result.k, 'trial', 'trials')})")
    if harms:
        out.append("**DMVO, harms.** Compared with medical treatment, the trials showed "
                   + " and ".join(harms) + ".")

    obs = side[(side["cohort"] == "DMVO") & side["evidence"].str.startswith("Observational")]
    if not obs.empty:
        parts = []
        for fam in ("reperfusion", "favourable"):
            for _, r in obs[obs["family"] == fam].iterrows():
                grp = r["evidence"].split(", ")[1].split(" (")[0]
                parts.append(f"{compare.FAMILIES[fam][0].lower()} {fmt.pct(r['estimate'], 0)} "
                             f"in {grp}")
        if parts:
            out.append(f"**DMVO, observational evidence.** The meta-analysis of {_meta_k(ds, params)} "
                       "series reports "
                       + ", ".join(parts) + ". These series had no control group: they describe "
                       "treated patients and cannot show that thrombectomy helped them.")

    ser = side[side["evidence"].str.startswith("ICASS-M1 series")].set_index("family")
    if {"reperfusion", "favourable"} <= set(ser.index):
        rep, fv = ser.loc["reperfusion"], ser.loc["favourable"]
        out.append(
            f"**ICASS-M1 series.** Reperfusion was achieved in {rep['n_text']} patients "
            f"({fmt.pct_ci(rep['estimate'], rep['ci_low'], rep['ci_high'])}) and a favourable "
            f"outcome (mRS 0–{params['favourable_mrs_max']}) in {fv['n_text']} "
            f"({fmt.pct_ci(fv['estimate'], fv['ci_low'], fv['ci_high'])}); with 22 patients the "
            f"{level} intervals span about {_ci_width(fv):.0f} percentage points.")
    oth = side[side["evidence"].str.startswith("Other ICAS")].set_index("family")
    if "reperfusion" in oth.index:
        r = oth.loc["reperfusion"]
        mine = ser.loc["reperfusion"]["estimate"] if "reperfusion" in ser.index else math.nan
        than = ("" if math.isnan(mine) else
                f", {'lower' if r['estimate'] < mine else 'higher'} than in the ICASS-M1 series")
        out.append(
            f"**Other ICAS-related occlusion series.** Pooled reperfusion in "
            f"{_plural(int(r['k']), 'comparator series', 'comparator series')} ({r['n_text']}) was "
            f"{fmt.pct_ci(r['estimate'], r['ci_low'], r['ci_high'])}{than}; the definitions of "
            f"ICAS and of reperfusion differ between the series.")

    if not ds.claims.empty:
        out.append(claims_mod.summary_finding(ds, params))

    audit = audit_mod.audit_dataset(ds)
    s = audit_mod.summarize(audit)
    out.append(
        f"**Data audit.** {len(audit)} published figures were recomputed: {s['ok']} agree, "
        f"{_plural(s['rounding'], 'shows', 'show')} a rounding slip and "
        f"{_plural(s['mismatch'] + s['impossible'], 'cannot', 'cannot')} be reproduced as "
        f"printed (see the Data audit chapter).")
    return out
