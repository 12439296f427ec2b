"""Every sentence stays true when studies or parameters change: the text counts trials,
series and patients from the data (fixture with a third trial and a fifth comparator series,
tests/fixtures/more_studies, invented TEST DATA), every template renders under every parameter
file and the hard parameter combinations, and renaming a reader label changes wording only."""

from __future__ import annotations

import csv
import itertools
import math
import shutil
from pathlib import Path

import pytest

from evtreport import analyses, params, vocab
from evtreport.data import load_dataset
from evtreport.text import TEMPLATE_DIR
from conftest import ROOT
from texts import INCLUDED_ONLY, all_texts

FIXTURE = ROOT / "tests" / "fixtures" / "more_studies"
RCTS = ("escape-mevo-2025", "distal-2025")


def _copy_data(tmp: Path) -> Path:
    d = tmp / "data"
    shutil.copytree(ROOT / "data", d)
    return d


@pytest.fixture(scope="module")
def more(tmp_path_factory):
    d = _copy_data(tmp_path_factory.mktemp("more"))
    for f in FIXTURE.glob("*.csv"):
        with open(d / f.name, "a", encoding="utf-8") as fh:
            fh.write(f.read_text(encoding="utf-8"))
    return load_dataset(d)


@pytest.fixture(scope="module")
def ds():
    return load_dataset(ROOT / "data")


def run(ds, **kw):
    return analyses.run(ds, params.validate(kw, known_sources=set(ds.sources["source_id"])))


def test_third_trial_and_fifth_series_are_counted(more):
    b = run(more)
    t = all_texts(b)
    assert "Three randomized trials" in t["dmvo/trials_intro.block.j2"]
    # 530 + 543 + 300 randomized (the fixture's 150 + 150)
    assert "1373 patients randomized" in t["dmvo/trials_intro.block.j2"]
    assert "**Only three trials.**" in t["dmvo/rct_caveats.block.j2"]
    assert "three trials" in t["dmvo/hksj_note.md.j2"] and "2 degrees of freedom" in t["dmvo/hksj_note.md.j2"]
    assert "Three randomized trials" in t["summary/key_findings.block.j2"]
    assert "three trials" in t["dmvo/outcome.md.j2:mortality"]
    # three trials: a prediction interval is drawn, with t on k - 2 = 1 degree of freedom
    assert b["dmvo.rct.mortality"].result.k == 3 and not math.isnan(b["dmvo.rct.mortality"].result.pi_low)
    assert "prediction interval (t with 1 degree of freedom)" in t["dmvo/forest_caption.md.j2:mortality"]
    assert "five other series" in t["icass/comparators_intro.md.j2"]
    assert "four comparator series" in t["icass/pooled.md.j2"]
    assert "four comparator series" in t["summary/key_findings.block.j2"]
    assert "five other series" in t["summary/intro.md.j2"]


def test_one_trial_left_is_said_and_nothing_pooled(ds):
    b = run(ds, exclude_studies=["distal-2025"])
    t = all_texts(b)
    assert "One randomized trial" in t["dmvo/trials_intro.block.j2"]
    assert "One randomized trial" in t["summary/key_findings.block.j2"]
    for fam in ("favourable", "mortality", "sich"):
        assert b[f"dmvo.rct.{fam}"].k == 1
        assert "nothing was pooled" in t[f"dmvo/outcome.md.j2:{fam}"]
    assert "pooled crude" not in t["dmvo/summary.block.j2"]
    assert "At most one trial per outcome" in t["dmvo/rct_caveats.block.j2"]


def test_no_trial_and_no_comparator_left(ds):
    comparators = ["dobrocky-icas-m1", "lee-2018", "jia-east", "yang-icas-tirofiban", "li-icas-lvo-meta"]
    b = run(ds, exclude_studies=list(RCTS) + comparators + ["rodriguez-calienes-2023"])
    t = all_texts(b)
    assert "No randomized trial" in t["dmvo/trials_intro.block.j2"]
    assert "no trial gave usable arm counts" in t["summary/key_findings.block.j2"]
    assert "No comparator series gives a usable count" in t["icass/pooled.md.j2"]
    assert "No meta-analysis of observational series is in this run" in t["dmvo/meta_intro.md.j2"]
    assert b["dmvo.obs.meta"].rows.empty


def test_every_template_is_exercised(ds):
    rendered = {k.split(":")[0] for k in all_texts(run(ds))}
    files = {str(p.relative_to(TEMPLATE_DIR)) for p in TEMPLATE_DIR.rglob("*.j2")
             if p.parts[len(TEMPLATE_DIR.parts)] in ("dmvo", "icass", "summary", "compare", "methods")}
    assert files - rendered - INCLUDED_ONLY == set()


@pytest.mark.parametrize("params_file", sorted((ROOT / "params").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_template_renders_under_every_parameter_file(ds, more, params_file):
    values = params.load(params_file, known_sources=set(ds.sources["source_id"]))
    for data in (ds, more):
        texts = all_texts(analyses.run(data, values))
        assert all(texts.values())


# -- every allowed combination runs, and no rate leaves [0, 1] ---------------------------------

# Every value of every parameter at least once (the parameter file tests add the shipped
# combinations, HARD the difficult ones).
GRID = [
    dict(transform="logit", hksj=False, model="random", two_arm_measure="RR", ci_method="wilson"),
    dict(transform="ft", hksj=True, model="fixed", two_arm_measure="OR", ci_method="wald"),
    dict(transform="raw", hksj=True, model="random", two_arm_measure="RD", ci_method="clopper-pearson"),
    dict(transform="raw", hksj=False, model="fixed", two_arm_measure="RR", ci_method="jeffreys"),
    dict(transform="ft", hksj=False, model="random", two_arm_measure="RD", ci_method="agresti-coull",
         tau2_method="DL"),
    dict(transform="logit", hksj=True, model="random", two_arm_measure="OR", tau2_method="PM",
         favourable_mrs_max=1, use_derived=False, dmvo_subgroup="primary"),
    dict(use_percent_only=False, dmvo_subgroup="secondary", confidence_level=0.9),
]
HARD = [
    dict(transform="raw", hksj=True, confidence_level=0.999, ci_method="wald"),
    dict(transform="raw", hksj=True, tau2_method="PM", use_derived=False, use_percent_only=False),
    dict(tau2_method="DL", favourable_mrs_max=1, dmvo_subgroup="primary", ci_method="clopper-pearson"),
    dict(tau2_method="PM", confidence_level=0.5, ci_method="jeffreys", dmvo_subgroup="secondary"),
    dict(ci_method="agresti-coull", exclude_studies=list(RCTS), two_arm_measure="RD"),
    dict(model="fixed", hksj=True, transform="ft", exclude_studies=["jia-east", "lee-2018"]),
]


def _rates_in_unit_interval(b):
    for sec in ("dmvo", "icass", "compare", "methods"):
        for r in b.rows(sec).rows:
            if r["measure"] not in ("proportion", ""):
                continue
            for c in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
                if r[c]:
                    assert 0.0 <= float(r[c]) <= 1.0, (r["id"], c, r[c])


@pytest.mark.parametrize("over", GRID + HARD, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items())[:80])
def test_parameter_grid_runs_every_analysis(ds, over):
    b = run(ds, **over)
    for k in analyses.KEYS:
        b[k]
    _rates_in_unit_interval(b)
    assert all(all_texts(b).values())


def test_raw_scale_with_hksj_truncates_the_rate_interval(ds):
    # the sensitivity table once printed 83.8% [51.4-116.2]
    b = run(ds, transform="raw", hksj=True)
    est = b["icass.comparators.reperfusion"].estimate
    assert 0 <= est[1] <= est[0] <= est[2] <= 1


# -- renaming a reader label changes wording only ----------------------------------------------

def test_renaming_labels_changes_wording_and_nothing_else(ds, tmp_path, monkeypatch):
    d = _copy_data(tmp_path)
    path = d / "vocabulary.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["label"] = "Renamed " + r["label"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=vocab.COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    before = {s: analyses.run(ds, params.DEFAULTS).rows(s).rows for s in ("dmvo", "icass", "compare", "methods")}
    text_before = all_texts(analyses.run(ds, params.DEFAULTS))
    monkeypatch.setenv("EVTREPORT_DATA_DIR", str(d))
    renamed = load_dataset(d)
    b = analyses.run(renamed, params.DEFAULTS)
    after = {s: b.rows(s).rows for s in before}
    text_after = all_texts(b)
    numeric = ("id", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "events", "total", "k_studies")
    for s in before:
        assert [{c: r[c] for c in numeric} for r in before[s]] == [{c: r[c] for c in numeric} for r in after[s]]
    assert "Renamed" in text_after["dmvo/forest_caption.md.j2:mortality"] or \
        "Renamed" in text_after["methods/sensitivity.block.j2"]
    assert text_before != text_after
