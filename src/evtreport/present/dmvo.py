"""DMVO chapter: tables and figures from the bundle's DMVO results (evtreport.analyses.dmvo).

Rows whose numbers come from a secondary report (news page or trial summary) carry
``SECONDARY_MARK`` wherever they appear; preprints ``PREPRINT_MARK``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import display as fmt
from .. import plots, vocab
from ..analyses import common as cm
from ..analyses import dmvo as dm

from .common import (PREPRINT_MARK, SECONDARY_MARK, clean_notes, heterogeneity_text,  # noqa: F401
                     marked, outcome_text, overall_effect_text, pooled_row, reported_ci, short,
                     title, where, _p_text)
from .findings import interval_words, obs_context, rct_context  # noqa: F401  (the chapter's conclusion)




# --------------------------------------------------------------------------- trial tables

def _count(events, total, approx, pct) -> str:
    if pd.notna(events) and pd.notna(total):
        return ("≈" if approx else "") + fmt.count(events, total)
    if pd.notna(pct):
        return f"{float(pct):.1f}% (no count)"
    return "–"


def _arm_cell(t, sfx: str, params) -> str:
    """'≈42/271: 15.5% [11.7–20.3]' or '34.7% as printed' or '–'."""
    e, n, a, p = t[f"events_{sfx}"], t[f"total_{sfx}"], t[f"approx_{sfx}"], t[f"pct_{sfx}"]
    if pd.notna(e) and pd.notna(n):
        lo, hi = cm.proportion_ci(int(e), int(n), params)
        return f"{_count(e, n, a, p)}: {fmt.pct_ci(int(e) / int(n), lo, hi)}"
    if pd.notna(p):
        return f"{float(p):.1f}% as printed"
    return "–"


def arm_table(b) -> pd.DataFrame:
    """Every trial × outcome: arm counts, rates with CIs, crude effect, whether pooled."""
    m = b.params["two_arm_measure"]
    out = []
    for fam in dm.RCT_FAMILIES:
        tc = b[f"dmvo.rct.{fam}"]
        for _, t in tc.trials.iterrows():
            out.append({"Outcome": title(b, fam), "Trial": marked(b, t["source_id"], t["secondary"]),
                        "EVT arm": _arm_cell(t, "t", b.params),
                        "Medical arm": _arm_cell(t, "c", b.params),
                        f"{vocab.measure_label(m).capitalize()} [CI]":
                            fmt.effect(t["estimate"], t["ci_low"], t["ci_high"], m),
                        "Pooled": "yes" if t["status"] == "pooled" else f"no ({t['status']})"})
    return pd.DataFrame(out)


def left_out_table(b) -> pd.DataFrame:
    out = [{"Outcome": title(b, fam), "Trial": b.label(t["source_id"]), "Why not pooled": t["reason"]}
           for fam in dm.RCT_FAMILIES
           for _, t in b[f"dmvo.rct.{fam}"].trials.iterrows() if t["status"] != "pooled"]
    return pd.DataFrame(out or [{"Outcome": "(all)", "Trial": "(none)",
                                 "Why not pooled": "every trial's counts were used for every outcome"}])


def reperfusion_table(b) -> pd.DataFrame:
    rows = []
    for _, r in b["dmvo.rct.reperfusion"].rows.iterrows():
        if r["status"] == "rate":
            rate = f"{fmt.count(r['events'], r['total'])}, {fmt.pct_ci(r['estimate'], r['ci_low'], r['ci_high'])}"
        elif r["status"] == "percent only":
            rate = f"{r['percent']:g}% as printed" + ("" if pd.notna(r["total"]) else
                                                      "; denominator not printed, no CI")
        else:
            rate = {"excluded": "excluded by the parameter exclude_studies",
                    "not reported": "not found in the sources read"}[r["status"]]
        rows.append({"Trial": marked(b, r["source_id"], r["secondary"]),
                     "Definition": r["definition"] or "–", "Rate": rate,
                     "Where read": where([(r["location"], r["secondary"])]) if r["location"] else "–"})
    return pd.DataFrame(rows)


def _population(r) -> str:
    sg = str(r.get("subgroup") or "")
    return "" if sg in ("", "all") or sg.lower().startswith("pooled rcts") else f"; subgroup: {sg}"


def _reported_row(b, r, family_title) -> dict:
    who = b.label(r["source_id"])
    if r["preprint"]:
        who = f"{PREPRINT_MARK} Preprint: {who}"
    return {"Outcome": family_title, "Estimate from": who,
            "Outcome as defined": outcome_text(r["outcome"]) + _population(r),
            "Measure": r["measure"] + (" (adjusted)" if r["adjusted"] == "yes"
                                       and "adjusted" not in r["measure"] else ""),
            "Estimate [CI]": reported_ci(r), "p": _p_text(r["p_value"]),
            "Where read": where([(r["location"], r["secondary"])])}


def reported_table(b) -> pd.DataFrame:
    """Per outcome: this report's pooled crude effect, then the trials' own reported effects,
    then preprint pooled analyses of the same trials (flagged)."""
    m = b.params["two_arm_measure"]
    eff = pd.concat([b["dmvo.reported.trials"].rows, b["dmvo.reported.preprints"].rows],
                    ignore_index=True)
    short_title = {"favourable": "Functional outcome", "mortality": "Death", "sich": "sICH"}
    out = []
    for fam in dm.RCT_FAMILIES:
        tc = b[f"dmvo.rct.{fam}"]
        if tc.result is not None:
            res = tc.result
            what = (f"pooled crude {vocab.measure_label(m)}, {res.k} trials" if res.k > 1
                    else f"crude {vocab.measure_label(m)}, 1 trial (nothing pooled)")
            out.append({"Outcome": short_title[fam], "Estimate from": "This report",
                        "Outcome as defined": outcome_text(";".join(sorted(set(tc.pooled["outcome"])))),
                        "Measure": what, "Estimate [CI]": fmt.effect(res.estimate, res.ci_low, res.ci_high, m),
                        "p": "–", "Where read": f"computed here ({cm.favourable(b.params)} cut-off)"
                        if fam == "favourable" else "computed here"})
        sub = eff[eff["family"] == fam].sort_values(["preprint", "secondary", "source_id"], kind="stable")
        out.extend(_reported_row(b, r, short_title[fam]) for _, r in sub.iterrows())
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- forest plots

def forest_rows(b, tc: dm.TrialComparison) -> pd.DataFrame:
    """Adapter: a TrialComparison as the rows of plots.forest_plot (two-arm)."""
    t = tc.trials
    return pd.DataFrame({
        "label": [marked(b, r["source_id"], r["secondary"])
                  + ("" if r["status"] == "pooled" else f" – {r['status']}") for _, r in t.iterrows()],
        "n_text_t": [_count(r["events_t"], r["total_t"], r["approx_t"], r["pct_t"]) for _, r in t.iterrows()],
        "n_text_c": [_count(r["events_c"], r["total_c"], r["approx_c"], r["pct_c"]) for _, r in t.iterrows()],
        "estimate": t["estimate"].to_numpy(float), "ci_low": t["ci_low"].to_numpy(float),
        "ci_high": t["ci_high"].to_numpy(float), "weight": t["weight"].to_numpy(float)})


def total_counts(tc: dm.TrialComparison) -> tuple[str, str]:
    """RevMan's total row: the pooled trials' events/patients summed per arm (≈ when a count
    was derived from a printed percentage)."""
    p = tc.pooled
    out = []
    for sfx in ("t", "c"):
        approx = "≈" if p[f"approx_{sfx}"].astype(bool).any() else ""
        out.append(f"{approx}{int(p[f'events_{sfx}'].sum())}/{int(p[f'total_{sfx}'].sum())}")
    return tuple(out)


def rct_forest(b, family: str):
    """Forest plot of one outcome: each trial's crude effect, the pooled diamond (k ≥ 2)."""
    tc, lvl = b[f"dmvo.rct.{family}"], vocab.level_text(b.params["confidence_level"])
    m = tc.measure
    pooled = het = None
    if tc.result is not None and tc.result.k > 1:
        pooled = pooled_row(tc.result) | {"counts": total_counts(tc)}
        het = [h for h in (heterogeneity_text(tc.result), overall_effect_text(tc.result)) if h]
    elif tc.result is not None:
        het = ["Only one trial with usable counts: nothing was pooled."]
    fav = ("Favours EVT", "Favours medical") if tc.harmful else ("Favours medical", "Favours EVT")
    xlabel = {"RR": "Risk ratio, EVT vs medical (log scale)", "OR": "Odds ratio, EVT vs medical (log scale)",
              "RD": "Risk difference, EVT − medical (percentage points)"}[m]
    return plots.forest_plot(forest_rows(b, tc), pooled, scale="difference" if m == "RD" else "ratio",
                             xlabel=xlabel, heterogeneity=het, labels_arms=("EVT", "Medical"),
                             favours=fav, title=title(b, family),
                             est_label=("Difference, pp" if m == "RD" else vocab.measure_label(m).capitalize())
                             + f" [{lvl} CI]")


# --------------------------------------------------------------------------- other evidence

def hermes_table(b) -> pd.DataFrame | None:
    h = b["dmvo.hermes"]
    if not h.available:
        return None
    out = []
    for _, r in h.outcomes.iterrows():
        pct = "–" if pd.isna(r["reported_percent"]) else f"{float(r['reported_percent']):g}%"
        out.append({"What": f"{vocab.outcome_label(r['outcome'])}, {r['arm']} arm",
                    "Result": (f"{fmt.count(r['events'], r['total'])} " if pd.notna(r["events"]) else "")
                    + pct + ("" if pd.notna(r["total"]) else " (arm size not printed)"),
                    "Definition": r["definition"], "Where read": where([(r["location"], cm.is_secondary(r))])})
    for _, r in h.effects.rows.iterrows():
        out.append({"What": f"{vocab.outcome_label(r['outcome'])}: {r['measure']} EVT vs control",
                    "Result": reported_ci(r) + (f", p = {r['p_value']}" if pd.notna(r["p_value"]) else ""),
                    "Definition": r["definition"], "Where read": where([(r["location"], r["secondary"])])})
    for _, r in h.baseline.iterrows():
        out.append({"What": r["variable"], "Result": f"{int(r['count'])} patients", "Definition": "–",
                    "Where read": where([(r["location"], False)])})
    return pd.DataFrame(out) if out else None


def meta_table(b) -> pd.DataFrame:
    rates = b["dmvo.obs.meta"].rows
    return pd.DataFrame({
        "Source": [b.label(s) for s in rates["source_id"]], "Subgroup": rates["subgroup"],
        "Outcome": [vocab.outcome_label(o) for o in rates["outcome"]], "Definition": rates["definition"],
        "Patients": [f"{int(n)}" if pd.notna(n) else "–" for n in rates["total"]],
        "Pooled rate [95% CI] as reported": [fmt.pct_ci(e, lo, hi, digits=0) for e, lo, hi in
                                             zip(rates["estimate"], rates["ci_low"], rates["ci_high"])]})


def meta_forest(b):
    """Forest plot of the reported pooled rates, grouped by outcome, no pooled diamond."""
    rates = b["dmvo.obs.meta"].rows
    df = pd.DataFrame({
        "label": [s.replace(" DMVO", "").capitalize() + " DMVO" for s in rates["subgroup"]],
        "n_text": [f"n = {int(n)}" if pd.notna(n) else "–" for n in rates["total"]],
        "estimate": rates["estimate"], "ci_low": rates["ci_low"], "ci_high": rates["ci_high"],
        "group": [vocab.outcome_label(o) for o in rates["outcome"]]})
    return plots.forest_plot(df, None, scale="proportion", group_col="group", show_weights=False,
                             xlabel="Pooled rate among patients treated with EVT",
                             est_label="Rate [95% CI]", xlim=(0, 1))


def registry_table(b) -> pd.DataFrame | None:
    eff = b["dmvo.registry"].rows
    if eff.empty:
        return None
    return pd.DataFrame({
        "Study": [b.label(s) for s in eff["source_id"]], "Population": eff["subgroup"],
        "Comparison": eff["comparison"], "Outcome": [vocab.outcome_label(o) for o in eff["outcome"]],
        "Measure": eff["measure"], "Estimate [95% CI]": [reported_ci(r) for _, r in eff.iterrows()],
        "p": [_p_text(p) for p in eff["p_value"]], "Notes": [clean_notes(n) for n in eff["notes"]]})


def unverified_table(b) -> pd.DataFrame:
    """DMVO sources (other than protocols and guidelines) without any figure in the data."""
    ds = b.ds
    used = set(ds.outcomes["source_id"]) | set(ds.effects["source_id"])
    ids = cm.sources_by_design(ds, dm.COHORT, ["registry", "prospective cohort", "retrospective cohort",
                                               "meta-analysis", "post-hoc pooled analysis", "RCT"])
    out = [{"Source": b.label(s), "Design": ds.source(s)["design"],
            "What was read and what could not be verified": clean_notes(ds.source(s)["notes"])}
           for s in ids if s not in used]
    return pd.DataFrame(out or [{"Source": "(none)", "Design": "–",
                                 "What was read and what could not be verified": "every source has figures in the data"}])


def ongoing_table(b) -> pd.DataFrame:
    """Trials with a published protocol: design facts as recorded from the sources read."""
    ds = b.ds
    out = []
    for s in cm.sources_by_design(ds, dm.COHORT, ["protocol"]):
        src = ds.source(s)
        pub = ", ".join(str(x) for x in (src.get("authors"), src.get("journal"), src.get("year"),
                                         src.get("volume_pages")) if x and not pd.isna(x))
        if src.get("doi"):
            pub += f"; doi {src['doi']}"
        out.append({"Trial": short(b, s), "Protocol": pub,
                    "Design and status (as recorded from the sources read)": clean_notes(src.get("notes")) or "–"})
    return pd.DataFrame(out or [{"Trial": "(none)", "Protocol": "–",
                                 "Design and status (as recorded from the sources read)": "no protocol in the data"}])


KIND = {"RCT": "randomized trial", "meta-analysis": "meta-analysis",
        "post-hoc pooled analysis": "pooled subgroup analysis of randomized trials",
        "registry": "registry (observational)", "retrospective cohort": "single-centre series (observational)",
        "prospective cohort": "cohort (observational)", "protocol": "trial protocol (no results)",
        "guideline": "guideline"}


def evidence_map(b) -> pd.DataFrame:
    """One row per DMVO source: kind of evidence, publication, rows of figures in the data."""
    ds = b.ds
    s = ds.sources[ds.sources["cohort"].isin([dm.COHORT, "both"]) & (ds.sources["design"] != "Q&A summary")]
    order = ["RCT", "post-hoc pooled analysis", "meta-analysis", "registry", "prospective cohort",
             "retrospective cohort", "protocol", "guideline"]
    s = s.assign(_o=s["design"].map({d: i for i, d in enumerate(order)}).fillna(99)).sort_values(
        ["_o", "year", "source_id"])
    out = []
    for _, r in s.iterrows():
        sid = r["source_id"]
        kind = KIND.get(r["design"], r["design"] or "–")
        if cm.is_preprint(ds, sid):
            kind = f"{PREPRINT_MARK} preprint {kind} (cross-check only)"
        year = "" if pd.isna(r["year"]) else int(r["year"])
        out.append({"Source": b.label(sid), "Kind of evidence": kind,
                    "Published in": f"{r['journal'] or '–'} {year}".strip(),
                    "Figures in the data": int((ds.outcomes["source_id"] == sid).sum()
                                               + (ds.effects["source_id"] == sid).sum()),
                    "Used in this run": "no (excluded by exclude_studies)"
                    if sid in b.params["exclude_studies"] else "yes"})
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- text contexts

def trials_intro_context(b) -> dict:
    sizes = b["dmvo.trials"]
    ids = dm.rct_ids(b.ds)
    years = sorted({y for s, y in sizes.years.items() if y and s in sizes.included})
    return {"n_trials": len(sizes.included), "years": [str(y) for y in years],
            "n_randomized": sizes.randomized(sizes.included),
            "trials": [{"label": b.label(s), "evt": sizes.arms.get(s, {}).get("EVT"),
                        "medical": sizes.arms.get(s, {}).get("medical"),
                        "excluded": s in b.params["exclude_studies"]} for s in ids]}


def caveats_context(b) -> dict:
    tcs = [b[f"dmvo.rct.{f}"] for f in dm.RCT_FAMILIES]
    approx = sorted({short(b, t["source_id"]) for tc in tcs for _, t in tc.trials.iterrows()
                     if t["status"] != "excluded" and (t["approx_t"] or t["approx_c"]
                                                       or (pd.notna(t["pct_t"]) and pd.isna(t["events_t"])))})
    secondary = sorted({short(b, t["source_id"]) for tc in tcs for _, t in tc.trials.iterrows()
                        if t["secondary"]})
    return {"k_max": max([tc.k for tc in tcs] + [0]), "approx_trials": approx,
            "secondary_trials": secondary}


def outcome_context(b, family: str) -> dict:
    tc = b[f"dmvo.rct.{family}"]
    m = tc.measure
    return {"res": tc.result, "measure": m, "measure_name": vocab.measure_label(m),
            "level": vocab.level_text(b.params["confidence_level"]),
            "not_pooled": [{"label": b.label(t["source_id"]), "status": t["status"], "reason": t["reason"]}
                           for _, t in tc.trials[tc.trials["status"] != "pooled"].iterrows()],
            "secondary": [b.label(s) for s in tc.secondary_ids],
            "only": b.label(tc.pooled.iloc[0]["source_id"]) if tc.k == 1 else "",
            "pooled": [{"label": b.label(t["source_id"]),
                        "value": fmt.effect(t["estimate"], t["ci_low"], t["ci_high"], m)}
                       for _, t in tc.pooled.iterrows()],
            "words": interval_words(tc.result, family, m) if tc.result is not None else "",
            "het": heterogeneity_text(tc.result) or ""}


def caption_context(b, family: str) -> dict:
    tc = b[f"dmvo.rct.{family}"]
    return {"title": title(b, family), "res": tc.result, "measure": tc.measure,
            "measure_name": vocab.measure_label(tc.measure), "harmful": tc.harmful,
            "level": vocab.level_text(b.params["confidence_level"])}


def hksj_context(b) -> dict:
    from scipy import stats
    k = max(b[f"dmvo.rct.{f}"].k for f in dm.RCT_FAMILIES)
    lvl = b.params["confidence_level"]
    return {"k": k, "model": b.params["model"], "hksj": b.params["hksj"],
            "t": float(stats.t.ppf(1 - (1 - lvl) / 2, max(k - 1, 1))),
            "z": float(stats.norm.ppf(1 - (1 - lvl) / 2)), "level": vocab.level_text(lvl)}


def meta_context(b) -> dict:
    rates = b["dmvo.obs.meta"].rows
    metas = [{"label": b.label(s), "k": int(g["k"].iloc[0])} for s, g in rates.groupby("source_id")
             if pd.notna(g["k"].iloc[0])]
    return {"subgroup": b.params["dmvo_subgroup"], "metas": metas}


def kinds_context(b) -> dict:
    """The kinds of DMVO evidence in the data, with their counts, for the chapter intro."""
    from ..text import plural
    ds = b.ds
    by = ds.sources[ds.sources["cohort"].isin([dm.COHORT, "both"])].groupby("design")["source_id"].apply(list)
    kinds = []
    trials = by.get("RCT", [])
    if trials:
        years = sorted({str(b["dmvo.trials"].years.get(s)) for s in trials if b["dmvo.trials"].years.get(s)})
        kinds.append(f"{plural(len(trials), 'randomized trial')} "
                     + (f"published in {' and '.join(years)} " if years else "")
                     + "that compared endovascular thrombectomy (EVT) with best medical treatment")
    if by.get("post-hoc pooled analysis"):
        kinds.append("an older subgroup of M2 patients from the large-vessel trials ("
                     + ", ".join(short(b, s) for s in by["post-hoc pooled analysis"]) + ")")
    obs = [d for d in ("meta-analysis", "registry", "retrospective cohort", "prospective cohort") if by.get(d)]
    if obs:
        kinds.append("observational evidence (" + ", ".join(
            plural(len([s for s in by[d] if not cm.is_preprint(ds, s)]) or len(by[d]),
                   {"meta-analysis": "meta-analysis", "registry": "registry analysis",
                    "retrospective cohort": "single-centre series", "prospective cohort": "cohort"}[d],
                   {"meta-analysis": "meta-analyses", "registry": "registry analyses",
                    "retrospective cohort": "single-centre series", "prospective cohort": "cohorts"}[d])
            for d in obs) + ")")
    if by.get("protocol"):
        kinds.append(f"{plural(len(by['protocol']), 'trial protocol')} without results yet")
    return {"kinds": kinds}


def hermes_context(b) -> dict | None:
    h = b["dmvo.hermes"]
    if not h.available or h.effects.rows.empty:
        return None
    r = h.effects.rows.iloc[0]
    return {"label": b.label(dm.HERMES), "effect": f"{r['measure']} {reported_ci(r)}",
            "outcome": vocab.outcome_label(r["outcome"]).lower()}


def meta_intro_context(b) -> dict:
    ids = sorted(set(b["dmvo.obs.meta"].rows["source_id"]))
    return {"metas": [b.label(s) for s in ids]}


def registry_context(b) -> dict:
    ids = sorted(set(b["dmvo.registry"].rows["source_id"]))
    return {"studies": [b.label(s) for s in ids]}


# --------------------------------------------------------------------------- Bayesian pooling

PRIOR_LABEL = {"05": "half-normal(0.5)", "10": "half-normal(1.0)"}


def _prob(p: float) -> str:
    return "< 1%" if p < 0.01 else "> 99%" if p > 0.99 else f"{100 * p:.0f}%"


def bayes_table(b) -> pd.DataFrame:
    """Per outcome and prior: posterior median and credible interval, next to the frequentist
    estimate, and the probabilities of benefit and harm."""
    m, lvl = b.params["two_arm_measure"], vocab.level_text(b.params["confidence_level"])
    rows = []
    for (fam, key), r in b["bayes.dmvo"].rows.items():
        if r is None:
            continue
        res, pr, freq = r.result, r.probabilities, r.comparison.result
        rows.append({"Outcome": title(b, fam), "Trials": freq.k, "Prior for τ": PRIOR_LABEL[key]
                     + (f" (RD scale {r.prior_scale:.3f})" if m == "RD" else ""),
                     f"Frequentist [{lvl} CI]": fmt.effect(freq.estimate, freq.ci_low, freq.ci_high, m),
                     f"Bayesian [{lvl} CrI]": fmt.effect(res.estimate, res.ci_low, res.ci_high, m),
                     "P(EVT better)": _prob(pr.p_benefit), "P(EVT worse)": _prob(pr.p_harm),
                     "P(relevant benefit)": _prob(pr.p_relevant_benefit),
                     "P(relevant harm)": _prob(pr.p_relevant_harm)})
    return pd.DataFrame(rows)


def bayes_figure(b):
    m = b.params["two_arm_measure"]
    panels = []
    for fam in dm.RCT_FAMILIES:
        curves = []
        for key in ("05", "10"):
            r = b["bayes.dmvo"].rows[(fam, key)]
            if r is None:
                continue
            x, dens = r.result.density_grid(301, coverage=0.99)
            # the density of the log ratio, drawn on a log axis (equal widths, equal areas)
            curves.append((f"τ ~ {PRIOR_LABEL[key]}", 100 * x if m == "RD" else np.exp(x), dens))
        if curves:
            panels.append((title(b, fam), curves))
    xlabel = {"RR": "risk ratio, EVT vs medical", "OR": "odds ratio, EVT vs medical",
              "RD": "risk difference (percentage points)"}[m]
    return plots.posterior_densities(panels, xlabel=xlabel, log_x=m != "RD", ref=0.0 if m == "RD" else 1.0)


def bayes_context(b) -> dict:
    out = []
    for fam in dm.RCT_FAMILIES:
        r5, r10 = b["bayes.dmvo"].rows[(fam, "05")], b["bayes.dmvo"].rows[(fam, "10")]
        if r5 is None:
            continue
        out.append({"what": family_noun(b, fam), "k": r5.comparison.k, "harmful": vocab.harmful(fam),
                    "better5": _prob(r5.probabilities.p_benefit), "worse5": _prob(r5.probabilities.p_harm),
                    "better10": _prob(r10.probabilities.p_benefit), "worse10": _prob(r10.probabilities.p_harm),
                    "rel_harm5": _prob(r5.probabilities.p_relevant_harm),
                    "rel_benefit5": _prob(r5.probabilities.p_relevant_benefit)})
    return {"outcomes": out, "level": vocab.level_text(b.params["confidence_level"])}


def family_noun(b, fam: str) -> str:
    from ..text import lower_first
    return {"favourable": lower_first(vocab.outcome_label(cm.favourable(b.params))), "mortality": "death",
            "sich": "symptomatic intracranial haemorrhage"}[fam]
