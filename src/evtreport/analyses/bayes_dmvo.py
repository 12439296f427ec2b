"""Bayesian random-effects pooling of the DMVO trials (evtreport.bayes): for each trial outcome
and each half-normal prior scale of τ, the posterior median and credible interval of the
pooled effect and the posterior probabilities of benefit and harm (the outcome's direction
comes from the vocabulary). Priors: μ uniform; τ half-normal with scale 0.5 and 1.0 on the log
RR / log OR scale, and the equivalent scale p(1 - p)·s on the risk-difference scale, with p the
pooled control-arm risk (bayes.rd_tau_scale gives the reasoning)."""

from __future__ import annotations

from dataclasses import dataclass

from .. import bayes, vocab
from .dmvo import RCT_FAMILIES, TrialComparison

SCALES = (("05", 0.5), ("10", 1.0))


@dataclass(frozen=True)
class BayesOutcome:
    family: str
    comparison: TrialComparison
    scale_key: str
    prior_scale: float          # on the analysis scale (log ratio or RD)
    result: bayes.BayesResult
    probabilities: bayes.BenefitHarm
    control_risk: float


def _control_risk(tc: TrialComparison) -> float:
    p = tc.pooled
    return float(p["events_c"].sum() / p["total_c"].sum())


def bayes_outcome(tc: TrialComparison, key: str, scale: float) -> BayesOutcome | None:
    if tc.result is None:
        return None
    pc = _control_risk(tc)
    s = bayes.rd_tau_scale(scale, pc) if tc.measure == "RD" else scale
    res = bayes.bayes_pool(tc.result, tau_scale=s)
    probs = bayes.benefit_harm(res, direction=vocab.direction(tc.family), measure=tc.measure,
                               control_risk=pc)
    return BayesOutcome(tc.family, tc, key, s, res, probs, pc)


@dataclass(frozen=True)
class BayesDmvo:
    rows: dict[tuple[str, str], BayesOutcome | None]   # (family, scale key) -> result


def bayes_dmvo(b) -> BayesDmvo:
    return BayesDmvo({(f, k): bayes_outcome(b[f"dmvo.rct.{f}"], k, s)
                      for f in RCT_FAMILIES for k, s in SCALES})
