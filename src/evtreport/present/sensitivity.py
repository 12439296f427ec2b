"""The sensitivity table: the main estimates under one changed choice at a time."""

from __future__ import annotations

import pandas as pd

from .. import display as fmt
from .. import vocab
from ..analyses.sensitivity import ESTIMATES
from ..text import lower_first

TITLES = {"dmvo-favourable": "DMVO trials: favourable outcome", "dmvo-mortality": "DMVO trials: death",
          "dmvo-sich": "DMVO trials: sICH", "icas-reperfusion": "Other ICAS series: reperfusion",
          "icas-favourable": "Other ICAS series: favourable outcome",
          "icass-favourable": "ICASS-M1 series: favourable outcome"}
PARAM_KIND = {"model": "model", "tau2_method": "tau2_method", "transform": "transform",
              "ci_method": "ci_method"}


def variant_label(v, params) -> str:
    """What one variant changes, in words: 'Common-effect (fixed) model (this run: random-effects
    model)'."""
    if not v.param:
        return "This run"
    if v.param in PARAM_KIND:
        kind = PARAM_KIND[v.param]
        new, old = vocab.label(kind, v.value), vocab.label(kind, params[v.param])
        extra = " interval (single series)" if kind == "ci_method" else ""
        what = {"tau2_method": " τ²"}.get(kind, "")
        return f"{new}{what}{extra} instead of {lower_first(old)}{what}"
    if v.param == "hksj":
        return ("Modified Hartung-Knapp CI instead of Wald (z)" if v.value
                else "Wald (z) CI instead of modified Hartung-Knapp")
    if v.param == "favourable_mrs_max":
        return f"Favourable outcome mRS 0–{v.value} instead of mRS 0–{params[v.param]}"
    return {"use_derived": "No counts derived from printed percentages",
            "use_percent_only": "No counts rounded from percentage-only rows (≈)"}[v.param]


def cell(e, kind: str, measure: str) -> str:
    if not e.estimable:
        return "not estimable"
    if kind == "rct":
        return fmt.effect(e.estimate, e.ci_low, e.ci_high, measure)
    return fmt.pct_ci(e.estimate, e.ci_low, e.ci_high)


def table(b) -> pd.DataFrame:
    s, p = b["sensitivity"], b.params
    rows = []
    for v in s.variants:
        row = {"Analysis": variant_label(v, p)}
        row.update({TITLES[k]: cell(s.estimates[(v.key, k)], kind, p["two_arm_measure"]) for k, kind in ESTIMATES})
        rows.append(row)
    return pd.DataFrame(rows)


def summary_context(b) -> dict:
    s, p = b["sensitivity"], b.params
    lines, missing = [], set()
    for key, kind in ESTIMATES:
        vals = [(v, s.estimates[(v.key, key)]) for v in s.variants]
        ok = [(v, e) for v, e in vals if e.estimable]
        missing |= {variant_label(v, p) for v, e in vals if not e.estimable and v.param}
        if not ok:
            continue

        def show(x):
            return fmt.pct(x) if kind == "rate" else (f"{100 * x:.1f} pp" if p["two_arm_measure"] == "RD"
                                                      else f"{x:.2f}")
        lo, hi = min(e.estimate for _, e in ok), max(e.estimate for _, e in ok)
        wv, we = max(ok, key=lambda ve: ve[1].ci_high - ve[1].ci_low)
        lines.append({"title": TITLES[key], "same": show(lo) == show(hi), "low": show(lo), "high": show(hi),
                      "wlow": show(we.ci_low), "whigh": show(we.ci_high), "wlabel": variant_label(wv, p)})
    return {"lines": lines, "missing": sorted(missing)}
