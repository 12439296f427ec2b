"""results.csv rows from the bundle: every estimate the report shows, by section, with
stable machine ids. The chapters call ``Chapter.finish()``, which emits their section's rows.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import pandas as pd

from .. import vocab
from ..results import Results
from . import common as cm
from . import dmvo as dm
from . import icass as ic
from .compare import KINDS
from .sensitivity import ESTIMATES

# Descriptions of the bodies of evidence of the side-by-side chapter (results' analysis column).
KIND_TEXT = {KINDS[0]: "EVT arms of the randomized trials",
             KINDS[1]: "Observational meta-analysis, primary DMVO (as reported)",
             KINDS[2]: "Observational meta-analysis, secondary DMVO (as reported)",
             KINDS[3]: "ICASS-M1 series", KINDS[4]: "Other ICAS-related occlusion series"}


def _ci_text(p) -> str:
    return f"{p['ci_method']} {vocab.level_text(p['confidence_level'])} CI"


# --------------------------------------------------------------------------- DMVO

def _record_trial_arms(out: Results, tc: dm.TrialComparison, p) -> None:
    for _, t in tc.trials.iterrows():
        sid = t["source_id"]
        if t["status"] == "excluded":
            continue
        for sfx, arm in (("t", "evt"), ("c", "medical")):
            e, n, pct = t[f"events_{sfx}"], t[f"total_{sfx}"], t[f"pct_{sfx}"]
            rid = f"dmvo.rct.{tc.family}.{sid}.{arm}"
            if pd.notna(e) and pd.notna(n):
                lo, hi = cm.proportion_ci(int(e), int(n), p)
                out.add(rid, cohort=dm.COHORT, outcome=t["outcome"], subgroup=arm,
                        analysis="arm rate (count rounded from percentage)" if t[f"approx_{sfx}"]
                        else "arm rate", measure="proportion", estimate=int(e) / int(n),
                        ci_low=lo, ci_high=hi, events=int(e), total=int(n),
                        method=f"{p['ci_method']} CI", sources=sid)
            elif pd.notna(pct):
                out.add(rid, cohort=dm.COHORT, outcome=t["outcome"], subgroup=arm,
                        analysis="reported percentage (not pooled)", measure="proportion",
                        estimate=float(pct) / 100, total=n, sources=sid)
        if t["status"] == "pooled":
            out.add(f"dmvo.rct.{tc.family}.{sid}", cohort=dm.COHORT, outcome=t["outcome"],
                    analysis="trial crude effect", measure=tc.measure, estimate=t["estimate"],
                    ci_low=t["ci_low"], ci_high=t["ci_high"],
                    events=int(t["events_t"] + t["events_c"]), total=int(t["total_t"] + t["total_c"]),
                    method=f"Wald CI on the {'log ' if tc.measure != 'RD' else ''}scale", sources=sid)


def record_trials(out: Results, tc: dm.TrialComparison, p) -> None:
    _record_trial_arms(out, tc, p)
    if tc.result is not None:
        out.add_pooled(f"dmvo.rct.{tc.family}.pooled", tc.result, cohort=dm.COHORT,
                       outcome=";".join(sorted(set(tc.pooled["outcome"]))),
                       analysis="pooled crude effect of randomized trials" if tc.result.k > 1
                       else "single trial (nothing pooled)", sources=list(tc.pooled["source_id"]))


def record_reperfusion(out: Results, rep: dm.ArmRates, p) -> None:
    for _, r in rep.rows.iterrows():
        if pd.isna(r["estimate"]):
            continue
        out.add(f"dmvo.rct.reperfusion.{r['source_id']}.evt", cohort=dm.COHORT,
                outcome=r["outcome"], subgroup="evt",
                analysis="arm rate" if r["status"] == "rate" else "reported percentage (no denominator)",
                measure="proportion", estimate=r["estimate"], ci_low=r["ci_low"], ci_high=r["ci_high"],
                events=r["events"], total=r["total"],
                method=f"{p['ci_method']} CI" if r["status"] == "rate" else "", sources=r["source_id"])


def record_reported(out: Results, eff: dm.ReportedEffects, analysis: str) -> None:
    for _, r in eff.rows.iterrows():
        out.add(f"dmvo.reported.{r['row_id']}", cohort=dm.COHORT, outcome=r["outcome"],
                subgroup=r["subgroup"], analysis=analysis + (" (secondary report)" if r["secondary"] else ""),
                measure=r["measure"], estimate=r["estimate"], ci_low=r["ci_low"],
                ci_high=r["ci_high"], method="as reported (95% CI)", sources=r["source_id"])


def record_hermes(out: Results, h: dm.Hermes) -> None:
    if not h.available:
        return
    for _, r in h.outcomes.iterrows():
        fam = "favourable" if vocab.family_of(r["outcome"]) == "favourable" else r["outcome"]
        arm = "evt" if r["arm"] == "EVT" else "medical"
        out.add(f"dmvo.hermes.{fam}.{arm}", cohort=dm.COHORT, outcome=r["outcome"],
                subgroup=r["subgroup"], analysis="reported percentage (arm size not printed)",
                measure="proportion", estimate=r["reported_percent"] / 100, sources=dm.HERMES)
    record_reported(out, h.effects, "reported by the pooled analysis")


def record_meta_rates(out: Results, rates: dm.MetaRates) -> None:
    for _, r in rates.rows.iterrows():
        sg = r["subgroup"].split()[0].lower()
        out.add(f"dmvo.obs.{r['source_id']}.{sg}.{r['family']}", cohort=dm.COHORT,
                outcome=r["outcome"], subgroup=r["subgroup"], analysis="reported pooled estimate",
                measure="proportion", estimate=r["estimate"], ci_low=r["ci_low"],
                ci_high=r["ci_high"], total=r["total"],
                method="random-effects pooled rate as reported (95% CI); k = studies in the whole "
                       "meta-analysis (per-subgroup k not in the abstract read)",
                k_studies=r["k"], sources=r["source_id"])


def record_bayes(out: Results, bd) -> None:
    """bayes.dmvo.<o>.hn<s> (posterior median and credible interval, back-transformed like the
    frequentist rows) and .p_benefit / .p_harm."""
    for (fam, key), r in bd.rows.items():
        if r is None:
            continue
        rid, res = f"bayes.dmvo.{fam}.hn{key}", r.result
        common = dict(cohort=dm.COHORT, outcome=";".join(sorted(set(r.comparison.pooled["outcome"]))),
                      k_studies=res.k if hasattr(res, "k") else r.comparison.k,
                      sources=";".join(r.comparison.pooled["source_id"]))
        method = f"Bayesian random effects, mu uniform, tau half-normal({r.prior_scale:.4g})"
        out.add(rid, analysis=f"Bayesian pooled effect: posterior median, {vocab.level_text(res.level)} credible interval",
                measure=r.comparison.measure, estimate=res.estimate, ci_low=res.ci_low, ci_high=res.ci_high,
                pi_low=res.pi_low, pi_high=res.pi_high, tau2=res.tau ** 2, method=method, **common)
        for part, value in (("p_benefit", r.probabilities.p_benefit), ("p_harm", r.probabilities.p_harm)):
            out.add(f"{rid}.{part}", analysis=f"posterior probability of {part[2:]} with EVT",
                    measure="probability", estimate=value, method=method, **common)


def dmvo_rows(b, out: Results) -> None:
    p = b.params
    for fam in dm.RCT_FAMILIES:
        record_trials(out, b[f"dmvo.rct.{fam}"], p)
    record_reperfusion(out, b["dmvo.rct.reperfusion"], p)
    record_reported(out, b["dmvo.reported.trials"], "reported by the trial")
    record_reported(out, b["dmvo.reported.preprints"], "preprint pooled analysis (cross-check)")
    record_hermes(out, b["dmvo.hermes"])
    record_meta_rates(out, b["dmvo.obs.meta"])
    record_reported(out, b["dmvo.registry"], "reported by an observational analysis")
    record_bayes(out, b["bayes.dmvo"])


# --------------------------------------------------------------------------- ICASS-M1

def check_text(ln: ic.TableLine) -> str:
    """The audit result of one printed percentage in words."""
    if ln.printed_dash:
        return "printed as “—” (none)" if not ln.count else "printed as “—” but count > 0"
    if not ln.printed_raw:
        return "no percentage printed"
    if ln.consistent:
        return "matches"
    return (f"differs: printed {ln.printed_raw}%, but {ln.count}/{ln.total} = {ln.recomputed:.2f}%, "
            f"which rounds to {ln.recomputed:.{max(ln.decimals, 1)}f}%")


def record_table(out: Results, table: ic.PaperTable) -> None:
    for ln in table.lines:
        if ln.count is None:
            continue
        printed = f"{ln.printed_pct:g}%" if ln.printed_raw else "without percentage"
        out.add(f"icass.{table.name}.{ln.key}", cohort=ic.COHORT, subgroup=ic.GROUP,
                outcome=ln.key.split(".")[-1] if ln.key.startswith("bl.") else ln.key,
                analysis=f"{table.name} rebuilt: percentage recomputed from count/total",
                level="derived", measure="proportion", estimate=ln.count / ln.total, events=ln.count, total=ln.total,
                method=f"printed {printed}; {check_text(ln)}", sources=ic.SERIES)


def record_rates(out: Results, prefix: str, rates: ic.SeriesRates, p, analysis: str) -> None:
    for r in rates:
        out.add(f"icass.{prefix}.{r.key}", cohort=ic.COHORT, subgroup=ic.GROUP, outcome=r.outcome,
                analysis=analysis, measure="proportion", estimate=r.estimate, ci_low=r.ci_low,
                ci_high=r.ci_high, events=r.events, total=r.total, method=_ci_text(p),
                sources=ic.SERIES)


def _comparator_id(cp: ic.ComparatorPool, r) -> str:
    dup = (cp.used["source_id"] == r["source_id"]).sum() > 1
    return f"icass.comparators.{cp.family}." + (r["row_id"] if dup else r["source_id"])


def record_comparators(out: Results, cp: ic.ComparatorPool, p, label: Callable[[str], str],
                       loo: bool = True) -> None:
    method = _ci_text(p)
    for _, r in cp.used.iterrows():
        out.add(_comparator_id(cp, r), cohort=ic.COHORT, subgroup=r["group"], outcome=r["outcome"],
                analysis="comparator series, proportion with CI", measure="proportion",
                estimate=r["events_used"] / r["total"], ci_low=r["ci_low"], ci_high=r["ci_high"],
                events=int(r["events_used"]), total=int(r["total"]),
                method=method + (" (count rounded from a percentage)" if r["approx"] else ""),
                sources=r["source_id"])
    for _, r in cp.reported.iterrows():
        out.add(f"icass.comparators.{cp.family}.{r['source_id']}", cohort=ic.COHORT,
                subgroup=r["group"], outcome=r["outcome"],
                analysis="meta-analysis pooled estimate, as reported (not re-pooled)",
                measure="proportion", estimate=r["reported_percent"] / 100,
                ci_low=r["reported_ci_low"] / 100, ci_high=r["reported_ci_high"] / 100,
                total=r["total"], method="as reported by the source", sources=r["source_id"])
    pid, outcome = f"icass.comparators.{cp.family}.pooled", "/".join(cp.outcomes)
    if cp.k == 0:
        out.add(pid, cohort=ic.COHORT, outcome=outcome, analysis="comparator series pooled",
                estimate=math.nan, k_studies=0,
                method="not available: no comparator series with a usable count for "
                       + " or ".join(vocab.outcome_label(o) for o in cp.outcomes))
    elif cp.k == 1:
        r = cp.used.iloc[0]
        out.add(pid, cohort=ic.COHORT, outcome=outcome,
                analysis="comparator series pooled: one series only, nothing pooled",
                measure="proportion", estimate=r["events_used"] / r["total"], ci_low=r["ci_low"],
                ci_high=r["ci_high"], events=int(r["events_used"]), total=int(r["total"]),
                k_studies=1, method=f"single series, {method}", sources=r["source_id"])
    else:
        out.add_pooled(pid, cp.result, cohort=ic.COHORT, outcome=outcome,
                       analysis="comparator series pooled (ICASS-M1 series not included)",
                       sources=list(cp.used["source_id"]))
    if loo and cp.loo is not None:
        for _, r in cp.loo.iterrows():
            out.add(f"icass.comparators.{cp.family}.loo.{r['source_id']}", cohort=ic.COHORT,
                    outcome=outcome,
                    analysis=f"leave-one-out: pooled comparator rate without {label(r['source_id'])}",
                    level="sensitivity", measure="proportion", estimate=r["estimate"], ci_low=r["ci_low"],
                    ci_high=r["ci_high"], pi_low=r["pi_low"], pi_high=r["pi_high"],
                    k_studies=int(r["k"]), tau2=r["tau2"], i2=r["i2"], method=cp.result.method_text,
                    sources=";".join(s for s in cp.used["source_id"] if s != r["source_id"]))


def icass_rows(b, out: Results, label) -> None:
    p = b.params
    record_table(out, b["icass.table1"])
    record_table(out, b["icass.table2"])
    record_rates(out, "series", b["icass.series"], p, "single series, proportion with CI")
    record_rates(out, "strategy", b["icass.strategies"], p, "single series, proportion with CI")
    # the chapter shows the leave-one-out refits of the reperfusion pool only
    record_comparators(out, b["icass.comparators.reperfusion"], p, label, loo=True)
    record_comparators(out, b["icass.comparators.favourable"], p, label, loo=False)


# --------------------------------------------------------------------------- side by side

def compare_rows(b, out: Results) -> None:
    for r in b["compare.side"].rows:
        method = {"single": f"{b.params['ci_method']} interval",
                  "reported": "pooled estimate reported by the meta-analysis"}.get(
            r.how, r.result.method_text if r.result is not None else "")
        pi_low, pi_high = r.pi
        what = KIND_TEXT[r.kind] + ((" (pooled)" if r.k > 1 else " (one series)")
                                    if r.kind == KINDS[4] else "")
        out.add(r.key, cohort=r.cohort, outcome="; ".join(r.outcomes), analysis=what, measure="proportion",
                estimate=r.estimate, ci_low=r.ci_low, ci_high=r.ci_high, pi_low=pi_low,
                pi_high=pi_high, events=r.events, total=r.patients, k_studies=r.k, method=method,
                sources=";".join(r.sources))


# --------------------------------------------------------------------------- sensitivity

def sensitivity_rows(b, out: Results) -> None:
    s, p = b["sensitivity"], b.params
    for v in s.variants:
        for key, kind in ESTIMATES:
            e = s.estimates[(v.key, key)]
            out.add(f"sensitivity.{key}.{v.key}", cohort="DMVO" if key.startswith("dmvo") else "ICASS-M1",
                    outcome=key.split("-", 1)[1],
                    analysis="this run" if not v.param else f"{v.param} = {v.value}",
                    level="sensitivity",
                    measure=p["two_arm_measure"] if kind == "rct" else "proportion",
                    estimate=e.estimate, ci_low=e.ci_low, ci_high=e.ci_high, k_studies=e.k,
                    method="sensitivity analysis: one choice changed")


# --------------------------------------------------------------------------- multiverse

def multiverse_rows(b, out: Results) -> None:
    """multiverse.<estimate>.n_specs, .min, .median, .max (over the specifications on the
    report's scale: for the trials those with the run's effect measure) and
    .share_excluding_null (over all; empty for a rate, which has no null value)."""
    for key, em in b["multiverse"].estimates.items():
        common = dict(cohort="DMVO" if key.startswith("dmvo") else "ICASS-M1",
                      outcome=key.split("-", 1)[1], level="sensitivity")
        pid, n_run = f"multiverse.{key}", len(em.summary_specs)
        choices = ", ".join(em.choices) or "none"
        out.add(f"{pid}.n_specs", analysis="multiverse: number of specifications", measure="count",
                estimate=em.n_specs, method=f"every combination of the choices that act on it: {choices}",
                **common)
        scale = em.run_measure
        over = (f"over the {n_run} specifications with the run's measure {scale}" if em.kind == "rct"
                else f"over the {n_run} specifications")
        for stat in ("min", "median", "max"):
            out.add(f"{pid}.{stat}", analysis=f"multiverse: {stat} of the estimates", measure=scale,
                    estimate=getattr(em, stat), method=over, **common)
        out.add(f"{pid}.share_excluding_null", measure="proportion",
                analysis="multiverse: share of specifications whose CI excludes no effect",
                estimate=em.share_excluding_null,
                method=("over all specifications (every effect measure); null 1 for RR/OR, 0 for RD"
                        if em.kind == "rct" else "not applicable: a rate has no null value"), **common)


def methods_rows(b, out: Results) -> None:
    sensitivity_rows(b, out)
    multiverse_rows(b, out)


# --------------------------------------------------------------------------- summary of findings

def sof_rows(b, out: Results) -> None:
    """sof.dmvo.<o>.risk_control / .risk_evt (proportions), .absolute (per 1000), .certainty (1-4)."""
    for fam, r in b["sof.dmvo"].rows.items():
        if r is None:
            continue
        a, pid = r.absolute, f"sof.dmvo.{fam}"
        common = dict(cohort="DMVO", outcome=";".join(sorted(set(r.comparison.pooled["outcome"]))),
                      k_studies=r.k, total=r.participants, sources=";".join(r.comparison.pooled["source_id"]))
        out.add(f"{pid}.risk_control", analysis="assumed risk with medical treatment (pooled control arms)",
                measure="proportion", estimate=r.risk_control, ci_low=r.control_pool.ci_low,
                ci_high=r.control_pool.ci_high, method=r.control_pool.method_text, **common)
        out.add(f"{pid}.risk_evt", analysis="corresponding risk with EVT (assumed risk and pooled relative effect)",
                measure="proportion", estimate=a.risk_evt, ci_low=a.risk_evt_low, ci_high=a.risk_evt_high,
                method=f"GRADE corresponding risk from the pooled {r.comparison.measure}", **common)
        d, lo, hi = a.difference_per1000
        out.add(f"{pid}.absolute", analysis="difference EVT - medical, events per 1000", measure="per 1000",
                estimate=d, ci_low=lo, ci_high=hi, method="GRADE absolute effect from the relative effect's CI",
                **common)
        out.add(f"{pid}.certainty", analysis="GRADE certainty of the evidence (1 = very low ... 4 = high)",
                measure="rating", estimate=r.certainty.rating,
                method=f"{r.certainty.label} ({', '.join(f'{k} -{v}' for k, v in r.certainty.downgrades.items() if v) or 'not rated down'})",
                **common)


SECTIONS: dict[str, Callable[..., Any]] = {"dmvo": dmvo_rows, "compare": compare_rows,
                                           "methods": methods_rows, "summary": sof_rows}


def section_rows(b, section: str, label=None) -> Results:
    out = Results(section)
    if section == "icass":
        icass_rows(b, out, label)
    elif section in SECTIONS:
        SECTIONS[section](b, out)
    return out
