"""Estimates shown by the report, collected into report/results.csv.

A notebook records each estimate it shows with `Results.add(...)` and ends with
`results.emit()`, which puts the rows in the notebook as a display output of a
private MIME type. The build reads those outputs from the executed notebooks
(no notebook writes files), so results.csv holds exactly what the chapters showed.

Each row has a ``level`` (a machine key, never read from a label): ``main`` for an estimate a
chapter reports, ``sensitivity`` for the same estimate recomputed under another analysis
choice (the Methods chapter's sensitivity table, leave-one-out), ``derived`` for a figure
recomputed from another one the report shows (a percentage recomputed from a printed
count to check a table). `make diff` lists the main estimates and counts the others.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Iterable

MIME = "application/vnd.evtreport.results+json"

COLUMNS = (
    "id", "section", "level", "cohort", "subgroup", "outcome", "analysis", "measure",
    "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "events", "total",
    "k_studies", "tau2", "i2", "method", "sources",
)
# Columns that identify an estimate and columns compared by `diff`.
KEY = "id"
NUMERIC = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "events", "total",
           "k_studies", "tau2", "i2")
LEVELS = ("main", "sensitivity", "derived")


def _fmt(value: Any) -> str:
    """Stable text for a CSV cell: 10 significant digits, empty for missing."""
    if value is None or type(value).__name__ == "NAType":  # pandas.NA: not reported
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.10g}"
    if hasattr(value, "item"):  # numpy scalar
        return _fmt(value.item())
    return str(value)


class Results:
    """Rows of estimates recorded by one chapter."""

    def __init__(self, section: str):
        self.section = section
        self.rows: list[dict[str, str]] = []

    def add(self, id: str, *, cohort: str, outcome: str, analysis: str, estimate: Any,
            level: str = "main", **fields: Any) -> None:
        unknown = set(fields) - set(COLUMNS)
        if unknown:
            raise ValueError(f"unknown results column(s) {sorted(unknown)}; allowed: {COLUMNS}")
        if level not in LEVELS:
            raise ValueError(f"results id {id!r}: level {level!r}; expected one of {LEVELS}")
        if any(r["id"] == id for r in self.rows):
            raise ValueError(f"results id {id!r} recorded twice in section {self.section!r}")
        row = dict.fromkeys(COLUMNS, "")
        row.update(id=id, section=self.section, level=level, cohort=cohort, outcome=outcome,
                   analysis=analysis, estimate=_fmt(estimate))
        row.update({k: _fmt(v) for k, v in fields.items()})
        self.rows.append(row)

    def add_pooled(self, id: str, result: Any, *, cohort: str, outcome: str, analysis: str,
                   subgroup: str = "", sources: Iterable[str] = (), level: str = "main") -> None:
        """Record a `evtreport.meta.PoolResult`."""
        d = result.to_dict()
        self.add(id, cohort=cohort, outcome=outcome, analysis=analysis, subgroup=subgroup,
                 level=level,
                 measure=d.get("measure") or "proportion",
                 estimate=d["estimate"], ci_low=d["ci_low"], ci_high=d["ci_high"],
                 pi_low=d.get("pi_low"), pi_high=d.get("pi_high"),
                 events=d.get("events_total"), total=d.get("n_total"), k_studies=d["k"],
                 tau2=d.get("tau2"), i2=d.get("i2"), method=result.method_text,
                 sources=";".join(sources))

    def emit(self):
        """Display the rows as a notebook output the build collects (returns nothing visible)."""
        from IPython.display import display
        display({MIME: {"section": self.section, "rows": self.rows},
                 "text/plain": f"[{len(self.rows)} estimates recorded for results.csv]"},
                raw=True)


def collect(notebooks: Iterable[Any]) -> list[dict[str, str]]:
    """Rows emitted by executed notebooks (nbformat nodes), in notebook order."""
    rows: list[dict[str, str]] = []
    seen: dict[str, str] = {}
    for nb in notebooks:
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                payload = out.get("data", {}).get(MIME)
                if payload is None:
                    continue
                for row in payload["rows"]:
                    if row["id"] in seen:
                        raise ValueError(f"results id {row['id']!r} emitted by two sections: "
                                         f"{seen[row['id']]!r} and {row['section']!r}")
                    seen[row["id"]] = row["section"]
                    rows.append({c: row.get(c, "") for c in COLUMNS})
    return rows


def to_csv(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def read_csv(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def diff(a: list[dict[str, str]], b: list[dict[str, str]], *, rel_tol: float = 1e-9
         ) -> list[tuple[str, str, str, str]]:
    """(id, column, value in a, value in b) for every estimate that differs, added or removed."""
    ia = {r[KEY]: r for r in a}
    ib = {r[KEY]: r for r in b}
    changes = []
    for key in list(ia) + [k for k in ib if k not in ia]:
        ra, rb = ia.get(key), ib.get(key)
        if ra is None or rb is None:
            changes.append((key, "(row)", "absent" if ra is None else "present",
                            "absent" if rb is None else "present"))
            continue
        for col in COLUMNS:
            va, vb = ra.get(col, ""), rb.get(col, "")
            if va == vb:
                continue
            if col in NUMERIC and va and vb:
                fa, fb = float(va), float(vb)
                if math.isclose(fa, fb, rel_tol=rel_tol, abs_tol=1e-12):
                    continue
            changes.append((key, col, va, vb))
    return changes
