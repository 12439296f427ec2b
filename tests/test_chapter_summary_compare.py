"""Summary, side-by-side and sensitivity numbers against hand computations from data/, and
the wording rules of the computed text (counts from the data, comparative words only where
the intervals support them)."""

import math
import os
from pathlib import Path

import numpy as np
import pytest

from evtreport import analyses, params, text
from evtreport.data import load_dataset
from evtreport.present import sensitivity, summary
from evtreport.present.compare import n_text
from conftest import ROOT

DATA = Path(os.environ.get("EVTREPORT_DATA_DIR", ROOT / "data"))
Z = 1.959963984540054


@pytest.fixture(scope="module")
def ds():
    return load_dataset(DATA)


def bundle(ds, **kw):
    return analyses.run(ds, dict(params.DEFAULTS, **kw))


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
    side = bundle(ds)["compare.side"]
    rep = side.get("reperfusion", "icass-m1-series")
    assert n_text(rep) == "21/22"
    lo, hi = wilson(21, 22)
    assert (rep.ci_low, rep.ci_high) == pytest.approx((lo, hi), rel=1e-9)
    assert n_text(side.get("favourable", "icass-m1-series")) == "19/22"
    row = bundle(ds, favourable_mrs_max=1)["compare.side"].get("favourable", "icass-m1-series")
    assert n_text(row) == "13/22" and row.estimate == pytest.approx(13 / 22)


def test_pooled_evt_arm_mortality_under_a_fixed_logit_model(ds):
    row = bundle(ds, model="fixed")["compare.side"].get("mortality", "evt-arms-of-the-randomized-trials")
    # ESCAPE-MeVO 34/255 (derived), DISTAL 15.5% of 271 -> 42.0 -> 42
    x, n = np.array([34, 42]), np.array([255, 271])
    y, v = np.log(x / (n - x)), 1 / x + 1 / (n - x)
    mu = (y / v).sum() / (1 / v).sum()
    assert row.estimate == pytest.approx(1 / (1 + math.exp(-mu)), rel=1e-9)
    assert n_text(row) == "34/255 + ≈42/271"


def test_summary_reports_the_hand_computed_pooled_sich_ratio(ds):
    rr, lo, hi, q = fixed_log_rr(SICH)
    # Q < df: REML estimates tau² = 0, so the random-effects estimate equals the fixed one.
    assert q < 1
    b = bundle(ds)
    table = summary.summary_table(b)
    cell = table.loc[table["Outcome"].str.startswith("Symptomatic"), "Estimate [CI]"].iloc[0]
    assert cell == f"{rr:.2f} [{lo:.2f}–{hi:.2f}]"
    findings = str(text.render("summary/key_findings.block.j2", **summary.findings_context(b)))
    assert f"{rr:.2f} \\[{lo:.2f}–{hi:.2f}\\]" in findings
    assert "symptomatic haemorrhage was more frequent after EVT" in findings


def test_key_findings_lead_with_two_trials_and_their_primary_results(ds):
    findings = str(text.render("summary/key_findings.block.j2", **summary.findings_context(bundle(ds))))
    first = findings.split("\n")[0]
    # 255 + 275 (ESCAPE-MeVO) + 271 + 272 (DISTAL) randomized
    assert "Two randomized trials" in first and "1073 patients randomized" in first
    assert "adjusted rate ratio 0.95 \\[0.79–1.15\\]" in first
    assert "adjusted common OR 0.90 \\[0.67–1.22\\]" in first
    assert "†" in first  # the mRS 0-2 arm figures come from a secondary report
    # the harm signal of ESCAPE-MeVO's adjusted hazard ratio is not hidden
    assert "adjusted hazard ratio 1.82 \\[1.06–3.12\\]" in findings
    assert "excludes no difference" not in findings


def test_no_comparative_word_where_intervals_overlap(ds):
    findings = str(text.render("summary/key_findings.block.j2", **summary.findings_context(bundle(ds))))
    line = next(ln for ln in findings.split("\n") if "Other ICAS-related" in ln)
    # comparators 83.7% [59.7–94.7] vs the series 95.5% [78.2–99.2]: the intervals overlap
    assert " lower" not in line and " higher than" not in line
    assert "do not show that either is higher" in line


def test_key_findings_follow_the_parameters(ds):
    default = str(text.render("summary/key_findings.block.j2", **summary.findings_context(bundle(ds))))
    assert "19/22" in default
    excellent = str(text.render("summary/key_findings.block.j2",
                                **summary.findings_context(bundle(ds, favourable_mrs_max=1))))
    assert "13/22" in excellent and "mRS 0–1" in excellent and "19/22" not in excellent


def test_sensitivity_wald_interval_of_the_series_is_the_textbook_one(ds):
    s = bundle(ds)["sensitivity"]
    e = s.estimates[("wald", "icass-favourable")]
    p = 19 / 22
    half = Z * math.sqrt(p * (1 - p) / 22)
    assert e.ci_low == pytest.approx(p - half, rel=1e-9)
    assert e.ci_high == pytest.approx(min(1.0, p + half))  # truncated at 1


def test_sensitivity_rows_change_exactly_one_choice(ds):
    from evtreport.analyses.sensitivity import variants
    run = dict(params.DEFAULTS)
    for v in variants(run)[1:]:
        changed = {k for k in run if v.params[k] != run[k]}
        assert changed == {v.param}, (v.key, changed)
    fixed_hksj = dict(run, model="fixed", hksj=True)
    vs = {v.key: v for v in variants(fixed_hksj)}
    assert "dl" not in vs  # τ² estimators act only under random effects
    assert vs["random"].params["hksj"] is True and vs["random"].params["model"] == "random"


def test_sensitivity_skips_variants_equal_to_the_run():
    from evtreport.analyses.sensitivity import variants
    keys = [v.key for v in variants(params.DEFAULTS)]
    assert "reml" not in keys and "logit" not in keys and "wilson" not in keys
    assert "favourable-cutoff" in keys
    assert "reml" in [v.key for v in variants(dict(params.DEFAULTS, tau2_method="DL"))]


def test_sensitivity_labels_name_the_choice(ds):
    table = sensitivity.table(bundle(ds, hksj=True))
    labels = list(table["Analysis"])
    assert "Common-effect (fixed) model instead of random-effects model" in labels
    assert "Wald (z) CI instead of modified Hartung-Knapp" in labels
