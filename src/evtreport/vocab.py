"""The report's vocabulary, read from `data/vocabulary.csv`: one place for the names of
outcomes (label, family, direction), outcome families, CI methods, τ² estimators, models,
effect measures and transforms, and the one formatter of a confidence level.

    vocab.label("outcome", "mrs_0_2")      -> "Functional independence (mRS 0–2)"
    vocab.outcomes_of("mortality")         -> ("mortality_90d", "mortality")
    vocab.direction("sich")                -> "harmful"
    vocab.level_text(0.975)                -> "97.5%"

Code never matches reader labels: it uses the keys; the labels are only printed.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import paths

FILE = "vocabulary.csv"
COLUMNS = ("kind", "key", "label", "family", "direction", "description")
KINDS = ("outcome", "family", "ci_method", "tau2_method", "model", "measure", "transform")
DIRECTIONS = ("beneficial", "harmful", "neutral")


@dataclass(frozen=True)
class Term:
    kind: str
    key: str
    label: str
    family: str
    direction: str
    description: str


class VocabularyError(ValueError):
    pass


def _dir() -> Path:
    return Path(os.environ.get("EVTREPORT_DATA_DIR", paths.DATA_DIR)).resolve()


@lru_cache(maxsize=8)
def _load(path: str) -> dict[tuple[str, str], Term]:
    p = Path(path)
    if not p.exists():
        raise VocabularyError(f"{p}: the vocabulary file is missing (it names every outcome, "
                              "method and measure the report prints)")
    with open(p, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise VocabularyError(f"{p}: header must be {','.join(COLUMNS)}")
        terms: dict[tuple[str, str], Term] = {}
        for line, row in enumerate(reader, start=2):
            term = Term(**{c: (row[c] or "").strip() for c in COLUMNS})
            where = f"{p}, line {line}"
            if term.kind not in KINDS:
                raise VocabularyError(f"{where}, column kind: {term.kind!r} is not one of {KINDS}")
            if not term.key or not term.label:
                raise VocabularyError(f"{where}: key and label are required")
            if term.direction and term.direction not in DIRECTIONS:
                raise VocabularyError(f"{where}, column direction: {term.direction!r} is not "
                                      f"one of {DIRECTIONS}")
            if (term.kind, term.key) in terms:
                raise VocabularyError(f"{where}: {term.kind} {term.key!r} defined twice")
            terms[(term.kind, term.key)] = term
    for t in terms.values():
        if t.kind == "outcome" and t.family and ("family", t.family) not in terms:
            raise VocabularyError(f"{p}: outcome {t.key!r} has family {t.family!r}, which is "
                                  "not defined (add a row of kind 'family')")
    return terms


def terms(data_dir: str | Path | None = None) -> dict[tuple[str, str], Term]:
    return _load(str(Path(data_dir or _dir()) / FILE))


def keys(kind: str, data_dir=None) -> tuple[str, ...]:
    return tuple(k for (kd, k) in terms(data_dir) if kd == kind)


def term(kind: str, key: str) -> Term:
    try:
        return terms()[(kind, key)]
    except KeyError:
        raise VocabularyError(f"{kind} {key!r} is not in data/{FILE}") from None


def label(kind: str, key: str) -> str:
    return term(kind, key).label


def description(kind: str, key: str) -> str:
    return term(kind, key).description


def outcome_label(name: str) -> str:
    return label("outcome", name)


def family_label(family: str) -> str:
    return label("family", family)


def direction(key: str) -> str:
    """'beneficial' or 'harmful' for an outcome or a family key."""
    t = terms().get(("family", key)) or term("outcome", key)
    return t.direction


def harmful(key: str) -> bool:
    return direction(key) == "harmful"


def outcomes_of(family: str) -> tuple[str, ...]:
    """Outcome names of a family, in vocabulary order."""
    return tuple(t.key for t in terms().values() if t.kind == "outcome" and t.family == family)


def family_of(outcome: str) -> str:
    return term("outcome", outcome).family


def level_text(level: float) -> str:
    """0.95 -> '95%', 0.975 -> '97.5%', 0.999 -> '99.9%' (the one level formatter)."""
    return f"{round(100 * float(level), 1):g}%"


def measure_label(measure: str) -> str:
    return label("measure", measure)


def ci_label(method: str) -> str:
    return label("ci_method", method)


def readme_table(kind: str = "outcome", data_dir=None) -> str:
    """The Markdown table of data/README.md for one kind of term (`python -m
    evtreport.datapackage --write` writes it there; a test checks the README is current)."""
    rows = [t for t in terms(data_dir).values() if t.kind == kind]
    out = ["| name | label printed | family | direction | meaning |", "|---|---|---|---|---|"]
    out += [f"| `{t.key}` | {t.label} | {t.family or '–'} | {t.direction or '–'} | "
            f"{t.description} |" for t in rows]
    return "\n".join(out)


if __name__ == "__main__":  # python -m evtreport.vocab  -> prints the README's outcome table
    print(readme_table())
