"""Consistency audit of the curated data: recompute every printed figure that can be
recomputed and say, in plain English, whether it agrees.

``audit_dataset(ds)`` returns one row per checked figure with the columns
``file, row_id, check, reported, recomputed, precision, status, message``.

Checks
------
percent_vs_counts     events/total (or count/total) recomputed against the printed percentage.
distribution_percent  each grade of a distribution: count/total against its printed percentage.
derived_unique        a `derived` count: is it the unique integer k with k/total printing as
                      the reported percentage?
grim_percent          a percent-only figure with a known total: is there any integer k with
                      k/total printing as the reported percentage?
distribution_sum      the counts of one distribution add up to its total.
distribution_percent_sum  the printed percentages of one distribution add up to ~100.
distribution_vs_outcome   an mRS / mTICI dichotomy in outcomes.csv (mrs_0_1, mrs_0_2, mrs_0_3,
                      mortality_90d = mRS 6, reperfusion = mTICI 2b-3) equals the sum of the
                      same source's distribution at the same timepoint.
grim_mean             GRIM (Brown & Heathers 2017): a mean of n integer-valued observations
                      must equal some integer sum / n, as printed.
grimmer_sd            GRIMMER-style SD check for integer data: some integer sum S (passing GRIM)
                      and integer sum of squares Q with Q = S (mod 2) must give the printed SD.
                      A necessary condition only: 'ok' means "not ruled out" (e.g. mean 0.00,
                      SD 1.41, n = 3 passes although no 3 integers fit); 'impossible' is sure.
sd_range_bound        with a printed range [min, max]: the SD cannot exceed the largest SD
                      possible for data in that range with that mean (Bhatia-Davis bound).

Statuses
--------
ok          agrees with the printed figure at its printed precision.
rounding    does not round to the printed figure, but is within one unit of its last printed
            digit: a rounding slip such as truncation (8/22 = 36.36% printed as 36.3%).
mismatch    further off than that, or a derived count that is not unique / not the one recorded.
impossible  no integer data could produce the printed figure (GRIM/GRIMMER/range/percentage).

Integer-valued baseline variables (for GRIM) are recognised by their ``unit``: see
``INTEGER_UNITS``. Months are *not* treated as integer-valued.
"""

from __future__ import annotations

import math
import sys
from decimal import Decimal
from typing import Sequence

import pandas as pd

from .data import Dataset, load_dataset

AUDIT_COLUMNS = ("file", "row_id", "check", "reported", "recomputed", "precision", "status",
                 "message")
STATUSES = ("ok", "rounding", "mismatch", "impossible")
#: units whose observations are whole numbers (ages in completed years, scale points,
#: times recorded in whole minutes or days, counts)
INTEGER_UNITS = frozenset({"years", "points", "minutes", "min", "days", "patients"})

_EPS = 1e-9


# --------------------------------------------------------------------------- primitives

def decimals(printed: str) -> int:
    """Number of decimals printed: '36.3' -> 1, '30' -> 0, '0.495' -> 3."""
    printed = printed.strip()
    return len(printed.split(".", 1)[1]) if "." in printed else 0


def half_unit(precision: int) -> float:
    return 0.5 * 10.0 ** (-precision)


def rounds_to(x: float, printed: float, precision: int) -> bool:
    """True if ``printed`` (with ``precision`` decimals) is a correct rounding of ``x``
    (either direction accepted at an exact tie)."""
    return abs(x - printed) <= half_unit(precision) + _EPS


def round_half_up(x: float, precision: int) -> float:
    q = Decimal(1).scaleb(-precision)
    return float(Decimal(repr(x)).quantize(q, rounding="ROUND_HALF_UP"))


def classify_percent(k: int, n: int, printed: str) -> tuple[str, float, str]:
    """Compare k/n (as a percentage) with the printed percentage.

    Returns (status, recomputed percentage, message)."""
    p = decimals(printed)
    rep = float(printed)
    x = 100.0 * k / n
    shown = f"{k}/{n} = {x:.{p + 2}f}%"
    if rounds_to(x, rep, p):
        return "ok", x, f"{shown}, printed {printed}%: consistent"
    correct = round_half_up(x, p)
    if abs(x - rep) <= 10.0 ** (-p) + _EPS:
        unit = 10.0 ** (-p)
        if abs(rep - math.floor(x / unit + _EPS) * unit) < _EPS:
            how = "truncated instead of rounded"
        elif abs(rep - math.ceil(x / unit - _EPS) * unit) < _EPS:
            how = "rounded up instead of to the nearest"
        else:  # pragma: no cover - cannot happen within one unit
            how = "rounded differently"
        return ("rounding", x, f"{shown}, printed {printed}%: within the printed precision but "
                f"{how} (correctly rounded: {correct:.{p}f}%)")
    return ("mismatch", x, f"{shown}, printed {printed}%: does not match "
            f"(off by {abs(x - rep):.{p + 2}f} percentage points; correctly rounded: {correct:.{p}f}%)")


def percent_candidates(printed: str, n: int) -> list[int]:
    """All integers k in 0..n for which k/n prints as ``printed`` percent."""
    p = decimals(printed)
    rep = float(printed)
    lo = math.floor((rep - half_unit(p)) * n / 100.0) - 1
    hi = math.ceil((rep + half_unit(p)) * n / 100.0) + 1
    return [k for k in range(max(lo, 0), min(hi, n) + 1) if rounds_to(100.0 * k / n, rep, p)]


def grim_sums(mean: str, n: int) -> list[int]:
    """Integer sums S with S/n printing as ``mean`` (GRIM). Empty list = impossible."""
    p = decimals(mean)
    m = float(mean)
    lo = math.floor((m - half_unit(p)) * n) - 1
    hi = math.ceil((m + half_unit(p)) * n) + 1
    return [s for s in range(lo, hi + 1) if rounds_to(s / n, m, p)]


def grimmer_ok(mean: str, sd: str, n: int) -> bool | None:
    """GRIMMER-style test for integer data: is there an integer sum S passing GRIM and an
    integer sum of squares Q (Q = S mod 2, since x*x = x mod 2) whose sample SD
    sqrt((Q - S*S/n) / (n-1)) prints as ``sd``? None if n < 2."""
    if n < 2:
        return None
    h = half_unit(decimals(sd))
    s_hi, s_lo = float(sd) + h, max(float(sd) - h, 0.0)
    for S in grim_sums(mean, n):
        q_lo = (n - 1) * s_lo ** 2 + S * S / n
        q_hi = (n - 1) * s_hi ** 2 + S * S / n
        q = math.ceil(q_lo - _EPS)
        if (q - S) % 2:
            q += 1
        # the sample SD must be a correct rounding: recheck the candidate exactly
        while q <= q_hi + _EPS:
            var = (q - S * S / n) / (n - 1)
            if var >= -_EPS and rounds_to(math.sqrt(max(var, 0.0)), float(sd), decimals(sd)):
                return True
            q += 2
    return False


def max_sample_sd(mean: float, low: float, high: float, n: int) -> float:
    """Largest sample SD of n values in [low, high] with this mean (Bhatia-Davis:
    population variance <= (high - mean)(mean - low))."""
    pop_var = max((high - mean) * (mean - low), 0.0)
    return math.sqrt(pop_var * n / (n - 1)) if n > 1 else 0.0


# --------------------------------------------------------------------------- audit

def _row(file, row_id, check, reported, recomputed, precision, status, message) -> dict:
    return dict(file=file, row_id=row_id, check=check, reported=reported, recomputed=recomputed,
                precision=precision, status=status, message=message)


def _fmt(x: float, p: int) -> str:
    return f"{x:.{p}f}"


def audit_dataset(ds: Dataset) -> pd.DataFrame:
    """Audit every recomputable figure of ``ds``; one row per checked figure."""
    out: list[dict] = []
    _audit_outcomes(ds, out)
    _audit_distributions(ds, out)
    _audit_baseline(ds, out)
    df = pd.DataFrame(out, columns=list(AUDIT_COLUMNS))
    df["precision"] = df["precision"].astype("Int64")
    return df


def _audit_outcomes(ds: Dataset, out: list[dict]) -> None:
    raw = ds.raw["outcomes"]
    f = "outcomes.csv"
    for (_, r), (_, t) in zip(ds.outcomes.iterrows(), raw.iterrows()):
        pct = t["reported_percent"]
        if r["estimate_type"] == "pooled" or not pct:
            continue
        p = decimals(pct)
        n = r["total"]
        if pd.notna(r["events"]) and pd.notna(n):
            k = int(r["events"])
            status, x, msg = classify_percent(k, int(n), pct)
            out.append(_row(f, r["row_id"], "percent_vs_counts", pct, _fmt(x, p + 2), p, status, msg))
        if r["count_status"] in ("derived", "percent_only") and pd.notna(n):
            cands = percent_candidates(pct, int(n))
            shown = ", ".join(f"{k}/{int(n)}" for k in cands[:6]) + (" ..." if len(cands) > 6 else "")
            if r["count_status"] == "derived":
                k = int(r["events"])
                if cands == [k]:
                    out.append(_row(f, r["row_id"], "derived_unique", pct, str(k), p, "ok",
                                    f"{k}/{int(n)} is the only count out of {int(n)} printing as {pct}%"))
                else:
                    why = ("no count out of {n} prints as {pct}%" if not cands else
                           "counts printing as {pct}%: " + shown)
                    out.append(_row(f, r["row_id"], "derived_unique", pct, shown or "none", p,
                                    "mismatch", f"derived count {k}/{int(n)} is not the unique "
                                    "consistent count; " + why.format(n=int(n), pct=pct)))
            else:
                if cands:
                    out.append(_row(f, r["row_id"], "grim_percent", pct, shown, p, "ok",
                                    f"{pct}% is possible with total {int(n)} ({shown})"))
                else:
                    below = math.floor(float(pct) * int(n) / 100.0)
                    near = [k for k in (below, below + 1) if 0 <= k <= int(n)]
                    near_s = ", ".join(f"{k}/{int(n)} = {100.0 * k / int(n):.{p + 2}f}%" for k in near)
                    within = [k for k in near if abs(100.0 * k / int(n) - float(pct)) <= 10.0 ** -p + _EPS]
                    status = "rounding" if within else "impossible"
                    out.append(_row(f, r["row_id"], "grim_percent", pct, near_s, p, status,
                                    f"{pct}% is not k/{int(n)} for any integer k at the printed "
                                    f"precision (nearest: {near_s}); the denominator of this "
                                    f"percentage cannot be {int(n)}"))


def _audit_distributions(ds: Dataset, out: list[dict]) -> None:
    d, raw = ds.distributions, ds.raw["distributions"]
    f = "distributions.csv"
    for (_, r), (_, t) in zip(d.iterrows(), raw.iterrows()):
        pct = t["reported_percent"]
        if pct and pd.notna(r["count"]) and pd.notna(r["total"]):
            status, x, msg = classify_percent(int(r["count"]), int(r["total"]), pct)
            p = decimals(pct)
            out.append(_row(f, r["row_id"], "distribution_percent", pct, _fmt(x, p + 2), p,
                            status, f"grade {r['grade']}: {msg}"))
    keys = ["source_id", "cohort", "subgroup", "arm", "scale", "timepoint"]
    for key, g in d.groupby(keys, sort=False):
        label = f"{key[0]} {key[4]} ({key[2]}, {key[5]})"
        first = g["row_id"].iloc[0]
        if g["count"].notna().all() and g["total"].notna().all():
            s, n = int(g["count"].sum()), int(g["total"].iloc[0])
            out.append(_row(f, first, "distribution_sum", str(n), str(s), 0,
                            "ok" if s == n else "mismatch",
                            f"{label}: counts sum to {s}, total {n}"))
        tg = raw.loc[g.index]
        printed = [v for v in tg["reported_percent"] if v]
        if printed and g["count"].notna().all():
            # grades printed as '—' carry no percentage: they are 0 by count
            missing_nonzero = any(not v and c > 0 for v, c in zip(tg["reported_percent"], g["count"]))
            if not missing_nonzero:
                p = max(decimals(v) for v in printed)
                tot = sum(float(v) for v in printed)
                tol = len(printed) * half_unit(p) + _EPS
                ok = abs(tot - 100.0) <= tol
                out.append(_row(f, first, "distribution_percent_sum", _fmt(tot, p), "100", p,
                                "ok" if ok else "mismatch",
                                f"{label}: printed percentages add up to {tot:.{p}f}% "
                                f"({'within' if ok else 'beyond'} the +/-{tol:.{p + 1}f} that rounding allows)"))
    # dichotomies in outcomes.csv against the distribution they come from
    spec = {"mrs_0_1": ("mRS", {"0", "1"}), "mrs_0_2": ("mRS", {"0", "1", "2"}),
            "mrs_0_3": ("mRS", {"0", "1", "2", "3"}), "mortality_90d": ("mRS", {"6"}),
            "reperfusion": ("mTICI", {"2b", "2c", "3"})}
    for _, r in ds.outcomes.iterrows():
        if r["outcome"] not in spec or pd.isna(r["events"]):
            continue
        scale, grades = spec[r["outcome"]]
        g = d[(d["source_id"] == r["source_id"]) & (d["subgroup"] == r["subgroup"])
              & (d["arm"] == r["arm"]) & (d["scale"] == scale) & (d["timepoint"] == r["timepoint"])]
        if g.empty or g["count"].isna().any():
            continue
        s = int(g[g["grade"].isin(grades)]["count"].sum())
        n = int(g["total"].iloc[0])
        ok = s == int(r["events"]) and n == int(r["total"])
        gl = "+".join(sorted(grades))
        out.append(_row("outcomes.csv", r["row_id"], "distribution_vs_outcome",
                        f"{int(r['events'])}/{int(r['total'])}", f"{s}/{n}", 0,
                        "ok" if ok else "mismatch",
                        f"{r['outcome']} {int(r['events'])}/{int(r['total'])} vs {scale} grades {gl} "
                        f"of the distribution: {s}/{n}" + ("" if ok else " - they disagree")))


def _audit_baseline(ds: Dataset, out: list[dict]) -> None:
    b, raw = ds.baseline, ds.raw["baseline"]
    f = "baseline.csv"
    for (_, r), (_, t) in zip(b.iterrows(), raw.iterrows()):
        rid = r["row_id"]
        if r["statistic"] == "count":
            pct = t["reported_percent"]
            if pct and pd.notna(r["count"]) and pd.notna(r["total"]):
                status, x, msg = classify_percent(int(r["count"]), int(r["total"]), pct)
                p = decimals(pct)
                out.append(_row(f, rid, "percent_vs_counts", pct, _fmt(x, p + 2), p, status,
                                f"{r['variable']}: {msg}"))
            continue
        if r["statistic"] not in ("mean_sd", "mean_range") or pd.isna(r["total"]) or not t["value"]:
            continue
        n = int(r["total"])
        mean, sd = t["value"], t["sd"]
        pm = decimals(mean)
        if r["unit"] in INTEGER_UNITS:
            sums = grim_sums(mean, n)
            if sums:
                ex = sums[0]
                note = (f"; GRIM cannot fail here (n={n} >= 10^{pm})" if 10 ** pm <= n else "")
                out.append(_row(f, rid, "grim_mean", mean, f"{ex}/{n} = {ex / n:.{pm + 2}f}", pm, "ok",
                                f"{r['variable']}: mean {mean} of {n} integer values is possible "
                                f"(e.g. sum {ex}: {ex}/{n} = {ex / n:.{pm + 2}f}){note}"))
            else:
                near = math.floor(float(mean) * n)
                out.append(_row(f, rid, "grim_mean", mean,
                                f"{near}/{n} = {near / n:.{pm + 2}f}; {near + 1}/{n} = {(near + 1) / n:.{pm + 2}f}",
                                pm, "impossible",
                                f"{r['variable']}: mean {mean} is impossible for {n} integer values "
                                f"(no integer sum / {n} rounds to {mean})"))
            if sd and sums and n >= 2:
                res = grimmer_ok(mean, sd, n)
                out.append(_row(f, rid, "grimmer_sd", sd, "possible" if res else "none", decimals(sd),
                                "ok" if res else "impossible",
                                f"{r['variable']}: SD {sd} with mean {mean}, n={n} "
                                + ("is not ruled out for integer data (GRIMMER parity test)" if res else
                                   "is impossible for integer data (no integer sum of squares fits)")))
        if sd and t["low"] and t["high"] and n >= 2:
            hs = half_unit(decimals(sd))
            hm = half_unit(pm)
            lo, hi = float(t["low"]), float(t["high"])
            # most favourable mean within its rounding interval: closest to mid-range
            m = min(max((lo + hi) / 2, float(mean) - hm), float(mean) + hm)
            bound = max_sample_sd(m, lo, hi, n)
            ok = float(sd) - hs <= bound + _EPS
            out.append(_row(f, rid, "sd_range_bound", sd, f"{bound:.{decimals(sd) + 2}f}", decimals(sd),
                            "ok" if ok else "impossible",
                            f"{r['variable']}: SD {sd} vs the largest SD possible for n={n} values in "
                            f"[{t['low']}, {t['high']}] with mean {mean}: {bound:.{decimals(sd) + 2}f}"
                            + ("" if ok else " - the SD is too large for the range")))


def summarize(audit: pd.DataFrame) -> dict[str, int]:
    """Number of checked figures per status."""
    return {s: int((audit["status"] == s).sum()) for s in STATUSES}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    csv_out = None
    if "--csv" in args:
        i = args.index("--csv")
        csv_out = args[i + 1]
        del args[i:i + 2]
    ds = load_dataset(args[0] if args else None)
    a = audit_dataset(ds)
    if csv_out:
        a.to_csv(csv_out, index=False, lineterminator="\n")
    for _, r in a[a["status"] != "ok"].iterrows():
        print(f"[{r['status']}] {r['file']} {r['row_id']} ({r['check']}): {r['message']}")
    counts = summarize(a)
    print(f"audit: {len(a)} figures checked: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
