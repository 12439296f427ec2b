"""The build steps the Makefile runs: `python -m evtreport.build <step> ...`.

  prepare  validate the data files and the parameter file; write the completed parameters
  execute  run one notebook with papermill (explicit kernel and timeouts), normalised output
  render   assemble HTML, print the PDF with Chromium, collect results.csv; publish atomically
  diff     what differs between two runs: parameters, data, estimates (evtreport.diff)

Every step exits non-zero with a message naming the file (and row/column or parameter)
at fault; nothing is published unless every step succeeded.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import yaml

from . import params as params_mod
from . import results as results_mod
from .paths import ROOT

KERNEL = "evtreport"
TITLE = "Endovascular thrombectomy in distal medium vessel occlusion and ICAS-related M1 occlusion"
SUBTITLE = "A reproducible evidence report: published outcome data, pooled estimates and a check of claims"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-quic", "--log-level=3")


class BuildError(RuntimeError):
    pass


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# -- prepare -----------------------------------------------------------------------------------

def prepare(params_file: Path, out: Path, data_dir: Path | None = None) -> None:
    from . import data as data_mod

    dataset = data_mod.load_dataset(data_dir)  # raises DataValidationError listing every error
    values = params_mod.load(params_file, known_sources=set(dataset.sources["source_id"]))
    values["params_file"] = _rel(params_file)
    _atomic_write(out, yaml.safe_dump(values, sort_keys=False, allow_unicode=True))
    print(f"parameters OK: {_rel(params_file)}; data OK: {len(dataset.files)} files")


# -- execute -----------------------------------------------------------------------------------

def execute(notebook: Path, out: Path, params_file: Path, *, kernel: str = KERNEL,
            timeout: int = 600) -> None:
    import papermill as pm

    parameters = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".exec-") as tmp:
        tmp_out = Path(tmp) / out.name
        try:
            pm.execute_notebook(str(notebook), str(tmp_out), parameters=parameters,
                                kernel_name=kernel, cwd=tmp, execution_timeout=timeout,
                                start_timeout=120, progress_bar=False, log_output=False)
        except pm.PapermillExecutionError as exc:
            raise BuildError(f"{_rel(notebook)}: cell {exc.exec_count} raised "
                             f"{exc.ename}: {exc.evalue}") from None
        nb = nbformat.read(tmp_out, as_version=4)
    normalise(nb)
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                print(f"warning: {_rel(notebook)} wrote to stderr: {o['text'].strip()[:300]}",
                      file=sys.stderr)
    _atomic_write(out, nbformat.writes(nb) + "\n")
    print(f"executed {_rel(notebook)}")


def normalise(nb: nbformat.NotebookNode) -> None:
    """Drop what changes between identical runs (timestamps, temporary paths, random ids)."""
    pm_meta = nb.metadata.get("papermill", {})
    nb.metadata["papermill"] = {"parameters": pm_meta.get("parameters", {}),
                                "version": pm_meta.get("version", "")}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)


# -- render and publish ------------------------------------------------------------------------

def find_chromium() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser",
                      "/usr/bin/chromium"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    raise BuildError("Chromium not found: install Debian's 'chromium' package "
                     "(`make system-deps` does it) or set CHROMIUM=/path/to/chromium")


def print_pdf(html_file: Path, pdf_file: Path) -> None:
    chromium = find_chromium()
    with tempfile.TemporaryDirectory(prefix="evt-chromium-") as profile:
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
               "--no-pdf-header-footer", f"--print-to-pdf={pdf_file}",
               html_file.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if proc.returncode != 0 or not pdf_file.exists() or pdf_file.stat().st_size == 0:
        raise BuildError(f"Chromium could not print {html_file} to PDF "
                         f"(exit {proc.returncode}): {proc.stderr.strip()[-500:]}")


def render(run_name: str, params_file: Path, out_dir: Path, notebooks: list[Path]) -> None:
    from . import data as data_mod
    from . import diff, provenance, references

    values = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    shown_params = values.pop("params_file", _rel(params_file))
    nbs = [nbformat.read(p, as_version=4) for p in notebooks]
    rows = results_mod.collect(nbs)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir, prefix=".staging-"))
    try:
        from .htmlreport import build_html

        record = provenance.run_record(run_name, shown_params, values)
        build_info = (f"built from git commit {record['commit']} with "
                      f"parameters {shown_params}")
        page = build_html(nbs, title=TITLE, subtitle=SUBTITLE, run_name=run_name,
                          params_file=shown_params, values=values, build_info=build_info,
                          data=record["data"],
                          changes=diff.reviewer_block(run_name, record, rows))
        (staging / "index.html").write_text(page, encoding="utf-8")
        (staging / "run.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        sources = data_mod.load_dataset().sources
        (staging / "references.json").write_text(references.csl_json(sources), encoding="utf-8")
        (staging / "references.bib").write_text(references.bibtex(sources), encoding="utf-8")
        (staging / "results.csv").write_text(results_mod.to_csv(rows), encoding="utf-8")
        print_pdf(staging / "index.html", staging / "report.pdf")
        (staging / "notebooks").mkdir()
        for p in notebooks:
            shutil.copyfile(p, staging / "notebooks" / p.name)
        publish(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"published {_rel(out_dir)}/index.html, report.pdf, results.csv ({len(rows)} estimates)")


def publish(staging: Path, out_dir: Path) -> None:
    """Move the staged files into place, each by an atomic rename; index.html last, so an
    interrupted publish leaves the Makefile's target older than its inputs."""
    nb_dir = out_dir / "notebooks"
    nb_dir.mkdir(exist_ok=True)
    new = {p.name for p in (staging / "notebooks").iterdir()}
    for p in sorted((staging / "notebooks").iterdir()):
        os.replace(p, nb_dir / p.name)
    for stale in nb_dir.glob("*.ipynb"):
        if stale.name not in new:
            stale.unlink()
    files = sorted(p.name for p in staging.iterdir() if p.is_file() and p.name != "index.html")
    for name in files + ["index.html"]:
        os.replace(staging / name, out_dir / name)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


# -- diff --------------------------------------------------------------------------------------

def diff_runs(a: str, b: str, *options: str) -> int:
    """`make diff`: see evtreport.diff."""
    from . import diff
    return diff.main([a, b, *options])


# -- command line ------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evtreport.build", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--params", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--data-dir", type=Path)
    p = sub.add_parser("execute")
    p.add_argument("notebook", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--params", type=Path, required=True)
    p.add_argument("--kernel", default=KERNEL)
    p.add_argument("--timeout", type=int, default=600)
    p = sub.add_parser("render")
    p.add_argument("--run", required=True)
    p.add_argument("--params", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("notebooks", type=Path, nargs="+")
    p = sub.add_parser("diff", help="what differs between two runs (evtreport.diff)")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("options", nargs=argparse.REMAINDER, help="--all, --csv")
    args = parser.parse_args(argv)

    try:
        if args.step == "prepare":
            prepare(args.params, args.out, args.data_dir)
        elif args.step == "execute":
            execute(args.notebook, args.out, args.params, kernel=args.kernel,
                    timeout=args.timeout)
        elif args.step == "render":
            render(args.run, args.params, args.out, args.notebooks)
        else:
            return diff_runs(args.a, args.b, *args.options)
    except (BuildError, ValueError) as exc:  # ParameterError, DataValidationError, ReportError
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
