"""Project locations, resolved from the package so notebooks work from any cwd."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A reviewer (or a test) may point the whole build at another copy of the data.
DATA_DIR = Path(os.environ.get("EVTREPORT_DATA_DIR", ROOT / "data")).resolve()
