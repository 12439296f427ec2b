"""How the main estimates move when one analysis choice changes.

Each variant changes exactly one parameter of the run (its ``param`` and ``value``); choices
that would not change anything (e.g. DerSimonian-Laird when the run already uses it) are left
out, and τ² estimators are varied only under the random-effects model, where they act.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from . import common as cm
from . import dmvo as dm
from . import icass as ic

#: The main estimates: (key, kind). Keys are results.csv ids' middle part.
ESTIMATES = (("dmvo-favourable", "rct"), ("dmvo-mortality", "rct"), ("dmvo-sich", "rct"),
             ("icas-reperfusion", "rate"), ("icas-favourable", "rate"),
             ("icass-favourable", "rate"))


@dataclass(frozen=True)
class Variant:
    key: str            # results id part: 'run', 'fixed', 'dl', 'hksj', 'favourable-cutoff' ...
    param: str          # the parameter changed ('' for the run itself)
    value: Any
    params: dict


@dataclass(frozen=True)
class Estimate:
    estimate: float
    ci_low: float
    ci_high: float
    k: int | None

    @property
    def estimable(self) -> bool:
        return not math.isnan(self.estimate)


NOT_ESTIMABLE = Estimate(math.nan, math.nan, math.nan, None)


def _candidates(params) -> list[tuple[str, str, Any]]:
    out = [("random", "model", "random"), ("fixed", "model", "fixed")]
    if params["model"] == "random":
        out += [("dl", "tau2_method", "DL"), ("reml", "tau2_method", "REML"),
                ("pm", "tau2_method", "PM")]
    out += [("hksj", "hksj", not params["hksj"]),
            ("ft", "transform", "ft"), ("logit", "transform", "logit"), ("raw", "transform", "raw"),
            ("no-derived", "use_derived", False), ("no-percent-only", "use_percent_only", False),
            ("clopper-pearson", "ci_method", "clopper-pearson"), ("jeffreys", "ci_method", "jeffreys"),
            ("wald", "ci_method", "wald"), ("wilson", "ci_method", "wilson"),
            ("favourable-cutoff", "favourable_mrs_max", 3 - params["favourable_mrs_max"])]
    return out


def variants(params: dict[str, Any]) -> list[Variant]:
    """The run itself first, then each one-parameter change that changes something."""
    out = [Variant("run", "", None, dict(params))]
    for key, param, value in _candidates(params):
        if params[param] != value:
            out.append(Variant(key, param, value, {**params, param: value}))
    return out


def _rct(ds, p, family) -> Estimate:
    res = dm.trial_comparison(ds, p, family).result
    return NOT_ESTIMABLE if res is None else Estimate(res.estimate, res.ci_low, res.ci_high, res.k)


def _comparator(ds, p, family) -> Estimate:
    cp = ic.comparator_pool(ds, family, p)
    est = cp.estimate
    return NOT_ESTIMABLE if est is None else Estimate(*est, cp.k)


def _series(ds, p) -> Estimate:
    r = ic.favourable_rate(ds, p)
    return Estimate(r.estimate, r.ci_low, r.ci_high, 1)


def main_estimates(ds, p) -> dict[str, Estimate]:
    return {"dmvo-favourable": _rct(ds, p, "favourable"), "dmvo-mortality": _rct(ds, p, "mortality"),
            "dmvo-sich": _rct(ds, p, "sich"),
            "icas-reperfusion": _comparator(ds, p, "reperfusion"),
            "icas-favourable": _comparator(ds, p, "favourable"), "icass-favourable": _series(ds, p)}


@dataclass(frozen=True)
class Sensitivity:
    variants: tuple[Variant, ...]
    estimates: dict[tuple[str, str], Estimate]   # (variant key, estimate key) -> Estimate

    def row(self, variant: str) -> dict[str, Estimate]:
        return {e: self.estimates[(variant, e)] for e, _ in ESTIMATES}


def sensitivity(ds, params) -> Sensitivity:
    vs = variants(params)
    est = {(v.key, e): x for v in vs for e, x in main_estimates(ds, v.params).items()}
    return Sensitivity(tuple(vs), est)


__all__ = ["ESTIMATES", "Variant", "Estimate", "Sensitivity", "variants", "sensitivity",
           "main_estimates", "cm"]
