"""Summary of findings (GRADE) for the DMVO randomized evidence: per outcome, the assumed
risk with medical treatment (the pooled control-arm risk), the corresponding risk with EVT and
the difference per 1000 from the pooled relative effect, NNT/NNH, and the certainty of the
evidence with the reason for each domain (:mod:`evtreport.grade`).

Rules applied here (judgements that are not mechanical come from data/ with their quotes):
risk of bias rates down one level when trials carrying most of the weight have some concerns
or are at high risk (RoB 2 overall, the curators' judgements in data/risk_of_bias.csv); indirectness is not rated down when the trials enrolled the population in
question (data/trials.csv, population rows quoted); inconsistency, imprecision and
publication bias follow grade.py's rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import grade, meta, vocab
from . import common as cm
from .dmvo import RCT_FAMILIES, TrialComparison


@dataclass(frozen=True)
class SofRow:
    family: str
    comparison: TrialComparison
    risk_control: float
    control_pool: meta.PoolResult
    absolute: grade.AbsoluteEffect
    nnt: grade.NNT
    mid: grade.MID
    certainty: grade.Certainty
    direction: str

    @property
    def participants(self) -> int:
        return self.comparison.result.n_total

    @property
    def k(self) -> int:
        return self.comparison.result.k


def control_risk(tc: TrialComparison, params) -> meta.PoolResult:
    """The pooled medical-arm risk of the pooled trials (the run's model and scale)."""
    p = tc.pooled
    res = meta.pool_proportions(p["events_c"].astype(int).to_numpy(), p["total_c"].astype(int).to_numpy(),
                                labels=list(p["source_id"]), transform=params["transform"],
                                **cm.pool_options(params))
    return cm.clip_rates(res)


def _rob_rows(ds, tc: TrialComparison):
    rob = ds.risk_of_bias
    rob = rob[(rob["tool"] == "RoB 2") & rob["study"].isin(tc.pooled["source_id"])
              & rob["outcome"].isin(list(tc.outcomes) + ["all"])]
    return rob


def risk_of_bias(ds, tc: TrialComparison) -> grade.Judgement:
    rob = _rob_rows(ds, tc)
    overall = rob[rob["domain"] == "overall"]
    weights = dict(zip(tc.pooled["source_id"], tc.pooled["weight"].fillna(100.0)))
    if overall.empty:
        return grade.Judgement("risk_of_bias", 0, "not_assessable", {"k": tc.k})
    not_low = overall.loc[overall["judgement"] != "low", "study"]
    down = 1 if sum(weights.get(s, 0) for s in not_low) > 50 else 0
    reason = ("RoB 2 overall (the curators' judgement): "
              + "; ".join(f"{ds.source(s)['label']}: {j}" for s, j in zip(overall["study"], overall["judgement"]))
              + ". "
              + ("Trials with some concerns or at high risk carry most of the weight: rated down one "
                 "level." if down else "Trials at low risk carry most of the weight: not rated down."))
    worst = rob[(rob["judgement"] != "low") & (rob["domain"] != "overall")]
    cited = worst if len(worst) else rob
    sources = list(dict.fromkeys((q, loc) for q, loc in zip(cited["quote"], cited["location"]) if q))[:3]
    return grade.judged("risk_of_bias", down, reason, sources)


def indirectness(ds, tc: TrialComparison) -> grade.Judgement:
    t = ds.trials
    t = t[t["trial"].isin(tc.pooled["source_id"]) & (t["characteristic"] == "population_vessels")]
    sources = [(q, loc) for q, loc in zip(t["quote"], t["location"]) if q]
    if not sources:
        return grade.Judgement("indirectness", 0, "not_assessable", {"k": tc.k})
    return grade.judged("indirectness", 0,
                        "The trials enrolled patients with distal medium vessel occlusion and compared "
                        "EVT with best medical treatment, the question of this report: not rated down.",
                        sources)


def sof_row(ds, params: dict[str, Any], tc: TrialComparison) -> SofRow | None:
    if tc.result is None:
        return None
    ctl = control_risk(tc, params)
    absolute = grade.absolute_from_pool(tc.result, risk_control=ctl.estimate)
    mid = grade.mid_from_rr(ctl.estimate)
    judgements = [risk_of_bias(ds, tc), grade.inconsistency_from_pool(tc.result), indirectness(ds, tc),
                  grade.imprecision(absolute, mid=mid, participants=tc.result.n_total),
                  grade.publication_bias(tc.result.k)]
    return SofRow(tc.family, tc, ctl.estimate, ctl, absolute,
                  grade.nnt(absolute, desirable=not vocab.harmful(tc.family)), mid,
                  grade.rate_certainty("randomized", judgements), grade.effect_direction(absolute, mid))


@dataclass(frozen=True)
class SummaryOfFindings:
    rows: dict[str, SofRow | None]     # family -> row (None: no trial with usable counts)


def summary_of_findings(b) -> SummaryOfFindings:
    return SummaryOfFindings({f: sof_row(b.ds, b.params, b[f"dmvo.rct.{f}"]) for f in RCT_FAMILIES})
