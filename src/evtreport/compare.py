"""DMVO and ICASS-M1 side by side: the outcomes both cohorts report, under the parameters.

For each outcome the comparison shows, with the same methods:
- DMVO, EVT arms of the randomized trials (pooled rate of the EVT arms);
- DMVO, the observational meta-analysis' own pooled rates (as reported; per dmvo_subgroup);
- ICASS-M1, the 22-patient series;
- ICAS-related occlusion, the other series the ICASS-M1 paper compares itself with (pooled).
These are rates among treated patients from different designs and populations: the chapter
states why they must not be read as a comparison of the two diseases.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from . import display as fmt
from . import evidence as ev
from . import icass as icass_mod

# Outcome families compared, with the outcome names each cohort uses for them.
FAMILIES = {
    "reperfusion": ("Successful reperfusion", ev.OUTCOME_FAMILIES["reperfusion"]),
    "favourable": ("Favourable outcome", None),  # set from favourable_mrs_max
    "mortality": ("Death", ev.OUTCOME_FAMILIES["mortality"]),
    "haemorrhage": ("Intracranial haemorrhage", ev.OUTCOME_FAMILIES["haemorrhage"]),
}
SUBGROUPS = {"primary": ["primary DMVO"], "secondary": ["secondary DMVO"],
             "both": ["primary DMVO", "secondary DMVO"]}


def _outcomes(family: str, params: dict[str, Any]) -> tuple[str, ...]:
    if family == "favourable":
        fav = ev.favourable(params)
        # Sources that call mRS 0-2 "functional independence" count as mRS 0-2.
        return (fav,) if fav == "mrs_0_1" else (fav, "functional_independence")
    return FAMILIES[family][1]


def _with_labels(ds, rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows.copy()
    rows["label"] = [ev.row_label(ds, r) for _, r in rows.iterrows()]
    return rows


def _pooled_row(ds, params, family, cohort, evidence, rows) -> dict | None:
    used, left_out = ev.select_counts(_with_labels(ds, rows), params)
    return _summarise(params, family, cohort, evidence, used.drop_duplicates("label"), left_out)


def _summarise(params, family, cohort, evidence, used, left_out) -> dict | None:
    """Rate of one body of evidence: a single series' own interval, or the pooled rate."""
    if used.empty:
        return None
    if len(used) == 1:
        r = used.iloc[0]
        low, high = ev.proportion_ci(int(r["events_used"]), int(r["total"]), params)
        est, k = r["events_used"] / r["total"], 1
        method = f"{params['ci_method']} interval"
        pi = (math.nan, math.nan)
    else:
        res = ev.pool_rates(used, params)
        est, low, high, k = res.estimate, res.ci_low, res.ci_high, res.k
        method, pi = res.method_text, (res.pi_low, res.pi_high)
    return {
        "family": family, "cohort": cohort, "evidence": evidence,
        "n_text": " + ".join(ev.count_text(r) for _, r in used.iterrows()),
        "estimate": est, "ci_low": low, "ci_high": high, "pi_low": pi[0], "pi_high": pi[1],
        "k": k, "patients": int(used["total"].sum()),
        "events": int(used["events_used"].sum()),
        "definition": "; ".join(sorted(set(used["definition"]))),
        "outcome": "; ".join(sorted(set(used["outcome"]))),
        "sources": ";".join(used["source_id"]), "method": method,
        "note": "; ".join(f"{r['label']}: {r['reason']}" for _, r in left_out.iterrows()),
    }


def _reported_rows(ds, params, family, rows) -> list[dict]:
    out = []
    for _, r in rows.iterrows():
        if r["source_id"] in params["exclude_studies"]:
            continue
        out.append({
            "family": family, "cohort": "DMVO",
            "evidence": f"Observational meta-analysis, {r['subgroup']} (as reported)",
            "n_text": f"{int(r['total'])} patients" if not pd.isna(r["total"]) else "–",
            "estimate": r["reported_percent"] / 100, "ci_low": r["reported_ci_low"] / 100,
            "ci_high": r["reported_ci_high"] / 100, "pi_low": math.nan, "pi_high": math.nan,
            "k": math.nan, "patients": r["total"], "events": math.nan,
            "definition": r["definition"], "outcome": r["outcome"], "sources": r["source_id"],
            "method": "pooled estimate reported by the meta-analysis", "note": "",
        })
    return out


def side_by_side(ds, params: dict[str, Any]) -> pd.DataFrame:
    """One row per outcome family and body of evidence."""
    rct_ids = set(ds.sources.loc[ds.sources["design"] == "RCT", "source_id"])
    rows: list[dict] = []
    for family in FAMILIES:
        names = _outcomes(family, params)
        dmvo = ds.outcome_rows(cohort="DMVO", outcome=list(names))
        rct = dmvo[dmvo["source_id"].isin(rct_ids) & (dmvo["arm"] == "EVT")]
        row = _pooled_row(ds, params, family, "DMVO", "EVT arms of the randomized trials", rct)
        if row:
            rows.append(row)
        meta_rows = dmvo[(dmvo["estimate_type"] == "pooled")
                         & dmvo["subgroup"].isin(SUBGROUPS[params["dmvo_subgroup"]])]
        rows.extend(_reported_rows(ds, params, family, meta_rows))
        icass = ds.outcome_rows(cohort="ICASS-M1", outcome=list(names))
        series = icass[icass["row_id"].str.startswith("icassm1-2022.")
                       & ~icass["row_id"].str.contains(".cited.", regex=False)]
        row = _pooled_row(ds, params, family, "ICASS-M1", "ICASS-M1 series (22 patients)", series)
        if row:
            rows.append(row)
        # the same comparator selection as the ICASS-M1 chapter
        ca = icass_mod.comparator_analysis(ds, family, params)
        what = "pooled" if ca.k > 1 else "one series"
        row = _summarise(params, family, "ICASS-M1",
                         f"Other ICAS-related occlusion series ({what})", ca.used, ca.left_out)
        if row:
            rows.append(row)
    return pd.DataFrame(rows)


def forest_frame(table: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Rows for plots.forest_plot, grouped by outcome family."""
    labels = {f: (FAMILIES[f][0] if f != "favourable" else
                  f"Favourable outcome (mRS 0–{params['favourable_mrs_max']})") for f in FAMILIES}
    return pd.DataFrame({
        "label": [_short(e) for e in table["evidence"]],
        "n_text": table["n_text"], "estimate": table["estimate"], "ci_low": table["ci_low"],
        "ci_high": table["ci_high"], "weight": np.nan,
        "group": [labels[f] for f in table["family"]],
    })


def _short(evidence: str) -> str:
    """Short row label for the figure."""
    if evidence.startswith("Observational meta-analysis"):
        return "DMVO meta-analysis, " + evidence.split(", ")[1].split(" ")[0] + " DMVO"
    return {"EVT arms of the randomized trials": "DMVO trials, EVT arms",
            "ICASS-M1 series (22 patients)": "ICASS-M1 series",
            }.get(evidence, evidence.replace("ICAS-related occlusion series", "ICAS series"))


def reader_table(table: pd.DataFrame) -> pd.DataFrame:
    def studies(r):
        return "reported" if pd.isna(r["k"]) else int(r["k"])
    return pd.DataFrame({
        "Outcome": [FAMILIES[f][0] for f in table["family"]],
        "Cohort and evidence": [f"{c}: {e}" for c, e in zip(table["cohort"], table["evidence"])],
        "Patients (events/total)": table["n_text"],
        "Rate [CI]": [fmt.pct_ci(e, lo, hi) for e, lo, hi in
                      zip(table["estimate"], table["ci_low"], table["ci_high"])],
        "Studies": [studies(r) for _, r in table.iterrows()],
        "Definition used": table["definition"],
        "Not included": table["note"].replace("", "–"),
    })


def _nihss_text(ds) -> dict[str, str]:
    """Baseline NIHSS of each cohort as printed (mean ± SD or median [IQR]), by source label."""
    out = {}
    rows = ds.baseline_rows(variable="NIHSS at admission")
    for _, r in rows.iterrows():
        if r["statistic"] == "mean_sd":
            text = f"mean {r['value']:g} ± {r['sd']:g}"
        elif r["statistic"] == "median_iqr":
            text = f"median {r['value']:g} (IQR {r['low']:g}–{r['high']:g})"
        else:
            continue
        out[ev.study_label(ds, r["source_id"])] = text
    return out


def caveats(ds, table: pd.DataFrame) -> str:
    """Why the rates cannot be compared directly, with the numbers the data hold."""
    series = table[table["evidence"].str.startswith("ICASS-M1 series")]
    n = int(series["patients"].iloc[0]) if not series.empty else None
    nihss = _nihss_text(ds)
    severity = "; ".join(f"{who}: {what}" for who, what in nihss.items())
    bullets = [
        "**Different questions.** The DMVO trials randomized patients to thrombectomy or medical "
        "treatment; the ICASS-M1 evidence is a single-arm series of patients who were all "
        "treated. Only a randomized comparison shows what thrombectomy adds (see the DMVO "
        "chapter).",
        "**Different patients.** DMVO patients have smaller, more distal occlusions; the "
        "ICASS-M1 patients had an atherosclerotic M1 stenosis and were identified after the "
        "procedure (the stenosis is confirmed once the clot is removed)."
        + (f" Stroke severity at admission (NIHSS) as the sources print it: {severity}." if severity else ""),
        "**Different definitions.** Reperfusion, haemorrhage and favourable outcome are defined "
        "differently across sources (see the table and @tbl:definitions in the Methods chapter); "
        "the ICASS-M1 series reports any haemorrhagic event rather than symptomatic haemorrhage.",
    ]
    if n:
        bullets.append(f"**Small numbers.** The ICASS-M1 series has {n} patients: one patient "
                       f"changes a rate by {100 / n:.1f} percentage points, and its confidence "
                       f"intervals are wide.")
    bullets.append("**Selection and publication.** A single-centre retrospective series that is "
                   "published is more likely to show good results than a randomized trial with a "
                   "pre-specified analysis.")
    return "\n".join(f"- {b}" for b in bullets)
