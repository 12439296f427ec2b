"""Load and validate the curated data files in ``data/``.

The files and their columns are fixed (see ``SCHEMA`` and data/README.md). ``load_dataset``
reads every file, checks it completely and either returns a :class:`Dataset` of typed pandas
DataFrames or raises :class:`DataValidationError` listing *all* problems at once, each as
``data/outcomes.csv:14: column 'events': expected a non-negative integer, got '-3'``.
Line numbers are physical lines of the file (header = line 1), also with quoted
multi-line fields.

Encoding: UTF-8. A byte-order mark and Windows (CRLF) line endings, as spreadsheet programs
write them ("CSV UTF-8"), are accepted and normalised on read; bytes that are not UTF-8 are
an error naming the line.

Files: every file in ``REQUIRED_FILES`` must exist and hold at least one data row; any other
entry of the data directory except ``DOCUMENTATION`` is an error, so nothing unvalidated is
ever taken (or checksummed) as data.

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
from pathlib import Path
from typing import Sequence

import pandas as pd

from . import vocab
from .paths import DATA_DIR

# --------------------------------------------------------------------------- schema

SCHEMA: dict[str, tuple[str, ...]] = {
    "sources": ("source_id", "authors", "year", "title", "journal", "volume_pages", "doi",
                "pmid", "url", "design", "cohort", "notes", "label"),
    "outcomes": ("row_id", "source_id", "cohort", "subgroup", "arm", "outcome", "definition",
                 "timepoint", "events", "total", "reported_percent", "reported_ci_low",
                 "reported_ci_high", "estimate_type", "count_status", "location", "quote",
                 "notes"),
    "effects": ("row_id", "source_id", "cohort", "subgroup", "outcome", "definition",
                "timepoint", "comparison", "measure", "estimate", "ci_low", "ci_high",
                "p_value", "adjusted", "location", "quote", "notes"),
    "distributions": ("row_id", "source_id", "cohort", "subgroup", "arm", "scale", "timepoint",
                      "grade", "count", "total", "reported_percent", "count_status", "location",
                      "quote"),
    "baseline": ("row_id", "source_id", "cohort", "subgroup", "arm", "variable", "statistic",
                 "value", "sd", "low", "high", "count", "total", "reported_percent", "unit",
                 "location", "quote"),
    "claims": ("claim_id", "document", "section", "location", "claim", "cited_ref",
               "cited_source_id", "topic", "supporting_rows", "contradicting_rows",
               "previous_verdict", "spin", "rationale"),
    "claim_checks": ("check_id", "claim_id", "assertion", "rule", "direction", "rows",
                     "comparison", "threshold", "stated", "finding", "design_limits",
                     "source_id", "location", "quote", "note"),
    "design_limits": ("limit_id", "source_id", "limit", "location", "quote", "rows",
                      "consequence"),
    "spin_strategies": ("spin_id", "kind", "category", "label", "reference", "doi", "url",
                        "location", "quote"),
    "quotes": ("quote_id", "source_id", "location", "quote", "use"),
    "trials": ("row_id", "trial", "characteristic", "value", "source_id", "location", "quote",
               "notes"),
    "risk_of_bias": ("row_id", "study", "tool", "outcome", "domain", "judgement", "source_id",
                     "location", "quote", "rationale", "notes"),
}
REQUIRED_FILES = ("sources", "outcomes", "effects", "distributions", "baseline", "claims",
                  "claim_checks", "design_limits", "spin_strategies", "quotes", "trials",
                  "risk_of_bias")
#: Other files the data directory holds: read by evtreport.vocab, or documentation.
NON_TABLE_FILES = ("vocabulary.csv",)
#: What else the data directory may hold: documentation, never read as data.
DOCUMENTATION = ("README.md", "notes")

COHORTS = ("DMVO", "ICASS-M1")
SOURCE_COHORTS = ("DMVO", "ICASS-M1", "both")
DESIGNS = ("RCT", "meta-analysis", "prospective cohort", "retrospective cohort", "registry",
           "post-hoc pooled analysis", "protocol", "guideline", "Q&A summary",
           "conference presentation")
ARMS = ("EVT", "medical", "all")
ESTIMATE_TYPES = ("observed", "pooled")
COUNT_STATUSES = ("reported", "derived", "percent_only")
DIST_COUNT_STATUSES = COUNT_STATUSES
MEASURES = ("common OR", "adjusted common OR", "OR", "adjusted OR", "risk ratio",
            "adjusted rate ratio", "hazard ratio", "adjusted hazard ratio", "risk difference")
RATIO_MEASURES = tuple(m for m in MEASURES if m != "risk difference")
ADJUSTED = ("yes", "no")
SCALES: dict[str, tuple[str, ...]] = {
    "mRS": ("0", "1", "2", "3", "4", "5", "6"),
    "mTICI": ("0", "1", "2a", "2b", "2c", "3"),
}
STATISTICS = ("mean_sd", "median_iqr", "median_range", "mean_range", "count")
VERDICTS = ("supported", "partly supported", "contradicted", "not verifiable",
            "not verifiable from the design")
#: The claims-check rules (src/evtreport/rubric.py applies them; data/README.md explains them).
CLAIM_RULES = ("not-found", "effect-interval", "qualifier-dropped", "safety-comparator",
               "figures-match", "source-says", "not-measured")
DIRECTIONS = ("higher", "lower")
YES_NO = ("yes", "no")
SPIN_KINDS = ("definition", "category", "strategy")

#: Outcome names (outcomes.csv and effects.csv ``outcome``) with meanings, from
#: data/vocabulary.csv (kind "outcome"); data/README.md lists the same (a test checks).
OUTCOMES: dict[str, str] = {k: vocab.description("outcome", k) for k in vocab.keys("outcome")}

#: trials.csv ``characteristic``: what one cell of a characteristics-of-trials table holds.
TRIAL_CHARACTERISTICS: dict[str, str] = {
    "design": "design as the source words it (randomization, blinding, PROBE ...)",
    "registration": "trial registration number",
    "countries": "countries (or their number) that enrolled",
    "sites": "number of sites or hospitals",
    "enrolment_period": "when patients were enrolled",
    "planned_sample_size": "sample size planned in the protocol",
    "participants": "patients randomized / analysed, per arm",
    "population_vessels": "occlusion sites eligible",
    "population_time_window": "time from onset or last known well to randomization or treatment",
    "population_nihss": "NIHSS (or deficit) required for inclusion",
    "population_age": "age required for inclusion",
    "baseline_age": "age of the patients enrolled",
    "baseline_nihss": "NIHSS of the patients enrolled",
    "baseline_occlusion_location": "where the enrolled patients' occlusions were",
    "ivt_share": "share of patients given intravenous thrombolysis",
    "intervention": "the experimental arm",
    "devices": "thrombectomy devices or technique",
    "comparator": "the control arm",
    "primary_outcome": "the primary outcome as defined by the trial",
    "primary_result": "the primary outcome's reported result",
    "follow_up": "length of follow-up",
    "funding": "who funded the trial",
}
TRIAL_DESIGNS = ("RCT", "post-hoc pooled analysis")  # sources.csv designs a trials.csv trial may have

#: risk_of_bias.csv: per tool, its domains (``domain``), the domains every assessed study must
#: have, and the judgements allowed, mildest first (the order the ``overall`` check uses).
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


_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_INT = re.compile(r"^[0-9]+$")
_SIGNED_INT = re.compile(r"^-?[0-9]+$")
_DECIMAL = re.compile(r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_PVALUE = re.compile(r"^(?:<|>|<=|>=)?\s*(?:0(?:\.[0-9]+)?|1(?:\.0+)?|\.[0-9]+)$")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")

# Column kinds: text, slug, int (non-negative), year, pmid, doi, url, decimal, percent,
# pvalue, rowrefs, enum (with its values). Required columns must be non-empty.
_T, _S, _I, _D, _P = "text", "slug", "int", "decimal", "percent"


@dataclass(frozen=True)
class _Col:
    kind: str
    required: bool = False
    values: tuple[str, ...] = ()


def _enum(values: Sequence[str], required: bool = True) -> _Col:
    return _Col("enum", required, tuple(values))


COLUMNS: dict[str, dict[str, _Col]] = {
    "sources": {
        "source_id": _Col(_S, True), "authors": _Col(_T), "year": _Col("year"),
        "title": _Col(_T), "journal": _Col(_T), "volume_pages": _Col(_T), "doi": _Col("doi"),
        "pmid": _Col("pmid"), "url": _Col("url"), "design": _enum(DESIGNS, required=False),
        "cohort": _enum(SOURCE_COHORTS), "notes": _Col(_T), "label": _Col(_T, True),
    },
    "outcomes": {
        "row_id": _Col(_S, True), "source_id": _Col(_S, True), "cohort": _enum(COHORTS),
        "subgroup": _Col(_T, True), "arm": _enum(ARMS), "outcome": _enum(tuple(OUTCOMES)),
        "definition": _Col(_T, True), "timepoint": _Col(_T, True), "events": _Col(_I),
        "total": _Col(_I), "reported_percent": _Col(_P), "reported_ci_low": _Col(_P),
        "reported_ci_high": _Col(_P), "estimate_type": _enum(ESTIMATE_TYPES),
        "count_status": _enum(COUNT_STATUSES), "location": _Col(_T, True),
        "quote": _Col(_T, True), "notes": _Col(_T),
    },
    "effects": {
        "row_id": _Col(_S, True), "source_id": _Col(_S, True), "cohort": _enum(COHORTS),
        "subgroup": _Col(_T, True), "outcome": _enum(tuple(OUTCOMES)),
        "definition": _Col(_T, True), "timepoint": _Col(_T, True),
        "comparison": _Col(_T, True), "measure": _enum(MEASURES), "estimate": _Col(_D, True),
        "ci_low": _Col(_D), "ci_high": _Col(_D), "p_value": _Col("pvalue"),
        "adjusted": _enum(ADJUSTED), "location": _Col(_T, True), "quote": _Col(_T, True),
        "notes": _Col(_T),
    },
    "distributions": {
        "row_id": _Col(_S, True), "source_id": _Col(_S, True), "cohort": _enum(COHORTS),
        "subgroup": _Col(_T, True), "arm": _enum(ARMS), "scale": _enum(tuple(SCALES)),
        "timepoint": _Col(_T, True), "grade": _Col(_T, True), "count": _Col(_I),
        "total": _Col(_I, True), "reported_percent": _Col(_P),
        "count_status": _enum(DIST_COUNT_STATUSES), "location": _Col(_T, True),
        "quote": _Col(_T, True),
    },
    "baseline": {
        "row_id": _Col(_S, True), "source_id": _Col(_S, True), "cohort": _enum(COHORTS),
        "subgroup": _Col(_T, True), "arm": _enum(ARMS), "variable": _Col(_T, True),
        "statistic": _enum(STATISTICS), "value": _Col(_D), "sd": _Col(_D), "low": _Col(_D),
        "high": _Col(_D), "count": _Col(_I), "total": _Col(_I), "reported_percent": _Col(_P),
        "unit": _Col(_T), "location": _Col(_T, True), "quote": _Col(_T, True),
    },
    "claims": {
        "claim_id": _Col(_S, True), "document": _Col(_S, True), "section": _Col(_T, True),
        "location": _Col(_T, True), "claim": _Col(_T, True),
        "cited_ref": _Col(_T), "cited_source_id": _Col(_S), "topic": _Col(_T),
        "supporting_rows": _Col("rowrefs"), "contradicting_rows": _Col("rowrefs"),
        "previous_verdict": _enum(VERDICTS, required=False), "spin": _Col(_S, True),
        "rationale": _Col(_T, True),
    },
    "claim_checks": {
        "check_id": _Col(_S, True), "claim_id": _Col(_S, True), "assertion": _Col(_T, True),
        "rule": _enum(CLAIM_RULES), "direction": _enum(DIRECTIONS, required=False),
        "rows": _Col("rowrefs"), "comparison": _enum(YES_NO, required=False),
        "threshold": _Col(_D), "stated": _Col(_T), "finding": _enum(VERDICTS, required=False),
        "design_limits": _Col("rowrefs"), "source_id": _Col(_S), "location": _Col(_T),
        "quote": _Col(_T), "note": _Col(_T, True),
    },
    "design_limits": {
        "limit_id": _Col(_S, True), "source_id": _Col(_S, True), "limit": _Col(_T, True),
        "location": _Col(_T, True), "quote": _Col(_T, True), "rows": _Col("rowrefs"),
        "consequence": _Col(_T, True),
    },
    "spin_strategies": {
        "spin_id": _Col(_S, True), "kind": _enum(SPIN_KINDS), "category": _Col(_T),
        "label": _Col(_T, True), "reference": _Col(_T, True), "doi": _Col("doi"),
        "url": _Col("url", True), "location": _Col(_T, True), "quote": _Col(_T, True),
    },
    "quotes": {
        "quote_id": _Col(_S, True), "source_id": _Col(_S, True), "location": _Col(_T, True),
        "quote": _Col(_T, True), "use": _Col(_T, True),
    },
    "trials": {
        "row_id": _Col(_S, True), "trial": _Col(_S, True),
        "characteristic": _enum(tuple(TRIAL_CHARACTERISTICS)), "value": _Col(_T, True),
        "source_id": _Col(_S, True), "location": _Col(_T, True), "quote": _Col(_T, True),
        "notes": _Col(_T),
    },
    "risk_of_bias": {
        "row_id": _Col(_S, True), "study": _Col(_S, True), "tool": _enum(tuple(ROB_TOOLS)),
        "outcome": _enum(tuple(OUTCOMES) + ("all",)),
        "domain": _enum(tuple(dict.fromkeys(d for t in ROB_TOOLS.values() for d in t["domains"]))),
        "judgement": _enum(tuple(dict.fromkeys(j for t in ROB_TOOLS.values()
                                               for j in t["judgements"]))),
        "source_id": _Col(_S, True), "location": _Col(_T, True), "quote": _Col(_T, True),
        "rationale": _Col(_T, True), "notes": _Col(_T),
    },
}
assert all(tuple(COLUMNS[k]) == v for k, v in SCHEMA.items())

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


def _parse_csv(text: str, display: str,
               err: _Collector) -> tuple[list[list[str]], list[int], bool]:
    """Records, the physical start line of each, and whether the whole file was read."""
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
        limit = csv.field_size_limit()
        if "field larger than field limit" in str(exc):
            msg = (f"a field is longer than {limit} characters, the limit for one cell (a "
                   "quote opened but never closed?); the rest of the file was not read")
        else:
            msg = f"malformed CSV ({exc}); check the quoting; the rest of the file was not read"
        err.add(display, prev + 1, None, msg)
        return records, starts, False
    return records, starts, True


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
        if _INT.match(raw):
            return raw, None
        return None, f"expected a PubMed id (digits only), got {raw!r}"
    if k == "doi":
        if _DOI.match(raw):
            return raw, None
        return None, f"expected a DOI like 10.1234/abc (no https://doi.org/ prefix), got {raw!r}"
    if k == "url":
        if raw.startswith(("http://", "https://")) and " " not in raw:
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
        if _PVALUE.match(raw):
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
            " (add new outcome names to data/vocabulary.csv and to data/README.md)"
            if col.values == tuple(OUTCOMES) else "")
    raise AssertionError(k)  # pragma: no cover


def _read_table(name: str, path: Path, display: str, err: _Collector) -> _Table | None:
    text = _read_text(path, display, err)
    if text is None:
        return None
    records, starts, complete = _parse_csv(text, display, err)
    if not records:
        if complete:
            err.add(display, None, None, "no header row")
        return None
    header = records[0]
    _check_header(name, header, display, err)
    if len(records) == 1 and complete:
        err.add(display, None, None, "no data rows: the file holds only its header, and every "
                f"data file needs at least one row (the required files: "
                f"{', '.join(f + '.csv' for f in REQUIRED_FILES)})")
    spec = COLUMNS[name]
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
    # A reference into a file that is missing or was not read to its end is not checked:
    # its error is already reported, and "unknown id" errors would be false.
    def whole(name: str) -> bool:
        return name in tables and tables[name].complete

    # unique ids within each file, and row_ids unique across outcomes + effects
    seen_any: dict[str, tuple[str, int]] = {}
    for name, idcol in (("sources", "source_id"), ("outcomes", "row_id"), ("effects", "row_id"),
                        ("distributions", "row_id"), ("baseline", "row_id"), ("claims", "claim_id"),
                        ("quotes", "quote_id"),
                        ("claim_checks", "check_id"), ("design_limits", "limit_id"),
                        ("spin_strategies", "spin_id")):
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
    src = tables.get("sources")
    cohorts = ({r["source_id"]: r["cohort"] for r in src.parsed if r["source_id"]}
               if whole("sources") else None)
    for name in ("outcomes", "effects", "distributions", "baseline", "quotes"):
        t = tables.get(name)
        if t is None or cohorts is None:
            continue
        for r, line in zip(t.parsed, t.lines):
            sid = r["source_id"]
            if sid is None:
                continue
            if sid not in cohorts:
                err.add(t.display, line, "source_id", f"unknown source_id {sid!r} (not in sources.csv)")
            elif r.get("cohort") and cohorts[sid] not in (None, "both", r["cohort"]):
                err.add(t.display, line, "cohort",
                        f"cohort {r['cohort']!r} differs from the source's cohort {cohorts[sid]!r}")
    claims = tables.get("claims")
    if claims is not None and whole("outcomes") and whole("effects"):
        rows = set(seen_any)
        for r, line in zip(claims.parsed, claims.lines):
            for col in ("cited_source_id", "document"):
                sid = r[col]
                if sid is not None and cohorts is not None and sid not in cohorts:
                    err.add(claims.display, line, col,
                            f"unknown source_id {sid!r} (not in sources.csv)")
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
        _claim_check_rules(tables, cohorts, err)


# --------------------------------------------------------------------------- trials, risk of bias

def _check_trials_and_rob(tables: dict[str, _Table], err: _Collector) -> None:
    src = tables.get("sources")
    designs = {r["source_id"]: r["design"] for r in src.parsed if r["source_id"]} if src else None
    for name, refcols in (("trials", ("trial", "source_id")), ("risk_of_bias", ("study", "source_id"))):
        t = tables.get(name)
        if t is None:
            continue
        seen: dict[str, int] = {}
        for raw, r, line in zip(t.rows, t.parsed, t.lines):
            rid = r["row_id"]
            if rid is not None:
                if rid in seen:
                    err.add(t.display, line, "row_id",
                            f"duplicated row_id {rid!r} (first on line {seen[rid]})")
                else:
                    seen[rid] = line
            for col in refcols:
                sid = r[col]
                if sid is not None and designs is not None and sid not in designs:
                    err.add(t.display, line, col, f"unknown source_id {sid!r} (not in sources.csv)")
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


def _claim_check_rules(tables: dict[str, _Table], cohorts: dict | None, err: _Collector) -> None:
    """claims.csv, claim_checks.csv, design_limits.csv and spin_strategies.csv: every reference
    resolves and each rule has the inputs it needs (data/README.md, 'The claims check')."""
    outcome_ids = _ids(tables.get("outcomes"), "row_id")
    effect_ids = _ids(tables.get("effects"), "row_id")
    baseline_ids = _ids(tables.get("baseline"), "row_id")
    data_rows = outcome_ids | effect_ids | baseline_ids
    claims, checks = tables.get("claims"), tables.get("claim_checks")
    limits, spin = tables.get("design_limits"), tables.get("spin_strategies")

    def source_ok(t: _Table, line: int, col: str, sid) -> None:
        if sid is not None and cohorts is not None and sid not in cohorts:
            err.add(t.display, line, col, f"unknown source_id {sid!r} (not in sources.csv)")

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
            source_ok(limits, line, "source_id", r["source_id"])
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
            if cid is not None and cid not in claim_text:
                err.add(d, line, "claim_id", f"unknown claim_id {cid!r} (not in claims.csv)")
            elif cid is not None:
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
            source_ok(checks, line, "source_id", r["source_id"])

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
    # no attrs here: pandas deep-copies attrs on every selection, which made each row
    # selection of the analyses copy the file's line list (the raw frames keep it)
    return pd.DataFrame(cols, columns=list(spec))


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
    try:
        vocab.terms(ddir)
    except vocab.VocabularyError as exc:
        err.add(f"{ddir.name}/{vocab.FILE}", None, None, str(exc).split(": ", 1)[-1])
    for name in REQUIRED_FILES:
        path = ddir / f"{name}.csv"
        display = f"{ddir.name}/{name}.csv"
        t = _read_table(name, path, display, err)
        tables[name] = t
        if t is not None:
            files.append(path)
            if name in _ROW_RULES:
                _ROW_RULES[name](t, err)
    _cross_checks({k: v for k, v in tables.items() if v is not None}, err)
    order = {f"{ddir.name}/{n}.csv": i for i, n in enumerate(REQUIRED_FILES)}
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
