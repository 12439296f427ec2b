"""`make diff`: the header of differing parameters, main estimates in the report's own format
grouped by chapter, sensitivity/derived rows counted, one-run-only rows apart, --csv; and the
"changes since the published report" block of a reviewer run."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import nbformat
import pytest

from evtreport import diff as D
from evtreport import params as P
from evtreport import results as R
from conftest import ROOT


def row(id, section="dmvo", level="main", **kw):
    r = dict.fromkeys(R.COLUMNS, "")
    r.update(id=id, section=section, level=level, **kw)
    return r


# Hand-written estimates: a trial RR, an arm rate, a sensitivity row, a derived row.
RR_A = dict(measure="RR", estimate="0.9210084034", ci_low="0.7924232691", ci_high="1.070458822")
RR_B = dict(measure="RR", estimate="0.9512", ci_low="0.8213", ci_high="1.1017")


def make_run(path, rows, parameters, data_sha="a" * 64, folder="data"):
    path.mkdir(parents=True)
    (path / "results.csv").write_text(R.to_csv(rows), encoding="utf-8")
    (path / "run.json").write_text(json.dumps({
        "run": path.name, "parameters": {**P.DEFAULTS, **parameters},
        "data": {"folder": folder, "sha256": data_sha, "files": {},
                 "project_data": folder == "data"}}))
    nbdir = path / "notebooks"
    nbdir.mkdir()
    for n, (section, title) in enumerate((("dmvo", "Distal medium vessel occlusion (DMVO)"),
                                          ("icass", "ICASS-M1 series"))):
        nb = nbformat.v4.new_notebook()
        nb.cells.append(nbformat.v4.new_markdown_cell(f"# {title}\n\nText."))
        cell = nbformat.v4.new_code_cell("ch.finish()")
        cell.outputs = [nbformat.v4.new_output(
            "display_data", data={R.MIME: {"section": section, "rows": []}})]
        nb.cells.append(cell)
        nbformat.write(nb, nbdir / f"0{n}_{section}.ipynb")
    return path


@pytest.fixture
def runs(tmp_path):
    a = make_run(tmp_path / "a", [
        row("dmvo.rct.favourable.pooled", **RR_A, k_studies="1"),
        row("icass.series.favourable", section="icass", measure="proportion",
            estimate="0.8636363636", ci_low="0.6668", ci_high="0.9530", events="19", total="22",
            outcome="mrs_0_2"),
        row("icass.series.mortality", section="icass", measure="proportion", estimate="0.05",
            ci_low="0.01", ci_high="0.2", events="1", total="22", method="wilson CI"),
        row("sensitivity.dmvo-favourable.fixed", section="methods", level="sensitivity", **RR_A),
        row("icass.table2.mrs_0_2", section="icass", level="derived", measure="proportion",
            estimate="0.8636363636", events="19", total="22"),
        row("dmvo.hermes.reperfusion.evt", measure="proportion", estimate="0.5916"),
    ], {})
    b = make_run(tmp_path / "b", [
        row("dmvo.rct.favourable.pooled", **RR_B, k_studies="1"),
        row("icass.series.favourable", section="icass", measure="proportion",
            estimate="0.5909090909", ci_low="0.3874", ci_high="0.7674", events="13", total="22",
            outcome="mrs_0_1"),
        row("icass.series.mortality", section="icass", measure="proportion", estimate="0.05",
            ci_low="0.01", ci_high="0.2", events="1", total="22", method="jeffreys CI"),
        row("sensitivity.dmvo-favourable.fixed", section="methods", level="sensitivity", **RR_B),
        row("icass.table2.mrs_0_2", section="icass", level="derived", measure="proportion",
            estimate="0.5909090909", events="13", total="22"),
        row("dmvo.obs.new-study.favourable", measure="proportion", estimate="0.5",
            ci_low="0.4", ci_high="0.6", events="10", total="20"),
    ], {"favourable_mrs_max": 1})
    return a, b


def test_header_names_the_parameters_that_differ(runs):
    out = D.text_report(D.compare(D.load_run(str(runs[0])), D.load_run(str(runs[1]))))
    header = out.split("Main estimates")[0]
    assert "Parameters that differ:\n  favourable_mrs_max: 2 -> 1\n" in header
    assert "ci_method" not in header
    assert "Data folder: the same, data/ (SHA-256" in header


def test_main_estimates_in_the_report_format_grouped_by_chapter(runs):
    out = D.text_report(D.compare(D.load_run(str(runs[0])), D.load_run(str(runs[1]))))
    main = out.split("Main estimates that moved: ")[1].split("Also:")[0]
    assert main.startswith("2 of 3:")   # pooled RR and the series rate; mortality only relabelled
    # 0.921 [0.792-1.070] and 0.951 [0.821-1.102] rounded to two decimals, as the report prints
    assert "RR 0.92 [0.79–1.07]  ->  0.95 [0.82–1.10]" in main
    # 19/22 = 86.4%, 13/22 = 59.1%; the changed outcome is named
    assert "86.4% [66.7–95.3] (19/22)  ->  59.1% [38.7–76.7] (13/22)" in main
    assert "outcome mrs_0_2 -> mrs_0_1" in main
    assert main.index("Distal medium vessel occlusion (DMVO)") < main.index("dmvo.rct.favourable")
    assert main.index("ICASS-M1 series\n") < main.index("icass.series.favourable")
    assert "sensitivity." not in main and "table2" not in main and "mortality" not in main


def test_sensitivity_and_derived_rows_are_counted_and_listed_only_with_all(runs):
    d = D.compare(D.load_run(str(runs[0])), D.load_run(str(runs[1])))
    short = D.text_report(d)
    assert ("Also: 1 sensitivity and 1 derived estimates moved; 1 estimate changed only its "
            "method or analysis text") in short
    assert "sensitivity.dmvo-favourable.fixed" not in short
    full = D.text_report(d, show_all=True)
    assert "Sensitivity estimates that moved: 1:" in full
    assert "sensitivity.dmvo-favourable.fixed" in full and "icass.table2.mrs_0_2" in full
    assert "icass.series.mortality" in full and "text changed: method" in full


def test_one_run_only_estimates_are_listed_apart(runs):
    out = D.text_report(D.compare(D.load_run(str(runs[0])), D.load_run(str(runs[1]))))
    only_a = out.split("Only in run 'a': 1 estimate:")[1].split("Only in run 'b'")[0]
    assert "dmvo.hermes.reperfusion.evt  59.2%" in only_a
    only_b = out.split("Only in run 'b': 1 estimate:")[1]
    assert "dmvo.obs.new-study.favourable  50.0% [40.0–60.0] (10/20)" in only_b


def test_csv_lists_every_difference_with_its_level(runs):
    d = D.compare(D.load_run(str(runs[0])), D.load_run(str(runs[1])))
    rows = list(csv.DictReader(io.StringIO(D.csv_report(d))))
    assert rows[0]["kind"] == "parameter" and (rows[0]["id"], rows[0]["a"], rows[0]["b"]) == (
        "favourable_mrs_max", "2", "1")
    by_id = {r["id"]: r for r in rows if r["kind"] == "estimate"}
    assert by_id["sensitivity.dmvo-favourable.fixed"]["level"] == "sensitivity"
    assert by_id["dmvo.rct.favourable.pooled"]["change"] == "moved"
    assert by_id["dmvo.rct.favourable.pooled"]["b_estimate"] == "0.9512"
    assert by_id["icass.series.mortality"]["change"] == "text"
    assert by_id["dmvo.hermes.reperfusion.evt"]["change"] == "only_a"
    assert by_id["dmvo.obs.new-study.favourable"]["change"] == "only_b"


def test_command_line_flags_and_environment(runs, capsys, monkeypatch):
    def run(*args):
        code = D.main(list(args))
        out, err = capsys.readouterr()
        return code, out, err
    a, b = str(runs[0]), str(runs[1])
    assert "sensitivity.dmvo" not in run(a, b)[1]
    assert "sensitivity.dmvo" in run(a, b, "--all")[1]
    assert run(a, b, "--csv")[1].startswith(",".join(D.CSV_COLUMNS) + "\n")
    code, _, err = run(a, str(runs[0].parent / "nowhere"))
    assert code == 1 and "has no results" in err
    monkeypatch.setenv("DIFF_ALL", "1")
    assert "sensitivity.dmvo" in run(a, b)[1]
    # `make diff` goes through the build's thin subcommand
    proc = subprocess.run([sys.executable, "-m", "evtreport.build", "diff", a, b, "--all"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "sensitivity.dmvo" in proc.stdout


def test_folder_checksum_is_what_sha256sum_prints(tmp_path):
    from evtreport import provenance
    (tmp_path / "b.csv").write_text("x\n")
    (tmp_path / "a.csv").write_text("y,z\n")
    (tmp_path / "notes.md").write_text("not data")
    listing = subprocess.run("LC_ALL=C sha256sum *.csv | sha256sum", shell=True, cwd=tmp_path,
                             capture_output=True, text=True, check=True).stdout.split()[0]
    d = provenance.data_folder(tmp_path)
    assert d["sha256"] == listing and sorted(d["files"]) == ["a.csv", "b.csv"]
    assert not d["project_data"] and provenance.data_folder(ROOT / "data")["project_data"]


def test_data_folder_difference_is_shown(tmp_path):
    rows = [row("x", measure="proportion", estimate="0.5")]
    a = make_run(tmp_path / "a", rows, {})
    b = make_run(tmp_path / "b", rows, {}, data_sha="b" * 64, folder="data-new-study")
    out = D.text_report(D.compare(D.load_run(str(a)), D.load_run(str(b))))
    assert "Data folder: data/ (SHA-256 aaaaaaaaaaaa…) -> data-new-study/ (SHA-256 bbbbbbbbbbbb…)" in out


def test_run_names_parameter_files_and_directories():
    assert D.run_dir("default") == ROOT / "report"
    assert D.run_dir("strict") == ROOT / "report" / "runs" / "strict"
    assert D.run_dir("params/strict.yaml") == ROOT / "report" / "runs" / "strict"
    assert str(D.run_dir("/tmp/some/run")) == "/tmp/some/run"


def test_changes_block_of_a_reviewer_run_escapes_and_lists_what_moved(runs):
    a, b = D.load_run(str(runs[0])), D.load_run(str(runs[1]))
    d = D.compare(a, b)
    block = D.changes_html(d, "excellent<b>")
    assert "Changes since the published report" in block
    assert "excellent&lt;b&gt;" in block and "excellent<b>" not in block
    assert "<code>favourable_mrs_max</code> (2 → 1)" in block
    assert ('<td class="evt-val">RR 0.92 [0.79–1.07]</td><td class="evt-val">0.95 [0.82–1.10]'
            '</td>') in block
    assert "2 of the 3 main estimates moved" in block
    assert '<th colspan="4">ICASS-M1 series</th>' in block and "outcome mrs_0_2 → mrs_0_1" in block
    assert "Not listed here: 1 sensitivity and 1 derived estimates moved" in block
    assert "Only in this run: <code>dmvo.obs.new-study.favourable</code>" in block


def test_only_the_published_report_itself_has_no_changes_block():
    record = {"parameters": dict(P.DEFAULTS), "data": {"project_data": True}}
    assert D.reviewer_block("default", record, []) is None


@pytest.mark.parametrize("row, printed", [
    ({"measure": "count", "estimate": "36"}, "36"),
    ({"measure": "rating", "estimate": "2"}, "2 of 4"),
    ({"measure": "probability", "estimate": "0.7312"}, "P = 0.73"),
    ({"measure": "per 1000", "estimate": "-12.4", "ci_low": "-45.2", "ci_high": "30.1"},
     "−12 [−45 to 30] per 1000"),
    ({"measure": "RR", "estimate": "0.9512", "ci_low": "0.79", "ci_high": "1.15"}, "RR 0.95 [0.79–1.15]"),
])
def test_counts_ratings_probabilities_and_absolute_effects_print_as_the_report_does(row, printed):
    assert D.format_estimate(row) == printed
