"""Load and validate the curated data files in ``data/``.

The files and their columns are those of data/datapackage.json (``SCHEMA``, ``COLUMNS``). ``load_dataset``
reads every file, checks it completely and either returns a :class:`Dataset` of typed pandas
DataFrames or raises :class:`DataValidationError` listing *all* problems at once, each as
``data/outcomes.csv:14: column 'events': expected a non-negative integer, got '-3'``.
Line numbers are physical lines of the file (header = line 1), also with quoted
multi-line fields.

Encoding policy: the files are curated by hand and must stay diff-clean, so a UTF-8
byte-order mark and Windows (CRLF) line endings are *rejected* with a message saying how
to fix them (the rest of the file is still checked, as if they had been removed).

Command line: ``python -m evtreport.data [DATA_DIR]`` prints ``data OK: N files, M rows``
or every error on stderr and exits 1.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd

from .paths import DATA_DIR, ROOT

# --------------------------------------------------------------------------- schema
#
# The files, their columns, types, constraints, vocabularies and keys are described once, in
# data/datapackage.json (a Frictionless Data Package with a Table Schema per file), which
# people using R, Excel or another tool read too. Everything below is read from it; the code
# keeps only the value formats it knows how to check (FORMATS) and the rules that span
# several columns or files.

PACKAGE = ROOT / "data" / "datapackage.json"

# Value formats: each is a Table Schema type with its constraints. Every field of the package
# must be one of these (or a string with an ``enum``); its ``required`` constraint and its
# ``enum`` are the field's own.
FORMATS: dict[str, dict[str, object]] = {
    "text": {"type": "string"},
    "slug": {"type": "string", "pattern": r"[a-z0-9][a-z0-9._-]*"},
    "int": {"type": "integer", "minimum": 0},
    "year": {"type": "integer", "minimum": 1900, "maximum": 2100},
    "pmid": {"type": "string", "pattern": r"[0-9]+"},
    "doi": {"type": "string", "pattern": r"10\.\d{4,9}/\S+"},
    "url": {"type": "string", "pattern": r"https?://\S+"},
    "decimal": {"type": "number"},
    "percent": {"type": "number", "minimum": 0, "maximum": 100},
    "pvalue": {"type": "string",
               "pattern": r"(?:<|>|<=|>=)?\s*(?:0(?:\.[0-9]+)?|1(?:\.0+)?|\.[0-9]+)"},
    "rowrefs": {"type": "string",
                "pattern": r"[a-z0-9][a-z0-9._-]*(\s*;\s*[a-z0-9][a-z0-9._-]*)*"},
}


class DataPackageError(ValueError):
    """data/datapackage.json cannot be read as the schema of the data files."""


@dataclass(frozen=True)
class _Col:
    kind: str
    required: bool = False
    values: tuple[str, ...] = ()


def _field_kind(where: str, field: dict) -> _Col:
    cons = dict(field.get("constraints", {}))
    required = bool(cons.pop("required", False))
    enum = cons.pop("enum", None)
    if enum is not None:
        if field.get("type") != "string" or cons:
            raise DataPackageError(f"{where}: an enum field must be a plain string")
        return _Col("enum", required, tuple(enum))
    shape = {"type": field.get("type", "string"), **cons}
    for kind, spec in FORMATS.items():
        if spec == shape:
            return _Col(kind, required)
    raise DataPackageError(f"{where}: type/constraints {shape} are none of the formats the "
                           f"validator checks (FORMATS in src/evtreport/data.py)")


def _read_package(path: Path = PACKAGE):
    try:
        pkg = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataPackageError(f"{path}: cannot read the data package ({exc})") from None
    columns: dict[str, dict[str, _Col]] = {}
    keys: dict[str, str] = {}
    foreign: dict[str, list[tuple[str, str, str]]] = {}
    labels: dict[tuple[str, str], dict[str, str]] = {}
    for res in pkg["resources"]:
        name = res["name"]
        if res.get("path") != f"{name}.csv":
            raise DataPackageError(f"{path}: resource {name!r} must have path '{name}.csv'")
        schema = res["schema"]
        columns[name] = {f["name"]: _field_kind(f"{path}: {name}.{f['name']}", f)
                         for f in schema["fields"]}
        for f in schema["fields"]:
            if "categories" in f:
                labels[(name, f["name"])] = {c["value"]: c["label"] for c in f["categories"]}
        pk = schema.get("primaryKey", [])
        keys[name] = pk if isinstance(pk, str) else pk[0]
        foreign[name] = [(fk["fields"][0] if isinstance(fk["fields"], list) else fk["fields"],
                          fk["reference"]["resource"],
                          (fk["reference"]["fields"][0] if isinstance(fk["reference"]["fields"], list)
                           else fk["reference"]["fields"]))
                         for fk in schema.get("foreignKeys", [])]
    return columns, keys, foreign, labels


COLUMNS, PRIMARY_KEYS, FOREIGN_KEYS, _LABELS = _read_package()
SCHEMA: dict[str, tuple[str, ...]] = {name: tuple(cols) for name, cols in COLUMNS.items()}
REQUIRED_FILES = ("sources", "outcomes", "effects", "distributions", "baseline")
OPTIONAL_FILES = ("claims",)  # validated when present; an empty DataFrame otherwise


def _values(file: str, column: str) -> tuple[str, ...]:
    return COLUMNS[file][column].values


COHORTS = _values("outcomes", "cohort")
SOURCE_COHORTS = _values("sources", "cohort")
DESIGNS = _values("sources", "design")
ARMS = _values("outcomes", "arm")
ESTIMATE_TYPES = _values("outcomes", "estimate_type")
COUNT_STATUSES = _values("outcomes", "count_status")
DIST_COUNT_STATUSES = _values("distributions", "count_status")
MEASURES = _values("effects", "measure")
RATIO_MEASURES = tuple(m for m in MEASURES if m != "risk difference")
ADJUSTED = _values("effects", "adjusted")
# The grades each scale has (a rule across two columns; the package lists every grade).
SCALES: dict[str, tuple[str, ...]] = {
    "mRS": ("0", "1", "2", "3", "4", "5", "6"),
    "mTICI": ("0", "1", "2a", "2b", "2c", "3"),
}
STATISTICS = _values("baseline", "statistic")
VERDICTS = _values("claims", "verdict")
#: Vocabulary of outcome names (outcomes.csv and effects.csv ``outcome``) with meanings: the
#: ``categories`` of the outcome field in data/datapackage.json.
OUTCOMES: dict[str, str] = _LABELS[("outcomes", "outcome")]

_SLUG = re.compile(FORMATS["slug"]["pattern"])  # type: ignore[arg-type]
_INT = re.compile(r"^[0-9]+$")
_SIGNED_INT = re.compile(r"^-?[0-9]+$")
_DECIMAL = re.compile(r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_PVALUE = re.compile(FORMATS["pvalue"]["pattern"])  # type: ignore[arg-type]
_DOI = re.compile(FORMATS["doi"]["pattern"])  # type: ignore[arg-type]
_URL = re.compile(FORMATS["url"]["pattern"])  # type: ignore[arg-type]
_PMID = re.compile(FORMATS["pmid"]["pattern"])  # type: ignore[arg-type]
_T, _S, _I, _D, _P = "text", "slug", "int", "decimal", "percent"

_KIND_DTYPE = {_I: "Int64", "year": "Int64", _D: "float64", _P: "float64"}


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
    """The validated data: one DataFrame per file, columns exactly as in ``SCHEMA``.

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
    files: list[Path]
    data_dir: Path
    #: the same tables as printed in the files (every cell as text, '' = empty), with the
    #: physical line of each row in ``raw[name].attrs['lines']``; the audit reads the
    #: printed precision of numbers (e.g. '30' vs '30.0') from here.
    raw: dict[str, pd.DataFrame]

    @property
    def n_rows(self) -> int:
        """Number of data rows over all files."""
        return sum(len(getattr(self, name)) for name in SCHEMA)

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


def _read_text(path: Path, display: str, err: _Collector) -> str | None:
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
                f"{','.join(SCHEMA[path.stem])})")
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        err.add(display, 1, None,
                "file starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without "
                "BOM (e.g. sed -i '1s/^\\xEF\\xBB\\xBF//' FILE)")
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        err.add(display, line, None,
                f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8")
        text = raw.decode("utf-8", errors="replace")
    if "\r" in text:
        physical = text.split("\n")
        crlf = [i + 1 for i, ln in enumerate(physical) if ln.endswith("\r")]
        if crlf:
            err.add(display, crlf[0], None,
                    f"Windows (CRLF) line endings on {len(crlf)} line(s), first here; "
                    "convert to LF (e.g. dos2unix FILE, or sed -i 's/\\r$//' FILE)")
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            line = text[: text.index("\r")].count("\n") + 1
            err.add(display, line, None,
                    "bare carriage return (old Mac line ending); use LF line endings")
            text = text.replace("\r", "\n")
    return text


def _parse_csv(text: str, display: str, err: _Collector) -> tuple[list[list[str]], list[int]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    starts: list[int] = []
    prev = 0
    try:
        for rec in reader:
            start = prev + 1
            prev = reader.line_num
            if not rec or rec == [""]:
                continue  # blank line
            records.append(rec)
            starts.append(start)
    except csv.Error as exc:
        err.add(display, prev + 1, None, f"malformed CSV ({exc}); check the quoting")
    return records, starts


def _check_header(name: str, header: list[str], display: str, err: _Collector) -> None:
    expected = list(SCHEMA[name])
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
        if _SLUG.fullmatch(raw):
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
        bad = [p for p in parts if not _SLUG.fullmatch(p)]
        if bad:
            return None, f"expected semicolon-separated row_ids, got {raw!r}"
        return parts, None
    if k == "enum":
        if raw in col.values:
            return raw, None
        return None, f"expected one of: {', '.join(col.values)}; got {raw!r}" + (
            " (add new outcome names to the categories and enum of the outcome fields in "
            "data/datapackage.json, then run `python -m evtreport.datapackage --readme`)"
            if col.values == tuple(OUTCOMES) else "")
    raise AssertionError(k)  # pragma: no cover


def _read_table(name: str, path: Path, display: str, err: _Collector) -> _Table | None:
    text = _read_text(path, display, err)
    if text is None:
        return None
    records, starts = _parse_csv(text, display, err)
    if not records:
        err.add(display, None, None, "no header row")
        return None
    header = records[0]
    _check_header(name, header, display, err)
    spec = COLUMNS[name]
    table = _Table(name, display, header, [], [], [])
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
        if r["measure"] in RATIO_MEASURES:
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

def _cross_checks(tables: dict[str, _Table], err: _Collector) -> None:
    # the package's primary keys are unique, and row_ids unique across outcomes + effects
    seen_any: dict[str, tuple[str, int]] = {}
    for name, idcol in PRIMARY_KEYS.items():
        t = tables.get(name)
        if t is None:
            continue
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
    for name, fks in FOREIGN_KEYS.items():
        t = tables.get(name)
        for col, ref_name, ref_col in fks:
            ref = tables.get(ref_name)
            if t is None or ref is None:
                continue
            known = {r[ref_col] for r in ref.parsed if r[ref_col] is not None}
            for r, line in zip(t.parsed, t.lines):
                if r[col] is not None and r[col] not in known:
                    err.add(t.display, line, col,
                            f"unknown {ref_col} {r[col]!r} (not in {ref_name}.csv)")
    # a row's cohort agrees with its source's
    src = tables.get("sources")
    cohorts = {r["source_id"]: r["cohort"] for r in src.parsed if r["source_id"]} if src else {}
    for name, fks in FOREIGN_KEYS.items():
        t = tables.get(name)
        if t is None or ("source_id", "sources", "source_id") not in fks or "cohort" not in SCHEMA[name]:
            continue
        for r, line in zip(t.parsed, t.lines):
            sid = r["source_id"]
            if sid in cohorts and r["cohort"] and cohorts[sid] not in (None, "both", r["cohort"]):
                err.add(t.display, line, "cohort",
                        f"cohort {r['cohort']!r} differs from the source's cohort {cohorts[sid]!r}")
    claims = tables.get("claims")
    if claims is not None:
        rows = set(seen_any)
        for r, line in zip(claims.parsed, claims.lines):
            for col in ("supporting_rows", "contradicting_rows"):
                for ref in r[col] or []:  # type: ignore[union-attr]
                    if ref not in rows:
                        err.add(claims.display, line, col,
                                f"unknown row_id {ref!r} (not in outcomes.csv or effects.csv)")


# --------------------------------------------------------------------------- public API

def _to_frame(name: str, t: _Table | None) -> pd.DataFrame:
    spec = COLUMNS[name]
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
    df = pd.DataFrame(cols, columns=list(spec))
    df.attrs["lines"] = list(t.lines) if t else []
    return df


def _to_raw_frame(name: str, t: _Table | None) -> pd.DataFrame:
    rows = t.rows if t else []
    df = pd.DataFrame([[r.get(c, "") for c in SCHEMA[name]] for r in rows],
                      columns=list(SCHEMA[name]), dtype=object)
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
    for name in REQUIRED_FILES + OPTIONAL_FILES:
        path = ddir / f"{name}.csv"
        display = f"{ddir.name}/{name}.csv"
        if name in OPTIONAL_FILES and not path.exists():
            continue
        t = _read_table(name, path, display, err)
        tables[name] = t
        if t is not None:
            files.append(path)
            if name in _ROW_RULES:
                _ROW_RULES[name](t, err)
    _cross_checks({k: v for k, v in tables.items() if v is not None}, err)
    order = {f"{ddir.name}/{n}.csv": i for i, n in enumerate(REQUIRED_FILES + OPTIONAL_FILES)}
    errors = sorted(err.errors, key=lambda e: (order.get(e.file, -1), e.line or 0))
    ds = Dataset(**{n: _to_frame(n, tables.get(n)) for n in SCHEMA}, files=files, data_dir=ddir,
                 raw={n: _to_raw_frame(n, tables.get(n)) for n in SCHEMA})
    return ds, errors


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
