"""DMVO analyses: the randomized trials (per-arm counts, crude and pooled effects), the
trials' own reported effects, HERMES M2, the observational meta-analysis' reported rates and
the registry analyses. Numbers only; tables, figures and text are built from these results.

Evidence kinds are kept apart on purpose: randomized trials of EVT vs best medical treatment
(design "RCT") are pooled here from their arm counts; a meta-analysis's pooled rates are
shown as reported and never pooled again; registry effects are shown as reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import meta, vocab
from . import common as cm

COHORT = "DMVO"
#: Outcome families of the randomized-trial section.
RCT_FAMILIES = ("favourable", "mortality", "sich")
#: Families of the observational meta-analysis' reported rates, in display order.
OBS_FAMILIES = ("reperfusion", "favourable", "mortality", "sich")
SUBGROUPS = {"primary": ("primary DMVO",), "secondary": ("secondary DMVO",),
             "both": ("primary DMVO", "secondary DMVO")}
HERMES = "menon-2019"
OBSERVATIONAL_DESIGNS = ("registry", "prospective cohort", "retrospective cohort")


def rct_ids(ds) -> list[str]:
    """Every DMVO randomized trial in the data (excluded ones too: they are listed as such)."""
    return cm.sources_by_design(ds, COHORT, ["RCT"])


# --------------------------------------------------------------------------- trials

@dataclass(frozen=True)
class TrialComparison:
    """One outcome family across the randomized trials, under the parameters.

    ``trials``: one row per trial with columns source_id, outcome, status ('pooled',
    'not pooled', 'not reported', 'excluded'), reason, secondary, locations,
    events_t/total_t/approx_t/pct_t/row_t and the same with _c (medical arm), estimate,
    ci_low, ci_high (the trial's crude effect, Wald CI) and weight (NaN when not pooled).
    ``result`` pools the trials with usable counts in both arms (None when there is none).
    """

    family: str
    outcomes: tuple[str, ...]
    measure: str
    trials: pd.DataFrame
    result: meta.PoolResult | None

    @property
    def harmful(self) -> bool:
        return vocab.harmful(self.family)

    @property
    def pooled(self) -> pd.DataFrame:
        return self.trials[self.trials["status"] == "pooled"]

    @property
    def k(self) -> int:
        return 0 if self.result is None else self.result.k

    @property
    def secondary_ids(self) -> tuple[str, ...]:
        """Trials whose arm figures for this outcome come from a secondary report."""
        return tuple(self.pooled.loc[self.pooled["secondary"], "source_id"])


def rct_outcomes(family: str, params: dict[str, Any]) -> tuple[str, ...]:
    return (cm.favourable(params),) if family == "favourable" else cm.family_outcomes(family, params)


def _arm(base: dict, r_all: pd.DataFrame, outcome: str, arm: str, sfx: str,
         used: pd.DataFrame, left: pd.DataFrame) -> str | None:
    """Fill one arm's columns of a trial record; return why it cannot be pooled, if so."""
    r = r_all[(r_all["outcome"] == outcome) & (r_all["arm"] == arm)]
    if r.empty:
        return f"{arm} arm not reported"
    r = r.iloc[0]
    base[f"pct_{sfx}"] = cm.nan(r["reported_percent"])
    base[f"total_{sfx}"] = cm.nan(r["total"])
    base[f"row_{sfx}"] = r["row_id"]
    base["secondary"] = base["secondary"] or cm.is_secondary(r)
    u = used[used["row_id"] == r["row_id"]]
    if u.empty:
        return f"{arm} arm: {left.loc[left['row_id'] == r['row_id'], 'reason'].iloc[0]}"
    base[f"events_{sfx}"] = int(u.iloc[0]["events_used"])
    base[f"approx_{sfx}"] = bool(u.iloc[0]["approx"])
    return None


def _trial_record(sid: str, rows: pd.DataFrame, wanted, used, left, params) -> dict:
    r_all = rows[rows["source_id"] == sid]
    present = [o for o in wanted if (r_all["outcome"] == o).any()]
    base = dict(source_id=sid, outcome=present[0] if present else wanted[0], status="",
                reason="", secondary=False, locations=(),
                events_t=np.nan, total_t=np.nan, approx_t=False, pct_t=np.nan, row_t="",
                events_c=np.nan, total_c=np.nan, approx_c=False, pct_c=np.nan, row_c="")
    if sid in params["exclude_studies"]:
        return {**base, "status": "excluded", "reason": "excluded by the parameter exclude_studies"}
    if not present:
        return {**base, "status": "not reported",
                "reason": f"{vocab.outcome_label(wanted[0])} by arm not found in the sources read"}
    o = present[0]
    reasons = [x for x in (_arm(base, r_all, o, "EVT", "t", used, left),
                           _arm(base, r_all, o, "medical", "c", used, left)) if x]
    mine = r_all[r_all["outcome"] == o]
    base["locations"] = tuple(sorted({(str(r["location"] or ""), cm.is_secondary(r))
                                      for _, r in mine.iterrows()}))
    if reasons:
        return {**base, "status": "not pooled", "reason": "; ".join(reasons)}
    return {**base, "status": "pooled"}


def trial_comparison(ds, params, family: str) -> TrialComparison:
    """Per-arm counts, per-trial crude effect and pooled effect for one outcome family."""
    if family not in RCT_FAMILIES:
        raise ValueError(f"family must be one of {RCT_FAMILIES}, got {family!r}")
    ids = rct_ids(ds)
    wanted = rct_outcomes(family, params)
    rows = ds.outcome_rows(cohort=COHORT, source_id=ids, arm=["EVT", "medical"], outcome=list(wanted))
    used, left = cm.select_counts(rows, params)
    trials = pd.DataFrame([_trial_record(s, rows, wanted, used, left, params) for s in ids],
                          columns=list(_trial_record("_", rows.iloc[0:0], wanted, used, left,
                                                     {"exclude_studies": ["_"]})))
    for c in ("estimate", "ci_low", "ci_high", "weight"):
        trials[c] = np.nan
    pooled = trials[trials["status"] == "pooled"]
    result = None
    if not pooled.empty:
        pairs = pooled[["events_t", "total_t", "events_c", "total_c"]].astype(int)
        result = cm.pool_trials(pairs.assign(source_id=pooled["source_id"]), params)
        st = result.studies.reset_index(drop=True)
        trials.loc[pooled.index, "estimate"] = st["estimate"].to_numpy()
        trials.loc[pooled.index, "ci_low"] = st["ci_low"].to_numpy()
        trials.loc[pooled.index, "ci_high"] = st["ci_high"].to_numpy()
        if result.k > 1:
            trials.loc[pooled.index, "weight"] = st["weight"].to_numpy()
    return TrialComparison(family=family, outcomes=wanted, measure=params["two_arm_measure"],
                           trials=trials, result=result)


@dataclass(frozen=True)
class TrialSizes:
    """Patients randomized per trial and arm (baseline.csv 'n randomized' rows)."""
    arms: dict[str, dict[str, int]]      # source_id -> {"EVT": n, "medical": n}
    included: tuple[str, ...]            # trials not excluded by exclude_studies
    years: dict[str, int | None]

    def randomized(self, source_ids) -> int | None:
        """Patients randomized in these trials (None if one trial's size is unknown)."""
        if any(not self.arms.get(s) for s in source_ids):
            return None
        return sum(sum(self.arms[s].values()) for s in source_ids)


def trial_sizes(ds, params) -> TrialSizes:
    arms, years = {}, {}
    for sid in rct_ids(ds):
        b = ds.baseline_rows(source_id=sid)
        b = b[b["variable"].str.startswith("n randomized")]
        arms[sid] = {r["arm"]: int(r["count"]) for _, r in b.iterrows()}
        y = ds.source(sid).get("year")
        years[sid] = None if pd.isna(y) else int(y)
    return TrialSizes(arms=arms, included=tuple(cm.not_excluded(rct_ids(ds), params)), years=years)


@dataclass(frozen=True)
class ArmRates:
    """A rate in the EVT arm of each trial (descriptive), e.g. successful reperfusion.
    ``rows``: source_id, status ('rate', 'percent only', 'not reported', 'excluded'), outcome,
    definition, location, secondary, events, total, percent, estimate, ci_low, ci_high."""
    family: str
    rows: pd.DataFrame


def trial_reperfusion(ds, params) -> ArmRates:
    out = []
    for sid in rct_ids(ds):
        base = dict(source_id=sid, status="", outcome="reperfusion", definition="", location="",
                    secondary=False, events=np.nan, total=np.nan, percent=np.nan,
                    estimate=np.nan, ci_low=np.nan, ci_high=np.nan)
        r = ds.outcome_rows(cohort=COHORT, source_id=sid, arm="EVT",
                            outcome=list(vocab.outcomes_of("reperfusion")))
        if sid in params["exclude_studies"]:
            out.append({**base, "status": "excluded"})
            continue
        if r.empty:
            out.append({**base, "status": "not reported"})
            continue
        r = r.iloc[0]
        base.update(outcome=r["outcome"], definition=r["definition"], location=r["location"],
                    secondary=cm.is_secondary(r), total=cm.nan(r["total"]),
                    percent=cm.nan(r["reported_percent"]))
        if pd.notna(r["events"]) and pd.notna(r["total"]):
            lo, hi = cm.proportion_ci(int(r["events"]), int(r["total"]), params)
            base.update(status="rate", events=int(r["events"]),
                        estimate=int(r["events"]) / int(r["total"]), ci_low=lo, ci_high=hi)
        else:
            base.update(status="percent only", estimate=base["percent"] / 100)
        out.append(base)
    return ArmRates(family="reperfusion", rows=pd.DataFrame(out))


# --------------------------------------------------------------------------- reported effects

@dataclass(frozen=True)
class ReportedEffects:
    """Effects as the sources report them (effects.csv rows), never recomputed.
    ``rows`` are effects.csv rows plus family, secondary and preprint columns."""
    kind: str                 # 'trial', 'preprint', 'hermes', 'registry'
    rows: pd.DataFrame


def _family_of(outcome: str) -> str:
    fam = vocab.family_of(outcome)
    return fam or outcome


def reported_effects(ds, params, source_ids, kind: str) -> ReportedEffects:
    e = ds.effect_rows(cohort=COHORT, source_id=list(source_ids))
    e = e[~e["source_id"].isin(params["exclude_studies"])].copy()
    e["family"] = e["outcome"].map(_family_of)
    e["secondary"] = [cm.is_secondary(r) for _, r in e.iterrows()]
    e["preprint"] = [cm.is_preprint(ds, s) for s in e["source_id"]]
    return ReportedEffects(kind=kind, rows=e.reset_index(drop=True))


def preprint_ids(ds) -> list[str]:
    return [s for s in cm.sources_by_design(ds, COHORT, ["meta-analysis"]) if cm.is_preprint(ds, s)]


def registry_ids(ds, params) -> list[str]:
    return cm.not_excluded(cm.sources_by_design(ds, COHORT, OBSERVATIONAL_DESIGNS), params)


@dataclass(frozen=True)
class Hermes:
    """The M2 subgroup of the HERMES pooled analysis (Menon 2019), as printed; None-like when
    the source is absent or excluded (``available`` False)."""
    available: bool
    outcomes: pd.DataFrame
    effects: ReportedEffects | None
    baseline: pd.DataFrame


def hermes(ds, params) -> Hermes:
    if HERMES not in set(ds.sources["source_id"]) or HERMES in params["exclude_studies"]:
        return Hermes(False, ds.outcomes.iloc[0:0], None, ds.baseline.iloc[0:0])
    return Hermes(True, ds.outcome_rows(source_id=HERMES),
                  reported_effects(ds, params, [HERMES], "hermes"),
                  ds.baseline_rows(source_id=HERMES))


# --------------------------------------------------------------------------- observational

@dataclass(frozen=True)
class MetaRates:
    """Pooled rates reported by meta-analyses of observational series (never re-pooled): one
    row per (source, subgroup, family) of the subgroups chosen by `dmvo_subgroup`; columns
    source_id, row_id, subgroup, family, outcome, definition, estimate, ci_low, ci_high
    (proportions), total, k (studies in the whole meta-analysis), location, secondary."""
    rows: pd.DataFrame

    @property
    def k_studies(self) -> int | None:
        k = self.rows["k"].max() if not self.rows.empty else np.nan
        return None if pd.isna(k) else int(k)


def _k_from_notes(ds, source_id: str) -> float:
    """Number of studies of a meta-analysis as stated in sources.csv notes ('29 studies')."""
    import re
    m = re.search(r"(\d+) studies", str(ds.source(source_id).get("notes") or ""))
    return float(m.group(1)) if m else float("nan")


def meta_rates(ds, params) -> MetaRates:
    subgroups = SUBGROUPS[params["dmvo_subgroup"]]
    rows = ds.outcome_rows(cohort=COHORT, estimate_type="pooled", subgroup=list(subgroups))
    rows = rows[~rows["source_id"].isin(params["exclude_studies"])]
    out = []
    for _, r in rows.iterrows():
        fam = vocab.family_of(r["outcome"])
        if fam == "favourable" and r["outcome"] not in cm.favourable_outcomes({"favourable_mrs_max": 2}) \
                and r["outcome"] != "mrs_0_1":
            continue
        if fam not in OBS_FAMILIES:
            continue
        out.append(dict(source_id=r["source_id"], row_id=r["row_id"], subgroup=r["subgroup"],
                        family=fam, outcome=r["outcome"], definition=r["definition"],
                        estimate=r["reported_percent"] / 100, ci_low=r["reported_ci_low"] / 100,
                        ci_high=r["reported_ci_high"] / 100, total=r["total"],
                        k=_k_from_notes(ds, r["source_id"]), location=r["location"],
                        secondary=cm.is_secondary(r)))
    cols = ["source_id", "row_id", "subgroup", "family", "outcome", "definition", "estimate",
            "ci_low", "ci_high", "total", "k", "location", "secondary"]
    df = pd.DataFrame(out, columns=cols)
    if not df.empty:
        fo = {f: i for i, f in enumerate(OBS_FAMILIES)}
        so = {s: i for i, s in enumerate(SUBGROUPS["both"])}
        df = (df.assign(_o=df["family"].map(fo), _s=df["subgroup"].map(so))
              .sort_values(["source_id", "_o", "_s"]).drop(columns=["_o", "_s"])
              .reset_index(drop=True))
    return MetaRates(df)
