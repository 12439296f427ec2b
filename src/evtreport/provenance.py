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
    """SHA-256 of every data file (relative path -> hex digest), sorted by path."""
    from .data import REQUIRED_FILES

    data_dir = Path(data_dir) if data_dir else DATA_DIR
    return {str(p.relative_to(data_dir.parent)): sha256(p)
            for p in sorted(data_dir / f"{n}.csv" for n in REQUIRED_FILES)}


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
