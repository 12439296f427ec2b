"""Benchmark: evtreport random-effects pooling vs statsmodels ``combine_effects``.

Run: ``.venv/bin/python tests/benchmarks/bench_meta.py``

For k = 10 ... 10 000 simulated single-arm studies (fixed seed; sizes 20-500, true logit
proportions N(logit 0.3, 0.5²)), times

- evtreport: ``pool_proportions(events, totals, transform="logit", model="random",
  tau2="REML", ci="hksj")`` end to end (logit effects with continuity correction, REML by
  Fisher scoring, HKSJ CI, prediction interval, per-study weights; the per-study
  DataFrame ``.studies`` is built on first access and not timed, as statsmodels builds
  its ``summary_frame()`` only when asked), and
- statsmodels: ``combine_effects(yi, vi, method_re="iterated")`` (Paule-Mandel, the
  closest iterative estimator it offers) on the same logit ``yi``/``vi``.

Prints the median wall time over repeats and the ratio statsmodels / evtreport (> 1 means
evtreport is faster). No assertions: figures depend on the machine and its load.
"""

import time

import numpy as np
from statsmodels.stats.meta_analysis import combine_effects

from evtreport.meta import pool_proportions

KS = (10, 100, 1000, 10_000)
SEED = 20240611


def simulate(k, rng):
    totals = rng.integers(20, 501, size=k)
    p = 1 / (1 + np.exp(-rng.normal(np.log(0.3 / 0.7), 0.5, size=k)))
    return rng.binomial(totals, p), totals


def median_time(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main():
    rng = np.random.default_rng(SEED)
    print(f"{'k':>7} {'evtreport REML+HKSJ+PI (ms)':>28} {'statsmodels PM (ms)':>20} {'ratio sm/evt':>13}"
          f" {'tau2 (REML)':>12}")
    for k in KS:
        events, totals = simulate(k, rng)
        res = pool_proportions(events, totals, tau2="REML", ci="hksj")
        yi, vi = res.studies.yi.to_numpy(), res.studies.vi.to_numpy()
        repeats = max(15, 3000 // k * 10) if k < 1000 else 25
        t_evt = median_time(lambda: pool_proportions(events, totals, tau2="REML", ci="hksj"), repeats)
        t_sm = median_time(lambda: combine_effects(yi, vi, method_re="iterated"), repeats)
        print(f"{k:>7} {t_evt * 1e3:>28.3f} {t_sm * 1e3:>20.3f} {t_sm / t_evt:>13.2f} {res.tau2:>12.6f}")


if __name__ == "__main__":
    main()
