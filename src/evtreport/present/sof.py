"""Summary of findings tables (GRADE), one per cohort, for the first page of the report."""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup, escape

from .. import display as fmt
from .. import grade, vocab
from ..analyses import common as cm
from .common import SECONDARY_MARK, family_title, rate_text, title

WHAT = {"favourable": None, "mortality": "mortality", "sich": "symptomatic intracranial haemorrhage"}


def _what(b, family: str) -> str:
    from ..text import lower_first
    return WHAT[family] or lower_first(vocab.outcome_label(cm.favourable(b.params)))


def _per1000(x: float) -> str:
    return f"{round(1000 * x)} per 1000"


def _difference(a: grade.AbsoluteEffect) -> str:
    d, lo, hi = a.difference_per1000
    return f"{grade.format_per1000(d)} per 1000 ({grade.format_per1000(lo)} to {grade.format_per1000(hi)})"


def dmvo_table(b) -> tuple[pd.DataFrame, list[Markup]]:
    """The DMVO summary of findings (HTML cells) and its footnotes (a, b, ...)."""
    m, lvl = b.params["two_arm_measure"], vocab.level_text(b.params["confidence_level"])
    rows, notes = [], []
    for fam, r in b["sof.dmvo"].rows.items():
        if r is None:
            rows.append({"Outcome": escape(title(b, fam)), "Participants (trials)": "–",
                         f"Relative effect ({lvl} CI)": "no trial with usable counts", "Risk with medical treatment": "–",
                         "Risk with EVT": "–", "Difference (per 1000)": "–", "NNT": "–",
                         "Certainty": "–", "What happens": "–"})
            continue
        res, a = r.comparison.result, r.absolute
        letters = []
        for fn in grade.footnotes(r.certainty):
            notes.append(fn)
            letters.append(chr(ord("a") + len(notes) - 1))
        sec = f" {SECONDARY_MARK}" if r.comparison.secondary_ids else ""
        rows.append({
            "Outcome": escape(title(b, fam)) + sec,
            "Participants (trials)": f"{r.participants} ({r.k})",
            f"Relative effect ({lvl} CI)": f"{vocab.measure_label(m)} " + fmt.effect(res.estimate, res.ci_low, res.ci_high, m),
            "Risk with medical treatment": _per1000(r.risk_control),
            "Risk with EVT": f"{_per1000(a.risk_evt)} ({round(1000 * a.risk_evt_low)} to {round(1000 * a.risk_evt_high)})",
            "Difference (per 1000)": _difference(a),
            "NNT": r.nnt.text(f"{lvl} CI"),
            "Certainty": Markup("{} {}<sup>{}</sup>").format(r.certainty.symbols, r.certainty.label,
                                                             ",".join(letters)),
            "What happens": grade.statement(r.certainty, r.direction, outcome=_what(b, fam)),
        })
    return pd.DataFrame(rows), notes


def footnotes_markdown(notes) -> str:
    return "\n".join(f"{chr(ord('a') + i)}. {n}" for i, n in enumerate(notes))


def icass_table(b) -> pd.DataFrame:
    """The ICASS-M1 evidence: rates in the series and in the comparator series (no
    comparison group, so no relative effect), certainty very low by design."""
    s, lvl = b["icass.series"], vocab.level_text(b.params["confidence_level"])
    out = []
    for fam in ("reperfusion", "favourable", "mortality"):
        r = s.rates.get(fam)
        cp = b[f"icass.comparators.{fam}"]
        est = cp.estimate
        out.append({"Outcome": family_title(b, fam),
                    f"ICASS-M1 series ({lvl} CI)": rate_text(r) if r else "–",
                    "Other ICAS-related series": (f"{fmt.pct_ci(*est)} ({cp.k} series, "
                                                  f"{int(cp.used['total'].sum())} patients)") if est else "none with a count",
                    "Certainty": f"{grade.SYMBOLS[1]} {grade.LEVELS[1]}",
                    "What the data show": "rates among treated patients; without a comparison group they "
                                          "cannot show what EVT adds"})
    return pd.DataFrame(out)
