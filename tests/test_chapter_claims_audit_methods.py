"""Key numbers of the claims, audit and methods chapters, derived by hand from data/."""

import csv
import os
import re
from collections import Counter
from pathlib import Path

import pytest

from evtreport import auditview, claims, methods, params, rubric
from evtreport.data import load_dataset
from evtreport.results import Results
from conftest import ROOT

DATA = Path(os.environ.get("EVTREPORT_DATA_DIR", ROOT / "data"))


@pytest.fixture(scope="module")
def ds():
    return load_dataset(DATA)


def read(name):
    with open(DATA / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def assessment(ds):
    return claims.assess(ds)


def test_every_claim_has_quote_location_and_rule(ds, assessment):
    claim_rows = read("claims.csv")
    check_rows = read("claim_checks.csv")
    assert {r["document"] for r in claim_rows} == set(claims.DOCUMENTS.values())
    for r in claim_rows:
        assert r["claim"].strip() and r["location"].strip(), r["claim_id"]
        mine = [c for c in check_rows if c["claim_id"] == r["claim_id"]]
        assert mine and all(c["rule"] in rubric.RULES for c in mine), r["claim_id"]
        assert all(c["assertion"] in r["claim"] for c in mine), r["claim_id"]
        assert assessment.claim(r["claim_id"]).verdict.rules, r["claim_id"]
    table = claims.claims_table(ds, assessment, "qa")
    assert table["Verdict, rule and checks"].str.contains("Rule applied: ").all()


def test_verdict_tables_count_every_claim_of_each_document(assessment):
    by_doc = Counter(r["document"] for r in read("claims.csv"))
    for doc, source in claims.DOCUMENTS.items():
        table = claims.verdict_counts(assessment, doc)
        assert list(table["Verdict"]) == list(rubric.LABELS.values())
        assert table["Claims"].sum() == by_doc[source]


def results_rows(prefix):
    path = ROOT / "report" / "results.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        return {r["id"]: r for r in csv.DictReader(fh) if r["id"].startswith(prefix)}


@pytest.mark.parametrize("doc", ["qa", "icass"])
def test_verdict_counts_in_results_match_the_table(assessment, doc):
    """The published report/results.csv rows claims.verdict.* / claims.icass.verdict.*."""
    prefix = f"{claims.RESULT_PREFIX[doc]}.verdict."
    published = results_rows(prefix)
    table = claims.verdict_counts(assessment, doc)
    expected = {prefix + key: n for key, n in zip(rubric.KEYS, table["Claims"])}
    assert {k: int(r["estimate"]) for k, r in published.items()} == expected
    assert {int(r["total"]) for r in published.values()} == {int(table["Claims"].sum())}


def test_recorded_results_match_the_tables(ds, assessment):
    res = Results("claims")
    claims.record_results(res, assessment)
    got = {r["id"]: int(r["estimate"]) for r in res.rows}
    for doc in claims.DOCUMENTS:
        table = claims.verdict_counts(assessment, doc)
        for key, n in zip(rubric.KEYS, table["Claims"]):
            assert got[f"{claims.RESULT_PREFIX[doc]}.verdict.{key}"] == n
        spin = claims.spin_table(ds, assessment)
        col = "Q&A claims" if doc == "qa" else "ICASS-M1 paper claims"
        assert spin[col].sum() == table["Claims"].sum()
    assert "claims.icass.verdict.not_verifiable_from_design" in got


def effect_ci(row_id):
    row = next(r for r in read("effects.csv") if r["row_id"] == row_id)
    return float(row["ci_low"]), float(row["ci_high"])


def test_known_re_ratings(assessment):
    """c12: its mortality interval reaches 1.00; c04 drops 'although the benefits are
    uncertain'; c14 ('acceptable') and c15 ('safe') are now rated by the same rules."""
    assert effect_ci("salim-2025.mortality_90d.aor")[1] == 1.0
    c12 = assessment.claim("qa-dmvo-2025.c12")
    assert (c12.previous, c12.key) == ("supported", "partly_supported")
    assert "effect-interval" in c12.verdict.rules
    c04 = assessment.claim("qa-dmvo-2025.c04")
    assert (c04.previous, c04.key) == ("supported", "partly_supported")
    assert c04.verdict.rules == ("qualifier-dropped",)
    quote = next(r["quote"] for r in read("claim_checks.csv")
                 if r["claim_id"] == "qa-dmvo-2025.c04" and r["rule"] == "qualifier-dropped")
    assert quote.startswith("although the benefits are uncertain")
    assert "although the benefits are uncertain" not in next(
        r["claim"] for r in read("claims.csv") if r["claim_id"] == "qa-dmvo-2025.c04")
    c14, c15 = assessment.claim("qa-dmvo-2025.c14"), assessment.claim("qa-dmvo-2025.c15")
    assert c14.key == c15.key == "partly_supported"
    assert "safety-comparator" in c14.verdict.rules and "safety-comparator" in c15.verdict.rules


def test_the_rct_efficacy_claim_is_contradicted_with_trial_evidence(ds, assessment):
    row = next(r for r in read("claims.csv") if "ANGEL-DISTAL" in r["claim"])
    assert assessment.claim(row["claim_id"]).key == "contradicted"
    lo, hi = effect_ci("distal-2025.mrs_shift.cor")
    assert lo < 1 < hi
    table = claims.claims_table(ds, assessment, "qa")
    cell = table.loc[table["#"] == row["claim_id"].rsplit(".", 1)[1], "Evidence in data/"].iloc[0]
    assert "Against:" in cell and "ESCAPE-MeVO (Goyal 2025), EVT arm: Excellent outcome (mRS 0–1), 106/255" in cell


def test_icass_safety_and_staged_stenting_claims(assessment):
    """The paper's tirofiban claim has no comparator; its Discussion's '6 ... needed staged
    stenting' contradicts its own Results (5 of 6)."""
    staged = next(r for r in read("outcomes.csv") if r["row_id"] == "icassm1-2022.staged_stenting")
    assert (staged["events"], staged["total"]) == ("5", "6")
    for k in ("k05", "k06"):
        c = assessment.claim(f"icassm1-2022.{k}")
        assert c.key == "not_verifiable_from_design" and c.verdict.rules == ("safety-comparator",)
    assert assessment.claim("icassm1-2022.k08").key == "contradicted"
    for k in ("k01", "k03"):   # 'safe and effective': neither part verifiable, rescue given
        checks = {r.rule: r.verdict for r in assessment.claim(f"icassm1-2022.{k}").verdict.checks}
        assert checks["safety-comparator"] == checks["effect-interval"] == "not_verifiable_from_design"


COHORT_TEXT = ROOT.parent / "shared" / "sources" / "004_8c29ec8a956b3bfc.txt"
if not COHORT_TEXT.exists():
    COHORT_TEXT = Path("/work/shared/sources/004_8c29ec8a956b3bfc.txt")


def _plain(text):
    return " ".join(re.sub(r"-\n\s*", "", text).split()).replace("-", "")


@pytest.mark.skipif(not COHORT_TEXT.exists(), reason="shared/sources not available")
def test_every_conclusion_sentence_of_the_paper_is_a_claim():
    text = COHORT_TEXT.read_text(encoding="utf-8")
    abstract = re.search(r"Conclusions:\s*(.*?)\n Background", text, re.S).group(1)
    final = re.search(r"\nConclusions\n(.*)$", text, re.S).group(1)
    quoted = [_plain(r["claim"]) for r in read("claims.csv") if r["document"] == "icassm1-2022"]
    for part in (abstract, final):
        joined = " ".join(re.sub(r"-\n\s*", "", part).split())
        sentences = [s for s in re.split(r"(?<=\.)\s+(?=[A-Z])", joined) if s]
        assert len(sentences) >= 2
        for s in sentences:
            assert _plain(s) in quoted, s
    for r in read("claims.csv"):
        if r["document"] == "icassm1-2022":
            assert _plain(r["claim"]) in _plain(text), r["claim_id"]


def test_every_cited_evidence_row_has_an_anchor_with_its_quote(ds):
    cited = {x for r in read("claims.csv") for k in ("supporting_rows", "contradicting_rows")
             for x in r[k].split(";") if x}
    cited |= {x for r in read("claim_checks.csv") for x in r["rows"].split(";") if x}
    cited |= {x for r in read("design_limits.csv") for x in r["rows"].split(";") if x}
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
