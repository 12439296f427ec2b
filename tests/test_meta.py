"""evtreport.meta checked against R/metafor reference values (tests/reference/*.csv).

The reference CSVs are produced by ``Rscript tests/reference/metafor_reference.R
tests/reference``; these tests only read them (R is not needed) except the optional
``@pytest.mark.r`` test that re-runs the script and checks the committed files are current.
"""

import dataclasses
import math
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from evtreport.meta import (
    CI_METHODS,
    MEASURES,
    MODELS,
    TAU2_METHODS,
    TRANSFORMS,
    PoolResult,
    leave_one_out,
    pool_proportions,
    pool_two_arm,
    subgroup_analysis,
)

REF = Path(__file__).parent / "reference"
# Every figure must agree with metafor to 1e-6 relative. The absolute floor only matters for
# values that are 0 in one implementation and ~1e-13 in the other: metafor's Fisher scoring
# approaches a boundary REML solution (tau2 = 0) by step halving and stops at ~1e-13, while
# evtreport reports exactly 0; I² (in percent, = 100·tau2/(tau2 + typical v)) then differs by
# up to ~2e-8 percentage points, hence its larger floor.
REL, ABS = 1e-6, 1e-10
ABS_FIELD = {"i2": 1e-6}
POOLED_FIELDS = ["k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "mu", "se", "pval",
                 "tau2", "i2", "i2_q", "h2", "q", "q_df", "q_p"]
KEY = ["dataset", "effect", "model", "tau2_method", "ci"]


def _read(name):
    return pd.read_csv(REF / name)


@lru_cache(maxsize=None)
def data():
    single = pd.concat([_read("datasets.csv"), _read("datasets_simulated.csv")], ignore_index=True)
    two = pd.concat([_read("datasets_twoarm.csv"), _read("datasets_twoarm_simulated.csv")], ignore_index=True)
    return single, two


@lru_cache(maxsize=None)
def refs():
    out = {name: _read(f"ref_{name}.csv") for name in ("pooled", "studies", "weights", "loo", "subgroup")}
    return {name: {k: g for k, g in df.groupby(KEY if name != "studies" else ["dataset", "effect"])}
            for name, df in out.items()}


def dataset(name, effect):
    single, two = data()
    if effect in TRANSFORMS:
        d = single[single.dataset == name]
        return pool_proportions, (d.events.to_numpy(), d.total.to_numpy()), d
    d = two[two.dataset == name]
    return pool_two_arm, (d.events_t.to_numpy(), d.total_t.to_numpy(), d.events_c.to_numpy(),
                          d.total_c.to_numpy()), d


def options(effect, model, tau2, ci):
    opts = dict(model=model, tau2=tau2, ci=ci)
    opts["transform" if effect in TRANSFORMS else "measure"] = effect
    return opts


@lru_cache(maxsize=None)
def fitted(name, effect, model, tau2, ci):
    fn, arrays, d = dataset(name, effect)
    return fn(*arrays, labels=d.study.tolist(), **options(effect, model, tau2, ci))


def assert_close(actual, expected, what, field=""):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    both_nan = np.isnan(actual) & np.isnan(expected)
    ok = both_nan | np.isclose(actual, expected, rtol=REL, atol=ABS_FIELD.get(field, ABS))
    assert ok.all(), f"{what}: evtreport {actual[~ok]} vs metafor {expected[~ok]}"


def _keys(name):
    return sorted(refs()[name])


# ------------------------------------------------------------------ against metafor
@pytest.mark.parametrize("key", _keys("pooled"), ids=lambda k: "-".join(k))
def test_pooled_matches_metafor(key):
    ref = refs()["pooled"][key].iloc[0]
    res = fitted(*key)
    for f in POOLED_FIELDS:
        assert_close(getattr(res, f), ref[f], f"{key} {f}", f)
    assert math.isclose(res.tau, math.sqrt(res.tau2))
    w = refs()["weights"][key]
    assert list(res.studies.label) == list(w.study)
    assert_close(res.studies.weight, w.weight, f"{key} weight")


@pytest.mark.parametrize("key", _keys("studies"), ids=lambda k: "-".join(k))
def test_study_effects_match_metafor(key):
    ref = refs()["studies"][key]
    studies = fitted(*key, "random", "REML", "z").studies
    for f in ["yi", "vi", "estimate", "ci_low", "ci_high"]:
        assert_close(studies[f], ref[f], f"{key} {f}")


@pytest.mark.parametrize("key", _keys("loo"), ids=lambda k: "-".join(k))
def test_leave_one_out_matches_metafor(key):
    ref = refs()["loo"][key]
    name, effect, model, tau2, ci = key
    fn, arrays, d = dataset(name, effect)
    out = leave_one_out(fn, *arrays, labels=d.study.tolist(), **options(effect, model, tau2, ci))
    assert list(out.omitted) == list(ref.omitted)
    for f in ["k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "i2_q", "q", "q_p"]:
        assert_close(out[f], ref[f], f"{key} {f}", f)


@pytest.mark.parametrize("key", _keys("subgroup"), ids=lambda k: "-".join(k))
def test_subgroup_matches_metafor(key):
    ref = refs()["subgroup"][key]
    name, effect, model, tau2, ci = key
    fn, arrays, d = dataset(name, effect)
    sg = subgroup_analysis(fn, *arrays, groups=d.group.tolist(), labels=d.study.tolist(),
                           **options(effect, model, tau2, ci))
    per = ref[ref.group != "(between)"]
    assert list(sg.subgroups) == list(per.group)
    table = sg.table
    for f in ["k", "estimate", "ci_low", "ci_high", "mu", "se", "tau2", "i2"]:
        assert_close(table[f], per[f], f"{key} {f}", f)
    between = ref[ref.group == "(between)"].iloc[0]
    assert_close([sg.q_between, sg.q_between_df, sg.q_between_p],
                 between[["q_between", "q_between_df", "q_between_p"]], f"{key} Q between")
    assert sg.overall.k == len(d)


def test_reference_covers_every_combination():
    pooled = _read("ref_pooled.csv")
    single, two = data()
    grid = len(MODELS) * len(TAU2_METHODS) * len(CI_METHODS)
    assert len(pooled) == grid * (single.dataset.nunique() * len(TRANSFORMS) + two.dataset.nunique() * len(MEASURES))
    assert set(pooled.effect) == set(TRANSFORMS) | set(MEASURES)
    ks = pooled.groupby("dataset").k.max()
    assert ks["k1"] == 1 and ks["k2"] == 2 and ks["large200"] == 200
    reml = pooled[(pooled.model == "random") & (pooled.dataset == "tau0")]
    assert (reml.tau2 < 1e-10).all()  # a dataset with tau2 estimated as 0
    versions = _read("versions.csv").set_index("software").version
    assert {"R", "metafor"} <= set(versions.index)


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed")
def test_reference_is_current(tmp_path):
    for f in ["datasets.csv", "datasets_twoarm.csv"]:
        shutil.copy(REF / f, tmp_path / f)
    subprocess.run(["Rscript", str(REF / "metafor_reference.R"), str(tmp_path)], check=True,
                   capture_output=True, timeout=600)
    for f in sorted(REF.glob("*.csv")):
        assert (tmp_path / f.name).read_text() == f.read_text(), f"{f.name} is out of date"


# ------------------------------------------------------------------ hand-derived checks
def test_logit_continuity_correction_only_for_zero_or_all_events():
    res = pool_proportions([0, 3, 12], [15, 40, 12], transform="logit")
    s = res.studies
    assert s.cc_applied.tolist() == [True, False, True]
    assert s.yi.tolist() == pytest.approx([math.log(0.5 / 15.5), math.log(3 / 37), math.log(12.5 / 0.5)])
    assert s.vi.tolist() == pytest.approx([1 / 0.5 + 1 / 15.5, 1 / 3 + 1 / 37, 1 / 12.5 + 1 / 0.5])
    raw = pool_proportions([0, 3], [15, 40], transform="raw").studies
    assert raw.yi.tolist() == pytest.approx([0.5 / 16, 3 / 40])
    assert raw.vi[0] == pytest.approx((0.5 / 16) * (15.5 / 16) / 16)
    ft = pool_proportions([0, 3], [15, 40], transform="ft").studies
    assert not ft.cc_applied.any()
    assert ft.yi[0] == pytest.approx(0.5 * (0 + math.asin(math.sqrt(1 / 16))))


def test_two_arm_cc_adds_to_all_cells_of_zero_studies():
    s = pool_two_arm([0, 5], [20, 30], [3, 9], [22, 31], measure="OR").studies
    assert s.cc_applied.tolist() == [True, False]
    assert s.yi[0] == pytest.approx(math.log((0.5 * 19.5) / (20.5 * 3.5)))
    assert s.vi[0] == pytest.approx(1 / 0.5 + 1 / 20.5 + 1 / 3.5 + 1 / 19.5)
    assert s.yi[1] == pytest.approx(math.log((5 * 22) / (25 * 9)))


def test_fixed_effect_by_hand():
    # Inverse-variance pooling of logits of 21/22, 19/22, 7/10, 76/99.
    x, n = np.array([21, 19, 7, 76]), np.array([22, 22, 10, 99])
    y = np.log(x / (n - x))
    w = 1 / (1 / x + 1 / (n - x))
    mu = (w * y).sum() / w.sum()
    se = 1 / math.sqrt(w.sum())
    q = (w * (y - mu) ** 2).sum()
    res = pool_proportions(x, n, model="fixed")
    z = stats.norm.ppf(0.975)
    assert res.estimate == pytest.approx(special.expit(mu), rel=1e-12)
    assert res.ci_low == pytest.approx(special.expit(mu - z * se), rel=1e-12)
    assert res.q == pytest.approx(q, rel=1e-12)
    assert res.i2_q == pytest.approx(100 * (q - 3) / q, rel=1e-12)
    assert res.studies.weight.tolist() == pytest.approx((100 * w / w.sum()).tolist())
    assert res.tau2 == 0 and np.isnan(res.pi_low) and res.tau2_method is None


def test_dl_by_hand():
    x, n = np.array([0, 3, 12, 7, 20, 0]), np.array([15, 40, 12, 30, 25, 8])
    p = pool_proportions(x, n, tau2="DL", transform="ft")
    y = 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))
    w = 4 * n + 2.0
    mu = (w * y).sum() / w.sum()
    q = (w * (y - mu) ** 2).sum()
    tau2 = max(0, (q - 5) / (w.sum() - (w**2).sum() / w.sum()))
    assert p.tau2 == pytest.approx(tau2, rel=1e-12)
    ws = 1 / (1 / w + tau2)
    assert p.mu == pytest.approx((ws * y).sum() / ws.sum(), rel=1e-12)


def test_single_study():
    res = pool_proportions([19], [22], labels=["ICASS"], ci="hksj")
    assert res.k == 1 and res.tau2 == 0 and "nothing was pooled" in res.note
    assert math.isnan(res.i2) and math.isnan(res.q) and math.isnan(res.pi_low)
    y, v = math.log(19 / 3), 1 / 19 + 1 / 3
    z = stats.norm.ppf(0.975)
    assert (res.estimate, res.ci_low, res.ci_high) == pytest.approx(
        (19 / 22, special.expit(y - z * math.sqrt(v)), special.expit(y + z * math.sqrt(v))), rel=1e-12)
    assert res.studies.weight.tolist() == [100.0]


def test_result_object():
    res = pool_proportions([21, 19, 7, 76], [22, 22, 10, 99], labels=list("ABCD"), ci="hksj")
    assert res.method_text == ("Random-effects model, REML estimate of τ², "
                               "Hartung-Knapp-Sidik-Jonkman CI, logit transform")
    d = res.to_dict()
    assert "studies" not in d and d["k"] == 4 and d["n_total"] == 153 and d["events_total"] == 123
    assert all(np.isscalar(v) or v is None for v in d.values())
    assert list(res.studies.columns) == ["label", "events", "total", "cc_applied", "yi", "vi",
                                         "estimate", "ci_low", "ci_high", "weight"]
    assert res.studies.weight.sum() == pytest.approx(100)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.estimate = 0.5
    two = pool_two_arm([54, 20], [100, 50], [30, 12], [98, 51], measure="OR", model="fixed")
    assert two.method_text == "Common-effect (fixed) model, Wald (z) CI, log odds ratio"
    assert list(two.studies.columns[:5]) == ["label", "events_t", "total_t", "events_c", "total_c"]
    assert pool_proportions([1, 2], [5, 6], transform="ft", tau2="PM").method_text.endswith(
        "Paule-Mandel estimate of τ², Wald (z) CI, Freeman-Tukey double-arcsine transform")


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: pool_proportions([1, 2], [10]), "same length"),
        (lambda: pool_proportions([-1, 2], [10, 10]), "events must be >= 0"),
        (lambda: pool_proportions([11, 2], [10, 10]), "events must not exceed totals"),
        (lambda: pool_proportions([], []), "k = 0"),
        (lambda: pool_proportions([1.5, 2], [10, 10]), "whole numbers"),
        (lambda: pool_proportions([1, 2], [0, 10]), "totals must be >= 1"),
        (lambda: pool_proportions([1, 2], [10, 10], transform="arcsine"), "transform 'arcsine'.*'logit', 'ft', 'raw'"),
        (lambda: pool_proportions([1, 2], [10, 10], model="mixed"), "model 'mixed'.*'fixed', 'random'"),
        (lambda: pool_proportions([1, 2], [10, 10], tau2="SJ"), "tau2 estimator 'SJ'.*'DL', 'REML', 'PM'"),
        (lambda: pool_proportions([1, 2], [10, 10], ci="t"), "ci method 't'.*'z', 'hksj'"),
        (lambda: pool_proportions([1, 2], [10, 10], alpha=1.0), "alpha must be"),
        (lambda: pool_proportions([1, 2], [10, 10], labels=["a"]), "one entry per study"),
        (lambda: pool_proportions([0, 2], [10, 10], cc=0), "cc > 0"),
        (lambda: pool_two_arm([1], [10], [2], [10], measure="HR"), "measure 'HR'.*'RD', 'RR', 'OR'"),
        (lambda: pool_two_arm([1, 2], [10, 10], [2], [10]), "same length"),
        (lambda: pool_two_arm([1], [10], [12], [10]), "events_c must not exceed totals_c"),
        (lambda: leave_one_out(pool_proportions, [1], [10]), "at least 2 studies"),
        (lambda: subgroup_analysis(pool_proportions, [1, 2], [10, 10], groups=["a", "a"]), "at least 2 subgroups"),
    ],
)
def test_invalid_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_leave_one_out_frame():
    out = leave_one_out(pool_proportions, [21, 19, 7, 76], [22, 22, 10, 99], labels=list("ABCD"))
    assert list(out.omitted) == list("ABCD") and (out.k == 3).all()
    direct = pool_proportions([21, 19, 7], [22, 22, 10])
    assert out.estimate.iloc[3] == direct.estimate
    assert isinstance(direct, PoolResult)


def test_modified_hksj_is_never_narrower_than_wald():
    # Two trials that agree closely: the HKSJ variance factor is < 1, so plain HKSJ can be
    # narrower than Wald on the log scale only through the t quantile; the modified version
    # (variance factor max(1, q), metafor test="adhoc") is at least as wide as Wald.
    args = ([12, 14], [300, 310], [6, 7], [300, 305])
    z = pool_two_arm(*args, measure="RR", ci="z")
    adhoc = pool_two_arm(*args, measure="RR", ci="hksj-adhoc")
    plain = pool_two_arm(*args, measure="RR", ci="hksj")
    assert adhoc.se >= z.se and plain.se < z.se
    assert adhoc.ci_high - adhoc.ci_low >= z.ci_high - z.ci_low


def test_no_prediction_interval_below_three_studies():
    two = pool_proportions([5, 9], [20, 25])
    three = pool_proportions([5, 9, 14], [20, 25, 30])
    assert math.isnan(two.pi_low) and math.isnan(two.pi_high)
    # k = 3: t with k - 2 = 1 df (12.71 at 95%), by hand from the fit's own mu, se and tau2
    half = 12.706204736174707 * math.sqrt(three.tau2 + three.se ** 2)
    from scipy.special import expit
    assert math.isclose(three.pi_low, expit(three.mu - half), rel_tol=1e-9)
    assert math.isclose(three.pi_high, expit(three.mu + half), rel_tol=1e-9)
