"""How the main estimates move when one analysis choice changes (computed in the notebook).

Each variant changes one parameter of the current run; variants that would not change
anything (e.g. "DerSimonian-Laird" when the run already uses it) are left out.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from . import compare, dmvo
from . import display as fmt

# (key, label, parameter overrides); hksj is flipped relative to the run.
VARIANTS = (
    ("fixed", "Common-effect (fixed) model", {"model": "fixed"}),
    ("dl", "DerSimonian-Laird τ²", {"model": "random", "tau2_method": "DL"}),
    ("reml", "REML τ²", {"model": "random", "tau2_method": "REML"}),
    ("pm", "Paule-Mandel τ²", {"model": "random", "tau2_method": "PM"}),
    ("hksj", None, None),
    ("ft", "Freeman-Tukey scale for rates", {"transform": "ft"}),
    ("logit", "Logit scale for rates", {"transform": "logit"}),
    ("raw", "Untransformed rates", {"transform": "raw"}),
    ("printed-counts", "Printed counts only (no derived or ≈ counts)",
     {"use_derived": False, "use_percent_only": False}),
    ("clopper-pearson", "Clopper-Pearson interval (single series)", {"ci_method": "clopper-pearson"}),
    ("jeffreys", "Jeffreys interval (single series)", {"ci_method": "jeffreys"}),
    ("wald", "Wald interval (single series)", {"ci_method": "wald"}),
    ("wilson", "Wilson interval (single series)", {"ci_method": "wilson"}),
)

# The main estimates: (key, column title, where it comes from)
ESTIMATES = (
    ("dmvo-favourable", "DMVO trials: favourable outcome", ("rct", "favourable")),
    ("dmvo-mortality", "DMVO trials: death", ("rct", "mortality")),
    ("dmvo-sich", "DMVO trials: sICH", ("rct", "sich")),
    ("icas-reperfusion", "Other ICAS series: reperfusion", ("side", "reperfusion", "Other ICAS")),
    ("icas-favourable", "Other ICAS series: favourable outcome", ("side", "favourable", "Other ICAS")),
    ("icass-favourable", "ICASS-M1 series: favourable outcome", ("side", "favourable", "ICASS-M1 series")),
)


def variants(params: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """The run itself first, then each variant that changes something."""
    out = [("run", "This run", dict(params))]
    for key, label, overrides in VARIANTS:
        if key == "hksj":
            overrides = {"hksj": not params["hksj"]}
            label = "Hartung-Knapp CI" if not params["hksj"] else "Wald (z) CI"
        changed = {k: v for k, v in overrides.items() if params[k] != v}
        if changed:
            out.append((key, label, {**params, **changed}))
    return out


def _estimate(source, rct, side) -> tuple[float, float, float, int | None]:
    if source[0] == "rct":
        res = rct[source[1]].result
        return (math.nan,) * 3 + (None,) if res is None else (
            res.estimate, res.ci_low, res.ci_high, res.k)
    rows = side[(side["family"] == source[1]) & side["evidence"].str.startswith(source[2])]
    if rows.empty:
        return (math.nan,) * 3 + (None,)
    r = rows.iloc[0]
    return r["estimate"], r["ci_low"], r["ci_high"], int(r["k"])


def compute(ds, params: dict[str, Any]) -> pd.DataFrame:
    """Long table: variant x estimate with estimate, CI and number of studies."""
    rows = []
    for vkey, vlabel, p in variants(params):
        rct, side = dmvo.rct_analyses(ds, p), compare.side_by_side(ds, p)
        for ekey, etitle, source in ESTIMATES:
            est, low, high, k = _estimate(source, rct, side)
            rows.append({"variant": vkey, "variant_label": vlabel, "estimate_key": ekey,
                         "title": etitle, "kind": source[0], "estimate": est, "ci_low": low,
                         "ci_high": high, "k": k, "params": p})
    return pd.DataFrame(rows)


def reader_table(long: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Variants as rows, estimates as columns ('–' when not estimable)."""
    measure = params["two_arm_measure"]

    def cell(r):
        if pd.isna(r["estimate"]):
            return "not estimable"
        if r["kind"] == "rct":
            if measure == "RD":
                return fmt.num_ci(100 * r["estimate"], 100 * r["ci_low"], 100 * r["ci_high"], 1)
            return fmt.num_ci(r["estimate"], r["ci_low"], r["ci_high"])
        return fmt.pct_ci(r["estimate"], r["ci_low"], r["ci_high"])

    long = long.assign(cell=long.apply(cell, axis=1))
    wide = long.pivot(index=["variant", "variant_label"], columns="title", values="cell")
    order = [v[0] for v in variants(params)]
    wide = wide.reindex(columns=[e[1] for e in ESTIMATES])
    wide = wide.reset_index().set_index("variant").loc[order].reset_index(drop=True)
    wide.columns.name = None
    return wide.rename(columns={"variant_label": "Analysis"})


def summary_sentence(long: pd.DataFrame) -> str:
    """One bullet per main estimate: its range across the variants and the widest interval."""
    lines = []
    for key, title, _ in ESTIMATES:
        grp = long[(long["estimate_key"] == key) & long["estimate"].notna()]
        if grp.empty:
            continue
        show = (lambda v: fmt.pct(v)) if grp["kind"].iloc[0] == "side" else (lambda v: f"{v:.2f}")
        lo, hi = grp["estimate"].min(), grp["estimate"].max()
        spread = (f"{show(lo)} in every analysis" if show(lo) == show(hi)
                  else f"from {show(lo)} to {show(hi)}")
        widest = grp.loc[(grp["ci_high"] - grp["ci_low"]).idxmax()]
        lines.append(f"- **{title}**: {spread}; widest interval "
                     f"{show(widest['ci_low'])}–{show(widest['ci_high'])} "
                     f"under “{widest['variant_label']}”.")
    missing = sorted(set(long.loc[long["estimate"].isna() & (long["variant"] != "run"),
                                  "variant_label"]))
    if missing:
        lines.append(f"- Not estimable under: {', '.join(missing)} — the studies needed print "
                     "only percentages.")
    return "\n".join(lines)
