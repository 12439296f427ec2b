"""Inverse-variance meta-analysis of proportions and of two-arm binary outcomes.

The computations mirror R's metafor (``escalc`` + ``rma.uni`` + ``predict``), and the
test-suite compares every figure with reference values produced by metafor
(``tests/reference/metafor_reference.R``).

Notation: ``y_i`` is a study's effect on the analysis scale, ``v_i`` its sampling variance,
``w_i = 1/(v_i + τ²)`` the weights (``τ² = 0`` for the common-effect model), and
``μ = Σ w_i y_i / Σ w_i`` the pooled effect with ``SE(μ) = (Σ w_i)^-1/2``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Callable

import numpy as np
import pandas as pd
from scipy import optimize, special

from .ci import as_counts

__all__ = [
    "TRANSFORMS",
    "MEASURES",
    "MODELS",
    "TAU2_METHODS",
    "CI_METHODS",
    "PoolResult",
    "SubgroupResult",
    "pool_proportions",
    "pool_two_arm",
    "leave_one_out",
    "subgroup_analysis",
]

TRANSFORMS = ("logit", "ft", "raw")
MEASURES = ("RD", "RR", "OR")
MODELS = ("fixed", "random")
TAU2_METHODS = ("DL", "REML", "PM")
CI_METHODS = ("z", "hksj", "hksj-adhoc")

_TEXT = {
    "fixed": "Common-effect (fixed) model",
    "random": "Random-effects model",
    "DL": "DerSimonian-Laird estimate of τ²",
    "REML": "REML estimate of τ²",
    "PM": "Paule-Mandel estimate of τ²",
    "z": "Wald (z) CI",
    "hksj": "Hartung-Knapp-Sidik-Jonkman CI",
    "hksj-adhoc": "modified Hartung-Knapp-Sidik-Jonkman CI (variance factor at least 1)",
    "logit": "logit transform",
    "ft": "Freeman-Tukey double-arcsine transform",
    "raw": "untransformed proportions",
    "RR": "log risk ratio",
    "OR": "log odds ratio",
    "RD": "risk difference",
}

# Convergence threshold for Fisher scoring (REML) and root tolerance (PM), on the τ² scale.
_TAU2_TOL = 1e-12
_MAXITER = 1000


@dataclass(frozen=True)
class PoolResult:
    """Result of a meta-analysis.

    ``estimate``, ``ci_*`` and ``pi_*`` are on the natural scale (proportion, ratio or
    difference); ``mu`` and ``se`` are on the analysis scale (logit, double arcsine, log, ...).
    For the common-effect model ``tau2 = 0`` and the prediction interval is NaN (metafor's
    ``predict`` gives no prediction interval for such models). ``i2`` follows metafor:
    ``100·τ²/(τ² + ṽ)`` with the typical within-study variance
    ``ṽ = (k-1)/(Σw - Σw²/Σw)`` (``w = 1/v_i``) for random-effects models and the Q-based
    value for the common-effect model; ``i2_q = max(0, 100·(Q - df)/Q)`` (Higgins &
    Thompson) always. ``studies`` is the per-study table, built on first access.
    """

    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    mu: float
    se: float
    pval: float
    k: int
    n_total: int
    events_total: int
    tau2: float
    tau: float
    i2: float
    i2_q: float
    h2: float
    q: float
    q_df: int
    q_p: float
    model: str
    tau2_method: str | None
    ci_method: str
    measure: str
    transform: str
    alpha: float
    note: str
    _study_data: dict = field(repr=False, compare=False)

    @cached_property
    def studies(self) -> pd.DataFrame:
        """Per-study table: label, counts, cc_applied, yi, vi (analysis scale), the study's
        own estimate and Wald CI on the natural scale, and weight (% of the total)."""
        data = dict(self._study_data)
        back, yi, half = data.pop("back"), data["yi"], -special.ndtri(self.alpha / 2) * np.sqrt(data["vi"])
        if data["label"] is None:
            data["label"] = _default_labels(self.k)
        weight = data.pop("weight")
        data.update(estimate=back(yi), ci_low=back(yi - half), ci_high=back(yi + half), weight=weight)
        return pd.DataFrame(data)

    @property
    def method_text(self) -> str:
        """Plain-English one-liner for captions, e.g. "Random-effects model, REML estimate
        of τ², Hartung-Knapp-Sidik-Jonkman CI, logit transform"."""
        parts = [_TEXT[self.model]]
        if self.model == "random":
            parts.append(_TEXT[self.tau2_method])
        parts.append(_TEXT[self.ci_method])
        parts.append(_TEXT[self.measure] if self.measure in MEASURES else _TEXT[self.transform])
        return ", ".join(parts)

    def to_dict(self) -> dict:
        """All scalar fields (everything except ``studies``) plus ``method_text``."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_study_data"}
        out["method_text"] = self.method_text
        return out


@dataclass(frozen=True)
class SubgroupResult:
    """Separate meta-analyses per subgroup plus the test for subgroup differences.

    ``q_between = Σ_g (μ_g - μ̄)² / SE_g²`` with ``μ̄`` the inverse-variance mean of the
    subgroup estimates (analysis scale), ``df = G - 1`` (the RevMan / Cochrane Handbook
    test; equals ``rma(yi=μ_g, sei=SE_g, method="FE")$QE`` in metafor).
    """

    subgroups: dict[str, PoolResult]
    overall: PoolResult
    q_between: float
    q_between_df: int
    q_between_p: float

    @property
    def table(self) -> pd.DataFrame:
        """One row per subgroup (scalars of each :class:`PoolResult`)."""
        rows = [{"subgroup": g, **r.to_dict()} for g, r in self.subgroups.items()]
        return pd.DataFrame(rows)


# --------------------------------------------------------------------------- validation
def _choice(value, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise ValueError(f"Unknown {name} {value!r}; expected one of {', '.join(map(repr, allowed))}.")
    return value


def _counts(x, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of counts; got shape {arr.shape}.")
    return as_counts(arr, name)


def _check_arms(events, totals, ev_name: str, tot_name: str) -> tuple[np.ndarray, np.ndarray]:
    x, n = _counts(events, ev_name), _counts(totals, tot_name)
    if x.size != n.size:
        raise ValueError(f"{ev_name} and {tot_name} must have the same length; got {x.size} and {n.size}.")
    if np.any(n == 0):
        raise ValueError(f"{tot_name} must be >= 1 patient in every study; found a total of 0.")
    if np.any(x > n):
        raise ValueError(f"{ev_name} must not exceed {tot_name} (study index {np.flatnonzero(x > n).tolist()}).")
    return x, n


def _check_options(model, tau2, ci, alpha, cc) -> None:
    _choice(model, MODELS, "model")
    _choice(tau2, TAU2_METHODS, "tau2 estimator")
    _choice(ci, CI_METHODS, "ci method")
    if not (isinstance(alpha, (int, float, np.floating)) and 0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha must be a number strictly between 0 and 1; got {alpha!r}.")
    if not (isinstance(cc, (int, float, np.floating)) and cc >= 0):
        raise ValueError(f"cc (continuity correction) must be a number >= 0; got {cc!r}.")


def _default_labels(k: int) -> np.ndarray:
    return np.char.add("Study ", np.arange(1, k + 1).astype(str))


def _labels(labels, k: int) -> np.ndarray | None:
    """Validated labels as a string array, or None for the default "Study 1", ... ."""
    if k == 0:
        raise ValueError("At least one study is required (k = 0).")
    if labels is None:
        return None
    labels = np.asarray(labels, dtype=object).astype(str)
    if labels.shape != (k,):
        raise ValueError(f"labels must have one entry per study; got {labels.size} labels for {k} studies.")
    return labels


# --------------------------------------------------------------------------- transforms
def _pft(p, n):
    """metafor ``transf.pft``: double arcsine of a proportion ``p`` for sample size ``n``."""
    x = p * n
    return 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))


def _ipft(y, n):
    """metafor ``transf.ipft`` (Miller 1978 inverse of the double arcsine for size ``n``)."""
    y = np.asarray(y, dtype=float)
    with np.errstate(all="ignore"):
        s = np.sin(2 * y)
        z = 0.5 * (1 - np.sign(np.cos(2 * y)) * np.sqrt(1 - (s + (s - 1 / s) / n) ** 2))
    z = np.where(y > _pft(1.0, n), 1.0, z)
    return np.where(y < _pft(0.0, n), 0.0, z)


def _only0(cells: list[np.ndarray], cc: float) -> tuple[list[np.ndarray], np.ndarray]:
    """escalc's ``to="only0"``: add ``cc`` to every cell of the studies with a zero cell."""
    zero = np.zeros(cells[0].shape, dtype=bool)
    for c in cells:
        zero |= c == 0
    return [c + cc * zero for c in cells], zero


def _escalc_proportion(x, n, transform, cc):
    """Per-study ``(yi, vi, cc_applied)`` as metafor ``escalc`` with measure PLO, PFT or PR.

    PLO: ``y = log(x/(n-x))``, ``v = 1/x + 1/(n-x)``; PR: ``y = x/n``, ``v = y(1-y)/n``,
    both after adding ``cc`` to events and non-events of studies with 0 or all events
    (escalc ``add=1/2, to="only0"``). PFT: ``y = ½[asin√(x/(n+1)) + asin√((x+1)/(n+1))]``,
    ``v = 1/(4n+2)``, no correction (escalc sets ``add = 0`` for PFT).
    """
    if transform == "ft":
        return _pft(x / n, n), 1.0 / (4 * n + 2), np.zeros(x.shape, dtype=bool)
    (xc, mc), zero = _only0([x, n - x], cc)
    nc = xc + mc
    with np.errstate(divide="ignore", invalid="ignore"):
        if transform == "logit":
            yi, vi = np.log(xc / mc), 1 / xc + 1 / mc
        else:
            p = xc / nc
            yi, vi = p, p * (1 - p) / nc
    if not np.all(np.isfinite(yi) & np.isfinite(vi) & (vi > 0)):
        raise ValueError(
            f"Studies with 0 or all events give an undefined or zero variance on the "
            f"{transform!r} scale with cc={cc}; use cc > 0 or transform='ft'."
        )
    return yi, vi, zero


def _escalc_two_arm(a, n1, c, n2, measure, cc):
    """Per-study ``(yi, vi, cc_applied)`` as metafor ``escalc`` for RR, OR and RD.

    Studies with any zero cell get ``cc`` added to all four cells (escalc defaults
    ``add=1/2, to="only0", drop00=FALSE``). RR: ``log(p1/p2)``, ``v = 1/a - 1/n1 + 1/c - 1/n2``;
    OR: ``log(ad/bc)``, ``v = 1/a + 1/b + 1/c + 1/d``; RD: ``p1 - p2``,
    ``v = p1(1-p1)/n1 + p2(1-p2)/n2``.
    """
    (a, b, c, d), zero = _only0([a, n1 - a, c, n2 - c], cc)
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "RR":
            yi, vi = np.log(p1 / p2), 1 / a - 1 / n1 + 1 / c - 1 / n2
        elif measure == "OR":
            yi, vi = np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d
        else:
            yi, vi = p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    if not np.all(np.isfinite(yi) & np.isfinite(vi) & (vi > 0)):
        raise ValueError(
            f"Studies with zero cells give an undefined or zero variance for measure "
            f"{measure!r} with cc={cc}; use cc > 0."
        )
    return yi, vi, zero


# --------------------------------------------------------------------------- τ² estimators
def _tau2_dl(yi, vi):
    """DerSimonian-Laird: ``max(0, (Q - (k-1)) / (Σw - Σw²/Σw))`` with ``w = 1/v``."""
    w = 1 / vi
    sw = w.sum()
    mu = w @ yi / sw
    q = w @ (yi - mu) ** 2
    return max(0.0, (q - (yi.size - 1)) / (sw - w @ w / sw))


def _q_gen(tau2, yi, vi):
    w = 1 / (vi + tau2)
    mu = w @ yi / w.sum()
    return w @ (yi - mu) ** 2


def _tau2_pm(yi, vi):
    """Paule-Mandel: root of the generalised ``Q(τ²) = Σ w_i(τ²)(y_i - μ(τ²))² = k - 1``.

    ``Q(τ²)`` decreases monotonically; ``τ² = 0`` when ``Q(0) < k - 1`` (metafor, Brent's
    method as ``uniroot``).
    """
    target = yi.size - 1
    if _q_gen(0.0, yi, vi) < target:
        return 0.0
    upper = max(np.var(yi), 1e-8)
    while _q_gen(upper, yi, vi) > target:
        upper *= 4
    return optimize.brentq(lambda t: _q_gen(t, yi, vi) - target, 0.0, upper, xtol=_TAU2_TOL, rtol=1e-14)


def _reml_ll(tau2, yi, vi):
    """Restricted log-likelihood up to a constant."""
    w = 1 / (vi + tau2)
    sw = w.sum()
    mu = w @ yi / sw
    return -0.5 * (np.log(vi + tau2).sum() + np.log(sw) + w @ (yi - mu) ** 2)


def _reml_step(tau2, yi, vi):
    """Fisher-scoring step ``(y'PPy - tr P) / tr(PP)`` at ``τ²``."""
    w = 1 / (vi + tau2)
    w2 = w * w
    sw, sw2 = w.sum(), w2.sum()
    r = w * (yi - w @ yi / sw)                      # P y
    tr_p = sw - sw2 / sw
    tr_pp = sw2 - 2 * (w2 @ w) / sw + sw2 * sw2 / (sw * sw)
    return (r @ r - tr_p) / tr_pp, r @ r - tr_p


def _tau2_reml(yi, vi):
    """REML by Fisher scoring exactly as metafor ``rma.uni``.

    Start at the Hedges (HE) estimate ``max(0, (Σ(y-ȳ)² - Σv(1-1/k)) / (k-1))``; update
    ``τ² += (y'PPy - tr P) / tr(PP)`` with ``P = W - ww'/Σw`` (for an intercept-only model
    ``Py = w(y - μ)``, ``tr P = Σw - Σw²/Σw``,
    ``tr PP = Σw² - 2Σw³/Σw + (Σw²)²/(Σw)²``), halving steps that would cross 0, until
    the change is below 1e-12; once steps are below 1e-4, secant steps on the score
    (same root, superlinear convergence) replace the linearly converging Fisher steps. As metafor, ``τ² = 0`` if the restricted log-likelihood
    at 0 is higher than at the solution; a solution that converges onto the boundary
    (score at 0 is ≤ 0) is reported as exactly 0.
    """
    k = yi.size
    tau2 = max(0.0, (((yi - yi.mean()) ** 2).sum() - vi.sum() * (1 - 1 / k)) / (k - 1))
    prev = None
    for _ in range(_MAXITER):
        adj, score = _reml_step(tau2, yi, vi)
        if prev is not None and abs(adj) < 1e-4 and score != prev[1]:
            adj = -score * (tau2 - prev[0]) / (score - prev[1])  # secant polish near the root
        prev = (tau2, score)
        while tau2 + adj < 0:
            adj /= 2
        tau2 += adj
        if abs(adj) <= _TAU2_TOL:
            break
    else:
        raise RuntimeError("REML Fisher scoring did not converge in 1000 iterations.")
    if tau2 < 1e-8 and _reml_step(0.0, yi, vi)[1] <= 0:
        return 0.0
    if _reml_ll(0.0, yi, vi) - _reml_ll(tau2, yi, vi) > _TAU2_TOL:
        return 0.0
    return float(tau2)


_TAU2 = {"DL": _tau2_dl, "REML": _tau2_reml, "PM": _tau2_pm}


# --------------------------------------------------------------------------- core fit
def _fit(yi, vi, model, tau2_method, ci, alpha):
    """Pool ``yi``/``vi`` (k >= 2) as ``rma.uni``; analysis-scale results.

    Q = Σ(1/v_i)(y_i - μ_FE)², df = k-1. Wald CI ``μ ± z·SE``. HKSJ (metafor
    ``test="knha"``): ``SE² = q·/Σw_i`` with the variance factor ``q = Σw_i(y_i-μ)²/(k-1)``
    (no truncation) and ``t_{k-1}`` quantiles; the modified HKSJ ("hksj-adhoc", metafor
    ``test="adhoc"``, Röver et al. 2015) uses ``max(1, q)``, so its interval is never narrower
    than the Wald interval. Prediction interval (random effects, k >= 3; Higgins, Thompson &
    Spiegelhalter 2009; Riley et al. 2011): ``μ ± t_{k-2}·√(τ² + SE²)`` with the model's SE;
    none for k < 3, where it is undefined.
    """
    k = yi.size
    df = k - 1
    w0 = 1 / vi
    sw0 = w0.sum()
    q = max(0.0, float(w0 @ (yi - w0 @ yi / sw0) ** 2))
    tau2 = _TAU2[tau2_method](yi, vi) if model == "random" else 0.0
    w = 1 / (vi + tau2)
    sw = w.sum()
    mu = float(w @ yi / sw)
    se = 1 / np.sqrt(sw)
    if ci in ("hksj", "hksj-adhoc"):
        rss = float(w @ (yi - mu) ** 2)
        factor = rss / df if rss > np.finfo(float).eps else 0.0
        se *= np.sqrt(max(1.0, factor) if ci == "hksj-adhoc" else factor)
        crit = -special.stdtrit(df, alpha / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            pval = 2 * special.stdtr(df, -abs(mu / se))
    else:
        crit = -special.ndtri(alpha / 2)
        pval = 2 * special.ndtr(-abs(mu / se))
    if model == "random" and k >= 3:
        half_pi = -special.stdtrit(k - 2, alpha / 2) * np.sqrt(tau2 + se * se)
        pi = (mu - half_pi, mu + half_pi)
    else:
        pi = (np.nan, np.nan)
    i2_q = max(0.0, 100 * (q - df) / q) if q > 0 else 0.0
    if model == "random":
        vt = df / (sw0 - w0 @ w0 / sw0)
        i2, h2 = 100 * tau2 / (vt + tau2), tau2 / vt + 1
    else:
        i2, h2 = i2_q, q / df
    return dict(
        mu=mu, se=float(se), pval=float(pval), ci=(mu - crit * se, mu + crit * se), pi=pi,
        tau2=float(tau2), i2=float(i2), i2_q=float(i2_q), h2=float(h2), q=q, q_df=df,
        q_p=float(special.chdtrc(df, q)), weight=100 * w / sw,
    )


def _single(yi, vi, alpha):
    """k = 1: the study itself, z CI, no heterogeneity."""
    z = -special.ndtri(alpha / 2)
    mu, se = float(yi[0]), float(np.sqrt(vi[0]))
    nan = float("nan")
    return dict(
        mu=mu, se=se, pval=float(2 * special.ndtr(-abs(mu / se))), ci=(mu - z * se, mu + z * se),
        pi=(nan, nan), tau2=0.0, i2=nan, i2_q=nan, h2=nan, q=nan, q_df=0, q_p=nan,
        weight=np.array([100.0]),
    )


def _assemble(yi, vi, back, back_study, studies, *, k, n_total, events_total, model, tau2,
              ci, alpha, measure, transform, note_extra):
    fit = _fit(yi, vi, model, tau2, ci, alpha) if k > 1 else _single(yi, vi, alpha)
    studies = {**studies, "yi": yi, "vi": vi, "weight": fit["weight"], "back": back_study}
    notes = []
    if k == 1:
        notes.append("Only one study (k = 1): nothing was pooled; the study's own estimate "
                     "and Wald CI are shown, heterogeneity is undefined.")
    if note_extra:
        notes.append(note_extra)
    if k > 1 and fit["se"] == 0:
        notes.append("All study estimates are identical, so the HKSJ variance factor is 0 and "
                     "the CI has zero width (as metafor).")
    estimate, (lo, hi), (plo, phi) = back(fit["mu"]), fit["ci"], fit["pi"]
    return PoolResult(
        estimate=float(estimate), ci_low=float(back(lo)), ci_high=float(back(hi)),
        pi_low=float(back(plo)), pi_high=float(back(phi)), mu=fit["mu"], se=fit["se"],
        pval=fit["pval"], k=k, n_total=int(n_total), events_total=int(events_total),
        tau2=fit["tau2"], tau=float(np.sqrt(fit["tau2"])), i2=fit["i2"], i2_q=fit["i2_q"],
        h2=fit["h2"], q=fit["q"], q_df=fit["q_df"], q_p=fit["q_p"], model=model,
        tau2_method=tau2 if model == "random" else None, ci_method=ci, measure=measure,
        transform=transform, alpha=float(alpha), note=" ".join(notes), _study_data=studies,
    )


# --------------------------------------------------------------------------- public API
def pool_proportions(events, totals, *, labels=None, transform="logit", model="random", tau2="REML",
                     ci="z", alpha=0.05, cc=0.5) -> PoolResult:
    """Meta-analysis of single-arm proportions (metafor ``escalc`` PLO/PFT/PR + ``rma``).

    Parameters
    ----------
    events, totals : sequence of int
        Events and patients per study (same length, ``0 <= events <= totals``, totals >= 1).
    labels : sequence of str, optional
        Study labels (default "Study 1", ...).
    transform : {"logit", "ft", "raw"}
        Analysis scale: logit (metafor PLO), Freeman-Tukey double arcsine (PFT) or raw
        proportion (PR). The pooled FT result is back-transformed with the harmonic mean
        of the study sizes (metafor ``transf.ipft.hm``); each study's own FT estimate and
        CI with its own size (``transf.ipft``), which returns exactly ``events/total``.
        Raw-scale limits are not truncated to [0, 1] (as metafor).
    model : {"random", "fixed"}
        Random-effects or common-effect (inverse-variance) model.
    tau2 : {"REML", "DL", "PM"}
        τ² estimator for the random-effects model (ignored for ``model="fixed"``).
    ci : {"z", "hksj", "hksj-adhoc"}
        Wald CI, Hartung-Knapp-Sidik-Jonkman (metafor ``test="knha"``) CI, or the modified
        HKSJ CI (metafor ``test="adhoc"``). The prediction interval (random effects,
        k >= 3 only) uses t with k-2 df (see ``_fit``).
    alpha : float
        1 - confidence level.
    cc : float
        Continuity correction added to events and non-events of studies with 0 or all
        events for the logit and raw scales (metafor ``add=1/2, to="only0"``); not used
        for "ft". Per-study CIs are Wald intervals on the analysis scale
        (``y_i ± z√v_i``), back-transformed.

    Returns
    -------
    PoolResult
        ``studies`` has columns label, events, total, cc_applied, yi, vi, estimate,
        ci_low, ci_high, weight (percent of the total weight).
    """
    _choice(transform, TRANSFORMS, "transform")
    _check_options(model, tau2, ci, alpha, cc)
    x, n = _check_arms(events, totals, "events", "totals")
    labels = _labels(labels, x.size)
    yi, vi, zero = _escalc_proportion(x, n, transform, cc)
    if transform == "logit":
        back = back_study = special.expit
    elif transform == "ft":
        n_hm = 1 / np.mean(1 / n)

        def back(y):
            return _ipft(y, n_hm)

        def back_study(y):
            return _ipft(y, n)
    else:
        back = back_study = np.asarray
    studies = {"label": labels, "events": x.astype(int), "total": n.astype(int), "cc_applied": zero}
    note = (f"Continuity correction {cc} added to {int(zero.sum())} stud"
            f"{'y' if zero.sum() == 1 else 'ies'} with 0 or all events." if zero.any() else "")
    return _assemble(yi, vi, back, back_study, studies, k=x.size, n_total=n.sum(),
                     events_total=x.sum(), model=model, tau2=tau2, ci=ci, alpha=alpha,
                     measure="proportion", transform=transform, note_extra=note)


def pool_two_arm(events_t, totals_t, events_c, totals_c, *, labels=None, measure="RR", model="random",
                 tau2="REML", ci="z", alpha=0.05, cc=0.5) -> PoolResult:
    """Meta-analysis of two-arm binary outcomes (treatment vs control).

    ``measure`` is "RR" (risk ratio) or "OR" (odds ratio), pooled on the log scale and
    exponentiated, or "RD" (risk difference), pooled as is. Studies with a zero cell
    (0 or all events in an arm) get ``cc`` added to all four cells (metafor ``escalc``
    defaults ``add=1/2, to="only0", drop00=FALSE``). Other arguments as in
    :func:`pool_proportions`. ``studies`` has columns label, events_t, total_t, events_c,
    total_c, cc_applied, yi, vi, estimate, ci_low, ci_high, weight; ``n_total`` and
    ``events_total`` count both arms.
    """
    _choice(measure, MEASURES, "measure")
    _check_options(model, tau2, ci, alpha, cc)
    a, n1 = _check_arms(events_t, totals_t, "events_t", "totals_t")
    c, n2 = _check_arms(events_c, totals_c, "events_c", "totals_c")
    if a.size != c.size:
        raise ValueError(f"Treatment and control arrays must have the same length; got {a.size} and {c.size}.")
    labels = _labels(labels, a.size)
    yi, vi, zero = _escalc_two_arm(a, n1, c, n2, measure, cc)
    back = np.exp if measure in ("RR", "OR") else np.asarray
    studies = {"label": labels, "events_t": a.astype(int), "total_t": n1.astype(int),
               "events_c": c.astype(int), "total_c": n2.astype(int), "cc_applied": zero}
    note = (f"Continuity correction {cc} added to all cells of {int(zero.sum())} stud"
            f"{'y' if zero.sum() == 1 else 'ies'} with a zero cell." if zero.any() else "")
    return _assemble(yi, vi, back, back, studies, k=a.size, n_total=n1.sum() + n2.sum(),
                     events_total=a.sum() + c.sum(), model=model, tau2=tau2, ci=ci, alpha=alpha,
                     measure=measure, transform="log" if measure in ("RR", "OR") else "raw",
                     note_extra=note)


def _split_labels(fn, data, kwargs):
    arrays = [np.asarray(d) for d in data]
    if not arrays:
        raise ValueError("Pass the study data arrays positionally, as to fn.")
    k = len(arrays[0])
    labels = _labels(kwargs.pop("labels", None), k)
    if labels is None:
        labels = _default_labels(k)
    if any(len(a) != k for a in arrays):
        raise ValueError(f"All data arrays must have the same length; got {[len(a) for a in arrays]}.")
    return arrays, labels, k


def leave_one_out(fn: Callable[..., PoolResult], *data, **kwargs) -> pd.DataFrame:
    """Re-run ``fn`` (``pool_proportions`` or ``pool_two_arm``) omitting each study in turn.

    Example: ``leave_one_out(pool_proportions, events, totals, labels=names, tau2="DL")``.
    Each refit is a complete analysis of the remaining studies (for FT, the harmonic
    mean of the remaining sizes is used). Returns one row per omitted study with columns
    omitted, k, estimate, ci_low, ci_high, pi_low, pi_high, tau2, i2, i2_q, q, q_p.
    """
    arrays, labels, k = _split_labels(fn, data, kwargs)
    if k < 2:
        raise ValueError(f"Leave-one-out needs at least 2 studies; got k = {k}.")
    cols = ["k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "i2_q", "q", "q_p"]
    rows = []
    for i in range(k):  # one complete refit per omitted study
        keep = np.arange(k) != i
        res = fn(*(a[keep] for a in arrays), labels=labels[keep], **kwargs)
        rows.append({"omitted": labels[i], **{c: getattr(res, c) for c in cols}})
    return pd.DataFrame(rows)


def subgroup_analysis(fn: Callable[..., PoolResult], *data, groups, **kwargs) -> SubgroupResult:
    """Separate meta-analyses per subgroup and the Q-test for subgroup differences.

    Each subgroup is analysed with ``fn(*data_in_group, **kwargs)`` (its own τ²; RevMan
    approach). The test compares the subgroup estimates on the analysis scale with a
    common-effect Q statistic, ``Q_between = Σ_g (μ_g - μ̄)²/SE_g²`` on G-1 df, where
    ``SE_g`` is each subgroup's SE as used for its CI (HKSJ-scaled when ``ci="hksj"``).
    ``overall`` is the analysis of all studies together.

    Example: ``subgroup_analysis(pool_proportions, events, totals, groups=site, labels=names)``.
    """
    arrays, labels, k = _split_labels(fn, data, kwargs)
    groups = np.asarray(groups, dtype=object).astype(str)
    if groups.size != k:
        raise ValueError(f"groups must have one entry per study; got {groups.size} for {k} studies.")
    names = list(pd.unique(groups))
    if len(names) < 2:
        raise ValueError(f"Subgroup analysis needs at least 2 subgroups; got {names}.")
    subgroups = {g: fn(*(a[groups == g] for a in arrays), labels=labels[groups == g], **kwargs) for g in names}
    overall = fn(*arrays, labels=labels, **kwargs)
    mu = np.array([r.mu for r in subgroups.values()])
    w = 1 / np.array([r.se for r in subgroups.values()]) ** 2
    q = float(w @ (mu - w @ mu / w.sum()) ** 2)
    df = len(names) - 1
    return SubgroupResult(subgroups=subgroups, overall=overall, q_between=q, q_between_df=df,
                          q_between_p=float(special.chdtrc(df, q)))
