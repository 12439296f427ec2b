"""Bayesian random-effects meta-analysis: the normal-normal hierarchical model, as R's bayesmeta.

Model (Röver 2020, J Stat Softw 93(6), Section 2; "NNHM")::

    y_i | θ_i ~ N(θ_i, v_i),   θ_i | μ, τ ~ N(μ, τ²),   i = 1..k
    μ ~ uniform on the real line (improper; bayesmeta's default) or N(μ_p, σ_p²)
    τ ~ half-normal(s):  p(τ) = √2 / (s√π) · exp(-τ² / (2s²)),  τ ≥ 0

Computation, "exact" in the sense of bayesmeta (no MCMC): with ``w_i(τ) = 1/(v_i + τ²)``,

- ``μ | τ, y ~ N(μ̂(τ), σ̂²(τ))``, ``1/σ̂² = Σw_i + 1/σ_p²``, ``μ̂ = σ̂²(Σw_i y_i + μ_p/σ_p²)``
  (the ``1/σ_p²`` terms are absent for the uniform prior; JSS Eq. 12 and 14);
- the marginal likelihood ``p(y | τ)`` is JSS Eq. 13 (uniform) or 15 (normal), and the
  heterogeneity posterior ``p(τ | y) ∝ p(y | τ) p(τ)`` is one-dimensional (Eq. 16);
- every other marginal is a 1-D mixture over that posterior (Eq. 17-18, Sections 2.7, 2.8):
  ``p(μ | y) = ∫ N(μ; μ̂(τ), σ̂²(τ)) p(τ | y) dτ``; the prediction for a new trial
  ``θ_new`` mixes ``N(μ̂, σ̂² + τ²)``; a trial's shrunken effect ``θ_i`` mixes
  ``N(b_i y_i + (1-b_i) μ̂, b_i v_i + (1-b_i)² σ̂²)`` with ``b_i = τ²/(v_i + τ²)``.

The τ-integrals use a composite 16-point Gauss-Legendre rule on [0, τ_max], refined
adaptively (panel halving) until the posterior's normalising constant and first two moments
of τ and μ agree between each panel and its two halves to 1e-13 of their magnitude; τ_max is
chosen so that ``p(τ | y) < e⁻⁵⁰ · max p(τ | y)`` beyond it (see :func:`_tau_max`). Quantiles
invert the mixture CDFs with Brent's method (xtol 1e-12). :attr:`BayesResult.integration_error`
is the largest change of any reported summary when the final rule is replaced by the one with
half as many panels: an a-posteriori bound on the quadrature error (typically < 1e-10).
bayesmeta integrates τ the same way but approximates the μ-mixture by the DIRECT algorithm
(Röver & Friede 2017): with its default accuracy (δ = 0.01) its μ and θ figures agree with
these to about 1e-3, with δ = 1e-5 to better than 1e-6 (tests/test_bayes.py).

Choice of prior scale. For log odds ratios (and similar outcomes such as log risk ratios)
half-normal priors with scale 0.5 or 1.0 are the routine choice (JSS p. 8: "for log-OR (or
similar) endpoints, the routine use of half-normal distributions with scale 0.5 or 1.0 has
been suggested by Friede et al. (2017a,b)"; Spiegelhalter et al. 2004 call τ of 0.1-0.5
"reasonable", 0.5-1.0 "fairly high", > 1.0 "fairly extreme"). For the risk difference see
:func:`rd_tau_scale`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import optimize, special

__all__ = [
    "DIRECTIONS",
    "RELEVANT_RATIOS",
    "BayesResult",
    "BenefitHarm",
    "bayes_meta",
    "bayes_pool",
    "benefit_harm",
    "rd_tau_scale",
]

DIRECTIONS = ("beneficial", "harmful")
#: Ratio thresholds of a clinically relevant effect: a ratio below 0.8 or above 1.25 (= 1/0.8).
RELEVANT_RATIOS = (0.8, 1.25)

_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)
_REL_TOL = 1e-13          # per-panel agreement of the refinement integrals
_MAX_PANELS = 4096
_TAIL_NATS = 50.0         # log-density drop that defines τ_max
_XTOL = 1e-12             # quantile root tolerance
_LOG_2PI = np.log(2 * np.pi)


# --------------------------------------------------------------------------- validation
def _check_data(yi, vi) -> tuple[np.ndarray, np.ndarray]:
    y, v = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    if y.ndim != 1 or v.ndim != 1 or y.size != v.size:
        raise ValueError(f"yi and vi must be 1-D of the same length; got shapes {y.shape} and {v.shape}.")
    if y.size == 0:
        raise ValueError("At least one study is required (k = 0).")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise ValueError(f"yi must be finite and vi finite and > 0; got yi={y.tolist()}, vi={v.tolist()}.")
    return y, v


def _positive(x, name: str) -> float:
    if not (isinstance(x, (int, float, np.floating, np.integer)) and np.isfinite(x) and x > 0):
        raise ValueError(f"{name} must be a finite number > 0; got {x!r}.")
    return float(x)


def _check_level(level) -> float:
    if not (isinstance(level, (int, float, np.floating)) and 0.0 < float(level) < 1.0):
        raise ValueError(f"level must be a number strictly between 0 and 1; got {level!r}.")
    return float(level)


# --------------------------------------------------------------------------- model pieces
def _conditional(tau, y, v, mu_prior):
    """``(μ̂(τ), σ̂²(τ), log p(y | τ))`` for an array of τ (JSS Eq. 12-15).

    ``log p(y|τ) = -½[(k-1)log 2π + Σlog(v_i+τ²) + Σw_i(y_i-μ̂)² + log(Σw_i)]`` for the uniform
    prior; for ``N(μ_p, σ_p²)`` add the prior as a pseudo-observation not inflated by τ²:
    ``-½[k log 2π + log σ_p² + Σlog(v_i+τ²) + Σw_i(y_i-μ̂)² + (μ_p-μ̂)²/σ_p² + log(Σw_i + 1/σ_p²)]``.
    """
    t2 = np.asarray(tau, dtype=float)[:, None] ** 2
    w = 1 / (v + t2)
    prec, num = w.sum(axis=1), w @ y
    const = (y.size - 1) * _LOG_2PI
    if mu_prior is not None:
        m_p, w_p = mu_prior[0], 1 / mu_prior[1] ** 2
        prec, num, const = prec + w_p, num + w_p * m_p, const + _LOG_2PI - np.log(w_p)
    mu = num / prec
    q = (w * (y - mu[:, None]) ** 2).sum(axis=1)
    if mu_prior is not None:
        q = q + w_p * (m_p - mu) ** 2
    loglik = -0.5 * (const + np.log(v + t2).sum(axis=1) + q + np.log(prec))
    return mu, 1 / prec, loglik


def _log_prior(tau, scale):
    """Half-normal log density ``log(√2/(s√π)) - τ²/(2s²)``."""
    tau = np.asarray(tau, dtype=float)
    return 0.5 * np.log(2 / np.pi) - np.log(scale) - tau ** 2 / (2 * scale ** 2)


def _log_post(tau, y, v, scale, mu_prior):
    """Unnormalised log posterior of τ: ``log p(y | τ) + log p(τ)``."""
    return _conditional(tau, y, v, mu_prior)[2] + _log_prior(tau, scale)


def _tau_grid(y, v, scale):
    """A coarse geometric τ grid (with 0) spanning every plausible scale of the problem."""
    top = max(scale, float(np.std(y)), float(np.sqrt(v.max())))
    return np.concatenate([[0.0], np.geomspace(1e-8 * top, 1e4 * top, 801)])


def _tau_max(y, v, scale, mu_prior):
    """Upper integration limit: ``p(τ|y) ≤ e⁻⁵⁰ max p(τ|y)`` for every τ above it.

    ``log p̃(τ) = log L(τ) - τ²/(2s²) ≤ U - τ²/(2s²)`` with ``U = sup log L``, so beyond
    ``τ_max = s·√(2(U - M + 50))`` (``M`` = max of log p̃) the density is below ``e⁻⁵⁰`` of
    its maximum; U and M are taken on :func:`_tau_grid` (under-estimating U by a fraction
    of a nat is absorbed by the 50-nat margin). Also returns the grid and its log posterior.
    """
    grid = _tau_grid(y, v, scale)
    loglik = _conditional(grid, y, v, mu_prior)[2]
    logpost = loglik - grid ** 2 / (2 * scale ** 2)
    u, m = loglik.max(), logpost.max()
    return scale * np.sqrt(2 * (u - m + _TAIL_NATS)), grid, logpost


def _initial_breaks(tau_max, grid, logpost):
    """Panel edges: 16 equal panels over the grid region within 60 nats of the mode, plus
    the stretches [0, a] and [b, τ_max] (so that a narrow posterior is never stepped over)."""
    keep = np.flatnonzero(logpost >= logpost.max() - 60)
    a = grid[max(keep[0] - 1, 0)]
    b = min(grid[min(keep[-1] + 1, grid.size - 1)], tau_max)
    return np.unique(np.concatenate([[0.0, tau_max], np.linspace(a, b, 17)]))


def _gl_nodes(lo, hi):
    """16-point Gauss-Legendre nodes and weights on each panel ``[lo_j, hi_j]``."""
    half = (hi - lo)[:, None] / 2
    return (lo[:, None] + half * (_GL_X + 1)), half * _GL_W


def _panel_integrals(lo, hi, y, v, scale, mu_prior, shift):
    """Per panel: ∫ p̃(τ)·[1, τ, τ², μ̂, μ̂² + σ̂²] dτ (``p̃`` scaled by ``e^-shift``)."""
    x, wt = _gl_nodes(lo, hi)
    mu, s2, loglik = _conditional(x.ravel(), y, v, mu_prior)
    dens = np.exp(loglik + _log_prior(x.ravel(), scale) - shift).reshape(x.shape) * wt
    mu, s2, t = mu.reshape(x.shape), s2.reshape(x.shape), x
    return np.stack([dens, dens * t, dens * t * t, dens * mu, dens * (mu * mu + s2)]).sum(axis=2)


def _magnitudes(panels):
    """Scale of each refinement integral: the sum of its panels' absolute values; for
    ∫p̃·μ̂, which can vanish by symmetry, at least √(∫p̃ · ∫p̃(μ̂² + σ̂²))."""
    mag = np.abs(panels).sum(axis=1)
    mag[3] = max(mag[3], np.sqrt(mag[0] * mag[4]))
    return mag


def _refine(breaks, y, v, scale, mu_prior, shift):
    """Halve every panel whose 16-point integrals differ from those of its two halves by more
    than 1e-13 of their magnitudes (:func:`_magnitudes`); return the edges of the panels that
    passed (the final rule uses their halves, see :func:`_posterior`)."""
    lo, hi = breaks[:-1], breaks[1:]
    while True:
        mid = (lo + hi) / 2
        whole = _panel_integrals(lo, hi, y, v, scale, mu_prior, shift)
        halves = (_panel_integrals(lo, mid, y, v, scale, mu_prior, shift)
                  + _panel_integrals(mid, hi, y, v, scale, mu_prior, shift))
        bad = (np.abs(whole - halves) > _REL_TOL * _magnitudes(halves)[:, None]).any(axis=0)
        if not bad.any() or 2 * lo.size > _MAX_PANELS:
            return np.unique(np.concatenate([lo, hi]))
        lo, hi = (np.concatenate([lo[~bad], lo[bad], mid[bad]]),
                  np.concatenate([hi[~bad], mid[bad], hi[bad]]))
        order = np.argsort(lo)
        lo, hi = lo[order], hi[order]


# --------------------------------------------------------------------------- mixture
@dataclass(frozen=True, eq=False)
class _Mixture:
    """The τ-posterior as quadrature nodes ``tau`` with normalised weights ``w``, and the
    conditional moments ``mu``, ``s2`` of μ at each node."""

    y: np.ndarray
    v: np.ndarray
    scale: float
    mu_prior: tuple[float, float] | None
    edges: np.ndarray
    shift: float
    log_norm: float
    tau: np.ndarray
    w: np.ndarray
    mu: np.ndarray
    s2: np.ndarray

    def moments(self, which):
        """Component means and variances of the mixture for μ, 'pred' (θ_new) or study i."""
        if which == "mu":
            return self.mu, self.s2
        if which == "pred":
            return self.mu, self.s2 + self.tau ** 2
        t2, vi = self.tau ** 2, self.v[which]
        b = t2 / (vi + t2)
        return b * self.y[which] + (1 - b) * self.mu, b * vi + (1 - b) ** 2 * self.s2

    def cdf(self, x, which="mu"):
        """``F(x) = Σ_j w_j Φ((x - m_j)/s_j)``."""
        m, s2 = self.moments(which)
        z = (np.asarray(x, dtype=float)[..., None] - m) / np.sqrt(s2)
        return special.ndtr(z) @ self.w

    def sf(self, x, which="mu"):
        """``1 - F(x)`` computed as ``Σ_j w_j Φ((m_j - x)/s_j)`` (accurate in the upper tail)."""
        m, s2 = self.moments(which)
        z = (m - np.asarray(x, dtype=float)[..., None]) / np.sqrt(s2)
        return special.ndtr(z) @ self.w

    def pdf(self, x, which="mu"):
        """``f(x) = Σ_j w_j φ((x - m_j)/s_j)/s_j``."""
        m, s2 = self.moments(which)
        s = np.sqrt(s2)
        z = (np.asarray(x, dtype=float)[..., None] - m) / s
        return (np.exp(-0.5 * z * z) / (np.sqrt(2 * np.pi) * s)) @ self.w

    def quantile(self, p, which="mu"):
        """Root of ``F(x) = p`` by Brent's method on a bracket of ±40 component SDs."""
        if which == "tau":
            return self.tau_quantile(p)
        m, s2 = self.moments(which)
        s = np.sqrt(s2)
        lo, hi = float((m - 40 * s).min()), float((m + 40 * s).max())
        return optimize.brentq(lambda x: float(self.cdf(x, which)) - p, lo, hi, xtol=_XTOL, rtol=1e-15)

    def tau_pdf(self, t):
        """Normalised ``p(τ | y)`` (0 for τ < 0)."""
        t = np.asarray(t, dtype=float)
        flat = np.maximum(t.ravel(), 0)
        out = np.exp(_log_post(flat, self.y, self.v, self.scale, self.mu_prior) - self.log_norm)
        return np.where(t < 0, 0.0, out.reshape(t.shape))

    def tau_cdf(self, t):
        """``∫_0^t p(τ|y) dτ``: whole panels below t plus a 16-point rule on the partial one."""
        t = float(t)
        if t <= 0:
            return 0.0
        if t >= self.edges[-1]:
            return 1.0
        j = int(np.searchsorted(self.edges, t, side="right")) - 1
        full = self.w[: 16 * j].sum()
        x, wt = _gl_nodes(np.array([self.edges[j]]), np.array([t]))
        return float(min(1.0, full + self.tau_pdf(x.ravel()) @ wt.ravel()))

    def tau_quantile(self, p):
        return optimize.brentq(lambda t: self.tau_cdf(t) - p, 0.0, float(self.edges[-1]),
                               xtol=_XTOL, rtol=1e-15)


def _mixture(y, v, scale, mu_prior, edges, shift):
    lo, hi = edges[:-1], edges[1:]
    x, wt = _gl_nodes(lo, hi)
    tau = x.ravel()
    mu, s2, loglik = _conditional(tau, y, v, mu_prior)
    raw = np.exp(loglik + _log_prior(tau, scale) - shift) * wt.ravel()
    total = raw.sum()
    return _Mixture(y=y, v=v, scale=scale, mu_prior=mu_prior, edges=edges, shift=shift,
                    log_norm=shift + np.log(total), tau=tau, w=raw / total, mu=mu, s2=s2)


def _posterior(y, v, scale, mu_prior) -> tuple[_Mixture, _Mixture]:
    """The final mixture (every refined panel halved) and the one on the unhalved panels,
    whose difference bounds the quadrature error."""
    tau_max, grid, logpost = _tau_max(y, v, scale, mu_prior)
    shift = float(logpost.max() + _log_prior(0.0, scale))
    coarse = _refine(_initial_breaks(tau_max, grid, logpost), y, v, scale, mu_prior, shift)
    fine = np.sort(np.concatenate([coarse, (coarse[:-1] + coarse[1:]) / 2]))
    return _mixture(y, v, scale, mu_prior, fine, shift), _mixture(y, v, scale, mu_prior, coarse, shift)


# --------------------------------------------------------------------------- results
def _summary(mix: _Mixture, level: float) -> dict:
    """Medians and central intervals of μ, τ and θ_new; means and SDs of μ and τ."""
    lo, hi = (1 - level) / 2, (1 + level) / 2
    out = {}
    for name in ("mu", "tau", "pred"):
        out[name] = mix.quantile(0.5, name)
        out[f"{name}_low"], out[f"{name}_high"] = mix.quantile(lo, name), mix.quantile(hi, name)
    m, s2 = mix.moments("mu")
    out["mu_mean"] = float(mix.w @ m)
    out["mu_sd"] = float(np.sqrt(mix.w @ (s2 + m * m) - out["mu_mean"] ** 2))
    out["tau_mean"] = float(mix.w @ mix.tau)
    out["tau_sd"] = float(np.sqrt(mix.w @ mix.tau ** 2 - out["tau_mean"] ** 2))
    return out


def _natural(name: str) -> property:
    """A read-only property: field ``name`` back-transformed to the natural scale."""
    return property(lambda self: float(self.back(getattr(self, name))),
                    doc=f"``{name}`` on the natural scale (see :meth:`BayesResult.back`).")


@dataclass(frozen=True)
class BayesResult:
    """Posterior summaries of a Bayesian random-effects meta-analysis.

    Analysis scale (log RR, log OR, RD, ...): ``mu`` (posterior median of μ) with the central
    credible interval ``mu_low``-``mu_high`` at ``level``; ``mu_mean``, ``mu_sd``; ``tau``
    (posterior median of τ), ``tau_low``-``tau_high`` (central), ``tau_mean``, ``tau_sd``; ``pred`` with
    ``pred_low``-``pred_high``: median and central prediction interval of a new trial's effect
    θ_new. ``estimate``, ``ci_low``/``ci_high`` and ``pi_low``/``pi_high`` are the same
    quantiles back-transformed (exp for RR and OR): quantiles, unlike means, commute with a
    monotone back-transformation. ``mu_prior_mean``/``mu_prior_sd`` are NaN for the uniform
    prior. ``integration_error`` is the a-posteriori quadrature error bound of the summaries
    (see the module docstring). Methods give ``P(μ < c)``, ``P(μ > c)``, densities, CDFs,
    quantiles and intervals of μ, τ, θ_new and each θ_i; ``studies`` has the shrunken trials.
    """

    mu: float
    mu_low: float
    mu_high: float
    mu_mean: float
    mu_sd: float
    tau: float
    tau_low: float
    tau_high: float
    tau_mean: float
    tau_sd: float
    pred: float
    pred_low: float
    pred_high: float
    k: int
    tau_scale: float
    mu_prior_mean: float
    mu_prior_sd: float
    level: float
    measure: str | None
    integration_error: float
    labels: tuple[str, ...]
    _mix: _Mixture = field(repr=False, compare=False)

    # -- natural scale
    def back(self, x):
        """Analysis scale -> natural scale (exp for RR and OR, identity otherwise)."""
        return np.exp(x) if self.measure in ("RR", "OR") else np.asarray(x, dtype=float)

    estimate = _natural("mu")
    ci_low = _natural("mu_low")
    ci_high = _natural("mu_high")
    pi_low = _natural("pred_low")
    pi_high = _natural("pred_high")

    @property
    def method_text(self) -> str:
        """E.g. "Bayesian random-effects model, half-normal(0.5) prior on τ, uniform prior on μ"."""
        mu = ("uniform prior on μ" if np.isnan(self.mu_prior_sd)
              else f"normal({self.mu_prior_mean:g}, {self.mu_prior_sd:g}²) prior on μ")
        return f"Bayesian random-effects model, half-normal({self.tau_scale:g}) prior on τ, {mu}"

    # -- probabilities and distributions (analysis scale)
    def p_below(self, c: float) -> float:
        """``P(μ < c | y)``."""
        return float(self._mix.cdf(c))

    def p_above(self, c: float) -> float:
        """``P(μ > c | y)``."""
        return float(self._mix.sf(c))

    def conditional(self, tau: float) -> tuple[float, float]:
        """Mean and SD of ``μ | τ, y`` (JSS Eq. 12/14; bayesmeta's ``cond.moment``). With the
        uniform prior and τ² a frequentist estimate these are that analysis' μ and SE."""
        mu, s2, _ = _conditional(np.array([_positive(tau, "tau") if tau else 0.0]), self._mix.y,
                                 self._mix.v, self._mix.mu_prior)
        return float(mu[0]), float(np.sqrt(s2[0]))

    def cdf(self, x, which="mu"):
        """Posterior CDF of ``which`` = "mu", "tau", "pred" or a study index, at ``x``."""
        if which == "tau":
            return np.reshape([self._mix.tau_cdf(t) for t in np.ravel(x)], np.shape(x))
        return self._mix.cdf(x, self._which(which))

    def density(self, x, which="mu"):
        """Posterior density of ``which`` (as in :meth:`cdf`) at ``x``."""
        if which == "tau":
            return self._mix.tau_pdf(x)
        return self._mix.pdf(x, self._which(which))

    def quantile(self, p: float, which="mu") -> float:
        return float(self._mix.quantile(p, self._which(which)))

    def interval(self, level: float | None = None, which="mu", kind="central") -> tuple[float, float]:
        """Central (quantiles ``(1∓level)/2``) or shortest credible interval of ``which``.

        Shortest (bayesmeta's default, JSS Section 2.9): minimise ``Q(p + level) - Q(p)`` over
        ``p ∈ [0, 1 - level]`` (bounded Brent search; ``p = 0`` is tried too, which gives the
        one-sided interval ``[0, Q(level)]`` for τ).
        """
        level = self.level if level is None else _check_level(level)
        if kind == "central":
            return self.quantile((1 - level) / 2, which), self.quantile((1 + level) / 2, which)
        if kind != "shortest":
            raise ValueError(f"kind must be 'central' or 'shortest'; got {kind!r}.")

        def width(p):
            return self.quantile(p + level, which) - self.quantile(p, which)

        eps = 0.0 if which == "tau" else 1e-12
        best = optimize.minimize_scalar(width, bounds=(eps, 1 - level - 1e-12), method="bounded",
                                        options={"xatol": 1e-10})
        p = 0.0 if which == "tau" and width(0.0) <= best.fun else best.x
        return self.quantile(p, which), self.quantile(p + level, which)

    def density_grid(self, n: int = 401, which="mu", coverage: float = 0.999):
        """``(x, density)`` on ``n`` equally spaced points spanning the central ``coverage``
        interval of ``which`` (τ: from 0), for plotting."""
        lo = 0.0 if which == "tau" else self.quantile((1 - coverage) / 2, which)
        x = np.linspace(lo, self.quantile((1 + coverage) / 2, which), n)
        return x, self.density(x, which)

    @cached_property
    def studies(self) -> pd.DataFrame:
        """One row per trial: label, yi, se, and the posterior of its shrunken effect θ_i:
        median, central ``level`` interval (analysis scale), mean and sd; ``estimate``,
        ``ci_low``, ``ci_high`` back-transformed."""
        rows = []
        lo, hi = (1 - self.level) / 2, (1 + self.level) / 2
        for i, label in enumerate(self.labels):
            m, s2 = self._mix.moments(i)
            mean = float(self._mix.w @ m)
            med, low, high = (self._mix.quantile(p, i) for p in (0.5, lo, hi))
            rows.append({"label": label, "yi": float(self._mix.y[i]), "se": float(np.sqrt(self._mix.v[i])),
                         "median": med, "low": low, "high": high, "mean": mean,
                         "sd": float(np.sqrt(self._mix.w @ (s2 + m * m) - mean ** 2)),
                         "estimate": float(self.back(med)), "ci_low": float(self.back(low)),
                         "ci_high": float(self.back(high))})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        """Scalar summaries (analysis and natural scale) plus ``method_text``."""
        names = ["mu", "mu_low", "mu_high", "mu_mean", "mu_sd", "tau", "tau_low", "tau_high", "tau_mean",
                 "tau_sd", "pred", "pred_low", "pred_high", "k", "tau_scale", "mu_prior_mean", "mu_prior_sd", "level",
                 "measure", "integration_error", "estimate", "ci_low", "ci_high", "pi_low", "pi_high",
                 "method_text"]
        return {n: getattr(self, n) for n in names}

    def _which(self, which):
        if which in ("mu", "tau", "pred"):
            return which
        if isinstance(which, (int, np.integer)) and 0 <= which < self.k:
            return int(which)
        if which in self.labels:
            return self.labels.index(which)
        raise ValueError(f"which must be 'mu', 'tau', 'pred', a study index 0..{self.k - 1} or a label; "
                         f"got {which!r}.")


# --------------------------------------------------------------------------- public API
def bayes_meta(yi, vi, *, tau_scale: float, mu_prior: tuple[float, float] | None = None,
               level: float = 0.95, labels=None, measure: str | None = None) -> BayesResult:
    """Bayesian random-effects meta-analysis of effects ``yi`` with variances ``vi``.

    Parameters
    ----------
    yi, vi : sequence of float
        Per-trial effects on the analysis scale and their sampling variances (> 0), e.g.
        ``PoolResult.studies.yi`` / ``.vi``.
    tau_scale : float
        Scale ``s`` of the half-normal prior on τ (0.5 or 1.0 for log RR / log OR; for RD see
        :func:`rd_tau_scale`).
    mu_prior : (mean, sd), optional
        Normal prior on μ; default None is the improper uniform prior (bayesmeta's default).
    level : float
        Credibility level of the reported central intervals.
    labels : sequence of str, optional
        Trial labels (default "Study 1", ...).
    measure : {"RR", "OR", "RD", None}
        Only used to back-transform (``exp`` for "RR" and "OR").
    """
    y, v = _check_data(yi, vi)
    scale = _positive(tau_scale, "tau_scale")
    level = _check_level(level)
    if mu_prior is not None:
        if len(mu_prior) != 2 or not np.isfinite(mu_prior[0]):
            raise ValueError(f"mu_prior must be None or (mean, sd); got {mu_prior!r}.")
        mu_prior = (float(mu_prior[0]), _positive(mu_prior[1], "mu_prior sd"))
    if measure not in ("RR", "OR", "RD", None):
        raise ValueError(f"measure must be 'RR', 'OR', 'RD' or None; got {measure!r}.")
    labels = tuple(f"Study {i + 1}" for i in range(y.size)) if labels is None else tuple(map(str, labels))
    if len(labels) != y.size:
        raise ValueError(f"labels must have one entry per study; got {len(labels)} labels for {y.size} studies.")
    fine, coarse = _posterior(y, v, scale, mu_prior)
    summary, check = _summary(fine, level), _summary(coarse, level)
    error = max(abs(summary[key] - check[key]) for key in summary)
    nan = float("nan")
    return BayesResult(**summary, k=int(y.size), tau_scale=scale,
                       mu_prior_mean=mu_prior[0] if mu_prior else nan,
                       mu_prior_sd=mu_prior[1] if mu_prior else nan, level=level, measure=measure,
                       integration_error=float(error), labels=labels, _mix=fine)


def bayes_pool(pool, *, tau_scale: float, level: float | None = None, **kwargs) -> BayesResult:
    """:func:`bayes_meta` on the per-trial effects of a frequentist :class:`~evtreport.meta.PoolResult`
    (same ``yi``, ``vi``, labels and measure; ``level`` defaults to ``1 - pool.alpha``)."""
    s = pool.studies
    level = 1 - pool.alpha if level is None else level
    measure = pool.measure if pool.measure in ("RR", "OR", "RD") else None
    return bayes_meta(s.yi.to_numpy(), s.vi.to_numpy(), tau_scale=tau_scale, level=level,
                      labels=s.label.tolist(), measure=measure, **kwargs)


def rd_tau_scale(scale: float, risk: float) -> float:
    """Half-normal scale for τ on the risk-difference scale equivalent to ``scale`` on log OR:
    ``s_RD = s_logOR · p(1 - p)``, with ``p`` the control-arm risk (pooled ``Σc_i / Σn2_i``).

    Why: (1) bayesmeta's unit-information argument (Röver 2020, JSS 93(6), Appendix A.1, p. 46)
    gives one patient's SD of a log OR at event probability ``p`` as ``2/√(p(1-p))``; the same
    argument for the RD (``a = c = pN/2``, ``N = 1``: ``Var = 2·p(1-p)/(1/2) = 4p(1-p)``) gives
    ``2√(p(1-p))``, so the ratio of the two scales is ``p(1-p)``. (2) It is the delta method,
    ``dp/d logit(p) = p(1-p)``: a between-trial SD τ of log ORs moves risks near ``p`` by about
    ``p(1-p)·τ``. (3) Unlike the log-RR route (``s·p``), it is symmetric in ``p ↔ 1-p``, as
    the RD's magnitude is whether events or non-events are counted (favourable outcome vs its
    complement). The log-OR base is the one for which the 0.5/1.0 scales were proposed (JSS
    p. 8). So half-normal(0.5) and (1.0) on log OR become ``0.5·p(1-p)`` and ``1.0·p(1-p)`` on
    RD; at most 0.125 and 0.25 (``p = 0.5``), and close to ``0.5p`` and ``p`` for rare events.
    """
    scale = _positive(scale, "scale")
    if not (isinstance(risk, (int, float, np.floating)) and 0.0 < float(risk) < 1.0):
        raise ValueError(f"risk must be a proportion strictly between 0 and 1; got {risk!r}.")
    return scale * float(risk) * (1 - float(risk))


@dataclass(frozen=True)
class BenefitHarm:
    """Posterior probabilities that the treatment helps or harms (μ on the analysis scale).

    ``null`` is the no-effect value (0 on the log and RD scales); ``benefit_bound`` and
    ``harm_bound`` are the thresholds of a relevant effect on the analysis scale.
    ``p_benefit = P(μ on the benefit side of null)``, ``p_harm`` the complement,
    ``p_relevant_benefit = P(μ beyond benefit_bound)``, ``p_relevant_harm = P(μ beyond harm_bound)``.
    """

    p_benefit: float
    p_harm: float
    p_relevant_benefit: float
    p_relevant_harm: float
    null: float
    benefit_bound: float
    harm_bound: float
    direction: str
    measure: str


def _relevant_bounds(measure, control_risk, ratios):
    """(low, high) thresholds of a relevant effect on the analysis scale: ``log(0.8)``,
    ``log(1.25)`` for RR and OR; for RD the risk differences that these risk ratios make at
    the control risk ``p_c``: ``p_c(0.8 - 1) = -0.2 p_c`` and ``p_c(1.25 - 1) = 0.25 p_c``."""
    low, high = ratios
    if measure in ("RR", "OR"):
        return float(np.log(low)), float(np.log(high))
    if control_risk is None or not (0.0 < float(control_risk) < 1.0):
        raise ValueError(f"measure 'RD' needs control_risk, a proportion strictly between 0 and 1; "
                         f"got {control_risk!r}.")
    return float(control_risk) * (low - 1), float(control_risk) * (high - 1)


def benefit_harm(result: BayesResult, *, direction: str, measure: str | None = None,
                 control_risk: float | None = None, ratios: tuple[float, float] = RELEVANT_RATIOS) -> BenefitHarm:
    """Probabilities of benefit, harm and relevant benefit / harm from ``result``.

    ``direction`` is the outcome's direction in the vocabulary: "beneficial" (more events is
    better, e.g. favourable mRS) or "harmful" (more events is worse: death, sICH).
    For a harmful outcome benefit is ``μ < 0``, relevant benefit ``ratio < 0.8`` and relevant
    harm ``ratio > 1.25``; for a beneficial outcome the sides swap (relevant benefit
    ``ratio > 1.25``, relevant harm ``ratio < 0.8``). ``measure`` "RR"/"OR" work on the log
    scale; "RD" on the raw scale with thresholds ``-0.2·p_c`` and ``+0.25·p_c`` (the risk
    differences of RR 0.8 and 1.25 at the control risk ``control_risk``). ``measure``
    defaults to ``result.measure`` and must agree with it when both are given.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}; got {direction!r}.")
    measure = result.measure if measure is None else measure
    if measure not in ("RR", "OR", "RD") or result.measure not in (None, measure):
        raise ValueError(f"measure must be 'RR', 'OR' or 'RD' and match the result's ({result.measure!r}); "
                         f"got {measure!r}.")
    low, high = _relevant_bounds(measure, control_risk, ratios)
    below, above = result.p_below(0.0), result.p_above(0.0)
    rel_low, rel_high = result.p_below(low), result.p_above(high)
    if direction == "harmful":
        return BenefitHarm(below, above, rel_low, rel_high, 0.0, low, high, direction, measure)
    return BenefitHarm(above, below, rel_high, rel_low, 0.0, high, low, direction, measure)
