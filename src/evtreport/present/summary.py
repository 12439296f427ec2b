"""Evidence at a glance: the main estimates of every chapter and the key findings, read from
the bundle by key (never by the wording of a label)."""

from __future__ import annotations

import pandas as pd

from .. import audit as audit_mod
from .. import display as fmt
from .. import vocab
from ..analyses.compare import KINDS
from markupsafe import Markup

from .. import claims as claims_mod
from . import common as pc
from . import findings

DESIGN = {KINDS[1]: "meta-analysis of observational studies", KINDS[2]: "meta-analysis of observational studies",
          KINDS[3]: "single-centre retrospective series", KINDS[4]: "registry / cohort series"}


def summary_table(b) -> pd.DataFrame:
    """One row per cohort, outcome and body of evidence, with its estimate."""
    m = b.params["two_arm_measure"]
    rows = []
    for fam in ("favourable", "mortality", "sich"):
        tc = b[f"dmvo.rct.{fam}"]
        if tc.result is None:
            continue
        res = tc.result
        rows.append({"Cohort": "DMVO", "Outcome": pc.title(b, fam),
                     "Evidence": f"randomized trials, EVT vs medical treatment ({vocab.measure_label(m)})",
                     "Estimate [CI]": fmt.effect(res.estimate, res.ci_low, res.ci_high, m)
                     + (f" {pc.SECONDARY_MARK}" if tc.secondary_ids else ""),
                     "Studies": res.k, "Patients": res.n_total, "Design": "RCT" + ("s" if res.k > 1 else "")})
    k_meta = b["dmvo.obs.meta"].k_studies
    for r in b["compare.side"].rows:
        if r.kind == KINDS[0]:
            continue  # the trials are summarised by their between-arm effects above
        rows.append({"Cohort": r.cohort, "Outcome": pc.outcome_label(r) or pc.family_title(b, r.family),
                     "Evidence": pc.EVIDENCE[r.kind], "Estimate [CI]": fmt.pct_ci(r.estimate, r.ci_low, r.ci_high),
                     "Studies": (f"{k_meta} (as reported)" if k_meta else "as reported") if r.how == "reported"
                     else int(r.k),
                     "Patients": "–" if pd.isna(r.patients) else int(r.patients), "Design": DESIGN[r.kind]})
    return pd.DataFrame(rows).sort_values("Cohort", kind="stable", ignore_index=True)


def findings_context(b) -> dict:
    ds = b.ds
    side = b["compare.side"]
    obs = [{"what": vocab.family_label(f).lower() if f != "favourable" else "mRS 0–2",
            "value": fmt.pct(r.estimate, 0), "group": pc.ROW_LABEL[r.kind].split(", ")[1]}
           for f in ("reperfusion", "favourable") for r in side.rows
           if r.family == f and r.how == "reported"]
    series = b["icass.series"]
    comp = b["icass.comparators.reperfusion"]
    est = comp.estimate
    audit = audit_mod.audit_dataset(ds)
    return {
        "rct": findings.rct_context(b), "level": vocab.level_text(b.params["confidence_level"]),
        "obs": obs, "k_meta": b["dmvo.obs.meta"].k_studies,
        "series": {"n": series.n, "rep": pc.rate_text(series["reperfusion"]),
                   "fav": pc.rate_text(series["favourable"]), "cut": b.params["favourable_mrs_max"],
                   "width": 100 * (series["favourable"].ci_high - series["favourable"].ci_low)},
        "comp": None if est is None else {
            "k": comp.k, "n": int(comp.used["total"].sum()), "value": fmt.pct_ci(*est),
            "verdict": pc.comparison_verdict(series["reperfusion"], est)},
        "claims": Markup(claims_mod.summary_finding(ds, b.params)) if not ds.claims.empty else "",
        "audit": {"n": len(audit), **audit_mod.summarize(audit)},
    }


def intro_context(b) -> dict:
    sizes = b["dmvo.trials"]
    years = sorted({str(y) for s, y in sizes.years.items() if y and s in sizes.included})
    intro = findings.comparators_intro_context(b)
    return {"n_trials": len(sizes.included), "years": years, "n_series": b["icass.series"].n,
            "n_comparators": len(intro["series"])}
