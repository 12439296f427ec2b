"""data/datapackage.json: a valid Frictionless Data Package describing every CSV, the one
schema the project's validator reads, and the source of data/README.md's column tables."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from evtreport import data as D
from evtreport import datapackage as DP
from conftest import ROOT

PACKAGE = ROOT / "data" / "datapackage.json"


def fields(pkg, name):
    return next(r for r in pkg["resources"] if r["name"] == name)["schema"]["fields"]


@pytest.fixture
def copy(tmp_path) -> Path:
    d = tmp_path / "data"
    shutil.copytree(ROOT / "data", d, ignore=shutil.ignore_patterns("notes", "README.md"))
    return d


def set_cell(path: Path, key: str, column: str, value: str) -> None:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    col = rows[0].index(column)
    for r in rows[1:]:
        if r[0] == key:
            r[col] = value
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def test_frictionless_validates_the_package():
    from frictionless import validate
    report = validate(str(PACKAGE))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "message"])


def test_frictionless_finds_a_bad_vocabulary_value_and_a_dangling_source(copy):
    from frictionless import validate
    set_cell(copy / "outcomes.csv", "icassm1-2022.reperfusion", "outcome", "good_outcome")
    set_cell(copy / "outcomes.csv", "icassm1-2022.mortality_90d", "source_id", "nobody-1999")
    report = validate(str(copy / "datapackage.json"))
    kinds = {e[0] for e in report.flatten(["type"])}
    assert {"constraint-error", "foreign-key"} <= kinds, kinds


def test_every_csv_is_a_resource_and_every_resource_a_file():
    pkg = DP.load()
    names = {r["name"] for r in pkg["resources"]}
    assert names == {p.stem for p in (ROOT / "data").glob("*.csv")}
    assert all(r["path"] == f"{r['name']}.csv" for r in pkg["resources"])


def test_the_validator_reads_its_schema_from_the_package():
    pkg = DP.load()
    for r in pkg["resources"]:
        assert D.SCHEMA[r["name"]] == tuple(f["name"] for f in r["schema"]["fields"])
        for f in r["schema"]["fields"]:
            col = D.COLUMNS[r["name"]][f["name"]]
            assert col.required == f.get("constraints", {}).get("required", False)
            assert col.values == tuple(f.get("constraints", {}).get("enum", ()))
    assert D.PRIMARY_KEYS["outcomes"] == "row_id"
    assert ("source_id", "sources", "source_id") in D.FOREIGN_KEYS["effects"]
    assert D.OUTCOMES == {c["value"]: c["label"] for c in
                          next(f for f in fields(pkg, "outcomes") if f["name"] == "outcome")["categories"]}
    # no second column list in the code
    source = (ROOT / "src" / "evtreport" / "data.py").read_text(encoding="utf-8")
    assert '"volume_pages", "doi"' not in source and '"events", "total", "reported_percent"' not in source


def test_a_changed_package_changes_the_validator(tmp_path):
    pkg = DP.load()
    outcome = next(f for f in fields(pkg, "outcomes") if f["name"] == "outcome")
    outcome["constraints"]["enum"].append("good_outcome")
    next(f for f in fields(pkg, "sources") if f["name"] == "label")["constraints"] = {}
    path = tmp_path / "datapackage.json"
    path.write_text(json.dumps(pkg))
    columns, *_ = D._read_package(path)
    assert "good_outcome" in columns["outcomes"]["outcome"].values
    assert not columns["sources"]["label"].required


def test_an_unknown_field_format_is_refused(tmp_path):
    pkg = DP.load()
    fields(pkg, "sources")[0]["type"] = "datetime"
    path = tmp_path / "datapackage.json"
    path.write_text(json.dumps(pkg))
    with pytest.raises(D.DataPackageError, match=r"sources\.source_id: type/constraints"):
        D._read_package(path)


def test_vocabularies_agree():
    pkg = DP.load()
    enum = {(r["name"], f["name"]): f["constraints"]["enum"] for r in pkg["resources"]
            for f in r["schema"]["fields"] if "enum" in f.get("constraints", {})}
    assert enum[("outcomes", "outcome")] == enum[("effects", "outcome")]
    out = next(f for f in fields(pkg, "outcomes") if f["name"] == "outcome")
    assert [c["value"] for c in out["categories"]] == enum[("outcomes", "outcome")]
    assert tuple(D.SCALES) == tuple(enum[("distributions", "scale")])
    # the prose of a vocabulary field names every value it allows
    for (res, name), values in enum.items():
        desc = next(f for f in fields(pkg, res) if f["name"] == name)["description"]
        if name == "outcome" or desc.startswith("as in "):
            continue
        missing = [v for v in values if f"`{v}`" not in desc]
        assert not missing, (res, name, missing)


def test_readme_column_tables_are_generated_from_the_package():
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert DP.render_readme(readme, DP.load()) == readme, (
        "data/README.md differs from data/datapackage.json: run "
        "`python -m evtreport.datapackage --readme`")
    pkg = DP.load()
    pkg["resources"][0]["schema"]["fields"][0]["description"] = "changed"
    assert DP.render_readme(readme, pkg) != readme
