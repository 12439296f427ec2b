"""`make lab`: JupyterLab from the project's venv, on localhost, with the project's kernel,
opening notebooks/; a chapter runs interactively from its parameters cell, and its figure and
table references read as "Figure id" / "Table id" before the build numbers them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT

VENV_BIN = Path(sys.executable).parent
KERNEL = "evtreport"


def locked(name: str) -> str:
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.lower().startswith(name + "=="):
            return line.split("==")[1]
    raise KeyError(name)


def test_jupyterlab_runs_from_the_venv_at_the_locked_version():
    proc = subprocess.run([str(VENV_BIN / "jupyter"), "lab", "--version"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == locked("jupyterlab")


def _stop(proc: subprocess.Popen) -> None:
    """End the process group this test started (make and the server it runs)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=60)
            return
        except subprocess.TimeoutExpired:
            continue


def test_make_lab_serves_on_localhost_with_the_project_kernel_and_notebooks(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")  # no stray server files in $HOME
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"LAB_PORT={port}",
         "LAB_ARGS=--no-browser --IdentityProvider.token=evt-test --ServerApp.port_retries=0"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # localhost only

    def get(path):
        with opener.open(f"http://127.0.0.1:{port}{path}?token=evt-test", timeout=10) as r:
            return json.loads(r.read())
    try:
        for _ in range(240):
            if proc.poll() is not None:
                pytest.fail(f"make lab exited: {(tmp_path / 'lab.log').read_text()}")
            try:
                get("/api/status")
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"JupyterLab did not start: {(tmp_path / 'lab.log').read_text()}")
        specs = get("/api/kernelspecs")
        assert specs["default"] == KERNEL and KERNEL in specs["kernelspecs"]
        assert specs["kernelspecs"][KERNEL]["spec"]["argv"][0].startswith(str(ROOT / ".venv"))
        listing = {c["name"] for c in get("/api/contents/")["content"]}
        assert {p.name for p in (ROOT / "notebooks").glob("*.ipynb")} <= listing
        assert "src" not in listing and "data" not in listing   # rooted at notebooks/
    finally:
        _stop(proc)
        log.close()
    with socket.socket() as s:  # nothing is left listening
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_a_chapter_runs_from_its_parameters_cell_with_readable_references():
    """As a reader in JupyterLab would: change favourable_mrs_max in the parameters cell of
    the ICASS-M1 chapter and run it with the project's kernel from notebooks/."""
    import psutil
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "notebooks" / "03_icass_m1.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert "favourable_mrs_max = 2" in cell.source
    cell.source = cell.source.replace("favourable_mrs_max = 2", "favourable_mrs_max = 1")
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    NotebookClient(nb, kernel_name=KERNEL, timeout=600,
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    texts = [o.get("data", {}).get("text/markdown", "") + o.get("data", {}).get("text/html", "")
             for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    shown = "\n".join(texts)
    # mRS 0-1 in the series: 13 of 22 patients (the sum of grades 0 and 1 of its Table 2)
    assert "favourable outcome of this report is mRS 0–1" in shown and "13/22 patients" in shown
    assert "[Table icass-table1](#tbl-icass-table1)" in shown
    assert "@tbl:" not in shown and "@fig:" not in shown
    md = "\n".join(c.source for path in sorted((ROOT / "notebooks").glob("*.ipynb"))
                   for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    assert "@fig:" not in md and "@tbl:" not in md, "Markdown cells: write [Figure id](#fig-id)"
    left = {p.pid for p in psutil.Process().children(recursive=True)} - before
    assert not left, "the kernel was left running"
