"""Data never becomes markup: a copy of data/ whose every free-text field carries markup and
script payloads builds, and the published HTML holds none of them as live markup (no script,
no event handler, no image or link the data asked for), only as text."""

from __future__ import annotations

import csv
import shutil

import pytest
from bs4 import BeautifulSoup

from conftest import ROOT, run_make

pytestmark = pytest.mark.slow

PAYLOAD = (' <img src=x onerror="alert(1)"> <script>alert(2)</script> [click](javascript:alert(3))'
           ' **bold** <a href="javascript:alert(4)">a</a> $\\frac$ | `code`')
# Free-text columns that analyses never match on (a suffix keeps every prefix they test).
POISON = {
    "sources.csv": ("authors", "title", "journal", "notes", "label"),
    "outcomes.csv": ("definition", "location", "quote", "notes"),
    "effects.csv": ("definition", "comparison", "location", "quote", "notes"),
    "baseline.csv": ("location", "quote"),
    "distributions.csv": ("location", "quote"),
    "quotes.csv": ("quote", "use"),
    "claims.csv": ("claim", "rationale"),
    "trials.csv": ("value", "quote", "notes"),
    "risk_of_bias.csv": ("quote", "rationale", "notes"),
}


def _poison(ddir):
    for name, cols in POISON.items():
        path = ddir / name
        if not path.exists():
            continue
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            fields, rows = reader.fieldnames, list(reader)
        for r in rows:
            for c in cols:
                if c in r and r[c]:
                    r[c] = r[c] + PAYLOAD
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)


@pytest.fixture(scope="module")
def poisoned_report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("poison")
    ddir = tmp / "data"
    shutil.copytree(ROOT / "data", ddir)
    _poison(ddir)
    proc = run_make("report", f"DATA_DIR={ddir}", f"OUT={tmp / 'report'}", f"BUILD_ROOT={tmp / 'build'}")
    assert proc.returncode == 0, f"the build failed on markup in the data:\n{proc.stdout}\n{proc.stderr}"
    return (tmp / "report" / "index.html").read_text(encoding="utf-8")


def test_no_payload_is_live_markup(poisoned_report):
    soup = BeautifulSoup(poisoned_report, "html.parser")
    assert soup.find_all("script") == []
    handlers = [(t.name, a) for t in soup.find_all(True) for a in t.attrs if a.lower().startswith("on")]
    assert handlers == []
    assert [i["src"] for i in soup.find_all("img") if not i.get("src", "").startswith("data:image/png")] == []
    assert [a["href"] for a in soup.find_all("a", href=True)
            if not a["href"].startswith(("#", "http://", "https://"))] == []
    assert soup.find_all("strong", string="bold") == []


def test_payloads_are_printed_as_text(poisoned_report):
    text = BeautifulSoup(poisoned_report, "html.parser").get_text(" ")
    assert "<script>alert(2)</script>" in text
    assert 'onerror="alert(1)"' in text
    assert "[click](javascript:alert(3))" in text
