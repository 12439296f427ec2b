"""The multiverse of the main estimates (analyses/multiverse.py): each specification has the
numbers of the single-specification functions under its parameters (sensitivity.main_estimates
-> dmvo.trial_comparison / icass.comparator_pool / icass.favourable_rate, which pool one at a
time with meta.py), every row of the sensitivity table is one of its specifications, the counts
of specifications are those derived by hand from the data, and results.csv holds its rows.

Tolerance: 1e-10 relative (pool_batch iterates τ² to machine precision where meta stops at
1e-12), 1e-12 absolute for values near 0 (risk differences)."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest

from evtreport import analyses, params
from evtreport.analyses import common as cm
from evtreport.analyses import multiverse as mv
from evtreport.analyses import sensitivity as sens
from evtreport.data import load_dataset
from conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "more_studies"
RTOL, ATOL = 1e-10, 1e-12
SAMPLE = 30


@pytest.fixture(scope="module")
def ds():
    return load_dataset(ROOT / "data")


@pytest.fixture(scope="module")
def more(tmp_path_factory):
    d = tmp_path_factory.mktemp("more") / "data"
    shutil.copytree(ROOT / "data", d)
    for f in FIXTURE.glob("*.csv"):
        with open(d / f.name, "a", encoding="utf-8") as fh:
            fh.write(f.read_text(encoding="utf-8"))
    return load_dataset(d)


def _params(ds, **kw):
    return params.validate(kw, known_sources=set(ds.sources["source_id"]))


def _same(x, y):
    return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=RTOL, abs_tol=ATOL)


def _single(ds, p, key):
    """Estimate ``key`` as sensitivity.main_estimates computes it (without the other five)."""
    family = key.split("-", 1)[1]
    if key.startswith("dmvo"):
        return sens._rct(ds, p, family)
    return sens._series(ds, p) if key == "icass-favourable" else sens._comparator(ds, p, family)


def _check_spec(ds, run, key, kind, spec):
    p = spec.params(run)
    e = _single(ds, p, key)
    got = (spec.estimate, spec.ci_low, spec.ci_high)
    want = (e.estimate, e.ci_low, e.ci_high)
    assert all(_same(a, b) for a, b in zip(got, want)), (key, spec.choices, got, want)
    assert spec.k == e.k, (key, spec.choices)
    if kind == "rct":
        assert spec.measure == p["two_arm_measure"]
        assert spec.excludes_null == cm.excludes_null(e.ci_low, e.ci_high, spec.measure)
    else:
        assert spec.excludes_null is None


CASES = [("default", {}), ("strict-ish", dict(model="fixed", hksj=True, transform="ft", two_arm_measure="RD",
                                              ci_method="jeffreys", favourable_mrs_max=1, confidence_level=0.9)),
         ("excluded", dict(exclude_studies=["distal-2025"], use_derived=False))]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_sampled_specifications_equal_the_single_spec_functions(ds, case):
    run = _params(ds, **case[1])
    m = mv.multiverse(ds, run)
    rng = np.random.default_rng(20261202)
    for key, kind in sens.ESTIMATES:
        specs = m.estimates[key].specs
        pick = rng.choice(len(specs), min(SAMPLE, len(specs)), replace=False) if specs else []
        for i in pick:
            _check_spec(ds, run, key, kind, specs[i])


def test_fixture_with_more_studies(more):
    run = _params(more)
    m = mv.multiverse(more, run)
    rng = np.random.default_rng(7)
    for key, kind in sens.ESTIMATES:
        specs = m.estimates[key].specs
        for i in rng.choice(len(specs), min(SAMPLE, len(specs)), replace=False):
            _check_spec(more, run, key, kind, specs[i])
    _sensitivity_is_a_subset(more, run, m)
    # the third trial adds a leave-one-out subset: 3 studies -> full + 3 subsets of 2
    sich = m.estimates["dmvo-sich"]
    full = [s for s in sich.specs if not s.choice("left_out") and s.choice("use_percent_only")]
    assert {s.k for s in full} == {3}


def _sensitivity_is_a_subset(ds, run, m):
    s = sens.sensitivity(ds, run)
    for v in s.variants:
        for key, _ in sens.ESTIMATES:
            e, spec = s.estimates[(v.key, key)], m.find(key, v.params)
            if not e.estimable:
                assert spec is None, (v.key, key)
                continue
            assert spec is not None, (v.key, key)
            assert all(_same(a, b) for a, b in zip((spec.estimate, spec.ci_low, spec.ci_high),
                                                   (e.estimate, e.ci_low, e.ci_high))), (v.key, key)
            assert spec.k == e.k


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_every_row_of_the_sensitivity_table_is_a_specification(ds, case):
    run = _params(ds, **case[1])
    _sensitivity_is_a_subset(ds, run, mv.multiverse(ds, run))


def test_counts_derived_by_hand(ds):
    """Default data. Trials (3 measures; 2 x 3 + 2 pooling options for k >= 2: random x
    {REML, DL, PM} x HKSJ yes/no, fixed x HKSJ yes/no):
    - favourable: ESCAPE-MeVO's mRS 0-2 is printed as a percentage only and DISTAL has none ->
      cut-off 2 with percent-only rows: k = 1 -> 3 specifications, without them: none; cut-off 1:
      ESCAPE-MeVO reported, DISTAL percent only -> k = 2: 3 x 8 + 2 subsets x 3 = 30, without
      percent-only rows k = 1: 3. Total 36.
    - death: ESCAPE-MeVO derived, DISTAL percent only -> both: 30, either alone: 3 + 3, neither:
      none. Total 36.
    - sICH: ESCAPE-MeVO reported, DISTAL percent only -> 30 + 3 = 33.
    Comparator rates (3 transforms x 8 pooling options = 24 for k >= 2; one series: 5 CI methods):
    - reperfusion: Dobrocky, Lee and Jia, all derived (the quoted copies replaced by the
      originals) -> 24 + 3 subsets of 2 x 24 = 96; without derived counts none.
    - favourable: Lee percent only, Jia derived, no mRS 0-1 -> 24 + 2 x 5 = 34, one of them
      alone: 5 + 5; total 44.
    ICASS-M1 favourable: 2 cut-offs x 5 CI methods = 10."""
    m = mv.multiverse(ds, _params(ds))
    want = {"dmvo-favourable": 36, "dmvo-mortality": 36, "dmvo-sich": 33, "icas-reperfusion": 96,
            "icas-favourable": 44, "icass-favourable": 10}
    assert {k: e.n_specs for k, e in m.estimates.items()} == want
    assert m.n_specs == 255
    assert m.estimates["icas-reperfusion"].not_estimable == ((("use_derived", False),),)
    assert m.estimates["dmvo-sich"].choices == ("measure", "model", "tau2_method", "hksj",
                                                "use_percent_only", "left_out")
    # the τ² estimator is set only under random effects, HKSJ only with two or more studies
    for e in m.estimates.values():
        for s in e.specs:
            assert (s.choice("tau2_method") is None) == (s.choice("model") != "random")
            assert (s.choice("hksj") is None) == (s.k == 1)


def test_summary_statistics_and_share(ds):
    m = mv.multiverse(ds, _params(ds))
    e = m.estimates["dmvo-sich"]
    rr = sorted(s.estimate for s in e.specs if s.measure == "RR")
    assert len(e.summary_specs) == 11 and (e.min, e.max) == (rr[0], rr[-1])
    assert e.median == rr[5]
    assert e.share_excluding_null == sum(bool(s.excludes_null) for s in e.specs) / 33
    assert math.isnan(m.estimates["icas-reperfusion"].share_excluding_null)


def test_records_rows(ds):
    b = analyses.run(ds, _params(ds))
    rows = {r["id"]: r for r in b.rows("methods").rows}
    for key, _ in sens.ESTIMATES:
        for stat in ("n_specs", "min", "median", "max", "share_excluding_null"):
            assert rows[f"multiverse.{key}.{stat}"]["level"] == "sensitivity"
    assert rows["multiverse.icas-reperfusion.n_specs"]["estimate"] == "96"
    assert rows["multiverse.icas-reperfusion.share_excluding_null"]["estimate"] == ""
    em = b["multiverse"].estimates["dmvo-mortality"]
    assert float(rows["multiverse.dmvo-mortality.median"]["estimate"]) == pytest.approx(em.median, rel=1e-6)


def test_no_study_left(ds):
    m = mv.multiverse(ds, _params(ds, exclude_studies=["escape-mevo-2025", "distal-2025"]))
    for key in ("dmvo-favourable", "dmvo-mortality", "dmvo-sich"):
        e = m.estimates[key]
        assert e.n_specs == 0 and math.isnan(e.median) and math.isnan(e.share_excluding_null)


def test_figures_draw_every_specification_readably(ds):
    from evtreport import display, plots
    from evtreport.present import multiverse as present
    b = analyses.run(ds, _params(ds))
    for key in present.keys(b):
        fig = present.figure(b, key)
        assert display.smallest_text_pt(fig) >= plots.FS_SMALL
        em = b["multiverse"].estimates[key]
        # one dot per specification in each choice that acts on it, one estimate per specification
        want = sum(s.choice(c) is not None or c == "left_out" for s in em.specs for c in em.choices)
        got = {g: sum(len(c.get_offsets()) for ax in fig.axes if ax.get_gid() == g for c in ax.collections
                      if hasattr(c, "get_sizes") and len(c.get_sizes()))
               for g in ("spec-matrix", "spec-curve")}
        assert got["spec-matrix"] == want
        assert got["spec-curve"] == em.n_specs + 1   # and the run's, drawn again in orange
    with pytest.raises(ValueError, match="entries for"):
        plots.specification_curve([plots.CurvePanel("", "ratio", "RR", (1.0,), (0.5,), (2.0,))],
                                  [("Measure", "RR", [True, False])])
