"""Load and validate the curated data files in ``data/``.

The files are ``REQUIRED_FILES``; their columns, types, constraints and keys are those of the
folder's datapackage.json (documented in data/README.md). ``load_dataset``
reads every file, checks it completely and either returns a :class:`Dataset` of typed pandas
DataFrames or raises :class:`DataValidationError` listing *all* problems at once, each as
``data/outcomes.csv:14: column 'events': expected a non-negative integer, got '-3'``.
Line numbers are physical lines of the file (header = line 1), also with quoted
multi-line fields.

Encoding: UTF-8. A byte-order mark and Windows (CRLF) line endings, as spreadsheet programs
write them ("CSV UTF-8"), are accepted and normalised on read; bytes that are not UTF-8 are
an error naming the line.

Files: every file in ``REQUIRED_FILES`` must exist and hold at least one data row, beside
``NON_TABLE_FILES`` (vocabulary.csv, datapackage.json); any other entry of the data directory
except ``DOCUMENTATION`` is an error, so nothing unvalidated is ever taken (or checksummed) as
data. A folder's datapackage.json must have the structure of the project's (only its
vocabulary enums follow its own vocabulary.csv).

Command line: ``python -m evtreport.data [DATA_DIR]`` prints ``data OK: N files, M rows``
or every error on stderr and exits 1.
"""

from __future__ import annotations

import csv
import io
import math
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import pandas as pd

from . import datapackage as dp
from . import vocab
from .paths import DATA_DIR, ROOT

# --------------------------------------------------------------------------- schema
#
# The files' columns, types, constraints, enums and keys are described once, in the data
# folder's datapackage.json (a Frictionless Data Package; evtreport.datapackage reads it).
# The code keeps the list of files the Dataset holds and the rules that span several columns
# or files, which Table Schema cannot express.

REQUIRED_FILES = ("sources", "outcomes", "effects", "distributions", "baseline", "claims",
                  "claim_checks", "design_limits", "spin_strategies", "quotes", "trials",
                  "risk_of_bias")
#: Other files the data directory holds: the vocabulary (evtreport.vocab) and the package.
NON_TABLE_FILES = ("vocabulary.csv", dp.FILE)
#: What else the data directory may hold: documentation, never read as data.
DOCUMENTATION = ("README.md", "notes")

DIFFERENCE_MEASURES = ("risk difference",)  # effects.csv measures that are not ratios
#: distributions.csv: the grades of each ``scale``, in order (the package lists the scales).
SCALES: dict[str, tuple[str, ...]] = {
    "mRS": ("0", "1", "2", "3", "4", "5", "6"),
    "mTICI": ("0", "1", "2a", "2b", "2c", "3"),
}
TRIAL_DESIGNS = ("RCT", "post-hoc pooled analysis")  # sources.csv designs a trials.csv trial may have

#: risk_of_bias.csv: per tool, its domains (``domain``), the domains every assessed study must
#: have, and the judgements allowed, mildest first (the order the ``overall`` check uses).
#: The package's enums of ``tool``, ``domain`` and ``judgement`` are their union (a test checks).
ROB_TOOLS: dict[str, dict[str, tuple[str, ...]]] = {
    "RoB 2": {
        "domains": ("randomization", "deviations", "missing_data", "measurement",
                    "reported_result", "overall"),
        "required": ("randomization", "deviations", "missing_data", "measurement",
                     "reported_result", "overall"),
        "judgements": ("low", "some concerns", "high"),
    },
    "ROBINS-I": {
        "domains": ("confounding", "selection", "classification", "deviations", "missing_data",
                    "measurement", "reported_result", "overall"),
        "required": ("confounding", "selection"),
        "judgements": ("low", "moderate", "serious", "critical", "no information"),
    },
    "JBI case series": {
        "domains": ("inclusion_criteria", "condition_measurement", "condition_identification",
                    "consecutive_inclusion", "complete_inclusion", "demographics",
                    "clinical_information", "outcomes_reported", "site_demographics",
                    "statistical_analysis"),
        "required": ("inclusion_criteria", "condition_measurement", "condition_identification",
                     "consecutive_inclusion", "complete_inclusion", "demographics",
                     "clinical_information", "outcomes_reported", "site_demographics",
                     "statistical_analysis"),
        "judgements": ("yes", "no", "unclear", "not applicable"),
    },
}
ROB_UNRANKED = ("no information",)  # judgements the overall-versus-domains check skips


#: The project's data folder, whose datapackage.json the code is written against (DATA_DIR
#: may name another folder: EVTREPORT_DATA_DIR).
PROJECT_DATA = ROOT / "data"


@lru_cache(maxsize=1)
def _project_package() -> tuple[dict, dict[str, dp.Table]]:
    pkg = dp.load(PROJECT_DATA)
    return pkg, dp.tables(pkg, dp.path_of(PROJECT_DATA))


def __getattr__(name: str):
    """The schema of the project's data/datapackage.json, for code and tests that want it:
    ``SCHEMA`` (file -> column names), ``COLUMNS`` (file -> column -> dp.Column),
    ``PRIMARY_KEYS``, ``FOREIGN_KEYS``, ``OUTCOMES`` (outcome key -> meaning, from the
    vocabulary) and ``TRIAL_CHARACTERISTICS`` (name -> meaning)."""
    if name in ("SCHEMA", "COLUMNS", "PRIMARY_KEYS", "FOREIGN_KEYS", "TRIAL_CHARACTERISTICS"):
        tabs = _project_package()[1]
        return {"SCHEMA": {n: tuple(t.columns) for n, t in tabs.items() if n in REQUIRED_FILES},
                "COLUMNS": {n: t.columns for n, t in tabs.items()},
                "PRIMARY_KEYS": {n: t.primary_key for n, t in tabs.items()},
                "FOREIGN_KEYS": {n: t.foreign_keys for n, t in tabs.items()},
                "TRIAL_CHARACTERISTICS": tabs["trials"].labels["characteristic"]}[name]
    if name == "OUTCOMES":
        return {k: vocab.description("outcome", k) for k in vocab.keys("outcome")}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_INT = re.compile(r"^[0-9]+$")
_DECIMAL = re.compile(r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_PVALUE = re.compile(dp.FORMATS["pvalue"]["pattern"])
_DOI = re.compile(dp.FORMATS["doi"]["pattern"])
_URL = re.compile(dp.FORMATS["url"]["pattern"])
_PMID = re.compile(dp.FORMATS["pmid"]["pattern"])
_T, _S, _I, _D, _P = "text", "slug", "int", "decimal", "percent"
_KIND_DTYPE = {_I: "Int64", "year": "Int64", _D: "float64", _P: "float64"}
_Col = dp.Column


# --------------------------------------------------------------------------- errors

@dataclass(frozen=True)
class DataError:
    """One problem in one file: ``file`` as displayed (e.g. ``data/outcomes.csv``), ``line``
    (1 = header; None for a whole-file problem), ``column`` (or None) and ``message``."""

    file: str
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        col = f"column '{self.column}': " if self.column else ""
        return f"{where}: {col}{self.message}"


class DataValidationError(ValueError):
    """Raised by :func:`load_dataset`; ``errors`` holds every :class:`DataError` found."""

    def __init__(self, errors: Sequence[DataError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


# --------------------------------------------------------------------------- dataset

@dataclass(frozen=True, eq=False)
class Dataset:
    """The validated data: one DataFrame per file, columns as in the folder's datapackage.json.

    Text columns hold ``str`` ('' = not reported); integer columns are pandas ``Int64``
    (<NA> = not reported); decimal and percentage columns are ``float64`` (NaN = not
    reported). ``p_value`` stays text because sources print values such as '<0.01'.
    """

    sources: pd.DataFrame
    outcomes: pd.DataFrame
    effects: pd.DataFrame
    distributions: pd.DataFrame
    baseline: pd.DataFrame
    claims: pd.DataFrame
    quotes: pd.DataFrame
    #: characteristics of the included trials (long format), empty if trials.csv is absent
    trials: pd.DataFrame
    #: risk-of-bias judgements (the curators'), empty if risk_of_bias.csv is absent
    risk_of_bias: pd.DataFrame
    claim_checks: pd.DataFrame
    design_limits: pd.DataFrame
    spin_strategies: pd.DataFrame
    files: list[Path]
    data_dir: Path
    #: the same tables as printed in the files (every cell as text, '' = empty), with the
    #: physical line of each row in ``raw[name].attrs['lines']``; the audit reads the
    #: printed precision of numbers (e.g. '30' vs '30.0') from here.
    raw: dict[str, pd.DataFrame]

    @property
    def n_rows(self) -> int:
        """Number of data rows over all files."""
        return sum(len(getattr(self, name)) for name in REQUIRED_FILES)

    def outcome_rows(self, cohort=None, outcome=None, source_id=None, subgroup=None,
                     arm=None, estimate_type=None, count_status=None) -> pd.DataFrame:
        """Rows of outcomes.csv matching every given criterion (a value or a list of values)."""
        return _select(self.outcomes, cohort=cohort, outcome=outcome, source_id=source_id,
                       subgroup=subgroup, arm=arm, estimate_type=estimate_type,
                       count_status=count_status)

    def effect_rows(self, cohort=None, outcome=None, source_id=None, measure=None,
                    comparison=None) -> pd.DataFrame:
        """Rows of effects.csv matching every given criterion."""
        return _select(self.effects, cohort=cohort, outcome=outcome, source_id=source_id,
                       measure=measure, comparison=comparison)

    def baseline_rows(self, cohort=None, source_id=None, subgroup=None, variable=None,
                      statistic=None) -> pd.DataFrame:
        """Rows of baseline.csv matching every given criterion."""
        return _select(self.baseline, cohort=cohort, source_id=source_id, subgroup=subgroup,
                       variable=variable, statistic=statistic)

    def distribution(self, source_id: str, scale: str, subgroup=None, arm=None,
                     timepoint=None) -> pd.DataFrame:
        """One distribution's rows in scale order (0..6 for mRS, 0..3 for mTICI)."""
        df = _select(self.distributions, source_id=source_id, scale=scale, subgroup=subgroup,
                     arm=arm, timepoint=timepoint)
        order = {g: i for i, g in enumerate(SCALES.get(scale, ()))}
        return df.iloc[df["grade"].map(order).argsort(kind="stable")]

    def quote(self, quote_id: str) -> dict:
        """The quotes.csv row of ``quote_id`` (source_id, location, quote, use) as a dict."""
        hit = self.quotes[self.quotes["quote_id"] == quote_id]
        if hit.empty:
            raise KeyError(f"quote {quote_id!r} is not in data/quotes.csv")
        return hit.iloc[0].to_dict()

    def source(self, source_id: str) -> dict:
        """The sources.csv row of ``source_id`` as a dict (KeyError if unknown)."""
        hit = self.sources[self.sources["source_id"] == source_id]
        if hit.empty:
            raise KeyError(source_id)
        return hit.iloc[0].to_dict()

    def row(self, row_id: str) -> pd.Series:
        """The row with this ``row_id`` in outcomes, effects, distributions or baseline (KeyError if none)."""
        for df in (self.outcomes, self.effects, self.distributions, self.baseline):
            hit = df[df["row_id"] == row_id]
            if not hit.empty:
                return hit.iloc[0]
        raise KeyError(row_id)


def _select(df: pd.DataFrame, **criteria) -> pd.DataFrame:
    mask = pd.Series(True, index=df.index)
    for col, want in criteria.items():
        if want is None:
            continue
        values = [want] if isinstance(want, str) else list(want)
        mask &= df[col].isin(values)
    return df[mask].copy()


# --------------------------------------------------------------------------- reading

@dataclass
class _Table:
    name: str
    display: str
    header: list[str]
    rows: list[dict[str, str]]          # header column -> raw text
    lines: list[int]                     # physical start line of each row
    parsed: list[dict[str, object]]      # schema column -> typed value (None = empty)
    complete: bool = True                # False when reading stopped early (malformed CSV)


class _Collector:
    """Collects errors; keeps only the first error of each cell (file, line, column), so an
    unparsable value is not reported a second time by the rules that need it."""

    def __init__(self) -> None:
        self.errors: list[DataError] = []
        self._cells: set[tuple] = set()

    def add(self, file: str, line: int | None, column: str | None, message: str) -> None:
        if column is not None and line is not None:
            if (file, line, column) in self._cells:
                return
            self._cells.add((file, line, column))
        self.errors.append(DataError(file, line, column, message))


def _read_text(path: Path, display: str, err: _Collector,
               columns: Sequence[str] = ()) -> str | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        err.add(display, None, None, "file not found")
        return None
    except OSError as exc:
        err.add(display, None, None, f"cannot read file: {exc}")
        return None
    if not raw.strip(b" \t\r\n\xef\xbb\xbf"):
        err.add(display, None, None,
                "file is empty (it needs at least the header row: "
                f"{','.join(columns)})")
        return None
    if raw.startswith(b"\xef\xbb\xbf"):  # "CSV UTF-8" of spreadsheet programs
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        err.add(display, line, None,
                f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8 "
                "(in a spreadsheet program: 'CSV UTF-8')")
        text = raw.decode("utf-8", errors="replace")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            line = text[: text.index("\r")].count("\n") + 1
            err.add(display, line, None,
                    "bare carriage return (old Mac line ending); use LF line endings")
            text = text.replace("\r", "\n")
    return text


#: The longest cell read (the csv module's default); set for each read because the limit is
#: process-wide and other libraries (frictionless) raise it.
FIELD_LIMIT = 131072


def _parse_csv(text: str, display: str,
               err: _Collector) -> tuple[list[list[str]], list[int], bool]:
    """Records, the physical start line of each, and whether the whole file was read."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    starts: list[int] = []
    prev = 0
    old_limit = csv.field_size_limit(FIELD_LIMIT)
    try:
        for rec in reader:
            start = prev + 1
            prev = reader.line_num
            if not rec or rec == [""]:
                continue  # blank line
            records.append(rec)
            starts.append(start)
    except csv.Error as exc:
        limit = FIELD_LIMIT
        if "field larger than field limit" in str(exc):
            msg = (f"a field is longer than {limit} characters, the limit for one cell (a "
                   "quote opened but never closed?); the rest of the file was not read")
        else:
            msg = f"malformed CSV ({exc}); check the quoting; the rest of the file was not read"
        err.add(display, prev + 1, None, msg)
        return records, starts, False
    finally:
        csv.field_size_limit(old_limit)
    return records, starts, True


def _check_header(expected: list[str], header: list[str], display: str, err: _Collector) -> None:
    seen: set[str] = set()
    for col in header:
        if col in seen:
            err.add(display, 1, col, "duplicated column")
        seen.add(col)
    for col in header:
        if col not in expected:
            err.add(display, 1, col, f"unknown column (expected columns: {','.join(expected)})")
    for col in expected:
        if col not in header:
            err.add(display, 1, col, "missing column")
    if len(set(header)) == len(header) and set(header) == set(expected) and header != expected:
        err.add(display, 1, None, f"columns out of order; expected: {','.join(expected)}")


def _parse_value(col: _Col, raw: str) -> tuple[object, str | None]:
    """Return (typed value or None if empty, error message or None)."""
    if raw == "":
        return None, None
    if raw != raw.strip():
        return None, f"leading or trailing whitespace in {raw!r}"
    k = col.kind
    if k == _T:
        return raw, None
    if k == _S:
        if _SLUG.match(raw):
            return raw, None
        return None, ("expected a lowercase slug (letters a-z, digits, '.', '_', '-'), "
                      f"got {raw!r}")
    if k == _I:
        if _INT.match(raw):
            return int(raw), None
        return None, f"expected a non-negative integer, got {raw!r}"
    if k == "year":
        if _INT.match(raw) and 1900 <= int(raw) <= 2100:
            return int(raw), None
        return None, f"expected a year (4 digits), got {raw!r}"
    if k == "pmid":
        if _PMID.fullmatch(raw):
            return raw, None
        return None, f"expected a PubMed id (digits only), got {raw!r}"
    if k == "doi":
        if _DOI.fullmatch(raw):
            return raw, None
        return None, f"expected a DOI like 10.1234/abc (no https://doi.org/ prefix), got {raw!r}"
    if k == "url":
        if _URL.fullmatch(raw):
            return raw, None
        return None, f"expected a URL starting with http:// or https://, got {raw!r}"
    if k in (_D, _P):
        if not _DECIMAL.match(raw):
            what = "a percentage as a plain decimal (no % sign)" if k == _P else "a decimal number"
            return None, f"expected {what}, got {raw!r}"
        val = float(raw)
        if k == _P and not 0 <= val <= 100:
            return None, f"expected a percentage between 0 and 100, got {raw!r}"
        return val, None
    if k == "pvalue":
        if _PVALUE.fullmatch(raw):
            return raw, None
        return None, f"expected a p-value between 0 and 1, optionally with <, e.g. 0.024 or <0.01; got {raw!r}"
    if k == "rowrefs":
        parts = [p.strip() for p in raw.split(";")]
        bad = [p for p in parts if not _SLUG.match(p)]
        if bad:
            return None, f"expected semicolon-separated row_ids, got {raw!r}"
        return parts, None
    if k == "enum":
        if raw in col.values:
            return raw, None
        return None, f"expected one of: {', '.join(col.values)}; got {raw!r}" + (
            " (add new outcome names to data/vocabulary.csv, then run "
            "`python -m evtreport.datapackage --write`)" if col.vocabulary == "outcome" else "")
    raise AssertionError(k)  # pragma: no cover


def _read_table(name: str, spec: dict[str, _Col], path: Path, display: str,
                err: _Collector) -> _Table | None:
    text = _read_text(path, display, err, list(spec))
    if text is None:
        return None
    records, starts, complete = _parse_csv(text, display, err)
    if not records:
        if complete:
            err.add(display, None, None, "no header row")
        return None
    header = records[0]
    _check_header(list(spec), header, display, err)
    if len(records) == 1 and complete:
        err.add(display, None, None, "no data rows: the file holds only its header, and every "
                f"data file needs at least one row (the required files: "
                f"{', '.join(f + '.csv' for f in REQUIRED_FILES)})")
    table = _Table(name, display, header, [], [], [], complete)
    for rec, line in zip(records[1:], starts[1:]):
        if len(rec) != len(header):
            err.add(display, line, None,
                    f"expected {len(header)} fields as in the header, got {len(rec)}"
                    " (a comma inside an unquoted field? quote the field)")
            continue
        raw = dict(zip(header, rec))
        typed: dict[str, object] = {}
        for col, c in spec.items():
            if col not in raw:
                typed[col] = None
                continue
            val, msg = _parse_value(c, raw[col])
            if msg:
                err.add(display, line, col, msg)
            elif val is None and c.required:
                err.add(display, line, col, "required value is empty")
            typed[col] = val
        table.rows.append(raw)
        table.lines.append(line)
        table.parsed.append(typed)
    return table


# --------------------------------------------------------------------------- row rules

def _num(v: object) -> float | None:
    return None if v is None else float(v)  # type: ignore[arg-type]


def _rules_outcomes(t: _Table, err: _Collector) -> None:
    for raw, r, line in zip(t.rows, t.parsed, t.lines):
        ev, tot = r["events"], r["total"]
        pct, lo, hi = r["reported_percent"], r["reported_ci_low"], r["reported_ci_high"]
        status, etype = r["count_status"], r["estimate_type"]
        if tot is not None and tot == 0:
            err.add(t.display, line, "total", "expected a positive integer (total > 0), got '0'")
        if ev is not None and tot is not None and ev > tot:
            err.add(t.display, line, "events", f"events ({ev}) greater than total ({tot})")
        _check_ci(t.display, line, pct, lo, hi, ("reported_percent", "reported_ci_low",
                                                  "reported_ci_high"), err)
        if status in ("reported", "derived"):
            if ev is None:
                err.add(t.display, line, "events", f"count_status '{status}' needs events")
            if tot is None:
                err.add(t.display, line, "total", f"count_status '{status}' needs total")
        if status == "percent_only":
            if pct is None:
                err.add(t.display, line, "reported_percent",
                        "count_status 'percent_only' needs reported_percent")
            if ev is not None:
                err.add(t.display, line, "events",
                        "count_status 'percent_only' must leave events empty")
        if status == "derived" and not raw.get("notes", ""):
            err.add(t.display, line, "notes", "a derived count must say how it was derived in notes")
        if etype == "pooled":
            if status is not None and status != "percent_only":
                err.add(t.display, line, "count_status",
                        f"pooled estimates must be 'percent_only', got '{status}'")
            if ev is not None:
                err.add(t.display, line, "events",
                        "pooled estimates must leave events empty (never back-calculate counts)")


def _check_ci(display, line, est, lo, hi, cols, err: _Collector) -> None:
    if lo is not None and hi is not None and lo > hi:
        err.add(display, line, cols[1], f"{cols[1]} ({_fmt(lo)}) greater than {cols[2]} ({_fmt(hi)})")
        return
    if est is not None and lo is not None and est < lo:
        err.add(display, line, cols[0], f"{cols[0]} ({_fmt(est)}) below {cols[1]} ({_fmt(lo)})")
    if est is not None and hi is not None and est > hi:
        err.add(display, line, cols[0], f"{cols[0]} ({_fmt(est)}) above {cols[2]} ({_fmt(hi)})")


def _fmt(x: object) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _rules_effects(t: _Table, err: _Collector) -> None:
    for r, line in zip(t.parsed, t.lines):
        est, lo, hi = r["estimate"], r["ci_low"], r["ci_high"]
        if r["measure"] is not None and r["measure"] not in DIFFERENCE_MEASURES:
            for col, v in (("estimate", est), ("ci_low", lo), ("ci_high", hi)):
                if v is not None and v <= 0:
                    err.add(t.display, line, col,
                            f"a {r['measure']} must be positive, got '{_fmt(v)}'")
        _check_ci(t.display, line, est, lo, hi, ("estimate", "ci_low", "ci_high"), err)


def _rules_distributions(t: _Table, err: _Collector) -> None:
    groups: dict[tuple, list[int]] = {}
    for i, (r, line) in enumerate(zip(t.parsed, t.lines)):
        scale, grade, cnt, tot = r["scale"], r["grade"], r["count"], r["total"]
        if scale in SCALES and grade is not None and grade not in SCALES[scale]:
            err.add(t.display, line, "grade",
                    f"expected a {scale} grade ({', '.join(SCALES[scale])}), got {grade!r}")
        if tot is not None and tot == 0:
            err.add(t.display, line, "total", "expected a positive integer (total > 0), got '0'")
        if cnt is not None and tot is not None and cnt > tot:
            err.add(t.display, line, "count", f"count ({cnt}) greater than total ({tot})")
        status = r["count_status"]
        if status in ("reported", "derived") and cnt is None:
            err.add(t.display, line, "count", f"count_status '{status}' needs count")
        if status == "percent_only":
            if cnt is not None:
                err.add(t.display, line, "count", "count_status 'percent_only' must leave count empty")
            if r["reported_percent"] is None:
                err.add(t.display, line, "reported_percent",
                        "count_status 'percent_only' needs reported_percent")
        key = (r["source_id"], r["cohort"], r["subgroup"], r["arm"], r["scale"], r["timepoint"])
        groups.setdefault(key, []).append(i)
    for key, idx in groups.items():
        first = t.lines[idx[0]]
        label = (f"distribution {key[0]} / {key[2]} / arm {key[3]} / {key[4]} / {key[5]}")
        grades: dict[str, int] = {}
        for i in idx:
            g = t.parsed[i]["grade"]
            if g in grades:
                err.add(t.display, t.lines[i], "grade",
                        f"grade {g!r} repeated in {label} (first on line {grades[g]})")
            else:
                grades[g] = t.lines[i]  # type: ignore[index]
        totals = {t.parsed[i]["total"] for i in idx} - {None}
        if len(totals) > 1:
            err.add(t.display, first, "total",
                    f"rows of {label} disagree on total ({', '.join(map(str, sorted(totals)))})")
            continue
        counts = [t.parsed[i]["count"] for i in idx]
        if totals and all(c is not None for c in counts):
            total = totals.pop()
            s = sum(counts)  # type: ignore[arg-type]
            if s != total:
                lines = ",".join(str(t.lines[i]) for i in idx)
                err.add(t.display, first, "count",
                        f"counts of {label} (lines {lines}) sum to {s}, not to total {total}")


def _rules_baseline(t: _Table, err: _Collector) -> None:
    needs = {
        "mean_sd": ("value", "sd"),
        "median_iqr": ("value", "low", "high"),
        "median_range": ("value", "low", "high"),
        "mean_range": ("value", "low", "high"),
        "count": ("count", "total"),
    }
    for r, line in zip(t.parsed, t.lines):
        stat = r["statistic"]
        for col in needs.get(stat, ()):  # type: ignore[arg-type]
            if r[col] is None:
                err.add(t.display, line, col, f"statistic '{stat}' needs {col}")
        if r["sd"] is not None and r["sd"] < 0:
            err.add(t.display, line, "sd", f"expected a non-negative SD, got '{_fmt(r['sd'])}'")
        if r["total"] is not None and r["total"] == 0:
            err.add(t.display, line, "total", "expected a positive integer (total > 0), got '0'")
        if r["count"] is not None and r["total"] is not None and r["count"] > r["total"]:
            err.add(t.display, line, "count", f"count ({r['count']}) greater than total ({r['total']})")
        if stat != "count":
            _check_ci(t.display, line, r["value"], r["low"], r["high"], ("value", "low", "high"), err)


_ROW_RULES = {"outcomes": _rules_outcomes, "effects": _rules_effects,
              "distributions": _rules_distributions, "baseline": _rules_baseline}


# --------------------------------------------------------------------------- cross-file

def _cross_checks(tables: dict[str, _Table], schema: dict[str, dp.Table],
                  err: _Collector) -> None:
    # A reference into a file that is missing, empty or not read to its end is not checked:
    # its error is already reported, and "unknown id" errors would be false.
    def whole(name: str) -> bool:
        return name in tables and tables[name].complete

    # the package's primary keys are unique, and row_ids unique across outcomes + effects
    seen_any: dict[str, tuple[str, int]] = {}
    for name, t in tables.items():
        if len(schema[name].primary_key) != 1:
            continue
        idcol = schema[name].primary_key[0]
        seen: dict[str, int] = {}
        for r, line in zip(t.parsed, t.lines):
            v = r[idcol]
            if v is None:
                continue
            if v in seen:
                err.add(t.display, line, idcol, f"duplicated {idcol} {v!r} (first on line {seen[v]})")
                continue
            seen[v] = line  # type: ignore[index]
            if name in ("outcomes", "effects"):
                if v in seen_any:
                    f0, l0 = seen_any[v]
                    err.add(t.display, line, idcol, f"row_id {v!r} also used in {f0}:{l0}")
                else:
                    seen_any[v] = (t.display, line)  # type: ignore[assignment]
    # the package's foreign keys resolve
    for name, t in tables.items():
        for col, ref, ref_col in schema[name].foreign_keys:
            if not (whole(ref) and tables[ref].parsed):
                continue
            known = {r[ref_col] for r in tables[ref].parsed if r[ref_col] is not None}
            for r, line in zip(t.parsed, t.lines):
                if r[col] is not None and r[col] not in known:
                    err.add(t.display, line, col,
                            f"unknown {ref_col} {r[col]!r} (not in {ref}.csv)")
    # a row's cohort agrees with its source's
    src = tables.get("sources")
    cohorts = ({r["source_id"]: r["cohort"] for r in src.parsed if r["source_id"]}
               if whole("sources") else None)
    for name in ("outcomes", "effects", "distributions", "baseline"):
        t = tables.get(name)
        if t is None or cohorts is None:
            continue
        for r, line in zip(t.parsed, t.lines):
            sid = r["source_id"]
            if sid in cohorts and r.get("cohort") and cohorts[sid] not in (None, "both", r["cohort"]):
                err.add(t.display, line, "cohort",
                        f"cohort {r['cohort']!r} differs from the source's cohort {cohorts[sid]!r}")
    claims = tables.get("claims")
    if claims is not None and whole("outcomes") and whole("effects"):
        rows = set(seen_any)
        for r, line in zip(claims.parsed, claims.lines):
            for col in ("supporting_rows", "contradicting_rows"):
                for ref in r[col] or []:  # type: ignore[union-attr]
                    if ref not in rows:
                        err.add(claims.display, line, col,
                                f"unknown row_id {ref!r} (not in outcomes.csv or effects.csv)")
    if whole("sources"):
        _check_trials_and_rob(tables, err)
    claim_files = ("claims", "claim_checks", "design_limits", "spin_strategies")
    if all(whole(n) for n in ("outcomes", "effects", "baseline") + claim_files) and \
            all(tables[n].parsed for n in claim_files):
        _claim_check_rules(tables, err)


# --------------------------------------------------------------------------- trials, risk of bias

def _check_trials_and_rob(tables: dict[str, _Table], err: _Collector) -> None:
    src = tables.get("sources")
    designs = {r["source_id"]: r["design"] for r in src.parsed if r["source_id"]} if src else None
    for name in ("trials", "risk_of_bias"):
        t = tables.get(name)
        if t is None:
            continue
        for raw, r, line in zip(t.rows, t.parsed, t.lines):
            if name == "trials" and designs and r["trial"] in designs \
                    and designs[r["trial"]] not in TRIAL_DESIGNS:
                err.add(t.display, line, "trial",
                        f"source {r['trial']!r} has design {designs[r['trial']]!r}; a trial must be "
                        f"one of: {', '.join(TRIAL_DESIGNS)}")
            loc = r["location"] or ""
            if loc.lower().startswith("secondary report") and (
                    "SECONDARY REPORT" not in raw.get("notes", "") or "http" not in raw.get("notes", "")):
                err.add(t.display, line, "notes", "a row read in a secondary report needs notes "
                        "saying 'SECONDARY REPORT' and giving the address read")
    t = tables.get("risk_of_bias")
    if t is not None:
        _rules_risk_of_bias(t, err)


def _rules_risk_of_bias(t: _Table, err: _Collector) -> None:
    groups: dict[tuple, list[int]] = {}
    for i, (r, line) in enumerate(zip(t.parsed, t.lines)):
        tool = ROB_TOOLS.get(r["tool"])  # type: ignore[arg-type]
        if tool is None:
            continue
        if r["domain"] is not None and r["domain"] not in tool["domains"]:
            err.add(t.display, line, "domain", f"expected a {r['tool']} domain "
                    f"({', '.join(tool['domains'])}), got {r['domain']!r}")
            continue
        if r["judgement"] is not None and r["judgement"] not in tool["judgements"]:
            err.add(t.display, line, "judgement", f"expected a {r['tool']} judgement "
                    f"({', '.join(tool['judgements'])}), got {r['judgement']!r}")
        if None not in (r["study"], r["domain"], r["outcome"], r["judgement"]):
            groups.setdefault((r["study"], r["tool"]), []).append(i)
    for (study, toolname), idx in groups.items():
        tool = ROB_TOOLS[toolname]
        label = f"{toolname} assessment of {study}"
        by_domain: dict[str, dict[str, int]] = {}
        for i in idx:
            r, line = t.parsed[i], t.lines[i]
            cell = by_domain.setdefault(r["domain"], {})  # type: ignore[arg-type]
            if r["outcome"] in cell:
                err.add(t.display, line, "outcome", f"{label}: domain {r['domain']!r} judged twice "
                        f"for outcome {r['outcome']!r} (first on line {t.lines[cell[r['outcome']]]})")
                continue
            cell[r["outcome"]] = i  # type: ignore[index]
        outcomes = {o for cell in by_domain.values() for o in cell if o != "all"} or {"all"}
        first = t.lines[idx[0]]
        for d in tool["required"]:
            if d not in by_domain:
                err.add(t.display, first, "domain", f"{label}: no judgement for domain {d!r}")
        for d, cell in by_domain.items():
            if "all" in cell and len(cell) > 1:
                err.add(t.display, t.lines[cell["all"]], "outcome",
                        f"{label}: domain {d!r} has a row for 'all' outcomes and rows for single "
                        "outcomes; use one or the other")
                continue
            if "all" not in cell:
                for o in sorted(outcomes - set(cell)):
                    err.add(t.display, t.lines[next(iter(cell.values()))], "outcome",
                            f"{label}: domain {d!r} has no judgement for outcome {o!r} (add a row "
                            "for it, or one row for 'all')")
        if "overall" not in by_domain:
            continue
        rank = {j: k for k, j in enumerate(tool["judgements"]) if j not in ROB_UNRANKED}
        for o in sorted(outcomes):
            def judged(d: str) -> tuple[str, int] | None:
                cell = by_domain.get(d, {})
                i = cell.get(o, cell.get("all"))
                return None if i is None else (t.parsed[i]["judgement"], i)  # type: ignore[return-value]
            ov = judged("overall")
            if ov is None or ov[0] not in rank:
                continue
            worst = max((judged(d) for d in by_domain if d != "overall"),
                        key=lambda x: rank.get(x[0], -1) if x else -1, default=None)
            if worst and worst[0] in rank and rank[worst[0]] > rank[ov[0]]:
                err.add(t.display, t.lines[ov[1]], "judgement",
                        f"{label}, outcome {o!r}: overall judgement {ov[0]!r} is milder than the "
                        f"domain judgement {worst[0]!r} on line {t.lines[worst[1]]} (the overall "
                        "risk of bias is at least the least favourable domain)")




_FIGURE = re.compile(r"^(-?[0-9]+(?:\.[0-9]+)?)(?:-([0-9]+(?:\.[0-9]+)?))?(%?)$")


def parse_stated(figure: str) -> tuple[float, float, int, bool] | None:
    """A figure as a claim states it ('84%', '57-60%', '6', '11.2') as (low, high, decimals,
    percent); None if it is not one. Shared by the validator and the figures-match rule."""
    m = _FIGURE.match(figure.strip())
    if not m:
        return None
    lo, hi, pct = m.group(1), m.group(2) or m.group(1), m.group(3) == "%"
    decimals = len(lo.split(".")[1]) if "." in lo else 0
    return float(lo), float(hi), decimals, pct


def _ids(t: _Table | None, col: str) -> set:
    return {r[col] for r in t.parsed if r[col]} if t else set()


def _claim_check_rules(tables: dict[str, _Table], err: _Collector) -> None:
    """claims.csv, claim_checks.csv, design_limits.csv and spin_strategies.csv: every reference
    resolves and each rule has the inputs it needs (data/README.md, 'The claims check')."""
    outcome_ids = _ids(tables.get("outcomes"), "row_id")
    effect_ids = _ids(tables.get("effects"), "row_id")
    baseline_ids = _ids(tables.get("baseline"), "row_id")
    data_rows = outcome_ids | effect_ids | baseline_ids
    claims, checks = tables.get("claims"), tables.get("claim_checks")
    limits, spin = tables.get("design_limits"), tables.get("spin_strategies")

    categories: set = set()
    strategies: set = set()
    if spin is not None:
        categories = {r["category"] for r in spin.parsed if r["kind"] == "category"}
        strategies = {r["spin_id"] for r in spin.parsed if r["kind"] == "strategy"}
        for r, line in zip(spin.parsed, spin.lines):
            if r["kind"] in ("category", "strategy") and not r["category"]:
                err.add(spin.display, line, "category", f"a {r['kind']} row needs its category")
            elif r["kind"] == "strategy" and r["category"] not in categories:
                err.add(spin.display, line, "category",
                        f"unknown category {r['category']!r} (expected one of the category rows: "
                        f"{', '.join(sorted(categories)) or 'none defined'})")
    if limits is not None:
        for r, line in zip(limits.parsed, limits.lines):
            for ref in r["rows"] or []:
                if ref not in data_rows:
                    err.add(limits.display, line, "rows", f"unknown row_id {ref!r} (not in "
                            "outcomes.csv, effects.csv or baseline.csv)")
    limit_ids = _ids(limits, "limit_id")
    claim_text = {r["claim_id"]: r["claim"] for r in claims.parsed if r["claim_id"]} if claims else {}
    checked: dict[str, list[str]] = {}
    if checks is not None:
        for r, line in zip(checks.parsed, checks.lines):
            d, rule = checks.display, r["rule"]
            cid = r["claim_id"]
            if cid is not None and cid in claim_text:  # an unknown one: a foreign key
                checked.setdefault(cid, []).append(rule)
                if r["assertion"] and r["assertion"] not in claim_text[cid]:
                    err.add(d, line, "assertion", f"not a verbatim part of claim {cid!r}: "
                            f"{r['assertion']!r}")
            rows = r["rows"] or []
            for ref in rows:
                if ref not in data_rows:
                    err.add(d, line, "rows", f"unknown row_id {ref!r} (not in outcomes.csv, "
                            "effects.csv or baseline.csv)")
            for ref in r["design_limits"] or []:
                if ref not in limit_ids:
                    err.add(d, line, "design_limits",
                            f"unknown limit_id {ref!r} (not in design_limits.csv)")

            def need(col: str, why: str) -> None:
                if r[col] is None:
                    err.add(d, line, col, f"rule '{rule}' needs {col} ({why})")

            if rule == "effect-interval":
                need("direction", "higher or lower: the direction the claim asserts")
                for ref in rows:
                    if ref in data_rows and ref not in effect_ids:
                        err.add(d, line, "rows", f"rule '{rule}' tests intervals of effects.csv "
                                f"rows; {ref!r} is not one")
                if not rows:
                    need("comparison", "without rows: does the evidence have a comparison group?")
            elif rule == "safety-comparator":
                if not any(ref in effect_ids for ref in rows):
                    need("comparison", "without a comparison row: does the evidence have a "
                         "comparison group?")
                if r["threshold"] is not None:
                    for col in ("source_id", "location", "quote"):
                        need(col, "where the source states its threshold")
            elif rule == "qualifier-dropped":
                for col in ("source_id", "location", "quote"):
                    need(col, "the qualifier the claim leaves out, quoted from its source")
            elif rule == "figures-match":
                need("stated", "the figures the claim states, separated by ';'")
                stated = [x.strip() for x in (r["stated"] or "").split(";") if x.strip()]
                if r["stated"] is not None and len(stated) != len(rows):
                    err.add(d, line, "stated", f"{len(stated)} stated figure(s) but {len(rows)} "
                            "row(s); give one row per figure")
                for fig in stated:
                    if parse_stated(fig) is None:
                        err.add(d, line, "stated", f"expected figures like 84%, 57-60%, 6 or "
                                f"11.2; got {fig!r}")
                    elif r["assertion"] and fig.rstrip("%") not in r["assertion"]:
                        err.add(d, line, "stated", f"figure {fig!r} does not occur in the "
                                "assertion")
                for ref in rows:
                    if ref in effect_ids:
                        err.add(d, line, "rows", f"rule '{rule}' compares figures with "
                                f"outcomes.csv or baseline.csv rows; {ref!r} is an effect")
            elif rule == "source-says":
                need("finding", "what the source says: one of the verdicts")
            elif rule == "not-measured":
                for col in ("location", "quote"):
                    need(col, "what the study did measure, quoted")
    if claims is not None:
        for r, line in zip(claims.parsed, claims.lines):
            sp = r["spin"]
            if sp is not None and sp != "none" and spin is not None and sp not in strategies:
                err.add(claims.display, line, "spin", f"unknown spin strategy {sp!r} (expected "
                        "'none' or a strategy spin_id of spin_strategies.csv)")
            if checks is not None and r["claim_id"]:
                rules = checked.get(r["claim_id"], [])
                if not [x for x in rules if x != "qualifier-dropped"]:
                    err.add(claims.display, line, "claim_id",
                            "claim has no check in claim_checks.csv (besides qualifier-dropped); "
                            "every claim is rated by at least one rule")


# --------------------------------------------------------------------------- public API

def _to_frame(spec: dict[str, _Col], t: _Table | None) -> pd.DataFrame:
    cols: dict[str, pd.Series] = {}
    parsed = t.parsed if t else []
    for col, c in spec.items():
        vals = [r[col] for r in parsed]
        dtype = _KIND_DTYPE.get(c.kind)
        if dtype == "Int64":
            cols[col] = pd.Series(vals, dtype="Int64")
        elif dtype == "float64":
            cols[col] = pd.Series([math.nan if v is None else v for v in vals], dtype="float64")
        elif c.kind == "rowrefs":
            cols[col] = pd.Series([";".join(v) if v else "" for v in vals], dtype=object)
        else:
            cols[col] = pd.Series(["" if v is None else v for v in vals], dtype=object)
    # no attrs here: pandas deep-copies attrs on every selection, which made each row
    # selection of the analyses copy the file's line list (the raw frames keep it)
    return pd.DataFrame(cols, columns=list(spec))


def _to_raw_frame(spec: dict[str, _Col], t: _Table | None) -> pd.DataFrame:
    rows = t.rows if t else []
    df = pd.DataFrame([[r.get(c, "") for c in spec] for r in rows], columns=list(spec),
                      dtype=object)
    df.attrs["lines"] = list(t.lines) if t else []
    return df


def validate(data_dir: str | Path | None = None) -> list[DataError]:
    """Check every file in ``data_dir`` and return all errors (empty list = valid)."""
    return _load(data_dir)[1]


def load_dataset(data_dir: str | Path | None = None) -> Dataset:
    """Read and validate ``data_dir`` (default: the project's data/); raise
    :class:`DataValidationError` listing all errors if anything is wrong."""
    ds, errors = _load(data_dir)
    if errors:
        raise DataValidationError(errors)
    assert ds is not None
    return ds


def _load(data_dir: str | Path | None) -> tuple[Dataset | None, list[DataError]]:
    ddir = Path(data_dir) if data_dir is not None else DATA_DIR
    err = _Collector()
    tables: dict[str, _Table | None] = {}
    files: list[Path] = []
    if not ddir.is_dir():
        err.add(str(ddir), None, None, "data directory not found")
        return None, err.errors
    known = {f"{n}.csv" for n in REQUIRED_FILES} | set(NON_TABLE_FILES) | set(DOCUMENTATION)
    try:
        entries = sorted(p.name for p in ddir.iterdir())
    except OSError as exc:
        err.add(str(ddir), None, None, f"cannot list the data directory ({exc.strerror})")
        entries = []
    for name in entries:
        if name not in known:
            err.add(f"{ddir.name}/{name}", None, None,
                    "unknown file in the data directory: it would be neither validated nor "
                    "used; move it out of the directory (the data files are "
                    f"{', '.join([f + '.csv' for f in REQUIRED_FILES] + list(NON_TABLE_FILES))}; "
                    f"besides them only {' and '.join(DOCUMENTATION)} may be there)")
    terms = None
    try:
        terms = vocab.terms(ddir)
    except vocab.VocabularyError as exc:
        err.add(f"{ddir.name}/{vocab.FILE}", None, None, str(exc).split(": ", 1)[-1])
    schema = _folder_schema(ddir, terms, err)
    if schema is None:
        return None, err.errors
    for name in REQUIRED_FILES:
        path = ddir / f"{name}.csv"
        display = f"{ddir.name}/{name}.csv"
        t = _read_table(name, schema[name].columns, path, display, err)
        tables[name] = t
        if t is not None:
            files.append(path)
            if name in _ROW_RULES:
                _ROW_RULES[name](t, err)
    _cross_checks({k: v for k, v in tables.items() if v is not None}, schema, err)
    order = {f"{ddir.name}/{n}.csv": i for i, n in enumerate(REQUIRED_FILES)}
    errors = sorted(err.errors, key=lambda e: (order.get(e.file, -1), e.line or 0))
    ds = Dataset(**{n: _to_frame(schema[n].columns, tables.get(n)) for n in REQUIRED_FILES},
                 files=files, data_dir=ddir,
                 raw={n: _to_raw_frame(schema[n].columns, tables.get(n)) for n in REQUIRED_FILES})
    return ds, errors


def _folder_schema(ddir: Path, terms: dict | None, err: _Collector) -> dict[str, dp.Table] | None:
    """The tables of the folder's own datapackage.json; None (with the errors) if it cannot
    be used: missing, not JSON, a field of no known format, or not the project's structure.
    Vocabulary enums that differ from vocabulary.csv are errors, but the files are still read."""
    display = f"{ddir.name}/{dp.FILE}"
    try:
        pkg = dp.load(ddir)
        tabs = dp.tables(pkg, dp.path_of(ddir))
    except dp.PackageError as exc:
        for problem in exc.problems:
            err.add(display, None, None, problem)
        return None
    problems: list[str] = []
    if ddir.resolve() != PROJECT_DATA.resolve():
        try:
            problems += dp.structure_problems(pkg, _project_package()[0])
        except dp.PackageError:
            pass  # the project's own package is broken; this folder's is checked alone
    wanted = list(REQUIRED_FILES) + [dp.VOCABULARY]
    problems += [f"resource {n!r} is not a file of the data directory (its files: "
                 f"{', '.join(f + '.csv' for f in wanted)})" for n in tabs if n not in wanted]
    problems += [f"no resource describes {n}.csv" for n in wanted if n not in tabs]
    for problem in problems:
        err.add(display, None, None, problem)
    if problems:
        return None
    for problem in dp.enum_problems(pkg, terms) if terms is not None else []:
        err.add(display, None, None, problem)
    return tabs


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print("usage: python -m evtreport.data [DATA_DIR]")
        return 0
    ds, errors = _load(args[0] if args else None)
    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        print(f"{len(errors)} data error(s)", file=sys.stderr)
        return 1
    assert ds is not None
    print(f"data OK: {len(ds.files)} files, {ds.n_rows} rows")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
