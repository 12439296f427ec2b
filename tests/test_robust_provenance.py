"""Provenance: what "built from git commit X" says, in a scratch git repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from evtreport.provenance import git_commit


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org",
                           "-c", "commit.gpgsign=false", *args], cwd=repo, check=True,
                          capture_output=True, text=True).stdout.strip()


def short(repo: Path, rev: str = "HEAD") -> str:
    return git(repo, "rev-parse", "--short=10", rev)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """src/ and data/ (inputs), report/ (committed output), build/ ignored."""
    r = tmp_path / "repo"
    for rel, text in {"src/a.py": "x = 1\n", "data/d.csv": "a\n1\n",
                      "report/index.html": "<p>old</p>\n", ".gitignore": "build/\n"}.items():
        (r / rel).parent.mkdir(parents=True, exist_ok=True)
        (r / rel).write_text(text)
    git(r, "init", "-q")
    git(r, "add", "-A")
    git(r, "commit", "-qm", "inputs")
    return r


def test_a_clean_checkout_names_its_commit(repo):
    assert git_commit(repo) == short(repo)


def test_the_reports_own_outputs_are_not_changes(repo):
    (repo / "report" / "index.html").write_text("<p>rebuilt</p>\n")
    (repo / "report" / "runs").mkdir()
    (repo / "report" / "runs" / "x.csv").write_text("new\n")
    (repo / "build").mkdir()
    (repo / "build" / "params.yaml").write_text("a: 1\n")
    assert git_commit(repo) == short(repo)


def test_committing_a_rebuilt_report_keeps_the_commit_it_was_built_from(repo):
    built_from = short(repo)
    (repo / "report" / "index.html").write_text(f"<p>built from {built_from}</p>\n")
    git(repo, "commit", "-qam", "Rebuild the report")
    assert short(repo) != built_from
    assert git_commit(repo) == built_from, "a rebuild would print another commit"


@pytest.mark.parametrize("change", ["edit", "untracked", "delete"])
def test_changed_inputs_are_flagged(repo, change):
    if change == "edit":
        (repo / "src" / "a.py").write_text("x = 2\n")
    elif change == "untracked":
        (repo / "src" / "b.py").write_text("y = 1\n")
    else:
        (repo / "data" / "d.csv").unlink()
    assert git_commit(repo) == short(repo) + "+changes"


def test_a_new_input_commit_is_named(repo):
    (repo / "src" / "a.py").write_text("x = 3\n")
    git(repo, "commit", "-qam", "change code")
    assert git_commit(repo) == short(repo)


def test_not_a_checkout(tmp_path):
    assert git_commit(tmp_path).startswith("unknown")
