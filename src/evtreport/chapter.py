"""What every chapter notebook starts with: its parameters, the data, the analyses and a
results recorder.

    from evtreport.chapter import Chapter
    ch = Chapter("dmvo", globals())     # after papermill's injected-parameters cell
    b = ch.bundle                        # every analysis of the run, by key
    ch.text("dmvo/summary.block.j2", ...)   # computed prose (escaped)
    ch.finish()                          # last cell: hands the section's estimates to the build
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from . import params as params_mod
from . import vocab
from .results import Results


class Chapter:
    def __init__(self, section: str, namespace: dict[str, Any]):
        self.section = section
        self.params = params_mod.from_namespace(namespace)
        self.alpha = params_mod.alpha(self.params)
        self.level = vocab.level_text(self.params["confidence_level"])
        self.results = Results(section)

    @cached_property
    def data(self):
        """The validated dataset (all rows; analyses apply the parameters' exclusions)."""
        from .data import load_dataset
        return load_dataset()

    @cached_property
    def bundle(self):
        """Every analysis of the run (:mod:`evtreport.analyses`), computed when first read."""
        from . import analyses
        return analyses.run(self.data, self.params)

    def text(self, template: str, /, **context: Any) -> None:
        """Show a computed paragraph: a template of text_templates/ filled from `context`."""
        from . import text
        text.show(template, **context)

    def finish(self) -> None:
        """Emit the section's results: the bundle's rows for this section, then any the
        notebook recorded itself."""
        from .analyses import records
        if self.section in records.SECTIONS or self.section == "icass":
            own = self.results.rows
            self.results = self.bundle.rows(self.section)
            for row in own:
                if any(r["id"] == row["id"] for r in self.results.rows):
                    raise ValueError(f"results id {row['id']!r} recorded twice")
                self.results.rows.append(row)
        self.results.emit()
