"""Risk of bias as a guideline panel reads it: the curators' judgements of data/risk_of_bias.csv
as robvis draws them (a traffic-light figure and a summary bar chart for RoB 2), ROBINS-I and
JBI tables for the ICASS-M1 chapter, and every judgement with its quotation for the appendix.

A judgement recorded for ``all`` outcomes holds for every outcome assessed in that study; an
assessment is one (study, outcome) pair, outcome ``all`` when no domain was judged per outcome.
"""

from __future__ import annotations

import pandas as pd

from .. import plots, vocab
from .common import clean_notes

RCT_TOOL, NRS_TOOL, CASE_TOOL = "RoB 2", "ROBINS-I", "JBI case series"

#: RoB 2 domains as the tool names them (Sterne et al., BMJ 2019;366:l4898), short code first.
ROB2_DOMAINS = {
    "randomization": ("D1", "Bias arising from the randomization process"),
    "deviations": ("D2", "Bias due to deviations from intended interventions"),
    "missing_data": ("D3", "Bias due to missing outcome data"),
    "measurement": ("D4", "Bias in measurement of the outcome"),
    "reported_result": ("D5", "Bias in selection of the reported result"),
    "overall": ("Overall", "Overall risk of bias"),
}
ROBINS_DOMAINS = {
    "confounding": "Bias due to confounding",
    "selection": "Bias in selection of participants into the study",
    "classification": "Bias in classification of interventions",
    "deviations": "Bias due to deviations from intended interventions",
    "missing_data": "Bias due to missing data",
    "measurement": "Bias in measurement of outcomes",
    "reported_result": "Bias in selection of the reported result",
    "overall": "Overall",
}
#: The JBI checklist for case series (Munn et al., JBI Evid Synth 2020), its ten questions.
JBI_QUESTIONS = {
    "inclusion_criteria": "Clear criteria for inclusion?",
    "condition_measurement": "Condition measured in a standard, reliable way?",
    "condition_identification": "Valid methods used to identify the condition?",
    "consecutive_inclusion": "Consecutive inclusion of participants?",
    "complete_inclusion": "Complete inclusion of participants?",
    "demographics": "Clear reporting of demographics?",
    "clinical_information": "Clear reporting of clinical information?",
    "outcomes_reported": "Outcomes or follow-up results clearly reported?",
    "site_demographics": "Clear reporting of the presenting sites' demographics?",
    "statistical_analysis": "Appropriate statistical analysis?",
}
ROB2_LEVELS = ("low", "some concerns", "high")


def _rows(b, tool: str) -> pd.DataFrame:
    rob = b.ds.risk_of_bias
    return rob[rob["tool"] == tool]


def _outcome_label(outcome: str) -> str:
    return "all outcomes" if outcome == "all" else vocab.outcome_label(outcome)


def rob2_assessments(b) -> pd.DataFrame:
    """One row per RoB 2 assessment (study, outcome) with a column per domain; the studies in
    the order of the data, the outcomes as recorded."""
    rob = _rows(b, RCT_TOOL)
    out = []
    for study, rows in rob.groupby("study", sort=False):
        outcomes = list(dict.fromkeys(o for o in rows["outcome"] if o != "all")) or ["all"]
        for o in outcomes:
            row = {"study": study, "outcome": o}
            for d in ROB2_DOMAINS:
                hit = rows[(rows["domain"] == d) & rows["outcome"].isin([o, "all"])]
                row[d] = hit["judgement"].iloc[0] if len(hit) else "no information"
            out.append(row)
    return pd.DataFrame(out, columns=["study", "outcome", *ROB2_DOMAINS])


def _trial_size(b, study: str) -> float:
    """Patients randomized as far as the arm denominators show (the largest per outcome)."""
    o = b.ds.outcomes
    o = o[(o["source_id"] == study) & o["arm"].isin(["EVT", "medical"])]
    sums = o.groupby("outcome")["total"].sum(min_count=2)
    return float(sums.max()) if sums.notna().any() else float("nan")


def traffic_light(b):
    a = rob2_assessments(b)
    labels = [f"{b.label(r.study).split(' (')[0]}: {_outcome_label(r.outcome)}" for r in a.itertuples()]
    cols = [code for code, _ in ROB2_DOMAINS.values()]
    cells = [[r[d] for d in ROB2_DOMAINS] for _, r in a.iterrows()]
    key = [f"{code}: {name}" for code, name in list(ROB2_DOMAINS.values())[:-1]]
    return plots.rob_traffic_light(labels, cols, cells, levels=ROB2_LEVELS, domain_key=key)


def summary_shares(b) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]], list[str]]:
    """Per domain the share of assessments at each level, unweighted and weighted by the
    trial's patients (assessments of a trial without denominators left out of the weighted
    shares); and the trials so left out."""
    a = rob2_assessments(b)
    size = {s: _trial_size(b, s) for s in a["study"].unique()}
    w = a["study"].map(size)
    unknown = [b.label(s) for s, n in size.items() if not n == n]
    unweighted, weighted = {}, {}
    for d, (code, name) in ROB2_DOMAINS.items():
        levels = a[d]
        unweighted[name] = {lv: float((levels == lv).mean()) for lv in ROB2_LEVELS}
        known = w.notna()
        total = w[known].sum()
        weighted[name] = {lv: float(w[known & (levels == lv)].sum() / total) if total else 0.0
                          for lv in ROB2_LEVELS}
    return unweighted, weighted, unknown


def summary_bars(b):
    unweighted, weighted, _ = summary_shares(b)
    return plots.rob_summary_bars({"Unweighted (share of assessments)": unweighted,
                                   "Weighted by the trials' patients": weighted}, levels=ROB2_LEVELS)


def summary_context(b) -> dict:
    _, _, unknown = summary_shares(b)
    a = rob2_assessments(b)
    return {"n_assessments": len(a), "n_trials": a["study"].nunique(), "unweighted_out": unknown}


def robins_table(b, cohort: str) -> pd.DataFrame | None:
    """ROBINS-I judgements of the observational comparisons of one cohort (sources.csv)."""
    rob = _rows(b, NRS_TOOL)
    rob = rob[[b.ds.source(s).get("cohort") == cohort for s in rob["study"]]]
    if rob.empty:
        return None
    domains = [d for d in ROBINS_DOMAINS if d in set(rob["domain"])]
    out = []
    for (study, outcome), rows in rob.groupby(["study", "outcome"], sort=False):
        row = {"Study": b.label(study), "Outcome": _outcome_label(outcome)}
        for d in domains:
            hit = rows[rows["domain"] == d]
            row[ROBINS_DOMAINS[d]] = symbol_text(hit["judgement"].iloc[0]) if len(hit) else "not assessed"
        out.append(row)
    return pd.DataFrame(out)


def jbi_table(b) -> pd.DataFrame:
    rob = _rows(b, CASE_TOOL)
    out = []
    if rob.empty:
        return pd.DataFrame()
    for q, text in JBI_QUESTIONS.items():
        row = {"Question": text}
        for study, rows in rob.groupby("study", sort=False):
            hit = rows[rows["domain"] == q]
            row[b.label(study)] = symbol_text(hit["judgement"].iloc[0]) if len(hit) else "not assessed"
        out.append(row)
    return pd.DataFrame(out)


def symbol_text(judgement: str) -> str:
    """'× serious': the judgement with the symbol the figures use."""
    return f"{plots.ROB_SYMBOLS[judgement]} {judgement}"


def _domain_text(tool: str, domain: str) -> str:
    if tool == RCT_TOOL:
        code, name = ROB2_DOMAINS[domain]
        return name if code == "Overall" else f"{code}. {name}"
    if tool == NRS_TOOL:
        return ROBINS_DOMAINS[domain]
    return JBI_QUESTIONS[domain]


def judgements_table(b) -> pd.DataFrame:
    """Every judgement with its quotation, location and the curators' reasoning."""
    out = []
    for _, r in b.ds.risk_of_bias.iterrows():
        out.append({"Study": b.label(r["study"]), "Tool": r["tool"],
                    "Outcome": _outcome_label(r["outcome"]),
                    "Domain": _domain_text(r["tool"], r["domain"]),
                    "Judgement": symbol_text(r["judgement"]),
                    "Quotation (location)": f"“{r['quote']}” ({r['location']})",
                    "Reasoning": clean_notes(r["rationale"])})
    return pd.DataFrame(out)
