"""What differs between two runs of the report: `make diff A=<run> B=<run>`.

    python -m evtreport.diff A B [--all] [--csv]

A run is a run name (`default` = the published report/, `strict` = report/runs/strict/),
a parameter file (params/strict.yaml = run `strict`) or a directory holding a results.csv.
The text report starts with the parameters (and data folder) that differ, then the main
estimates that moved, grouped by chapter and formatted as the report prints them
("RR 0.92 [0.79–1.07] -> 0.95 [0.82–1.10]"); sensitivity and derived rows (results.csv's
`level`) and rows whose method text alone changed are counted, and listed with --all
(or DIFF_ALL=1); estimates present in one run only are listed apart. --csv (or DIFF_CSV=1)
prints every difference, whatever its level, as CSV for machines.

The same comparison, run against the published report, is shown at the top of every
reviewer run's index.html (`since_published`).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from . import display as fmt
from . import params as params_mod
from . import results as results_mod
from .paths import ROOT

RUN_RECORD = "run.json"
# A change in these columns alone does not move an estimate: it only describes it anew.
TEXT_COLUMNS = {"analysis", "method", "cohort", "section", "level"}
# Shown next to an estimate that moved when they changed too.
NOTE_COLUMNS = ("outcome", "subgroup", "measure", "sources")
# Numeric columns that the formatted estimate does not show.
HIDDEN_NUMERIC = ("pi_low", "pi_high", "tau2", "i2")
HIDDEN_TEXT = {"pi_low": "prediction interval", "pi_high": "prediction interval", "tau2": "τ²",
               "i2": "I²"}


class DiffError(ValueError):
    """A run cannot be compared (no results, unreadable record)."""


# -- runs --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    name: str
    directory: Path | None
    rows: tuple[dict[str, str], ...]
    parameters: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    chapters: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return _rel(self.directory) + "/" if self.directory else "this run"


def _rel(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def run_dir(name: str) -> Path:
    """A run's output directory from a run name, a parameter file or a directory."""
    if name.endswith((".yaml", ".yml")):
        name = Path(name).stem
    if "/" in name or name in (".", ".."):
        return Path(name)
    return ROOT / "report" if name == "default" else ROOT / "report" / "runs" / name


def chapter_titles(notebooks: Iterable[Any]) -> dict[str, str]:
    """{results section: chapter heading} from executed notebooks (nbformat nodes)."""
    titles: dict[str, str] = {}
    for nb in notebooks:
        title = section = None
        for cell in nb.cells:
            if title is None and cell.cell_type == "markdown":
                for line in cell.source.splitlines():
                    if line.startswith("# "):
                        title = line[2:].strip()
                        break
            for out in cell.get("outputs", []):
                payload = out.get("data", {}).get(results_mod.MIME)
                if payload and section is None:
                    section = payload["section"]
        if section and title:
            titles[section] = title
    return titles


def load_run(name: str) -> Run:
    """Read a published run: results.csv, its run record (parameters, data folder) and the
    chapter headings of its executed notebooks."""
    import nbformat

    directory = run_dir(name)
    results = directory / "results.csv"
    if not results.exists():
        hint = (f"; build it with `make report PARAMS=params/{Path(name).stem}.yaml`"
                if "/" not in name or name.endswith((".yaml", ".yml")) else "")
        raise DiffError(f"run {name!r} has no results ({_rel(results)}){hint}")
    notebooks = [nbformat.read(p, as_version=4)
                 for p in sorted((directory / "notebooks").glob("*.ipynb"))]
    parameters, data = None, None
    record = directory / RUN_RECORD
    if record.exists():
        try:
            rec = json.loads(record.read_text(encoding="utf-8"))
            parameters, data = rec["parameters"], rec.get("data")
        except (ValueError, KeyError) as exc:
            raise DiffError(f"{_rel(record)}: not a run record ({exc})") from None
    elif notebooks:  # a run published before run.json existed
        parameters = dict(notebooks[0].metadata.get("papermill", {}).get("parameters", {}))
    if parameters is not None:
        parameters = {k: v for k, v in parameters.items() if k in params_mod.DEFAULTS}
    if name.endswith((".yaml", ".yml")):
        label = Path(name).stem
    elif "/" in name:
        label = "default" if directory.resolve() == ROOT / "report" else directory.resolve().name
    else:
        label = name
    return Run(label, directory, tuple(results_mod.read_csv(results)), parameters, data,
               chapter_titles(notebooks))


# -- the comparison ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    id: str
    a: dict[str, str] | None
    b: dict[str, str] | None
    columns: tuple[str, ...] = ()

    @property
    def row(self) -> dict[str, str]:
        return self.b if self.b is not None else self.a  # type: ignore[return-value]

    @property
    def level(self) -> str:
        return self.row.get("level") or "main"

    @property
    def section(self) -> str:
        return self.row.get("section", "")

    @property
    def kind(self) -> str:
        if self.a is None:
            return "only_b"
        if self.b is None:
            return "only_a"
        return "text" if set(self.columns) <= TEXT_COLUMNS else "moved"


@dataclass(frozen=True)
class RunDiff:
    a: Run
    b: Run
    parameters: tuple[tuple[str, Any, Any], ...]
    data: tuple[dict | None, dict | None] | None
    changes: tuple[Change, ...]
    n_main: int  # main estimates in both runs

    def select(self, kind: str, level: str | None = None) -> list[Change]:
        return [c for c in self.changes if c.kind == kind and (level is None or c.level == level)]

    def counts(self, kind: str) -> dict[str, int]:
        out = {lvl: 0 for lvl in results_mod.LEVELS}
        for c in self.select(kind):
            out[c.level] = out.get(c.level, 0) + 1
        return out


def compare(a: Run, b: Run) -> RunDiff:
    cols: dict[str, list[str]] = {}
    for key, col, _, _ in results_mod.diff(list(a.rows), list(b.rows)):
        cols.setdefault(key, []).append(col)
    ia, ib = {r["id"]: r for r in a.rows}, {r["id"]: r for r in b.rows}
    changes = tuple(Change(k, ia.get(k), ib.get(k), tuple(c for c in v if c != "(row)"))
                    for k, v in cols.items())
    params = ()
    if a.parameters is not None and b.parameters is not None:
        params = tuple((n, a.parameters.get(n, d), b.parameters.get(n, d))
                       for n, d in params_mod.DEFAULTS.items()
                       if a.parameters.get(n, d) != b.parameters.get(n, d))
    data = None  # unknown for a run published before run.json existed
    if a.data and b.data and a.data["sha256"] != b.data["sha256"]:
        data = (a.data, b.data)
    both = set(ia) & set(ib)
    n_main = sum(1 for k in both if (ib[k].get("level") or "main") == "main")
    return RunDiff(a, b, params, data, changes, n_main)


def since_published(run_name: str, record: dict[str, Any], rows: list[dict[str, str]]
                    ) -> RunDiff | None:
    """This run against the published report (report/results.csv, params/default.yaml);
    None when there is no published report to compare with."""
    published = ROOT / "report"
    if not (published / "results.csv").exists():
        return None
    base = load_run(str(published))
    defaults = params_mod.load(ROOT / "params" / "default.yaml")
    data = base.data
    if data is None:
        from . import provenance
        data = provenance.data_folder(ROOT / "data")
    base = Run("published", published, base.rows,
               {k: v for k, v in defaults.items() if k in params_mod.DEFAULTS}, data,
               base.chapters)
    this = Run(run_name, None, tuple(rows), record["parameters"], record.get("data"),
               base.chapters)
    return compare(base, this)


# -- formatting --------------------------------------------------------------------------------

def _num(v: str) -> float:
    return float(v) if v not in ("", None) else math.nan


def _measure(row: dict[str, str]) -> str:
    return row.get("measure", "")


def format_estimate(row: dict[str, str], *, prefix: bool = True) -> str:
    """An estimate as the report prints it: '54.1% [48.0–60.1] (138/255)', 'RR 0.92
    [0.79–1.07]', 'RD −4.5 [−12.0 to 3.1] pp', '5 of 18', '−12 [−45 to 30] per 1000',
    'P = 0.73', '3 of 4' (a certainty rating), '36' (a count)."""
    est, lo, hi = (_num(row.get(c, "")) for c in ("estimate", "ci_low", "ci_high"))
    m = _measure(row)
    if math.isnan(est):
        return "not estimable"
    has_ci = not (math.isnan(lo) or math.isnan(hi))
    events, total, k = row.get("events", ""), row.get("total", ""), row.get("k_studies", "")
    if m == "proportion":
        text = fmt.pct_ci(est, lo, hi)
        if events and total:
            text += f" ({events}/{total})"
    elif m == "":
        text = f"{est:g}" + (f" of {total}" if total else "")
    elif m == "count":
        text = f"{est:.0f}"
    elif m == "rating":  # GRADE certainty, 1 = very low ... 4 = high
        text = f"{est:.0f} of 4"
    elif m == "probability":
        text = f"P = {est:.2f}"
    elif m == "per 1000":
        text = (fmt.num_ci(est, lo, hi, 0) if has_ci else f"{est:.0f}".replace("-", "−")) + " per 1000"
    else:
        scale = 100 if m == "RD" else 1
        digits = 1 if m in ("RD", "risk difference") else 2
        if has_ci:
            text = fmt.num_ci(scale * est, scale * lo, scale * hi, digits)
        else:
            text = f"{scale * est:.{digits}f}".replace("-", "−")
        if m in ("RD", "risk difference"):
            text += " pp"
        if prefix:
            text = f"{m} {text}"
    if k and k not in ("0", "1"):
        text += f", {k} studies"
    return text


def change_texts(c: Change) -> tuple[str, str, str]:
    """(A as printed, B as printed, note) for one estimate that differs."""
    a = format_estimate(c.a) if c.a else ""
    same_measure = c.a is not None and c.b is not None and _measure(c.a) == _measure(c.b)
    b = format_estimate(c.b, prefix=not same_measure) if c.b else ""
    notes = [_note(col, c.a.get(col, ""), c.b.get(col, ""))
             for col in NOTE_COLUMNS if c.a and c.b and col in c.columns]
    if c.a and c.b:
        b_full = format_estimate(c.b)
        hidden = [HIDDEN_TEXT.get(col, col) for col in c.columns
                  if col in HIDDEN_NUMERIC or (a == b_full and col in results_mod.NUMERIC)]
        if hidden:
            notes.append("also changed: " + ", ".join(dict.fromkeys(hidden)))
        if set(c.columns) <= TEXT_COLUMNS:
            notes.append("text changed: " + ", ".join(c.columns))
    return a, b, "; ".join(notes)


def _note(col: str, a: str, b: str) -> str:
    if col == "sources":
        sa, sb = set(filter(None, a.split(";"))), set(filter(None, b.split(";")))
        return "sources " + ", ".join([f"+{x}" for x in sorted(sb - sa)]
                                      + [f"−{x}" for x in sorted(sa - sb)])
    return f"{col} {a or '(none)'} -> {b or '(none)'}"


def _value(v: Any) -> str:
    return params_mod._show(v)


def _data_text(d: dict | None) -> str:
    if not d:
        return "not recorded"
    return f"{d['folder']}/ (SHA-256 {d['sha256'][:12]}…)"


def _groups(d: RunDiff, changes: list[Change]) -> list[tuple[str, list[Change]]]:
    sections: dict[str, list[Change]] = {}
    for c in changes:
        sections.setdefault(c.section, []).append(c)
    titles = {**d.a.chapters, **d.b.chapters}
    return [(titles.get(s, s), cs) for s, cs in sections.items()]


def _lines(d: RunDiff, changes: list[Change], indent: str = "  ") -> list[str]:
    out = []
    for title, cs in _groups(d, changes):
        out.append(f"{indent}{title}")
        texts = [(c.id, *change_texts(c)) for c in cs]
        wid = min(max(len(t[0]) for t in texts), 64)
        wa = max(len(t[1]) for t in texts)
        for key, a, b, note in texts:
            if a and b:
                body = f"{a:<{wa}}  ->  {b}"
            else:
                body = a or b
            out.append(f"{indent}  {key:<{wid}}  {body}" + (f"   [{note}]" if note else ""))
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def text_report(d: RunDiff, *, show_all: bool = False) -> str:
    a, b = d.a, d.b
    out = [f"Run {a.name!r} ({a.where}) -> run {b.name!r} ({b.where})", ""]
    if a.parameters is None or b.parameters is None:
        out.append("Parameters: not recorded for one of the runs")
    elif d.parameters:
        out.append("Parameters that differ:")
        out += [f"  {n}: {_value(va)} -> {_value(vb)}" for n, va, vb in d.parameters]
    else:
        out.append("Parameters: the same")
    if d.data is not None:
        out.append(f"Data folder: {_data_text(d.data[0])} -> {_data_text(d.data[1])}")
    elif a.data:
        out.append(f"Data folder: the same, {_data_text(a.data)}")
    out.append("")

    moved = d.select("moved", "main")
    out.append(f"Main estimates that moved: {len(moved)} of {d.n_main}"
               + (":" if moved else ""))
    out += _lines(d, moved)
    others = d.counts("moved")
    text_only = d.select("text")
    hidden = [f"{others[lvl]} {lvl}" for lvl in ("sensitivity", "derived") if others[lvl]]
    summary = []
    if hidden:
        n = others["sensitivity"] + others["derived"]
        summary.append(" and ".join(hidden) + (" estimate moved" if n == 1 else " estimates moved"))
    if text_only:
        summary.append(f"{_plural(len(text_only), 'estimate')} changed only its method or "
                       f"analysis text")
    if summary and not show_all:
        out.append("Also: " + "; ".join(summary)
                   + " (listed with --all, or `make diff ... DIFF_ALL=1`).")
    if show_all:
        for lvl in ("sensitivity", "derived"):
            cs = d.select("moved", lvl)
            if cs:
                out += ["", f"{lvl.capitalize()} estimates that moved: {len(cs)}:"]
                out += _lines(d, cs)
        if text_only:
            out += ["", f"Estimates whose method or analysis text alone changed: "
                        f"{len(text_only)}:"]
            out += _lines(d, text_only)

    for kind, run in (("only_a", a), ("only_b", b)):
        cs = d.select(kind)
        if not cs:
            continue
        listed = cs if show_all else [c for c in cs if c.level == "main"]
        out += ["", f"Only in run {run.name!r}: {_plural(len(cs), 'estimate')}"
                    + (":" if listed else "")]
        out += _lines(d, listed)
        if len(listed) < len(cs):
            out.append(f"  (and {len(cs) - len(listed)} sensitivity or derived, listed with "
                       "--all)")
    if not d.changes and not d.parameters and d.data is None:
        out += ["", f"No estimate differs between runs {a.name!r} and {b.name!r}."]
    return "\n".join(out) + "\n"


CSV_COLUMNS = ("kind", "level", "section", "id", "change", "a", "b", "a_estimate", "a_ci_low",
               "a_ci_high", "b_estimate", "b_ci_low", "b_ci_high", "columns")


def csv_report(d: RunDiff) -> str:
    """Every difference, one row each: parameters, data folder, then estimates of all levels."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    for n, va, vb in d.parameters:
        w.writerow({"kind": "parameter", "id": n, "change": "differs", "a": _value(va),
                    "b": _value(vb)})
    if d.data is not None:
        w.writerow({"kind": "data", "id": "data_folder", "change": "differs",
                    "a": _data_text(d.data[0]), "b": _data_text(d.data[1])})
    for c in d.changes:
        a, b, _ = change_texts(c)
        row = {"kind": "estimate", "level": c.level, "section": c.section, "id": c.id,
               "change": c.kind, "a": format_estimate(c.a) if c.a else "",
               "b": format_estimate(c.b) if c.b else "", "columns": ";".join(c.columns)}
        for side, r in (("a", c.a), ("b", c.b)):
            for col in ("estimate", "ci_low", "ci_high"):
                row[f"{side}_{col}"] = r.get(col, "") if r else ""
        w.writerow(row)
    return buf.getvalue()


# -- HTML block for a reviewer run --------------------------------------------------------------

def changes_html(d: RunDiff, run_name: str) -> str:
    """The "changes since the published report" block of a reviewer run's title block."""
    from . import text

    moved = d.select("moved", "main")
    groups = []
    for title, cs in _groups(d, moved):
        rows = []
        for c in cs:
            a, b, note = change_texts(c)
            rows.append({"id": c.id, "a": a, "b": b, "note": note.replace(" -> ", " → ")})
        groups.append((title, rows))
    others = d.counts("moved")
    hidden = [f"{others[lvl]} {lvl}" for lvl in ("sensitivity", "derived") if others[lvl]]
    hidden_text = ""
    if hidden:
        n = others["sensitivity"] + others["derived"]
        hidden_text = " and ".join(hidden) + (" estimate moved" if n == 1 else " estimates moved")
    if d.select("text"):
        hidden_text += ("; " if hidden_text else "") + (
            f"{_plural(len(d.select('text')), 'estimate')} changed only its method text")
    only = {k: [{"id": c.id, "text": format_estimate(c.row)} for c in d.select(k)
                if c.level == "main"] for k in ("only_a", "only_b")}
    return str(text.render(
        "run/changes.html.j2", run=run_name,
        parameters=[(n, _value(va), _value(vb)) for n, va, vb in d.parameters],
        data=(None if d.data is None else (_data_text(d.data[0]), _data_text(d.data[1]))),
        groups=groups, n_moved=len(moved), n_main=d.n_main, hidden=hidden_text,
        only_published=only["only_a"], only_here=only["only_b"],
        n_only_published=len(d.select("only_a")), n_only_here=len(d.select("only_b"))))


def reviewer_block(run_name: str, record: dict[str, Any], rows: list[dict[str, str]]
                   ) -> str | None:
    """The block for the top of a run's HTML: every run but the published report itself (the
    default run on the project's data/) says what moved since the published report."""
    if run_name == "default" and record["data"]["project_data"]:
        return None
    d = since_published(run_name, record, rows)
    return changes_html(d, run_name) if d is not None else None


# -- command line ------------------------------------------------------------------------------

def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make diff A=<run> B=<run>",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("a", help="run name (default, strict...), parameter file or directory")
    parser.add_argument("b")
    parser.add_argument("--all", action="store_true", default=_flag("DIFF_ALL"),
                        help="also list sensitivity and derived rows (DIFF_ALL=1)")
    parser.add_argument("--csv", action="store_true", default=_flag("DIFF_CSV"),
                        help="every difference as CSV (DIFF_CSV=1)")
    args = parser.parse_args(argv)
    try:
        d = compare(load_run(args.a), load_run(args.b))
    except DiffError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(csv_report(d) if args.csv else text_report(d, show_all=args.all))
    return 0


if __name__ == "__main__":
    sys.exit(main())
