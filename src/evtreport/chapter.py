"""What every chapter notebook starts with: its parameters, the data and a results recorder.

    from evtreport.chapter import Chapter
    ch = Chapter("dmvo", globals())     # after papermill's injected-parameters cell
    ...
    ch.finish()                          # last cell: hands the recorded estimates to the build
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from . import params as params_mod
from .results import Results


class Chapter:
    def __init__(self, section: str, namespace: dict[str, Any]):
        self.section = section
        self.params = params_mod.from_namespace(namespace)
        self.alpha = params_mod.alpha(self.params)
        self.level = f"{round(100 * self.params['confidence_level'], 1):g}%"
        self.results = Results(section)

    @cached_property
    def data(self):
        """The validated dataset (all rows; analyses apply the parameters' exclusions)."""
        from .data import load_dataset
        return load_dataset()

    def finish(self) -> None:
        self.results.emit()
