"""Benchmark: evtreport.batch.pool_batch on a multiverse-sized set of specifications.

Run: ``.venv/bin/python tests/benchmarks/bench_batch.py``

Specifications as the multiverse makes them (fixed seed): 40 simulated two-arm meta-analyses
of 2-12 trials, each on the RR, OR and RD scales, every leave-one-trial-out subset and the
full set, under every model x τ² estimator x CI method (2 x 3 x 2). The per-trial effects are
computed first (not timed); the timed call is ``pool_batch(yi, vi, model=..., tau2=..., ci=...)``
with ragged per-specification arrays, the whole set at once. For comparison, the same
specifications one at a time through ``meta.pool_two_arm`` on a sample, scaled up. Prints the
median of 5 runs; no assertions (figures depend on the machine and its load).
"""

import itertools
import time

import numpy as np

from evtreport.batch import pool_batch
from evtreport.meta import CI_METHODS, MEASURES, MODELS, TAU2_METHODS, pool_two_arm

SEED = 20261201


def simulate(rng, k):
    n1, n2 = rng.integers(30, 400, k), rng.integers(30, 400, k)
    pc = rng.uniform(0.05, 0.5, k)
    pt = 1 / (1 + np.exp(-(np.log(pc / (1 - pc)) + rng.normal(0.3, 0.3, k))))
    return rng.binomial(n1, pt), n1, rng.binomial(n2, pc), n2


def specifications():
    rng = np.random.default_rng(SEED)
    counts, specs = [], []
    for _ in range(40):
        data = simulate(rng, int(rng.integers(2, 13)))
        k = data[0].size
        for measure in MEASURES:
            s = pool_two_arm(*data, measure=measure).studies
            yi, vi = s.yi.to_numpy(), s.vi.to_numpy()
            for keep in [np.ones(k, bool)] + [np.arange(k) != i for i in range(k)]:
                for model, tau2, ci in itertools.product(MODELS, TAU2_METHODS, CI_METHODS):
                    specs.append((yi[keep], vi[keep], model, tau2, ci))
                    counts.append(([d[keep] for d in data], measure))
    return specs, counts


def main():
    specs, counts = specifications()
    yi, vi = [s[0] for s in specs], [s[1] for s in specs]
    opts = dict(model=np.array([s[2] for s in specs]), tau2=np.array([s[3] for s in specs]),
                ci=np.array([s[4] for s in specs]))
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        pool_batch(yi, vi, **opts)
        times.append(time.perf_counter() - t0)
    t_batch = float(np.median(times))
    sample = np.random.default_rng(SEED).choice(len(specs), 300, replace=False)
    t0 = time.perf_counter()
    for i in sample:
        data, measure = counts[i]
        pool_two_arm(*data, measure=measure, model=specs[i][2], tau2=specs[i][3], ci=specs[i][4])
    t_single = (time.perf_counter() - t0) / sample.size * len(specs)
    print(f"batch: {len(specs)} specifications in {t_batch:.3f} s "
          f"({len(specs) / t_batch:,.0f} per second; one at a time with meta.pool_two_arm: "
          f"~{t_single:.1f} s)")


if __name__ == "__main__":
    main()
