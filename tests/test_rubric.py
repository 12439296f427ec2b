"""The verdict rubric on constructed claims: each expectation is derived by hand from the rule
as the report states it, not from the code's output."""

import math

import pandas as pd
import pytest

from evtreport import rubric
from evtreport.rubric import (CONTRADICTED, NOT_VERIFIABLE, NOT_VERIFIABLE_DESIGN, PARTLY,
                              SUPPORTED)


class Data:
    """The three tables a rule reads, with the dataset's row lookup."""

    def __init__(self, effects=(), outcomes=(), baseline=()):
        self.effects = pd.DataFrame(list(effects), columns=["row_id", "measure", "estimate",
                                                             "ci_low", "ci_high"])
        self.outcomes = pd.DataFrame(list(outcomes), columns=[
            "row_id", "estimate_type", "events", "total", "reported_percent", "reported_ci_low",
            "reported_ci_high"])
        self.baseline = pd.DataFrame(list(baseline), columns=["row_id", "statistic", "value",
                                                               "count", "reported_percent"])

    def row(self, row_id):
        for df in (self.effects, self.outcomes, self.baseline):
            hit = df[df["row_id"] == row_id]
            if not hit.empty:
                return hit.iloc[0]
        raise KeyError(row_id)


def effect(row_id, est, lo, hi, measure="OR"):
    return (row_id, measure, est, lo, hi)


def rate(row_id, events, total, pct=math.nan, lo=math.nan, hi=math.nan):
    return (row_id, "observed", events, total, pct, lo, hi)


def check(rule, n=1, **kw):
    c = {"check_id": f"x.c1.{n}", "claim_id": "x.c1", "rule": rule, "rows": "", "direction": "",
         "comparison": "", "threshold": math.nan, "stated": "", "finding": ""}
    c.update(kw)
    return c


def rate_of(data, rule, **kw):
    return rubric.rate_check(check(rule, **kw), data)


# -- effect words need an interval that excludes no effect -------------------------------------

INTERVALS = Data(effects=[
    effect("crosses", 0.90, 0.67, 1.22),           # crosses 1
    effect("above", 1.89, 1.14, 3.12),            # entirely above 1
    effect("touches", 0.56, 0.32, 1.00),          # reaches 1.00: does not exclude it
    effect("below", 0.60, 0.46, 0.77),
    effect("rd-crosses", 5.0, -1.0, 11.0, "risk difference"),   # null is 0, not 1
    effect("rd-above", 5.0, 2.0, 8.0, "risk difference"),
    effect("no-ci", 0.75, math.nan, math.nan),
])


@pytest.mark.parametrize("rows, direction, expected", [
    ("crosses", "higher", CONTRADICTED),            # 'significantly improved', CI 0.67-1.22
    ("above", "higher", SUPPORTED),
    ("touches", "lower", CONTRADICTED),             # 'lower mortality', CI 0.32-1.00
    ("below", "lower", SUPPORTED),
    ("below", "higher", CONTRADICTED),              # excludes 1 on the other side
    ("above;crosses", "higher", PARTLY),            # one interval shows it, one does not
    ("rd-crosses", "higher", CONTRADICTED),
    ("rd-above", "higher", SUPPORTED),
    ("no-ci", "lower", NOT_VERIFIABLE),
])
def test_effect_needs_an_interval_excluding_no_effect(rows, direction, expected):
    assert rate_of(INTERVALS, "effect-interval", rows=rows, direction=direction).verdict == expected


def test_an_interval_reaching_one_does_not_exclude_it():
    res = rate_of(INTERVALS, "effect-interval", rows="touches", direction="lower")
    assert [t.outcome for t in res.tests] == ["includes"]
    assert res.tests[0].null == 1.0
    rd = rate_of(INTERVALS, "effect-interval", rows="rd-crosses", direction="higher")
    assert rd.tests[0].null == 0.0


def test_effect_without_comparison_is_not_verifiable_from_the_design():
    assert rate_of(INTERVALS, "effect-interval", direction="higher",
                   comparison="no").verdict == NOT_VERIFIABLE_DESIGN
    # a comparison exists but its interval was not reported: not verifiable
    assert rate_of(INTERVALS, "effect-interval", direction="higher",
                   comparison="yes").verdict == NOT_VERIFIABLE


# -- a dropped qualifier caps the claim -------------------------------------------------------

def claim_of(*results):
    return rubric.combine("x.c1", results).verdict


def result(rule, verdict, n=1):
    return rubric.CheckResult(f"x.c1.{n}", "x.c1", rule, verdict, "curators-reading")


def test_dropped_qualifier_makes_a_supported_claim_partly_supported():
    said = rate_of(Data(), "source-says", finding="supported")
    dropped = rate_of(Data(), "qualifier-dropped", n=2)
    assert said.verdict == SUPPORTED and dropped.verdict == PARTLY
    assert claim_of(said) == SUPPORTED
    v = rubric.combine("x.c1", [said, dropped])
    assert v.verdict == PARTLY and v.rules == ("qualifier-dropped",)


def test_dropped_qualifier_never_raises_a_verdict():
    contradicted = result("effect-interval", CONTRADICTED)
    dropped = result("qualifier-dropped", PARTLY, 2)
    assert claim_of(contradicted, dropped) == CONTRADICTED


def test_a_claim_needs_a_check_besides_the_qualifier():
    with pytest.raises(ValueError, match="no check other than qualifier-dropped"):
        rubric.combine("x.c1", [result("qualifier-dropped", PARTLY)])


# -- safety words need a comparator or an explicit threshold ----------------------------------

HARM = Data(
    effects=[effect("more-harm", 2.39, 1.26, 4.53, "risk ratio"),
             effect("similar", 0.92, 0.60, 1.43), effect("less-harm", 0.50, 0.30, 0.80)],
    outcomes=[rate("one-in-22", 1, 22, 4.5), rate("one-in-200", 1, 200),
              rate("half", 50, 100), rate("pooled", None, 971, 6.0, 4.0, 10.0)])


def test_safety_claim_without_comparator_is_not_verifiable_from_the_design():
    # 'did not increase the risk' in a single-arm series: the rates alone decide nothing
    res = rate_of(HARM, "safety-comparator", rows="one-in-22", comparison="no")
    assert res.verdict == NOT_VERIFIABLE_DESIGN and res.reason == "no-comparison-no-threshold"


@pytest.mark.parametrize("rows, margin, expected", [
    ("more-harm", math.nan, CONTRADICTED),     # harm interval entirely above 1
    ("similar", math.nan, PARTLY),             # includes 1: no increase found, none excluded
    ("less-harm", math.nan, SUPPORTED),
    ("similar", 1.5, SUPPORTED),               # below a margin the source set
    ("similar", 1.2, PARTLY),                  # upper limit 1.43 above that margin
    ("similar;more-harm", math.nan, CONTRADICTED),
])
def test_safety_claim_with_comparator(rows, margin, expected):
    assert rate_of(HARM, "safety-comparator", rows=rows, threshold=margin).verdict == expected


def wilson(x, n, z=1.959963984540054):
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return 100 * (centre - half), 100 * (centre + half)


def test_safety_threshold_needs_a_precise_enough_rate():
    lo, hi = wilson(1, 22)
    assert round(lo, 1) == 0.8 and round(hi, 1) == 21.8       # by hand: 0.81 % to 21.80 %
    res = rate_of(HARM, "safety-comparator", rows="one-in-22", threshold=10)
    assert res.verdict == NOT_VERIFIABLE_DESIGN and res.reason == "imprecise"
    assert res.tests[0].low == pytest.approx(lo, abs=1e-6)
    assert res.tests[0].high == pytest.approx(hi, abs=1e-6)
    lo200, hi200 = wilson(1, 200)
    assert hi200 < 10
    assert rate_of(HARM, "safety-comparator", rows="one-in-200", threshold=10).verdict == SUPPORTED
    assert rate_of(HARM, "safety-comparator", rows="half", threshold=10).verdict == CONTRADICTED
    # a printed interval (pooled 6 %, 4-10) is used as printed: 10 is not below 10
    assert rate_of(HARM, "safety-comparator", rows="pooled", threshold=10).verdict == \
        NOT_VERIFIABLE_DESIGN
    assert rate_of(HARM, "safety-comparator", rows="pooled", threshold=12).verdict == SUPPORTED


# -- figures, readings, and combining ---------------------------------------------------------

FIGURES = Data(outcomes=[rate("r84", None, 971, 84.0), rate("r54", None, 255, 54.1),
                         rate("staged", 5, 6), rate("alone", 6, 22, 27.3)],
               baseline=[("nihss", "mean_sd", 11.2, None, math.nan)])


@pytest.mark.parametrize("rows, stated, expected", [
    ("r84", "84%", SUPPORTED),
    ("r54", "57-60%", CONTRADICTED),     # 54.1 is outside 57-60
    ("r54", "54%", SUPPORTED),           # 54.1 printed to whole percent
    ("alone;staged", "6;6", CONTRADICTED),   # 6 with angioplasty alone, but 5 staged
    ("nihss", "11.2", SUPPORTED),
])
def test_figures_must_match_the_source(rows, stated, expected):
    assert rate_of(FIGURES, "figures-match", rows=rows, stated=stated).verdict == expected


def test_reading_unmeasured_and_unread():
    assert rate_of(Data(), "source-says", finding="contradicted").verdict == CONTRADICTED
    assert rate_of(Data(), "not-measured").verdict == NOT_VERIFIABLE_DESIGN
    assert rate_of(Data(), "not-found").verdict == NOT_VERIFIABLE
    with pytest.raises(ValueError, match="unknown rule"):
        rate_of(Data(), "gut-feeling")


@pytest.mark.parametrize("verdicts, expected", [
    ((SUPPORTED, SUPPORTED), SUPPORTED),
    ((SUPPORTED, NOT_VERIFIABLE_DESIGN), PARTLY),      # 'rescue often needed, and safe'
    ((PARTLY, CONTRADICTED), PARTLY),
    ((NOT_VERIFIABLE, NOT_VERIFIABLE_DESIGN), NOT_VERIFIABLE_DESIGN),
    ((NOT_VERIFIABLE_DESIGN, CONTRADICTED, NOT_VERIFIABLE), CONTRADICTED),
    ((NOT_VERIFIABLE,), NOT_VERIFIABLE),
])
def test_claim_verdict_from_its_checks(verdicts, expected):
    results = [result("effect-interval", v, i) for i, v in enumerate(verdicts)]
    assert claim_of(*results) == expected


def test_deciding_rules_are_named():
    v = rubric.combine("x.c1", [result("source-says", SUPPORTED, 1),
                                result("safety-comparator", NOT_VERIFIABLE_DESIGN, 2),
                                result("effect-interval", NOT_VERIFIABLE_DESIGN, 3)])
    assert v.verdict == PARTLY
    assert v.rules == ("effect-interval", "safety-comparator")   # the ones that limited it
    assert set(rubric.RULES) == {"not-found", "effect-interval", "qualifier-dropped",
                                 "safety-comparator", "figures-match", "source-says",
                                 "not-measured"}
