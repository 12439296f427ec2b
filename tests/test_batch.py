"""evtreport.batch: many specifications at once give the numbers of the single-specification
functions of evtreport.meta (to 1e-10) and of R/metafor (tests/reference/ref_pooled.csv)."""

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evtreport.batch import back_transform, pool_batch
from evtreport.meta import CI_METHODS, MEASURES, MODELS, TAU2_METHODS, TRANSFORMS, pool_proportions, pool_two_arm

REF = Path(__file__).parent / "reference"
FIELDS = ["mu", "se", "ci_low", "ci_high", "pi_low", "pi_high", "pval", "tau2", "q"]
COMBOS = list(itertools.product(MODELS, TAU2_METHODS, CI_METHODS))
TOL = 1e-10


def _reference_fits():
    """Every reference dataset x effect x option combination, and its leave-one-out subsets,
    fitted one at a time with evtreport.meta: [(PoolResult, options, dataset, effect)]."""
    single = pd.concat([pd.read_csv(REF / "datasets.csv"), pd.read_csv(REF / "datasets_simulated.csv")])
    two = pd.concat([pd.read_csv(REF / "datasets_twoarm.csv"), pd.read_csv(REF / "datasets_twoarm_simulated.csv")])
    out = []
    for (name, d), effect in itertools.chain(
            ((g, e) for g in single.groupby("dataset") for e in TRANSFORMS),
            ((g, e) for g in two.groupby("dataset") for e in MEASURES)):
        if effect in TRANSFORMS:
            fn, arrays, key = pool_proportions, [d.events.to_numpy(), d.total.to_numpy()], "transform"
        else:
            fn, key = pool_two_arm, "measure"
            arrays = [d[c].to_numpy() for c in ("events_t", "total_t", "events_c", "total_c")]
        subsets = [np.ones(len(d), bool)] + ([np.arange(len(d)) != i for i in range(len(d))] if 2 <= len(d) <= 12 else [])
        for keep, (model, tau2, ci) in itertools.product(subsets, COMBOS):
            opts = dict(model=model, tau2=tau2, ci=ci, alpha=0.05 if keep.all() else 0.1)
            res = fn(*(a[keep] for a in arrays), **{key: effect}, **opts)
            out.append((res, opts, name, effect))
    return out


def _simulated_fits(n=1500, seed=20261201):
    """Random two-arm specifications: k = 1..12, mixed heterogeneity, options and alpha,
    including zero cells (continuity correction) and identical trials (HKSJ SE of 0)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        k = int(rng.integers(1, 13))
        n1, n2 = rng.integers(8, 400, k), rng.integers(8, 400, k)
        pc = rng.uniform(0.01, 0.6, k)
        lor = rng.normal(0.3, rng.choice([0.0, 0.2, 1.0]), k)
        a = rng.binomial(n1, 1 / (1 + np.exp(-(np.log(pc / (1 - pc)) + lor))))
        c = rng.binomial(n2, pc)
        if i % 50 == 0:  # identical trials
            a, c, n1, n2 = np.full(k, a[0]), np.full(k, c[0]), np.full(k, n1[0]), np.full(k, n2[0])
        opts = dict(model=str(rng.choice(MODELS)), tau2=str(rng.choice(TAU2_METHODS)),
                    ci=str(rng.choice(CI_METHODS)), alpha=float(rng.choice([0.05, 0.1, 0.01])))
        measure = str(rng.choice(MEASURES))
        out.append((pool_two_arm(a, n1, c, n2, measure=measure, **opts), opts, "sim", measure))
    return out


def _natural(b, i, r, name):
    """Batch value ``name`` of specification i back-transformed as meta does for ``r``."""
    transform = "log" if r.measure in ("RR", "OR") else r.transform
    n_hm = 1 / np.mean(1 / r.studies.total.to_numpy()) if transform == "ft" else None
    return back_transform(getattr(b, name)[i], transform, n_hm)


def _check(fits):
    """pool_batch on all the fits' yi/vi and options: analysis-scale fields against the
    PoolResult's, and the back-transformed estimate, CI and prediction interval against its
    natural-scale ones."""
    yi = [r.studies.yi.to_numpy() for r, *_ in fits]
    vi = [r.studies.vi.to_numpy() for r, *_ in fits]
    b = pool_batch(yi, vi, **{name: [o[name] for _, o, *_ in fits] for name in ("model", "tau2", "ci", "alpha")})
    assert len(b) == len(fits)
    for i, (r, opts, name, effect) in enumerate(fits):
        pairs = [(getattr(b, f)[i], getattr(r, f), f) for f in ("mu", "se", "pval", "tau2", "q")]
        pairs += [(_natural(b, i, r, bf), getattr(r, f), f) for bf, f in
                  (("mu", "estimate"), ("ci_low", "ci_low"), ("ci_high", "ci_high"), ("pi_low", "pi_low"),
                   ("pi_high", "pi_high"))]
        for got, want, f in pairs:
            assert np.isclose(got, want, rtol=TOL, atol=TOL, equal_nan=True), \
                f"spec {i} ({name}, {effect}, {opts}) {f}: batch {got!r} vs meta {want!r}"
        assert b.k[i] == r.k and b.model[i] == r.model and b.tau2_method[i] == r.tau2_method
    return b


def test_reference_specifications_equal_single_fits():
    fits = _reference_fits()
    assert len(fits) > 1500 and {r.k for r, *_ in fits} >= {1, 2, 3, 100, 200}
    _check(fits)


def test_simulated_specifications_equal_single_fits():
    fits = _simulated_fits()
    b = _check(fits)
    assert (b.se == 0).any() and (b.tau2 == 0).any() and (b.tau2 > 0).any()


def test_matches_metafor_reference():
    ref = pd.read_csv(REF / "ref_pooled.csv")
    fits = {(name, effect, o["model"], o["tau2"], o["ci"]): r for r, o, name, effect in _reference_fits()
            if o["alpha"] == 0.05}
    keys = [tuple(row) for row in ref[["dataset", "effect", "model", "tau2_method", "ci"]].itertuples(index=False)]
    b = pool_batch([fits[k].studies.yi.to_numpy() for k in keys], [fits[k].studies.vi.to_numpy() for k in keys],
                   model=ref.model.to_numpy(), tau2=ref.tau2_method.to_numpy(), ci=ref.ci.to_numpy())
    for f in ("mu", "se", "pval", "tau2", "q"):
        assert np.allclose(getattr(b, f), ref[f], rtol=1e-6, atol=1e-10, equal_nan=True), f


def test_padded_array_input_and_per_spec_options():
    y = [np.array([0.1, 0.5, -0.2]), np.array([0.3]), np.array([0.2, 0.4])]
    v = [np.array([0.04, 0.09, 0.05]), np.array([0.02]), np.array([0.03, 0.06])]
    ragged = pool_batch(y, v, tau2="DL", ci=["z", "hksj", "hksj"])
    pad_y, pad_v = np.full((3, 3), np.nan), np.full((3, 3), np.nan)
    for i, (yy, vv) in enumerate(zip(y, v)):
        pad_y[i, : yy.size], pad_v[i, : vv.size] = yy, vv
    padded = pool_batch(pad_y, pad_v, tau2="DL", ci=np.array(["z", "hksj", "hksj"]))
    for f in FIELDS:
        assert np.array_equal(getattr(ragged, f), getattr(padded, f), equal_nan=True), f
    assert ragged.k.tolist() == [3, 1, 2] and ragged.ci_method.tolist() == ["z", "hksj", "hksj"]
    frame = ragged.to_frame()
    assert len(frame) == 3 and {"mu", "ci_low", "model", "tau2_method"} <= set(frame.columns)
    with pytest.raises(ValueError):
        ragged.mu[0] = 1.0  # results are read-only


@pytest.mark.parametrize("kwargs,match", [
    (dict(model="mixed"), r"Unknown model 'mixed' for specification 0"),
    (dict(tau2=["DL", "ML"]), r"Unknown tau2 'ML' for specification 1"),
    (dict(ci=["z"]), "one value or one per specification"),
    (dict(alpha=1.5), "alpha must be strictly between 0 and 1"),
    (dict(vi=[[0.1], [0.0]]), "Specification 1: yi and vi must be finite"),
    (dict(vi=[[0.1], [0.1, 0.2]]), "Specification 1"),
    (dict(yi=[], vi=[]), "at least one specification"),
])
def test_invalid_input(kwargs, match):
    args = dict(yi=[[0.1], [0.2]], vi=[[0.1], [0.2]])
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        pool_batch(args.pop("yi"), args.pop("vi"), **args)
    with pytest.raises(ValueError, match="transform"):
        back_transform([0.1], "probit")
