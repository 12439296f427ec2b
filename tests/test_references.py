"""References that import: CSL-JSON and BibTeX exported from data/sources.csv, and the
report's reference list in Vancouver style (citeproc-py), linked to DOI and PubMed."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from evtreport import methods
from evtreport import references as R
from evtreport.data import load_dataset


@pytest.fixture(scope="module")
def ds():
    return load_dataset()


def source(**kw):
    s = dict.fromkeys(("source_id", "authors", "year", "title", "journal", "volume_pages",
                       "doi", "pmid", "url", "design", "cohort", "notes", "label"), "")
    s.update(kw)
    return s


def test_author_lists_as_the_curators_wrote_them():
    assert R.authors("Goyal M, Ospel JM, et al.; ESCAPE-MeVO Investigators") == [
        {"family": "Goyal", "given": "M."}, {"family": "Ospel", "given": "J. M."},
        {"literal": "et al."}, {"literal": "ESCAPE-MeVO Investigators"}]
    assert R.authors("Goyal M, van Zwam WH") == [
        {"family": "Goyal", "given": "M."}, {"family": "van Zwam", "given": "W. H."}]
    assert R.authors("Li et al.") == [{"family": "Li"}, {"literal": "et al."}]
    assert R.authors("Lee, Yoo") == [{"family": "Lee"}, {"family": "Yoo"}]
    assert R.authors("Dr.Oracle Medical Advisory Board & Editors") == [
        {"literal": "Dr.Oracle Medical Advisory Board & Editors"}]
    assert R.authors("Mustafa F (authors as listed elsewhere)") == [{"family": "Mustafa", "given": "F."}]
    assert R.authors("(authors not shown)") == []


def test_csl_item_splits_volume_issue_and_pages(ds):
    item = R.csl_item(ds.source("escape-mevo-2025"))
    assert (item["type"], item["container-title"], item["volume"], item["issue"], item["page"]) == (
        "article-journal", "N Engl J Med", "392", "14", "1385-1395")
    assert item["DOI"] == "10.1056/NEJMoa2411668" and item["issued"] == {"date-parts": [[2025]]}
    assert R.csl_item(source(source_id="x", volume_pages="392:1374-1384"))["page"] == "1374-1384"
    pre = R.csl_item(source(source_id="p", journal="medRxiv (preprint)", doi="10.1101/1"))
    assert (pre["type"], pre["genre"], pre["publisher"]) == ("article", "Preprint", "medRxiv")


def test_vancouver_text_matches_citing_medicine(ds):
    """Written by hand from NLM's Citing Medicine (journal article, more than six authors)."""
    texts = R.vancouver([R.csl_item(ds.source("escape-mevo-2025")),
                         R.csl_item(ds.source("menon-2019"))])
    assert texts["escape-mevo-2025"] == (
        "Goyal M, Ospel JM, Ganesh A, Dowlatshahi D, Volders D, Mohlenbruch MA, et al. "
        "Endovascular Treatment of Stroke Due to Medium-Vessel Occlusion. N Engl J Med. "
        "2025;392(14):1385–95. doi:10.1056/NEJMoa2411668")
    assert texts["menon-2019"].startswith(
        "Menon BK, Hill MD, Davalos A, Roos YBWEM, Campbell BCV, Dippel DWJ, et al. Efficacy of")
    assert texts["menon-2019"].endswith(
        "J NeuroIntervent Surg. 2019;11(11):1065–9. doi:10.1136/neurintsurg-2018-014678 "
        "PubMed PMID: 30975736.")


def test_every_reference_links_its_doi_or_pubmed_record(ds):
    refs = dict(R.reference_list(ds.sources))
    assert set(refs) == set(ds.sources["source_id"])
    for _, s in ds.sources.iterrows():
        if s["doi"]:
            assert f'<a href="https://doi.org/{s["doi"]}">doi:{s["doi"]}</a>' in refs[s["source_id"]]
        if s["pmid"]:
            assert (f'<a href="https://pubmed.ncbi.nlm.nih.gov/{s["pmid"]}/">PMID: {s["pmid"]}</a>'
                    in refs[s["source_id"]])


def test_reference_text_is_escaped():
    df = pd.DataFrame([source(source_id="x", authors="Smith J", title="<b>A</b> & B",
                              journal="J <i>", year="2020", url="https://e.org/?a=1&b=2")])
    (_, ref), = R.reference_list(df)
    assert "<b>" not in ref and "&lt;b&gt;A&lt;/b&gt; &amp; B" in ref and "J &lt;i&gt;" in ref
    assert 'href="https://e.org/?a=1&amp;b=2"' in ref


def test_methods_table_is_the_vancouver_list(ds):
    table = methods.references(ds)
    assert len(table) == len(ds.sources)
    row = table[table["Source id"].str.contains("escape")].iloc[0]
    assert row["Reference"].startswith("Goyal M, Ospel JM, Ganesh A")


def test_csl_json_export_holds_every_source(ds):
    items = json.loads(R.csl_json(ds.sources))
    assert sorted(i["id"] for i in items) == sorted(ds.sources["source_id"])
    assert all(i["type"] in ("article-journal", "article", "webpage") for i in items)
    hermes = next(i for i in items if i["id"] == "hermes-2016")
    assert hermes["DOI"] == "10.1016/S0140-6736(16)00163-X" and hermes["volume"] == "387"


def test_bibtex_export_reads_back_with_an_independent_parser(ds, tmp_path):
    from citeproc.source.bibtex import BibTeX

    path = tmp_path / "references.bib"
    path.write_text(R.bibtex(ds.sources), encoding="utf-8")
    with pytest.warns(UserWarning):  # citeproc-py does not know 'howpublished' / 'pmid'
        bib = BibTeX(str(path))
    assert sorted(bib) == sorted(ds.sources["source_id"])
    e = bib["escape-mevo-2025"]
    assert str(e["title"]) == ds.source("escape-mevo-2025")["title"]
    assert e["DOI"] == ["10.1056/NEJMoa2411668"] and e["page"] == "1385-1395"
    assert [a["family"] for a in e["author"]][:2] == ["Goyal", "Ospel"]
    assert e["author"][-1]["family"] == "others"   # BibTeX's "and others" = et al.
    text = path.read_text(encoding="utf-8")
    assert r"Advisory Board \& Editors" in text
    assert re.search(r"@misc\{mustafa-2025-preprint,", text)
