"""Every computed text of the report for one bundle: {template: rendered text}. Used by the
tests that render all templates under every parameter file and under the fixture data."""

from __future__ import annotations

from evtreport import text
from evtreport.present import compare, dmvo, icass, rob, sensitivity, summary

INCLUDED_ONLY = {"dmvo/macros.j2", "icass/pooled.md.j2"}  # rendered through other templates


def all_texts(b) -> dict[str, str]:
    out: dict[str, str] = {}

    def r(name, /, caption=False, key=None, **ctx):
        fn = text.caption if caption else text.render
        out[key or name] = str(fn(name, **ctx))

    r("summary/intro.md.j2", **summary.intro_context(b))
    r("summary/key_findings.block.j2", **summary.findings_context(b))
    r("dmvo/evidence_kinds.md.j2", **dmvo.kinds_context(b))
    r("dmvo/trials_intro.block.j2", **dmvo.trials_intro_context(b))
    r("dmvo/rct_caveats.block.j2", **dmvo.caveats_context(b))
    for fam in ("favourable", "mortality", "sich"):
        r("dmvo/outcome.md.j2", key=f"dmvo/outcome.md.j2:{fam}", **dmvo.outcome_context(b, fam))
        r("dmvo/forest_caption.md.j2", caption=True, key=f"dmvo/forest_caption.md.j2:{fam}",
          **dmvo.caption_context(b, fam))
    r("dmvo/reported_intro.md.j2", n_preprints=len(set(b["dmvo.reported.preprints"].rows["source_id"])))
    r("dmvo/hksj_note.md.j2", **dmvo.hksj_context(b))
    if dmvo.hermes_context(b):
        r("dmvo/hermes_intro.md.j2", **dmvo.hermes_context(b))
    r("dmvo/meta_intro.md.j2", **dmvo.meta_intro_context(b))
    r("dmvo/meta_note.md.j2", **dmvo.meta_context(b))
    r("dmvo/registry_intro.md.j2", **dmvo.registry_context(b))
    r("dmvo/summary.block.j2", ctx=dmvo.rct_context(b), obs=dmvo.obs_context(b))
    r("dmvo/bayes.block.j2", **dmvo.bayes_context(b))
    r("icass/intro.md.j2", **icass.intro_context(b))
    r("icass/definition.md.j2", q=b.ds.quote("icass-definition"))
    r("icass/table_note.md.j2", key="icass/table_note.md.j2:1", **icass.table_note_context(b, "table1"))
    r("icass/table_note.md.j2", key="icass/table_note.md.j2:2", **icass.table_note_context(b, "table2"))
    r("icass/outcomes.md.j2", **icass.outcomes_context(b))
    r("icass/distributions.md.j2", cut=b.params["favourable_mrs_max"])
    r("icass/strategies.md.j2", **icass.strategies_context(b))
    r("icass/comparators_intro.md.j2", **icass.comparators_intro_context(b))
    r("icass/pooled.md.j2", **icass.pooled_full_context(b, "reperfusion"))
    r("icass/forest_caption.md.j2", caption=True,
      **icass.forest_caption_context(b, "reperfusion", "Reperfusion"))
    if b["icass.comparators.reperfusion"].loo is not None:
        r("icass/loo.md.j2", **icass.loo_context(b))
    r("icass/favourable.md.j2", **icass.favourable_context(b))
    r("icass/harms.md.j2", **icass.harms_context(b))
    r("icass/how_far.md.j2", **icass.how_far_context(b))
    r("icass/summary.md.j2", **icass.summary_context(b))
    r("dmvo/rob.md.j2", **rob.summary_context(b))
    r("icass/rob.md.j2", jbi=not rob.jbi_table(b).empty, robins=rob.robins_table(b, "ICASS-M1") is not None)
    r("compare/caveats.block.j2", **compare.caveats_context(b))
    r("compare/figure_caption.md.j2", caption=True, level="95%", cut=b.params["favourable_mrs_max"],
      model="random-effects model")
    r("methods/sensitivity.block.j2", **sensitivity.summary_context(b))
    from evtreport.present import multiverse
    r("methods/multiverse.block.j2", **multiverse.summary_context(b))
    for key in multiverse.keys(b):
        r("methods/multiverse_caption.md.j2", caption=True, key=f"methods/multiverse_caption.md.j2:{key}",
          **multiverse.caption_context(b, key))
    from evtreport import methods
    out["methods/statistical.block.j2"] = str(methods.statistical_methods(b.params))
    return out
