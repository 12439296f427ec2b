"""What a reader needs to reproduce a report: package versions, data checksums, git commit."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from .paths import DATA_DIR, ROOT

# The packages whose versions can change a number or a figure in the report.
KEY_PACKAGES = ("numpy", "scipy", "pandas", "statsmodels", "matplotlib", "seaborn",
                "papermill", "nbconvert", "nbclient", "ipykernel", "pyyaml")


def package_versions(names=KEY_PACKAGES) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def data_checksums(data_dir: str | Path | None = None) -> dict[str, str]:
    """SHA-256 of every data file (relative path -> hex digest), sorted by path."""
    from .data import NON_TABLE_FILES, REQUIRED_FILES

    data_dir = Path(data_dir) if data_dir else DATA_DIR
    files = [data_dir / f"{n}.csv" for n in REQUIRED_FILES] + [data_dir / n for n in NON_TABLE_FILES]
    return {str(p.relative_to(data_dir.parent)): sha256(p) for p in sorted(files)}


#: What the build writes into the checkout; never an input, so never "changes".
BUILD_OUTPUTS = ("report", "build")


def data_folder(data_dir: str | Path | None = None) -> dict:
    """The data folder a run read: its path (relative to the project when inside it), one
    SHA-256 over its CSV files and each file's. The folder checksum is that of the lines
    `sha256sum` prints, so `cd FOLDER && LC_ALL=C sha256sum *.csv | sha256sum` gives it."""
    data_dir = Path(data_dir).resolve() if data_dir else DATA_DIR
    files = {p.name: sha256(p) for p in sorted(data_dir.glob("*.csv"))}
    listing = "".join(f"{digest}  {name}\n" for name, digest in files.items())
    try:
        folder = str(data_dir.relative_to(ROOT))
    except ValueError:
        folder = str(data_dir)
    return {"folder": folder, "sha256": hashlib.sha256(listing.encode()).hexdigest(),
            "files": files, "project_data": data_dir == (ROOT / "data").resolve()}


def run_record(run_name: str, params_file: str, values: dict, data_dir=None) -> dict:
    """What a published run was built from (written as run.json next to its results.csv)."""
    return {"run": run_name, "params_file": params_file, "parameters": values,
            "data": data_folder(data_dir), "commit": git_commit()}


def git_commit(root: str | Path = ROOT) -> str:
    """Short hash of the commit the report's inputs come from, '+changes' when they differ.

    That is the latest commit that changed anything but the build's outputs, so that
    committing a rebuilt report (which changes only report/) leaves what a rebuild prints,
    and so the rebuilt report itself, byte-identical. Uncommitted edits of tracked files
    and new untracked (not ignored) files count as changes; report/ and build/ never do.
    """
    outside = ["--", ".", *(f":(exclude){p}" for p in BUILD_OUTPUTS)]

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)

    try:
        head = git("rev-parse", "--verify", "HEAD")
        if head.returncode != 0:
            return "unknown (not a git checkout)"
        commit = git("log", "-1", "--format=%H", "HEAD", *outside).stdout.strip()
        # With merges, history simplification may name a commit whose inputs differ.
        if not commit or git("diff", "--quiet", commit, "HEAD", *outside).returncode != 0:
            commit = head.stdout.strip()
        short = git("rev-parse", "--short=10", commit).stdout.strip()
        status = git("status", "--porcelain", "--untracked-files=normal", *outside)
    except OSError:
        return "unknown (git is not installed)"
    return short + ("+changes" if status.stdout.strip() else "")


def source_date_epoch(root: str | Path = ROOT) -> int | None:
    """The time to stamp on built files: SOURCE_DATE_EPOCH when set (the reproducible-builds
    convention), else the time of the commit the inputs come from; None outside a git checkout."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if value:
        if not value.isdigit():
            raise ValueError(f"environment variable SOURCE_DATE_EPOCH: expected whole seconds "
                             f"since 1970, got {value!r}")
        return int(value)
    try:
        # the commit the inputs come from (as git_commit), so committing a rebuilt report
        # does not change the date printed into the next build
        out = subprocess.run(["git", "log", "-1", "--format=%ct", "--", ".",
                              *(f":(exclude){p}" for p in BUILD_OUTPUTS)], cwd=root,
                             capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return int(out) if out.isdigit() else None
