"""Summary of findings for the DMVO trials: absolute effects and NNT derived by hand for the
default run, consistency across effect measures, and the results.csv rows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evtreport import analyses, params
from evtreport.data import load_dataset
from conftest import ROOT


@pytest.fixture(scope="module")
def ds():
    return load_dataset(ROOT / "data")


def bundle(ds, **kw):
    return analyses.run(ds, dict(params.DEFAULTS, **kw))


def test_sich_absolute_effect_by_hand(ds):
    row = bundle(ds)["sof.dmvo"].rows["sich"]
    # control arms 6/272 (ESCAPE-MeVO) and 7/272 (DISTAL, 2.6% of 272 rounded): random-effects
    # logit pool; with Q < df REML gives tau² = 0, so it is the inverse-variance logit mean.
    x, n = np.array([6, 7]), np.array([272, 272])
    y, v = np.log(x / (n - x)), 1 / x + 1 / (n - x)
    risk_c = 1 / (1 + math.exp(-((y / v).sum() / (1 / v).sum())))
    assert row.risk_control == pytest.approx(risk_c, rel=1e-9)
    res = row.comparison.result
    assert row.absolute.risk_evt == pytest.approx(risk_c * res.estimate, rel=1e-12)
    d, lo, hi = row.absolute.difference_per1000
    assert d == pytest.approx(1000 * risk_c * (res.estimate - 1), rel=1e-9)
    assert (lo, hi) == pytest.approx((1000 * risk_c * (res.ci_low - 1), 1000 * risk_c * (res.ci_high - 1)))
    # NNH = 1 / difference, rounded up; interval wholly on the harm side
    assert row.nnt.text() .startswith(f"NNTH {math.ceil(1000 / d)} ")


def test_measures_give_consistent_absolute_effects(ds):
    diffs = {m: bundle(ds, two_arm_measure=m)["sof.dmvo"].rows["mortality"].absolute.difference_per1000[0]
             for m in ("RR", "OR", "RD")}
    assert max(diffs.values()) - min(diffs.values()) < 5, diffs  # per 1000


def test_certainty_rows_and_results(ds):
    b = bundle(ds)
    rows = {r["id"]: r for r in b.rows("summary").rows}
    for fam in ("favourable", "mortality", "sich"):
        for part in ("risk_control", "risk_evt", "absolute", "certainty"):
            assert f"sof.dmvo.{fam}.{part}" in rows
        cert = rows[f"sof.dmvo.{fam}.certainty"]
        assert cert["estimate"] in {"1", "2", "3", "4"}
        assert rows[f"sof.dmvo.{fam}.absolute"]["measure"] == "per 1000"
    # two trials with some concerns (RoB 2, curators) and an imprecise estimate: low certainty
    assert rows["sof.dmvo.mortality.certainty"]["estimate"] == "2"


def test_bayesian_rows_follow_the_outcome_direction(ds):
    b = bundle(ds)
    rows = {r["id"]: r for r in b.rows("dmvo").rows}
    for fam in ("favourable", "mortality", "sich"):
        for s in ("05", "10"):
            assert f"bayes.dmvo.{fam}.hn{s}" in rows
            pb, ph = (float(rows[f"bayes.dmvo.{fam}.hn{s}.{p}"]["estimate"]) for p in ("p_benefit", "p_harm"))
            assert pb + ph == pytest.approx(1.0)
    sich = b["bayes.dmvo"].rows[("sich", "05")]
    # sICH is harmful: benefit is a risk ratio below 1, i.e. mu < 0 on the log scale
    assert sich.probabilities.p_benefit == pytest.approx(sich.result.p_below(0.0))
    fav = b["bayes.dmvo"].rows[("favourable", "05")]
    assert fav.probabilities.p_benefit == pytest.approx(fav.result.p_above(0.0))
    # a wider prior for tau gives a wider credible interval
    wide = b["bayes.dmvo"].rows[("mortality", "10")].result
    narrow = b["bayes.dmvo"].rows[("mortality", "05")].result
    assert wide.ci_high / wide.ci_low > narrow.ci_high / narrow.ci_low
