"""Characteristics of the included trials (data/trials.csv) as a review prints them: one row
per characteristic, one column per trial, every cell followed by the number of the place it
was read (the table's notes list source and location; † a secondary report)."""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup, escape

from .. import data
from .common import SECONDARY_MARK

#: Short reader labels of data/trials.csv's characteristics (the data package lists them, in the
#: order the table prints them, with their meaning; one it adds without a label here prints by name).
LABELS = {
    "design": "Design", "registration": "Registration", "countries": "Countries",
    "sites": "Sites", "enrolment_period": "Enrolment", "planned_sample_size": "Planned sample size",
    "participants": "Participants", "population_vessels": "Eligible occlusions",
    "population_time_window": "Time window", "population_nihss": "NIHSS required",
    "population_age": "Age required", "baseline_age": "Age of the patients",
    "baseline_nihss": "NIHSS of the patients", "baseline_occlusion_location": "Occlusion sites",
    "ivt_share": "Intravenous thrombolysis", "intervention": "Intervention",
    "devices": "Devices", "comparator": "Comparator", "primary_outcome": "Primary outcome",
    "primary_result": "Primary result (as reported)", "follow_up": "Follow-up",
    "funding": "Funding",
}


def _secondary(location: str) -> bool:
    return location.lower().startswith("secondary report")


def characteristics_table(b) -> tuple[pd.DataFrame, str]:
    """The table (HTML cells, escaped here) and its notes: the numbered places read."""
    t = b.ds.trials
    trials = list(dict.fromkeys(t["trial"]))
    places: dict[tuple[str, str], int] = {}
    rows = []
    for ch in data.TRIAL_CHARACTERISTICS:
        label = LABELS.get(ch, ch.replace("_", " ").capitalize())
        sub = t[t["characteristic"] == ch]
        if sub.empty:
            continue
        row = {"Characteristic": escape(label)}
        for trial in trials:
            parts = []
            for _, r in sub[sub["trial"] == trial].iterrows():
                n = places.setdefault((r["source_id"], r["location"]), len(places) + 1)
                mark = f"{SECONDARY_MARK} " if _secondary(r["location"]) else ""
                parts.append(Markup("{}{}<sup>{}</sup>").format(mark, r["value"], n))
            row[escape(b.label(trial))] = Markup("; ").join(parts) if parts else "–"
        rows.append(row)
    notes = "Where each cell was read: " + "; ".join(
        f"{n}: {b.label(sid).split(' (')[0]}, {loc}" for (sid, loc), n in places.items()) + (
        f". {SECONDARY_MARK} read in a secondary report (news page, registry copy), not the "
        "publication. Each cell's quotation is in data/trials.csv.")
    return pd.DataFrame(rows), notes
