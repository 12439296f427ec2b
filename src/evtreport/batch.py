"""Many inverse-variance meta-analyses at once (the multiverse of analysis choices).

Each specification is one set of per-study effects ``(y_i, v_i)`` on the analysis scale with
the options of :mod:`evtreport.meta` (model, τ² estimator, CI method, alpha). Specifications
are grouped by their number of studies k; within a group every step is one numpy operation
over all rows (iterative estimators iterate all unconverged rows together), so thousands of
specifications cost about as much as a handful of single fits.

The arithmetic is that of ``meta._fit``/``meta._single`` step by step (same REML start,
Fisher scoring, secant polish, step halving and boundary rules; Paule-Mandel solved to
machine precision where meta's Brent root stops at 1e-12), so results agree with
:func:`~evtreport.meta.pool_proportions` / :func:`~evtreport.meta.pool_two_arm` to ~1e-12;
the test-suite checks 1e-10. Results are on the analysis scale; :func:`back_transform`
gives the natural scale as meta does.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from scipy import special

from .meta import CI_METHODS, MODELS, TAU2_METHODS, _ipft

__all__ = ["BatchResult", "pool_batch", "back_transform", "BACK_TRANSFORMS"]

BACK_TRANSFORMS = ("log", "logit", "ft", "raw")
_TAU2_TOL = 1e-12   # as meta: REML convergence on τ²
_MAXITER = 1000
_EPS = np.finfo(float).eps


@dataclass(frozen=True, eq=False)  # fields are arrays: compare them with numpy
class BatchResult:
    """One entry per specification (numpy arrays, read-only), analysis scale.

    ``mu`` pooled effect, ``se`` its SE as used for the CI (HKSJ-scaled for ``ci="hksj"``),
    ``ci_low``/``ci_high``, ``pi_low``/``pi_high`` (NaN for the common-effect model and k = 1),
    ``pval``, ``tau2`` (0 for fixed and k = 1), Cochran's ``q`` (NaN for k = 1), ``k``, and the
    options ``model``, ``tau2_method``, ``ci_method``, ``alpha``.
    """

    k: np.ndarray
    mu: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    pi_low: np.ndarray
    pi_high: np.ndarray
    pval: np.ndarray
    tau2: np.ndarray
    q: np.ndarray
    model: np.ndarray
    tau2_method: np.ndarray
    ci_method: np.ndarray
    alpha: np.ndarray

    def __len__(self) -> int:
        return self.k.size

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({f.name: getattr(self, f.name) for f in fields(self)})


# --------------------------------------------------------------------------- input
def _padded(sets, name: str) -> np.ndarray:
    """A ragged sequence of 1-D arrays (or an (n, k_max) array with NaN for absent studies)
    as one NaN-padded float array."""
    if isinstance(sets, np.ndarray) and sets.ndim == 2:
        return sets.astype(float)
    lengths = np.fromiter(map(len, sets), dtype=int)
    if lengths.size == 0:
        raise ValueError(f"{name} must hold at least one specification.")
    flat = np.concatenate(sets).astype(float)
    if flat.ndim != 1 or flat.size != lengths.sum():
        raise ValueError(f"{name} must be a sequence of 1-D arrays (one per specification).")
    out = np.full((lengths.size, max(lengths.max(), 1)), np.nan)
    rows = np.repeat(np.arange(lengths.size), lengths)
    out[rows, np.arange(flat.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)] = flat
    return out


def _per_spec(value, n: int, allowed, name: str) -> np.ndarray:
    """One option per specification (strings as a numpy unicode array: fast comparisons)."""
    arr = np.asarray(value, dtype=str if allowed is not None else float)
    arr = np.full(n, arr) if arr.ndim == 0 else arr
    if arr.shape != (n,):
        raise ValueError(f"{name} must be one value or one per specification ({n}); got {arr.size}.")
    if allowed is not None:
        bad = ~np.isin(arr, allowed)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"Unknown {name} {str(arr[i])!r} for specification {i}; expected one of "
                             f"{', '.join(map(repr, allowed))}.")
    return arr


def _same_width(y, v):
    if y.shape[0] != v.shape[0]:
        raise ValueError(f"yi and vi must hold the same number of specifications; got {y.shape[0]} and "
                         f"{v.shape[0]}.")
    width = max(y.shape[1], v.shape[1])
    pad = [np.pad(a, ((0, 0), (0, width - a.shape[1])), constant_values=np.nan) for a in (y, v)]
    return pad[0], pad[1]


def _check(y, v, alpha):
    present = ~np.isnan(y)
    bad = np.flatnonzero((present != ~np.isnan(v)).any(axis=1) | ~present.any(axis=1)
                         | (present & ~(np.isfinite(y) & np.isfinite(v) & (v > 0))).any(axis=1))
    if bad.size:
        raise ValueError(f"Specification {int(bad[0])}: yi and vi must be finite with vi > 0, at least "
                         f"one study, and the same studies present in both.")
    bad = np.flatnonzero(~((alpha > 0) & (alpha < 1)))
    if bad.size:
        raise ValueError(f"alpha must be strictly between 0 and 1; got {alpha[bad[0]]!r} for "
                         f"specification {int(bad[0])}.")
    return present


# --------------------------------------------------------------------------- τ² (rows of one k)
def _wsum(w, y):
    return (w * y).sum(axis=1)


def _tau2_dl(y, v):
    """DerSimonian-Laird, rowwise: ``max(0, (Q - (k-1)) / (Σw - Σw²/Σw))``, ``w = 1/v``."""
    w = 1 / v
    sw = w.sum(axis=1)
    mu = _wsum(w, y) / sw
    q = _wsum(w, (y - mu[:, None]) ** 2)
    return np.maximum(0.0, (q - (y.shape[1] - 1)) / (sw - _wsum(w, w) / sw))


def _q_gen(t2, y, v):
    """Generalised ``Q(τ²) = Σw(y - μ)²`` and its derivative ``-Σw²(y - μ)²``."""
    w = 1 / (v + t2[:, None])
    r2 = (y - (_wsum(w, y) / w.sum(axis=1))[:, None]) ** 2
    return _wsum(w, r2), -_wsum(w * w, r2)


def _tau2_pm(y, v):
    """Paule-Mandel, rowwise: root of ``Q(τ²) = k - 1`` (0 when ``Q(0) < k - 1``).

    Bracket ``[0, u]`` with ``u = max(var(y), 1e-8)`` times 4 until ``Q(u) ≤ k-1`` (as meta),
    then Newton steps kept inside the bracket (bisection otherwise) until the step or the
    bracket is below 1e-15 relative.
    """
    n, k = y.shape
    target = k - 1
    positive = _q_gen(np.zeros(n), y, v)[0] >= target
    active = positive.copy()
    hi = np.maximum(y.var(axis=1), 1e-8)
    grow = active.copy()
    while grow.any():
        grow &= _q_gen(hi, y, v)[0] > target
        hi = np.where(grow, hi * 4, hi)
    lo = np.zeros(n)
    x = np.where(active, hi / 2, 0.0)
    for _ in range(_MAXITER):
        if not active.any():
            break
        f, df = _q_gen(x, y, v)
        f = f - target
        lo, hi = np.where(active & (f > 0), x, lo), np.where(active & (f <= 0), x, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(df < 0, f / df, np.nan)
        new = x - step
        new = np.where(np.isfinite(new) & (new > lo) & (new < hi), new, (lo + hi) / 2)
        exact = f == 0
        done = exact | (np.abs(new - x) <= 1e-15 * x) | (hi - lo <= 1e-15 * hi)
        x = np.where(active & ~exact, new, x)
        active &= ~done
    return np.where(positive, x, 0.0)


def _reml_step(t2, y, v):
    """Fisher-scoring step ``(y'PPy - tr P)/tr(PP)`` and the score, rowwise (meta._reml_step)."""
    w = 1 / (v + t2[:, None])
    w2 = w * w
    sw, sw2 = w.sum(axis=1), w2.sum(axis=1)
    r = w * (y - (_wsum(w, y) / sw)[:, None])
    tr_p = sw - sw2 / sw
    tr_pp = sw2 - 2 * _wsum(w2, w) / sw + sw2 * sw2 / (sw * sw)
    score = _wsum(r, r) - tr_p
    return score / tr_pp, score


def _reml_ll(t2, y, v):
    w = 1 / (v + t2[:, None])
    sw = w.sum(axis=1)
    mu = _wsum(w, y) / sw
    return -0.5 * (np.log(v + t2[:, None]).sum(axis=1) + np.log(sw) + _wsum(w, (y - mu[:, None]) ** 2))


def _halve(tau2, adj):
    """meta's ``while τ² + adj < 0: adj /= 2`` without the loop: halving is exact, so it is
    ``adj·2⁻ᵐ`` for the smallest such m (and 0 when τ² = 0, where the loop ends at -0.0)."""
    neg = tau2 + adj < 0
    if not neg.any():
        return adj
    pos = neg & (tau2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(pos, np.floor(np.log2(-adj / np.where(pos, tau2, 1.0))) - 1, 0)
    out = np.where(pos, np.ldexp(adj, -np.maximum(m, 0).astype(int)), adj)  # m is at most the count
    for _ in range(8):
        still = pos & (tau2 + out < 0)
        if not still.any():
            break
        out = np.where(still, out / 2, out)
    return np.where(neg & (tau2 == 0), 0.0, out)


def _tau2_reml(y, v, index):
    """REML, rowwise, exactly as ``meta._tau2_reml`` (start at the Hedges estimate, Fisher
    scoring with secant polish below steps of 1e-4, halving of steps that cross 0, stop at a
    change ≤ 1e-12; 0 when the boundary is the maximum). Only unconverged rows are iterated."""
    n, k = y.shape
    tau2 = np.maximum(0.0, (((y - y.mean(axis=1)[:, None]) ** 2).sum(axis=1) - v.sum(axis=1) * (1 - 1 / k))
                      / (k - 1))
    prev_t, prev_s, has_prev = np.zeros(n), np.zeros(n), np.zeros(n, dtype=bool)
    rows = np.arange(n)
    for _ in range(_MAXITER):
        t = tau2[rows]
        adj, score = _reml_step(t, y[rows], v[rows])
        pt, ps = prev_t[rows], prev_s[rows]
        secant = has_prev[rows] & (np.abs(adj) < 1e-4) & (score != ps)
        with np.errstate(divide="ignore", invalid="ignore"):
            adj = np.where(secant, -score * (t - pt) / (score - ps), adj)
        prev_t[rows], prev_s[rows], has_prev[rows] = t, score, True
        adj = _halve(t, adj)
        tau2[rows] = t + adj
        rows = rows[~(np.abs(adj) <= _TAU2_TOL)]
        if rows.size == 0:
            break
    else:
        raise RuntimeError(f"REML Fisher scoring did not converge in 1000 iterations for specification(s) "
                           f"{index[rows].tolist()}.")
    zero = (tau2 < 1e-8) & (_reml_step(np.zeros(n), y, v)[1] <= 0)
    zero |= _reml_ll(np.zeros(n), y, v) - _reml_ll(tau2, y, v) > _TAU2_TOL
    return np.where(zero, 0.0, tau2)


def _tau2(y, v, model, method, index):
    """τ² of each row: 0 for the common-effect model, else its estimator's."""
    tau2 = np.zeros(y.shape[0])
    for name, fn in (("DL", _tau2_dl), ("PM", _tau2_pm), ("REML", _tau2_reml)):
        rows = (model == "random") & (method == name)
        if rows.any():
            args = (y[rows], v[rows]) + ((index[rows],) if name == "REML" else ())
            tau2[rows] = fn(*args)
    return tau2


# --------------------------------------------------------------------------- pooling
def _pool_k(y, v, model, method, ci, alpha, index):
    """Rows with the same k >= 2: meta._fit's μ, SE, CI, prediction interval, p, τ², Q."""
    df = y.shape[1] - 1
    w0 = 1 / v
    sw0 = w0.sum(axis=1)
    q = np.maximum(0.0, _wsum(w0, (y - (_wsum(w0, y) / sw0)[:, None]) ** 2))
    tau2 = _tau2(y, v, model, method, index)
    w = 1 / (v + tau2[:, None])
    sw = w.sum(axis=1)
    mu = _wsum(w, y) / sw
    se = 1 / np.sqrt(sw)
    hk = (ci == "hksj") | (ci == "hksj-adhoc")
    rss = _wsum(w, (y - mu[:, None]) ** 2)
    factor = np.where(rss > _EPS, np.maximum(rss, 0) / df, 0.0)
    factor = np.where(ci == "hksj-adhoc", np.maximum(1.0, factor), factor)  # meta._fit
    se = np.where(hk, se * np.sqrt(factor), se)
    crit = np.where(hk, -special.stdtrit(df, alpha / 2), -special.ndtri(alpha / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = -np.abs(mu / se)
        pval = np.where(hk, 2 * special.stdtr(df, z), 2 * special.ndtr(z))
    # prediction interval as meta._fit: random effects, k >= 3, t with k - 2 df
    t_pi = -special.stdtrit(np.maximum(df - 1, 1), alpha / 2)
    half_pi = np.where((model == "random") & (df >= 2), t_pi * np.sqrt(tau2 + se * se), np.nan)
    return dict(mu=mu, se=se, ci_low=mu - crit * se, ci_high=mu + crit * se, pi_low=mu - half_pi,
                pi_high=mu + half_pi, pval=pval, tau2=tau2, q=q)


def _pool_single(y, v, alpha):
    """k = 1 (meta._single): the study itself with a z CI, no heterogeneity, no PI."""
    mu, se = y[:, 0], np.sqrt(v[:, 0])
    crit = -special.ndtri(alpha / 2)
    nan = np.full(mu.shape, np.nan)
    return dict(mu=mu, se=se, ci_low=mu - crit * se, ci_high=mu + crit * se, pi_low=nan, pi_high=nan,
                pval=2 * special.ndtr(-np.abs(mu / se)), tau2=np.zeros(mu.shape), q=nan)


def pool_batch(yi, vi, *, model="random", tau2="REML", ci="z", alpha=0.05) -> BatchResult:
    """Pool every specification; ``yi``/``vi`` are sequences of per-study arrays (lengths may
    differ) or (n, k_max) arrays with NaN where a specification has fewer studies.

    ``model`` ("random"/"fixed"), ``tau2`` ("REML"/"DL"/"PM"), ``ci`` ("z"/"hksj") and
    ``alpha`` are one value for all specifications or one per specification, with the
    meanings of :func:`evtreport.meta.pool_two_arm`.

    Example: ``pool_batch([y1, y2], [v1, v2], tau2=["REML", "PM"], ci="hksj").ci_low``.
    """
    y, v = _same_width(_padded(yi, "yi"), _padded(vi, "vi"))
    n = y.shape[0]
    opts = dict(model=_per_spec(model, n, MODELS, "model"), tau2_method=_per_spec(tau2, n, TAU2_METHODS, "tau2"),
                ci_method=_per_spec(ci, n, CI_METHODS, "ci"),
                alpha=_per_spec(alpha, n, None, "alpha"))
    present = _check(y, v, opts["alpha"])
    k = present.sum(axis=1)
    out = {name: np.empty(n) for name in ("mu", "se", "ci_low", "ci_high", "pi_low", "pi_high", "pval", "tau2", "q")}
    for kk in np.unique(k):
        rows = np.flatnonzero(k == kk)
        yk, vk = y[rows][present[rows]].reshape(-1, kk), v[rows][present[rows]].reshape(-1, kk)
        a = opts["alpha"][rows]
        part = (_pool_single(yk, vk, a) if kk == 1 else
                _pool_k(yk, vk, opts["model"][rows], opts["tau2_method"][rows], opts["ci_method"][rows], a, rows))
        for name, values in part.items():
            out[name][rows] = values
    opts["tau2_method"] = opts["tau2_method"].astype(object)
    opts["tau2_method"][opts["model"] != "random"] = None  # as PoolResult.tau2_method
    arrays = {"k": k, **out, **opts}
    for arr in arrays.values():
        arr.flags.writeable = False
    return BatchResult(**arrays)


def back_transform(x, transform: str, n_hm=None) -> np.ndarray:
    """Analysis scale -> natural scale as :mod:`evtreport.meta`: ``exp`` for "log" (RR, OR),
    inverse logit for "logit", identity for "raw" (RD, raw proportions), and for "ft" the
    inverse double arcsine at the harmonic mean of the study sizes ``n_hm`` (one per value)."""
    x = np.asarray(x, dtype=float)
    if transform == "log":
        return np.exp(x)
    if transform == "logit":
        return special.expit(x)
    if transform == "raw":
        return x
    if transform == "ft":
        if n_hm is None:
            raise ValueError("transform 'ft' needs n_hm, the harmonic mean of the study sizes.")
        return _ipft(x, np.asarray(n_hm, dtype=float))
    raise ValueError(f"Unknown transform {transform!r}; expected one of {', '.join(map(repr, BACK_TRANSFORMS))}.")
