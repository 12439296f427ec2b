"""Key numbers of the claims, audit and methods chapters, derived by hand from data/."""

import csv
import os
from collections import Counter
from pathlib import Path

import pytest

from evtreport import auditview, claims, methods, params
from evtreport.data import load_dataset
from conftest import ROOT

DATA = Path(os.environ.get("EVTREPORT_DATA_DIR", ROOT / "data"))


@pytest.fixture(scope="module")
def ds():
    return load_dataset(DATA)


def read(name):
    with open(DATA / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_verdict_counts_match_the_claims_file(ds):
    by_hand = Counter(r["verdict"] for r in read("claims.csv"))
    table = claims.verdict_counts(ds)
    assert dict(zip(table["Verdict"], table["Claims"])) == {v: by_hand.get(v, 0) for v in claims.VERDICTS}
    assert table["Claims"].sum() == len(read("claims.csv"))


def test_the_rct_efficacy_claim_is_contradicted_with_trial_evidence(ds):
    row = next(r for r in read("claims.csv") if "ANGEL-DISTAL" in r["claim"])
    assert row["verdict"] == "contradicted"
    table = claims.claims_table(ds)
    cell = table.loc[table["#"] == row["claim_id"].rsplit(".c", 1)[1], "Evidence in data/"].iloc[0]
    assert "Against:" in cell and "ESCAPE-MeVO (Goyal 2025), EVT arm: Excellent outcome (mRS 0–1), 106/255" in cell


def test_every_cited_evidence_row_has_an_anchor_with_its_quote(ds):
    cited = {x for r in read("claims.csv") for k in ("supporting_rows", "contradicting_rows")
             for x in r[k].split(";") if x}
    table = claims.evidence_rows_table(ds)
    assert len(table) == len(cited)
    for rid in cited:
        assert any(f'id="row-{rid}"' in cell for cell in table["Data row"])


def test_audit_flags_the_truncated_smoking_percentage_and_the_impossible_lee_percentage(ds):
    audit = auditview.audit_dataset(ds)
    smoking = audit[audit["row_id"] == "icassm1-2022.bl.smoking"]
    assert list(smoking["status"]) == ["rounding"]  # 8/22 = 36.36 %, printed 36.3
    assert round(100 * 8 / 22, 2) == 36.36
    lee = audit[(audit["row_id"] == "lee-2018.embolic.functional_independence")]
    assert list(lee["status"]) == ["impossible"]   # no k/421 prints as 54.5 %
    assert not any(round(100 * k / 421, 1) == 54.5 for k in range(422))
    summary = auditview.status_summary(audit)
    assert summary["Figures"].sum() == len(audit)


def test_methods_text_follows_the_parameters():
    text = methods.statistical_methods(params.DEFAULTS)
    assert "Wilson score interval at the 95% level" in text
    assert "restricted maximum likelihood (REML)" in text and "Wald intervals" in text
    strict = dict(params.DEFAULTS, ci_method="clopper-pearson", hksj=True, model="fixed",
                  favourable_mrs_max=1, confidence_level=0.9)
    text = methods.statistical_methods(strict)
    assert "Clopper-Pearson exact interval at the 90% level" in text
    assert "common-effect" in text and "Hartung-Knapp" in text and "score of 0–1" in text


def test_reference_list_has_every_source(ds):
    assert len(methods.references(ds)) == len(read("sources.csv"))
