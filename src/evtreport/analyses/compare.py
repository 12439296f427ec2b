"""DMVO and ICASS-M1 side by side: the rate of each outcome both cohorts report, in each body
of evidence, computed with the same methods. Reads the DMVO and ICASS-M1 analyses' own
selections (the comparator series as the ICASS-M1 analysis selects them).

Bodies of evidence (``kind``, a machine key):
``evt-arms-of-the-randomized-trials`` (DMVO: the EVT arms of the trials, pooled as rates),
``observational-meta-analysis-primary`` / ``-secondary`` (DMVO: the meta-analysis' own pooled
rates, as reported), ``icass-m1-series`` (the 22-patient series) and
``other-icas-related-occlusion-series`` (the series the ICASS-M1 paper compares itself with).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .. import meta
from . import common as cm
from . import icass as ic

FAMILIES = ("reperfusion", "favourable", "mortality", "haemorrhage")
KINDS = ("evt-arms-of-the-randomized-trials", "observational-meta-analysis-primary",
         "observational-meta-analysis-secondary", "icass-m1-series",
         "other-icas-related-occlusion-series")
COHORT_OF = {KINDS[0]: "DMVO", KINDS[1]: "DMVO", KINDS[2]: "DMVO", KINDS[3]: "ICASS-M1",
             KINDS[4]: "ICASS-M1"}


@dataclass(frozen=True)
class SideRow:
    """The rate of one outcome family in one body of evidence.

    ``how``: 'single' (one study, its own CI under ci_method), 'pooled' (``result``) or
    'reported' (a meta-analysis' own pooled estimate). ``counts``: (source_id, events, total,
    approx, secondary) of the studies used; ``left_out``: (source_id, reason)."""
    family: str
    kind: str
    how: str
    estimate: float
    ci_low: float
    ci_high: float
    k: float
    patients: float
    events: float
    outcomes: tuple[str, ...]
    definitions: tuple[str, ...]
    sources: tuple[str, ...]
    counts: tuple[tuple[str, int, int, bool, bool], ...] = ()
    left_out: tuple[tuple[str, str], ...] = ()
    result: meta.PoolResult | None = field(default=None, repr=False)

    @property
    def cohort(self) -> str:
        return COHORT_OF[self.kind]

    @property
    def key(self) -> str:
        return f"compare.{self.family}.{self.cohort.lower()}.{self.kind}"

    @property
    def pi(self) -> tuple[float, float]:
        if self.result is None:
            return math.nan, math.nan
        return self.result.pi_low, self.result.pi_high


def compare_outcomes(family: str, params: dict[str, Any]) -> tuple[str, ...]:
    """Outcome names compared for a family. Favourable: mRS 0-2 and sources calling mRS 0-2
    'functional independence' (only mRS 0-1 at cut-off 1)."""
    if family == "favourable":
        fav = cm.favourable(params)
        return (fav,) if fav == "mrs_0_1" else (fav, "functional_independence")
    return cm.family_outcomes(family, params)


def _from_rows(family, kind, used: pd.DataFrame, left: pd.DataFrame, params) -> SideRow | None:
    if used.empty:
        return None
    counts = tuple((r["source_id"], int(r["events_used"]), int(r["total"]), bool(r["approx"]),
                    cm.is_secondary(r)) for _, r in used.iterrows())
    common = dict(family=family, kind=kind, k=len(used), patients=int(used["total"].sum()),
                  events=int(used["events_used"].sum()),
                  outcomes=tuple(sorted(set(used["outcome"]))),
                  definitions=tuple(sorted(set(used["definition"]))),
                  sources=tuple(used["source_id"]), counts=counts,
                  left_out=tuple((r["source_id"], r["reason"]) for _, r in left.iterrows()))
    if len(used) == 1:
        r = used.iloc[0]
        lo, hi = cm.proportion_ci(int(r["events_used"]), int(r["total"]), params)
        return SideRow(how="single", estimate=r["events_used"] / r["total"], ci_low=lo,
                       ci_high=hi, **common)
    res = cm.pool_rates(used, params)
    return SideRow(how="pooled", estimate=res.estimate, ci_low=res.ci_low, ci_high=res.ci_high,
                   result=res, **common)


def _reported(family, r) -> SideRow:
    sub = "primary" if r["subgroup"].startswith("primary") else "secondary"
    return SideRow(family=family, kind=f"observational-meta-analysis-{sub}", how="reported",
                   estimate=r["reported_percent"] / 100, ci_low=r["reported_ci_low"] / 100,
                   ci_high=r["reported_ci_high"] / 100, k=math.nan, patients=r["total"],
                   events=math.nan, outcomes=(r["outcome"],), definitions=(r["definition"],),
                   sources=(r["source_id"],))


def family_rows(ds, params, family: str, comparators: ic.ComparatorPool) -> list[SideRow]:
    from .dmvo import SUBGROUPS, rct_ids
    names = list(compare_outcomes(family, params))
    dmvo = ds.outcome_rows(cohort="DMVO", outcome=names)
    rows: list[SideRow | None] = []
    rct = dmvo[dmvo["source_id"].isin(rct_ids(ds)) & (dmvo["arm"] == "EVT")]
    used, left = cm.select_counts(rct, params)
    rows.append(_from_rows(family, KINDS[0], used.drop_duplicates("source_id"), left, params))
    meta_rows = dmvo[(dmvo["estimate_type"] == "pooled")
                     & dmvo["subgroup"].isin(SUBGROUPS[params["dmvo_subgroup"]])
                     & ~dmvo["source_id"].isin(params["exclude_studies"])]
    rows.extend(_reported(family, r) for _, r in meta_rows.iterrows())
    own = ds.outcome_rows(cohort="ICASS-M1", outcome=names)
    own = own[own["row_id"].str.startswith(ic.SERIES + ".")
              & ~own["row_id"].str.contains(".cited.", regex=False)]
    used, left = cm.select_counts(own, params)
    rows.append(_from_rows(family, KINDS[3], used, left, params))
    rows.append(_from_rows(family, KINDS[4], comparators.used, comparators.left_out, params))
    return [r for r in rows if r is not None]


@dataclass(frozen=True)
class SideBySide:
    rows: tuple[SideRow, ...]

    def get(self, family: str, kind: str) -> SideRow | None:
        return next((r for r in self.rows if r.family == family and r.kind == kind), None)

    def of_kind(self, kind_prefix: str) -> tuple[SideRow, ...]:
        return tuple(r for r in self.rows if r.kind.startswith(kind_prefix))


def side_by_side(ds, params, comparators: dict[str, ic.ComparatorPool]) -> SideBySide:
    return SideBySide(tuple(r for f in FAMILIES for r in family_rows(ds, params, f, comparators[f])))
