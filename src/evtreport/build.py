"""The build steps the Makefile runs: `python -m evtreport.build <step> ...`.

  prepare  validate the data files and the parameter file; write the completed parameters
  execute  run one notebook with papermill (explicit kernel and timeouts), normalised output
  render   assemble HTML, print the PDF with Chromium, collect results.csv; publish atomically
  diff     what differs between two runs: parameters, data, estimates (evtreport.diff)

Every step exits non-zero with one message naming the file (and row/column or parameter)
or the step at fault, never a traceback; nothing is published unless every step succeeded.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import yaml

from . import params as params_mod
from . import results as results_mod
from . import scratch
from .paths import ROOT

KERNEL = "evtreport"
TITLE = "Endovascular thrombectomy in distal medium vessel occlusion and ICAS-related M1 occlusion"
SUBTITLE = "A reproducible evidence report: published outcome data, pooled estimates and a check of claims"


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

    scratch.sweep(out.parent / "executed", scratch.EXEC)
    dataset = data_mod.load_dataset(data_dir)  # raises DataValidationError listing every error
    values = params_mod.load(params_file, known_sources=set(dataset.sources["source_id"]))
    values["params_file"] = _rel(params_file)
    _atomic_write(out, yaml.safe_dump(values, sort_keys=False, allow_unicode=True))
    print(f"parameters OK: {_rel(params_file)}; data OK: {len(dataset.files)} files")


# -- execute -----------------------------------------------------------------------------------

def execute(notebook: Path, out: Path, params_file: Path, *, kernel: str = KERNEL,
            timeout: int = 600, start_timeout: int = 120) -> None:
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    parameters = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    scratch.sweep(out.parent, scratch.EXEC)
    tmp = scratch.mkdtemp(out.parent, scratch.EXEC)
    started = []
    try:
        with scratch.tempdir("kernel") as kernel_dir:
            tmp_out = tmp / out.name
            try:
                pm.execute_notebook(str(notebook), str(tmp_out), parameters=parameters,
                                    kernel_name=kernel, cwd=str(tmp), execution_timeout=timeout,
                                    start_timeout=start_timeout, progress_bar=False,
                                    log_output=False,
                                    kernel_manager_class=_kernel_manager_class(kernel_dir),
                                    on_notebook_start=lambda **_: started.append(True))
            except pm.PapermillExecutionError as exc:
                raise BuildError(f"{_rel(notebook)}: cell {exc.exec_count} raised "
                                 f"{exc.ename}: {exc.evalue}") from None
            except CellTimeoutError:
                raise BuildError(f"{_rel(notebook)}: a cell ran longer than {timeout} s "
                                 "(the execution timeout); the notebook was stopped") from None
            except BuildError:
                raise
            except OSError as exc:
                if exc.errno in _STORAGE_ERRORS or started:
                    raise  # main() names the path and what to do
                raise BuildError(_kernel_failure(notebook, kernel, exc)) from None
            except Exception as exc:
                if started and isinstance(exc, DeadKernelError):
                    raise BuildError(f"{_rel(notebook)}: the kernel died while running the "
                                     f"notebook (out of memory?){_kernel_said(kernel_dir)}; "
                                     "run make again") from None
                if started:
                    raise
                raise BuildError(_kernel_failure(notebook, kernel, exc,
                                                 _kernel_said(kernel_dir))) from None
        nb = nbformat.read(tmp_out, as_version=4)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    normalise(nb)
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                print(f"warning: {_rel(notebook)} wrote to stderr: {o['text'].strip()[:300]}",
                      file=sys.stderr)
    _atomic_write(out, nbformat.writes(nb) + "\n")
    print(f"executed {_rel(notebook)}")


_STORAGE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


def _kernel_failure(notebook: Path, kernel: str, exc: BaseException, said: str = "") -> str:
    return (f"{_rel(notebook)}: the Jupyter kernel {kernel!r} did not start "
            f"({type(exc).__name__}: {str(exc).strip()[:300] or 'no message'}){said}; "
            "rebuild the environment: rm -rf .venv && make venv")


KERNEL_LOG = "kernel.log"


def _kernel_said(kernel_dir: Path) -> str:
    """The last line the kernel wrote to its log, as '; the kernel said: ...' (or '')."""
    try:
        lines = (kernel_dir / KERNEL_LOG).read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return f"; the kernel said: {lines[-1].strip()[:300]}" if lines else ""


def _kernel_manager_class(workdir: Path):
    """A kernel manager whose kernel talks over IPC sockets in `workdir` and is shut down
    by request alone.

    Over TCP, jupyter_client picks free ports and the kernel binds them a moment later, so
    two notebooks starting at once could pick the same port (ZMQError: Address already in
    use). Unix sockets in a private directory cannot collide. And jupyter_client sends
    SIGINT before its shutdown request, which the idle kernel logs as "KeyboardInterrupt
    caught in kernel"; there is nothing to interrupt once the last cell has run.
    """
    from jupyter_client.manager import AsyncKernelManager

    ipc = workdir / "ipc"
    if len(str(ipc)) > 90:  # sun_path holds 107 bytes; the kernel appends "-<port>"
        raise BuildError(f"the temporary directory {tempfile.gettempdir()} has too long a path "
                         "for the kernel's sockets; set TMPDIR to a shorter one (e.g. /tmp)")

    class BuildKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.cache_ports = False
            self.ip = str(ipc)
            self.connection_file = str(workdir / "kernel.json")

        async def _async_interrupt_kernel(self) -> None:
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

        async def _async_launch_kernel(self, kernel_cmd, **kw) -> None:
            # The kernel's own log (errors only) goes to a file, not the build's stderr: a
            # step stopped mid-cell leaves the kernel a reply it cannot send, which it logs as
            # a traceback. What a failing kernel wrote is named by _kernel_said().
            with open(workdir / KERNEL_LOG, "ab") as log:
                await super()._async_launch_kernel(kernel_cmd, **kw, stderr=log)

    return BuildKernelManager


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

def print_pdf(html_file: Path, pdf_file: Path) -> None:
    from . import pdf, provenance

    try:
        pdf.print_pdf(html_file, pdf_file, epoch=provenance.source_date_epoch())
    except pdf.PrintError as exc:
        raise BuildError(str(exc)) from None


def render(run_name: str, params_file: Path, out_dir: Path, notebooks: list[Path]) -> None:
    from . import data as data_mod
    from . import diff, provenance, references

    values = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    shown_params = values.pop("params_file", _rel(params_file))
    nbs = [nbformat.read(p, as_version=4) for p in notebooks]
    rows = results_mod.collect(nbs)
    scratch.sweep(out_dir, scratch.STAGING)
    staging = scratch.mkdtemp(out_dir, scratch.STAGING)
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
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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

    # A step stopped with SIGTERM unwinds like Ctrl-C: the finally blocks remove its scratch
    # files and shut its kernel down. Once stopping, the libraries' logs (nbclient's "kernel
    # died", asyncio's unretrieved task) are noise: the one error line below says what happened.
    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGINT, _interrupted)
    step = {"prepare": "preparing", "execute": "executing", "render": "rendering",
            "diff": "comparing runs"}[args.step]
    target = {"prepare": getattr(args, "out", None), "execute": getattr(args, "notebook", None),
              "render": getattr(args, "out", None)}.get(args.step)
    what = f"{step} {_rel(target)}" if target is not None else step
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
    except OSError as exc:
        print(f"error: {what}: {_os_error(exc)}", file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired as exc:
        print(f"error: {what}: {Path(str(exc.cmd[0])).name} did not finish within "
              f"{exc.timeout:g} s and was stopped; run make again, and if it happens again "
              "look for what makes it hang", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"error: {what}: interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        print(f"error: {what}: stopped (SIGTERM)", file=sys.stderr)
        return 128 + signal.SIGTERM
    except Exception as exc:  # a defect of the build itself: say where, keep the output short
        if os.environ.get("EVTREPORT_DEBUG"):
            raise
        print(f"error: {what}: unexpected {type(exc).__name__}: {str(exc)[:500]} (this is a "
              "bug in the build; EVTREPORT_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1
    return 0


class _Terminated(BaseException):
    pass


def _terminated(signum, frame):
    logging.disable(logging.CRITICAL)
    raise _Terminated()


def _interrupted(signum, frame):
    logging.disable(logging.CRITICAL)
    raise KeyboardInterrupt()


def _os_error(exc: OSError) -> str:
    """'<path>: <what went wrong>; <what to do>' for an operating-system error."""
    path = f"{exc.filename}: " if exc.filename else ""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        return f"{path}no space left on the device; free some disk space and run make again"
    if exc.errno == errno.EDQUOT:
        return f"{path}disk quota exceeded; free some space and run make again"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (f"{path}permission denied; check that you may read and write there "
                "(ls -ld the directory), or build into another directory")
    if exc.errno == errno.EROFS:
        return f"{path}the file system is read-only; build into a writable directory"
    return f"{path}{reason}"


if __name__ == "__main__":
    sys.exit(main())
