"""Scratch directories of the build, and removal of those an interrupted build left behind.

Each scratch directory is named ``<prefix><pid>-<random>`` after the process that made it.
A build step first removes the directories of its kind whose process has ended (a build
killed by Ctrl-C, SIGKILL or a full disk), never one still in use: make runs notebooks in
parallel. Those in the shared temporary directory (Chromium profiles, kernel connection
files and sockets) also carry a tag of this checkout, so a build never touches what another
checkout or another user made. ``python -m evtreport.scratch clean`` (``make clean``)
removes them all.

Only the standard library: ``make clean`` may run it before the virtual environment exists.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .paths import ROOT

TAG = hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]
EXEC = ".exec-"        # in build/<run>/executed/: one notebook being executed
STAGING = ".staging-"  # in the output directory: a report being assembled


def tmp_prefix(kind: str) -> str:
    """Prefix of this checkout's scratch directories of `kind` in the temporary directory."""
    return f"evt-{TAG}-{kind}-"


def mkdtemp(parent: str | Path, prefix: str) -> Path:
    Path(parent).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=parent, prefix=f"{prefix}{os.getpid()}-"))


@contextmanager
def tempdir(kind: str) -> Iterator[Path]:
    """A private directory in the temporary directory, removed afterwards."""
    sweep(tempfile.gettempdir(), tmp_prefix(kind))
    path = mkdtemp(tempfile.gettempdir(), tmp_prefix(kind))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def sweep(parent: str | Path, prefix: str) -> list[Path]:
    """Remove the entries `<prefix><pid>-*` of `parent` whose process has ended (and any
    `<prefix>*` without a pid, made by an older version); return what was removed."""
    removed = []
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        m = re.match(r"(\d+)-", entry.name[len(prefix):])
        if m and _alive(int(m.group(1))):
            continue
        try:
            if entry.lstat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def clean_tmp() -> list[Path]:
    """Remove every scratch directory of this checkout in the temporary directory."""
    removed = []
    prefix = f"evt-{TAG}-"
    for entry in Path(tempfile.gettempdir()).glob(prefix + "*"):
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


if __name__ == "__main__":
    if sys.argv[1:] != ["clean"]:
        sys.exit("usage: python -m evtreport.scratch clean")
    for p in clean_tmp():
        print(f"removed {p}")
