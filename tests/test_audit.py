"""Consistency audit: primitives checked against values derived by hand (and by brute force
for the SD check), then the audit of the real data and of corrupted copies."""

from __future__ import annotations

import csv
import itertools
import shutil
import statistics
from pathlib import Path

import pytest

from evtreport import audit as A
from evtreport.audit import (AUDIT_COLUMNS, audit_dataset, classify_percent, decimals,
                             grim_sums, grimmer_ok, max_sample_sd, percent_candidates)
from evtreport.data import NON_TABLE_FILES, REQUIRED_FILES, load_dataset
from evtreport.paths import DATA_DIR


# --------------------------------------------------------------------------- primitives

def test_decimals():
    assert [decimals(s) for s in ("36.3", "30", "0.495", "100.00")] == [1, 0, 3, 2]


def test_percent_ok_and_truncation():
    # 8/22 = 36.3636...%: 36.4 is the correct rounding, 36.3 a truncation
    status, x, msg = classify_percent(8, 22, "36.4")
    assert status == "ok" and x == pytest.approx(36.3636, abs=1e-4)
    status, x, msg = classify_percent(8, 22, "36.3")
    assert status == "rounding"
    assert msg == ("8/22 = 36.364%, printed 36.3%: within the printed precision but truncated "
                   "instead of rounded (correctly rounded: 36.4%)")


def test_percent_rounded_up_and_mismatch():
    # 1/3 = 33.333...%: 33.4 is one unit too high (rounded up), 35.0 is a mismatch
    assert classify_percent(1, 3, "33.4")[0] == "rounding"
    assert "rounded up" in classify_percent(1, 3, "33.4")[2]
    status, _, msg = classify_percent(6, 22, "30.0")  # 27.27%
    assert status == "mismatch" and "off by 2.727" in msg
    # whole-number printing: 6/20 = 30% exactly
    assert classify_percent(6, 20, "30")[0] == "ok"


def test_percent_ties_accept_either_direction():
    # 1/8 = 12.5% exactly: printed 13 (half up) or 12 (half even) are both correct roundings
    assert classify_percent(1, 8, "13")[0] == "ok"
    assert classify_percent(1, 8, "12")[0] == "ok"
    # 1/22 = 4.5454...% -> 4.5 (not a tie)
    assert classify_percent(1, 22, "4.5")[0] == "ok"
    assert classify_percent(1, 22, "4.6")[0] == "rounding"


def test_percent_candidates():
    assert percent_candidates("70", 10) == [7]
    assert percent_candidates("76.8", 99) == [76]            # 75/99 = 75.76, 77/99 = 77.78
    assert percent_candidates("45.5", 99) == [45]
    assert percent_candidates("54.5", 421) == []             # 229/421 = 54.39, 230/421 = 54.63
    assert percent_candidates("44.4", 9) == [4]
    assert percent_candidates("44.4", 10) == []              # 4/10 = 40, 5/10 = 50
    assert percent_candidates("50", 3) == []                 # 1/3 = 33, 2/3 = 67
    assert percent_candidates("0", 22) == [0]
    assert percent_candidates("100", 22) == [22]
    assert percent_candidates("10", 200) == [19, 20, 21]     # 9.5, 10.0, 10.5 print as 10 (ties)


def test_grim_by_hand():
    # mean 5.19 with n = 28 on integer data: 5.19 * 28 = 145.32; 145/28 = 5.1786 -> 5.18,
    # 146/28 = 5.2143 -> 5.21: no integer sum gives 5.19 -> impossible
    assert grim_sums("5.19", 28) == []
    assert grim_sums("5.18", 28) == [145]
    # age 57.8 with n = 22: 1271/22 = 57.773 -> 57.8 (and 1272/22 = 57.818 -> 57.8)
    assert 1271 in grim_sums("57.8", 22) and 1272 in grim_sums("57.8", 22)
    # n = 3: means are k/3 -> .00, .33, .67 only
    assert grim_sums("2.50", 3) == []
    assert grim_sums("2.33", 3) == [7]


def test_grimmer_by_hand():
    # n = 2, mean 1.50 -> values x + y = 3: (1,2) SD 0.707, (0,3) SD 2.121, ...
    assert grimmer_ok("1.50", "0.71", 2) is True
    assert grimmer_ok("2.5", "0.7", 2) is True    # (2,3)
    assert grimmer_ok("1.50", "0.50", 2) is False
    # parity: mean 1.00, n = 2 -> x + y = 2; x^2 + y^2 = 3 would give SD 1.00, but a sum of
    # squares always has the parity of the sum (x^2 = x mod 2), so SD 1.00 is impossible
    assert grimmer_ok("1.00", "1.00", 2) is False
    assert grimmer_ok("1.00", "1.41", 2) is True  # (0,2)
    assert grimmer_ok("1.00", "0.00", 2) is True  # (1,1)
    assert grimmer_ok("3.0", "1.0", 1) is None


def test_grimmer_accepts_every_real_sample():
    """Every (mean, SD) pair produced by real integer samples passes, at 2 decimals."""
    for n in (3, 4, 5):
        for sample in itertools.combinations_with_replacement(range(0, 7), n):
            mean = f"{statistics.mean(sample):.2f}"
            sd = f"{statistics.stdev(sample):.2f}"
            assert grimmer_ok(mean, sd, n), (sample, mean, sd)


def test_grimmer_is_sound():
    """What grimmer_ok rejects, no integer sample produces. For n = 3 enumerate every
    integer sample with the given sum (|values| <= 12 covers SDs below 4) and compare on a
    grid of SDs. The check is a necessary condition only: e.g. mean 0.00, SD 1.41, n = 3
    passes (sum 0, sum of squares 4 has the right parity) although no three integers with
    sum 0 have squares adding up to 4."""
    n = 3
    rejected = 0
    for s in range(0, 10):
        mean = f"{s / n:.2f}"
        seen = set()
        for sample in itertools.product(range(-12, 13), repeat=n):
            if sum(sample) == s:
                seen.add(f"{statistics.stdev(sample):.2f}")
        for k in range(0, 400):
            sd = f"{k / 100:.2f}"
            if not grimmer_ok(mean, sd, n):
                rejected += 1
                assert sd not in seen, (mean, sd)
            if sd in seen:
                assert grimmer_ok(mean, sd, n), (mean, sd)
    assert rejected > 3000  # it does rule out most of the grid
    assert grimmer_ok("0.00", "1.41", 3) is True  # the documented limitation


def test_max_sample_sd():
    # two values at the ends of [0, 10]: SD of (0, 10) = 7.071
    assert max_sample_sd(5.0, 0.0, 10.0, 2) == pytest.approx(statistics.stdev([0, 10]))
    # mean at an end of the range: all values equal, SD 0
    assert max_sample_sd(0.0, 0.0, 10.0, 5) == 0.0
    # n = 4, [0, 10], mean 2.5: (0,0,0,10) has the largest SD
    assert max_sample_sd(2.5, 0, 10, 4) == pytest.approx(statistics.stdev([0, 0, 0, 10]))


# --------------------------------------------------------------------------- real data

@pytest.fixture
def ddir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    for name in REQUIRED_FILES:
        shutil.copy(DATA_DIR / f"{name}.csv", d / f"{name}.csv")
    for name in NON_TABLE_FILES:  # the vocabulary and datapackage.json
        shutil.copy(DATA_DIR / name, d / name)
    return d


def audit_of(d: Path):
    return audit_dataset(load_dataset(d))


def test_audit_real_data(ddir):
    a = audit_of(ddir)
    assert tuple(a.columns) == AUDIT_COLUMNS
    assert set(a["status"]) <= set(A.STATUSES)
    by = {(r.row_id, r.check): r for r in a.itertuples()}
    smoking = by[("icassm1-2022.bl.smoking", "percent_vs_counts")]
    assert (smoking.status, smoking.reported, smoking.recomputed, smoking.precision) == (
        "rounding", "36.3", "36.364", 1)
    assert "truncated" in smoking.message
    lee = by[("lee-2018.embolic.functional_independence", "grim_percent")]
    assert lee.status == "impossible"
    assert by[("lee-2018.icas.reperfusion", "derived_unique")].status == "ok"
    assert by[("icassm1-2022.mrs_0_1", "distribution_vs_outcome")].status == "ok"
    assert by[("icassm1-2022.reperfusion", "distribution_vs_outcome")].recomputed == "21/22"
    assert by[("icassm1-2022.bl.age", "grim_mean")].status == "ok"
    # the cohort paper's other figures are all consistent
    others = a[~a["row_id"].isin(["icassm1-2022.bl.smoking", "lee-2018.embolic.functional_independence"])]
    assert (others["status"] == "ok").all(), others[others["status"] != "ok"]
    # every count with a printed percentage was checked
    ds = load_dataset(ddir)
    n_pct = int((ds.outcomes["events"].notna() & ds.outcomes["reported_percent"].notna()).sum())
    assert (a["check"] == "percent_vs_counts").sum() >= n_pct


def set_cell(path: Path, key: str, column: str, value: str) -> None:
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    j = rows[0].index(column)
    for r in rows[1:]:
        if r[0] == key:
            r[j] = value
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def test_audit_flags_corruptions(ddir):
    set_cell(ddir / "outcomes.csv", "icassm1-2022.reperfusion", "reported_percent", "90.0")
    set_cell(ddir / "outcomes.csv", "icassm1-2022.mrs_0_2", "events", "18")
    set_cell(ddir / "baseline.csv", "icassm1-2022.bl.nihss", "value", "5.19")
    set_cell(ddir / "baseline.csv", "icassm1-2022.bl.nihss", "total", "28")
    set_cell(ddir / "baseline.csv", "icassm1-2022.bl.procedure_time", "sd", "45.0")
    set_cell(ddir / "outcomes.csv", "lee-2018.icas.reperfusion", "events", "75")
    a = audit_of(ddir)
    st = {(r.row_id, r.check): r.status for r in a.itertuples()}
    assert st[("icassm1-2022.reperfusion", "percent_vs_counts")] == "mismatch"
    assert st[("icassm1-2022.mrs_0_2", "distribution_vs_outcome")] == "mismatch"
    assert st[("icassm1-2022.mrs_0_2", "percent_vs_counts")] == "mismatch"  # 18/22 = 81.8
    assert st[("icassm1-2022.bl.nihss", "grim_mean")] == "impossible"
    assert st[("icassm1-2022.bl.procedure_time", "sd_range_bound")] == "impossible"
    assert st[("lee-2018.icas.reperfusion", "derived_unique")] == "mismatch"


def test_audit_cli(ddir, capsys, tmp_path):
    out_csv = tmp_path / "audit.csv"
    assert A.main([str(ddir), "--csv", str(out_csv)]) == 0
    printed = capsys.readouterr().out
    assert "[rounding] baseline.csv icassm1-2022.bl.smoking (percent_vs_counts)" in printed
    assert printed.splitlines()[-1].startswith("audit: ")
    assert out_csv.read_text(encoding="utf-8").splitlines()[0] == ",".join(AUDIT_COLUMNS)
