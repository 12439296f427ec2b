"""Validation of the curated data: the real data/ loads, and corrupted copies of it (written
into tmp_path) give errors that name file, line and column."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evtreport import data as D
from evtreport.data import (DataError, DataValidationError, OUTCOMES, REQUIRED_FILES, SCHEMA,
                            load_dataset, validate)
from evtreport.paths import DATA_DIR, ROOT

# shared/ sits beside the main checkout (ROOT.parent) or two levels up from a worktree
_COHORT_CANDIDATES = [base / "shared" / "sources" / "004_8c29ec8a956b3bfc.txt"
                      for base in (ROOT.parent, ROOT.parent.parent)]
COHORT_TEXT = next((p for p in _COHORT_CANDIDATES if p.exists()), _COHORT_CANDIDATES[0])
from evtreport.data import NON_TABLE_FILES
DATA_FILES = REQUIRED_FILES


# --------------------------------------------------------------------------- helpers

@pytest.fixture
def ddir(tmp_path: Path) -> Path:
    """A copy of the data files in tmp_path/data."""
    d = tmp_path / "data"
    d.mkdir()
    for name in DATA_FILES:
        shutil.copy(DATA_DIR / f"{name}.csv", d / f"{name}.csv")
    for name in NON_TABLE_FILES:
        shutil.copy(DATA_DIR / name, d / name)
    return d


def read_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def line_of(path: Path, key: str, keycol: int = 0) -> int:
    """Physical start line of the record whose first column is ``key``."""
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        prev = 0
        for rec in reader:
            start, prev = prev + 1, reader.line_num
            if rec and rec[keycol] == key:
                return start
    raise KeyError(key)


def set_cell(path: Path, key: str, column: str, value: str) -> int:
    """Set one cell of the row whose first column is ``key``; return its line number."""
    line = line_of(path, key)
    rows = read_rows(path)
    j = rows[0].index(column)
    for r in rows[1:]:
        if r[0] == key:
            r[j] = value
            break
    else:
        raise KeyError(key)
    write_rows(path, rows)
    return line


def errors_of(d: Path) -> list[str]:
    with pytest.raises(DataValidationError) as exc:
        load_dataset(d)
    return [str(e) for e in exc.value.errors]


def one_error(d: Path) -> str:
    errs = errors_of(d)
    assert len(errs) == 1, errs
    return errs[0]


OUT = "icassm1-2022.mrs_0_2"


@pytest.fixture
def mine(ddir: Path):
    """The dataset loaded from the copy."""
    return load_dataset(ddir)


# --------------------------------------------------------------------------- the real data

def test_real_data_loads():
    ds = load_dataset()
    assert ds.n_rows == sum(len(getattr(ds, n)) for n in SCHEMA)
    for name in REQUIRED_FILES:
        assert list(getattr(ds, name).columns) == list(SCHEMA[name])
        assert DATA_DIR / f"{name}.csv" in ds.files
    assert str(ds.outcomes["events"].dtype) == "Int64"
    assert ds.outcomes["reported_percent"].dtype == "float64"


def test_real_data_content_of_cohort_paper(mine):
    ds = mine
    r = ds.row("icassm1-2022.reperfusion")
    assert (r["events"], r["total"], r["reported_percent"]) == (21, 22, 95.5)
    mrs = ds.distribution("icassm1-2022", "mRS")
    assert mrs["grade"].tolist() == ["0", "1", "2", "3", "4", "5", "6"]
    assert mrs["count"].tolist() == [7, 6, 6, 2, 0, 0, 1]
    tici = ds.distribution("icassm1-2022", "mTICI")
    assert tici["grade"].tolist() == ["0", "1", "2a", "2b", "3"]  # Table 2 has no 2c
    smoking = ds.baseline_rows(variable="smoking").iloc[0]
    assert (smoking["count"], smoking["total"], smoking["reported_percent"]) == (8, 22, 36.3)
    assert ds.source("qa-dmvo-2025")["design"] == "Q&A summary"
    derived = ds.outcome_rows(count_status="derived")
    assert (derived["notes"] != "").all()
    pooled = ds.outcome_rows(estimate_type="pooled")
    assert pooled["events"].isna().all() and (pooled["count_status"] == "percent_only").all()


@pytest.mark.skipif(not COHORT_TEXT.exists(), reason="shared/sources not beside the repo")
def test_cohort_quotes_are_verbatim(mine):
    """Every quote taken from the cohort paper occurs in its text (whitespace and words
    hyphenated across a line break normalised; table rows joined by '; ')."""
    text = COHORT_TEXT.read_text(encoding="utf-8")
    norm = lambda t: re.sub(r"\s+", " ", t).strip()  # noqa: E731
    variants = {norm(text), norm(re.sub(r"-\s*\n\s*", "-", text)),
                norm(re.sub(r"-\s*\n\s*", "", text))}
    ds = mine
    missing = []
    for name in ("outcomes", "effects", "distributions", "baseline"):
        df = getattr(ds, name)
        for _, r in df[df["source_id"] == "icassm1-2022"].iterrows():
            for part in r["quote"].split("; "):
                if not any(norm(part) in v for v in variants):
                    missing.append((r["row_id"], part))
    assert not missing


def test_cli_ok(capsys):
    assert D.main([str(DATA_DIR)]) == 0
    out = capsys.readouterr().out
    assert re.fullmatch(r"data OK: \d+ files, \d+ rows\n", out)


def test_cli_subprocess_reports_errors(ddir):
    set_cell(ddir / "outcomes.csv", OUT, "events", "-3")
    p = subprocess.run([sys.executable, "-m", "evtreport.data", str(ddir)],
                       capture_output=True, text=True)
    assert p.returncode == 1
    assert "data/outcomes.csv:" in p.stderr and "column 'events'" in p.stderr
    assert p.stdout == ""


def test_readme_documents_every_outcome_and_column():
    from evtreport import vocab
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    assert vocab.readme_table() in readme  # the outcome table is the vocabulary's, verbatim
    for name in OUTCOMES:
        assert f"`{name}`" in readme, name
    for f, cols in SCHEMA.items():
        assert f"{f}.csv" in readme
        for c in cols:
            assert f"`{c}`" in readme, (f, c)


# --------------------------------------------------------------------------- corruptions

def test_negative_count(ddir):
    line = set_cell(ddir / "outcomes.csv", OUT, "events", "-3")
    assert one_error(ddir) == (f"data/outcomes.csv:{line}: column 'events': "
                               "expected a non-negative integer, got '-3'")


def test_events_greater_than_total(ddir):
    line = set_cell(ddir / "outcomes.csv", OUT, "events", "23")
    assert one_error(ddir) == (f"data/outcomes.csv:{line}: column 'events': "
                               "events (23) greater than total (22)")


def test_zero_total(ddir):
    set_cell(ddir / "outcomes.csv", OUT, "events", "0")
    line = set_cell(ddir / "outcomes.csv", OUT, "total", "0")
    assert one_error(ddir) == (f"data/outcomes.csv:{line}: column 'total': "
                               "expected a positive integer (total > 0), got '0'")


def test_missing_quote(ddir):
    line = set_cell(ddir / "outcomes.csv", OUT, "quote", "")
    assert one_error(ddir) == f"data/outcomes.csv:{line}: column 'quote': required value is empty"


def test_missing_location_in_distribution(ddir):
    line = set_cell(ddir / "distributions.csv", "icassm1-2022.mrs3m.4", "location", "")
    assert one_error(ddir) == f"data/distributions.csv:{line}: column 'location': required value is empty"


def test_unknown_source_id(ddir):
    line = set_cell(ddir / "baseline.csv", "icassm1-2022.bl.age", "source_id", "nobody-1999")
    assert one_error(ddir) == (f"data/baseline.csv:{line}: column 'source_id': "
                               "unknown source_id 'nobody-1999' (not in sources.csv)")


def test_unknown_column(ddir):
    rows = read_rows(ddir / "effects.csv")
    write_rows(ddir / "effects.csv", [r + (["extra"] if i == 0 else ["x"]) for i, r in enumerate(rows)])
    err = one_error(ddir)
    assert err.startswith("data/effects.csv:1: column 'extra': unknown column")


def test_missing_and_duplicated_column(ddir):
    rows = read_rows(ddir / "effects.csv")
    j = rows[0].index("notes")
    rows = [r[:j] for r in rows]  # drop notes
    k = rows[0].index("quote")
    rows = [r + [r[k]] for r in rows]  # quote twice
    write_rows(ddir / "effects.csv", rows)
    errs = errors_of(ddir)
    assert "data/effects.csv:1: column 'quote': duplicated column" in errs
    assert "data/effects.csv:1: column 'notes': missing column" in errs


def test_columns_out_of_order(ddir):
    rows = read_rows(ddir / "sources.csv")
    write_rows(ddir / "sources.csv", [[r[1], r[0]] + r[2:] for r in rows])
    assert one_error(ddir).startswith("data/sources.csv:1: columns out of order")


def test_distribution_not_summing(ddir):
    line = set_cell(ddir / "distributions.csv", "icassm1-2022.mrs3m.4", "count", "1")
    first = line_of(ddir / "distributions.csv", "icassm1-2022.mrs3m.0")
    err = one_error(ddir)
    assert err.startswith(f"data/distributions.csv:{first}: column 'count': counts of distribution "
                          "icassm1-2022 / ICASS-related M1 / arm all / mRS / 3 months")
    assert err.endswith("sum to 23, not to total 22")


def test_invalid_grade_for_scale(ddir):
    line = set_cell(ddir / "distributions.csv", "icassm1-2022.mtici.2a", "grade", "2d")
    assert one_error(ddir) == (f"data/distributions.csv:{line}: column 'grade': expected a mTICI "
                               "grade (0, 1, 2a, 2b, 2c, 3), got '2d'")


def test_non_numeric_count(ddir):
    line = set_cell(ddir / "baseline.csv", "icassm1-2022.bl.smoking", "count", "eight")
    assert one_error(ddir) == (f"data/baseline.csv:{line}: column 'count': "
                               "expected a non-negative integer, got 'eight'")


def test_percent_sign_and_out_of_range(ddir):
    l1 = set_cell(ddir / "outcomes.csv", OUT, "reported_percent", "86.4%")
    l2 = set_cell(ddir / "outcomes.csv", "icassm1-2022.reperfusion", "reported_percent", "195.5")
    assert errors_of(ddir) == [
        f"data/outcomes.csv:{l1}: column 'reported_percent': expected a percentage as a plain "
        "decimal (no % sign), got '86.4%'",
        f"data/outcomes.csv:{l2}: column 'reported_percent': expected a percentage between 0 and 100, got '195.5'",
    ][::1 if l1 < l2 else -1]


def test_ci_order(ddir):
    line = set_cell(ddir / "outcomes.csv", "li-icas-lvo-meta.sich", "reported_ci_high", "4")
    assert one_error(ddir) == (f"data/outcomes.csv:{line}: column 'reported_percent': "
                               "reported_percent (5) above reported_ci_high (4)")


def test_empty_file(ddir):
    (ddir / "effects.csv").write_bytes(b"")
    err = one_error(ddir)
    assert err.startswith("data/effects.csv: file is empty")


def test_missing_file(ddir):
    (ddir / "baseline.csv").unlink()
    assert one_error(ddir) == "data/baseline.csv: file not found"


def _frames(ds):
    return {n: getattr(ds, n) for n in SCHEMA}


def test_spreadsheet_csv_utf8_with_bom_and_crlf_loads_as_the_original(ddir):
    """'CSV UTF-8' of a spreadsheet program: byte-order mark and CRLF, also inside quoted
    multi-line fields; read as if saved with LF and no BOM."""
    ds0 = load_dataset(ddir)
    before = _frames(ds0)
    for name in DATA_FILES:
        p = ddir / f"{name}.csv"
        p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes().replace(b"\n", b"\r\n"))
    ds1 = load_dataset(ddir)
    after = _frames(ds1)
    for name in SCHEMA:
        assert after[name].equals(before[name]), name
        assert ds1.raw[name].attrs["lines"] == ds0.raw[name].attrs["lines"], name


def test_error_in_a_crlf_file_names_the_right_line(ddir):
    p = ddir / "outcomes.csv"
    line = set_cell(p, OUT, "events", "-3")
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes().replace(b"\n", b"\r\n"))
    assert one_error(ddir) == (f"data/outcomes.csv:{line}: column 'events': "
                               "expected a non-negative integer, got '-3'")


def test_a_bare_carriage_return_is_still_rejected(ddir):
    p = ddir / "sources.csv"
    p.write_bytes(p.read_bytes().replace(b"\n", b"\r", 1))
    assert "bare carriage return" in " ".join(errors_of(ddir))


def test_invalid_utf8(ddir):
    p = ddir / "outcomes.csv"
    line = line_of(p, OUT)
    text = p.read_bytes().split(b"\n")
    text[line - 1] = text[line - 1].replace(b"mRS", b"mRS\xff", 1)
    p.write_bytes(b"\n".join(text))
    assert one_error(ddir).startswith(f"data/outcomes.csv:{line}: not valid UTF-8 (byte 0xff)")


def test_duplicated_row_id(ddir):
    first = line_of(ddir / "outcomes.csv", "icassm1-2022.mrs_0_1")
    line = set_cell(ddir / "outcomes.csv", "icassm1-2022.mrs_0_3", "row_id", "icassm1-2022.mrs_0_1")
    assert one_error(ddir) == (f"data/outcomes.csv:{line}: column 'row_id': duplicated row_id "
                               f"'icassm1-2022.mrs_0_1' (first on line {first})")


def test_row_id_shared_by_outcomes_and_effects(ddir):
    line = set_cell(ddir / "effects.csv", "lee-2018.icas_vs_embolic.functional_independence",
                    "row_id", OUT)
    err = one_error(ddir)
    assert err.startswith(f"data/effects.csv:{line}: column 'row_id': row_id '{OUT}' also used in data/outcomes.csv:")


def test_bad_enum_value(ddir):
    line = set_cell(ddir / "outcomes.csv", OUT, "cohort", "DMV0")
    assert one_error(ddir) == (f"data/outcomes.csv:{line}: column 'cohort': "
                               "expected one of: DMVO, ICASS-M1; got 'DMV0'")


def test_unknown_outcome_name_says_how_to_extend(ddir):
    line = set_cell(ddir / "outcomes.csv", OUT, "outcome", "good_outcome")
    err = one_error(ddir)
    assert err.startswith(f"data/outcomes.csv:{line}: column 'outcome': expected one of: reperfusion, ")
    assert "add new outcome names to data/vocabulary.csv" in err


def test_cohort_must_match_source(ddir):
    line = set_cell(ddir / "outcomes.csv", OUT, "cohort", "DMVO")
    assert one_error(ddir) == (f"data/outcomes.csv:{line}: column 'cohort': cohort 'DMVO' differs "
                               "from the source's cohort 'ICASS-M1'")


def test_count_status_rules(ddir):
    p = ddir / "outcomes.csv"
    l1 = set_cell(p, "li-icas-lvo-meta.sich", "count_status", "reported")     # pooled + reported
    l2 = set_cell(p, "icassm1-2022.cited.yang.recanalization", "events", "5")  # percent_only + events
    l3 = set_cell(p, "icassm1-2022.mrs_0_1", "notes", "")                      # derived, no notes
    errs = errors_of(ddir)
    assert f"data/outcomes.csv:{l1}: column 'events': count_status 'reported' needs events" in errs
    assert f"data/outcomes.csv:{l1}: column 'count_status': pooled estimates must be 'percent_only', got 'reported'" in errs
    assert f"data/outcomes.csv:{l2}: column 'events': count_status 'percent_only' must leave events empty" in errs
    assert f"data/outcomes.csv:{l3}: column 'notes': a derived count must say how it was derived in notes" in errs


def test_wrong_number_of_fields(ddir):
    p = ddir / "sources.csv"
    lines = p.read_text(encoding="utf-8").split("\n")
    lines.insert(2, "broken-row,no,more,fields")
    p.write_text("\n".join(lines), encoding="utf-8")
    assert one_error(ddir) == ("data/sources.csv:3: expected 13 fields as in the header, got 4 "
                               "(a comma inside an unquoted field? quote the field)")


def test_all_errors_reported_at_once(ddir):
    l1 = set_cell(ddir / "outcomes.csv", OUT, "events", "-3")
    l2 = set_cell(ddir / "baseline.csv", "icassm1-2022.bl.age", "quote", "")
    with pytest.raises(DataValidationError) as exc:
        load_dataset(ddir)
    e = exc.value
    assert isinstance(e, ValueError)
    assert [(x.file, x.line, x.column) for x in e.errors] == [
        ("data/outcomes.csv", l1, "events"), ("data/baseline.csv", l2, "quote")]
    assert str(e).splitlines() == [str(x) for x in e.errors]
    assert validate(ddir) == e.errors


def test_line_numbers_with_multiline_quoted_field(ddir):
    p = ddir / "outcomes.csv"
    set_cell(p, "icassm1-2022.bridging_ivt", "notes", "first line\nsecond line\nthird line")
    line = line_of(p, OUT)
    plain = [i + 1 for i, ln in enumerate(p.read_text(encoding="utf-8").split("\n"))
             if ln.startswith(OUT + ",")]
    assert plain == [line]  # the physical line, 2 more than the record number + 1
    set_cell(p, OUT, "events", "x")
    assert one_error(ddir).startswith(f"data/outcomes.csv:{line}: column 'events'")


def test_valid_edge_cases_load(ddir):
    p = ddir / "outcomes.csv"
    set_cell(p, OUT, "events", "0")
    set_cell(p, OUT, "reported_percent", "0")
    set_cell(p, "icassm1-2022.reperfusion", "events", "22")
    set_cell(p, "icassm1-2022.reperfusion", "reported_percent", "100")
    ds = load_dataset(ddir)
    assert ds.row(OUT)["events"] == 0
    assert ds.row("icassm1-2022.reperfusion")["events"] == 22


@pytest.mark.parametrize("name", DATA_FILES)
def test_header_only_file_is_an_error(ddir, name):
    (ddir / f"{name}.csv").write_text(",".join(SCHEMA[name]) + "\n", encoding="utf-8")
    errs = errors_of(ddir)
    assert f"data/{name}.csv: no data rows: the file holds only its header" in errs[0], errs


@pytest.mark.parametrize("name", DATA_FILES)
def test_every_data_file_is_required(ddir, name):
    (ddir / f"{name}.csv").unlink()
    errs = errors_of(ddir)
    assert errs[0] == f"data/{name}.csv: file not found", errs


@pytest.mark.parametrize("stray", ["outcomes_new.csv", ".~lock.outcomes.csv#", "notes.txt",
                                   "old"])
def test_unknown_file_in_the_data_directory_is_an_error(ddir, stray):
    if stray == "old":
        (ddir / stray).mkdir()
    else:
        shutil.copy(ddir / "outcomes.csv", ddir / stray)
    err = one_error(ddir)
    assert err.startswith(f"data/{stray}: unknown file in the data directory"), err
    assert "outcomes.csv" in err and "README.md" in err


def test_documentation_may_stay_in_the_data_directory(ddir):
    shutil.copy(DATA_DIR / "README.md", ddir / "README.md")
    shutil.copytree(DATA_DIR / "notes", ddir / "notes")
    load_dataset(ddir)


def test_one_megabyte_field_is_named_too_long_without_false_errors(ddir):
    """sources.csv stops at the long field; the references to the sources after it are not
    reported as unknown."""
    p = ddir / "sources.csv"
    rows = read_rows(p)
    rows[2][rows[0].index("notes")] = "x" * 1_000_000
    write_rows(p, rows)
    limit = D.FIELD_LIMIT
    assert one_error(ddir) == (
        f"data/sources.csv:3: a field is longer than {limit} characters, the limit for one "
        "cell (a quote opened but never closed?); the rest of the file was not read")


def test_unclosed_quote_in_outcomes_gives_no_false_errors_in_claims(ddir):
    p = ddir / "outcomes.csv"
    lines = p.read_text(encoding="utf-8").split("\n")
    lines[5] = lines[5].replace(",", ',"', 1)
    p.write_text("\n".join(lines), encoding="utf-8")
    errs = errors_of(ddir)
    assert len(errs) == 1 and errs[0].startswith("data/outcomes.csv:6: malformed CSV"), errs


def test_data_error_str_without_line():
    assert str(DataError("data/x.csv", None, None, "file not found")) == "data/x.csv: file not found"
    assert str(DataError("data/x.csv", 3, "a", "bad")) == "data/x.csv:3: column 'a': bad"


# --------------------------------------------------------------------------- claims.csv

CLAIM_HEADER = ",".join(SCHEMA["claims"])
CHECK_HEADER = ",".join(SCHEMA["claim_checks"])


def claim_row(cid="qa-dmvo-2025.c01", claim="A claim, with a comma, was safe", cited="lee-2018",
              support=f"{OUT};lee-2018.icas_vs_embolic.functional_independence", against="",
              previous="supported", spin="none", document="icassm1-2022"):
    return [cid, document, "Outcomes", "Outcomes, bullet 1", claim, "2", cited, "topic", support,
            against, previous, spin, "Because."]


def check_row(**kw):
    row = dict.fromkeys(SCHEMA["claim_checks"], "")
    row.update(check_id="qa-dmvo-2025.c01.1", claim_id="qa-dmvo-2025.c01", assertion="was safe",
               rule="safety-comparator", comparison="no", note="No comparison group.")
    row.update(kw)
    return [row[c] for c in SCHEMA["claim_checks"]]


def test_claims_are_loaded(ddir):
    ds = load_dataset(ddir)
    assert not ds.claims.empty and list(ds.claims.columns) == list(SCHEMA["claims"])
    assert not ds.claim_checks.empty and not ds.design_limits.empty and not ds.spin_strategies.empty


def _claims_only(ddir, *rows):
    """claims.csv with these rows, and one check each in claim_checks.csv."""
    write_rows(ddir / "claims.csv", [SCHEMA["claims"], *rows])
    write_rows(ddir / "claim_checks.csv", [SCHEMA["claim_checks"]] + [
        check_row(check_id=f"{r[0]}.1", claim_id=r[0]) for r in rows])


def test_claims_valid_and_cross_references(ddir):
    _claims_only(ddir, claim_row())
    ds = load_dataset(ddir)
    assert ds.claims["supporting_rows"].iloc[0].split(";")[0] == OUT
    bad = claim_row("qa-dmvo-2025.c02", cited="nobody-2020", support=f"{OUT};no-such.row",
                    against="icassm1-2022.bl.age", document="no-document")
    _claims_only(ddir, claim_row(), bad)
    assert errors_of(ddir) == [
        "data/claims.csv:3: column 'cited_source_id': unknown source_id 'nobody-2020' (not in sources.csv)",
        "data/claims.csv:3: column 'document': unknown source_id 'no-document' (not in sources.csv)",
        "data/claims.csv:3: column 'supporting_rows': unknown row_id 'no-such.row' (not in outcomes.csv or effects.csv)",
        "data/claims.csv:3: column 'contradicting_rows': unknown row_id 'icassm1-2022.bl.age' (not in outcomes.csv or effects.csv)",
    ]


def test_claims_bad_previous_verdict(ddir):
    _claims_only(ddir, claim_row(previous="true"))
    assert one_error(ddir) == ("data/claims.csv:2: column 'previous_verdict': expected one of: "
                               "supported, partly supported, contradicted, not verifiable, not "
                               "verifiable from the design; got 'true'")


def test_claim_checks_valid(ddir):
    write_rows(ddir / "claims.csv", [SCHEMA["claims"], claim_row()])
    write_rows(ddir / "claim_checks.csv", [SCHEMA["claim_checks"], check_row()])
    assert load_dataset(ddir).claim_checks["rule"].tolist() == ["safety-comparator"]


def test_a_claim_without_a_check_is_an_error(ddir):
    write_rows(ddir / "claims.csv", [SCHEMA["claims"], claim_row(), claim_row("qa-dmvo-2025.c02")])
    write_rows(ddir / "claim_checks.csv", [SCHEMA["claim_checks"], check_row()])
    assert one_error(ddir) == ("data/claims.csv:3: column 'claim_id': claim has no check in "
                               "claim_checks.csv (besides qualifier-dropped); every claim is rated "
                               "by at least one rule")


@pytest.mark.parametrize("fields, message", [
    (dict(claim_id="qa-dmvo-2025.c99"),
     "column 'claim_id': unknown claim_id 'qa-dmvo-2025.c99' (not in claims.csv)"),
    (dict(assertion="was unsafe"),
     "column 'assertion': not a verbatim part of claim 'qa-dmvo-2025.c01': 'was unsafe'"),
    (dict(rule="effect-interval", comparison="", direction="higher"),
     "column 'comparison': rule 'effect-interval' needs comparison (without rows: does the "
     "evidence have a comparison group?)"),
    (dict(rule="effect-interval", rows=OUT, comparison=""),
     "column 'direction': rule 'effect-interval' needs direction (higher or lower: the direction "
     "the claim asserts)"),
    (dict(rule="qualifier-dropped", quote="only in M2", location="Title"),
     "column 'source_id': rule 'qualifier-dropped' needs source_id (the qualifier the claim "
     "leaves out, quoted from its source)"),
    (dict(rule="figures-match", assertion="claim", stated="84%", rows=OUT),
     "column 'stated': figure '84%' does not occur in the assertion"),
    (dict(rule="source-says"),
     "column 'finding': rule 'source-says' needs finding (what the source says: one of the verdicts)"),
    (dict(rows="no-such.row"),
     "column 'rows': unknown row_id 'no-such.row' (not in outcomes.csv, effects.csv or baseline.csv)"),
    (dict(design_limits="no-such-limit"),
     "column 'design_limits': unknown limit_id 'no-such-limit' (not in design_limits.csv)"),
])
def test_claim_check_errors_name_row_and_column(ddir, fields, message):
    write_rows(ddir / "claims.csv", [SCHEMA["claims"], claim_row()])
    write_rows(ddir / "claim_checks.csv", [SCHEMA["claim_checks"], check_row(**fields)])
    errs = errors_of(ddir)
    assert f"data/claim_checks.csv:2: {message}" in errs, errs


def test_unknown_spin_strategy(ddir):
    shutil.copy(DATA_DIR / "spin_strategies.csv", ddir / "spin_strategies.csv")
    _claims_only(ddir, claim_row(spin="spun"))
    assert one_error(ddir) == ("data/claims.csv:2: column 'spin': unknown spin strategy 'spun' "
                               "(expected 'none' or a strategy spin_id of spin_strategies.csv)")


# --------------------------------------------------------------------------- accessors

def test_accessors(mine):
    ds = mine
    lee = ds.outcome_rows(source_id="lee-2018", outcome="reperfusion")
    assert set(lee["subgroup"]) == {"ICAS-related", "embolic"}
    both = ds.outcome_rows(outcome=["mrs_0_1", "mrs_0_2"], source_id="icassm1-2022")
    assert len(both) == 2
    assert not ds.effect_rows(measure="adjusted OR").empty
    with pytest.raises(KeyError):
        ds.source("nope")
    with pytest.raises(KeyError):
        ds.row("nope")
    assert ds.raw["outcomes"].attrs["lines"][0] == 2



# --------------------------------------------------------------------------- trials, risk of bias

NEW_FILES = ("trials", "risk_of_bias")


@pytest.fixture
def tdir(ddir: Path) -> Path:
    """The five curated files plus trials.csv and risk_of_bias.csv."""
    for name in NEW_FILES:
        shutil.copy(DATA_DIR / f"{name}.csv", ddir / f"{name}.csv")
    return ddir


def cell_line(path: Path, key: str, column: str, value: str) -> int:
    return set_cell(path, key, column, value)


def test_real_trial_characteristics_are_all_sourced(tdir):
    ds = load_dataset(tdir)
    tr = ds.trials
    assert set(tr["trial"]) == {"escape-mevo-2025", "distal-2025", "menon-2019"}
    for col in ("value", "source_id", "location", "quote"):
        assert (tr[col].str.strip() != "").all(), col
    assert set(tr["source_id"]) <= set(ds.sources["source_id"])
    cells = set(zip(tr["trial"], tr["characteristic"]))
    for trial in ("escape-mevo-2025", "distal-2025"):
        for char in ("design", "countries", "sites", "participants", "population_vessels",
                     "population_time_window", "population_nihss", "population_age",
                     "ivt_share", "intervention", "devices", "comparator", "primary_outcome",
                     "primary_result", "follow_up"):
            assert (trial, char) in cells, (trial, char)
    secondary = tr[tr["location"].str.startswith("Secondary report")]
    assert not secondary.empty and secondary["notes"].str.startswith("SECONDARY REPORT").all()
    r = tr[tr["row_id"] == "escape-mevo-2025.primary_result"].iloc[0]
    assert "106 of 255" in r["quote"] and "106/255" in r["value"]


def test_real_risk_of_bias_every_judgement_has_quote_and_location(tdir):
    ds = load_dataset(tdir)
    rob = ds.risk_of_bias
    for col in ("judgement", "source_id", "location", "quote", "rationale"):
        assert (rob[col].str.strip() != "").all(), col
    assert rob["rationale"].str.startswith("Curators' judgement").all()
    rob2 = rob[rob["tool"] == "RoB 2"]
    assert set(rob2["study"]) == {"escape-mevo-2025", "distal-2025", "menon-2019"}
    # every trial outcome the report pools has all six RoB 2 domains, resolved through 'all'
    for study, outcomes in (("escape-mevo-2025", ("mrs_0_1", "mrs_0_2", "mortality_90d", "sich")),
                            ("distal-2025", ("mrs_shift", "mrs_0_1", "mortality_90d", "sich"))):
        s = rob2[rob2["study"] == study]
        for o in outcomes:
            got = {d for d, oo in zip(s["domain"], s["outcome"]) if oo in (o, "all")}
            assert got == set(D.ROB_TOOLS["RoB 2"]["domains"]), (study, o)
    jbi = rob[rob["tool"] == "JBI case series"]
    assert list(jbi["domain"]) == list(D.ROB_TOOLS["JBI case series"]["domains"])
    assert set(jbi["study"]) == {"icassm1-2022"}
    robins = rob[rob["tool"] == "ROBINS-I"]
    for study in ("salim-2024", "salim-2025", "lee-2018", "jia-east"):
        assert {"confounding", "selection"} <= set(robins.loc[robins["study"] == study, "domain"])


@pytest.mark.skipif(not COHORT_TEXT.exists(), reason="shared/sources not beside the repo")
def test_jbi_quotes_are_verbatim(tdir):
    text = COHORT_TEXT.read_text(encoding="utf-8")
    norm = lambda t: re.sub(r"\s+", " ", t).strip()  # noqa: E731
    variants = {norm(text), norm(re.sub(r"-\s*\n\s*", "", text))}
    rob = load_dataset(tdir).risk_of_bias
    missing = [(r["row_id"], r["quote"]) for _, r in rob[rob["source_id"] == "icassm1-2022"].iterrows()
               if not any(norm(r["quote"]) in v for v in variants)]
    assert not missing


def test_trials_and_rob_are_loaded(ddir):
    ds = load_dataset(ddir)
    assert not ds.trials.empty and list(ds.trials.columns) == list(SCHEMA["trials"])
    assert not ds.risk_of_bias.empty and list(ds.risk_of_bias.columns) == list(SCHEMA["risk_of_bias"])


@pytest.mark.parametrize("name,key,column", [
    ("trials", "distal-2025.ivt_share", "quote"),
    ("trials", "distal-2025.ivt_share", "source_id"),
    ("trials", "distal-2025.ivt_share", "location"),
    ("risk_of_bias", "icassm1-2022.jbi.demographics", "quote"),
    ("risk_of_bias", "icassm1-2022.jbi.demographics", "location"),
    ("risk_of_bias", "icassm1-2022.jbi.demographics", "rationale"),
])
def test_missing_quote_location_or_source_is_an_error(tdir, name, key, column):
    line = cell_line(tdir / f"{name}.csv", key, column, "")
    assert one_error(tdir) == f"data/{name}.csv:{line}: column '{column}': required value is empty"


def test_trial_cites_unknown_source(tdir):
    line = cell_line(tdir / "trials.csv", "distal-2025.ivt_share", "source_id", "nobody-2020")
    assert one_error(tdir) == (f"data/trials.csv:{line}: column 'source_id': unknown source_id "
                               "'nobody-2020' (not in sources.csv)")


def test_trial_must_be_a_randomized_source(tdir):
    line = cell_line(tdir / "trials.csv", "distal-2025.ivt_share", "trial", "salim-2024")
    assert one_error(tdir) == (f"data/trials.csv:{line}: column 'trial': source 'salim-2024' has "
                               "design 'registry'; a trial must be one of: RCT, post-hoc pooled analysis")


def test_unknown_characteristic(tdir):
    line = cell_line(tdir / "trials.csv", "distal-2025.ivt_share", "characteristic", "ivt")
    assert one_error(tdir).startswith(f"data/trials.csv:{line}: column 'characteristic': expected one of: design,")


def test_secondary_report_must_say_so(tdir):
    line = cell_line(tdir / "trials.csv", "distal-2025.devices", "notes", "a registry page")
    assert one_error(tdir) == (f"data/trials.csv:{line}: column 'notes': a row read in a secondary "
                               "report needs notes saying 'SECONDARY REPORT' and giving the address read")


def test_judgement_must_belong_to_the_tool(tdir):
    line = cell_line(tdir / "risk_of_bias.csv", "salim-2024.robinsi.selection", "judgement", "some concerns")
    assert one_error(tdir) == (f"data/risk_of_bias.csv:{line}: column 'judgement': expected a ROBINS-I "
                               "judgement (low, moderate, serious, critical, no information), got 'some concerns'")


def test_domain_must_belong_to_the_tool(tdir):
    line = cell_line(tdir / "risk_of_bias.csv", "icassm1-2022.jbi.demographics", "domain", "confounding")
    errs = errors_of(tdir)
    assert (f"data/risk_of_bias.csv:{line}: column 'domain': expected a JBI case series "
                       "domain (inclusion_criteria, condition_measurement, condition_identification, "
                       "consecutive_inclusion, complete_inclusion, demographics, clinical_information, "
                       "outcomes_reported, site_demographics, statistical_analysis), got 'confounding'") in errs
    assert any("no judgement for domain 'demographics'" in e for e in errs)


def test_missing_rob2_domain(tdir):
    path = tdir / "risk_of_bias.csv"
    rows = [r for r in read_rows(path) if r[0] != "menon-2019.rob2.missing_data.mrs_0_2"]
    write_rows(path, rows)
    first = line_of(path, "menon-2019.rob2.randomization.mrs_0_2")
    assert one_error(tdir) == (f"data/risk_of_bias.csv:{first}: column 'domain': RoB 2 assessment of "
                               "menon-2019: no judgement for domain 'missing_data'")


def test_domain_not_covering_an_outcome(tdir):
    path = tdir / "risk_of_bias.csv"
    rows = [r for r in read_rows(path) if r[0] != "distal-2025.rob2.measurement.sich"]
    write_rows(path, rows)
    line = line_of(path, "distal-2025.rob2.measurement.mrs_shift")
    assert one_error(tdir) == (f"data/risk_of_bias.csv:{line}: column 'outcome': RoB 2 assessment of "
                               "distal-2025: domain 'measurement' has no judgement for outcome "
                               "'sich' (add a row for it, or one row for 'all')")


def test_all_and_single_outcomes_not_mixed(tdir):
    line = cell_line(tdir / "risk_of_bias.csv", "escape-mevo-2025.rob2.measurement.sich", "outcome", "all")
    errs = errors_of(tdir)
    assert any(e.startswith(f"data/risk_of_bias.csv:{line}: column 'outcome': RoB 2 assessment of "
                            "escape-mevo-2025: domain 'measurement' has a row for 'all' outcomes")
               for e in errs), errs


def test_overall_not_milder_than_worst_domain(tdir):
    path = tdir / "risk_of_bias.csv"
    cell_line(path, "distal-2025.rob2.overall", "judgement", "low")
    line = line_of(path, "distal-2025.rob2.overall")
    errs = errors_of(tdir)
    assert errs and all(e.startswith(f"data/risk_of_bias.csv:{line}: column 'judgement': RoB 2 "
                                     "assessment of distal-2025, outcome ") for e in errs)
    assert "overall judgement 'low' is milder than the domain judgement 'some concerns'" in errs[0]
    # a 'high' domain makes 'some concerns' overall too mild as well
    cell_line(path, "distal-2025.rob2.overall", "judgement", "some concerns")
    dline = cell_line(path, "distal-2025.rob2.missing_data", "judgement", "high")
    errs = errors_of(tdir)  # one error per cell: the first outcome whose overall is too mild
    assert len(errs) == 1 and f"'high' on line {dline}" in errs[0]


def test_duplicated_rob_judgement(tdir):
    path = tdir / "risk_of_bias.csv"
    rows = read_rows(path)
    dup = next(r for r in rows if r[0] == "icassm1-2022.jbi.demographics")
    rows.append([dup[0] + "-bis"] + dup[1:])
    write_rows(path, rows)
    assert one_error(tdir) == (f"data/risk_of_bias.csv:{len(rows)}: column 'outcome': JBI case series "
                               "assessment of icassm1-2022: domain 'demographics' judged twice for "
                               f"outcome 'all' (first on line {line_of(path, 'icassm1-2022.jbi.demographics')})")


def test_readme_documents_trial_characteristics_and_rob_vocabulary():
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    for name in D.TRIAL_CHARACTERISTICS:
        assert f"`{name}`" in readme, name
    for tool, spec in D.ROB_TOOLS.items():
        assert f"`{tool}`" in readme, tool
        for x in spec["domains"] + spec["judgements"]:
            assert f"`{x}`" in readme, (tool, x)
