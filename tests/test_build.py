"""The whole build: reproducibility, incrementality, and failures that leave the report intact."""

import csv
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from evtreport import results as R
from conftest import ROOT, run_make, snapshot

pytestmark = pytest.mark.slow


def test_fresh_build_reproduces_the_committed_results_exactly(fresh_build):
    built = (fresh_build / "report" / "results.csv").read_bytes()
    assert built == (ROOT / "report" / "results.csv").read_bytes(), (
        "a fresh build differs from the committed report/results.csv: rebuild and commit the report")


def test_fresh_build_of_a_clean_checkout_reproduces_the_committed_html_exactly(fresh_build):
    """Names its commit without '+changes' and gives the committed index.html byte for byte
    (the commit named is that of the inputs, so committing the rebuilt report keeps it)."""
    from evtreport.provenance import git_commit

    commit = git_commit()
    if commit.endswith("+changes") or commit.startswith("unknown"):
        pytest.skip(f"inputs differ from a commit ({commit}): commit them first")
    built = (fresh_build / "report" / "index.html").read_text(encoding="utf-8")
    assert f"built from git commit {commit} with" in built
    assert built == (ROOT / "report" / "index.html").read_text(encoding="utf-8"), (
        "a fresh build differs from the committed report/index.html: rebuild and commit the report")


def test_fresh_build_publishes_every_output(fresh_build):
    out = fresh_build / "report"
    assert (out / "report.pdf").read_bytes()[:5] == b"%PDF-"
    assert (out / "index.html").stat().st_size > 10_000
    # what the run was built from, and the reference list for reference managers
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["data"]["folder"] == "data" and record["parameters"]["ci_method"] == "wilson"
    assert json.loads((out / "references.json").read_text(encoding="utf-8"))[0]["id"]
    assert "@article{escape-mevo-2025," in (out / "references.bib").read_text(encoding="utf-8")
    assert sorted(p.name for p in (out / "notebooks").glob("*.ipynb")) == sorted(
        p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert not list(out.glob(".staging-*")), "the staging directory was left behind"


def test_second_build_does_no_work(fresh_build):
    index = fresh_build / "report" / "index.html"
    before = index.stat().st_mtime_ns
    proc = run_make("report", f"OUT={fresh_build / 'report'}", f"BUILD_ROOT={fresh_build / 'build'}")
    assert proc.returncode == 0
    assert "evtreport.build" not in proc.stdout, proc.stdout
    assert index.stat().st_mtime_ns == before


def test_reviewer_run_with_mrs_0_1_changes_only_the_favourable_estimates(fresh_build):
    out = fresh_build / "excellent"
    proc = run_make("report", "PARAMS=params/excellent.yaml", f"OUT={out}",
                    f"BUILD_ROOT={fresh_build / 'build'}")
    assert proc.returncode == 0, proc.stderr
    default = R.read_csv(fresh_build / "report" / "results.csv")
    excellent = {r["id"]: r for r in R.read_csv(out / "results.csv")}
    changed = {c[0] for c in R.diff(default, list(excellent.values()))}
    assert "icass.series.favourable" in changed
    assert (excellent["icass.series.favourable"]["events"],
            excellent["icass.series.favourable"]["total"]) == ("13", "22")
    assert excellent["icass.series.favourable"]["outcome"] == "mrs_0_1"
    unexpected = sorted(i for i in changed if "favourable" not in i)
    assert not unexpected, f"mRS 0-1 changed estimates that do not depend on it: {unexpected}"
    # `make diff` reports the same change to a reviewer
    shown = subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "evtreport.build", "diff",
                            str(fresh_build / "report"), str(out)],
                           capture_output=True, text=True, cwd=ROOT)
    assert shown.returncode == 0
    assert "Parameters that differ:\n  favourable_mrs_max: 2 -> 1\n" in shown.stdout
    # (the columns of a chapter's rows are aligned, so the spaces before "->" vary)
    assert re.search(r"icass\.series\.favourable +86\.4% \[66\.7–95\.3\] \(19/22\) +->  "
                     r"59\.1% \[38\.7–76\.7\] \(13/22\)", shown.stdout), shown.stdout
    # the run's own HTML says the same at its top
    page = (out / "index.html").read_text(encoding="utf-8")
    top = page[:page.index('class="evt-toc')]
    assert "Changes since the published report" in top
    assert "<code>favourable_mrs_max</code> (2 → 1)" in top
    assert ('<td class="evt-val">86.4% [66.7–95.3] (19/22)</td>'
            '<td class="evt-val">59.1% [38.7–76.7] (13/22)</td>') in top


@pytest.fixture
def published(tmp_path):
    """A copy of the committed report to build over."""
    out = tmp_path / "published"
    shutil.copytree(ROOT / "report", out, ignore=shutil.ignore_patterns("runs"))
    return out


def test_bad_parameter_file_fails_clearly_and_leaves_the_report(tmp_path, published):
    before = snapshot(published)
    bad = tmp_path / "bad.yaml"
    bad.write_text("ci_method: exact\nhksj: maybe\n")
    proc = run_make("report", f"PARAMS={bad}", f"OUT={published}", f"BUILD_ROOT={tmp_path / 'b'}")
    assert proc.returncode != 0
    assert f"{bad}: parameter 'ci_method': expected one of 'wilson'" in proc.stderr
    assert f"{bad}: parameter 'hksj': expected true or false, got 'maybe'" in proc.stderr
    assert not list((tmp_path / "b").glob("*/executed")), "a notebook ran despite bad parameters"
    assert snapshot(published) == before


def test_raising_notebook_fails_clearly_and_leaves_the_report(tmp_path, published):
    before = snapshot(published)
    nbs = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", nbs)
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Broken chapter"),
        nbformat.v4.new_code_cell("raise RuntimeError('deliberate failure for the test')")])
    nb.metadata["kernelspec"] = {"name": "evtreport", "display_name": "evtreport", "language": "python"}
    nbformat.write(nb, nbs / "99_broken.ipynb")
    proc = run_make("report", f"NOTEBOOKS_DIR={nbs}", f"OUT={published}",
                    f"BUILD_ROOT={tmp_path / 'b'}")
    assert proc.returncode != 0
    assert re.search(r"99_broken\.ipynb: cell \d+ raised RuntimeError: deliberate failure for the test",
                     proc.stderr), proc.stderr
    assert not (tmp_path / "b" / "default" / "executed" / "99_broken.ipynb").exists()
    assert snapshot(published) == before


def test_invalid_data_stops_the_build_before_any_notebook(tmp_path, published):
    """The data validator runs first; an error names the file, line and column."""
    before = snapshot(published)
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    lines = (data / "outcomes.csv").read_text().splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    import csv, io
    row = next(csv.reader(io.StringIO(lines[1])))
    row[header.index("events")] = "-3"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    lines[1] = buf.getvalue()
    (data / "outcomes.csv").write_text("".join(lines))
    proc = run_make("report", f"DATA_DIR={data}", f"OUT={published}", f"BUILD_ROOT={tmp_path / 'b'}")
    assert proc.returncode != 0
    assert "outcomes.csv:2" in proc.stderr and "'events'" in proc.stderr, proc.stderr
    assert not (tmp_path / "b" / "default" / "executed").exists()
    assert snapshot(published) == before


def test_a_run_on_another_data_folder_names_it_and_the_diff_shows_the_study(tmp_path):
    """Adding a study's figure, as the README says, seen backwards: a copy of data/ without the
    recanalization rate of Jia et al. (EAST) is built as its own run; the diff from it to the
    published data shows what adding that figure does. (The study's other rows stay: claims and
    risk-of-bias judgements cite them.)"""
    fewer = tmp_path / "data-fewer"
    shutil.copytree(ROOT / "data", fewer, ignore=shutil.ignore_patterns("notes", "*.md"))
    with open(fewer / "outcomes.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    kept = [r for r in rows if r[0] != "jia-east.icas.recanalization"]
    assert len(kept) == len(rows) - 1
    with open(fewer / "outcomes.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(kept)
    params = tmp_path / "fewer.yaml"
    shutil.copy(ROOT / "params" / "default.yaml", params)
    out = tmp_path / "runs" / "fewer"
    proc = run_make("report", f"PARAMS={params}", f"DATA_DIR={fewer}", f"OUT={out}",
                    f"BUILD_ROOT={tmp_path / 'build'}")
    assert proc.returncode == 0, proc.stderr
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["data"]["folder"] == str(fewer) and not record["data"]["project_data"]
    page = (out / "index.html").read_text(encoding="utf-8")
    top = page[:page.index('class="evt-toc')]
    assert f"<code>{fewer}/</code>, not the project's <code>data/</code>" in top
    assert record["data"]["sha256"] in top
    assert "Its data folder differs from the published report's" in top
    shown = subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "evtreport.diff", str(out),
                            "default"],
                           capture_output=True, text=True, cwd=ROOT)
    assert shown.returncode == 0, shown.stderr
    assert f"Data folder: {fewer}/ (SHA-256 {record['data']['sha256'][:12]}…) -> data/" in shown.stdout
    assert "Parameters: the same" in shown.stdout
    moved = shown.stdout.split("Main estimates that moved")[1].split("Only in run")[0]
    assert "icass.comparators.reperfusion.pooled" in moved and "3 studies" in moved
    only_new = shown.stdout.split("Only in run 'default'")[1]
    assert "icass.comparators.reperfusion.jia-east  95.7% [85.8–98.8] (45/47)" in only_new


def test_make_runs_builds_one_run_per_parameter_file_and_keeps_going_past_a_bad_one(tmp_path):
    """`make runs PARAMS_DIR=` dispatches `make report PARAMS=<file>` per file (dry run: no build);
    a file make refuses (a name with '@') fails its own run, the others still go, make exits 2."""
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    for name in ("a.yaml", "b.yaml", "0bad@name.yaml"):
        shutil.copy(ROOT / "params" / "excellent.yaml", sweep / name)
    (sweep / "notes.txt").write_text("not a parameter file")
    proc = run_make("-n", "runs", f"PARAMS_DIR={sweep}")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    runs = sorted(re.findall(r"render --run (\S+) ", out))
    assert [r.split("@")[0] for r in runs] == ["a", "b"], out
    assert "0bad@name.yaml: a parameter file path may hold only" in out, out


def test_make_runs_names_an_empty_folder_and_refuses_one_out(tmp_path):
    proc = run_make("runs", f"PARAMS_DIR={tmp_path}")
    assert proc.returncode == 2
    assert f"PARAMS_DIR={tmp_path}: no *.yaml parameter file" in proc.stderr
    proc = run_make("-n", "runs", f"OUT={tmp_path}/x")
    assert proc.returncode == 2 and "cannot be given to `make runs`" in proc.stderr
