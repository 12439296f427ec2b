"""Hostile inputs against a copy of the project, run by hand (several minutes: a few full builds).

    .venv/bin/python tests/hostile/hostile.py [--keep] [--only SUBSTRING ...]

The project's files (tracked and untracked, not ignored) are copied into a temporary
directory, with this checkout's .venv linked in; the report is built there once, then each
fault below is applied to a fresh copy of data/ and params/ and `make report` is run. A
fault passes when the build either
  - succeeds and its result is right (the check named in the table), or
  - stops non-zero with a clear message naming the file and line (and column), the
    parameter, or the step and path (a pattern per fault), and no Python traceback,
and, in both cases, the published report (report/ without runs/) is byte-identical to what
it was before. Prints one table row per fault; exits 1 if any fault failed.

Some faults need root (a full disk is a tiny tmpfs mounted in the temporary directory; a
directory that refuses writes is made immutable with chattr); without root they are skipped.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
ROOT_USER = os.geteuid() == 0
csv.field_size_limit(sys.maxsize)  # the script itself reads the 1 MB field it writes


# --------------------------------------------------------------------------- the copy

class Copy:
    def __init__(self, work: Path):
        self.work = work
        self.root = work / "repo"
        files = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.split("\0")
        for rel in filter(None, files):
            src = ROOT / rel
            if not src.is_file() or rel.startswith(("report/runs/", "build/")):
                continue
            dst = self.root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        (self.root / ".venv").symlink_to(ROOT / ".venv")
        self.pristine = work / "pristine"
        for d in ("data", "params"):
            shutil.copytree(self.root / d, self.pristine / d)
        self.tag = hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:10]
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
        self.env["PYTHONPATH"] = str(self.root / "src")  # not the editable install of ROOT

    def restore(self) -> None:
        for d in ("data", "params"):
            shutil.rmtree(self.root / d)
            shutil.copytree(self.pristine / d, self.root / d)

    def make(self, *args: str, env: dict | None = None, timeout: int = 900,
             popen: bool = False):
        cmd = ["make", "--no-print-directory", "-o", ".venv/.installed", *args]
        e = dict(self.env, **(env or {}))
        if popen:
            return subprocess.Popen(cmd, cwd=self.root, env=e, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, start_new_session=True)
        return subprocess.run(cmd, cwd=self.root, env=e, capture_output=True, text=True,
                              timeout=timeout)

    def snapshot(self) -> dict[str, bytes]:
        rep = self.root / "report"
        return {str(p.relative_to(rep)): p.read_bytes() for p in sorted(rep.rglob("*"))
                if p.is_file() and "runs" not in p.relative_to(rep).parts}

    def data(self, name: str) -> Path:
        return self.root / "data" / name

    def debris(self, build_root: Path | None = None, out: Path | None = None) -> list[str]:
        found = [p.name for p in Path(tempfile.gettempdir()).glob(f"evt-{self.tag}-*")]
        if build_root is not None:
            found += [str(p.relative_to(build_root)) for p in build_root.glob("*/executed/.exec-*")]
        for d in [self.root / "report", out] if out else [self.root / "report"]:
            if d.is_dir():
                found += [p.name for p in d.glob(".staging-*")]
        return found


# --------------------------------------------------------------------------- CSV edits

def read_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def lines_of(path: Path) -> list[int]:
    """Physical start line of every record (header = 1)."""
    with open(path, encoding="utf-8", newline="") as f:
        reader, starts, prev = csv.reader(f), [], 0
        for _ in reader:
            starts.append(prev + 1)
            prev = reader.line_num
    return starts


def set_cell(path: Path, index: int, column: str, value: str) -> int:
    """Set a cell of data row `index` (1 = first data row); return its line."""
    rows = read_rows(path)
    rows[index][rows[0].index(column)] = value
    write_rows(path, rows)
    return lines_of(path)[index]


def row_where(path: Path, column: str, pred: Callable[[str], bool]) -> int:
    rows = read_rows(path)
    j = rows[0].index(column)
    return next(i for i, r in enumerate(rows[1:], 1) if pred(r[j]))


def cell(path: Path, index: int, column: str) -> str:
    rows = read_rows(path)
    return rows[index][rows[0].index(column)]


# --------------------------------------------------------------------------- faults

@dataclass
class Fault:
    group: str
    name: str
    apply: Callable[["Copy"], object]           # returns what `expect` may need
    expect: Callable[[object], str] | str       # regex the stderr must match (an error)
    builds: bool = False                        # True: must succeed; `check` says it is right
    check: Callable[["Copy", object, subprocess.CompletedProcess], str | None] | None = None
    args: Callable[["Copy", object], list[str]] | list[str] = field(default_factory=list)
    run: Callable[["Copy", object], tuple] | None = None   # a custom run (interruptions)
    root: bool = False                          # needs root
    label: str = "built"                        # the outcome when it passes (builds=True)


def err(pattern: str) -> str:
    return pattern


def data_fault(name, fn, pattern):
    return Fault("data", name, fn, pattern)


def _csv_events_gt_total(c):
    p = c.data("outcomes.csv")
    i = row_where(p, "total", lambda v: v not in ("", "0"))
    total = int(cell(p, i, "total"))
    set_cell(p, i, "count_status", "reported")
    return set_cell(p, i, "events", str(total + 5))


def _line(c, file, column, value, pick=lambda v: True, col_pick=None):
    p = c.data(file)
    i = row_where(p, col_pick or column, pick)
    return set_cell(p, i, column, value)


def _drop_column(c):
    p = c.data("outcomes.csv")
    rows = read_rows(p)
    j = rows[0].index("quote")
    write_rows(p, [r[:j] + r[j + 1:] for r in rows])


def _extra_column(c):
    p = c.data("effects.csv")
    rows = read_rows(p)
    write_rows(p, [r + (["comment"] if k == 0 else ["x"]) for k, r in enumerate(rows)])


def _swap_columns(c):
    p = c.data("baseline.csv")
    rows = read_rows(p)
    for r in rows:
        r[1], r[2] = r[2], r[1]
    write_rows(p, rows)


def _duplicate_header(c):
    p = c.data("sources.csv")
    rows = read_rows(p)
    rows[0][rows[0].index("notes")] = "title"
    write_rows(p, rows)


def _duplicate_row_id(c):
    p = c.data("outcomes.csv")
    rows = read_rows(p)
    rows[3][0] = rows[2][0]
    write_rows(p, rows)
    return lines_of(p)[3], rows[2][0]


def _too_many_fields(c):
    p = c.data("effects.csv")
    text = p.read_text(encoding="utf-8").split("\n")
    starts = lines_of(p)
    n = starts[2]
    text[n - 1] = text[n - 1] + ",surplus"
    p.write_text("\n".join(text), encoding="utf-8")
    return n


def _dist_sum(c):
    p = c.data("distributions.csv")
    i = row_where(p, "count", lambda v: v not in ("", "0"))
    return set_cell(p, i, "count", str(int(cell(p, i, "count")) + 1))


def _repeat_grade(c):
    p = c.data("distributions.csv")
    rows = read_rows(p)
    g = rows[0].index("grade")
    rows[2][g] = rows[1][g]
    write_rows(p, rows)


def _claim_unknown_row(c):
    p = c.data("claims.csv")
    return set_cell(p, 1, "supporting_rows", "no-such.row")


def _invalid_utf8(c):
    p = c.data("outcomes.csv")
    raw = p.read_bytes().split(b"\n")
    raw[4] = raw[4].replace(b",", b",\xe9", 1)
    p.write_bytes(b"\n".join(raw))
    return 5


def _spreadsheet(c):
    for name in ("sources", "outcomes", "effects", "distributions", "baseline", "claims"):
        p = c.data(f"{name}.csv")
        p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes().replace(b"\n", b"\r\n") + b"\r\n\r\n")


def _bare_cr(c):
    p = c.data("baseline.csv")
    p.write_bytes(p.read_bytes().replace(b"\n", b"\r", 2))


def _long_field(c):
    return set_cell(c.data("sources.csv"), 2, "notes", "x" * 1_000_000)


def _unclosed_quote(c):
    p = c.data("outcomes.csv")
    text = p.read_text(encoding="utf-8").split("\n")
    n = lines_of(p)[6]
    text[n - 1] = text[n - 1].replace(",", ',"', 1)
    p.write_text("\n".join(text), encoding="utf-8")
    return n


def _header_only(c):
    p = c.data("distributions.csv")
    p.write_text(p.read_text(encoding="utf-8").split("\n", 1)[0] + "\n", encoding="utf-8")


def _dir_instead(c):
    c.data("effects.csv").unlink()
    c.data("effects.csv").mkdir()


def _dangling(c):
    c.data("baseline.csv").unlink()
    c.data("baseline.csv").symlink_to(c.work / "nowhere.csv")


def _truncated_package(c):
    p = c.data("datapackage.json")
    p.write_bytes(p.read_bytes()[:5000])


def _new_outcome(c):
    with open(c.data("vocabulary.csv"), "a", encoding="utf-8") as fh:
        fh.write("outcome,good_outcome,Good outcome,favourable,beneficial,a new outcome\n")


def _notes_and_readme(c):
    (c.root / "data" / "README.md").write_text("# edited\n", encoding="utf-8")
    (c.root / "data" / "notes" / "new-note.md").write_text("a note\n", encoding="utf-8")


def _check_nothing_rebuilt(c, _, proc):
    return "a notebook ran" if "evtreport.build execute" in proc.stdout else None


def _write_params(c, text: bytes | str, where: str = "params", name: str = "hostile.yaml"):
    d = c.root / "params" if where == "params" else c.work / where
    d.mkdir(parents=True, exist_ok=True)
    p = d / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


def param_fault(name, text, pattern, where="params", fname="hostile.yaml"):
    return Fault("parameters", name, lambda c: _write_params(c, text, where, fname),
                 lambda p: pattern.replace("{p}", re.escape(str(p))),
                 args=lambda c, p: [f"PARAMS={p}"])


def _render_out(c, extra: list[str]) -> str:
    dry = c.make("-n", "report", *extra).stdout
    return re.search(r"evtreport\.build render .*--out (\S+)", dry).group(1)


def _dry_check(expected: Callable[[Copy, object], str], extra: Callable[[Copy, object], list]):
    def run(c, ctx):
        got = _render_out(c, extra(c, ctx))
        want = expected(c, ctx)
        proc = subprocess.CompletedProcess([], 0 if got == want else 1, f"run -> {got}", "")
        return proc, None if got == want else f"published to {got}, expected {want}"
    return run


def _old_mtime_edit(c, ctx):
    p = c.root / "params" / "mtime.yaml"
    p.write_text("hksj: true\n")
    dry = c.make("-n", "report", f"PARAMS={p}").stdout
    target = re.search(r"evtreport\.build prepare .*--out (\S+)", dry).group(1)
    first = c.make(target, f"PARAMS={p}")
    p.write_text("hksj: false\n")
    os.utime(p, (946684800, 946684800))
    second = c.make(target, f"PARAMS={p}")
    built = (c.root / target).read_text()
    ok = first.returncode == 0 and second.returncode == 0 and "hksj: false" in built
    return second, None if ok else "the edit with an old modification time was not built"


def _interrupt(sig: int, wait_for: str, out_name: str, restart: bool):
    """Start a build, send `sig` to its process group once `wait_for` scratch exists, then
    (restart) build again: the debris must be gone and the result right."""
    def run(c, ctx):
        build_root = c.work / f"build-{out_name}"
        out = c.work / f"out-{out_name}" if wait_for == "staging" else c.root / "report"
        args = [f"BUILD_ROOT={build_root}", f"OUT={out}"]
        if wait_for == "staging":
            args = [f"OUT={out}"]  # the default run is built: only the render step runs
        proc = c.make("report", *args, popen=True)
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            hits = (list(build_root.glob("*/executed/.exec-*")) if wait_for == "exec"
                    else list(out.glob(".staging-*")) if out.is_dir() else [])
            if hits:
                time.sleep(2)
                break
            time.sleep(0.2)
        else:
            proc.kill()
            return subprocess.CompletedProcess([], 1, "", "never reached the step"), \
                "the step to interrupt was never reached"
        os.killpg(proc.pid, sig)
        stdout, stderr = proc.communicate(timeout=120)
        time.sleep(1)
        first = subprocess.CompletedProcess([], proc.returncode, stdout, stderr)
        if first.returncode == 0:
            return first, "the interrupted build exited 0"
        left = c.debris(build_root, out if wait_for == "staging" else None)
        if not restart:
            return first, (f"debris left: {left}" if left else None)
        again_out = out if wait_for == "staging" else c.work / f"out-{out_name}"
        again = c.make("report", *[a for a in args if not a.startswith("OUT=")],
                       f"OUT={again_out}")
        if again.returncode != 0:
            return again, "the next build failed"
        after = c.debris(build_root, again_out)
        if after:
            return again, f"debris not removed by the next build: {after}"
        same = (again_out / "results.csv").read_bytes() == (c.root / "report" / "results.csv").read_bytes()
        return first, None if same else "the next build's results.csv differs"
    return run


def _tmpfs(c, name: str, size: str) -> Path:
    d = c.work / name
    d.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(d)], check=True)
    c.mounts.append(d)
    return d


def _immutable_report(c):
    rep = c.root / "report"
    os.utime(rep / "index.html", (946684800, 946684800))  # make sees it out of date
    subprocess.run(["chattr", "+i", str(rep)], check=True)
    c.immutable.append(rep)


def _fake_chromium(c):
    f = c.work / "fake-chromium"
    f.write_text("#!/bin/sh\necho 'fake failure: cannot open display' >&2\nexit 3\n")
    f.chmod(0o755)
    return f


def faults() -> list[Fault]:
    F = []
    # ---- data: values
    F.append(data_fault("events greater than total", _csv_events_gt_total,
                        lambda n: rf"error: data/outcomes\.csv:{n}: column 'events': events \(\d+\) greater than total"))
    F.append(data_fault("negative count", lambda c: _line(c, "outcomes.csv", "events", "-3", lambda v: v != ""),
                        lambda n: rf"data/outcomes\.csv:{n}: column 'events': expected a non-negative integer, got '-3'"))
    F.append(data_fault("count written as a word", lambda c: _line(c, "outcomes.csv", "total", "twelve", lambda v: v != ""),
                        lambda n: rf"data/outcomes\.csv:{n}: column 'total': expected a non-negative integer, got 'twelve'"))
    F.append(data_fault("percentage above 100", lambda c: _line(c, "outcomes.csv", "reported_percent", "150", lambda v: v != ""),
                        lambda n: rf"data/outcomes\.csv:{n}: column 'reported_percent': expected a percentage between 0 and 100"))
    F.append(data_fault("percentage with a % sign", lambda c: _line(c, "outcomes.csv", "reported_percent", "45%", lambda v: v != ""),
                        lambda n: rf"data/outcomes\.csv:{n}: column 'reported_percent': expected a percentage as a plain decimal"))
    F.append(data_fault("decimal comma", lambda c: _line(c, "effects.csv", "estimate", "1,5", lambda v: v != ""),
                        lambda n: rf"data/effects\.csv:{n}: column 'estimate': expected a decimal number, got '1,5'"))
    F.append(data_fault("unknown source_id", lambda c: _line(c, "outcomes.csv", "source_id", "nobody-2020"),
                        lambda n: rf"data/outcomes\.csv:{n}: column 'source_id': unknown source_id 'nobody-2020'"))
    F.append(data_fault("duplicated row_id", _duplicate_row_id,
                        lambda ctx: rf"data/outcomes\.csv:{ctx[0]}: column 'row_id': duplicated row_id '{re.escape(ctx[1])}'"))
    F.append(data_fault("required value empty", lambda c: _line(c, "sources.csv", "label", ""),
                        lambda n: rf"data/sources\.csv:{n}: column 'label': required value is empty"))
    F.append(data_fault("enum value misspelt", lambda c: _line(c, "outcomes.csv", "cohort", "DMVO2"),
                        lambda n: rf"data/outcomes\.csv:{n}: column 'cohort': expected one of: DMVO, ICASS-M1; got 'DMVO2'"))
    F.append(data_fault("outcome not in the vocabulary", lambda c: _line(c, "outcomes.csv", "outcome", "good_outcome"),
                        lambda n: rf"data/outcomes\.csv:{n}: column 'outcome': expected one of: .*got 'good_outcome'"))
    F.append(data_fault("trailing space in a value", lambda c: _line(c, "effects.csv", "measure", "OR ", lambda v: v == "OR"),
                        lambda n: rf"data/effects\.csv:{n}: column 'measure': leading or trailing whitespace in 'OR '"))
    F.append(data_fault("CI low above CI high", lambda c: _line(c, "effects.csv", "ci_low", "99", lambda v: v != "", "ci_high"),
                        lambda n: rf"data/effects\.csv:{n}: column '(ci_low|estimate)': "))
    F.append(data_fault("negative ratio", lambda c: _line(c, "effects.csv", "estimate", "-0.5", lambda v: v != "OR" and v.endswith("OR"), "measure"),
                        lambda n: rf"data/effects\.csv:{n}: column 'estimate': a .* must be positive, got '-0.5'"))
    F.append(data_fault("distribution not summing to its total", _dist_sum,
                        r"data/distributions\.csv:\d+: column 'count': counts of distribution .* sum to \d+, not to total \d+"))
    F.append(data_fault("grade repeated in a distribution", _repeat_grade,
                        r"data/distributions\.csv:\d+: column 'grade': grade '.*' repeated in distribution"))
    F.append(data_fault("claim citing an unknown row", _claim_unknown_row,
                        lambda n: rf"data/claims\.csv:{n}: column 'supporting_rows': unknown row_id 'no-such\.row'"))
    F.append(data_fault("DOI given as a URL", lambda c: _line(c, "sources.csv", "doi", "https://doi.org/10.1000/x"),
                        lambda n: rf"data/sources\.csv:{n}: column 'doi': expected a DOI like 10\.1234/abc"))
    F.append(data_fault("javascript: URL", lambda c: _line(c, "sources.csv", "url", "javascript:alert(1)"),
                        lambda n: rf"data/sources\.csv:{n}: column 'url': expected a URL starting with http:// or https://"))
    F.append(data_fault("five-digit year", lambda c: _line(c, "sources.csv", "year", "20255"),
                        lambda n: rf"data/sources\.csv:{n}: column 'year': expected a year \(4 digits\), got '20255'"))
    F.append(data_fault("p-value with 'p' in it", lambda c: _line(c, "effects.csv", "p_value", "p<0.05"),
                        lambda n: rf"data/effects\.csv:{n}: column 'p_value': expected a p-value between 0 and 1"))
    # ---- data: structure and encoding
    F.append(data_fault("column missing", _drop_column,
                        r"data/outcomes\.csv:1: column 'quote': missing column"))
    F.append(data_fault("unknown extra column", _extra_column,
                        r"data/effects\.csv:1: column 'comment': unknown column \(expected columns:"))
    F.append(data_fault("columns swapped", _swap_columns,
                        r"data/baseline\.csv:1: columns out of order; expected: row_id,source_id,cohort"))
    F.append(data_fault("duplicated column", _duplicate_header,
                        r"data/sources\.csv:1: column 'title': duplicated column"))
    F.append(data_fault("unquoted comma (too many fields)", _too_many_fields,
                        lambda n: rf"data/effects\.csv:{n}: expected \d+ fields as in the header, got \d+ \(a comma inside an unquoted field\?"))
    F.append(data_fault("bytes that are not UTF-8 (Latin-1 é)", _invalid_utf8,
                        lambda n: rf"data/outcomes\.csv:{n}: not valid UTF-8 \(byte 0xe9\)"))
    F.append(Fault("data", "spreadsheet save: BOM, CRLF, blank lines", lambda c: _spreadsheet(c), "",
                   builds=True, args=lambda c, _: [f"OUT={c.work / 'out-bom'}", f"BUILD_ROOT={c.work / 'build-bom'}"],
                   check=lambda c, _, p: None if (c.work / "out-bom" / "results.csv").read_bytes()
                   == (c.root / "report" / "results.csv").read_bytes() else "results.csv differs",
                   label="built, results.csv identical"))
    F.append(data_fault("old Mac line endings (bare CR)", _bare_cr,
                        r"data/baseline\.csv:1: bare carriage return \(old Mac line ending\)"))
    F.append(data_fault("1 MB field", _long_field,
                        lambda n: rf"^error: data/sources\.csv:{n}: a field is longer than 131072 characters, the limit for one cell .*not read\n[^\n]*\*\*\*"))
    F.append(data_fault("quote never closed", _unclosed_quote,
                        lambda n: rf"^error: data/outcomes\.csv:{n}: (malformed CSV|a field is longer)[^\n]*\n[^\n]*\*\*\*"))
    F.append(data_fault("empty file (0 bytes)", lambda c: c.data("effects.csv").write_bytes(b""),
                        r"data/effects\.csv: file is empty \(it needs at least the header row"))
    F.append(data_fault("header-only distributions.csv", _header_only,
                        r"data/distributions\.csv: no data rows: the file holds only its header"))
    F.append(data_fault("claims.csv deleted", lambda c: c.data("claims.csv").unlink(),
                        r"error: data/claims\.csv: file not found"))
    F.append(data_fault("sources.csv deleted", lambda c: c.data("sources.csv").unlink(),
                        r"error: data/sources\.csv: file not found"))
    F.append(data_fault("datapackage.json deleted", lambda c: c.data("datapackage.json").unlink(),
                        r"error: data/datapackage\.json: file not found: .*copy the project's data/datapackage\.json"))
    F.append(data_fault("datapackage.json cut short (not JSON)", _truncated_package,
                        r"error: data/datapackage\.json: line \d+, column \d+: not valid JSON"))
    F.append(data_fault("outcome added to the vocabulary, package not regenerated", _new_outcome,
                        r"error: data/datapackage\.json: field outcomes\.outcome: its enum is not the outcome keys of vocabulary\.csv \(missing good_outcome\); run `python -m evtreport\.datapackage --write`"))
    F.append(data_fault("stray copy outcomes_new.csv", lambda c: shutil.copy(c.data("outcomes.csv"), c.data("outcomes_new.csv")),
                        r"error: data/outcomes_new\.csv: unknown file in the data directory"))
    F.append(data_fault("spreadsheet lock file", lambda c: c.data(".~lock.outcomes.csv#").write_text("x"),
                        r"data/\.~lock\.outcomes\.csv#: unknown file in the data directory"))
    F.append(data_fault("data file replaced by a directory", _dir_instead,
                        r"data/effects\.csv: cannot read file: \[Errno 21\] Is a directory"))
    F.append(data_fault("data file a dangling symlink", _dangling,
                        r"data/baseline\.csv: file not found"))
    F.append(Fault("data", "data/README.md edited, a note added", _notes_and_readme, "", builds=True,
                   check=_check_nothing_rebuilt, label="nothing to rebuild"))
    # ---- parameters
    F.append(param_fault("unknown parameter", "ci_metod: wilson\n",
                         r"error: {p}: unknown parameter 'ci_metod'; allowed:"))
    F.append(param_fault("boolean written 'maybe'", "hksj: maybe\n",
                         r"error: {p}: parameter 'hksj': expected true or false, got 'maybe'"))
    F.append(param_fault("level as a percentage", "confidence_level: 95\n",
                         r"error: {p}: parameter 'confidence_level': expected a number between 0\.5 and 0\.999, got 95"))
    F.append(param_fault("key given twice", "model: fixed\nhksj: true\nmodel: random\n",
                         r"error: {p}: parameter 'model' is given twice \(lines 1 and 3\)"))
    F.append(param_fault("exclude an unknown study", "exclude_studies: [nobody-2020]\n",
                         r"error: {p}: parameter 'exclude_studies': unknown source_id 'nobody-2020'"))
    F.append(param_fault("exclude_studies not a list", "exclude_studies: lee-2018\n",
                         r"error: {p}: parameter 'exclude_studies': expected a list of str values"))
    F.append(param_fault("YAML syntax error", "model: [random\n", r"error: {p}: not valid YAML"))
    F.append(param_fault("a list, not a mapping", "- model\n- fixed\n",
                         r"error: {p}: expected a YAML mapping of parameter: value, got list"))
    F.append(param_fault("file not UTF-8", b"model: fixed # caf\xe9\n",
                         r"error: {p}: not valid UTF-8 \(byte 0xe9\)"))
    F.append(param_fault("tab-indented YAML", "model:\n\t- fixed\n", r"error: {p}: not valid YAML"))
    F.append(Fault("parameters", "PARAMS with a space", lambda c: _write_params(c, "", "dir with space"),
                   r"\*\*\* PARAMS=.*dir with space/hostile\.yaml: a parameter file path must not contain spaces",
                   args=lambda c, p: [f"PARAMS={p}"]))
    F.append(Fault("parameters", "PARAMS with a quote", lambda c: _write_params(c, "", "params", "it's.yaml"),
                   r"\*\*\* PARAMS=.*it's\.yaml: a parameter file path may hold only", args=lambda c, p: [f"PARAMS={p}"]))
    F.append(Fault("parameters", "PARAMS empty", lambda c: None, r"\*\*\* PARAMS is empty", args=["PARAMS="]))
    F.append(Fault("parameters", "PARAMS names no file", lambda c: None,
                   r"\*\*\* params/typo\.yaml: parameter file not found", args=["PARAMS=params/typo.yaml"]))
    F.append(Fault("parameters", "PARAMS is a directory", lambda c: None,
                   r"error: params: cannot read parameter file \(Is a directory\)", args=["PARAMS=params"]))
    F.append(Fault("parameters", "an edit with an old modification time", lambda c: None, "",
                   builds=True, run=_old_mtime_edit, label="rebuilt"))
    F.append(Fault("parameters", "/elsewhere/default.yaml is not the published run", lambda c: _write_params(c, "hksj: true\n", "elsewhere", "default.yaml"),
                   "", builds=True,
                   run=_dry_check(lambda c, p: "report/runs/default@" + hashlib.sha256(str(p.resolve()).encode()).hexdigest()[:8],
                                  lambda c, p: [f"PARAMS={p}"]), label="own run directory"))
    F.append(Fault("parameters", "/elsewhere/strict.yaml is not params/strict.yaml's run", lambda c: _write_params(c, "hksj: true\n", "elsewhere", "strict.yaml"),
                   "", builds=True,
                   run=_dry_check(lambda c, p: "report/runs/strict@" + hashlib.sha256(str(p.resolve()).encode()).hexdigest()[:8],
                                  lambda c, p: [f"PARAMS={p}"]), label="own run directory"))
    F.append(Fault("parameters", "a symlink to params/strict.yaml is run strict", lambda c: (c.work / "link.yaml").symlink_to(c.root / "params" / "strict.yaml") or c.work / "link.yaml",
                   "", builds=True,
                   run=_dry_check(lambda c, p: "report/runs/strict", lambda c, p: [f"PARAMS={p}"]),
                   label="run strict"))
    F.append(Fault("parameters", "a run of /elsewhere/default.yaml builds beside the report", lambda c: _write_params(c, "favourable_mrs_max: 1\n", "elsewhere2", "default.yaml"),
                   "", builds=True, args=lambda c, p: [f"PARAMS={p}"],
                   check=lambda c, p, proc: None if list((c.root / "report" / "runs").glob("default@*/results.csv"))
                   else "no run directory"))
    # ---- environment and process faults
    F.append(Fault("process", "report/ refuses writes (immutable)", _immutable_report,
                   r"error: rendering report: .*report/\.staging-[^:]*: permission denied", root=True))
    F.append(Fault("process", "Chromium fails", _fake_chromium,
                   r"error: printing the PDF: Chromium could not print .* \(exit 3\): fake failure",
                   args=lambda c, f: [f"OUT={c.work / 'out-chromium'}", f"CHROMIUM={f}"]))
    F.append(Fault("process", "disk full while publishing", lambda c: _tmpfs(c, "full-out", "600k"),
                   r"error: rendering .*full-out: .*no space left on the device; free some disk space",
                   args=lambda c, d: [f"OUT={d}"], root=True))
    F.append(Fault("process", "disk full while executing", lambda c: _tmpfs(c, "full-build", "400k"),
                   r"error: executing notebooks/\d\d_\w+\.ipynb: .*no space left on the device; free",
                   args=lambda c, d: [f"BUILD_ROOT={d}", f"OUT={c.work / 'out-full'}"], root=True))
    F.append(Fault("process", "data directory missing", lambda c: None,
                   r"error: .*no-such-data: data directory not found",
                   args=lambda c, _: [f"DATA_DIR={c.work / 'no-such-data'}", f"BUILD_ROOT={c.work / 'b-nodata'}"]))
    F.append(Fault("process", "TMPDIR too long for kernel sockets",
                   lambda c: (c.work / ("t" * 90)).mkdir() or c.work / ("t" * 90),
                   r"error: the temporary directory .*t{90} has too long a path for the kernel's sockets; set TMPDIR",
                   args=lambda c, t: [f"BUILD_ROOT={c.work / 'b-tmpdir'}", f"OUT={c.work / 'out-tmpdir'}", f"TMPDIR={t}"]))
    F.append(Fault("interruption", "Ctrl-C while notebooks run", lambda c: None, "", builds=True,
                   run=_interrupt(signal.SIGINT, "exec", "sigint", restart=False),
                   label="stopped, nothing left behind"))
    F.append(Fault("interruption", "SIGTERM while notebooks run", lambda c: None, "", builds=True,
                   run=_interrupt(signal.SIGTERM, "exec", "sigterm", restart=False),
                   label="stopped, nothing left behind"))
    F.append(Fault("interruption", "SIGKILL while notebooks run, then build again", lambda c: None, "",
                   builds=True, run=_interrupt(signal.SIGKILL, "exec", "sigkill", restart=True),
                   label="killed; the next build removed the debris, same results"))
    F.append(Fault("interruption", "SIGKILL while publishing, then build again", lambda c: None, "",
                   builds=True, run=_interrupt(signal.SIGKILL, "staging", "sigkill-render", restart=True),
                   label="killed; the next build removed the debris, same results"))
    first = ("data/README.md edited, a note added", "report/ refuses writes (immutable)",
             "Chromium fails", "disk full while publishing",
             "SIGKILL while publishing, then build again")
    # These need the default run built (only the render step runs): before any fault that
    # changes data/, since restoring it makes the next build execute every notebook again.
    return sorted(F, key=lambda f: first.index(f.name) if f.name in first else len(first))


# --------------------------------------------------------------------------- running

def run_fault(c: Copy, f: Fault) -> tuple[str, str, bool]:
    """(outcome, message, report unchanged)"""
    c.restore()
    before = c.snapshot()
    ctx = f.apply(c)
    problem = None
    try:
        if f.run:
            proc, problem = f.run(c, ctx)
        else:
            args = f.args(c, ctx) if callable(f.args) else list(f.args)
            proc = c.make("report", *args)
    finally:
        for d in c.immutable:
            subprocess.run(["chattr", "-i", str(d)])
        c.immutable.clear()
        for d in c.mounts:
            subprocess.run(["umount", str(d)])
        c.mounts.clear()
    text = proc.stderr + proc.stdout
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:") or "***" in ln]
    message = errors[0] if errors else (proc.stdout.strip().splitlines() or [""])[-1]
    if "Traceback" in text:
        problem = problem or "a Python traceback"
    if f.builds:
        if problem is None and not f.run and proc.returncode != 0:
            problem = "the build failed"
        if problem is None and f.check:
            problem = f.check(c, ctx, proc)
        outcome = f.label if problem is None else "FAIL: " + problem
    else:
        pattern = f.expect(ctx) if callable(f.expect) else f.expect
        if proc.returncode == 0:
            problem = problem or "exited 0"
        elif not re.search(pattern, proc.stderr, re.M):
            problem = problem or "message does not match " + pattern
        outcome = "stopped" if problem is None else "FAIL: " + problem
    unchanged = c.snapshot() == before
    return outcome, message, unchanged


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", action="store_true", help="keep the temporary copy")
    ap.add_argument("--only", nargs="*", default=[], help="run faults whose name contains one")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="evt-hostile-"))
    c = Copy(work)
    c.mounts, c.immutable = [], []
    t0 = time.time()
    print(f"copy: {c.root}", flush=True)
    base = c.make("report")
    if base.returncode != 0:
        print("the unmodified copy does not build:\n" + base.stderr)
        return 1
    print(f"baseline build: {time.time() - t0:.0f} s", flush=True)
    rows, failed = [], 0
    selected = [f for f in faults() if not args.only or any(s in f.name for s in args.only)]
    for i, f in enumerate(selected, 1):
        if f.root and not ROOT_USER:
            rows.append((i, f.group, f.name, "skipped (needs root)", "", "-"))
            continue
        t = time.time()
        try:
            outcome, message, unchanged = run_fault(c, f)
        except Exception as exc:  # the script's own failure is a failed fault, not a crash
            outcome, message, unchanged = f"FAIL: script error {type(exc).__name__}: {exc}", "", c.snapshot() is not None
        ok = not outcome.startswith("FAIL") and unchanged
        failed += not ok
        rows.append((i, f.group, f.name, outcome, message, "yes" if unchanged else "NO"))
        print(f"  {i:2d} {'ok ' if ok else 'BAD'} {time.time() - t:5.1f} s  {f.name}", flush=True)
    print()
    print(f"{len(selected)} faults, {failed} failed, {time.time() - t0:.0f} s in all")
    print()
    w = max(len(r[2]) for r in rows)
    print(f"| # | group | fault{' ' * (w - 5)} | outcome | report unchanged | message |")
    print(f"|---|---|{'-' * (w + 2)}|---|---|---|")
    for i, g, name, outcome, message, unchanged in rows:
        msg = message.replace("|", "\\|")
        msg = msg if len(msg) <= 150 else msg[:147] + "..."
        print(f"| {i} | {g} | {name:<{w}} | {outcome} | {unchanged} | {msg} |")
    if args.keep:
        print(f"\nkept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
