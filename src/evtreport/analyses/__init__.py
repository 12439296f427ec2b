"""Every analysis of the report, from (data, parameters) to one bundle of typed results
addressed by machine keys. Chapters, the summary, the sensitivity table and results.csv all
read the bundle; nothing selects a result by its reader label.

    from evtreport import analyses
    b = analyses.run(ds, params)
    b["dmvo.rct.mortality"].result.estimate       # pooled crude effect of the trials
    b["icass.comparators.reperfusion"].estimate   # (estimate, low, high) of the comparators
    b["compare.side"].get("favourable", "icass-m1-series")

Keys (see ``KEYS``): results are computed on first access and kept (each is frozen).
"""

from __future__ import annotations

from typing import Any, Callable

from . import bayes_dmvo, common, compare, dmvo, icass, multiverse, records, sensitivity, sof

_BUILDERS: dict[str, Callable[["Bundle"], Any]] = {
    "dmvo.trials": lambda b: dmvo.trial_sizes(b.ds, b.params),
    **{f"dmvo.rct.{f}": (lambda f: lambda b: dmvo.trial_comparison(b.ds, b.params, f))(f)
       for f in dmvo.RCT_FAMILIES},
    "dmvo.rct.reperfusion": lambda b: dmvo.trial_reperfusion(b.ds, b.params),
    "dmvo.reported.trials": lambda b: dmvo.reported_effects(b.ds, b.params, dmvo.rct_ids(b.ds), "trial"),
    "dmvo.reported.preprints": lambda b: dmvo.reported_effects(b.ds, b.params, dmvo.preprint_ids(b.ds),
                                                               "preprint"),
    "dmvo.hermes": lambda b: dmvo.hermes(b.ds, b.params),
    "dmvo.obs.meta": lambda b: dmvo.meta_rates(b.ds, b.params),
    "dmvo.registry": lambda b: dmvo.reported_effects(b.ds, b.params, dmvo.registry_ids(b.ds, b.params),
                                                     "registry"),
    "icass.inclusion": lambda b: icass.inclusion(b.ds),
    "icass.table1": lambda b: icass.paper_table(b.ds, "table1"),
    "icass.table2": lambda b: icass.paper_table(b.ds, "table2"),
    "icass.series": lambda b: icass.series_outcomes(b.ds, b.params),
    "icass.strategies": lambda b: icass.strategies(b.ds, b.params),
    "icass.severity": lambda b: icass.severity(b.ds),
    **{f"icass.comparators.{f}": (lambda f: lambda b: icass.comparator_pool(b.ds, f, b.params))(f)
       for f in icass.FAMILIES},
    "compare.side": lambda b: compare.side_by_side(
        b.ds, b.params, {f: b[f"icass.comparators.{f}"] for f in icass.FAMILIES}),
    "sensitivity": lambda b: sensitivity.sensitivity(b.ds, b.params),
    "multiverse": lambda b: multiverse.multiverse(b.ds, b.params),
    "sof.dmvo": lambda b: sof.summary_of_findings(b),
    "bayes.dmvo": lambda b: bayes_dmvo.bayes_dmvo(b),
}
KEYS = tuple(_BUILDERS)


class Bundle:
    """The results of one run. ``b[key]`` computes a result once and keeps it."""

    def __init__(self, ds, params: dict[str, Any]):
        self.ds, self.params = ds, dict(params)
        self._done: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._done:
            if key not in _BUILDERS:
                raise KeyError(f"no analysis {key!r}; known: {', '.join(KEYS)}")
            self._done[key] = _BUILDERS[key](self)
        return self._done[key]

    def __contains__(self, key: str) -> bool:
        return key in _BUILDERS

    def keys(self, prefix: str = "") -> tuple[str, ...]:
        return tuple(k for k in KEYS if k.startswith(prefix))

    def label(self, source_id: str) -> str:
        """A source's reader label (sources.csv), e.g. 'ESCAPE-MeVO (Goyal 2025)'."""
        src = self.ds.source(source_id)
        if src.get("label"):
            return src["label"]
        first = (src.get("authors") or "").split(",")[0].split(" ")[0].strip()
        return f"{first} {src['year']}".strip() if first else source_id

    def rows(self, section: str):
        """The results.csv rows of one section (a :class:`evtreport.results.Results`)."""
        return records.section_rows(self, section, label=self.label)


def run(ds, params: dict[str, Any], *, compute_all: bool = False) -> Bundle:
    """The bundle of a run; ``compute_all`` computes every result now (e.g. to check that a
    parameter combination runs), otherwise each is computed when first read."""
    b = Bundle(ds, params)
    if compute_all:
        for k in KEYS:
            b[k]
    return b


__all__ = ["Bundle", "run", "KEYS", "common", "compare", "dmvo", "icass", "multiverse", "records", "sensitivity",
           "sof"]
