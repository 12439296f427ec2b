"""The claims check: each claim of the DMVO Q&A source, its verdict and the evidence rows."""

from __future__ import annotations

import html

import pandas as pd

from .present.common import describe_row, study_label

VERDICTS = ("supported", "partly supported", "contradicted", "not verifiable")


def _split(cell: str) -> list[str]:
    return [x.strip() for x in (cell or "").split(";") if x.strip()]


def _verdict_html(verdict: str) -> str:
    cls = verdict.replace(" ", "-")
    return f'<span class="evt-verdict evt-verdict-{cls}">{html.escape(verdict)}</span>'


def _evidence_html(ds, row_ids: list[str]) -> str:
    items = [f'<li><a href="#row-{html.escape(r)}">{html.escape(describe_row(ds, r))}</a></li>'
             for r in row_ids]
    return f"<ul>{''.join(items)}</ul>" if items else "–"


def verdict_counts(ds) -> pd.DataFrame:
    counts = ds.claims["verdict"].value_counts()
    return pd.DataFrame({"Verdict": list(VERDICTS),
                         "Claims": [int(counts.get(v, 0)) for v in VERDICTS]})


def claims_table(ds) -> pd.DataFrame:
    """Reader table (HTML cells): the claim, the verdict with its reason, the evidence."""
    rows = []
    for _, c in ds.claims.iterrows():
        cited = ", ".join(study_label(ds, s) for s in _split(c["cited_source_id"])) or "not identified"
        ref = f"ref. {html.escape(c['cited_ref'])}, " if c["cited_ref"] else ""
        evidence = []
        for title, key in (("For", "supporting_rows"), ("Against", "contradicting_rows")):
            ids = _split(c[key])
            if ids:
                evidence.append(f"<strong>{title}:</strong>{_evidence_html(ds, ids)}")
        rows.append({
            "#": c["claim_id"].rsplit(".", 1)[-1].lstrip("c"),
            "Claim (quoted from the Q&A)": f"“{html.escape(c['claim'])}”"
                                           f"<br><small>Section: {html.escape(c['section'])}; "
                                           f"cites {ref}{html.escape(cited)}</small>",
            "Verdict and reason": f"{_verdict_html(c['verdict'])}<br>{html.escape(c['rationale'])}",
            "Evidence in data/": "".join(evidence) or "none found",
        })
    return pd.DataFrame(rows)


def evidence_rows_table(ds) -> pd.DataFrame:
    """Every data row a claim cites, with its location and quote; each row is a link target."""
    ids: list[str] = []
    for _, c in ds.claims.iterrows():
        for r in _split(c["supporting_rows"]) + _split(c["contradicting_rows"]):
            if r not in ids:
                ids.append(r)
    rows = []
    for r in sorted(ids):
        row = ds.row(r)
        rows.append({
            "Data row": f'<code id="row-{html.escape(r)}">{html.escape(r)}</code>',
            "Figure": html.escape(describe_row(ds, r)),
            "Where in the source": html.escape(row["location"]),
            "Quoted text": f"“{html.escape(row['quote'])}”",
        })
    return pd.DataFrame(rows)
