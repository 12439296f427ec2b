"""ICASS-M1 chapter: tables and figures from the bundle's ICASS-M1 results."""

from __future__ import annotations

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from .. import display as fmt
from .. import plots, vocab
from ..analyses import common as cm
from ..analyses import icass as ic
from .common import comparison_verdict, heterogeneity_text, pooled_row, rate_text
from .findings import comparators_intro_context  # noqa: F401  (the chapter's intro)

EM = "\u2003"  # indentation of sub-rows (not collapsed by HTML)

# Reader labels of the rebuilt tables' rows (keys of analyses.icass.TABLE1/TABLE2), with
# their indentation depth.
LINE_LABELS = {
    "bl.age": (0, "Age (years)"), "sex": (0, "Sex"), "bl.male": (1, "Male"), "bl.female": (1, "Female"),
    "bl.nihss": (0, "NIHSS at admission"), "risk_factors": (0, "Risk factors"),
    "bl.diabetes": (1, "Diabetes mellitus"), "bl.hypertension": (1, "Hypertension"),
    "bl.hyperlipidemia": (1, "Hyperlipidaemia"), "bl.atrial_fibrillation": (1, "Atrial fibrillation"),
    "bl.previous_stroke": (1, "Previous stroke"), "bl.smoking": (1, "Smoking"),
    "bl.drinking": (1, "Alcohol drinking"), "side": (0, "Side of the occluded middle cerebral artery"),
    "bl.side_left": (1, "Left"), "bl.side_right": (1, "Right"), "site": (0, "Site of the occlusion within M1"),
    "bl.m1_proximal": (1, "Proximal"), "bl.m1_middle": (1, "Middle"), "bl.m1_distal": (1, "Distal"),
    "bridging_ivt": (0, "Intravenous alteplase before EVT (bridging)"),
    "bl.onset_to_puncture": (0, "Onset to groin puncture (minutes)"),
    "general_anesthesia": (0, "General anaesthesia"), "bl.procedure_time": (0, "Procedure time (minutes)"),
    "strategy": (0, "Treatment strategy"), "rescue_stenting": (1, "Balloon angioplasty and stenting"),
    "rescue_angioplasty_alone": (1, "Balloon angioplasty alone"),
    "staged_stenting": (2, "of whom staged stenting later"),
    "failed_first_evt": (1, "Failed recanalization at the first EVT"),
    "reperfusion": (0, "Successful revascularization (mTICI 2b–3)"),
    "dist.mTICI": (0, "mTICI grade after the procedure"),
    "periprocedural_complication": (0, "Perioperative complications"),
    "hemorrhagic_complication": (1, "Haemorrhagic event"),
    "thromboembolic_complication": (1, "Thromboembolic event"),
    "angiographic_followup": (0, "Angiographic follow-up available"),
    "bl.angio_followup_time": (1, "Time to angiographic follow-up (months)"),
    "restenosis": (1, "Stenosis worse than after the procedure (of those followed up)"),
    "dist.mRS": (0, "mRS score at 3 months"), "mrs_0_2": (0, "Favourable outcome (mRS 0–2) at 3 months"),
}
STRATEGY_LABELS = {
    "bridging_ivt": "Intravenous alteplase before EVT (bridging therapy)",
    "direct_evt": "Direct EVT (no intravenous thrombolysis)", "general_anesthesia": "General anaesthesia",
    "rescue_stenting": "Rescue balloon angioplasty and stenting at the first EVT",
    "rescue_angioplasty_alone": "Rescue balloon angioplasty alone at the first EVT",
    "staged_stenting": "… of these, staged stenting later",
    "failed_first_evt": "Failed recanalization at the first EVT (treated a month later)",
}
SERIES_LABELS = {"reperfusion": "Successful reperfusion (mTICI 2b–3)", "mortality": "Death by 3 months",
                 "complications": "Perioperative complications",
                 "restenosis": "Stenosis worse at angiographic follow-up"}
FAMILY_TITLES = {"reperfusion": "successful reperfusion or recanalization",
                 "favourable": "favourable functional outcome", "mortality": "death",
                 "haemorrhage": "haemorrhage"}


def level(b) -> str:
    return vocab.level_text(b.params["confidence_level"])


def ci_name(b) -> str:
    return vocab.ci_label(b.params["ci_method"])


# --------------------------------------------------------------------------- Tables 1 and 2

def line_label(ln: ic.TableLine) -> tuple[int, str]:
    if ln.kind == "grade":
        scale, g = ln.scale, ln.key.split(".", 1)[1]
        desc = plots.MTICI_DESCRIPTIONS if scale == "mTICI" else plots.MRS_DESCRIPTIONS
        return 1, f"{scale} {g}" + (f" ({desc[g].lower()})" if g in desc else "")
    return LINE_LABELS[ln.key]


def _printed(ln: ic.TableLine) -> str:
    if ln.kind == "summary":
        return ln.summary
    if ln.kind == "head":
        return ""
    if ln.printed_raw:
        return f"{ln.count} ({ln.printed_raw}%)"
    if ln.printed_dash or not ln.count:
        return "—"
    return f"{ln.count} of {ln.total} (no % printed)"


def _recomputed(ln: ic.TableLine) -> str:
    if ln.kind == "summary":
        return "not recomputable (summary statistic)"
    if ln.count is None:
        return ""
    return f"{ln.count}/{ln.total} = {fmt.pct(ln.count / ln.total)}"


def check_text(ln: ic.TableLine) -> str:
    from ..analyses.records import check_text as words
    if ln.kind == "summary":
        return "–"
    return "" if ln.count is None else words(ln)


def paper_table(table: ic.PaperTable) -> pd.DataFrame:
    """Reader table (HTML cells, every data string escaped): characteristic (section headers
    in bold, sub-rows indented), as printed, recomputed from counts, check, where printed."""
    def cell(s: str) -> Markup:
        return Markup(fmt.no_wrap(str(escape(s))))

    rows = []
    for ln in table.lines:
        depth, label = line_label(ln)
        text = escape(label)
        if ln.kind == "head":
            text = Markup("<strong>{}</strong>").format(text)
        if depth:
            text = Markup('<span style="padding-left:{}em">{}</span>').format(f"{1.4 * depth:g}", text)
        chk = cell(check_text(ln))
        rows.append({"Characteristic": Markup(text), "As printed": cell(_printed(ln)),
                     "Recomputed from counts": cell(_recomputed(ln)),
                     "Check": Markup("<strong>⚠ {}</strong>").format(chk) if ln.flag else chk,
                     "Where printed": cell(ln.where if ln.kind != "grade" else ln.where)})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- series

def series_label(r: ic.Rate) -> str:
    if r.key == "favourable":
        return f"Favourable outcome (mRS 0–{r.grades[-1]}) at 3 months"
    return SERIES_LABELS.get(r.key, vocab.outcome_label(r.outcome))


def series_note(r: ic.Rate) -> str:
    if r.printed:
        return "printed by the paper"
    return "not printed by the paper: sum of mRS " + " + ".join(str(g) for g in r.grades) + " in its Table 2"


def outcomes_table(b) -> pd.DataFrame:
    s = b["icass.series"]
    return pd.DataFrame({
        "Outcome": [series_label(r) for r in s],
        "Definition (paper)": [r.definition if r.printed else f"{r.definition} ({series_note(r)})" for r in s],
        "Patients": [fmt.count(r.events, r.total) for r in s],
        f"Rate [{level(b)} CI]": [fmt.no_wrap(fmt.pct_ci(r.estimate, r.ci_low, r.ci_high)) for r in s],
        "CI width (points)": [f"{100 * (r.ci_high - r.ci_low):.1f}" for r in s]})


def strategies_table(b) -> pd.DataFrame:
    s = b["icass.strategies"]
    return pd.DataFrame({
        "Step": [STRATEGY_LABELS[r.key] for r in s], "Patients": [fmt.count(r.events, r.total) for r in s],
        f"Rate [{level(b)} CI]": [fmt.no_wrap(fmt.pct_ci(r.estimate, r.ci_low, r.ci_high)) for r in s],
        "As the paper describes it": [r.definition for r in s]})


def _dist(b, scale: str) -> pd.DataFrame:
    d = b.ds.distribution(ic.SERIES, scale, subgroup=ic.GROUP)
    return pd.DataFrame({"group": b.label(ic.SERIES), "grade": d["grade"].astype(str),
                         "count": d["count"].astype(int)})


def mrs_figure(b):
    return plots.grotta_bar(_dist(b, "mRS"), scale="mRS", cutoff=b.params["favourable_mrs_max"])


def mtici_figure(b):
    return plots.grotta_bar(_dist(b, "mTICI"), scale="mTICI", cutoff="2a")


# --------------------------------------------------------------------------- comparators

def _where(r) -> str:
    return f"quoted in the ICASS-M1 paper ({r['location']})" if r.get("quoted_in") else r["location"]


def count_text(r) -> str:
    return ("≈" if r["approx"] else "") + fmt.count(r["events_used"], r["total"])


def comparator_table(b, family: str) -> pd.DataFrame:
    """Every comparator row: used (count, rate with CI), shown as reported, or left out (why)."""
    cp = b[f"icass.comparators.{family}"]
    out = []
    for _, r in cp.used.iterrows():
        how = ("yes" + (" (count derived from the printed percentage)" if r["count_status"] == "derived"
                        else " (count rounded from the printed percentage, ≈)" if r["approx"] else ""))
        out.append((r, count_text(r), fmt.no_wrap(fmt.pct_ci(r["events_used"] / r["total"], r["ci_low"],
                                                             r["ci_high"])), how))
    for _, r in cp.reported.iterrows():
        ci = f" [{r['reported_ci_low']:g}–{r['reported_ci_high']:g}]" if cm.is_finite(r["reported_ci_low"]) else ""
        n = f"{int(r['total'])} patients in the review" if not pd.isna(r["total"]) else "–"
        lvl = ic.reported_level(r)
        out.append((r, n, fmt.no_wrap(f"{r['reported_percent']:g}%{ci}") + " (pooled, as reported"
                    + (f", {lvl} CI)" if lvl and ci else ")"), "no: " + r["reason"]))
    for _, r in cp.left_out.iterrows():
        n = f"–/{int(r['total'])}" if not pd.isna(r["total"]) else "not printed"
        pct = f"{r['reported_percent']:g}% (as printed)" if cm.is_finite(r["reported_percent"]) else "–"
        out.append((r, n, pct, "no: " + r["reason"]))
    return pd.DataFrame({
        "Series": [b.label(r["source_id"]) for r, *_ in out], "Group": [r["group"] for r, *_ in out],
        "Outcome (source's own definition)": [r["definition"] for r, *_ in out],
        "Timepoint": [r["timepoint"] for r, *_ in out], "Patients": [n for _, n, _, _ in out],
        f"Rate [{level(b)} CI]": [x for _, _, x, _ in out],
        "Where the figure comes from": [_where(r) for r, *_ in out],
        "In the pooled estimate?": [u for *_, u in out]})


def comparator_forest(b, family: str):
    """Forest plot: the comparator series (pooled, with diamond, when k >= 2), a meta-analysis's
    reported pooled estimate and the ICASS-M1 series, in three groups. Every row's CI is the
    single-proportion CI chosen by ci_method. None when there is nothing to show."""
    cp = b[f"icass.comparators.{family}"]
    series = b["icass.series"].rates.get(family)
    g_pool = "Comparator series, pooled" if cp.k > 1 else "Comparator series (one: not pooled)"
    g_rep, g_series = "Meta-analysis, as reported", "ICASS-M1 series (not pooled)"
    weights = cp.result.studies["weight"].to_numpy() if cp.k > 1 else [np.nan] * cp.k
    rows = [{"label": b.label(r["source_id"]), "n_text": count_text(r), "estimate": r["events_used"] / r["total"],
             "ci_low": r["ci_low"], "ci_high": r["ci_high"], "weight": w, "grp": g_pool}
            for (_, r), w in zip(cp.used.iterrows(), weights)]
    rows += [{"label": b.label(r["source_id"]), "n_text": "pooled", "estimate": r["reported_percent"] / 100,
              "ci_low": r["reported_ci_low"] / 100, "ci_high": r["reported_ci_high"] / 100,
              "weight": np.nan, "grp": g_rep} for _, r in cp.reported.iterrows()]
    if series is not None:
        rows.append({"label": b.label(ic.SERIES), "n_text": fmt.count(series.events, series.total),
                     "estimate": series.estimate, "ci_low": series.ci_low, "ci_high": series.ci_high,
                     "weight": np.nan, "grp": g_series})
    if not rows:
        return None
    sub = {}
    if cp.k > 1:
        sub[g_pool] = {**pooled_row(cp.result), "heterogeneity": heterogeneity_text(cp.result)}
    return plots.forest_plot(pd.DataFrame(rows), None, scale="proportion", group_col="grp",
                             subgroup_pooled=sub, est_label=f"Rate [{level(b)} CI]", xlim=(0.0, 1.0),
                             xlabel="Rate among patients treated with EVT")


def loo_table(b, family: str = "reperfusion") -> pd.DataFrame | None:
    cp = b[f"icass.comparators.{family}"]
    if cp.loo is None:
        return None
    loo = cp.loo
    return pd.DataFrame({
        "Series left out": [b.label(s) for s in loo["source_id"]], "Series remaining": loo["k"],
        f"Pooled rate of the others [{level(b)} CI]": [
            fmt.no_wrap(fmt.pct_ci(e, lo, hi)) + (" (one series: nothing pooled)" if k == 1 else "")
            for e, lo, hi, k in zip(loo["estimate"], loo["ci_low"], loo["ci_high"], loo["k"])],
        "I²": ["–" if not cm.is_finite(i) else f"{i:.0f}%" for i in loo["i2"]]})


# --------------------------------------------------------------------------- text contexts

def pooled_context(b, family: str) -> dict:
    cp = b[f"icass.comparators.{family}"]
    ctx = {"title": FAMILY_TITLES[family], "k": cp.k, "res": cp.result, "level": level(b),
           "ci_name": ci_name(b), "reported": [], "only": None}
    if cp.k == 1:
        r = cp.used.iloc[0]
        ctx["only"] = {"label": b.label(r["source_id"]), "count": count_text(r),
                       "value": fmt.pct_ci(r["events_used"] / r["total"], r["ci_low"], r["ci_high"])}
    if cp.k > 1:
        ctx.update(value=fmt.pct_ci(cp.result.estimate, cp.result.ci_low, cp.result.ci_high),
                   pi=(f"{100 * cp.result.pi_low:.1f}–{100 * cp.result.pi_high:.1f}%"
                       if cm.is_finite(cp.result.pi_low) else None),
                   het=heterogeneity_text(cp.result))
    for _, r in cp.reported.iterrows():
        ctx["reported"].append({"label": b.label(r["source_id"]).split(" (")[0],
                                "value": f"{r['reported_percent']:g}%" + (
                                    f" [{r['reported_ci_low']:g}–{r['reported_ci_high']:g}]"
                                    if cm.is_finite(r["reported_ci_low"]) else ""),
                                "level": ic.reported_level(r)})
    series = b["icass.series"].rates.get(family)
    ctx["series"] = rate_text(series) if series is not None else None
    return ctx


def flagged_context(lines) -> list[dict]:
    out = []
    for ln in lines:
        exact = 100 * ln.count / ln.total
        out.append({"label": line_label(ln)[1], "printed": f"{ln.printed_pct:g}", "count": ln.count,
                    "total": ln.total, "exact": exact, "rounded": f"{exact:.{max(ln.decimals, 1)}f}"})
    return out


def table_note_context(b, name: str) -> dict:
    return {"name": name, "flagged": flagged_context(b[f"icass.{name}"].flagged)}


def intro_context(b) -> dict:
    return {"inc": b["icass.inclusion"], "src": b.ds.source(ic.SERIES),
            "excluded": ic.series_excluded(b.params)}


def outcomes_context(b) -> dict:
    s = b["icass.series"]
    widths = [100 * (r.ci_high - r.ci_low) for r in s]
    printed = b.ds.outcome_rows(source_id=ic.SERIES, outcome="mrs_0_2", subgroup=ic.GROUP)
    return {"level": level(b), "ci_name": ci_name(b), "cut": b.params["favourable_mrs_max"],
            "fav": s["favourable"], "rep": s["reperfusion"], "n": s.n, "wmin": min(widths),
            "wmax": max(widths), "grades": " + ".join(f"mRS {g}" for g in s["favourable"].grades),
            "printed_02": int(printed.iloc[0]["events"]) if not printed.empty else "–"}


def strategies_context(b) -> dict:
    q = b.ds.quote
    return {"s": b["icass.strategies"].rates, "q_staged": q("icass-staged-discussion"),
            "q_conclusion": q("icass-conclusion-angioplasty"), "q_rescue": q("icass-rescue-protocol"),
            "q_protocol": q("icass-staged-protocol")}


def pooled_full_context(b, family: str, refs: str = "") -> dict:
    ctx = pooled_context(b, family)
    series = b["icass.series"].rates.get(family)
    ctx["verdict"] = comparison_verdict(series, b[f"icass.comparators.{family}"].estimate)
    ctx["refs"] = refs
    return ctx


def forest_caption_context(b, family: str, what: str) -> dict:
    cp = b[f"icass.comparators.{family}"]
    ctx = pooled_context(b, family)
    return {"what": what, "k": cp.k, "level": level(b), "ci_name": ci_name(b),
            "method": cp.result.method_text if cp.result is not None else "",
            "pi": cp.result is not None and cm.is_finite(cp.result.pi_low), "reported": ctx["reported"]}


def loo_context(b) -> dict:
    cp = b["icass.comparators.reperfusion"]
    return {"k": cp.k, "low": fmt.pct(cp.loo["estimate"].min()), "high": fmt.pct(cp.loo["estimate"].max())}


def favourable_context(b) -> dict:
    cp = b["icass.comparators.favourable"]
    ctx = pooled_full_context(b, "favourable")
    ctx.update(cut=b.params["favourable_mrs_max"],
               approx=sorted({b.label(r["source_id"]) for _, r in cp.used.iterrows() if r["approx"]}))
    return ctx


def harms_context(b) -> dict:
    hit = b.ds.outcome_rows(source_id=ic.SERIES, outcome="hemorrhagic_complication", subgroup=ic.GROUP)
    return {"families": [pooled_full_context(b, f) for f in ("mortality", "haemorrhage")],
            "bleed": None if hit.empty else {"events": int(hit.iloc[0]["events"]),
                                             "definition": hit.iloc[0]["definition"]}}


def how_far_context(b) -> dict:
    rng = ic.favourable_range(b.ds, b.params)
    fav = b["icass.series"]["favourable"]
    sev = b["icass.severity"]
    own02 = b.ds.outcome_rows(source_id=ic.SERIES, outcome="mrs_0_2", subgroup=ic.GROUP)
    return {"rng": f"{rng[0]:g}–{rng[1]:g}%" if rng else None, "cut": b.params["favourable_mrs_max"],
            "fav_pct": fmt.pct(fav.estimate), "fav_above": rng is not None and 100 * fav.estimate > rng[1],
            "fav_ci_above": rng is not None and 100 * fav.ci_low > rng[1], "sev": sev,
            "others": [f"{v:g} in {b.label(s)}" for s, _, v in sev.others],
            "q_nihss": b.ds.quote("icass-nihss-li"),
            "own02": (f"{int(own02.iloc[0]['events'])}/{int(own02.iloc[0]['total'])} "
                      f"({fmt.pct(own02.iloc[0]['events'] / own02.iloc[0]['total'])})") if not own02.empty else ""}


def summary_context(b) -> dict:
    s, st = b["icass.series"], b["icass.strategies"]
    cp = b["icass.comparators.reperfusion"]
    flagged = list(b["icass.table1"].flagged) + list(b["icass.table2"].flagged)
    return {"n": s.n, "stented": st["rescue_stenting"].events, "rep": rate_text(s["reperfusion"]),
            "fav": rate_text(s["favourable"]), "mort": rate_text(s["mortality"]),
            "comp": rate_text(s["complications"]), "resten": rate_text(s["restenosis"]),
            "cut": b.params["favourable_mrs_max"], "level": level(b), "ci_name": ci_name(b),
            "k": cp.k, "pool": fmt.pct_ci(*cp.estimate) if cp.estimate else "",
            "verdict": comparison_verdict(s["reperfusion"], cp.estimate) if cp.k > 1 else "",
            "flagged": flagged_context(flagged)}
