"""The multiverse (specification curve) of the main estimates: each estimate of the
sensitivity table computed under every combination of the analysis choices that act on it,
and on every leave-one-study-out subset (Voracek et al. 2019, Z Psychol 227:64-82).

Choices (machine names, values as in params.py; ``None`` = the choice does not act on that
specification, e.g. the τ² estimator under the common-effect model):

- ``measure``: RR, OR or RD (the trials only);
- ``model``, ``tau2_method`` (random effects only), ``hksj`` (modified Hartung-Knapp, as
  :func:`common.pool_options`): pooled estimates of two or more studies only;
- ``transform``: pooled rates of two or more series only;
- ``ci_method``: a single proportion's interval: the ICASS-M1 rate, and a comparator
  "pool" of one series;
- ``favourable_mrs_max``, ``use_derived``, ``use_percent_only``: which counts are read; each
  is varied only where it changes the counts of some specification (found by extracting
  every combination with the project's own selection code);
- ``left_out``: '' for the run's set of studies, else the one study (source_id) left out
  on top of the run's ``exclude_studies``.

``dmvo_subgroup`` acts on none of these estimates: it selects which of the observational
meta-analysis' pooled rates are shown, and those are printed as reported, never recomputed,
so no choice of this report changes them. ``confidence_level`` stays the run's.

Per-study effects are built once per combination of the data choices, and every pooled
specification of every estimate goes through one :func:`evtreport.batch.pool_batch` call.

"Excludes no effect": for a trial effect, the interval lies wholly on one side of the null
(1 for RR/OR, 0 for RD; :func:`common.excludes_null`). A rate has no null value, so for the
rates ``excludes_null`` is ``None`` and their share is NaN (not applicable).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import meta
from ..batch import back_transform, pool_batch
from . import common as cm
from . import dmvo as dm
from . import icass as ic
from .sensitivity import ESTIMATES

CHOICES = ("measure", "model", "tau2_method", "hksj", "transform", "ci_method",
           "favourable_mrs_max", "use_derived", "use_percent_only", "left_out")
DATA_CHOICES = ("favourable_mrs_max", "use_derived", "use_percent_only")
VALUES = {"measure": ("RR", "OR", "RD"), "model": ("random", "fixed"),
          "tau2_method": ("REML", "DL", "PM"), "hksj": (False, True),
          "transform": ("logit", "ft", "raw"),
          "ci_method": ("wilson", "clopper-pearson", "jeffreys", "agresti-coull", "wald"),
          "favourable_mrs_max": (2, 1), "use_derived": (True, False), "use_percent_only": (True, False)}
#: Pooling options of two or more studies: (model, tau2_method, hksj).
POOLING = tuple([("random", t, h) for t in VALUES["tau2_method"] for h in VALUES["hksj"]]
                + [("fixed", None, h) for h in VALUES["hksj"]])
CC = 0.5  # continuity correction, as meta's default


@dataclass(frozen=True)
class Spec:
    """One specification: its choices (name -> value, ``None`` where the choice does not act),
    the number of studies, the estimate and CI on the report's scale, and whether the CI
    excludes no effect (``None`` for a rate)."""
    choices: tuple[tuple[str, Any], ...]
    k: int
    estimate: float
    ci_low: float
    ci_high: float
    measure: str                 # 'RR', 'OR', 'RD' or 'proportion'
    excludes_null: bool | None

    def choice(self, name: str) -> Any:
        return dict(self.choices).get(name)

    def params(self, run: dict[str, Any]) -> dict[str, Any]:
        """The run's parameters with this specification's choices (the single-spec functions
        give this specification's numbers under them)."""
        p = dict(run)
        for name, value in self.choices:
            if name == "left_out":
                if value:
                    p["exclude_studies"] = list(run["exclude_studies"]) + [value]
            elif name == "measure":
                if value is not None:
                    p["two_arm_measure"] = value
            elif value is not None:
                p[name] = value
        return p


@dataclass(frozen=True)
class EstimateMultiverse:
    """Every specification of one main estimate (``key`` of sensitivity.ESTIMATES)."""
    key: str
    kind: str                          # 'rct' or 'rate'
    choices: tuple[str, ...]           # the choices that act on it (dot-matrix rows), CHOICES order
    specs: tuple[Spec, ...]
    run_measure: str                   # the run's two_arm_measure (trials) or 'proportion'
    not_estimable: tuple[tuple[tuple[str, Any], ...], ...]   # data choices with no usable study

    @property
    def n_specs(self) -> int:
        return len(self.specs)

    @property
    def summary_specs(self) -> tuple[Spec, ...]:
        """The specifications on the report's scale: for the trials those with the run's
        effect measure (a risk ratio and a risk difference are not on one scale)."""
        return tuple(s for s in self.specs if s.measure == self.run_measure)

    def _values(self) -> np.ndarray:
        return np.array([s.estimate for s in self.summary_specs], dtype=float)

    @property
    def min(self) -> float:
        v = self._values()
        return float(v.min()) if v.size else math.nan

    @property
    def median(self) -> float:
        v = self._values()
        return float(np.median(v)) if v.size else math.nan

    @property
    def max(self) -> float:
        v = self._values()
        return float(v.max()) if v.size else math.nan

    @property
    def n_excluding_null(self) -> int | None:
        if self.kind != "rct":
            return None
        return sum(bool(s.excludes_null) for s in self.specs)

    @property
    def share_excluding_null(self) -> float:
        """Share of all specifications (every measure) whose CI excludes no effect; NaN for a
        rate, which has no null value."""
        n = self.n_excluding_null
        return math.nan if n is None or not self.specs else n / len(self.specs)


@dataclass(frozen=True)
class Multiverse:
    run: dict
    estimates: dict[str, EstimateMultiverse]

    @property
    def n_specs(self) -> int:
        return sum(e.n_specs for e in self.estimates.values())

    def find(self, key: str, params: dict[str, Any]) -> Spec | None:
        """The specification of estimate ``key`` that a parameter set (the run's with some
        choices changed and at most one more study excluded) computes; None if not estimable."""
        em = self.estimates[key]
        extra = [s for s in params["exclude_studies"] if s not in self.run["exclude_studies"]]
        if len(extra) > 1 or set(self.run["exclude_studies"]) - set(params["exclude_studies"]):
            raise ValueError("a specification leaves out at most one study beyond the run's")
        want = {c: params["two_arm_measure"] if c == "measure" else params[c]
                for c in CHOICES if c != "left_out"}
        want["left_out"] = extra[0] if extra else ""
        hits = [s for s in em.specs if all(v is None or want[c] == v for c, v in s.choices)
                and (s.choice("left_out") or "") == want["left_out"]]
        if len(hits) > 1:
            raise AssertionError(f"{key}: {len(hits)} specifications match {want}")
        return hits[0] if hits else None


# --------------------------------------------------------------------------- extraction

def _data_combos(run, acting: tuple[str, ...]):
    """Every combination of the data choices (the run's value first); the others as run."""
    names = [c for c in DATA_CHOICES if c in acting]
    for values in itertools.product(*[_run_first(run[c], VALUES[c]) for c in names]):
        yield dict(zip(names, values))


def _run_first(value, values):
    return (value,) + tuple(v for v in values if v != value)


def _acting(extract, run, candidates) -> tuple[tuple[str, ...], dict]:
    """Which data choices change the extracted studies, and the extraction of every combination
    of the candidates: {frozen combo: studies}."""
    out = {}
    for combo in _data_combos(run, candidates):
        out[tuple(sorted(combo.items()))] = extract({**run, **combo})
    acting = []
    for c in candidates:
        for key, studies in out.items():
            d = dict(key)
            for v in VALUES[c]:
                if v != d[c] and out[tuple(sorted({**d, c: v}.items()))] != studies:
                    acting.append(c)
                    break
            if c in acting:
                break
    keep = {}
    for key, studies in out.items():
        d = dict(key)
        if all(d[c] == run[c] for c in candidates if c not in acting):
            keep[tuple((c, d[c]) for c in DATA_CHOICES if c in acting)] = studies
    return tuple(acting), keep


def _trials(ds, family):
    def extract(p):
        tc = dm.trial_comparison(ds, p, family)
        pooled = tc.pooled
        return tuple((r.source_id, int(r.events_t), int(r.total_t), int(r.events_c), int(r.total_c))
                     for r in pooled.itertuples())
    return extract


def _comparators(ds, family):
    def extract(p):
        used = ic.comparator_pool(ds, family, p).used
        return tuple((r.source_id, int(r.events_used), int(r.total)) for r in used.itertuples())
    return extract


def _subsets(studies):
    """The run's set and every leave-one-study-out subset (studies grouped by source_id)."""
    ids = list(dict.fromkeys(s[0] for s in studies))
    out = [("", studies)]
    if len(ids) > 1:
        out += [(sid, tuple(s for s in studies if s[0] != sid)) for sid in ids]
    return out


# --------------------------------------------------------------------------- building

class _Batch:
    """Pooled specifications waiting for one pool_batch call."""

    def __init__(self):
        self.yi, self.vi, self.model, self.tau2, self.ci = [], [], [], [], []
        self.jobs = []   # (estimate key, choices, k, measure, transform, n_hm)

    def add(self, key, choices, yi, vi, pooling, measure, transform, n_hm=None):
        model, tau2, hksj = pooling
        self.yi.append(yi)
        self.vi.append(vi)
        self.model.append(model or "random")
        self.tau2.append(tau2 or "REML")
        self.ci.append("hksj-adhoc" if hksj else "z")
        self.jobs.append((key, choices, len(yi), measure, transform, n_hm))

    def run(self, alpha) -> list[tuple[str, Spec]]:
        if not self.jobs:
            return []
        b = pool_batch(self.yi, self.vi, model=np.array(self.model), tau2=np.array(self.tau2),
                       ci=np.array(self.ci), alpha=alpha)
        out = []
        for i, (key, choices, k, measure, transform, n_hm) in enumerate(self.jobs):
            vals = [float(back_transform(x, transform, n_hm)) for x in (b.mu[i], b.ci_low[i], b.ci_high[i])]
            if measure == "RD":
                vals = [min(1.0, max(-1.0, x)) for x in vals]
                exc = cm.excludes_null(vals[1], vals[2], measure)
            elif measure in ("RR", "OR"):
                exc = cm.excludes_null(vals[1], vals[2], measure)
            else:
                vals = [cm._unit(x) for x in vals]
                exc = None
            out.append((key, Spec(choices, k, *vals, measure, exc)))
        return out


def _choices(**values) -> tuple[tuple[str, Any], ...]:
    return tuple((c, values.get(c)) for c in CHOICES)


def _add_trials(batch, key, data_key, subsets):
    for left, studies in subsets:
        a, n1, c, n2 = (np.array([s[i] for s in studies], dtype=float) for i in range(1, 5))
        for measure in VALUES["measure"]:
            yi, vi, _ = meta._escalc_two_arm(a, n1, c, n2, measure, CC)
            transform = "log" if measure in ("RR", "OR") else "raw"
            for pooling in (POOLING if len(studies) > 1 else [(None, None, None)]):
                ch = _choices(measure=measure, model=pooling[0], tau2_method=pooling[1],
                              hksj=pooling[2], left_out=left, **dict(data_key))
                batch.add(key, ch, yi, vi, pooling, measure, transform)


def _rate_single(key, data_key, left, study, p):
    _, e, n = study
    out = []
    for method in VALUES["ci_method"]:
        lo, hi = cm.proportion_ci(e, n, {**p, "ci_method": method})
        out.append(Spec(_choices(ci_method=method, left_out=left, **dict(data_key)), 1, e / n, lo, hi,
                        "proportion", None))
    return out


def _add_rates(batch, key, data_key, subsets, p, singles):
    for left, studies in subsets:
        if len(studies) == 1:
            singles.extend(_rate_single(key, data_key, left, studies[0], p))
            continue
        x = np.array([s[1] for s in studies], dtype=float)
        n = np.array([s[2] for s in studies], dtype=float)
        n_hm = 1 / np.mean(1 / n)
        for transform in VALUES["transform"]:
            yi, vi, _ = meta._escalc_proportion(x, n, transform, CC)
            for pooling in POOLING:
                ch = _choices(transform=transform, model=pooling[0], tau2_method=pooling[1],
                              hksj=pooling[2], left_out=left, **dict(data_key))
                batch.add(key, ch, yi, vi, pooling, "proportion", transform,
                          n_hm if transform == "ft" else None)


def _series(ds, run) -> tuple[tuple[str, ...], list[Spec]]:
    specs = []
    for cut in _run_first(run["favourable_mrs_max"], VALUES["favourable_mrs_max"]):
        for method in VALUES["ci_method"]:
            r = ic.favourable_rate(ds, {**run, "favourable_mrs_max": cut, "ci_method": method})
            specs.append(Spec(_choices(ci_method=method, favourable_mrs_max=cut), 1, r.estimate,
                              r.ci_low, r.ci_high, "proportion", None))
    return ("ci_method", "favourable_mrs_max"), specs


def _active(specs, kind) -> tuple[str, ...]:
    """Choices with a value on some specification and more than one value overall."""
    out = []
    for c in CHOICES:
        vals = {s.choice(c) for s in specs}
        if c == "left_out":
            if len(vals) > 1:
                out.append(c)
        elif vals - {None} and len(vals) > 1:
            out.append(c)
    return tuple(out)


def multiverse(ds, params: dict[str, Any]) -> Multiverse:
    """Every specification of every main estimate under the run's data and confidence level."""
    run = dict(params)
    batch, singles, not_est, kinds = _Batch(), {}, {}, dict(ESTIMATES)
    for key, kind in ESTIMATES:
        singles[key], not_est[key] = [], []
        family = key.split("-", 1)[1]
        if key == "icass-favourable":
            continue
        candidates = tuple(c for c in DATA_CHOICES if c != "favourable_mrs_max" or family == "favourable")
        extract = _trials(ds, family) if kind == "rct" else _comparators(ds, family)
        _, combos = _acting(extract, run, candidates)
        for data_key, studies in combos.items():
            if not studies:
                not_est[key].append(data_key)
                continue
            if kind == "rct":
                _add_trials(batch, key, data_key, _subsets(studies))
            else:
                _add_rates(batch, key, data_key, _subsets(studies), run, singles[key])
    pooled: dict[str, list[Spec]] = {k: [] for k, _ in ESTIMATES}
    for key, spec in batch.run(cm.alpha(run)):
        pooled[key].append(spec)
    out = {}
    for key, kind in ESTIMATES:
        if key == "icass-favourable":
            _, specs = _series(ds, run)
        else:
            specs = pooled[key] + singles[key]
        out[key] = EstimateMultiverse(key, kind, _active(specs, kind), tuple(specs),
                                      run["two_arm_measure"] if kind == "rct" else "proportion",
                                      tuple(not_est[key]))
    return Multiverse(run, out)


__all__ = ["CHOICES", "VALUES", "POOLING", "Spec", "EstimateMultiverse", "Multiverse", "multiverse"]
