"""DMVO analyses and chapter (evtreport.analyses.dmvo, evtreport.present.dmvo): key numbers against values derived by hand from the data,
and the effect of the parameters on what is pooled."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from evtreport import analyses
from evtreport.analyses import dmvo
from evtreport.present import dmvo as present
from evtreport import params as P
from evtreport.data import load_dataset

ROOT = Path(__file__).resolve().parents[1]
Z95 = 1.959963984540054


@pytest.fixture(scope="module")
def ds():
    return load_dataset(os.environ.get("EVTREPORT_DATA_DIR") or ROOT / "data")


def prm(**kw):
    return P.validate(kw)


def trial(an, source_id):
    return an.trials.set_index("source_id").loc[source_id]


def log_rr(a, n1, c, n2):
    """log risk ratio and its variance (closed formula)."""
    return math.log((a / n1) / (c / n2)), 1 / a - 1 / n1 + 1 / c - 1 / n2


def test_escape_mevo_mrs01_risk_ratio_by_hand(ds):
    # ESCAPE-MeVO abstract: mRS 0-1 in 106 of 255 (EVT) and 118 of 274 (usual care).
    y, v = log_rr(106, 255, 118, 274)
    rr, lo, hi = math.exp(y), math.exp(y - Z95 * math.sqrt(v)), math.exp(y + Z95 * math.sqrt(v))
    assert rr == pytest.approx(0.96523, abs=1e-4)  # (106/255)/(118/274)
    an = dmvo.trial_comparison(ds, prm(favourable_mrs_max=1), "favourable")
    t = trial(an, "escape-mevo-2025")
    assert (t["events_t"], t["total_t"], t["events_c"], t["total_c"]) == (106, 255, 118, 274)
    assert not t["approx_t"] and not t["approx_c"]
    assert t["estimate"] == pytest.approx(rr, rel=1e-9)
    assert t["ci_low"] == pytest.approx(lo, rel=1e-9)
    assert t["ci_high"] == pytest.approx(hi, rel=1e-9)
    # agrees with the unadjusted RR 0.97 (0.79-1.18) the trial is reported to have printed
    assert (round(rr, 2), round(lo, 2), round(hi, 2)) == (0.97, 0.79, 1.18)


def test_escape_mevo_arm_rate_wilson_by_hand(ds):
    # Wilson interval of 106/255 from the closed formula
    x, n = 106, 255
    p = x / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 / (1 + Z95**2 / n) * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n))
    rows = analyses.run(ds, prm(favourable_mrs_max=1)).rows("dmvo").rows
    row = {r["id"]: r for r in rows}["dmvo.rct.favourable.escape-mevo-2025.evt"]
    assert float(row["estimate"]) == pytest.approx(p)
    assert float(row["ci_low"]) == pytest.approx(centre - half, rel=1e-8)
    assert float(row["ci_high"]) == pytest.approx(centre + half, rel=1e-8)
    assert row["outcome"] == "mrs_0_1"


def test_pooled_fixed_effect_sich_by_hand(ds):
    # ESCAPE-MeVO sICH 14/257 vs 6/272 (printed); DISTAL 5.9% of 271 vs 2.6% of 272 (percentages
    # only; the count is rounded from the percentage and the arm size).
    d_t, d_c = round(5.9 * 271 / 100), round(2.6 * 272 / 100)
    assert (d_t, d_c) == (16, 7)
    ys, vs = zip(log_rr(14, 257, 6, 272), log_rr(d_t, 271, d_c, 272))
    w = 1 / np.array(vs)
    mu = float((w * np.array(ys)).sum() / w.sum())
    se = float(1 / np.sqrt(w.sum()))
    an = dmvo.trial_comparison(ds, prm(model="fixed"), "sich")
    assert an.result.k == 2
    assert an.result.estimate == pytest.approx(math.exp(mu), rel=1e-9)
    assert an.result.ci_low == pytest.approx(math.exp(mu - Z95 * se), rel=1e-9)
    assert an.result.ci_high == pytest.approx(math.exp(mu + Z95 * se), rel=1e-9)
    assert trial(an, "escape-mevo-2025")["weight"] == pytest.approx(100 * w[0] / w.sum())
    t = trial(an, "distal-2025")
    assert t["weight"] == pytest.approx(100 * w[1] / w.sum())
    assert t["approx_t"] and t["approx_c"]


def test_favourable_mrs_max_switches_outcome_rows(ds):
    one = dmvo.trial_comparison(ds, prm(favourable_mrs_max=1), "favourable")
    two = dmvo.trial_comparison(ds, prm(favourable_mrs_max=2), "favourable")
    assert set(one.trials["outcome"]) == {"mrs_0_1"}
    assert set(two.trials["outcome"]) == {"mrs_0_2"}
    # mRS 0-1: both trials (DISTAL 34.7% of 271 vs 37.5% of 272, rounded counts)
    assert one.k == 2
    d = trial(one, "distal-2025")
    assert (d["events_t"], d["events_c"]) == (round(34.7 * 271 / 100), round(37.5 * 272 / 100))
    # mRS 0-2: only ESCAPE-MeVO (secondary report, 54.1% of 255 vs 58.8% of 274), nothing pooled
    assert two.k == 1
    e = trial(two, "escape-mevo-2025")
    assert (e["events_t"], e["events_c"]) == (round(54.1 * 255 / 100), round(58.8 * 274 / 100))
    assert e["secondary"]
    assert trial(two, "distal-2025")["status"] == "not reported"
    y, _ = log_rr(e["events_t"], 255, e["events_c"], 274)
    assert two.result.estimate == pytest.approx(math.exp(y))
    assert "Only one study" in two.result.note


def test_exclude_studies_removes_trial_from_pooled_estimate(ds):
    an = dmvo.trial_comparison(ds, prm(exclude_studies=["distal-2025"]), "sich")
    assert an.k == 1
    assert an.result.estimate == pytest.approx((14 / 257) / (6 / 272))
    t = trial(an, "distal-2025")
    assert t["status"] == "excluded" and "exclude_studies" in t["reason"]
    assert list(an.pooled["source_id"]) == ["escape-mevo-2025"]


def test_use_percent_only_false_leaves_distal_out_with_reason(ds):
    b = analyses.run(ds, prm(use_percent_only=False))
    for key in ("mortality", "sich"):
        t = trial(b[f"dmvo.rct.{key}"], "distal-2025")
        assert t["status"] == "not pooled"
        assert "use_percent_only = false" in t["reason"]
        assert b[f"dmvo.rct.{key}"].k == 1
    left = present.left_out_table(b)
    distal = left[left["Trial"].str.startswith("DISTAL")]
    assert distal["Why not pooled"].str.contains("use_percent_only = false").sum() >= 2
    # ESCAPE-MeVO's printed sICH counts are still used
    assert b["dmvo.rct.sich"].result.estimate == pytest.approx((14 / 257) / (6 / 272))


def test_harm_outcomes_have_reversed_favours_labels(ds):
    def favours(key):
        fig = present.rct_forest(analyses.run(ds, prm()), key)
        texts = [t for t in fig.findobj(lambda o: hasattr(o, "get_text"))
                 if str(t.get_text()).startswith("Favours")]
        return [t.get_text() for t in sorted(texts, key=lambda t: t.get_position()[0])]
    assert favours("sich") == ["Favours EVT", "Favours medical"]
    assert favours("mortality") == ["Favours EVT", "Favours medical"]
    assert favours("favourable") == ["Favours medical", "Favours EVT"]


def test_meta_rates_follow_dmvo_subgroup(ds):
    both = dmvo.meta_rates(ds, prm()).rows
    prim = dmvo.meta_rates(ds, prm(dmvo_subgroup="primary")).rows
    assert set(both["subgroup"]) == {"primary DMVO", "secondary DMVO"}
    assert set(prim["subgroup"]) == {"primary DMVO"}
    fav = prim.set_index("family").loc["favourable"]
    # reported pooled rate 64% (54-72), not recomputed
    assert (fav["estimate"], fav["ci_low"], fav["ci_high"]) == pytest.approx((0.64, 0.54, 0.72))
    assert dmvo.meta_rates(ds, prm(exclude_studies=["rodriguez-calienes-2023"])).rows.empty


def test_result_ids_are_stable_across_cutoffs(ds):
    def ids(**kw):
        return {r["id"] for r in analyses.run(ds, prm(**kw)).rows("dmvo").rows if r["id"].startswith("dmvo.rct.")}
    a, b = ids(favourable_mrs_max=1), ids(favourable_mrs_max=2)
    for i in ("dmvo.rct.favourable.pooled", "dmvo.rct.mortality.pooled", "dmvo.rct.sich.pooled",
              "dmvo.rct.favourable.escape-mevo-2025", "dmvo.rct.sich.distal-2025.evt"):
        assert i in a and i in b
    assert not any("mrs_0" in i for i in a | b)
