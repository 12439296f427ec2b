"""Benchmark: the whole multiverse of the main estimates (analyses/multiverse.py) on the
project's data under the default parameters, in-process.

Run: ``.venv/bin/python tests/benchmarks/bench_multiverse.py`` (also ``make bench``).
Prints ``multiverse: N specifications in X s``: the best of 5 runs, each from the loaded
data to every specification's numbers (extraction with the project's selection code, one
pool_batch call). No assertions (the time depends on the machine and its load).
"""

import time

from evtreport import params
from evtreport.analyses.multiverse import multiverse
from evtreport.data import load_dataset


def main():
    ds = load_dataset()
    p = params.validate({})
    times, n = [], 0
    for _ in range(5):
        t0 = time.perf_counter()
        n = multiverse(ds, p).n_specs
        times.append(time.perf_counter() - t0)
    print(f"multiverse: {n} specifications in {min(times):.2f} s")


if __name__ == "__main__":
    main()
