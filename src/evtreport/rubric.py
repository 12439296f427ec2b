"""The verdict rubric of the claims check: written rules, applied to the inputs in data/.

A claim (data/claims.csv) is rated through one or more checks (data/claim_checks.csv); each
check names the rule that rates it and holds the inputs that rule needs (the intervals to
test, the qualifier left out, whether the evidence has a comparison group ...). `rate_check`
applies a rule to one check and `combine` turns the check verdicts into the claim's verdict.
Numbers only; the words a reader sees are in `RULES` (what each rule asks) and in the
templates under text_templates/claims/.

Verdicts are addressed by key (`supported`, `partly_supported`, ...); `LABELS` holds the words
the data files and the reader use for them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

import pandas as pd

from .data import parse_stated

# -- verdicts -------------------------------------------------------------------------------

SUPPORTED = "supported"
PARTLY = "partly_supported"
CONTRADICTED = "contradicted"
NOT_VERIFIABLE = "not_verifiable"
NOT_VERIFIABLE_DESIGN = "not_verifiable_from_design"

#: verdict key -> label (as in data/ and in the report), in reading order
LABELS: dict[str, str] = {
    SUPPORTED: "supported",
    PARTLY: "partly supported",
    CONTRADICTED: "contradicted",
    NOT_VERIFIABLE: "not verifiable",
    NOT_VERIFIABLE_DESIGN: "not verifiable from the design",
}
KEYS = tuple(LABELS)
_BY_LABEL = {v: k for k, v in LABELS.items()}

#: when no check supports a claim, the claim takes the first of these its checks have
_SEVERITY = (CONTRADICTED, NOT_VERIFIABLE_DESIGN, NOT_VERIFIABLE)


def key_of(label: str) -> str:
    """Verdict key of a label as written in data/ ('partly supported' -> 'partly_supported')."""
    try:
        return _BY_LABEL[label]
    except KeyError:
        raise ValueError(f"unknown verdict {label!r}; expected one of {', '.join(LABELS.values())}")


# -- rules ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    id: str
    name: str       # short name shown in the verdict tables
    applies: str    # when the rule is used
    asks: str       # what it needs and how it rates


RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("effect-interval", "effect interval",
         "the claim asserts an effect or a difference: “significant(ly)”, “improved”, “reduced”, "
         "“associated with”, “effective”, “better”, “lower”",
         "Every interval cited for it must exclude no effect (1 for a ratio, 0 for a difference) "
         "on the side the claim asserts; an interval that reaches or crosses that value does not. "
         "All do: supported; some do: partly supported; none does: contradicted. Evidence "
         "without a comparison group: not verifiable from the design; an interval not reported: "
         "not verifiable."),
    Rule("safety-comparator", "safety comparator",
         "the claim asserts safety: “safe”, “acceptable”, “did not increase the risk”",
         "A comparison group is needed, or an explicit threshold with an estimate precise enough "
         "to be judged against it; otherwise not verifiable from the design. With a comparison: "
         "a harm interval entirely above no effect contradicts the claim; one entirely below it, "
         "or below a margin the source set, supports it; one that includes no effect supports it "
         "only partly (no increase was found, but none was excluded). With a threshold: the rate's "
         "interval entirely below it supports, entirely above contradicts, across it is not "
         "precise enough (not verifiable from the design)."),
    Rule("qualifier-dropped", "qualifier dropped",
         "the claim leaves out a qualifier or a condition that its source states",
         "The claim is at most partly supported, whatever its other checks give."),
    Rule("figures-match", "figures match",
         "the claim states figures (rates, counts, means)",
         "Each figure must equal the source's, at the precision the claim prints (a range must "
         "contain it); any figure that differs contradicts the claim."),
    Rule("source-says", "source reading",
         "the claim reports what a source states (a design, a recommendation, an attribution, a "
         "description of the patients)",
         "The curators' reading of the source, quoted where it was read, gives the verdict."),
    Rule("not-measured", "not measured",
         "the claim explains a result by a factor the study did not measure",
         "Not verifiable from the design."),
    Rule("not-found", "source not read",
         "the cited source, or the cited figure in it, could not be read",
         "Not verifiable."),
)}


# -- rating one check -----------------------------------------------------------------------

@dataclass(frozen=True)
class Test:
    """One data row as a rule used it: the figure and what the rule made of it."""
    row_id: str
    outcome: str          # see OUTCOME_WORDS
    estimate: float = math.nan
    low: float = math.nan
    high: float = math.nan
    null: float = 1.0
    stated: str = ""      # figures-match: the figure the claim states


#: what a rule found for one row
OUTCOME_WORDS = {
    "shows": "excludes no effect on the side claimed",
    "includes": "does not exclude no effect",
    "opposite": "excludes no effect on the other side",
    "missing": "interval not reported",
    "harm": "entirely above no effect (more harm)",
    "less-harm": "entirely below no effect (less harm)",
    "within-margin": "below the source's margin",
    "not-excluded": "does not exclude more harm",
    "below": "entirely below the threshold",
    "above": "entirely above the threshold",
    "across": "crosses the threshold",
    "match": "as the source prints it",
    "differs": "differs from the source",
}


@dataclass(frozen=True)
class CheckResult:
    check_id: str
    claim_id: str
    rule: str
    verdict: str                      # verdict key
    reason: str                       # a key of REASONS
    tests: tuple[Test, ...] = ()


#: why a check got its verdict (keys used by the templates)
REASONS = {
    "all-show": "every interval excludes no effect on the side claimed",
    "some-show": "some intervals exclude no effect, others do not",
    "none-show": "no interval excludes no effect on the side claimed",
    "no-interval": "the interval is not reported",
    "no-comparison": "the evidence has no comparison group",
    "no-comparison-no-threshold": "no comparison group and no explicit threshold",
    "harm-shown": "a comparison shows more harm",
    "harm-excluded": "the comparison excludes more harm",
    "harm-not-excluded": "no increase was found, but none was excluded",
    "below-threshold": "the interval lies below the stated threshold",
    "above-threshold": "the interval lies above the stated threshold",
    "imprecise": "the interval crosses the stated threshold (not precise enough)",
    "figures-match": "every figure is as the source prints it",
    "figures-differ": "a figure differs from the source",
    "qualifier": "a qualifier of the source is left out",
    "curators-reading": "the curators' reading of the source",
    "not-measured": "the study did not measure it",
    "not-found": "the source or figure could not be read",
}


def _split(cell: Any) -> list[str]:
    return [x.strip() for x in str(cell or "").split(";") if x.strip()]


def _num(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f


def _interval_test(row: pd.Series, direction: str) -> Test:
    null = 0.0 if row["measure"] == "risk difference" else 1.0
    est, lo, hi = _num(row["estimate"]), _num(row["ci_low"]), _num(row["ci_high"])
    if math.isnan(lo) or math.isnan(hi):
        outcome = "missing"
    elif (lo > null) if direction == "higher" else (hi < null):
        outcome = "shows"
    elif (hi < null) if direction == "higher" else (lo > null):
        outcome = "opposite"
    else:
        outcome = "includes"
    return Test(row["row_id"], outcome, est, lo, hi, null)


def _harm_test(row: pd.Series, margin: float) -> Test:
    null = 0.0 if row["measure"] == "risk difference" else 1.0
    est, lo, hi = _num(row["estimate"]), _num(row["ci_low"]), _num(row["ci_high"])
    if math.isnan(lo) or math.isnan(hi):
        outcome = "missing"
    elif lo > null:
        outcome = "harm"
    elif hi < null:
        outcome = "less-harm"
    elif not math.isnan(margin) and hi < margin:
        outcome = "within-margin"
    else:
        outcome = "not-excluded"
    return Test(row["row_id"], outcome, est, lo, hi, null)


def _rate_interval(row: pd.Series, method: str, alpha: float) -> tuple[float, float, float]:
    """A rate and its interval in percent: the source's interval if printed, else computed."""
    if not math.isnan(_num(row["reported_ci_low"])):
        return (_num(row["reported_percent"]), _num(row["reported_ci_low"]),
                _num(row["reported_ci_high"]))
    if pd.isna(row["events"]) or pd.isna(row["total"]):
        return _num(row["reported_percent"]), math.nan, math.nan
    from .ci import proportion_ci
    lo, hi = proportion_ci(int(row["events"]), int(row["total"]), method=method, alpha=alpha)
    return 100 * int(row["events"]) / int(row["total"]), 100 * lo, 100 * hi


def _figure_value(row: pd.Series, percent: bool) -> float:
    if "estimate_type" in row.index:       # outcomes.csv
        if percent:
            p = _num(row["reported_percent"])
            if math.isnan(p) and not pd.isna(row["events"]) and not pd.isna(row["total"]):
                p = 100 * int(row["events"]) / int(row["total"])
            return p
        return math.nan if pd.isna(row["events"]) else float(row["events"])
    if "statistic" in row.index:           # baseline.csv
        if percent:
            return _num(row["reported_percent"])
        if row["statistic"] == "count":
            return math.nan if pd.isna(row["count"]) else float(row["count"])
        return _num(row["value"])
    return math.nan


def _figures_test(row: pd.Series, figure: str) -> Test:
    lo, hi, decimals, percent = parse_stated(figure)
    value = _figure_value(row, percent)
    if math.isnan(value):
        return Test(row["row_id"], "missing", value, stated=figure)
    shown = round(value, decimals)
    ok = lo - 1e-9 <= shown <= hi + 1e-9
    return Test(row["row_id"], "match" if ok else "differs", value, stated=figure)


def rate_check(check: dict[str, Any] | pd.Series, ds, *, ci_method: str = "wilson",
               alpha: float = 0.05) -> CheckResult:
    """Apply the check's rule to its inputs (rows looked up in `ds`)."""
    c = dict(check)
    rule, rows = c["rule"], _split(c.get("rows"))

    def result(verdict: str, reason: str, tests: Iterable[Test] = ()) -> CheckResult:
        return CheckResult(c["check_id"], c["claim_id"], rule, verdict, reason, tuple(tests))

    effects = [ds.row(r) for r in rows if r in set(ds.effects["row_id"])]
    no_comparison = str(c.get("comparison") or "") == "no"

    if rule == "effect-interval":
        if not effects:
            return result(NOT_VERIFIABLE_DESIGN if no_comparison else NOT_VERIFIABLE,
                          "no-comparison" if no_comparison else "no-interval")
        tests = [_interval_test(r, c["direction"]) for r in effects]
        seen = {t.outcome for t in tests}
        if seen == {"shows"}:
            return result(SUPPORTED, "all-show", tests)
        if "shows" in seen:
            return result(PARTLY, "some-show", tests)
        if seen <= {"missing"}:
            return result(NOT_VERIFIABLE, "no-interval", tests)
        return result(CONTRADICTED, "none-show", tests)

    if rule == "safety-comparator":
        margin = _num(c.get("threshold"))
        if effects:
            tests = [_harm_test(r, margin) for r in effects]
            seen = {t.outcome for t in tests}
            if "harm" in seen:
                return result(CONTRADICTED, "harm-shown", tests)
            if seen <= {"less-harm", "within-margin"}:
                return result(SUPPORTED, "harm-excluded", tests)
            if seen <= {"missing"}:
                return result(NOT_VERIFIABLE, "no-interval", tests)
            return result(PARTLY, "harm-not-excluded", tests)
        rates = [ds.row(r) for r in rows if r in set(ds.outcomes["row_id"])]
        if not math.isnan(margin) and rates:
            tests = []
            for r in rates:
                est, lo, hi = _rate_interval(r, ci_method, alpha)
                out = ("missing" if math.isnan(lo) else "below" if hi < margin
                       else "above" if lo > margin else "across")
                tests.append(Test(r["row_id"], out, est, lo, hi, margin))
            seen = {t.outcome for t in tests}
            if "above" in seen:
                return result(CONTRADICTED, "above-threshold", tests)
            if seen == {"below"}:
                return result(SUPPORTED, "below-threshold", tests)
            return result(NOT_VERIFIABLE_DESIGN, "imprecise", tests)
        return result(NOT_VERIFIABLE_DESIGN, "no-comparison-no-threshold")

    if rule == "figures-match":
        figures = _split(c.get("stated"))
        tests = [_figures_test(ds.row(r), f) for r, f in zip(rows, figures)]
        seen = {t.outcome for t in tests}
        if "differs" in seen:
            return result(CONTRADICTED, "figures-differ", tests)
        if seen == {"match"}:
            return result(SUPPORTED, "figures-match", tests)
        return result(NOT_VERIFIABLE, "no-interval", tests)

    if rule == "qualifier-dropped":
        return result(PARTLY, "qualifier")
    if rule == "source-says":
        return result(key_of(c["finding"]), "curators-reading")
    if rule == "not-measured":
        return result(NOT_VERIFIABLE_DESIGN, "not-measured")
    if rule == "not-found":
        return result(NOT_VERIFIABLE, "not-found")
    raise ValueError(f"check {c.get('check_id')!r}: unknown rule {rule!r}; "
                     f"expected one of {', '.join(RULES)}")


# -- a claim from its checks ----------------------------------------------------------------

@dataclass(frozen=True)
class ClaimVerdict:
    claim_id: str
    verdict: str                    # verdict key
    rules: tuple[str, ...]          # the rules that decided it, in rubric order
    checks: tuple[CheckResult, ...]


def combine(claim_id: str, results: Iterable[CheckResult]) -> ClaimVerdict:
    """All checks supported: supported. Some checks supported or partly supported: partly
    supported. None: the first of contradicted, not verifiable from the design, not
    verifiable that a check gave. A dropped qualifier caps the claim at partly supported."""
    results = tuple(results)
    core = [r for r in results if r.rule != "qualifier-dropped"]
    capped = [r for r in results if r.rule == "qualifier-dropped"]
    if not core:
        raise ValueError(f"claim {claim_id!r}: no check other than qualifier-dropped")
    verdicts = {r.verdict for r in core}
    if verdicts == {SUPPORTED}:
        verdict, deciding = SUPPORTED, core
    elif verdicts & {SUPPORTED, PARTLY}:
        verdict, deciding = PARTLY, [r for r in core if r.verdict != SUPPORTED]
    else:
        verdict = next(v for v in _SEVERITY if v in verdicts)
        deciding = [r for r in core if r.verdict == verdict]
    if capped and verdict in (SUPPORTED, PARTLY):
        if verdict == SUPPORTED:
            deciding = []
        verdict = PARTLY
        deciding = list(deciding) + capped
    order = {rule: i for i, rule in enumerate(RULES)}
    rules = tuple(sorted({r.rule for r in deciding}, key=order.get))
    return ClaimVerdict(claim_id, verdict, rules, results)
