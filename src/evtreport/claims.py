"""The claims check: the claims of the DMVO Q&A and of the ICASS-M1 paper, rated by the rubric.

`assess` rates every claim (src/evtreport/rubric.py applies the rules to the inputs in
data/claim_checks.csv) into a frozen `Assessment` addressed by machine keys: documents
(`qa`, `icass`), verdicts (rubric.KEYS) and spin strategies (data/spin_strategies.csv).
The tables and sentences below are built from it; every data string reaches HTML through the
templates in text_templates/claims/ (autoescaped).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd

from . import display as fmt
from . import rubric, text
from .present.common import describe_row, study_label
from .vocab import outcome_label

#: document key -> source_id of the document whose claims are checked
DOCUMENTS = {"qa": "qa-dmvo-2025", "icass": "icassm1-2022"}
#: document key -> prefix of its rows in results.csv
RESULT_PREFIX = {"qa": "claims", "icass": "claims.icass"}
COHORT = {"qa": "DMVO", "icass": "ICASS-M1"}
NO_SPIN = "none"

VERDICTS = rubric.KEYS
LABELS = rubric.LABELS


# =============================================================================================
# Analysis: numbers only
# =============================================================================================

@dataclass(frozen=True)
class ClaimResult:
    claim_id: str
    document: str                 # document key
    verdict: rubric.ClaimVerdict
    previous: str | None          # verdict key of the earlier check, if any
    spin: str                     # spin_id or NO_SPIN

    @property
    def key(self) -> str:
        return self.verdict.verdict

    @property
    def number(self) -> str:
        """'c07', 'k01': the claim's id within its document."""
        return self.claim_id.rsplit(".", 1)[-1]

    @property
    def changed(self) -> bool:
        return self.previous is not None and self.previous != self.key


@dataclass(frozen=True)
class Assessment:
    claims: tuple[ClaimResult, ...]
    spin_ids: tuple[str, ...]     # strategy ids in the order of spin_strategies.csv

    def of(self, doc: str) -> tuple[ClaimResult, ...]:
        return tuple(c for c in self.claims if c.document == doc)

    def counts(self, doc: str) -> dict[str, int]:
        n = Counter(c.key for c in self.of(doc))
        return {k: n.get(k, 0) for k in VERDICTS}

    def spin_counts(self, doc: str) -> dict[str, int]:
        n = Counter(c.spin for c in self.of(doc))
        return {k: n.get(k, 0) for k in self.spin_ids + (NO_SPIN,)}

    def changes(self, doc: str) -> tuple[ClaimResult, ...]:
        return tuple(c for c in self.of(doc) if c.changed)

    def claim(self, claim_id: str) -> ClaimResult:
        return next(c for c in self.claims if c.claim_id == claim_id)


def document_key(source_id: str) -> str:
    for key, sid in DOCUMENTS.items():
        if sid == source_id:
            return key
    raise ValueError(f"claims of document {source_id!r}: expected one of "
                     f"{', '.join(DOCUMENTS.values())}")


def assess(ds, params: dict[str, Any] | None = None) -> Assessment:
    """Rate every claim of data/claims.csv by the rubric."""
    from .params import DEFAULTS, alpha
    p = params or DEFAULTS
    checks = ds.claim_checks
    out = []
    for _, c in ds.claims.iterrows():
        rows = checks[checks["claim_id"] == c["claim_id"]]
        results = [rubric.rate_check(r, ds, ci_method=p["ci_method"], alpha=alpha(p))
                   for _, r in rows.iterrows()]
        out.append(ClaimResult(
            c["claim_id"], document_key(c["document"]), rubric.combine(c["claim_id"], results),
            rubric.key_of(c["previous_verdict"]) if c["previous_verdict"] else None,
            c["spin"]))
    spin = ds.spin_strategies
    return Assessment(tuple(out), tuple(spin.loc[spin["kind"] == "strategy", "spin_id"]))


def record_results(results, a: Assessment) -> None:
    """results.csv rows: verdict counts and spin counts per document (every key, zeros too)."""
    for doc in DOCUMENTS:
        n = len(a.of(doc))
        for key, k in a.counts(doc).items():
            results.add(f"{RESULT_PREFIX[doc]}.verdict.{key}", cohort=COHORT[doc],
                        outcome="claims", analysis="claims check", estimate=k, total=n,
                        method="verdict count (rubric)", sources=DOCUMENTS[doc])
        for key, k in a.spin_counts(doc).items():
            results.add(f"{RESULT_PREFIX[doc]}.spin.{key}", cohort=COHORT[doc],
                        outcome="spin", analysis="spin classification", estimate=k, total=n,
                        method="claims per spin strategy", sources=DOCUMENTS[doc])


# =============================================================================================
# Presentation: tables (HTML cells rendered by templates)
# =============================================================================================

def _split(cell: str) -> list[str]:
    return [x.strip() for x in (cell or "").split(";") if x.strip()]


def _claims_of(ds, doc: str) -> pd.DataFrame:
    return ds.claims[ds.claims["document"] == DOCUMENTS[doc]]


def verdict_counts(a: Assessment, doc: str) -> pd.DataFrame:
    counts = a.counts(doc)
    return pd.DataFrame({"Verdict": [LABELS[k] for k in VERDICTS],
                         "Claims": [counts[k] for k in VERDICTS]})


def rules_table() -> pd.DataFrame:
    return pd.DataFrame([{"Rule": r.name, "Applies when": r.applies,
                          "What it needs, and the verdict": r.asks}
                         for r in rubric.RULES.values()])


#: names for outcomes that evidence.OUTCOME_LABELS leaves to their slug
_OUTCOME_NAMES = {
    "rescue_stenting": "rescue balloon angioplasty with stenting",
    "rescue_angioplasty_alone": "rescue balloon angioplasty alone",
    "staged_stenting": "staged stenting",
    "failed_first_evt": "failed recanalization at the first EVT",
    "rescue_treatment": "rescue treatment",
}


def describe(ds, row_id: str) -> str:
    """One plain line for any data row (outcomes, effects, baseline)."""
    row = ds.row(row_id)
    if "statistic" not in row.index:
        line = describe_row(ds, row_id)
        name = _OUTCOME_NAMES.get(row["outcome"])
        fallback = outcome_label(row["outcome"])
        return line.replace(f": {fallback},", f": {name},", 1) if name else line
    who = study_label(ds, row["source_id"])
    if row["statistic"] == "count":
        pct = "" if math.isnan(row["reported_percent"]) else f" ({row['reported_percent']:g}%)"
        return f"{who}: {row['variable']}, {int(row['count'])}/{int(row['total'])}{pct}"
    sd = "" if math.isnan(row["sd"]) else f" ± {row['sd']:g}"
    return f"{who}: {row['variable']}, mean {row['value']:g}{sd} {row['unit']}".rstrip()


def _test_view(ds, t: rubric.Test) -> dict[str, Any]:
    view = {"row_id": t.row_id, "text": describe(ds, t.row_id),
            "word": rubric.OUTCOME_WORDS[t.outcome]}
    if t.stated:
        view["word"] += f" (the claim states {t.stated})"
    return view


#: reasons that only repeat the rule's name (not shown next to it)
_SELF_EVIDENT = {"curators-reading", "qualifier", "not-found", "not-measured"}


def _check_view(ds, check_row: pd.Series, res: rubric.CheckResult) -> dict[str, Any]:
    tests = {t.row_id: t for t in res.tests}
    rows = [_test_view(ds, tests[r]) if r in tests else
            {"row_id": r, "text": describe(ds, r), "word": ""} for r in _split(check_row["rows"])]
    limits = _split(check_row["design_limits"])
    limit_labels = [ds.design_limits.set_index("limit_id").loc[x, "limit"] for x in limits]
    return {"assertion": check_row["assertion"], "verdict": res.verdict,
            "label": LABELS[res.verdict], "rule": rubric.RULES[res.rule].name,
            "reason": None if res.reason in _SELF_EVIDENT else rubric.REASONS[res.reason],
            "note": check_row["note"], "rows": rows,
            "quote": check_row["quote"], "location": check_row["location"],
            "limits": list(zip(limits, limit_labels))}


def _verdict_context(ds, c: pd.Series, res: ClaimResult) -> dict[str, Any]:
    checks = ds.claim_checks.set_index("check_id")
    return {"verdict": res.key, "label": LABELS[res.key], "css": res.key.replace("_", "-"),
            "rules": [rubric.RULES[r].name for r in res.verdict.rules],
            "checks": [_check_view(ds, checks.loc[r.check_id].rename(r.check_id), r)
                       for r in res.verdict.checks],
            "rationale": c["rationale"]}


def _claim_cell(ds, c: pd.Series) -> str:
    cited = [study_label(ds, s) for s in _split(c["cited_source_id"])]
    spin = ds.spin_strategies.set_index("spin_id")
    return str(text.render("claims/cell_claim.html.j2", claim=c["claim"], location=c["location"],
                           ref=c["cited_ref"], cited=cited,
                           spin=None if c["spin"] == NO_SPIN else spin.loc[c["spin"], "label"]))


def claims_table(ds, a: Assessment, doc: str) -> pd.DataFrame:
    """Reader table (HTML cells): the claim, its verdict with the rules and checks, and the
    evidence for and against (Q&A) or the design limits the verdict rests on (ICASS-M1)."""
    rows = []
    for _, c in _claims_of(ds, doc).iterrows():
        res = a.claim(c["claim_id"])
        row = {"#": res.number,
               "Claim (quoted)": _claim_cell(ds, c),
               "Verdict, rule and checks": str(text.render("claims/cell_verdict.html.j2",
                                                           **_verdict_context(ds, c, res)))}
        if doc == "icass":
            limits = []
            for r in res.verdict.checks:
                for lid in _split(ds.claim_checks.set_index("check_id").loc[r.check_id,
                                                                             "design_limits"]):
                    if lid not in limits:
                        limits.append(lid)
            lim = ds.design_limits.set_index("limit_id")
            row["Design limits"] = str(text.render(
                "claims/cell_limits.html.j2", limits=[(x, lim.loc[x, "limit"]) for x in limits]))
        else:
            row["Evidence in data/"] = str(text.render(
                "claims/cell_evidence.html.j2",
                groups=[(title, [(r, describe(ds, r)) for r in _split(c[key])])
                        for title, key in (("For", "supporting_rows"),
                                           ("Against", "contradicting_rows"))]))
        rows.append(row)
    return pd.DataFrame(rows)


def design_limits_table(ds, doc: str = "icass") -> pd.DataFrame:
    lim = ds.design_limits[ds.design_limits["source_id"] == DOCUMENTS[doc]]
    return pd.DataFrame([{
        "Limit": str(text.render("claims/cell_limit.html.j2", id=r["limit_id"], limit=r["limit"])),
        "What the paper says": str(text.render("claims/cell_quote.html.j2", quote=r["quote"],
                                               location=r["location"],
                                               rows=[(x, describe(ds, x)) for x in _split(r["rows"])])),
        "What it means for the claims": str(text.render("claims/cell_text.html.j2",
                                                        text=r["consequence"])),
    } for _, r in lim.iterrows()])


def spin_table(ds, a: Assessment) -> pd.DataFrame:
    spin = ds.spin_strategies
    strategies = spin[spin["kind"] == "strategy"]
    qa, ic = a.spin_counts("qa"), a.spin_counts("icass")
    rows = [{"Category (Yavchitz et al.)": r["category"], "Strategy": r["label"],
             "Entry in the classification": str(text.render(
                 "claims/cell_spin_source.html.j2", quote=r["quote"], location=r["location"],
                 reference=r["reference"], doi=r["doi"])),
             "Q&A claims": qa[r["spin_id"]], "ICASS-M1 paper claims": ic[r["spin_id"]]}
            for _, r in strategies.iterrows()]
    rows.append({"Category (Yavchitz et al.)": "–", "Strategy": "no spin strategy found",
                 "Entry in the classification": "–",
                 "Q&A claims": qa[NO_SPIN], "ICASS-M1 paper claims": ic[NO_SPIN]})
    return pd.DataFrame(rows)


def evidence_row_ids(ds) -> list[str]:
    """Every data row the claims check links to (claims, checks, design limits), sorted."""
    ids: set[str] = set()
    for _, c in ds.claims.iterrows():
        ids.update(_split(c["supporting_rows"]) + _split(c["contradicting_rows"]))
    for cell in list(ds.claim_checks["rows"]) + list(ds.design_limits["rows"]):
        ids.update(_split(cell))
    return sorted(ids)


def evidence_rows_table(ds) -> pd.DataFrame:
    """Every data row the claims check links to, with its location and quote; each row is a
    link target."""
    rows = []
    for r in evidence_row_ids(ds):
        row = ds.row(r)
        rows.append({
            "Data row": str(text.render("claims/cell_row_anchor.html.j2", id=r,
                                        parts=re.findall(r"[^._-]+[._-]?|[._-]", r))),
            "Figure": str(text.render("claims/cell_text.html.j2", text=describe(ds, r))),
            "Where in the source": str(text.render("claims/cell_text.html.j2",
                                                   text=row["location"])),
            "Quoted text": str(text.render("claims/cell_text.html.j2",
                                           text=f"“{row['quote']}”")),
        })
    return pd.DataFrame(rows)


# =============================================================================================
# Text: sentences filled in from the assessment
# =============================================================================================

def _count_items(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [{"key": k, "label": LABELS[k], "n": n} for k, n in counts.items() if n]


def _spin_reference(ds, kind: str) -> list[dict[str, Any]]:
    spin = ds.spin_strategies
    return [r.to_dict() for _, r in spin[spin["kind"] == kind].iterrows()]


def context(ds, a: Assessment, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the chapter's templates need, by machine key."""
    from .params import DEFAULTS, alpha
    from .ci import proportion_ci
    p = params or DEFAULTS
    series = DOCUMENTS["icass"]

    def count_row(row_id):
        r = ds.row(row_id)
        return {"events": int(r["events"]), "total": int(r["total"])}

    incl = ds.row(f"{series}.bl.icass_among_m1_evt")
    one = count_row(f"{series}.hemorrhagic_complication")
    lo, hi = proportion_ci(one["events"], one["total"], method=p["ci_method"], alpha=alpha(p))
    differ = []
    for c in a.of("icass"):
        for r in c.verdict.checks:
            for t in r.tests:
                if t.outcome == "differs":
                    differ.append({"claim": c.number, "stated": t.stated,
                                   "value": f"{t.estimate:g}", "row": describe(ds, t.row_id)})
    checks = ds.claim_checks.set_index("check_id")
    changes = []
    for c in a.changes("qa"):
        deciding = [r for r in c.verdict.checks if r.rule in c.verdict.rules
                    and r.verdict != rubric.SUPPORTED]
        changes.append({"number": c.number, "before": LABELS[c.previous], "after": LABELS[c.key],
                        "rules": [rubric.RULES[r].name for r in c.verdict.rules],
                        "why": [{"assertion": checks.loc[r.check_id, "assertion"],
                                 "label": LABELS[r.verdict], "note": checks.loc[r.check_id, "note"]}
                                for r in deciding]})
    spin_n = {doc: sum(n for k, n in a.spin_counts(doc).items() if k != NO_SPIN) for doc in DOCUMENTS}
    labels = ds.spin_strategies.set_index("spin_id")["label"]
    top = {}
    for doc in DOCUMENTS:
        sc = {k: n for k, n in a.spin_counts(doc).items() if k != NO_SPIN and n}
        best = max(sc.values()) if sc else 0
        top[doc] = {"n": best, "labels": [labels[k] for k, n in sc.items() if n == best]}
    topics = ds.claims.set_index("claim_id")["topic"]
    return {
        "thresholds": bool(ds.claim_checks["threshold"].notna().any()),
        "contradicted_topics": {doc: [topics[c.claim_id] for c in a.of(doc)
                                      if c.key == rubric.CONTRADICTED] for doc in DOCUMENTS},
        "n": {doc: len(a.of(doc)) for doc in DOCUMENTS},
        "counts": {doc: _count_items(a.counts(doc)) for doc in DOCUMENTS},
        "verdict_n": {doc: a.counts(doc) for doc in DOCUMENTS},
        "changes": changes,
        "spin_n": spin_n, "spin_top": top,
        "spin_definition": _spin_reference(ds, "definition"),
        "spin_categories": _spin_reference(ds, "category"),
        "spin_strategy_refs": sorted({r["reference"] for r in _spin_reference(ds, "strategy")}),
        "series": {
            "n": int(incl["count"]), "n_m1": int(incl["total"]),
            "alone": count_row(f"{series}.rescue_angioplasty_alone")["events"],
            "staged": count_row(f"{series}.staged_stenting")["events"],
            "reperfusion": count_row(f"{series}.reperfusion")["events"],
            "independent": count_row(f"{series}.mrs_0_2")["events"],
            "bleeding": one["events"],
            "clotting": count_row(f"{series}.thromboembolic_complication")["events"],
            "upper": fmt.pct(hi, 0), "level": f"{round(100 * p['confidence_level'], 1):g}%",
        },
        "differ": differ,
    }


def render(name: str, ctx: dict[str, Any]) -> str:
    """A chapter template: `name` is 'rubric' (claims/rubric.md.j2, one paragraph) or
    'changes.block' (claims/changes.block.j2, line breaks kept for a Markdown list)."""
    file = f"claims/{name}.j2" if name.endswith(".block") else f"claims/{name}.md.j2"
    return str(text.render(file, **ctx))


def summary_finding(ds, params: dict[str, Any] | None = None) -> str:
    """The key-findings sentence of the summary chapter."""
    a = assess(ds, params)
    return render("summary_finding", context(ds, a, params))
