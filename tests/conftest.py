"""Shared fixtures: running `make` in isolation, and one fresh build of the default report."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def run_make(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """`make ARGS` in the project root, without the jobserver of an outer make."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def fresh_build(tmp_path_factory) -> Path:
    """The default report built from scratch into a temporary directory."""
    tmp = tmp_path_factory.mktemp("fresh")
    proc = run_make("report", f"OUT={tmp / 'report'}", f"BUILD_ROOT={tmp / 'build'}")
    assert proc.returncode == 0, f"fresh build failed:\n{proc.stdout}\n{proc.stderr}"
    return tmp


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file below `directory` with its bytes (to prove a failed build changed nothing)."""
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}
