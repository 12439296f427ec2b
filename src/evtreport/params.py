"""Report parameters: the schema, its defaults, and validation of a YAML file.

Every analysis choice a reviewer may change is declared here once; the build
validates the YAML file against this schema before any notebook runs, and the
validated, completed set is what papermill injects into every notebook.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CI_METHODS = ("wilson", "clopper-pearson", "jeffreys", "agresti-coull", "wald")


@dataclass(frozen=True)
class Param:
    name: str
    kind: type | tuple[type, ...]
    default: Any
    help: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    item_kind: type | None = None  # for lists

    def expected(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind is bool:
            return "true or false"
        if self.kind is list:
            return f"a list of {self.item_kind.__name__} values (may be empty: [])"
        if self.low is not None:
            return f"a number between {self.low} and {self.high}"
        return f"a {self.kind.__name__}"


SCHEMA: tuple[Param, ...] = (
    Param("favourable_mrs_max", int, 2,
          "Favourable functional outcome is mRS 0 to this value at 90 days / 3 months "
          "(1: excellent outcome, mRS 0-1; 2: functional independence, mRS 0-2).",
          choices=(1, 2)),
    Param("ci_method", str, "wilson",
          "Confidence interval for a single proportion.", choices=CI_METHODS),
    Param("confidence_level", float, 0.95,
          "Confidence level of every interval (0.95 gives 95% intervals).", low=0.5, high=0.999),
    Param("model", str, "random",
          "Pooling model: random effects or fixed (common) effect.", choices=("random", "fixed")),
    Param("tau2_method", str, "REML",
          "Estimator of the between-study variance tau² (random effects only): restricted maximum "
          "likelihood, DerSimonian-Laird or Paule-Mandel.", choices=("REML", "DL", "PM")),
    Param("hksj", bool, False,
          "Use the modified Hartung-Knapp-Sidik-Jonkman (t-based, variance factor at least 1) "
          "confidence interval for pooled estimates instead of the normal (Wald) interval."),
    Param("transform", str, "logit",
          "Scale on which single-arm proportions are pooled: logit, Freeman-Tukey double arcsine, "
          "or untransformed.", choices=("logit", "ft", "raw")),
    Param("two_arm_measure", str, "RR",
          "Effect measure for trials comparing EVT with medical treatment: risk ratio, odds ratio or "
          "risk difference.", choices=("RR", "OR", "RD")),
    Param("exclude_studies", list, [],
          "Studies (source_id of data/sources.csv) left out of every analysis.", item_kind=str),
    Param("use_derived", bool, True,
          "Use counts derived from a printed percentage and denominator (count_status 'derived')."),
    Param("use_percent_only", bool, True,
          "Also pool rows the source gives only as a percentage of a known denominator (e.g. a "
          "trial arm in an abstract), with the count rounded from it and marked ≈; otherwise they "
          "are shown but not pooled."),
    Param("dmvo_subgroup", str, "both",
          "Which DMVO subgroup the observational DMVO estimates use.",
          choices=("primary", "secondary", "both")),
)

DEFAULTS = {p.name: p.default for p in SCHEMA}
_BY_NAME = {p.name: p for p in SCHEMA}


class ParameterError(ValueError):
    """A parameter file is invalid; the message lists every problem."""


def _check(p: Param, value: Any) -> str | None:
    """Return a problem description, or None when the value is valid."""
    if p.kind is bool:
        ok = isinstance(value, bool)
    elif p.kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif p.kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    elif p.kind is list:
        ok = isinstance(value, list) and all(isinstance(v, p.item_kind) for v in value)
    else:
        ok = isinstance(value, p.kind)
    if ok and p.choices is not None:
        ok = value in p.choices
    if ok and p.low is not None:
        ok = p.low <= value <= p.high
    if ok:
        return None
    return f"expected {p.expected()}, got {value!r}"


def validate(values: dict[str, Any], *, source: str = "parameters",
             known_sources: set[str] | None = None) -> dict[str, Any]:
    """Validate a mapping of parameters and return it completed with defaults.

    Raises ParameterError naming every bad key, what was given and what is allowed.
    `known_sources` (source ids of data/sources.csv) checks `exclude_studies`.
    """
    if not isinstance(values, dict):
        raise ParameterError(f"{source}: expected a YAML mapping of parameter: value, "
                             f"got {type(values).__name__}")
    problems = []
    for key in values:
        if key not in _BY_NAME:
            problems.append(f"{source}: unknown parameter '{key}'; allowed: "
                            + ", ".join(_BY_NAME))
    for key, value in values.items():
        p = _BY_NAME.get(key)
        if p is None:
            continue
        problem = _check(p, value)
        if problem:
            problems.append(f"{source}: parameter '{key}': {problem}")
        elif key == "exclude_studies" and known_sources is not None:
            for sid in value:
                if sid not in known_sources:
                    problems.append(f"{source}: parameter 'exclude_studies': unknown source_id "
                                    f"{sid!r}; expected a source_id of data/sources.csv")
    if problems:
        raise ParameterError("\n".join(problems))
    completed = dict(DEFAULTS)
    completed.update(values)
    if isinstance(completed["confidence_level"], int):
        completed["confidence_level"] = float(completed["confidence_level"])
    return completed


class _DuplicateKey(Exception):
    def __init__(self, key, first: int, second: int):
        self.key, self.first, self.second = key, first, second


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (YAML would keep the last)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    if key in seen:
                        raise _DuplicateKey(key, seen[key], line)
                except TypeError:  # an unhashable key: SafeLoader reports it below
                    continue
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load(path: str | Path, *, known_sources: set[str] | None = None) -> dict[str, Any]:
    """Read and validate a YAML parameter file (an empty file means all defaults)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParameterError(f"{path}: not valid UTF-8 (byte 0x{exc.object[exc.start]:02x}); "
                             "save the parameter file as UTF-8") from None
    except OSError as exc:
        raise ParameterError(f"{path}: cannot read parameter file ({exc.strerror})") from None
    try:
        values = yaml.load(text, Loader=_StrictLoader)
    except _DuplicateKey as dup:
        raise ParameterError(f"{path}: parameter {str(dup.key)!r} is given twice (lines "
                             f"{dup.first} and {dup.second}); keep one of them") from None
    except yaml.YAMLError as exc:
        raise ParameterError(f"{path}: not valid YAML: {exc}") from None
    return validate({} if values is None else values, source=str(path),
                    known_sources=known_sources)


def describe(values: dict[str, Any]) -> list[dict[str, str]]:
    """Rows (parameter, value, default, meaning) for the report's parameter table."""
    return [{"parameter": p.name, "value": _show(values[p.name]),
             "default": _show(p.default), "meaning": p.help} for p in SCHEMA]


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(value) if value else "(none)"
    return str(value)


def alpha(values: dict[str, Any]) -> float:
    """1 − confidence level, rounded to avoid 0.050000000000000044."""
    return round(1.0 - values["confidence_level"], 10)


def from_namespace(ns: dict[str, Any]) -> dict[str, Any]:
    """The validated parameters from a notebook's globals (after papermill's injected cell)."""
    completed = validate({k: ns[k] for k in DEFAULTS if k in ns}, source="notebook parameters")
    completed["params_file"] = ns.get("params_file", "params/default.yaml")
    return completed


def notebook_cell() -> str:
    """Source of the `parameters` cell every chapter notebook starts with."""
    lines = ["# Parameters: papermill replaces these with the values of params/*.yaml"]
    lines += [f"{p.name} = {p.default!r}" for p in SCHEMA]
    lines.append("params_file = 'params/default.yaml'")
    return "\n".join(lines)
