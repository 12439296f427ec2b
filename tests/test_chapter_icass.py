"""The ICASS-M1 analyses (evtreport.analyses.icass): key numbers against values derived by hand.

Expected values come from the paper (Tables 1-2, Results, Discussion) and closed formulas
written out here, never from the module itself.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from evtreport import analyses
from evtreport.analyses import icass
from evtreport import params as P
from evtreport.data import load_dataset

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("EVTREPORT_DATA_DIR", ROOT / "data"))


@pytest.fixture(scope="module")
def ds():
    return load_dataset(DATA_DIR)


def params(**over):
    p = dict(P.DEFAULTS)
    p.update(over)
    return p


def wilson(x, n, level=0.95):
    """Wilson score interval, closed formula."""
    z = stats.norm.ppf(1 - (1 - level) / 2)
    ph = x / n
    centre = (ph + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def outcome(rates, key):
    return rates[key]


# -- the series' outcomes ---------------------------------------------------------------------

def test_favourable_19_of_22_with_wilson(ds):
    r = outcome(icass.series_outcomes(ds, params()), "favourable")
    assert (r.events, r.total, r.outcome) == (19, 22, "mrs_0_2")
    lo, hi = wilson(19, 22)
    assert r.ci_low == pytest.approx(lo, abs=1e-10)
    assert r.ci_high == pytest.approx(hi, abs=1e-10)
    assert (round(100 * lo, 1), round(100 * hi, 1)) == (66.7, 95.3)


def test_favourable_mrs_0_1_is_13_of_22(ds):
    r = outcome(icass.series_outcomes(ds, params(favourable_mrs_max=1)), "favourable")
    # Table 2: mRS 0 = 7, mRS 1 = 6
    assert (r.events, r.total, r.outcome) == (13, 22, "mrs_0_1")
    lo, hi = wilson(13, 22)
    assert (r.ci_low, r.ci_high) == pytest.approx((lo, hi), abs=1e-10)
    assert not r.printed and r.grades == (0, 1)


def test_clopper_pearson_21_of_22(ds):
    p = params(ci_method="clopper-pearson")
    r = outcome(icass.series_outcomes(ds, p), "reperfusion")
    assert (r.events, r.total) == (21, 22)
    lo = stats.beta.ppf(0.025, 21, 22 - 21 + 1)
    hi = stats.beta.ppf(0.975, 21 + 1, 22 - 21)
    assert (r.ci_low, r.ci_high) == pytest.approx((lo, hi), abs=1e-9)


def test_other_series_outcomes(ds):
    df = icass.series_outcomes(ds, params())
    got = {k: (outcome(df, k).events, outcome(df, k).total)
           for k in ("reperfusion", "mortality", "complications", "restenosis")}
    assert got == {"reperfusion": (21, 22), "mortality": (1, 22), "complications": (2, 22),
                   "restenosis": (6, 20)}


def test_confidence_level_changes_width(ds):
    r90 = outcome(icass.series_outcomes(ds, params(confidence_level=0.9)), "favourable")
    lo, hi = wilson(19, 22, 0.9)
    assert (r90.ci_low, r90.ci_high) == pytest.approx((lo, hi), abs=1e-10)


# -- Tables 1 and 2 ---------------------------------------------------------------------------

def test_smoking_printed_36_3_flagged(ds):
    t1, t2 = icass.paper_table(ds, "table1"), icass.paper_table(ds, "table2")
    smoking = {ln.key: ln for ln in t1.lines}["bl.smoking"]
    assert (smoking.count, smoking.total, smoking.printed_pct) == (8, 22, 36.3)
    assert round(100 * 8 / 22, 1) == 36.4
    assert round(smoking.recomputed, 1) == 36.4
    assert smoking.flag
    # every other percentage in Tables 1 and 2 matches its count
    others = [ln.key for ln in t1.flagged + t2.flagged if ln.key != "bl.smoking"]
    assert others == []


def test_percent_check_rounding_rule():
    assert icass.percent_consistent(8, 22, "36.3") is False
    assert icass.percent_consistent(8, 22, "36.4") is True
    assert icass.percent_consistent(6, 20, "30") is True
    assert icass.percent_consistent(5, 6, "") is None


def test_distributions_sum_to_22(ds):
    mrs = ds.distribution(icass.SERIES, "mRS", subgroup=icass.GROUP)
    assert int(mrs["count"].sum()) == 22
    assert list(mrs["count"]) == [7, 6, 6, 2, 0, 0, 1]
    mtici = ds.distribution(icass.SERIES, "mTICI", subgroup=icass.GROUP)
    assert int(mtici["count"].sum()) == 22
    assert int(mtici.loc[mtici["grade"].isin(["2b", "3"]), "count"].sum()) == 21


# -- comparators ------------------------------------------------------------------------------

def test_comparator_pooled_reperfusion_fixed_logit(ds):
    p = params(model="fixed", transform="logit")
    ca = icass.comparator_pool(ds, "reperfusion", p)
    # Dobrocky 70% of 10 = 7/10; Jia (EAST) 95.7% of 47 = 45/47; Lee 2018 76.8% of 99 = 76/99
    # (each the only integer giving the printed percentage)
    assert sorted(zip(ca.used["events_used"], ca.used["total"])) == [(7, 10), (45, 47), (76, 99)]
    x = np.array([7, 45, 76], float)
    n = np.array([10, 47, 99], float)
    yi = np.log(x / (n - x))
    vi = 1 / x + 1 / (n - x)
    w = 1 / vi
    mu = np.sum(w * yi) / np.sum(w)
    se = 1 / math.sqrt(np.sum(w))
    z = stats.norm.ppf(0.975)

    def expit(v):
        return 1 / (1 + math.exp(-v))
    assert ca.result.estimate == pytest.approx(expit(mu), rel=1e-10)
    assert ca.result.ci_low == pytest.approx(expit(mu - z * se), rel=1e-10)
    assert ca.result.ci_high == pytest.approx(expit(mu + z * se), rel=1e-10)
    q = np.sum(w * (yi - mu) ** 2)
    assert ca.result.q == pytest.approx(q, rel=1e-10)


def test_comparator_rows_left_out_with_reasons(ds):
    ca = icass.comparator_pool(ds, "reperfusion", params())
    reasons = dict(zip(ca.left_out["row_id"], ca.left_out["reason"]))
    assert "without a denominator" in reasons["icassm1-2022.cited.yang.recanalization"]
    # Lee and Jia quoted by the paper = the original abstracts' rows: not counted twice
    assert "original" in reasons["icassm1-2022.cited.lee.recanalization"]
    assert "original" in reasons["icassm1-2022.cited.jia.recanalization"]
    assert list(ca.reported["source_id"]) == ["li-icas-lvo-meta"]
    assert "icassm1-2022" not in set(ca.used["source_id"])  # the series is not a comparator
    assert "lee-2018.embolic.reperfusion" not in set(ca.used["row_id"])


def test_exclude_and_strict_parameters(ds):
    ca = icass.comparator_pool(ds, "reperfusion", params(exclude_studies=["dobrocky-icas-m1"]))
    assert sorted(ca.used["source_id"]) == ["jia-east", "lee-2018"] and ca.result.k == 2
    ca = icass.comparator_pool(ds, "reperfusion", params(use_derived=False))
    assert ca.k == 0 and ca.result is None


def test_favourable_comparators_under_mrs_0_1(ds):
    ca2 = icass.comparator_pool(ds, "favourable", params())
    assert sorted((r["source_id"], r["events_used"], r["total"]) for _, r in ca2.used.iterrows()) \
        == [("jia-east", 30, 47), ("lee-2018", 45, 99)]  # 63.8% of 47 derived; 45.5% of 99 ≈
    ca1 = icass.comparator_pool(ds, "favourable", params(favourable_mrs_max=1))
    assert ca1.k == 0 and ca1.result is None and ca1.reported.empty
    assert all("mRS 0–1" in r for r in ca1.left_out["reason"])


def _all_results(ds, p):
    """Every estimate the chapter records (the bundle's icass rows)."""
    return {r["id"]: r for r in analyses.run(ds, p).rows("icass").rows}


def test_favourable_mrs_max_changes_only_favourable_estimates(ds):
    a = _all_results(ds, params())
    b = _all_results(ds, params(favourable_mrs_max=1))
    changed = {k for k in set(a) | set(b) if a.get(k) != b.get(k)}
    assert changed and all(".favourable" in k for k in changed), changed
    assert b["icass.series.favourable"]["events"] == "13"
    assert b["icass.comparators.favourable.pooled"]["estimate"] == ""
    assert "not available" in b["icass.comparators.favourable.pooled"]["method"]
    assert a["icass.series.favourable"]["events"] == "19"


def test_ci_method_recorded(ds):
    a = _all_results(ds, params(ci_method="jeffreys"))
    assert a["icass.series.reperfusion"]["method"].startswith("jeffreys")
