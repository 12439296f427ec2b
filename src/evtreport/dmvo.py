"""Chapter "DMVO": evidence on EVT for distal medium vessel occlusion.

The chapter notebook (notebooks/02_dmvo.ipynb) only calls the functions here. They
select rows of the curated data under the report parameters (through
:mod:`evtreport.evidence`, so that excluded studies, percentage-only and derived counts,
the pooling model, the CI method ... act as in every chapter), build the tables and
figures, and record every estimate shown (ids prefixed ``dmvo.``).

Evidence kinds are kept apart on purpose:

* randomized trials of EVT vs best medical treatment (``design == "RCT"``): per-arm
  rates, per-trial crude effects and a pooled crude effect (:func:`rct_analysis`), next to
  the trials' own (mostly adjusted) effects and preprint pooled analyses
  (:func:`reported_effects_table`);
* the HERMES M2 subgroup of the earlier large-vessel trials (:func:`hermes_table`);
* observational evidence: the pooled rates reported by a meta-analysis of single-arm
  series (:func:`meta_rates`; shown as reported, never pooled again), registry analyses
  (:func:`registry_table`) and series whose figures could not be verified
  (:func:`unverified_table`);
* ongoing trials (protocols, :func:`ongoing_table`).

Rows that come from a secondary report (news page or trial summary rather than the trial
publication: ``location`` starting "Secondary report" or ``notes`` containing "SECONDARY
REPORT") are flagged with ``SECONDARY_MARK`` wherever they appear; preprints with
``PREPRINT_MARK``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from . import display as fmt
from . import evidence as ev
from . import meta, plots

SECTION = "dmvo"
COHORT = "DMVO"
SECONDARY_MARK = "†"
PREPRINT_MARK = "‡"

# What each ongoing trial will add (interpretation, written for the reader; the design
# facts shown next to it come from sources.csv).
ONGOING_ADDS = {
    "oriental-mevo-protocol-2025":
        "A third large randomized trial, in Chinese centres, with an ordinal primary outcome "
        "(mRS shift, 5–6 merged) like DISTAL's, and sICH and death as safety endpoints: it can "
        "test whether the neutral 2025 results hold in another population and workflow.",
    "discount-protocol-2024":
        "A French trial with mRS 0–2 at 3 months as primary outcome, within 6 h (or 24 h "
        "without FLAIR hyperintensity). Stopped early according to news reports; its "
        "numbers were not found, so it can only add to the evidence once published.",
}

# Outcome questions of the randomized-trial section.
RCT_KEYS = ("favourable", "mortality", "sich")
HARMFUL = {"favourable": False, "mortality": True, "sich": True}
# Outcome names answering each question (first one a trial reports is used).
FUNCTIONAL = ("mrs_0_1", "mrs_0_2", "mrs_shift", "functional_independence", "favorable_outcome")

MEASURE_TEXT = {"RR": "risk ratio", "OR": "odds ratio", "RD": "risk difference"}

OBS_OUTCOMES = (("reperfusion", ("reperfusion", "recanalization")),
                ("favourable", ("mrs_0_2", "functional_independence", "favorable_outcome",
                                "mrs_0_1")),
                ("mortality", ("mortality_90d", "mortality")),
                ("sich", ("sich",)))


# --------------------------------------------------------------------------- helpers

def label(ds, source_id: str) -> str:
    """'ESCAPE-MeVO (Goyal 2025)' for a source (sources.csv label)."""
    return ev.study_label(ds, source_id)


def short(ds, source_id: str) -> str:
    """'ESCAPE-MeVO' for a source: its label without the parenthesis (and ' protocol')."""
    s = label(ds, source_id).split(" (")[0].strip()
    return s[:-len(" protocol")] if s.endswith(" protocol") else s


def is_secondary(row) -> bool:
    """True when the row's numbers come from a secondary report, not the publication."""
    loc = str(row.get("location", "") or "")
    notes = str(row.get("notes", "") or "")
    return loc.lower().startswith("secondary report") or "SECONDARY REPORT" in notes


def is_preprint(ds, source_id: str) -> bool:
    """True for a preprint (medRxiv etc.), from sources.csv."""
    src = ds.source(source_id)
    text = " ".join(str(src.get(c) or "") for c in ("journal", "notes", "doi")).lower()
    return ("preprint" in text or "medrxiv" in text or str(src.get("doi") or "").startswith("10.1101/")
            or "preprint" in source_id or "medrxiv" in source_id)


def sources_by_design(ds, designs) -> list[str]:
    """DMVO source ids of the given designs, ordered by year then label."""
    s = ds.sources
    s = s[s["cohort"].isin([COHORT, "both"]) & s["design"].isin(list(designs))]
    order = sorted(s["source_id"], key=lambda sid: (str(ds.source(sid).get("year") or ""),
                                                      label(ds, sid)))
    return order


def rct_ids(ds) -> list[str]:
    return sources_by_design(ds, ["RCT"])


def _z(params) -> float:
    return float(stats.norm.ppf(1 - (1 - params["confidence_level"]) / 2))


def _where(row) -> str:
    loc = str(row.get("location") or "")
    return (f"{SECONDARY_MARK} {loc}" if is_secondary(row) else loc) or "–"


def _pct_printed(p) -> str:
    return "–" if p is None or pd.isna(p) else f"{float(p):g}%"


def _nan(x) -> float:
    return float("nan") if x is None or pd.isna(x) else float(x)


def outcome_text(name: str) -> str:
    if name == "mrs_shift":
        return "mRS shift (ordinal)"
    return ev.outcome_label(name)


def key_title(key: str, params) -> str:
    return {"favourable": ev.outcome_label(ev.favourable(params)),
            "mortality": "Death by 90 days",
            "sich": "Symptomatic intracranial haemorrhage (sICH)",
            "reperfusion": "Successful reperfusion"}[key]


def key_outcomes(key: str, params) -> tuple[str, ...]:
    """Outcome names pooled for a question under the parameters (first reported is used)."""
    return {"favourable": (ev.favourable(params),),
            "mortality": ev.OUTCOME_FAMILIES["mortality"],
            "sich": ("sich",)}[key]


# --------------------------------------------------------------------------- randomized trials

@dataclass
class RctAnalysis:
    """One outcome question across the randomized trials, under the parameters.

    ``trials``: one row per trial with columns source_id, label, outcome, status
    ('pooled', 'not pooled', 'not reported', 'excluded'), reason, secondary, where,
    events_t/total_t/approx_t/pct_t and the same with _c (medical arm), estimate, ci_low,
    ci_high, weight (NaN when not pooled). ``result`` is the PoolResult of the pooled trials
    (None when no trial has usable counts in both arms).
    """

    key: str
    title: str
    harmful: bool
    measure: str
    trials: pd.DataFrame
    result: meta.PoolResult | None
    left_out_rows: pd.DataFrame = field(repr=False)

    @property
    def pooled(self) -> pd.DataFrame:
        return self.trials[self.trials["status"] == "pooled"]

    @property
    def k(self) -> int:
        return 0 if self.result is None else self.result.k


def rct_analysis(ds, params, key: str) -> RctAnalysis:
    """Per-arm counts, per-trial crude effect and pooled effect for one outcome question."""
    if key not in RCT_KEYS:
        raise ValueError(f"key must be one of {RCT_KEYS}, got {key!r}")
    ids = rct_ids(ds)
    wanted = key_outcomes(key, params)
    rows = ds.outcome_rows(cohort=COHORT, source_id=ids, arm=["EVT", "medical"],
                           outcome=list(wanted))
    used, left = ev.select_counts(rows, params)
    recs = []
    for sid in ids:
        r_all = rows[rows["source_id"] == sid]
        present = [o for o in wanted if (r_all["outcome"] == o).any()]
        base = dict(source_id=sid, label=label(ds, sid), outcome=present[0] if present else wanted[0],
                    status="", reason="", secondary=False, where="–",
                    events_t=np.nan, total_t=np.nan, approx_t=False, pct_t=np.nan,
                    events_c=np.nan, total_c=np.nan, approx_c=False, pct_c=np.nan,
                    row_t="", row_c="")
        if sid in params["exclude_studies"]:
            base.update(status="excluded", reason="excluded by the parameter exclude_studies")
            recs.append(base)
            continue
        if not present:
            base.update(status="not reported",
                        reason=f"{ev.outcome_label(wanted[0])} by arm not found in the sources read")
            recs.append(base)
            continue
        o = present[0]
        reasons = []
        for arm, sfx in (("EVT", "t"), ("medical", "c")):
            r = r_all[(r_all["outcome"] == o) & (r_all["arm"] == arm)]
            if r.empty:
                reasons.append(f"{arm} arm not reported")
                continue
            r = r.iloc[0]
            base[f"pct_{sfx}"] = _nan(r["reported_percent"])
            base[f"total_{sfx}"] = _nan(r["total"])
            base[f"row_{sfx}"] = r["row_id"]
            base["secondary"] = base["secondary"] or is_secondary(r)
            u = used[used["row_id"] == r["row_id"]]
            if not u.empty:
                base[f"events_{sfx}"] = int(u.iloc[0]["events_used"])
                base[f"approx_{sfx}"] = bool(u.iloc[0]["approx"])
            else:
                lr = left[left["row_id"] == r["row_id"]].iloc[0]
                reasons.append(f"{arm} arm: {lr['reason']}")
        locs = sorted({_where(r) for _, r in r_all[r_all["outcome"] == o].iterrows()})
        base["where"] = "; ".join(locs)
        if reasons:
            base.update(status="not pooled", reason="; ".join(reasons))
        else:
            base["status"] = "pooled"
        recs.append(base)
    trials = pd.DataFrame(recs)
    for c in ("estimate", "ci_low", "ci_high", "weight"):
        trials[c] = np.nan
    pooled_rows = trials[trials["status"] == "pooled"]
    result = None
    if not pooled_rows.empty:
        pairs = pd.DataFrame({
            "events_t": pooled_rows["events_t"].astype(int), "total_t": pooled_rows["total_t"].astype(int),
            "events_c": pooled_rows["events_c"].astype(int), "total_c": pooled_rows["total_c"].astype(int),
            "label": pooled_rows["label"]})
        result = ev.pool_trials(pairs, params)
        st = result.studies.reset_index(drop=True)
        for j, idx in enumerate(pooled_rows.index):
            trials.loc[idx, "estimate"] = st.loc[j, "estimate"]
            trials.loc[idx, "ci_low"] = st.loc[j, "ci_low"]
            trials.loc[idx, "ci_high"] = st.loc[j, "ci_high"]
            trials.loc[idx, "weight"] = st.loc[j, "weight"] if result.k > 1 else np.nan
    return RctAnalysis(key=key, title=key_title(key, params), harmful=HARMFUL[key],
                       measure=params["two_arm_measure"], trials=trials, result=result,
                       left_out_rows=left)


def rct_analyses(ds, params) -> dict[str, RctAnalysis]:
    return {k: rct_analysis(ds, params, k) for k in RCT_KEYS}


def _arm_count_text(events, total, approx, pct) -> str:
    if pd.notna(events) and pd.notna(total):
        return ("≈" if approx else "") + fmt.count(events, total)
    if pd.notna(pct):
        return f"{float(pct):.1f}% (no count)"
    return "–"


def _arm_rate_text(events, total, pct, params) -> str:
    if pd.notna(events) and pd.notna(total):
        return ev.rate_with_ci(int(events), int(total), params)
    if pd.notna(pct):
        return f"{float(pct):.1f}% as printed"
    return "–"


def _arm_cell(t, sfx: str, params) -> str:
    """'≈42/271: 15.5% [11.7–20.3]' or '34.7% as printed' or '–'."""
    e, n, a, p = t[f"events_{sfx}"], t[f"total_{sfx}"], t[f"approx_{sfx}"], t[f"pct_{sfx}"]
    if pd.notna(e) and pd.notna(n):
        return f"{_arm_count_text(e, n, a, p)}: {_arm_rate_text(e, n, p, params)}"
    return _arm_rate_text(e, n, p, params)


CI_NAMES = {"wilson": "Wilson", "clopper-pearson": "Clopper-Pearson (exact)", "jeffreys": "Jeffreys",
            "agresti-coull": "Agresti-Coull", "wald": "Wald"}


def ci_name(params) -> str:
    return CI_NAMES.get(params["ci_method"], params["ci_method"])


def clean_notes(text) -> str:
    """Curator notes for readers: web addresses shortened to their site name (the full
    address stays in sources.csv / the data row), internal file references removed."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    t = re.sub(r"https?://(?:www\.)?([^/\s)]+)[^\s)]*?(?=[.,;)]?(?:\s|$))", r"\1", str(text))
    t = re.sub(r",? ?see NOTES\.md;?", "", t).replace(" ()", "")
    return re.sub(r"\s{2,}", " ", t).strip()


def effect_text(est, lo, hi, measure: str) -> str:
    if est is None or pd.isna(est):
        return "–"
    if measure == "RD":
        return fmt.num_ci(100 * est, 100 * lo, 100 * hi, digits=1) + " pp"
    return fmt.num_ci(est, lo, hi)


def rct_arm_table(analyses: dict[str, RctAnalysis], params) -> pd.DataFrame:
    """Table of every trial × outcome: arm counts, rates with CIs, crude effect, status."""
    m = params["two_arm_measure"]
    out = []
    for key, an in analyses.items():
        for _, t in an.trials.iterrows():
            out.append({
                "Outcome": an.title,
                "Trial": t["label"] + (f" {SECONDARY_MARK}" if t["secondary"] else ""),
                "EVT arm": _arm_cell(t, "t", params),
                "Medical arm": _arm_cell(t, "c", params),
                f"{MEASURE_TEXT[m].capitalize()} [CI]": effect_text(t["estimate"], t["ci_low"], t["ci_high"], m),
                "Pooled": "yes" if t["status"] == "pooled" else f"no ({t['status']})",
            })
    return pd.DataFrame(out)


def rct_left_out_table(analyses: dict[str, RctAnalysis]) -> pd.DataFrame:
    """Trials/outcomes not in a pooled estimate and why (a row saying none when all were used)."""
    out = []
    for an in analyses.values():
        for _, t in an.trials[an.trials["status"] != "pooled"].iterrows():
            out.append({"Outcome": an.title, "Trial": t["label"], "Why not pooled": t["reason"]})
    if not out:
        out.append({"Outcome": "(all)", "Trial": "(none)",
                    "Why not pooled": "every trial's counts were used for every outcome"})
    return pd.DataFrame(out)


def rct_forest(an: RctAnalysis, params, ds=None):
    """Forest plot of one outcome: each trial's crude effect, the pooled diamond (k ≥ 2)."""
    m = an.measure
    scale = "difference" if m == "RD" else "ratio"
    df = pd.DataFrame({
        "label": [t["label"] + (f" {SECONDARY_MARK}" if t["secondary"] else "")
                  + ("" if t["status"] == "pooled" else f" – {t['status']}")
                  for _, t in an.trials.iterrows()],
        "n_text_t": [_arm_count_text(t["events_t"], t["total_t"], t["approx_t"], t["pct_t"])
                     for _, t in an.trials.iterrows()],
        "n_text_c": [_arm_count_text(t["events_c"], t["total_c"], t["approx_c"], t["pct_c"])
                     for _, t in an.trials.iterrows()],
        "estimate": an.trials["estimate"].to_numpy(float),
        "ci_low": an.trials["ci_low"].to_numpy(float),
        "ci_high": an.trials["ci_high"].to_numpy(float),
        "weight": an.trials["weight"].to_numpy(float),
    })
    pooled = het = None
    if an.result is not None and an.result.k > 1:
        pooled = ev.pooled_dict(an.result)
        if an.result.k < 3:  # a prediction interval from two trials means nothing
            pooled.update(pi_low=None, pi_high=None)
        het = [h for h in (ev.heterogeneity_text(an.result),) if h]
    elif an.result is not None:
        het = ["Only one trial with usable counts: nothing was pooled."]
    fav = ("Favours EVT", "Favours medical") if an.harmful else ("Favours medical", "Favours EVT")
    xlabel = {"RR": "Risk ratio, EVT vs medical (log scale)",
              "OR": "Odds ratio, EVT vs medical (log scale)",
              "RD": "Risk difference, EVT − medical (percentage points)"}[m]
    return plots.forest_plot(df, pooled, scale=scale, xlabel=xlabel, heterogeneity=het,
                             labels_arms=("EVT", "Medical"), favours=fav, title=an.title,
                             est_label=("Difference, pp" if m == "RD" else MEASURE_TEXT[m].capitalize())
                             + f" [{ch_level(params)} CI]")


def rct_forest_caption(an: RctAnalysis, params) -> str:
    m = an.measure
    direction = (f"{'a ratio above 1' if m != 'RD' else 'a difference above 0'} means "
                 f"more patients with the outcome after EVT, which "
                 f"{'favours medical treatment' if an.harmful else 'favours EVT'}")
    parts = [f"{an.title}: each randomized trial's crude {MEASURE_TEXT[m]} (EVT vs medical "
             f"treatment) computed from the arm counts, with its {params['confidence_level']:.0%} "
             f"Wald CI (squares sized by weight, lines = CI); {direction}."]
    if an.result is not None and an.result.k > 1:
        parts.append(f"The diamond is the pooled estimate of the {an.result.k} trials "
                     f"({an.result.method_text}); its width is the CI. No prediction interval is "
                     "drawn: with so few trials it would mean nothing.")
    elif an.result is not None:
        parts.append("Only one trial had usable counts, so nothing was pooled.")
    else:
        parts.append("No trial had usable counts in both arms, so no effect is shown.")
    parts.append("Counts marked ≈ were rounded from a printed percentage and the arm size; "
                 f"{SECONDARY_MARK} = numbers from a secondary report (news page or trial "
                 "summary), not the trial publication. Rows 'not pooled' / 'not reported' / "
                 "'excluded' are listed with their reason in the trial table.")
    return " ".join(parts)


def record_rct(results, ds, analyses: dict[str, RctAnalysis], params) -> None:
    """Record per-arm rates, per-trial effects and pooled effects of the RCT section."""
    m = params["two_arm_measure"]
    ci_txt = f"{params['ci_method']} CI"
    for key, an in analyses.items():
        for _, t in an.trials.iterrows():
            sid = t["source_id"]
            if t["status"] == "excluded":
                continue
            for sfx, arm in (("t", "evt"), ("c", "medical")):
                e, n, p = t[f"events_{sfx}"], t[f"total_{sfx}"], t[f"pct_{sfx}"]
                rid = f"dmvo.rct.{key}.{sid}.{arm}"
                if pd.notna(e) and pd.notna(n):
                    lo, hi = ev.proportion_ci(int(e), int(n), params)
                    results.add(rid, cohort=COHORT, outcome=t["outcome"], subgroup=arm,
                                analysis="arm rate (count rounded from percentage)"
                                if t[f"approx_{sfx}"] else "arm rate",
                                measure="proportion", estimate=int(e) / int(n), ci_low=lo, ci_high=hi,
                                events=int(e), total=int(n), method=ci_txt, sources=sid)
                elif pd.notna(p):
                    results.add(rid, cohort=COHORT, outcome=t["outcome"], subgroup=arm,
                                analysis="reported percentage (not pooled)", measure="proportion",
                                estimate=float(p) / 100, total=t[f"total_{sfx}"], sources=sid)
            if t["status"] == "pooled":
                results.add(f"dmvo.rct.{key}.{sid}", cohort=COHORT, outcome=t["outcome"],
                            analysis="trial crude effect", measure=m, estimate=t["estimate"],
                            ci_low=t["ci_low"], ci_high=t["ci_high"],
                            events=int(t["events_t"] + t["events_c"]),
                            total=int(t["total_t"] + t["total_c"]),
                            method=f"Wald CI on the {'log ' if m != 'RD' else ''}scale", sources=sid)
        if an.result is not None:
            outs = sorted(set(an.pooled["outcome"]))
            results.add_pooled(f"dmvo.rct.{key}.pooled", an.result, cohort=COHORT,
                               outcome=";".join(outs),
                               analysis="pooled crude effect of randomized trials"
                               if an.result.k > 1 else "single trial (nothing pooled)",
                               sources=list(an.pooled["source_id"]))


def rct_reperfusion(ds, params) -> pd.DataFrame:
    """Successful reperfusion in the EVT arm of each trial, descriptive."""
    out = []
    for sid in rct_ids(ds):
        r = ds.outcome_rows(cohort=COHORT, source_id=sid, arm="EVT",
                            outcome=list(ev.OUTCOME_FAMILIES["reperfusion"]))
        if sid in params["exclude_studies"]:
            out.append(dict(source_id=sid, Trial=label(ds, sid), Definition="–", Rate="excluded by the "
                            "parameter exclude_studies", **{"Where read": "–"}, pct=np.nan,
                            events=np.nan, total=np.nan, lo=np.nan, hi=np.nan, outcome="reperfusion"))
            continue
        if r.empty:
            out.append(dict(source_id=sid, Trial=label(ds, sid), Definition="–",
                            Rate="not found in the sources read", **{"Where read": "–"}, pct=np.nan,
                            events=np.nan, total=np.nan, lo=np.nan, hi=np.nan, outcome="reperfusion"))
            continue
        r = r.iloc[0]
        e, n = r["events"], r["total"]
        if pd.notna(e) and pd.notna(n):
            lo, hi = ev.proportion_ci(int(e), int(n), params)
            rate = f"{fmt.count(e, n)}, {fmt.pct_ci(e / n, lo, hi)}"
            p = e / n
        else:
            lo = hi = np.nan
            p = r["reported_percent"] / 100
            rate = (f"{_pct_printed(r['reported_percent'])} as printed"
                    + ("" if pd.notna(n) else "; denominator not printed, no CI"))
        out.append(dict(source_id=sid, Trial=label(ds, sid) + (f" {SECONDARY_MARK}" if is_secondary(r) else ""),
                        Definition=r["definition"], Rate=rate, **{"Where read": _where(r)},
                        pct=p, events=e, total=n, lo=lo, hi=hi, outcome=r["outcome"]))
    return pd.DataFrame(out)


def record_reperfusion(results, rep: pd.DataFrame, params) -> None:
    for _, r in rep.iterrows():
        if pd.isna(r["pct"]):
            continue
        results.add(f"dmvo.rct.reperfusion.{r['source_id']}.evt", cohort=COHORT, outcome=r["outcome"],
                    subgroup="evt", analysis="arm rate" if pd.notna(r["events"]) else
                    "reported percentage (no denominator)", measure="proportion", estimate=r["pct"],
                    ci_low=r["lo"], ci_high=r["hi"], events=r["events"], total=r["total"],
                    method=f"{params['ci_method']} CI" if pd.notna(r["lo"]) else "",
                    sources=r["source_id"])


def _family(outcome: str) -> str:
    if outcome in FUNCTIONAL:
        return "favourable"
    if outcome in ev.OUTCOME_FAMILIES["mortality"]:
        return "mortality"
    return outcome


def _effect_rows(ds, params, source_ids) -> pd.DataFrame:
    e = ds.effect_rows(cohort=COHORT, source_id=list(source_ids))
    return e[~e["source_id"].isin(params["exclude_studies"])]


def reported_effects_table(ds, params, analyses: dict[str, RctAnalysis]) -> pd.DataFrame:
    """Per outcome: this report's pooled crude effect, then the trials' own reported effects,
    then preprint pooled analyses of the same trials (flagged)."""
    trials = rct_ids(ds)
    preprints = [s for s in sources_by_design(ds, ["meta-analysis"]) if is_preprint(ds, s)]
    eff = _effect_rows(ds, params, trials + preprints)
    m = params["two_arm_measure"]
    out = []
    for key in RCT_KEYS:
        an = analyses[key]
        title = {"favourable": "Functional outcome", "mortality": "Death", "sich": "sICH"}[key]
        if an.result is not None:
            res = an.result
            what = (f"pooled crude {MEASURE_TEXT[m]}, {res.k} trials" if res.k > 1
                    else f"crude {MEASURE_TEXT[m]}, 1 trial (nothing pooled)")
            out.append({"Outcome": title, "Estimate from": "This report",
                        "Outcome as defined": outcome_text(";".join(sorted(set(an.pooled["outcome"])))),
                        "Measure": what,
                        "Estimate [CI]": effect_text(res.estimate, res.ci_low, res.ci_high, m),
                        "p": "–", "Where read": f"computed here ({ev.favourable(params)} cut-off)"
                        if key == "favourable" else "computed here"})
        sub = eff[eff["outcome"].map(_family) == key]
        sub = sub.assign(_pre=sub["source_id"].map(lambda s: s in preprints),
                         _sec=sub.apply(is_secondary, axis=1))
        sub = sub.sort_values(["_pre", "_sec", "source_id"], kind="stable")
        for _, r in sub.iterrows():
            who = label(ds, r["source_id"])
            if r["_pre"]:
                who = f"{PREPRINT_MARK} Preprint: {who}"
            out.append({"Outcome": title, "Estimate from": who,
                        "Outcome as defined": outcome_text(r["outcome"]) + _population(r),
                        "Measure": r["measure"] + (" (adjusted)" if r["adjusted"] == "yes"
                                                   and "adjusted" not in r["measure"] else ""),
                        "Estimate [CI]": _reported_ci(r),
                        "p": _p_text(r["p_value"]),
                        "Where read": _where(r)})
    return pd.DataFrame(out)


def _population(r) -> str:
    sg = str(r.get("subgroup") or "")
    return "" if sg in ("", "all") or sg.lower().startswith("pooled rcts") else f"; subgroup: {sg}"


def _p_text(p) -> str:
    return "–" if p is None or pd.isna(p) or str(p).strip() == "" else str(p)


def _reported_ci(r) -> str:
    if pd.isna(r["ci_low"]) or pd.isna(r["ci_high"]):
        return f"{r['estimate']:.2f} [CI not readable]"
    if r["measure"] == "risk difference":
        return fmt.num_ci(r["estimate"], r["ci_low"], r["ci_high"], digits=1) + " pp"
    return fmt.num_ci(r["estimate"], r["ci_low"], r["ci_high"])


def record_reported_effects(results, ds, params, source_ids, analysis: str) -> None:
    """Record effects.csv rows shown as reported (ids dmvo.reported.<row_id>)."""
    for _, r in _effect_rows(ds, params, source_ids).iterrows():
        results.add(f"dmvo.reported.{r['row_id']}", cohort=COHORT, outcome=r["outcome"],
                    subgroup=r["subgroup"], analysis=analysis
                    + (" (secondary report)" if is_secondary(r) else ""),
                    measure=r["measure"], estimate=r["estimate"], ci_low=r["ci_low"],
                    ci_high=r["ci_high"], method="as reported (95% CI)", sources=r["source_id"])


def _df(k: int) -> str:
    return f"{k - 1} degree{'s' if k - 1 != 1 else ''} of freedom"


def hksj_note(params, k: int = 2) -> str:
    """Plain sentence on what k trials mean for the pooled interval under the parameters."""
    lvl = params["confidence_level"]
    t = stats.t.ppf(1 - (1 - lvl) / 2, k - 1)
    z = _z(params)
    if params["model"] == "fixed":
        return (f"With only {k} trials, the common-effect (fixed) model assumes both trials "
                "estimate the same effect; nothing in two trials can check that assumption.")
    base = (f"With only {k} trials, the between-trial variance τ² is barely estimable (a single "
            "degree of freedom), so the random-effects estimate rests on a guess of τ².")
    if params["hksj"]:
        return base + (f" The Hartung-Knapp-Sidik-Jonkman interval used here multiplies the "
                       f"standard error by a t quantile with {_df(k)} "
                       f"({t:.1f} instead of {z:.2f} for a {lvl:.0%} interval); it is therefore "
                       "very wide unless the trials agree closely (their agreement shrinks the "
                       "variance factor): the width reflects k as much as the trials.")
    return base + (f" The Hartung-Knapp-Sidik-Jonkman interval (parameter hksj) would use a t "
                   f"quantile with {_df(k)} ({t:.1f} instead of {z:.2f} for "
                   f"a {lvl:.0%} interval) and be very wide; the normal-based interval shown is "
                   "narrower but over-confident about between-trial variation.")


# --------------------------------------------------------------------------- HERMES M2

def hermes_table(ds, params) -> pd.DataFrame | None:
    """Menon 2019 (HERMES M2): mRS 0-2 by arm, reperfusion, adjusted OR, population size."""
    sid = "menon-2019"
    if sid not in set(ds.sources["source_id"]) or sid in params["exclude_studies"]:
        return None
    out = []
    o = ds.outcome_rows(source_id=sid)
    for _, r in o.iterrows():
        out.append({"What": f"{ev.outcome_label(r['outcome'])}, {r['arm']} arm",
                    "Result": (f"{fmt.count(r['events'], r['total'])} " if pd.notna(r["events"]) else "")
                    + f"{_pct_printed(r['reported_percent'])}"
                    + ("" if pd.notna(r["total"]) else " (arm size not printed)"),
                    "Definition": r["definition"], "Where read": _where(r)})
    for _, r in ds.effect_rows(source_id=sid).iterrows():
        out.append({"What": f"{ev.outcome_label(r['outcome'])}: {r['measure']} EVT vs control",
                    "Result": _reported_ci(r) + (f", p = {r['p_value']}" if pd.notna(r["p_value"]) else ""),
                    "Definition": r["definition"], "Where read": _where(r)})
    for _, r in ds.baseline_rows(source_id=sid).iterrows():
        out.append({"What": r["variable"], "Result": f"{int(r['count'])} patients",
                    "Definition": "–", "Where read": _where(r)})
    return pd.DataFrame(out) if out else None


def record_hermes(results, ds, params) -> None:
    sid = "menon-2019"
    if sid not in set(ds.sources["source_id"]) or sid in params["exclude_studies"]:
        return
    for _, r in ds.outcome_rows(source_id=sid).iterrows():
        fam = "favourable" if r["outcome"] in FUNCTIONAL else r["outcome"]
        arm = "evt" if r["arm"] == "EVT" else "medical"
        results.add(f"dmvo.hermes.{fam}.{arm}", cohort=COHORT, outcome=r["outcome"],
                    subgroup=r["subgroup"], analysis="reported percentage (arm size not printed)",
                    measure="proportion", estimate=r["reported_percent"] / 100, sources=sid)
    record_reported_effects(results, ds, params, [sid], "reported by the pooled analysis")


# --------------------------------------------------------------------------- observational

def _subgroups(params) -> list[str]:
    return {"primary": ["primary DMVO"], "secondary": ["secondary DMVO"],
            "both": ["primary DMVO", "secondary DMVO"]}[params["dmvo_subgroup"]]


def meta_rates(ds, params) -> pd.DataFrame:
    """Pooled rates reported by meta-analyses of observational series (never re-pooled).

    One row per (source, subgroup, outcome) for the subgroups chosen by `dmvo_subgroup`,
    with estimate and CI as proportions; excluded sources are dropped.
    """
    rows = ds.outcome_rows(cohort=COHORT, estimate_type="pooled", subgroup=_subgroups(params))
    rows = rows[~rows["source_id"].isin(params["exclude_studies"])]
    fam_of = {o: fam for fam, names in OBS_OUTCOMES for o in names}
    out = []
    for _, r in rows.iterrows():
        fam = fam_of.get(r["outcome"])
        if fam is None:
            continue
        out.append(dict(source_id=r["source_id"], row_id=r["row_id"], subgroup=r["subgroup"],
                        family=fam, outcome=r["outcome"], definition=r["definition"],
                        estimate=r["reported_percent"] / 100, ci_low=r["reported_ci_low"] / 100,
                        ci_high=r["reported_ci_high"] / 100, total=r["total"],
                        k=_k_from_notes(ds, r["source_id"]), where=_where(r)))
    df = pd.DataFrame(out)
    if df.empty:
        return df
    order = {fam: i for i, (fam, _) in enumerate(OBS_OUTCOMES)}
    df["_o"] = df["family"].map(order)
    df["_s"] = df["subgroup"].map({s: i for i, s in enumerate(["primary DMVO", "secondary DMVO"])})
    return df.sort_values(["source_id", "_o", "_s"]).drop(columns=["_o", "_s"]).reset_index(drop=True)


def _k_from_notes(ds, source_id: str) -> float:
    """Number of studies of a meta-analysis as stated in sources.csv notes ('29 studies')."""
    m = re.search(r"(\d+) studies", str(ds.source(source_id).get("notes") or ""))
    return float(m.group(1)) if m else float("nan")


def meta_rates_table(ds, rates: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Source": [label(ds, s) for s in rates["source_id"]],
        "Subgroup": rates["subgroup"],
        "Outcome": [ev.outcome_label(o) for o in rates["outcome"]],
        "Definition": rates["definition"],
        "Patients": [f"{int(n)}" if pd.notna(n) else "–" for n in rates["total"]],
        "Pooled rate [95% CI] as reported": [fmt.pct_ci(e, lo, hi, digits=0) for e, lo, hi in
                                             zip(rates["estimate"], rates["ci_low"], rates["ci_high"])],
    })


def meta_forest(rates: pd.DataFrame):
    """Forest plot of the reported pooled rates, grouped by outcome, no pooled diamond."""
    df = pd.DataFrame({
        "label": [s.replace(" DMVO", "") .capitalize() + " DMVO" for s in rates["subgroup"]],
        "n_text": [f"n = {int(n)}" if pd.notna(n) else "–" for n in rates["total"]],
        "estimate": rates["estimate"], "ci_low": rates["ci_low"], "ci_high": rates["ci_high"],
        "group": [ev.outcome_label(o) for o in rates["outcome"]],
    })
    return plots.forest_plot(df, None, scale="proportion", group_col="group", show_weights=False,
                             xlabel="Pooled rate among patients treated with EVT",
                             est_label="Rate [95% CI]", xlim=(0, 1))


def record_meta_rates(results, rates: pd.DataFrame) -> None:
    for _, r in rates.iterrows():
        sg = r["subgroup"].split()[0].lower()
        results.add(f"dmvo.obs.{r['source_id']}.{sg}.{r['family']}", cohort=COHORT,
                    outcome=r["outcome"], subgroup=r["subgroup"],
                    analysis="reported pooled estimate", measure="proportion",
                    estimate=r["estimate"], ci_low=r["ci_low"], ci_high=r["ci_high"],
                    total=r["total"], method="random-effects pooled rate as reported (95% CI); "
                    "k = studies in the whole meta-analysis (per-subgroup k not in the abstract read)",
                    k_studies=r["k"], sources=r["source_id"])


def meta_note(ds, rates: pd.DataFrame, params) -> str:
    """Sentence under the meta-analysis table: subgroup selection and number of studies."""
    bits = [f"@tbl:dmvo-meta-rates and @fig:dmvo-meta-forest show the "
            f"{'primary and secondary subgroups' if params['dmvo_subgroup'] == 'both' else params['dmvo_subgroup'] + ' subgroup'}"
            f" (dmvo_subgroup = {params['dmvo_subgroup']})."]
    for sid, g in rates.groupby("source_id"):
        k = g["k"].iloc[0]
        if pd.notna(k):
            bits.append(f"{label(ds, sid)} included {int(k)} studies in total; how many contribute "
                        "to each subgroup and outcome, and their heterogeneity, were not in the "
                        "abstract read.")
    return " ".join(bits)


def registry_sources(ds, params) -> list[str]:
    ids = sources_by_design(ds, ["registry", "prospective cohort", "retrospective cohort"])
    return [s for s in ids if s not in params["exclude_studies"]]


def registry_table(ds, params) -> pd.DataFrame | None:
    """Effects reported by registry / cohort analyses (comparisons within EVT-treated patients
    or EVT vs IVT; not randomized)."""
    ids = registry_sources(ds, params)
    eff = _effect_rows(ds, params, ids)
    if eff.empty:
        return None
    return pd.DataFrame({
        "Study": [label(ds, s) for s in eff["source_id"]],
        "Population": eff["subgroup"],
        "Comparison": eff["comparison"],
        "Outcome": [ev.outcome_label(o) for o in eff["outcome"]],
        "Measure": eff["measure"],
        "Estimate [95% CI]": [_reported_ci(r) for _, r in eff.iterrows()],
        "p": [_p_text(p) for p in eff["p_value"]],
        "Notes": [clean_notes(n) for n in eff["notes"]],
    })


def unverified_table(ds, params) -> pd.DataFrame:
    """DMVO sources (other than protocols and guidelines) without any figure in the data, with
    what their curator could and could not verify (sources.csv notes)."""
    used = set(ds.outcomes["source_id"]) | set(ds.effects["source_id"])
    ids = sources_by_design(ds, ["registry", "prospective cohort", "retrospective cohort",
                                 "meta-analysis", "post-hoc pooled analysis", "RCT"])
    out = [{"Source": label(ds, s), "Design": ds.source(s)["design"],
            "What was read and what could not be verified": clean_notes(ds.source(s)["notes"])}
           for s in ids if s not in used]
    if not out:
        out = [{"Source": "(none)", "Design": "–",
                "What was read and what could not be verified": "every source has figures in the data"}]
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- ongoing trials

def ongoing_table(ds, params) -> pd.DataFrame:
    """Trials with a published protocol: design facts (sources.csv) and what they will add."""
    ids = sources_by_design(ds, ["protocol"])
    out = []
    for s in ids:
        src = ds.source(s)
        pub = ", ".join(str(x) for x in (src.get("authors"), src.get("journal"), src.get("year"),
                                         src.get("volume_pages")) if x and not pd.isna(x))
        if src.get("doi"):
            pub += f"; doi {src['doi']}"
        out.append({"Trial": short(ds, s), "Protocol": pub,
                    "Design and status (as recorded from the sources read)": clean_notes(src.get("notes")) or "–",
                    "What it will add": ONGOING_ADDS.get(s, "–")})
    if not out:
        out = [{"Trial": "(none)", "Protocol": "–",
                "Design and status (as recorded from the sources read)": "no protocol in the data",
                "What it will add": "–"}]
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- overview & summary

KIND = {"RCT": "randomized trial", "meta-analysis": "meta-analysis",
        "post-hoc pooled analysis": "pooled subgroup analysis of randomized trials",
        "registry": "registry (observational)", "retrospective cohort": "single-centre series "
        "(observational)", "prospective cohort": "cohort (observational)",
        "protocol": "trial protocol (no results)", "guideline": "guideline"}


def evidence_map(ds, params) -> pd.DataFrame:
    """One row per DMVO source: kind of evidence, publication, rows of figures in the data."""
    s = ds.sources[ds.sources["cohort"].isin([COHORT, "both"]) & (ds.sources["design"] != "Q&A summary")]
    order = ["RCT", "post-hoc pooled analysis", "meta-analysis", "registry", "prospective cohort",
             "retrospective cohort", "protocol", "guideline"]
    s = s.assign(_o=s["design"].map({d: i for i, d in enumerate(order)}).fillna(99))
    s = s.sort_values(["_o", "year", "source_id"])
    out = []
    for _, r in s.iterrows():
        sid = r["source_id"]
        n_fig = int((ds.outcomes["source_id"] == sid).sum() + (ds.effects["source_id"] == sid).sum())
        kind = KIND.get(r["design"], r["design"] or "–")
        if is_preprint(ds, sid):
            kind = f"{PREPRINT_MARK} preprint {kind} (cross-check only)"
        out.append({"Source": label(ds, sid), "Kind of evidence": kind,
                    "Published in": f"{r['journal'] or '–'} {'' if pd.isna(r['year']) else int(r['year'])}".strip(),
                    "Figures in the data": n_fig,
                    "Used in this run": "no (excluded by exclude_studies)"
                    if sid in params["exclude_studies"] else "yes"})
    return pd.DataFrame(out)


def summary_markdown(ds, params, analyses: dict[str, RctAnalysis], rates: pd.DataFrame) -> str:
    """The closing paragraph, every number computed."""
    m = params["two_arm_measure"]
    mt = MEASURE_TEXT[m]
    parts = []
    fav, mort, sich = (analyses[k] for k in RCT_KEYS)
    trial_ids = sorted({sid for an in analyses.values() for sid in an.pooled["source_id"]})
    n_pat = _randomized_n(ds, trial_ids)

    def eff(an):
        r = an.result
        return effect_text(r.estimate, r.ci_low, r.ci_high, m)

    if trial_ids:
        words = {1: "One", 2: "Two", 3: "Three", 4: "Four"}
        parts.append(f"**Randomized evidence.** {words.get(len(trial_ids), len(trial_ids))} randomized trial"
                     f"{'s' if len(trial_ids) > 1 else ''} "
                     f"({', '.join(short(ds, s) for s in trial_ids)}"
                     + (f"; {n_pat} patients randomized" if n_pat else "") + ") compared EVT "
                     "with best medical treatment.")
    for an, what in ((fav, _lower_first(ev.outcome_label(ev.favourable(params)))),
                     (mort, "death by 90 days"), (sich, "symptomatic intracranial haemorrhage")):
        if an.result is None:
            parts.append(f"For {what}, no trial gave usable arm counts under these parameters.")
            continue
        r = an.result
        tr = "trials" if r.k > 1 else f"trial, {an.pooled.iloc[0]['label']} only: nothing pooled"
        sec = ""
        if an.pooled["secondary"].any():
            sec = (f"; arm figures of {', '.join(an.pooled.loc[an.pooled['secondary'], 'label'])} "
                   f"from a secondary report {SECONDARY_MARK}")
        parts.append(f"For {what}, the {'pooled ' if r.k > 1 else ''}crude {mt} of EVT vs medical "
                     f"treatment was {eff(an)} ({ch_level(params)} CI; {r.k} {tr}, "
                     f"{r.n_total} patients{sec}).")
    if fav.result is not None and mort.result is not None and sich.result is not None:
        null = 0.0 if m == "RD" else 1.0
        benefit = fav.result.ci_low > null
        parts.append(
            "In plain words: " + ("the trials show a benefit of EVT on functional outcome"
                                  if benefit else "the trials do not show a benefit of EVT on "
                                  "functional outcome")
            + (", and symptomatic haemorrhage was more frequent after EVT"
               if sich.result.ci_low > null else
               ", and the interval for symptomatic haemorrhage does not exclude no difference")
            + (", as was death." if mort.result.ci_low > null else
               "; for death the pooled crude interval includes no difference."))
    own = _own_effects_text(ds, params)
    if own:
        parts.append("The trials' own primary analyses, as published (@tbl:dmvo-rct-reported): "
                     + own + ".")
    if not rates.empty:
        fr = rates[rates["family"] == "favourable"]
        bits = [f"{r['subgroup']} {fmt.pct_ci(r['estimate'], r['ci_low'], r['ci_high'], 0)}"
                for _, r in fr.iterrows()]
        if bits:
            parts.append("**Observational evidence.** Single-arm series report high reperfusion and "
                         "good outcomes after EVT (pooled mRS 0–2: " + "; ".join(bits) + "), but "
                         "without a control group these rates cannot show that EVT is better than "
                         "medical treatment" + ("; the randomized trials, which had such a control "
                         "group, did not find it." if fav.result is not None and not
                         (fav.result.ci_low > (0.0 if m == "RD" else 1.0)) else "."))
    return "\n\n".join(parts)


def _own_effects_text(ds, params) -> str:
    """'DISTAL: adjusted common OR 0.90 [0.67–1.22] (mRS shift) ...' from the trial publications
    (rows read in a secondary report are not used here)."""
    eff = _effect_rows(ds, params, rct_ids(ds))
    bits = []
    for _, r in eff.iterrows():
        if is_secondary(r):
            continue
        sig = ""
        if pd.notna(r["ci_low"]) and pd.notna(r["ci_high"]):
            sig = (" (interval excludes no difference)" if r["ci_low"] > 1 or r["ci_high"] < 1
                   else "")
        bits.append(f"{short(ds, r['source_id'])}, {_lower_first(outcome_text(r['outcome']))}: "
                    f"{r['measure']} {_reported_ci(r)}{sig}")
    return "; ".join(bits)


def _lower_first(s: str) -> str:
    return s[:1].lower() + s[1:]


def outcome_markdown(an: RctAnalysis, params) -> str:
    """What the forest plot of one outcome shows, in computed sentences."""
    m = params["two_arm_measure"]
    mt = MEASURE_TEXT[m]
    out = []
    for _, t in an.trials[an.trials["status"] != "pooled"].iterrows():
        out.append(f"{t['label']}: {t['status']} ({t['reason']}).")
    sec = an.trials[(an.trials["status"] == "pooled") & an.trials["secondary"]]
    for _, t in sec.iterrows():
        out.append(f"The arm figures of {t['label']} for this outcome come from a secondary report "
                   f"({SECONDARY_MARK}), not from the trial publication.")
    r = an.result
    if r is None:
        out.append("No trial has usable counts in both arms, so no effect can be computed.")
    elif r.k == 1:
        t = an.pooled.iloc[0]
        out.append(f"Only {t['label']} contributes, so nothing was pooled: its crude {mt} is "
                   f"{effect_text(r.estimate, r.ci_low, r.ci_high, m)} ({ch_level(params)} CI).")
    else:
        parts = [f"{t['label']} {effect_text(t['estimate'], t['ci_low'], t['ci_high'], m)}"
                 for _, t in an.pooled.iterrows()]
        out.append(f"Crude {mt}s: " + "; ".join(parts) + f". Pooled ({r.method_text}): "
                   f"**{effect_text(r.estimate, r.ci_low, r.ci_high, m)}** ({ch_level(params)} CI, "
                   f"{r.k} trials, {r.n_total} patients, {r.events_total} with the outcome). "
                   f"{ev.heterogeneity_text(r)}.")
    return " ".join(out)


def ch_level(params) -> str:
    return f"{round(100 * params['confidence_level'], 1):g}%"


def _randomized_n(ds, source_ids) -> int | None:
    tot = 0
    for sid in source_ids:
        b = ds.baseline_rows(source_id=sid)
        b = b[b["variable"].str.startswith("n randomized")]
        if b.empty:
            return None
        tot += int(b["count"].sum())
    return tot


def trials_intro_markdown(ds, params, analyses) -> str:
    """Sentence on the trials included (numbers from baseline.csv)."""
    bits = []
    for sid in rct_ids(ds):
        b = ds.baseline_rows(source_id=sid)
        b = b[b["variable"].str.startswith("n randomized")]
        arms = {r["arm"]: int(r["count"]) for _, r in b.iterrows()}
        excl = " — excluded from this run by exclude_studies" if sid in params["exclude_studies"] else ""
        if arms:
            bits.append(f"- **{label(ds, sid)}**: {arms.get('EVT', '–')} patients assigned to EVT and "
                        f"{arms.get('medical', '–')} to medical treatment{excl}.")
        else:
            bits.append(f"- **{label(ds, sid)}**{excl}.")
    return "\n".join(bits)
