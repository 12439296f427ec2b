"""GRADE logic: absolute effects, NNT/NNH, certainty rules and statements.

Expected values are derived by hand (arithmetic in the comments) or quoted from the
Cochrane Handbook 5.1 worked examples (§12.5.4.1-12.5.4.3) and Altman, BMJ 1998;317:1309;
the optimal information size is checked against R's power.prop.test.
"""

import math
import shutil
import subprocess

import pytest

from evtreport import grade as g
from evtreport.meta import pool_two_arm


def per1000(effect):
    return tuple(round(v, 6) for v in effect.difference_per1000)


# --------------------------------------------------------------------------- absolute effects
def test_rr_handbook_example():
    # Handbook 5.1 §12.5.4.2: RR 0.92, ACR 0.3 -> "24 fewer per 1000", "The NNT is 42".
    # 0.3 x 0.92 = 0.276; 0.276 - 0.3 = -0.024; 1/0.024 = 41.7 -> rounded up 42.
    e = g.absolute_effect("RR", 0.92, 0.92, 0.92, risk_control=0.3)
    assert e.risk_evt == pytest.approx(0.276)
    assert g.format_per1000(e.difference_per1000[0]) == "24 fewer"
    assert g.nnt(e, desirable=False).text() == "NNTB 42 (95% CI 42 to 42)"


def test_or_handbook_example():
    # Handbook 5.1 §12.5.4.3: OR 0.73, ACR 0.3 -> "62 fewer per 1000", "The NNT is 17".
    # 0.73 x 0.3 / (1 - 0.3 + 0.73 x 0.3) = 0.219 / 0.919 = 0.238303; 0.238303 - 0.3 = -0.061697
    # -> 61.7 fewer per 1000 -> "62 fewer"; 1/0.061697 = 16.2 -> 17.
    e = g.absolute_effect("OR", 0.73, 0.73, 0.73, risk_control=0.3)
    assert e.risk_evt == pytest.approx(0.219 / 0.919)
    assert g.format_per1000(e.difference_per1000[0]) == "62 fewer"
    assert g.nnt(e, desirable=False).text().startswith("NNTB 17 ")


@pytest.mark.parametrize("rd, expected", [(-0.12, 9), (-0.22, 5)])
def test_rd_handbook_nnt(rd, expected):
    # Handbook 5.1 §12.5.4.1: "if the risk difference is -0.12 the NNT is 9; if -0.22 the NNT is 5"
    # 1/0.12 = 8.33 -> 9; 1/0.22 = 4.55 -> 5.
    e = g.absolute_effect("RD", rd, rd, rd, risk_control=0.5)
    assert g.nnt(e, desirable=False).text().startswith(f"NNTB {expected} ")


def test_ci_from_relative_ci():
    # RR 0.92 (0.85 to 1.30) at ACR 0.3: 0.3 x (0.92, 0.85, 1.30) = (0.276, 0.255, 0.39)
    # -> differences (-24, -45, +90) per 1000.
    e = g.absolute_effect("RR", 0.92, 0.85, 1.30, risk_control=0.3)
    assert per1000(e) == (-24.0, -45.0, 90.0)
    assert (e.control_per1000, round(e.evt_per1000, 6)) == (300.0, 276.0)
    assert not e.clamped


# Control risk 0.3 and EVT risk 0.4 (CI 0.35 to 0.45) written as each measure:
#   RR = 0.4/0.3 = 4/3,               CI 0.35/0.3 = 7/6  to 0.45/0.3 = 3/2
#   OR = (0.4/0.6)/(0.3/0.7) = 14/9,  CI (0.35/0.65)/(3/7) = 49/39 to (0.45/0.55)/(3/7) = 21/11
#   RD = 0.10,                        CI 0.05 to 0.15
# Every one gives 100 more per 1000 (50 more to 150 more) and, for a desirable outcome,
# NNTB 1/0.10 = 10 with CI 1/0.15 = 6.7 -> 7 to 1/0.05 = 20.
CONSISTENT = {"RR": (4 / 3, 7 / 6, 3 / 2), "OR": (14 / 9, 49 / 39, 21 / 11), "RD": (0.10, 0.05, 0.15)}


@pytest.mark.parametrize("measure", g.MEASURES)
def test_measures_consistent_exact(measure):
    e = g.absolute_effect(measure, *CONSISTENT[measure], risk_control=0.3)
    assert e.difference_per1000 == pytest.approx((100.0, 50.0, 150.0))
    assert g.nnt(e, desirable=True).text() == "NNTB 10 (95% CI 7 to 20)"


# The same effects as a report prints them (two decimals): RR 1.33 (1.17 to 1.50),
# OR 1.56 (1.26 to 1.91), RD 0.10 (0.05 to 0.15). OR 1.56: 0.468/1.168 = 0.40068 -> 100.7;
# RR 1.33: 0.399 -> 99. They agree with 100 (50 to 150) within 2 per 1000.
@pytest.mark.parametrize("measure, rel", [("RR", (1.33, 1.17, 1.50)), ("OR", (1.56, 1.26, 1.91)),
                                          ("RD", (0.10, 0.05, 0.15))])
def test_measures_consistent_rounded(measure, rel):
    e = g.absolute_effect(measure, *rel, risk_control=0.3)
    assert e.difference_per1000 == pytest.approx((100.0, 50.0, 150.0), abs=2.0)


def test_imprecision_same_for_all_measures():
    mid = g.mid_from_rr(0.3)  # 75 fewer / 75 more per 1000
    bases = {g.imprecision(g.absolute_effect(m, *CONSISTENT[m], risk_control=0.3), mid=mid,
                           participants=5000).basis for m in g.MEASURES}
    assert bases == {"ci_crosses_mid"}  # 50 < 75 < 150


@pytest.mark.parametrize("measure, rel, acr, expected", [
    ("RR", (3.0, 2.0, 4.0), 0.5, (500.0, 500.0, 500.0)),   # 0.5 x 3 = 1.5 -> 1; 1 - 0.5 = 0.5
    ("RD", (0.3, 0.1, 0.5), 0.8, (200.0, 100.0, 200.0)),   # 0.8 + 0.3 = 1.1 -> 1; 0.8 + 0.1 = 0.9
    ("RD", (-0.3, -0.4, -0.1), 0.2, (-200.0, -200.0, -100.0)),  # 0.2 - 0.3 < 0 -> 0
])
def test_clamped_to_0_1000(measure, rel, acr, expected):
    e = g.absolute_effect(measure, *rel, risk_control=acr)
    assert per1000(e) == expected
    assert e.clamped
    assert 0 <= e.risk_evt_low <= e.risk_evt <= e.risk_evt_high <= 1


def test_absolute_from_pool_uses_pooled_relative_effect():
    pool = pool_two_arm([30, 45], [100, 120], [20, 30], [100, 110], measure="OR")
    e = g.absolute_from_pool(pool, risk_control=0.25)
    ref = g.absolute_effect("OR", pool.estimate, pool.ci_low, pool.ci_high, risk_control=0.25)
    assert e == ref and e.measure == "OR"


@pytest.mark.parametrize("kwargs, match", [
    (dict(measure="HR", estimate=1, ci_low=1, ci_high=1, risk_control=0.2), "Unknown measure 'HR'"),
    (dict(measure="RR", estimate=1.2, ci_low=1.3, ci_high=1.5, risk_control=0.2), "ci_low <= estimate"),
    (dict(measure="RR", estimate=1, ci_low=0, ci_high=2, risk_control=0.2), "must be > 0"),
    (dict(measure="RR", estimate=1, ci_low=0.5, ci_high=2, risk_control=1.2), "risk_control"),
    (dict(measure="RD", estimate=0.1, ci_low=-1.5, ci_high=0.2, risk_control=0.2), "ci_low"),
    (dict(measure="OR", estimate=float("nan"), ci_low=0.5, ci_high=2, risk_control=0.2), "estimate"),
])
def test_absolute_effect_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        g.absolute_effect(kwargs.pop("measure"), kwargs.pop("estimate"), kwargs.pop("ci_low"),
                          kwargs.pop("ci_high"), **kwargs)


@pytest.mark.parametrize("x, text", [(-61.7, "62 fewer"), (40.2, "40 more"), (0.3, "0"),
                                     (-0.4, "0"), (2.5, "3 more"), (-2.5, "3 fewer")])
def test_format_per1000(x, text):
    assert g.format_per1000(x) == text


# --------------------------------------------------------------------------- NNT / NNH
def test_altman_convention():
    # Altman 1998 (as restated in Newcombe's response, BMJ 1999): an ARR CI of -5% to +25%
    # inverts to "NNTB 4, through infinity, to NNTH 20": 1/0.25 = 4, 1/0.05 = 20.
    # Here RD 0.10 (-0.05 to 0.25) on a desirable outcome; point estimate 1/0.10 = NNTB 10.
    e = g.absolute_effect("RD", 0.10, -0.05, 0.25, risk_control=0.3)
    n = g.nnt(e, desirable=True)
    assert n.crosses_null and n.kind == "NNTB"
    assert n.nntb == pytest.approx((4.0, math.inf)) and n.nnth == pytest.approx((20.0, math.inf))
    assert n.text() == "NNTB 10 (95% CI NNTB 4 to ∞ to NNTH 20)"


def test_altman_convention_undesirable_outcome():
    # Death, RR 0.92 (0.85 to 1.30) at ACR 0.3: differences -24, -45, +90 per 1000, so the
    # benefit (fewer deaths) is 0.024 (-0.090 to 0.045): NNTB 1/0.024 = 41.7 -> 42;
    # NNTB limit 1/0.045 = 22.2 -> 23; NNTH limit 1/0.090 = 11.1 -> 12.
    n = g.nnt(g.absolute_effect("RR", 0.92, 0.85, 1.30, risk_control=0.3), desirable=False)
    assert n.text() == "NNTB 42 (95% CI NNTB 23 to ∞ to NNTH 12)"


def test_nnth_whole_ci_harm():
    # sICH, RD +0.05 (0.02 to 0.08): harm; NNTH 1/0.05 = 20, CI 1/0.08 = 12.5 -> 13 to 1/0.02 = 50.
    n = g.nnt(g.absolute_effect("RD", 0.05, 0.02, 0.08, risk_control=0.05), desirable=False)
    assert (n.kind, n.nntb) == ("NNTH", None)
    assert n.text() == "NNTH 20 (95% CI 13 to 50)"
    # The same risks on a desirable outcome are a harm too when they are fewer good outcomes.
    n = g.nnt(g.absolute_effect("RD", -0.05, -0.08, -0.02, risk_control=0.4), desirable=True)
    assert n.text() == "NNTH 20 (95% CI 13 to 50)"


def test_nnt_point_estimate_of_no_difference():
    n = g.nnt(g.absolute_effect("RR", 1.0, 0.5, 1.5, risk_control=0.2), desirable=True)
    # differences 0, -100, +100 per 1000: NNTB 1/0.1 = 10 and NNTH 10 at the limits.
    assert n.kind == "none" and math.isinf(n.value)
    assert n.text() == "NNT ∞ (95% CI NNTB 10 to ∞ to NNTH 10)"


def test_nnt_ci_touching_null():
    # RD 0.1 (0 to 0.2): the CI reaches no effect but holds no harm: NNTB 1/0.2 = 5 to ∞.
    n = g.nnt(g.absolute_effect("RD", 0.1, 0.0, 0.2, risk_control=0.3), desirable=True)
    assert n.nnth is None and n.text() == "NNTB 10 (95% CI 5 to ∞)"


# --------------------------------------------------------------------------- OIS and MID
def test_ois_hand_derived():
    # ACR 0.2, RRR 25%: p2 = 0.15, p̄ = 0.175;
    # n = [1.959964·√(2·0.175·0.825) + 0.841621·√(0.2·0.8 + 0.15·0.85)]² / 0.05²
    #   = [1.959964·0.537355 + 0.841621·0.536190]² / 0.0025 = 1.504465² / 0.0025 = 905.37
    # -> 906 per arm, 1812 in all (GRADE 6, via KCE: "the OIS is approximately 2 000 patients").
    assert g.optimal_information_size(0.2) == 1812


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed")
@pytest.mark.parametrize("acr, rrr", [(0.2, 0.25), (0.4, 0.25), (0.05, 0.25), (0.3, 0.2)])
def test_ois_against_r_power_prop_test(acr, rrr):
    code = f"cat(format(power.prop.test(p1={acr}, p2={acr}*(1-{rrr}), power=0.8)$n, digits=15))"
    n = float(subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, check=True).stdout)
    assert g.optimal_information_size(acr, rrr=rrr) == 2 * math.ceil(n)


def test_mid_from_rr():
    # GRADE's RR 0.75 / 1.25 at ACR 0.4: 1000 x 0.4 x 0.25 = 100 fewer and 100 more per 1000.
    m = g.mid_from_rr(0.4)
    assert (m.reduction, m.increase) == pytest.approx((100.0, 100.0))
    with pytest.raises(ValueError, match="rr_low"):
        g.mid_from_rr(0.4, rr_low=1.2)


# --------------------------------------------------------------------------- inconsistency
def incons(i2, estimates, low, high, null=1.0):
    return g.inconsistency(i2=i2, k=len(estimates), estimates=estimates, ci_low=low, ci_high=high,
                           null=null, labels=[f"T{i + 1}" for i in range(len(estimates))])


SAME_SIDE = ([1.3, 1.5, 1.4], [1.0, 1.1, 1.05], [1.7, 2.0, 1.9])


def test_inconsistency_i2_0_percent():
    j = incons(0.0, *SAME_SIDE)
    assert (j.downgrade, j.basis) == (0, "consistent")
    assert "I² = 0% across three studies, below 50%" in g.reason_text(j)


def test_inconsistency_i2_80_percent_same_side():
    j = incons(80.0, *SAME_SIDE)
    assert (j.downgrade, j.basis) == (1, "i2_considerable")


def test_inconsistency_i2_80_percent_both_sides():
    j = incons(80.0, [0.7, 1.5, 1.4], [0.5, 1.1, 1.05], [0.95, 2.0, 1.9])
    assert (j.downgrade, j.basis) == (2, "i2_considerable_opposite")
    # T1's CI (0.5 to 0.95) ends below T2's lower limit (1.1).
    assert "confidence intervals of T2 and T1 do not overlap" in g.reason_text(j)


@pytest.mark.parametrize("i2, level", [(49.9, 0), (50.0, 1), (74.9, 1), (75.0, 1)])
def test_inconsistency_thresholds(i2, level):
    assert incons(i2, *SAME_SIDE).downgrade == level


def test_inconsistency_cis_apart_with_low_i2():
    j = incons(30.0, [1.2, 2.5], [1.0, 2.1], [1.4, 3.0])
    assert (j.downgrade, j.basis, j.facts["apart_pair"]) == (1, "cis_apart", ("T2", "T1"))


def test_inconsistency_single_study():
    j = incons(float("nan"), [1.2], [1.0], [1.4])
    assert (j.downgrade, j.basis) == (0, "single_study")
    assert str(g.reason_text(j)) == "Not assessable: the evidence comes from a single study."


def test_inconsistency_from_pool():
    # Two identical trials: Q = 0, I² = 0. Two opposite trials: RR 2 vs 0.5, far apart.
    same = pool_two_arm([20, 20], [100, 100], [10, 10], [100, 100])
    assert g.inconsistency_from_pool(same).downgrade == 0
    apart = pool_two_arm([40, 10], [100, 100], [10, 40], [100, 100])
    j = g.inconsistency_from_pool(apart)
    assert apart.i2 > 75 and (j.downgrade, j.basis) == (2, "i2_considerable_opposite")
    assert j.facts["i2"] == pytest.approx(apart.i2)


def test_inconsistency_bad_input():
    with pytest.raises(ValueError, match="one value per trial"):
        g.inconsistency(i2=10, k=3, estimates=[1, 2], ci_low=[0, 1], ci_high=[2, 3], null=1)
    with pytest.raises(ValueError, match="i2"):
        incons(120.0, *SAME_SIDE)


# --------------------------------------------------------------------------- imprecision
# ACR 0.4 and GRADE's default MID: thresholds 100 fewer and 100 more per 1000; OIS 712.
MID = g.mid_from_rr(0.4)


def impr(rr, low, high, n=2000):
    return g.imprecision(g.absolute_effect("RR", rr, low, high, risk_control=0.4), mid=MID, participants=n)


def test_ci_crosses_the_mid():
    # RR 1.30 (1.15 to 1.47): 0.4 x (1.15, 1.47) - 0.4 = 60 to 188 more; 100 lies inside.
    j = impr(1.30, 1.15, 1.47)
    assert (j.downgrade, j.basis, j.facts["crossed"]) == (1, "ci_crosses_mid", ("increase",))
    assert "crosses the minimally important increase of 100 more per 1000" in g.reason_text(j)


def test_ci_does_not_cross_the_mid():
    # RR 1.40 (1.30 to 1.52): 120 to 208 more, wholly beyond 100; 2000 participants >= OIS 712.
    j = impr(1.40, 1.30, 1.52)
    assert (j.downgrade, j.basis) == (0, "precise")
    assert "reach the optimal information size of 712" in g.reason_text(j)


def test_ci_touching_the_mid_does_not_cross_it():
    # RR 1.40 (1.25 to 1.55): lower limit 0.4 x 1.25 - 0.4 = exactly 100 more, the MID itself.
    assert impr(1.40, 1.25, 1.55).basis == "precise"


def test_ci_crosses_both_mids():
    # RR 1.0 (0.70 to 1.40): 120 fewer to 160 more, beyond both thresholds.
    j = impr(1.0, 0.70, 1.40)
    assert (j.downgrade, j.basis) == (2, "ci_crosses_both_mids")


def test_precise_little_or_no_difference():
    # RR 1.0 (0.9 to 1.1): 40 fewer to 40 more, inside both thresholds although it includes 0.
    j = impr(1.0, 0.9, 1.1)
    assert (j.downgrade, j.facts["includes_null"], j.facts["direction"]) == (0, True, "little_or_no")


def test_ci_crossing_null_and_one_mid():
    # RR 1.20 (0.95 to 1.45): 20 fewer to 180 more: crosses 0 and +100 (one MID threshold).
    j = impr(1.20, 0.95, 1.45)
    assert (j.downgrade, j.facts["includes_null"]) == (1, True)
    assert "and includes no effect" in g.reason_text(j)


def test_ois_not_met():
    # Same precise CI as above but 200 participants < OIS 712 (0.4 vs 0.3: 356 per arm).
    j = impr(1.40, 1.30, 1.52, n=200)
    assert (j.downgrade, j.basis, j.facts["ois"]) == (1, "ois_not_met", 712)


def test_ci_and_ois_both_fail_rate_down_once():
    # The CI crosses +100 and 500 < 712: one concern (imprecision), one level; both are said.
    j = impr(1.30, 1.15, 1.47, n=500)
    assert (j.downgrade, j.basis) == (1, "ci_crosses_mid")
    assert "The 500 participants are fewer than the optimal information size of 712" in g.reason_text(j)


def test_stated_mid_is_cited():
    mid = g.MID(50, 50, source="Cranston et al. <2017>")
    j = g.imprecision(g.absolute_effect("RD", 0.1, 0.06, 0.14, risk_control=0.4), mid=mid, participants=2000)
    assert j.downgrade == 0 and "Cranston et al. &lt;2017&gt;" in g.reason_text(j)


# --------------------------------------------------------------------------- publication bias, judged
def test_publication_bias_not_assessable_below_10():
    j = g.publication_bias(5)
    assert (j.downgrade, j.basis) == (0, "not_assessable")
    assert "five studies, fewer than the 10" in g.reason_text(j)


def test_publication_bias_needs_judgement_from_10():
    with pytest.raises(ValueError, match="must be judged"):
        g.publication_bias(10)
    pb = g.judged("publication_bias", 1, "Asymmetric funnel plot", [("small trials only", "Figure 3")])
    assert g.publication_bias(12, pb) is pb


def test_judged_requires_reason_and_source():
    with pytest.raises(ValueError, match="at least one source"):
        g.judged("risk_of_bias", 1, "Open label", [])
    with pytest.raises(ValueError, match="Source quote"):
        g.judged("risk_of_bias", 1, "Open label", [("", "p. 3")])
    with pytest.raises(ValueError, match="needs a reason"):
        g.judged("indirectness", 0, " ", [("q", "p. 1")])
    with pytest.raises(ValueError, match="0, 1 or 2"):
        g.judged("indirectness", 3, "Far", [("q", "p. 1")])
    with pytest.raises(ValueError, match="Unknown GRADE domain"):
        g.judged("bias", 0, "x", [("q", "p. 1")])


def test_judged_reason_escapes_data():
    j = g.judged("risk_of_bias", 1, "Open <b>label</b>", [("assessors <i>blinded</i>", "Methods, p. 3")])
    out = str(g.reason_text(j))
    assert out == "Open &lt;b&gt;label&lt;/b&gt; (“assessors &lt;i&gt;blinded&lt;/i&gt;”, Methods, p. 3)."


# --------------------------------------------------------------------------- certainty
def rob(n):
    return g.judged("risk_of_bias", n, "Open-label design", [("PROBE design", "Methods, p. 2")])


def ind(n):
    return g.judged("indirectness", n, "Same population", [("M2 occlusions", "Table 1")])


def test_randomized_starts_high():
    c = g.rate_certainty("randomized", [rob(0), incons(0, *SAME_SIDE), ind(0), impr(1.4, 1.3, 1.52),
                                        g.publication_bias(3)])
    assert (c.rating, c.label, c.symbols) == (4, "High", "⊕⊕⊕⊕")


def test_levels_and_symbols():
    # High (4) minus risk of bias (1) and imprecision (1) = Low (2).
    c = g.rate_certainty("randomized", [rob(1), incons(0, *SAME_SIDE), ind(0), impr(1.3, 1.15, 1.47),
                                        g.publication_bias(3)])
    assert (c.rating, c.label, c.symbols) == (2, "Low", "⊕⊕◯◯")
    assert c.downgrades == {"risk_of_bias": 1, "inconsistency": 0, "indirectness": 0,
                            "imprecision": 1, "publication_bias": 0}
    notes = [str(f) for f in g.footnotes(c)]
    assert [n.split(",")[0] for n in notes] == ["Risk of bias", "Imprecision", "Publication bias"]
    assert notes[0].startswith("Risk of bias, rated down one level: Open-label design")
    assert notes[2].startswith("Publication bias, not rated down: Not assessable")
    assert g.SYMBOLS == {4: "⊕⊕⊕⊕", 3: "⊕⊕⊕◯", 2: "⊕⊕◯◯", 1: "⊕◯◯◯"}


def test_floor_at_very_low_and_observational_start():
    opposite = incons(80, [0.7, 1.5, 1.4], [0.5, 1.1, 1.05], [0.95, 2.0, 1.9])
    c = g.rate_certainty("randomized", [rob(2), opposite, ind(1), impr(1.0, 0.7, 1.4), g.publication_bias(3)])
    assert (c.rating, c.label, c.symbols) == (1, "Very low", "⊕◯◯◯")
    obs = g.rate_certainty("observational", [rob(0), incons(0, *SAME_SIDE), ind(0), impr(1.3, 1.15, 1.47),
                                             g.publication_bias(4)])
    assert (obs.start, obs.rating, obs.label) == (2, 1, "Very low")
    series = g.rate_certainty("case_series", [rob(0), incons(0, *SAME_SIDE), ind(0), impr(1.4, 1.3, 1.52),
                                              g.publication_bias(4)])
    assert series.rating == 1


def test_rate_certainty_bad_input():
    five = [rob(0), incons(0, *SAME_SIDE), ind(0), impr(1.4, 1.3, 1.52), g.publication_bias(3)]
    with pytest.raises(ValueError, match="Missing GRADE domain.*indirectness"):
        g.rate_certainty("randomized", five[:2] + five[3:])
    with pytest.raises(ValueError, match="Two judgements"):
        g.rate_certainty("randomized", five + [rob(1)])
    with pytest.raises(ValueError, match="Unknown study design 'rct'"):
        g.rate_certainty("rct", five)


# --------------------------------------------------------------------------- statements
@pytest.mark.parametrize("rating, direction, expected", [
    (4, "increase", "EVT increases a favourable outcome."),
    (4, "little_or_no", "EVT results in little to no difference in a favourable outcome."),
    (3, "reduction", "EVT probably reduces a favourable outcome."),
    (3, "little_or_no", "EVT probably results in little to no difference in a favourable outcome."),
    (2, "increase", "EVT may increase a favourable outcome."),
    (2, "little_or_no", "EVT may result in little to no difference in a favourable outcome."),
    (1, "increase", "The evidence is very uncertain about the effect of EVT on a favourable outcome."),
    (1, "little_or_no", "The evidence is very uncertain about the effect of EVT on a favourable outcome."),
])
def test_statement_wording(rating, direction, expected):
    assert str(g.statement(rating, direction, outcome="a favourable outcome")) == expected


def test_statement_from_certainty_and_effect():
    c = g.rate_certainty("randomized", [rob(1), incons(0, *SAME_SIDE), ind(0), impr(1.4, 1.3, 1.52),
                                        g.publication_bias(3)])
    e = g.absolute_effect("RR", 1.4, 1.3, 1.52, risk_control=0.4)
    out = g.statement(c, g.effect_direction(e, MID), outcome="death <90 days>",
                      comparator="medical treatment")
    assert str(out) == ("EVT probably increases death &lt;90 days&gt; "
                        "when compared with medical treatment.")


@pytest.mark.parametrize("rr, direction", [(1.25, "increase"), (1.2, "little_or_no"),
                                           (0.75, "reduction"), (0.8, "little_or_no")])
def test_effect_direction_against_mid(rr, direction):
    # ACR 0.4: RR 1.25 -> +100 (reaches the MID), RR 1.2 -> +80 (below it).
    e = g.absolute_effect("RR", rr, rr, rr, risk_control=0.4)
    assert g.effect_direction(e, MID) == direction


def test_statement_bad_input():
    with pytest.raises(ValueError, match="rating must be 1-4"):
        g.statement(5, "increase", outcome="x")
    with pytest.raises(ValueError, match="direction"):
        g.statement(3, "up", outcome="x")
