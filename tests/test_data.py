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

COHORT_TEXT = ROOT.parent / "shared" / "sources" / "004_8c29ec8a956b3bfc.txt"


# --------------------------------------------------------------------------- helpers

@pytest.fixture
def ddir(tmp_path: Path) -> Path:
    """A copy of the five curated files (not claims.csv/staging, which belong to another
    curator) in tmp_path/data."""
    d = tmp_path / "data"
    d.mkdir()
    for name in REQUIRED_FILES:
        shutil.copy(DATA_DIR / f"{name}.csv", d / f"{name}.csv")
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
    """The five curated files without claims.csv (whose row references resolve only once the
    lead has merged the DMVO staging files)."""
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
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
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


def test_byte_order_mark(ddir):
    p = ddir / "sources.csv"
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    err = one_error(ddir)
    assert err.startswith("data/sources.csv:1: file starts with a UTF-8 byte-order mark (BOM)")
    assert "without BOM" in err


def test_windows_line_endings(ddir):
    p = ddir / "distributions.csv"
    n = p.read_bytes().count(b"\n")
    p.write_bytes(p.read_bytes().replace(b"\n", b"\r\n"))
    err = one_error(ddir)
    assert err.startswith(f"data/distributions.csv:1: Windows (CRLF) line endings on {n} line(s)")
    assert "dos2unix" in err


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
    assert "add new outcome names to the categories and enum of the outcome fields in data/datapackage.json" in err


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


def test_header_only_file_is_valid(ddir):
    (ddir / "effects.csv").write_text(",".join(SCHEMA["effects"]) + "\n", encoding="utf-8")
    assert load_dataset(ddir).effects.empty


def test_data_error_str_without_line():
    assert str(DataError("data/x.csv", None, None, "file not found")) == "data/x.csv: file not found"
    assert str(DataError("data/x.csv", 3, "a", "bad")) == "data/x.csv:3: column 'a': bad"


# --------------------------------------------------------------------------- claims.csv

CLAIM_HEADER = ",".join(SCHEMA["claims"])


def test_claims_absent_gives_empty_frame(ddir):
    ds = load_dataset(ddir)
    assert ds.claims.empty and list(ds.claims.columns) == list(SCHEMA["claims"])


def test_claims_valid_and_cross_references(ddir):
    good = ('qa-dmvo-2025.c01,Outcomes,"A claim, with a comma",2,lee-2018,topic,'
            f"{OUT};lee-2018.icas_vs_embolic.functional_independence,,supported,Because.\n")
    (ddir / "claims.csv").write_text(CLAIM_HEADER + "\n" + good, encoding="utf-8")
    ds = load_dataset(ddir)
    assert ds.claims["supporting_rows"].iloc[0].split(";")[0] == OUT
    bad = ("qa-dmvo-2025.c02,Outcomes,Claim,,nobody-2020,topic,"
           f"{OUT};no-such.row,icassm1-2022.bl.age,contradicted,Because.\n")
    (ddir / "claims.csv").write_text(CLAIM_HEADER + "\n" + good + bad, encoding="utf-8")
    assert errors_of(ddir) == [
        "data/claims.csv:3: column 'cited_source_id': unknown source_id 'nobody-2020' (not in sources.csv)",
        "data/claims.csv:3: column 'supporting_rows': unknown row_id 'no-such.row' (not in outcomes.csv or effects.csv)",
        "data/claims.csv:3: column 'contradicting_rows': unknown row_id 'icassm1-2022.bl.age' (not in outcomes.csv or effects.csv)",
    ]


def test_claims_bad_verdict(ddir):
    row = "c1,S,Claim,,,t,,,true,Because.\n"
    (ddir / "claims.csv").write_text(CLAIM_HEADER + "\n" + row, encoding="utf-8")
    assert one_error(ddir) == ("data/claims.csv:2: column 'verdict': expected one of: supported, "
                               "partly supported, contradicted, not verifiable; got 'true'")


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
