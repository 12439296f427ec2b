"""Findings more than one chapter states (the DMVO chapter's conclusion and the key findings
of the summary chapter), as template contexts computed from the bundle."""

from __future__ import annotations

from .. import display as fmt
from .. import vocab
from ..analyses import common as cm
from ..analyses import dmvo as dm
from ..analyses import icass as ic
from .common import outcome_text, reported_ci, short


def primary_results(b) -> list[dict]:
    """Each trial's primary result as reported (the effects row whose definition names the
    primary outcome, from the publication rather than a secondary report)."""
    rows = b["dmvo.reported.trials"].rows
    out = []
    for sid in b["dmvo.trials"].included:
        mine = rows[(rows["source_id"] == sid) & ~rows["secondary"]
                    & rows["definition"].str.contains("primary outcome", case=False)]
        if mine.empty:
            continue
        r = mine.iloc[0]
        excl = cm.excludes_null(r["ci_low"], r["ci_high"], "OR")
        out.append({"trial": short(b, sid), "outcome": outcome_text(r["outcome"]),
                    "measure": r["measure"], "value": reported_ci(r), "excludes_null": excl,
                    "direction": ("higher with EVT" if r["estimate"] > 1 else "lower with EVT") if excl else ""})
    return out


def harm_signals(b, family: str) -> list[dict]:
    """Effects reported by the trials for a harm whose interval excludes no effect."""
    rows = b["dmvo.reported.trials"].rows
    rows = rows[(rows["family"] == family) & rows["ci_low"].notna()]
    return [{"trial": short(b, r["source_id"]), "measure": r["measure"], "value": reported_ci(r),
             "secondary": bool(r["secondary"]), "higher": r["ci_low"] > 1}
            for _, r in rows.iterrows() if cm.excludes_null(r["ci_low"], r["ci_high"], "OR")]


NOUN = {"favourable": "patients with a favourable outcome", "mortality": "deaths",
        "sich": "symptomatic haemorrhages"}


def interval_words(res, family: str, measure: str) -> str:
    """Plain words for a pooled two-arm interval: a comparative word only when it excludes
    no effect."""
    what = {"favourable": "a favourable outcome", "mortality": "death",
            "sich": "symptomatic haemorrhage"}[family]
    if res.ci_low > cm.null_value(measure):
        return f"the interval lies wholly above no effect: {what} was more frequent after EVT"
    if res.ci_high < cm.null_value(measure):
        return f"the interval lies wholly below no effect: {what} was less frequent after EVT"
    return f"the interval includes no difference: these data neither show nor rule out a difference in {what}"


def family_context(b, family: str) -> dict:
    tc = b[f"dmvo.rct.{family}"]
    res = tc.result
    what = {"favourable": vocab.outcome_label(cm.favourable(b.params)), "mortality": "death by 90 days",
            "sich": "symptomatic intracranial haemorrhage"}[family]
    from ..text import lower_first
    return {"family": family, "res": res, "what": lower_first(what), "noun": NOUN[family],
            "secondary": [short(b, s) for s in tc.secondary_ids],
            "only": b.label(tc.pooled.iloc[0]["source_id"]) if res is not None and res.k == 1 else "",
            "words": interval_words(res, family, tc.measure) if res is not None else "",
            "signals": harm_signals(b, family) if family != "favourable" else []}


def rct_context(b) -> dict:
    m = b.params["two_arm_measure"]
    sizes = b["dmvo.trials"]
    fav = b["dmvo.rct.favourable"].result
    return {"n_trials": len(sizes.included), "trial_names": [short(b, s) for s in sizes.included],
            "n_randomized": sizes.randomized(sizes.included), "primary": primary_results(b),
            "families": [family_context(b, f) for f in dm.RCT_FAMILIES], "measure": m,
            "measure_name": vocab.measure_label(m), "level": vocab.level_text(b.params["confidence_level"]),
            "fav_null": fav is not None and not cm.excludes_null(fav.ci_low, fav.ci_high, m)}


def obs_context(b) -> list[dict]:
    rates = b["dmvo.obs.meta"].rows
    fr = rates[rates["family"] == "favourable"]
    return [{"subgroup": r["subgroup"], "value": fmt.pct_ci(r["estimate"], r["ci_low"], r["ci_high"], 0)}
            for _, r in fr.iterrows()]


def comparators_intro_context(b) -> dict:
    ds = b.ds
    ids, quoted_only, read, metas = set(), set(), set(), set()
    for fam in ic.FAMILIES:
        cand = ic.candidate_rows(ds, fam)
        for _, r in cand.iterrows():
            ids.add(r["source_id"])
    for s in sorted(ids):
        if ds.source(s).get("design") == "meta-analysis":
            metas.add(b.label(s))
            continue
        own = (ds.outcomes["source_id"] == s).any()
        (read if own else quoted_only).add(b.label(s))
    series = sorted(read | quoted_only)
    return {"series": series, "metas": sorted(metas), "quoted_only": sorted(quoted_only),
            "read": sorted(read | metas)}
