"""Faults of the build process: each ends in one `error:` line naming the step or path (no
traceback); scratch files of interrupted builds are removed; kernels start without port
races and stop without being interrupted. In-process where possible; the make tests run
only the `prepare` step or a dry run."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
import yaml

from evtreport import build, scratch
from evtreport import params as params_mod
from conftest import ROOT, run_make

DEAD_PID = 2 ** 22 + 12345  # above Linux's pid_max: never a live process


def one_error_line(capsys_or_fd) -> str:
    err = capsys_or_fd.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err, err
    errors = [ln for ln in lines if ln.startswith("error: ")]
    assert len(errors) == 1, err
    return errors[0]


@pytest.fixture
def completed_params(tmp_path) -> Path:
    values = dict(params_mod.DEFAULTS, params_file="params/default.yaml")
    p = tmp_path / "build" / "params.yaml"
    p.parent.mkdir(parents=True)
    p.write_text(yaml.safe_dump(values, sort_keys=False))
    return p


def tiny_notebook(path: Path, code: str = "print(x)") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "evtreport", "display_name": "evtreport",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell("x = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# A chapter\n\nSome text."), params,
                nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, path)
    return path


# --------------------------------------------------------------------------- OS errors

@pytest.mark.parametrize("code, expected", [
    (errno.EACCES, "permission denied; check that you may read and write there"),
    (errno.ENOSPC, "no space left on the device; free some disk space and run make again"),
])
def test_os_error_while_writing_is_one_error_line(tmp_path, monkeypatch, capsys, code,
                                                  expected):
    out = tmp_path / "b" / "params.yaml"

    def refuse(path, text):
        raise OSError(code, os.strerror(code), str(path))
    monkeypatch.setattr(build, "_atomic_write", refuse)
    rc = build.main(["prepare", "--params", str(ROOT / "params" / "default.yaml"),
                     "--out", str(out)])
    assert rc == 1
    line = one_error_line(capsys)
    assert line.startswith(f"error: preparing {out}: {out}: {expected}"), line


def test_unwritable_output_directory_is_one_error_line(tmp_path, capsys):
    """A real OS error: the output's parent is a file."""
    (tmp_path / "b").write_text("not a directory")
    out = tmp_path / "b" / "params.yaml"
    rc = build.main(["prepare", "--params", str(ROOT / "params" / "default.yaml"),
                     "--out", str(out)])
    assert rc == 1
    line = one_error_line(capsys)
    assert line.startswith(f"error: preparing {out}: {tmp_path / 'b'}:"), line


def test_unexpected_exception_is_one_error_line(monkeypatch, capsys, tmp_path):
    def boom(*a, **k):
        raise ZeroDivisionError("division by zero")
    monkeypatch.setattr(build, "prepare", boom)
    monkeypatch.delenv("EVTREPORT_DEBUG", raising=False)
    rc = build.main(["prepare", "--params", "x.yaml", "--out", str(tmp_path / "p.yaml")])
    assert rc == 1
    assert "unexpected ZeroDivisionError: division by zero" in one_error_line(capsys)


def test_disk_full_while_executing_is_not_called_a_kernel_failure(tmp_path, monkeypatch, capsys,
                                                                   completed_params):
    import papermill

    def full(*a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "x.ipynb"))
    monkeypatch.setattr(papermill, "execute_notebook", full)
    nb = tiny_notebook(tmp_path / "nb.ipynb")
    rc = build.main(["execute", str(nb), str(tmp_path / "executed" / "nb.ipynb"),
                     "--params", str(completed_params)])
    assert rc == 1
    line = one_error_line(capsys)
    assert line == (f"error: executing {nb}: {tmp_path / 'x.ipynb'}: no space left on the "
                    "device; free some disk space and run make again"), line


def test_sigterm_is_one_error_line(tmp_path, monkeypatch, capsys):
    import signal

    def killed(*a, **k):
        os.kill(os.getpid(), signal.SIGTERM)
    monkeypatch.setattr(build, "prepare", killed)
    saved = signal.getsignal(signal.SIGTERM)
    try:
        rc = build.main(["prepare", "--params", "x.yaml", "--out", str(tmp_path / "p.yaml")])
    finally:
        signal.signal(signal.SIGTERM, saved)
    assert rc == 143
    assert one_error_line(capsys).endswith(": stopped (SIGTERM)")


# --------------------------------------------------------------------------- Chromium

def test_chromium_timeout_is_one_error_line_and_publishes_nothing(tmp_path, monkeypatch, capsys,
                                                                   completed_params):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CHROMIUM", str(fake))
    monkeypatch.setenv("EVTREPORT_PDF_TIMEOUT", "2")  # the print's bounded timeout, shortened
    nb = tiny_notebook(tmp_path / "01_x.ipynb")
    out = tmp_path / "out"
    tmp_before = set(Path(tempfile.gettempdir()).glob(f"evt-{scratch.TAG}-chromium-*"))
    rc = build.main(["render", "--run", "default", "--params", str(completed_params),
                     "--out", str(out), str(nb)])
    assert rc == 1
    line = one_error_line(capsys)
    assert line.startswith("error: printing the PDF: Chromium"), line
    assert sorted(p.name for p in out.iterdir()) == [], "something was published or left"
    assert set(Path(tempfile.gettempdir()).glob(f"evt-{scratch.TAG}-chromium-*")) <= tmp_before


# --------------------------------------------------------------------------- kernels

def test_missing_kernel_is_one_error_line(tmp_path, capsys, completed_params):
    nb = tiny_notebook(tmp_path / "nb.ipynb")
    rc = build.main(["execute", str(nb), str(tmp_path / "executed" / "nb.ipynb"),
                     "--params", str(completed_params), "--kernel", "no-such-kernel"])
    assert rc == 1
    line = one_error_line(capsys)
    assert "the Jupyter kernel 'no-such-kernel' did not start" in line, line
    assert "make venv" in line


def test_kernel_that_dies_at_start_is_one_error_line(tmp_path, monkeypatch, capfd,
                                                     completed_params):
    spec = tmp_path / "jupyter" / "kernels" / "broken"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        '{"argv": ["%s", "-c", "import sys; sys.exit(3)", "{connection_file}"], '
        '"display_name": "broken", "language": "python"}' % sys.executable)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    nb = tiny_notebook(tmp_path / "nb.ipynb")
    rc = build.main(["execute", str(nb), str(tmp_path / "executed" / "nb.ipynb"),
                     "--params", str(completed_params), "--kernel", "broken"])
    assert rc == 1
    assert "the Jupyter kernel 'broken' did not start" in one_error_line(capfd)
    assert not (tmp_path / "executed" / "nb.ipynb").exists()


def test_kernel_start_cannot_race_for_a_port(tmp_path, monkeypatch, completed_params):
    """Two notebooks starting at once could be given the same free TCP port; the second
    kernel then died with 'ZMQError: Address already in use'. Simulated deterministically:
    every port jupyter_client picks is one that is already taken."""
    from jupyter_client.connect import LocalPortCache

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    monkeypatch.setattr(LocalPortCache, "find_available_port", lambda self, ip: port)
    try:
        nb = tiny_notebook(tmp_path / "nb.ipynb", "print(x + 1)")
        out = tmp_path / "executed" / "nb.ipynb"
        build.execute(nb, out, completed_params, start_timeout=30)
    finally:
        taken.close()
    outputs = nbformat.read(out, as_version=4).cells[-1].outputs
    assert outputs[0]["text"] == "2\n"


def test_kernel_is_shut_down_without_an_interrupt(tmp_path, monkeypatch, capfd,
                                                  completed_params):
    """jupyter_client interrupts (SIGINT) a kernel before asking it to shut down; the kernel
    then sometimes logged 'KeyboardInterrupt caught in kernel' after a successful run."""
    from jupyter_client.manager import KernelManager

    interrupts = []
    original = KernelManager._async_interrupt_kernel

    async def spy(self):
        interrupts.append(self.shutting_down)
        await original(self)
    monkeypatch.setattr(KernelManager, "_async_interrupt_kernel", spy)
    nb = tiny_notebook(tmp_path / "nb.ipynb")
    tmp_before = set(Path(tempfile.gettempdir()).glob(f"evt-{scratch.TAG}-kernel-*"))
    build.execute(nb, tmp_path / "executed" / "nb.ipynb", completed_params)
    assert interrupts == [], "the kernel was sent SIGINT at shutdown"
    assert "KeyboardInterrupt" not in capfd.readouterr().err
    assert set(Path(tempfile.gettempdir()).glob(f"evt-{scratch.TAG}-kernel-*")) <= tmp_before
    assert not list((tmp_path / "executed").glob(".exec-*"))


# --------------------------------------------------------------------------- debris

def test_next_build_removes_debris_of_dead_processes_only(tmp_path, completed_params):
    executed = tmp_path / "build" / "executed"
    executed.mkdir(parents=True)
    stale = [executed / f".exec-{DEAD_PID}-abcd", executed / ".exec-k2j3h4"]  # 2nd: old naming
    live = executed / f".exec-{os.getpid()}-live"
    for d in stale + [live]:
        d.mkdir()
        (d / "01_summary.ipynb").write_text("{}")
    tmp_stale = Path(tempfile.gettempdir()) / f"{scratch.tmp_prefix('chromium')}{DEAD_PID}-x"
    tmp_stale.mkdir()
    other_checkout = Path(tempfile.gettempdir()) / f"evt-0123456789-chromium-{DEAD_PID}-x"
    other_checkout.mkdir()
    try:
        assert build.main(["prepare", "--params", str(ROOT / "params" / "default.yaml"),
                           "--out", str(tmp_path / "build" / "params.yaml")]) == 0
        assert [d.exists() for d in stale] == [False, False]
        assert live.exists(), "a step still running lost its scratch directory"
        with scratch.tempdir("chromium"):
            pass
        assert not tmp_stale.exists()
        assert other_checkout.exists(), "another checkout's scratch directory was removed"
    finally:
        shutil.rmtree(tmp_stale, ignore_errors=True)
        shutil.rmtree(other_checkout, ignore_errors=True)


def test_render_removes_stale_staging_directories(tmp_path, monkeypatch, completed_params):
    out = tmp_path / "out"
    (out / f".staging-{DEAD_PID}-x").mkdir(parents=True)
    (out / ".staging-oldname").mkdir()

    def no_pdf(html, pdf):
        pdf.write_bytes(b"%PDF-1.4\n")
    monkeypatch.setattr(build, "print_pdf", no_pdf)
    nb = tiny_notebook(tmp_path / "01_x.ipynb")
    assert build.main(["render", "--run", "default", "--params", str(completed_params),
                       "--out", str(out), str(nb)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "notebooks", "references.bib",
                                                     "references.json", "report.pdf",
                                                     "results.csv", "run.json"]


def test_make_clean_removes_all_debris(tmp_path):
    run = ROOT / "report" / "runs" / f"test-clean-{os.getpid()}"
    (run / f".staging-{os.getpid()}-x").mkdir(parents=True)
    (run / "index.html").write_text("kept")
    tmp_debris = Path(tempfile.gettempdir()) / f"{scratch.tmp_prefix('kernel')}{os.getpid()}-x"
    tmp_debris.mkdir()
    try:
        proc = run_make("clean", f"BUILD_ROOT={tmp_path / 'b'}")
        assert proc.returncode == 0, proc.stderr
        assert not tmp_debris.exists()
        assert [p.name for p in run.iterdir()] == ["index.html"], "a published run was removed"
    finally:
        shutil.rmtree(run, ignore_errors=True)
        shutil.rmtree(tmp_debris, ignore_errors=True)


# --------------------------------------------------------------------------- runs (make)

def dry_run(*args: str) -> str:
    proc = run_make("-n", "report", *args)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def render_out(dry: str) -> str:
    return re.search(r"evtreport\.build render .*--out (\S+)", dry).group(1)


def prepare_out(dry: str) -> str:
    return re.search(r"evtreport\.build prepare .*--out (\S+)", dry).group(1)


def test_only_params_default_publishes_to_report(tmp_path):
    elsewhere = tmp_path / "default.yaml"
    shutil.copy(ROOT / "params" / "default.yaml", elsewhere)
    assert render_out(dry_run()) == "report"
    out = render_out(dry_run(f"PARAMS={elsewhere}"))
    digest = hashlib.sha256(str(elsewhere.resolve()).encode()).hexdigest()[:8]
    assert out == f"report/runs/default@{digest}", out


def test_two_parameter_files_never_share_a_run(tmp_path):
    shipped = dry_run("PARAMS=params/strict.yaml")
    assert render_out(shipped) == "report/runs/strict"
    elsewhere = tmp_path / "strict.yaml"
    shutil.copy(ROOT / "params" / "strict.yaml", elsewhere)
    other = dry_run(f"PARAMS={elsewhere}")
    assert render_out(other) != "report/runs/strict"
    assert prepare_out(other) != prepare_out(shipped), "the two files share a build directory"
    # the same file through another path is the same run
    link = tmp_path / "link.yaml"
    link.symlink_to(ROOT / "params" / "strict.yaml")
    assert render_out(dry_run(f"PARAMS={link}")) == "report/runs/strict"


@pytest.mark.parametrize("value, fragment", [
    ("", "PARAMS is empty"),
    ("my params.yaml", "must not contain spaces"),
    ("it's.yaml", "may hold only letters, digits"),
    ('say"x".yaml', "may hold only letters, digits"),
    ("params/nope.yaml", "params/nope.yaml: parameter file not found"),
])
def test_awkward_params_value_is_a_clear_error(tmp_path, value, fragment):
    proc = run_make("report", f"PARAMS={value}", f"BUILD_ROOT={tmp_path / 'b'}",
                    f"OUT={tmp_path / 'out'}")
    assert proc.returncode != 0
    assert fragment in proc.stderr, proc.stderr
    assert not (tmp_path / "b").exists() and not (tmp_path / "out").exists()


def _prepare(tmp_path, *args):
    """Run only the prepare step of a run (its target taken from a dry run)."""
    common = [f"BUILD_ROOT={tmp_path / 'b'}", f"OUT={tmp_path / 'out'}", *args]
    target = prepare_out(dry_run(*common))
    return run_make(target, *common), Path(target)


def test_edited_parameter_file_rebuilds_even_with_an_old_mtime(tmp_path):
    p = tmp_path / "mine.yaml"
    p.write_text("hksj: true\n")
    proc, target = _prepare(tmp_path, f"PARAMS={p}")
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load(target.read_text())["hksj"] is True
    p.write_text("hksj: false\n")
    os.utime(p, (946684800, 946684800))  # 2000-01-01, older than the last build
    proc, target = _prepare(tmp_path, f"PARAMS={p}")
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load(target.read_text())["hksj"] is False, "the edit was not built"


@pytest.mark.parametrize("change", ["delete", "add"])
def test_a_deleted_or_added_data_file_is_noticed(tmp_path, change):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    proc, _ = _prepare(tmp_path, f"DATA_DIR={data}")
    assert proc.returncode == 0, proc.stderr
    if change == "delete":
        (data / "effects.csv").unlink()
        expected = "error: data/effects.csv: file not found"
    else:
        shutil.copy(data / "outcomes.csv", data / "outcomes_new.csv")
        expected = "error: data/outcomes_new.csv: unknown file in the data directory"
    proc, _ = _prepare(tmp_path, f"DATA_DIR={data}")
    assert proc.returncode != 0, "make did not notice: " + proc.stdout
    assert expected in proc.stderr, proc.stderr


def test_input_stamps_with_a_relative_build_directory():
    """The default BUILD_ROOT is relative (build/): the stamps must not depend on the cwd."""
    rel = f"build-test-{os.getpid()}"
    try:
        for stamp in ("params.src", "data.sha256"):
            proc = run_make(f"BUILD_ROOT={rel}", f"{rel}/default/{stamp}")
            assert proc.returncode == 0, proc.stderr
        listing = (ROOT / rel / "default" / "data.sha256").read_text()
        assert "outcomes.csv" in listing and str(ROOT / "data") in listing
        assert "  ./datapackage.json\n" in listing  # the schema is an input too
        assert (ROOT / rel / "default" / "params.src").read_bytes() == (
            ROOT / "params" / "default.yaml").read_bytes()
    finally:
        shutil.rmtree(ROOT / rel, ignore_errors=True)
