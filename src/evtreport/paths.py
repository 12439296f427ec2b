"""Project locations, resolved from the package so notebooks work from any cwd."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "data"
NOTEBOOK_DIR = ROOT / "notebooks"
PARAMS_DIR = ROOT / "params"
REPORT_DIR = ROOT / "report"
BUILD_DIR = ROOT / "build"
