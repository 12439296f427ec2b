"""results.csv rows: formatting, collection from notebook outputs, and diff."""

import math

import nbformat
import pytest

from evtreport import results as R


def notebook_with(*payloads):
    nb = nbformat.v4.new_notebook()
    for payload in payloads:
        cell = nbformat.v4.new_code_cell("")
        cell.outputs = [nbformat.v4.new_output("display_data", data={R.MIME: payload})]
        nb.cells.append(cell)
    return nb


def test_number_formatting_is_stable():
    assert R._fmt(19 / 22) == "0.8636363636"
    assert R._fmt(3.0) == "3"
    assert R._fmt(float("nan")) == ""
    assert R._fmt(None) == ""
    assert R._fmt(1e-12) == "1e-12"


def test_add_rejects_unknown_columns_and_duplicate_ids():
    res = R.Results("icass")
    res.add("a", cohort="ICASS-M1", outcome="mrs_0_2", analysis="single", estimate=0.5)
    with pytest.raises(ValueError, match="recorded twice"):
        res.add("a", cohort="ICASS-M1", outcome="mrs_0_2", analysis="single", estimate=0.5)
    with pytest.raises(ValueError, match="unknown results column"):
        res.add("b", cohort="x", outcome="y", analysis="z", estimate=1, colour="red")


def test_collect_keeps_order_and_rejects_ids_shared_by_sections():
    row = dict.fromkeys(R.COLUMNS, "")
    a = notebook_with({"section": "s1", "rows": [{**row, "id": "x", "section": "s1"}]})
    b = notebook_with({"section": "s2", "rows": [{**row, "id": "y", "section": "s2"}]})
    assert [r["id"] for r in R.collect([a, b])] == ["x", "y"]
    with pytest.raises(ValueError, match="emitted by two sections"):
        R.collect([a, a])


def test_csv_round_trip(tmp_path):
    res = R.Results("s")
    res.add("p", cohort="DMVO", outcome="sich", analysis="pooled", estimate=0.06, ci_low=0.04,
            ci_high=0.1, events=3, total=50, method="Wilson, with a comma")
    path = tmp_path / "r.csv"
    path.write_text(R.to_csv(res.rows))
    back = R.read_csv(path)
    assert back[0]["method"] == "Wilson, with a comma"
    assert back[0]["events"] == "3" and math.isclose(float(back[0]["estimate"]), 0.06)


def test_diff_reports_changed_added_and_removed_estimates():
    base = dict.fromkeys(R.COLUMNS, "")
    a = [{**base, "id": "x", "estimate": "0.5"}, {**base, "id": "gone", "estimate": "1"}]
    b = [{**base, "id": "x", "estimate": "0.59"}, {**base, "id": "new", "estimate": "1"}]
    assert R.diff(a, b) == [("x", "estimate", "0.5", "0.59"), ("gone", "(row)", "present", "absent"),
                            ("new", "(row)", "absent", "present")]
    assert R.diff(a, a) == []
