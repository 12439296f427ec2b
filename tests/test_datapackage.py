"""data/datapackage.json: a valid Frictionless Data Package describing every file of data/, the
one schema the validator reads (each data folder its own), with vocabulary enums equal to
vocabulary.csv, and the source of data/README.md's column tables."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from evtreport import data as D
from evtreport import datapackage as DP
from evtreport import rubric, vocab
from evtreport.data import DataValidationError, load_dataset
from conftest import ROOT

DATA = ROOT / "data"
PACKAGE = DATA / "datapackage.json"


def package() -> dict:
    return json.loads(PACKAGE.read_text(encoding="utf-8"))


def field(pkg: dict, res: str, name: str) -> dict:
    r = next(r for r in pkg["resources"] if r["name"] == res)
    return next(f for f in r["schema"]["fields"] if f["name"] == name)


def enum(pkg: dict, res: str, name: str) -> list:
    return field(pkg, res, name).get("constraints", {}).get("enum")


@pytest.fixture
def copy(tmp_path) -> Path:
    """A data folder as a user makes one: a copy of data/ (its package included)."""
    d = tmp_path / "data"
    shutil.copytree(DATA, d, ignore=shutil.ignore_patterns("notes", "README.md"))
    return d


def rows_of(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def set_cell(path: Path, key: str, column: str, value: str) -> None:
    rows = rows_of(path)
    j = rows[0].index(column)
    hit = [r for r in rows[1:] if r[0] == key]
    assert hit, key
    hit[0][j] = value
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def errors_of(d: Path) -> list[str]:
    with pytest.raises(DataValidationError) as exc:
        load_dataset(d)
    return [str(e) for e in exc.value.errors]


def frictionless_errors(d: Path) -> set[tuple[str, str, str]]:
    """(file, row_id, column) of every cell error frictionless finds in the folder."""
    from frictionless import validate
    report = validate(str(d / "datapackage.json"))
    out = set()
    for task in report.tasks:
        name = Path(task.place).name
        rows = rows_of(d / name)
        for e in task.errors:
            assert e.type in ("constraint-error", "foreign-key", "type-error"), e.message
            # a foreign-key error names no field: the row's key field is the one in the FK
            col = getattr(e, "field_name", None) or e.message.split('for "')[1].split('"')[0]
            out.add((name, rows[e.row_number - 1][0], col))
    return out


# --------------------------------------------------------------------------- frictionless

def test_frictionless_validates_the_package_with_no_error():
    from frictionless import validate
    report = validate(str(PACKAGE))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "message"])
    assert {Path(t.place).name for t in report.tasks} == (
        {f"{n}.csv" for n in D.REQUIRED_FILES} | {"vocabulary.csv"})


def test_frictionless_and_the_validator_find_the_same_broken_cells(copy):
    # one fault of each kind the package states: an enum, a foreign key, a pattern, a maximum,
    # a type, a required value
    faults = [
        ("outcomes.csv", "icassm1-2022.reperfusion", "outcome", "good_outcome"),
        ("outcomes.csv", "icassm1-2022.direct_evt", "source_id", "nobody-1999"),
        ("effects.csv", "lee-2018.icas_vs_embolic.functional_independence", "p_value", "p<0.05"),
        ("sources.csv", "lee-2018", "year", "20255"),
        ("baseline.csv", "icassm1-2022.bl.age", "total", "twenty-two"),
        ("trials.csv", "escape-mevo-2025.design", "characteristic", "sponsor"),
        ("quotes.csv", "icass-definition", "use", ""),
    ]
    for name, key, col, value in faults:
        set_cell(copy / name, key, col, value)
    expected = {(name, key, col) for name, key, col, _ in faults}
    assert frictionless_errors(copy) == expected
    ours = set()
    with pytest.raises(DataValidationError) as exc:
        load_dataset(copy)
    for e in exc.value.errors:
        rows, starts = rows_of(copy / Path(e.file).name), _starts(copy / Path(e.file).name)
        ours.add((Path(e.file).name, rows[starts.index(e.line)][0], e.column))
    assert ours == expected, [str(e) for e in exc.value.errors]


def _starts(path: Path) -> list[int]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader, starts, prev = csv.reader(fh), [], 0
        for _ in reader:
            starts.append(prev + 1)
            prev = reader.line_num
    return starts


# --------------------------------------------------------------------------- one schema

def test_every_file_is_a_resource_and_every_resource_a_file():
    pkg = package()
    names = [r["name"] for r in pkg["resources"]]
    assert sorted(names) == sorted(p.stem for p in DATA.glob("*.csv"))
    assert all(r["path"] == f"{r['name']}.csv" for r in pkg["resources"])
    assert "datapackage.json" in D.NON_TABLE_FILES  # expected in a data folder, checksummed


def test_no_column_list_in_the_code():
    source = (ROOT / "src" / "evtreport" / "data.py").read_text(encoding="utf-8")
    # column lists and enums as the code once held them
    for needle in ('"volume_pages", "doi"', '"events", "total", "reported_percent"',
                   '"limit", "location", "quote"', '"adjusted common OR"', '"DMVO", "ICASS-M1"',
                   '"reported", "derived", "percent_only"', '"population_vessels"', '_Col(_S'):
        assert needle not in source, needle
    assert D.SCHEMA["sources"] == tuple(f["name"] for f in package()["resources"][0]["schema"]["fields"])


def test_the_folder_package_is_what_the_validator_checks(copy):
    set_cell(copy / "sources.csv", "lee-2018", "label", "")
    assert errors_of(copy) == ["data/sources.csv:3: column 'label': required value is empty"]
    pkg = json.loads((copy / "datapackage.json").read_text())
    del field(pkg, "sources", "label")["constraints"]
    (copy / "datapackage.json").write_text(json.dumps(pkg))
    # the validator follows the folder's package; the package may not loosen the project's
    assert errors_of(copy) == [
        "data/datapackage.json: resource 'sources' differs from the project's "
        "data/datapackage.json (fields label); the code reads the files as the project's "
        "package describes them: copy it"]


def test_an_outcome_added_to_the_vocabulary_is_allowed_once_the_package_is_regenerated(copy):
    with open(copy / "vocabulary.csv", "a", encoding="utf-8") as fh:
        fh.write("outcome,good_outcome,Good outcome,favourable,beneficial,a test outcome\n")
    set_cell(copy / "outcomes.csv", "icassm1-2022.reperfusion", "outcome", "good_outcome")
    errs = errors_of(copy)
    assert errs[0] == ("data/datapackage.json: field outcomes.outcome: its enum is not the outcome "
                       "keys of vocabulary.csv (missing good_outcome); run "
                       "`python -m evtreport.datapackage --write`")
    assert any("column 'outcome': expected one of:" in e and "'good_outcome'" in e for e in errs)
    assert DP.main(["--check", str(copy)]) == 1
    assert DP.main(["--write", str(copy)]) == 0
    assert DP.main(["--check", str(copy)]) == 0
    ds = load_dataset(copy)
    assert "good_outcome" in set(ds.outcomes["outcome"])
    assert enum(json.loads((copy / "datapackage.json").read_text()), "risk_of_bias",
                "outcome")[-2:] == ["good_outcome", "all"]


@pytest.mark.parametrize("fault, message", [
    ("missing", "data/datapackage.json: file not found: the data package describes the files of "
                "its folder and the validator reads their columns from it; copy the project's "
                "data/datapackage.json into the folder"),
    ("truncated", "data/datapackage.json: line 1, column 84: not valid JSON (Unterminated string"),
    ("not a package", "data/datapackage.json: not a data package: expected a JSON object"),
    ("unknown format", "data/datapackage.json: field sources.year: type and constraints "
                       '{"type": "date"} are none of the formats the validator checks'),
    ("no resource", "data/datapackage.json: no resource describes quotes.csv"),
])
def test_a_missing_or_broken_package_is_one_clear_error(copy, fault, message):
    p = copy / "datapackage.json"
    pkg = json.loads(p.read_text())
    if fault == "missing":
        p.unlink()
    elif fault == "truncated":
        p.write_text(json.dumps(pkg)[:100])
    elif fault == "not a package":
        p.write_text("[]")
    elif fault == "unknown format":
        f = field(pkg, "sources", "year")
        f["type"] = "date"
        del f["constraints"]
        p.write_text(json.dumps(pkg))
    else:
        pkg["resources"] = [r for r in pkg["resources"] if r["name"] != "quotes"]
        p.write_text(json.dumps(pkg))
    errs = errors_of(copy)
    assert len(errs) == 1 and errs[0].startswith(message), errs
    assert D.main([str(copy)]) == 1


def test_a_stray_package_copy_is_an_unknown_file(copy):
    shutil.copy(copy / "datapackage.json", copy / "datapackage (1).json")
    assert errors_of(copy)[0].startswith("data/datapackage (1).json: unknown file in the data "
                                         "directory")


# --------------------------------------------------------------------------- agreement

def test_committed_package_and_readme_equal_the_generated_ones(capsys):
    assert DP.main(["--check"]) == 0, capsys.readouterr().err
    for (res, name), values in DP.vocabulary_enums(vocab.terms(DATA)).items():
        assert enum(package(), res, name) == values, (res, name)
    assert enum(package(), "outcomes", "outcome") == list(vocab.keys("outcome", DATA))


def test_the_readme_check_fails_when_a_description_changes(tmp_path):
    d = tmp_path / "data"
    shutil.copytree(DATA, d, ignore=shutil.ignore_patterns("notes"))
    pkg = package()
    field(pkg, "outcomes", "events")["description"] = "changed"
    (d / "datapackage.json").write_text(DP.dumps(pkg))
    assert DP.main(["--check", str(d)]) == 1
    assert DP.main(["--write", str(d)]) == 0
    assert "| `events` | integer ≥ 0 |  | changed |" in (d / "README.md").read_text()


def test_the_code_structures_agree_with_the_package():
    pkg = package()
    assert enum(pkg, "distributions", "scale") == list(D.SCALES)
    assert enum(pkg, "risk_of_bias", "tool") == list(D.ROB_TOOLS)
    assert enum(pkg, "risk_of_bias", "domain") == list(dict.fromkeys(
        d for t in D.ROB_TOOLS.values() for d in t["domains"]))
    assert enum(pkg, "risk_of_bias", "judgement") == list(dict.fromkeys(
        j for t in D.ROB_TOOLS.values() for j in t["judgements"]))
    assert sorted(enum(pkg, "claim_checks", "rule")) == sorted(rubric.RULES)
    assert enum(pkg, "claim_checks", "finding") == list(rubric.LABELS.values())
    assert set(D.TRIAL_DESIGNS) <= set(enum(pkg, "sources", "design"))
    assert set(D.DIFFERENCE_MEASURES) <= set(enum(pkg, "effects", "measure"))
    voc = next(r for r in pkg["resources"] if r["name"] == "vocabulary")
    assert tuple(f["name"] for f in voc["schema"]["fields"]) == vocab.COLUMNS
    assert enum(pkg, "vocabulary", "kind") == list(vocab.KINDS)
    assert enum(pkg, "vocabulary", "direction") == list(vocab.DIRECTIONS)
    chars = field(pkg, "trials", "characteristic")
    assert [c["value"] for c in chars["categories"]] == chars["constraints"]["enum"]


def test_the_readme_names_every_allowed_value():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for r in package()["resources"]:
        for f in r["schema"]["fields"]:
            if (r["name"], f["name"]) in DP.VOCABULARY_ENUMS:
                continue  # the keys of vocabulary.csv, whose tables the README holds
            for v in f.get("constraints", {}).get("enum", []):
                assert f"`{v}`" in readme, (r["name"], f["name"], v)


def test_every_trial_characteristic_of_the_package_has_a_reader_label():
    from evtreport.present import trials
    assert list(trials.LABELS) == list(D.TRIAL_CHARACTERISTICS)
