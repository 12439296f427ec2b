"""What a reader needs to reproduce a report: package versions, data checksums, git commit."""

from __future__ import annotations

import hashlib
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
    """SHA-256 of every CSV in data/ (relative path -> hex digest), sorted by path."""
    data_dir = Path(data_dir) if data_dir else DATA_DIR
    return {str(p.relative_to(data_dir.parent)): sha256(p)
            for p in sorted(data_dir.glob("*.csv"))}


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
    """Short commit hash, with '+changes' when the working tree differs from it."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=root,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + ("+changes" if dirty.strip() else "")
