"""The multiverse of the main estimates: one specification curve per estimate and a short
paragraph each (number of specifications, range, median, share whose CI excludes no effect)."""

from __future__ import annotations

from .. import display as fmt
from .. import plots, vocab
from ..analyses.multiverse import CHOICES, VALUES
from ..analyses.sensitivity import ESTIMATES
from .sensitivity import TITLES

CHOICE_LABEL = {"measure": "Measure", "model": "Model", "tau2_method": "τ²", "hksj": "Modified HK CI",
                "transform": "Rates pooled on", "ci_method": "Single-series CI",
                "favourable_mrs_max": "Favourable", "use_derived": "Derived counts",
                "use_percent_only": "Percentage-only rows", "left_out": "Left out"}
_SHORT = {"model": {"random": "random effects", "fixed": "common effect"},
          "transform": {"logit": "logit", "ft": "Freeman-Tukey", "raw": "raw scale"},
          "hksj": {True: "yes", False: "no"}, "use_derived": {True: "used", False: "not used"},
          "use_percent_only": {True: "used", False: "not used"},
          "favourable_mrs_max": {1: "mRS 0–1", 2: "mRS 0–2"}}
#: The choices in prose ("every combination of ...").
CHOICE_WORDS = {"measure": "the effect measure", "model": "the pooling model",
                "tau2_method": "the τ² estimator", "hksj": "the modified Hartung-Knapp interval",
                "transform": "the scale on which rates are pooled", "ci_method": "the interval of a single series",
                "favourable_mrs_max": "the favourable-outcome cut-off", "use_derived": "the use of derived counts",
                "use_percent_only": "the use of percentage-only rows"}


def value_label(b, choice: str, value) -> str:
    if choice == "left_out":
        return "none (this run's studies)" if not value else b.label(value)
    if choice in _SHORT:
        return _SHORT[choice][value]
    if choice == "ci_method":
        return vocab.label("ci_method", value)
    return str(value)


def keys(b) -> list[str]:
    """Estimates with at least one specification (the others get no figure)."""
    return [k for k, _ in ESTIMATES if b["multiverse"].estimates[k].n_specs]


def _groups(em):
    """Specifications by scale, each sorted by estimate: [(scale, [spec, ...])]."""
    if em.kind == "rct":
        out = [("ratio", [s for s in em.specs if s.measure in ("RR", "OR")]),
               ("difference", [s for s in em.specs if s.measure == "RD"])]
    else:
        out = [("proportion", list(em.specs))]
    return [(sc, sorted(ss, key=lambda s: (s.estimate, s.ci_low, s.ci_high))) for sc, ss in out if ss]


def _ylabel(scale: str) -> str:
    return {"ratio": "Risk or odds ratio", "difference": "Risk difference (points)",
            "proportion": "Rate"}[scale]


def figure(b, key: str):
    em = b["multiverse"].estimates[key]
    run = b["multiverse"].find(key, b.params)
    groups = _groups(em)
    order = [s for _, ss in groups for s in ss]
    panels = [plots.CurvePanel(title=("RR and OR" if sc == "ratio" else "RD") if len(groups) > 1 else "",
                               scale=sc, ylabel=_ylabel(sc), estimate=tuple(s.estimate for s in ss),
                               ci_low=tuple(s.ci_low for s in ss), ci_high=tuple(s.ci_high for s in ss),
                               excludes=None if em.kind != "rct" else tuple(bool(s.excludes_null) for s in ss),
                               null=None if em.kind != "rct" else (0.0 if sc == "difference" else 1.0))
              for sc, ss in groups]
    rows = []
    for c in em.choices:
        present = {s.choice(c) for s in order}
        for v in [v for v in _values(c, order) if v in present]:
            rows.append((CHOICE_LABEL[c], value_label(b, c, v), [s.choice(c) == v for s in order]))
    idx = next((i for i, s in enumerate(order) if s is run), None)
    return plots.specification_curve(panels, rows, run=idx)


def _values(choice, specs):
    if choice in VALUES:
        return list(VALUES[choice])
    seen = dict.fromkeys(s.choice(choice) or "" for s in specs)  # left_out: the run's set first
    return sorted(seen, key=lambda v: v != "")


def _show(x: float, em, measure: str) -> str:
    if em.kind != "rct":
        return fmt.pct(x)
    return f"{100 * x:.1f} pp" if measure == "RD" else f"{x:.2f}"


def estimate_context(b, key: str) -> dict:
    em = b["multiverse"].estimates[key]
    m = em.run_measure
    n_exc = em.n_excluding_null
    return {"key": key, "title": TITLES[key], "n": em.n_specs, "rct": em.kind == "rct",
            "measure": vocab.measure_label(m) if em.kind == "rct" else "",
            "n_run": len(em.summary_specs), "low": _show(em.min, em, m), "median": _show(em.median, em, m),
            "high": _show(em.max, em, m), "same": em.min == em.max,
            "n_excluding": n_exc, "share": "" if n_exc is None else fmt.pct(em.share_excluding_null, 0),
            "choices": [CHOICE_WORDS[c] for c in em.choices if c != "left_out"],
            "loo": "left_out" in em.choices, "n_not_estimable": len(em.not_estimable),
            "trials": key.startswith("dmvo")}


def summary_context(b) -> dict:
    mv = b["multiverse"]
    return {"lines": [estimate_context(b, k) for k, _ in ESTIMATES if mv.estimates[k].n_specs],
            "empty": [TITLES[k] for k, _ in ESTIMATES if not mv.estimates[k].n_specs],
            "total": mv.n_specs}


def caption_context(b, key: str) -> dict:
    em = b["multiverse"].estimates[key]
    return {"title": TITLES[key], "n": em.n_specs, "level": vocab.level_text(b.params["confidence_level"]),
            "rct": em.kind == "rct", "two_scales": len(_groups(em)) > 1,
            "has_run": b["multiverse"].find(key, b.params) is not None}


__all__ = ["figure", "keys", "summary_context", "caption_context", "estimate_context", "CHOICES"]
