"""Summary, side-by-side and sensitivity numbers against hand computations from data/."""

import math
import os
from pathlib import Path

import numpy as np
import pytest

from evtreport import compare, params, sensitivity, summary
from evtreport.data import load_dataset
from conftest import ROOT

DATA = Path(os.environ.get("EVTREPORT_DATA_DIR", ROOT / "data"))
Z = 1.959963984540054


@pytest.fixture(scope="module")
def ds():
    return load_dataset(DATA)


def wilson(x, n, z=Z):
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def fixed_log_rr(trials):
    """Inverse-variance common-effect pooled risk ratio, from the textbook formulas."""
    y = np.array([math.log((a / n1) / (c / n2)) for a, n1, c, n2 in trials])
    v = np.array([1 / a - 1 / n1 + 1 / c - 1 / n2 for a, n1, c, n2 in trials])
    w = 1 / v
    mu, se = (w * y).sum() / w.sum(), math.sqrt(1 / w.sum())
    q = (w * (y - mu) ** 2).sum()
    return math.exp(mu), math.exp(mu - Z * se), math.exp(mu + Z * se), q


# sICH by arm: ESCAPE-MeVO 14/257 vs 6/272 (printed); DISTAL 5.9% of 271 and 2.6% of 272,
# rounded by hand: 0.059*271 = 15.99 -> 16, 0.026*272 = 7.07 -> 7.
SICH = [(14, 257, 6, 272), (16, 271, 7, 272)]


def test_icass_series_rates_use_the_chosen_interval(ds):
    side = compare.side_by_side(ds, params.DEFAULTS)
    series = side[side["evidence"].str.startswith("ICASS-M1 series")].set_index("family")
    assert series.loc["reperfusion", "n_text"] == "21/22"
    lo, hi = wilson(21, 22)
    assert series.loc["reperfusion", "ci_low"] == pytest.approx(lo, rel=1e-9)
    assert series.loc["reperfusion", "ci_high"] == pytest.approx(hi, rel=1e-9)
    assert series.loc["favourable", "n_text"] == "19/22"
    excellent = compare.side_by_side(ds, dict(params.DEFAULTS, favourable_mrs_max=1))
    row = excellent[excellent["evidence"].str.startswith("ICASS-M1 series")
                    & (excellent["family"] == "favourable")].iloc[0]
    assert row["n_text"] == "13/22" and row["estimate"] == pytest.approx(13 / 22)


def test_pooled_evt_arm_mortality_under_a_fixed_logit_model(ds):
    p = dict(params.DEFAULTS, model="fixed")
    side = compare.side_by_side(ds, p)
    row = side[(side["family"] == "mortality") & side["evidence"].str.startswith("EVT arms")].iloc[0]
    # ESCAPE-MeVO 34/255 (derived), DISTAL 15.5% of 271 -> 42.0 -> 42
    x, n = np.array([34, 42]), np.array([255, 271])
    y, v = np.log(x / (n - x)), 1 / x + 1 / (n - x)
    mu = (y / v).sum() / (1 / v).sum()
    assert row["estimate"] == pytest.approx(1 / (1 + math.exp(-mu)), rel=1e-9)
    assert row["n_text"] == "34/255 + ≈42/271"


def test_summary_reports_the_hand_computed_pooled_sich_ratio(ds):
    rr, lo, hi, q = fixed_log_rr(SICH)
    # Q < df: REML estimates tau² = 0, so the random-effects estimate equals the fixed one.
    assert q < 1
    table = summary.summary_table(ds, params.DEFAULTS)
    cell = table.loc[table["Outcome"].str.startswith("Symptomatic"), "Estimate [CI]"].iloc[0]
    assert cell == f"{rr:.2f} [{lo:.2f}–{hi:.2f}]"
    findings = "\n".join(summary.key_findings(ds, params.DEFAULTS))
    assert f"more symptomatic intracranial haemorrhage (sICH) with thrombectomy (risk ratio {rr:.2f}" in findings


def test_key_findings_follow_the_parameters(ds):
    default = summary.key_findings(ds, params.DEFAULTS)
    assert 5 <= len(default) <= 8
    assert any("19/22" in f for f in default)
    excellent = summary.key_findings(ds, dict(params.DEFAULTS, favourable_mrs_max=1))
    assert any("13/22" in f and "mRS 0–1" in f for f in excellent)
    assert not any("19/22" in f for f in excellent)


def test_sensitivity_wald_interval_of_the_series_is_the_textbook_one(ds):
    long = sensitivity.compute(ds, params.DEFAULTS)
    row = long[(long["variant"] == "wald") & (long["estimate_key"] == "icass-favourable")].iloc[0]
    p = 19 / 22
    half = Z * math.sqrt(p * (1 - p) / 22)
    assert row["ci_low"] == pytest.approx(p - half, rel=1e-9)
    assert row["ci_high"] == pytest.approx(min(1.0, p + half))  # statsmodels clips at 1


def test_sensitivity_skips_variants_equal_to_the_run():
    keys = [v[0] for v in sensitivity.variants(params.DEFAULTS)]
    assert "reml" not in keys and "logit" not in keys and "wilson" not in keys
    assert "reml" in [v[0] for v in sensitivity.variants(dict(params.DEFAULTS, tau2_method="DL"))]
