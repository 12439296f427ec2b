"""Many notebook executions at once, as `make -j` runs them: how often does one fail?

    .venv/bin/python tests/stress/parallel_builds.py [--runs 80] [--jobs 8] [--mode build|stock]

`build` runs each through `python -m evtreport.build execute` (kernel over IPC sockets in a
private directory, shut down by request); `stock` runs papermill with jupyter_client's
defaults (TCP ports picked before the kernel binds them, SIGINT before shutdown), i.e. the
build before the fix. Each execution runs a small notebook of the evtreport kernel. The
script prints figures, it asserts nothing (not a timed test): executions, failures, how many
failed with "Address already in use", how many printed "KeyboardInterrupt caught in
kernel", scratch files left in the temporary directory, and the time per execution.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from evtreport import scratch

ROOT = Path(__file__).resolve().parents[2]
PY = ROOT / ".venv" / "bin" / "python"

STOCK = """
import sys, papermill as pm
pm.execute_notebook(sys.argv[1], sys.argv[2], kernel_name="evtreport", progress_bar=False,
                    start_timeout=120, execution_timeout=120)
"""


def notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "evtreport", "display_name": "evtreport",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell("x = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("import math\nprint(math.sqrt(x))")]
    nbformat.write(nb, path)


def run_one(i: int, mode: str, work: Path) -> tuple[int, float, str]:
    src, params = work / "nb.ipynb", work / "params.yaml"
    out = work / "out" / "executed" / f"nb{i:03d}.ipynb"
    if mode == "build":
        cmd = [str(PY), "-m", "evtreport.build", "execute", str(src), str(out),
               "--params", str(params)]
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = [str(PY), "-c", STOCK, str(src), str(out)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    return proc.returncode, time.perf_counter() - t0, proc.stdout + proc.stderr


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=80)
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--mode", choices=("build", "stock"), default="build")
    args = ap.parse_args()

    tmp_root = Path(tempfile.gettempdir())
    before = set(tmp_root.iterdir())
    with tempfile.TemporaryDirectory(prefix="evt-stress-") as w:
        work = Path(w)
        notebook(work / "nb.ipynb")
        (work / "params.yaml").write_text("x: 4\n")
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(lambda i: run_one(i, args.mode, work), range(args.runs)))
        wall = time.perf_counter() - t0
    new = sorted(p.name for p in set(tmp_root.iterdir()) - before)
    ours = [n for n in new if n.startswith(f"evt-{scratch.TAG}-")]
    json = [n for n in new if n.startswith("tmp") and n.endswith(".json")]

    failed = [out for rc, _, out in results if rc != 0]
    in_use = sum("Address already in use" in out for _, _, out in results)
    interrupt = sum("KeyboardInterrupt caught in kernel" in out for _, _, out in results)
    times = [t for _, t, _ in results]
    print(f"mode {args.mode}: {args.runs} executions, {args.jobs} at a time, "
          f"{wall:.1f} s wall")
    print(f"  failed:                               {len(failed)}")
    print(f"  'Address already in use':             {in_use}")
    print(f"  'KeyboardInterrupt caught in kernel': {interrupt}")
    print(f"  scratch dirs of this checkout left:   {len(ours)}")
    print(f"  new {tmp_root}/tmp*.json (connection files of any process on the machine): "
          f"{len(json)}")
    print(f"  seconds per execution: median {statistics.median(times):.2f}, "
          f"max {max(times):.2f}")
    for out in failed[:3]:
        print("  --- a failure:\n    " + "\n    ".join(out.strip().splitlines()[-6:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
