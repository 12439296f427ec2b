"""Confidence intervals for a single binomial proportion.

Thin, validated wrapper around :func:`statsmodels.stats.proportion.proportion_confint`
with user-facing method names that are mapped explicitly to statsmodels' names.
"""

from __future__ import annotations

import numpy as np
from statsmodels.stats.proportion import proportion_confint

__all__ = ["METHODS", "proportion_ci"]

#: User-facing method name -> ``method`` argument of statsmodels' ``proportion_confint``.
_STATSMODELS_NAME = {
    "wilson": "wilson",
    "clopper-pearson": "beta",
    "jeffreys": "jeffreys",
    "agresti-coull": "agresti_coull",
    "wald": "normal",
}

#: Allowed values of ``method`` in :func:`proportion_ci`.
METHODS: tuple[str, ...] = tuple(_STATSMODELS_NAME)


def as_counts(x, name: str) -> np.ndarray:
    """Validated non-negative whole-number counts as floats (ValueError naming `name`)."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf" or arr.dtype == bool:
        raise ValueError(f"{name} must be numeric (integer counts); got dtype {arr.dtype}.")
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite integer counts; got {x!r}.")
    if np.any(arr != np.round(arr)):
        raise ValueError(f"{name} must be whole numbers (counts); got {x!r}.")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0; got {x!r}.")
    return arr


def proportion_ci(events, total, method: str = "wilson", alpha: float = 0.05):
    """Two-sided confidence interval for a binomial proportion ``events / total``.

    Parameters
    ----------
    events, total : int or array_like of int
        Number of events and number of patients (broadcast against each other).
    method : {"wilson", "clopper-pearson", "jeffreys", "agresti-coull", "wald"}
        Interval method (see :data:`METHODS`). Mapping to statsmodels:

        - ``"wilson"`` -> ``"wilson"``: score interval,
          ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)``.
        - ``"clopper-pearson"`` -> ``"beta"``: exact interval from Beta quantiles,
          ``Beta(α/2; x, n-x+1)`` and ``Beta(1-α/2; x+1, n-x)`` (0 and 1 at the limits).
        - ``"jeffreys"`` -> ``"jeffreys"``: equal-tailed quantiles of ``Beta(x+½, n-x+½)``.
        - ``"agresti-coull"`` -> ``"agresti_coull"``: Wald interval around
          ``(x + z²/2)/(n + z²)`` with ``n + z²`` patients.
        - ``"wald"`` -> ``"normal"``: ``p ± z·sqrt(p(1-p)/n)``.

        statsmodels clips the Wilson, Agresti-Coull and Wald limits to [0, 1]; the Wald
        interval has zero width when ``events`` is 0 or ``total``.
    alpha : float
        1 - confidence level, strictly between 0 and 1 (0.05 gives a 95% CI).

    Returns
    -------
    (low, high) : tuple of float, or of numpy arrays when any input is an array.

    Raises
    ------
    ValueError
        Unknown method, counts that are negative, non-integer or non-finite,
        ``total == 0``, ``events > total``, or ``alpha`` outside (0, 1).
    """
    if method not in _STATSMODELS_NAME:
        raise ValueError(f"Unknown CI method {method!r}; expected one of {', '.join(METHODS)}.")
    if not (isinstance(alpha, (int, float, np.floating)) and 0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha must be a number strictly between 0 and 1; got {alpha!r}.")
    scalar = np.ndim(events) == 0 and np.ndim(total) == 0
    x = as_counts(events, "events")
    n = as_counts(total, "total")
    try:
        x, n = (a.copy() for a in np.broadcast_arrays(x, n))
    except ValueError as exc:
        raise ValueError(
            f"events and total must have the same length (or one be a scalar); "
            f"got shapes {np.shape(events)} and {np.shape(total)}."
        ) from exc
    if np.any(n == 0):
        raise ValueError("total must be >= 1 patient; got a total of 0.")
    if np.any(x > n):
        raise ValueError("events must not exceed total (events <= total for every entry).")
    low, high = proportion_confint(x, n, alpha=float(alpha), method=_STATSMODELS_NAME[method])
    if scalar:
        return float(np.asarray(low)), float(np.asarray(high))
    return np.asarray(low, dtype=float), np.asarray(high, dtype=float)
