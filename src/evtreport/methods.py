"""Text and tables of the Methods chapter, written from the parameters actually used."""

from __future__ import annotations

import html

import pandas as pd

from .display import code_id
from .evidence import outcome_label

CI_TEXT = {
    "wilson": "Wilson score interval",
    "clopper-pearson": "Clopper-Pearson exact interval",
    "jeffreys": "Jeffreys interval (equal-tailed, Beta(½, ½) prior)",
    "agresti-coull": "Agresti-Coull interval",
    "wald": "Wald (normal approximation) interval",
}
TRANSFORM_TEXT = {
    "logit": "the logit scale, with 0.5 added to every cell of a study with 0 or all events "
             "(as R's metafor does by default)",
    "ft": "the Freeman-Tukey double-arcsine scale, back-transformed with the harmonic mean of "
          "the sample sizes (metafor's transf.ipft.hm)",
    "raw": "the untransformed proportion scale",
}
MEASURE_TEXT = {"RR": "risk ratios (pooled on the log scale)", "OR": "odds ratios (pooled on the "
                "log scale)", "RD": "risk differences"}
TAU2_TEXT = {"REML": "restricted maximum likelihood (REML)", "DL": "the DerSimonian-Laird "
             "method", "PM": "the Paule-Mandel method"}


def statistical_methods(params: dict) -> str:
    """Markdown paragraphs describing the analysis exactly as parameterised."""
    level = f"{100 * params['confidence_level']:g}%"
    if params["model"] == "random":
        model = (f"random-effects models, with the between-study variance τ² estimated by "
                 f"{TAU2_TEXT[params['tau2_method']]}")
        pi = (" For random-effects estimates of two or more studies a prediction interval gives "
              "the range in which the true rate of a new, similar study is expected to lie.")
    else:
        model = "a common-effect (fixed-effect) inverse-variance model"
        pi = ""
    ci = ("Hartung-Knapp-Sidik-Jonkman intervals (t distribution with k − 1 degrees of freedom); "
          "with two studies these are very wide" if params["hksj"]
          else "Wald intervals (normal distribution)")
    fav = "0–1" if params["favourable_mrs_max"] == 1 else "0–2"
    counts = []
    counts.append("counts derived from a printed percentage and denominator are used"
                  if params["use_derived"] else "counts derived from percentages are not used")
    counts.append("rows printed only as a percentage of a known denominator are converted to the "
                  "nearest whole count (shown with ≈) and used" if params["use_percent_only"]
                  else "rows printed only as a percentage are shown but not pooled")
    excluded = (", ".join(params["exclude_studies"]) if params["exclude_studies"] else "none")
    return "\n\n".join([
        f"**Outcomes.** A favourable functional outcome is a modified Rankin Scale score of {fav} "
        f"at 90 days (3 months). Other outcomes keep their sources' own definitions "
        f"(@tbl:definitions); where sources define an outcome differently the report says so "
        f"next to the estimate.",
        f"**Single proportions** are given with the {CI_TEXT[params['ci_method']]} at the "
        f"{level} level.",
        f"**Pooled proportions** of single-arm series are inverse-variance weighted averages on "
        f"{TRANSFORM_TEXT[params['transform']]}, using {model}, with {ci}.{pi} Heterogeneity is "
        f"reported as Cochran's Q with its p-value, I² (computed from τ² as metafor does; the "
        f"Q-based value is in results.csv) and τ².",
        f"**Randomized trials** are compared by {MEASURE_TEXT[params['two_arm_measure']]} of "
        f"EVT versus medical treatment, computed from the arm counts (intention to treat, "
        f"unadjusted) and pooled in the same way; the trials' own, mostly adjusted, estimates are "
        f"shown next to them and are not re-pooled. Pooled estimates of published "
        f"meta-analyses are shown as reported and never re-pooled or turned into counts.",
        f"**Data use.** {counts[0].capitalize()}; {counts[1]}. Studies excluded: {excluded}.",
        "**Software.** All statistics are computed by the project's package `evtreport` "
        "(NumPy, SciPy, statsmodels for single-proportion intervals); its meta-analysis code is "
        "tested against R's metafor on reference datasets to a relative tolerance of 10⁻⁶.",
    ])


def outcome_definitions(ds) -> pd.DataFrame:
    """Each outcome with the definitions its sources use."""
    df = pd.concat([ds.outcomes[["outcome", "definition", "source_id"]],
                    ds.effects[["outcome", "definition", "source_id"]]])
    rows = []
    for outcome, grp in df.groupby("outcome", sort=True):
        defs = sorted({d for d in grp["definition"] if d})
        rows.append({"Outcome": outcome_label(outcome),
                     "Definitions used by the sources": "; ".join(defs) or "not stated",
                     "Sources": grp["source_id"].nunique()})
    return pd.DataFrame(rows)


def references(ds) -> pd.DataFrame:
    """The reference list: every source in data/sources.csv in Vancouver style (formatted by
    citeproc-py, see evtreport.references), by first author, linked to its DOI or PubMed
    record where known."""
    from .references import reference_list

    by_id = ds.sources.set_index("source_id")
    return pd.DataFrame([{
        "Source id": code_id(sid),
        "Reference": ref,
        "Design": html.escape(by_id.at[sid, "design"]),
        "Cohort": html.escape(by_id.at[sid, "cohort"]),
    } for sid, ref in reference_list(ds.sources)])
