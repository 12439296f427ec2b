"""Publication-quality figures for the EVT evidence report.

Two figure types:

* forest plots - RevMan-style (text columns left and right of the plot panel,
  squares sized by weight, pooled diamonds, prediction interval, heterogeneity
  text, optional subgroups): :func:`forest_figure` draws a :class:`ForestSpec`;
  :func:`forest_plot` draws one from a DataFrame and dicts.
* :func:`grotta_bar` - stacked 100 % horizontal bars ("Grotta bars") of an
  ordinal outcome (modified Rankin Scale or mTICI) for one or more groups.

Forest-plot input
-----------------
A forest plot is described by frozen records; an adapter turns one analysis
result into them and calls :func:`forest_figure` (which checks them and raises
ValueError naming the row and field of a bad value)::

    spec = ForestSpec(
        studies=(ForestStudy("Trial A", 0.90, 0.70, 1.15, ("40/100", "44/100"), weight=55.0),
                 ForestStudy("Trial B", 1.05, 0.80, 1.40, ("30/80", "29/81"), weight=45.0)),
        scale="ratio", pooled=ForestPooled(0.96, 0.80, 1.15),
        heterogeneity=("Heterogeneity: I² = 0%",), arms=("EVT", "Medical"))    # invented numbers
    fig = forest_figure(spec)

:class:`ForestStudy` ``(label, estimate, ci_low, ci_high, counts, weight=nan, group=None)``
    One row per study, in the given order (grouped: by group, groups in order
    of first appearance). Values are on the natural scale of
    ``ForestSpec.scale``: proportions 0-1 ("proportion"), ratios > 0
    ("ratio"), differences of proportions -1..1 ("difference", shown in
    percentage points). A NaN ``estimate`` prints "Not estimable" and draws
    nothing. ``counts``: the texts of the count columns, one ("19/22", column
    "Events/N") or two (treatment, control, headed by ``ForestSpec.arms``),
    the same number for every study. ``weight`` (percent) sizes the square
    and fills the weight column (NaN: default size, no text). ``group`` puts
    the study under a group header: give one to every study or to none.

:class:`ForestPooled` ``(estimate, ci_low, ci_high, label=None, pi_low=nan, pi_high=nan, ...)``
    A diamond: ``ForestSpec.pooled`` (``group`` None; label default "Pooled
    estimate"; after all studies) or one of ``ForestSpec.subtotals``
    (``group`` names the group; label default "Subtotal"; after that group's
    studies). A finite prediction interval ``pi_low``-``pi_high`` gets its own
    row under the diamond, then come its ``heterogeneity`` lines (a tuple of
    str). Its weight text is the sum of the weights of the studies it pools.

:class:`ForestSpec` ``(studies, scale="proportion", pooled=None, subtotals=(), heterogeneity=(), ...)``
    The whole figure. ``heterogeneity``: note lines at the very end, wrapped
    to the figure. The other fields are display options that mean what the
    keyword arguments of :func:`forest_plot` of the same name mean; ``arms``
    is its ``labels_arms``.

:func:`forest_spec_from_frame` is the adapter behind :func:`forest_plot` (one
DataFrame row per study). Drawing runs in three steps: rows (one typed record
per line of the figure: study, group header, diamond, prediction interval,
note, blank), layout (column widths, panel width, x range and ticks, heights)
and one drawing function per kind of row.

Layout
------
Layout is computed in inches with fixed font sizes: the figure width is fixed
(10 in, fits an HTML page and A4 portrait with margins) and the height grows
with the number of rows, so text never has to shrink and never overlaps.
Text widths are measured with matplotlib's own font machinery (DejaVu Sans,
shipped with matplotlib), so the layout is deterministic.

All rcParams we rely on are set inside ``plt.rc_context`` (the global state is
not mutated); font family and sizes are also passed explicitly to every text.
Figures are created with :class:`matplotlib.figure.Figure` + Agg canvas, i.e.
outside pyplot's figure manager: nothing needs to be closed by the caller and
nothing is shown.  Use :func:`save_figure` for byte-reproducible PNG/SVG/PDF.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle
from matplotlib.textpath import text_to_path
from matplotlib.transforms import ScaledTranslation, blended_transform_factory

__all__ = [
    "ForestStudy",
    "ForestPooled",
    "ForestSpec",
    "forest_figure",
    "forest_plot",
    "forest_spec_from_frame",
    "grotta_bar",
    "posterior_densities",
    "specification_curve",
    "CurvePanel",
    "save_figure",
    "MRS_COLORS",
    "MTICI_COLORS",
    "MRS_DESCRIPTIONS",
    "MTICI_DESCRIPTIONS",
]

# --------------------------------------------------------------------------
# Style constants
# --------------------------------------------------------------------------
FONT = "DejaVu Sans"
FS = 9.0  # body text (pt)
FS_SMALL = 8.0  # notes, heterogeneity, favours labels
FS_TITLE = 11.0
FIG_W = 8.2  # inches: near the printed width (7.3 in on A4), so text prints at 90% of its size
MARGIN = 0.15  # left/right figure margin (in)
ROW_H = 0.26  # forest-plot row height (in)
ELLIPSIS = "\u2026"
MINUS = "\u2212"
NDASH = "\u2013"

# Okabe-Ito based, colour-blind safe
C_SQUARE = "#0072B2"
C_DIAMOND = "#000000"
C_SUBDIAMOND = "#7F7F7F"
C_PI = "#D55E00"
C_REF = "#4D4D4D"

# Ordered palettes with min. pairwise CIELAB distance >= 20 under simulated
# protanopia/deuteranopia/tritanopia (Machado 2009) - checked in the tests.
MRS_COLORS = ["#00734D", "#4DB380", "#C7E9C0", "#FEE391", "#FB9A29", "#A50F15", "#1A1A1A"]
MTICI_COLORS = ["#A50F15", "#F08C3A", "#FEE391", "#C7E9C0", "#4DB380", "#00734D"]
MRS_GRADES = ["0", "1", "2", "3", "4", "5", "6"]
MTICI_GRADES = ["0", "1", "2a", "2b", "2c", "3"]
MRS_DESCRIPTIONS = {
    "0": "No symptoms",
    "1": "No significant disability",
    "2": "Slight disability",
    "3": "Moderate disability",
    "4": "Moderately severe disability",
    "5": "Severe disability",
    "6": "Dead",
}
MTICI_DESCRIPTIONS = {
    "0": "No reperfusion",
    "1": "Minimal reperfusion",
    "2a": "<50% of territory",
    "2b": "\u226550% of territory",
    "2c": "Near-complete",
    "3": "Complete",
}

_RC = {
    "font.family": FONT,
    "font.size": FS,
    "text.color": "black",
    "axes.edgecolor": "black",
    "axes.labelcolor": "black",
    "axes.linewidth": 0.8,
    "xtick.color": "black",
    "ytick.color": "black",
    "xtick.labelsize": FS,
    "xtick.major.size": 3.5,
    "xtick.major.pad": 3.0,
    "lines.antialiased": True,
    "patch.antialiased": True,
    "svg.hashsalt": "evtreport",
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
    "path.simplify": True,
    "figure.dpi": 100,
    "axes.unicode_minus": True,
    "text.usetex": False,
}


def save_figure(fig: Figure, path, **kwargs) -> None:
    """Save ``fig`` reproducibly (no timestamps, fixed SVG hash salt).

    ``kwargs`` go to :meth:`Figure.savefig` (e.g. ``dpi=200``)."""
    import os

    fmt = kwargs.pop("format", None)
    if fmt is None:
        if not isinstance(path, (str, os.PathLike)):
            raise ValueError("format= is required when saving to a file-like object")
        fmt = os.fspath(path).rsplit(".", 1)[-1].lower()
    fmt = fmt.lower()
    meta = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
            "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None}}
    kwargs.setdefault("metadata", meta.get(fmt))
    kwargs.setdefault("facecolor", "white")
    with plt.rc_context(_RC):
        fig.savefig(path, format=fmt, **kwargs)


# --------------------------------------------------------------------------
# Text measuring / formatting helpers
# --------------------------------------------------------------------------
def _fp(size=FS, weight="normal", style="normal") -> FontProperties:
    return FontProperties(family=FONT, size=size, weight=weight, style=style)


def _text_w(s: str, size=FS, weight="normal", style="normal") -> float:
    """Width of a single-line string in inches (deterministic, no renderer)."""
    if not s:
        return 0.0
    lines = str(s).split("\n")
    return max(
        text_to_path.get_text_width_height_descent(ln, _fp(size, weight, style), ismath=False)[0]
        for ln in lines
    ) / 72.0


def _truncate(s: str, width_in: float, size=FS, weight="normal", style="normal") -> str:
    """Truncate ``s`` with an ellipsis so that it fits ``width_in`` inches."""
    s = " ".join(str(s).split())
    if _text_w(s, size, weight, style) <= width_in:
        return s
    lo, hi = 0, len(s)
    while lo < hi:  # largest prefix that fits together with the ellipsis
        mid = (lo + hi + 1) // 2
        if _text_w(s[:mid].rstrip() + ELLIPSIS, size, weight, style) <= width_in:
            lo = mid
        else:
            hi = mid - 1
    return s[:lo].rstrip() + ELLIPSIS


def _wrap(s: str, width_in: float, size=FS_SMALL, weight="normal", style="normal") -> list[str]:
    """Greedy word wrap to ``width_in`` inches (overlong words are truncated)."""
    out: list[str] = []
    for para in str(s).split("\n"):
        words = para.split()
        line = ""
        for w in words:
            cand = f"{line} {w}" if line else w
            if _text_w(cand, size, weight, style) <= width_in:
                line = cand
            else:
                if line:
                    out.append(line)
                line = _truncate(w, width_in, size, weight, style)
        if line:
            out.append(line)
    return out


def _num(v: float, nd: int) -> str:
    s = f"{v:.{nd}f}"
    if s.startswith("-"):
        s = MINUS + s[1:]
    if s in (MINUS + "0", MINUS + "0." + "0" * nd):  # no negative zero
        s = s[1:]
    return s


def _ratio_fmt(v: float) -> str:
    if v < 0.01:
        return f"{v:.3f}"
    if v < 10:
        return f"{v:.2f}"
    if v < 100:
        return f"{v:.1f}"
    return f"{v:.0f}"


def _fmt_est(scale: str, est: float, lo: float, hi: float) -> tuple[str, str]:
    """(estimate text, CI text) for the right-hand columns."""
    if scale == "proportion":
        e = f"{_num(100 * est, 1)}%"
        ci = f"[{_num(100 * lo, 1)}{NDASH}{_num(100 * hi, 1)}]" if np.isfinite(lo) and np.isfinite(hi) else ""
    elif scale == "ratio":
        e = _ratio_fmt(est)
        ci = f"[{_ratio_fmt(lo)}{NDASH}{_ratio_fmt(hi)}]" if np.isfinite(lo) and np.isfinite(hi) else ""
    else:  # difference, shown in percentage points
        e = _num(100 * est, 1)
        ci = f"[{_num(100 * lo, 1)} to {_num(100 * hi, 1)}]" if np.isfinite(lo) and np.isfinite(hi) else ""
    return e, ci


def _fmt_ci_only(scale: str, lo: float, hi: float) -> str:
    return _fmt_est(scale, lo, lo, hi)[1]


def _new_figure(w: float, h: float) -> Figure:
    fig = Figure(figsize=(w, h), dpi=100, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


# --------------------------------------------------------------------------
# Forest plot: input records (what an adapter builds)
# --------------------------------------------------------------------------
_SCALES = ("proportion", "ratio", "difference")


@dataclass(frozen=True)
class ForestStudy:
    """One study row: ``label``; ``estimate``, ``ci_low``, ``ci_high`` on the natural
    scale (NaN estimate: "Not estimable", no marker); ``counts``: one text per count
    column, ``("19/22",)`` or ``(treatment, control)``; ``weight`` in percent (NaN:
    default-size marker, no weight text); ``group``: subgroup name or None."""

    label: str
    estimate: float
    ci_low: float
    ci_high: float
    counts: tuple[str, ...]
    weight: float = math.nan
    group: str | None = None


@dataclass(frozen=True)
class ForestPooled:
    """A pooled estimate drawn as a diamond. ``label`` None: "Pooled estimate" (overall)
    or "Subtotal"; ``pi_low``/``pi_high`` finite: a prediction-interval row under the
    diamond; ``heterogeneity``: note lines under it; ``group``: the subgroup this is the
    subtotal of (None for the overall estimate); ``counts``: one text per count column
    (e.g. the summed events/total of each arm), printed in a "Total" row under the diamond
    as RevMan does (empty: no such row)."""

    estimate: float
    ci_low: float
    ci_high: float
    label: str | None = None
    pi_low: float = math.nan
    pi_high: float = math.nan
    heterogeneity: tuple[str, ...] = ()
    group: str | None = None
    counts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ForestSpec:
    """Everything one forest plot shows; the fields after ``heterogeneity`` mean what
    the keyword arguments of :func:`forest_plot` of the same name mean (``arms`` is
    ``labels_arms``)."""

    studies: tuple[ForestStudy, ...]
    scale: str = "proportion"
    pooled: ForestPooled | None = None
    subtotals: tuple[ForestPooled, ...] = ()
    heterogeneity: tuple[str, ...] = ()
    arms: tuple[str, str] | None = None
    favours: tuple[str, str] | bool | None = None
    ref_line: float | bool | None = None
    xlim: tuple[float, float] | None = None
    show_weights: bool = True
    xlabel: str | None = None
    title: str | None = None
    est_label: str | None = None

    @property
    def grouped(self) -> bool:
        return any(s.group is not None for s in self.studies)


# --------------------------------------------------------------------------
# Forest plot: checks shared by the DataFrame reader and forest_figure
# --------------------------------------------------------------------------
def _check_scale(scale) -> None:
    if scale not in _SCALES:
        raise ValueError(f"scale must be one of {_SCALES}, got {scale!r}")


def _check_study_values(who: str, s: ForestStudy, scale: str) -> None:
    e, lo, hi = s.estimate, s.ci_low, s.ci_high
    for c, v in (("ci_low", lo), ("ci_high", hi)):
        if not np.isfinite(v):
            raise ValueError(f"column {c!r}, {who}: missing/infinite while estimate is given")
    if lo > e + 1e-12:
        raise ValueError(f"column 'ci_low', {who}: ci_low ({lo:g}) > estimate ({e:g})")
    if hi < e - 1e-12:
        raise ValueError(f"column 'ci_high', {who}: ci_high ({hi:g}) < estimate ({e:g})")
    lim = {"proportion": (0.0, 1.0), "difference": (-1.0, 1.0)}.get(scale)
    for c, v in (("estimate", e), ("ci_low", lo), ("ci_high", hi)):
        if scale == "ratio" and v <= 0:
            raise ValueError(f"column {c!r}, {who}: ratio scale needs values > 0, got {v:g}")
        if lim and not (lim[0] - 1e-9 <= v <= lim[1] + 1e-9):
            unit = ("proportions (0-1)" if scale == "proportion" else
                    "differences of proportions (-1 to 1; the plot shows percentage points)")
            raise ValueError(f"column {c!r}, {who}: {v:g} outside {lim}; expected {unit}")


def _check_study(i: int, s: ForestStudy, scale: str, shown_label) -> None:
    """``shown_label``: the label as the caller gave it, for the message."""
    who = f"row {i} ({shown_label!r})"
    if s.label.strip() == "":
        raise ValueError(f"column 'label', row {i}: label is empty")
    if np.isfinite(s.estimate):
        _check_study_values(who, s, scale)
    w = s.weight
    if np.isfinite(w) and w < 0:
        raise ValueError(f"column 'weight', {who}: weight must be >= 0, got {w:g}")
    if pd.notna(w) and not np.isfinite(w):
        raise ValueError(f"column 'weight', {who}: weight must be finite or NaN")


def _check_pooled(name: str, p: ForestPooled, scale: str) -> None:
    e, lo, hi, pl, ph = p.estimate, p.ci_low, p.ci_high, p.pi_low, p.pi_high
    if not all(np.isfinite([e, lo, hi])):
        raise ValueError(f"{name}: estimate/ci_low/ci_high must be finite")
    if not lo <= e <= hi:
        raise ValueError(f"{name}: need ci_low <= estimate <= ci_high, got {lo:g}, {e:g}, {hi:g}")
    if scale == "ratio" and lo <= 0:
        raise ValueError(f"{name}: ratio scale needs values > 0")
    if np.isfinite(pl) and np.isfinite(ph) and pl > ph:
        raise ValueError(f"{name}: pi_low ({pl:g}) > pi_high ({ph:g})")


def _check_spec(spec: ForestSpec) -> None:
    """Check a spec built by an adapter (the DataFrame reader checks as it reads)."""
    _check_scale(spec.scale)
    if not spec.studies:
        raise ValueError("studies is empty: a forest plot needs at least one row")
    if len({len(s.counts) for s in spec.studies}) != 1 or len(spec.studies[0].counts) not in (1, 2):
        raise ValueError("every study needs the same number of count texts: one (events/N) or "
                         "two (treatment, control)")
    grouped = spec.grouped
    for i, s in enumerate(spec.studies):
        _check_study(i, s, spec.scale, s.label)
        if grouped and s.group is None:
            raise ValueError(f"studies, row {i} ({s.label!r}): group is None while other studies "
                             "have one")
    if spec.pooled is not None:
        _check_pooled("pooled", spec.pooled, spec.scale)
    groups = [s.group for s in spec.studies]
    for p in spec.subtotals:
        _check_pooled(f"subtotals[{p.group!r}]", p, spec.scale)
        if p.group is None or p.group not in groups:
            raise ValueError(f"subtotals: group {p.group!r} has no study (groups: "
                             f"{list(dict.fromkeys(groups))})")
    if len({p.group for p in spec.subtotals}) != len(spec.subtotals):
        raise ValueError("subtotals: more than one subtotal for the same group")
    _check_pooled_counts(spec)


def _check_pooled_counts(spec: ForestSpec) -> None:
    n_cols = len(spec.studies[0].counts)
    for p in (spec.pooled, *spec.subtotals):
        if p is not None and p.counts and len(p.counts) != n_cols:
            raise ValueError(f"pooled counts {p.counts}: need one text per count column ({n_cols})")


# --------------------------------------------------------------------------
# Forest plot: the DataFrame reader (the adapter behind forest_plot)
# --------------------------------------------------------------------------
def _check_frame(studies, group_col) -> bool:
    """Type, size and columns of ``studies``; returns whether it has two count columns."""
    if not isinstance(studies, pd.DataFrame):
        raise ValueError("studies must be a pandas DataFrame")
    if len(studies) == 0:
        raise ValueError("studies is empty: a forest plot needs at least one row")
    missing = [c for c in ["label", "estimate", "ci_low", "ci_high"] if c not in studies.columns]
    two_arm = "n_text_t" in studies.columns or "n_text_c" in studies.columns
    if two_arm:
        missing += [c for c in ("n_text_t", "n_text_c") if c not in studies.columns]
    elif "n_text" not in studies.columns:
        missing.append("n_text")
    if group_col is not None and group_col not in studies.columns:
        missing.append(group_col)
    if missing:
        raise ValueError(
            f"studies is missing required column(s) {missing}; got columns {list(studies.columns)}"
        )
    return two_arm


def _numeric_frame(studies: pd.DataFrame) -> pd.DataFrame:
    df = studies.reset_index(drop=True).copy()
    if "weight" not in df.columns:
        df["weight"] = np.nan
    for c in ("estimate", "ci_low", "ci_high", "weight"):
        conv = pd.to_numeric(df[c], errors="coerce")
        bad = conv.isna() & df[c].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"column {c!r}, row {i} ({df['label'].iloc[i]!r}): value {df[c].iloc[i]!r} is not numeric"
            )
        df[c] = conv.astype(float)
    return df


def _text_or_empty(v) -> str:
    return "" if pd.isna(v) else str(v)


def _studies_from_frame(df: pd.DataFrame, two_arm: bool, group_col, scale) -> tuple[ForestStudy, ...]:
    count_cols = ["n_text_t", "n_text_c"] if two_arm else ["n_text"]
    out = []
    for i, r in df.iterrows():
        s = ForestStudy(label=_text_or_empty(r["label"]), estimate=r["estimate"], ci_low=r["ci_low"],
                        ci_high=r["ci_high"], counts=tuple(_text_or_empty(r[c]) for c in count_cols),
                        weight=r["weight"], group=None if group_col is None else str(r[group_col]))
        _check_study(i, s, scale, r["label"])
        out.append(s)
    return tuple(out)


def _optional_float(v) -> float:
    return float(v) if v is not None else np.nan


def _pooled_from_mapping(name: str, d, scale: str, group=None) -> ForestPooled | None:
    """A subtotal's notes are its dict's ``heterogeneity``; those of the overall estimate are
    forest_plot's ``heterogeneity`` argument (its dict's key is not shown)."""
    if d is None:
        return None
    if not isinstance(d, Mapping):
        raise ValueError(f"{name} must be a dict")
    miss = [k for k in ("estimate", "ci_low", "ci_high") if k not in d]
    if miss:
        raise ValueError(f"{name} is missing key(s) {miss}")
    p = ForestPooled(*(float(d[k]) for k in ("estimate", "ci_low", "ci_high")),
                     label=str(d["label"]) if d.get("label") else None,
                     pi_low=_optional_float(d.get("pi_low", np.nan)),
                     pi_high=_optional_float(d.get("pi_high", np.nan)),
                     heterogeneity=() if group is None else tuple(_as_lines(d.get("heterogeneity"))),
                     group=group, counts=tuple(str(c) for c in d.get("counts") or ()))
    _check_pooled(name, p, scale)
    return p


def _subtotals_from_mapping(subgroup_pooled, df, group_col, scale) -> tuple[ForestPooled, ...]:
    out = [_pooled_from_mapping(f"subgroup_pooled[{g!r}]", d, scale, group=str(g))
           for g, d in subgroup_pooled.items()]
    if subgroup_pooled and group_col is None:
        raise ValueError("subgroup_pooled given but group_col is None")
    if group_col is not None:
        groups = list(dict.fromkeys(df[group_col].tolist()))
        unknown = [g for g in subgroup_pooled if g not in groups]
        if unknown:
            raise ValueError(f"subgroup_pooled has group(s) {unknown} not present in column {group_col!r}")
    return tuple(p for p in out if p is not None)


def _as_lines(h) -> list[str]:
    if h is None:
        return []
    if isinstance(h, str):
        return [h] if h.strip() else []
    return [str(x) for x in h if str(x).strip()]


def forest_spec_from_frame(studies: pd.DataFrame, pooled: Mapping[str, Any] | None = None, *,
                           scale: str = "proportion", group_col: str | None = None,
                           subgroup_pooled: Mapping[Any, Mapping[str, Any]] | None = None,
                           heterogeneity: str | Sequence[str] | None = None,
                           labels_arms: tuple[str, str] | None = None, **options) -> ForestSpec:
    """The :class:`ForestSpec` of :func:`forest_plot`'s arguments, which mean what they mean
    there; ``options`` are the display fields of ForestSpec (``xlabel``, ``title``, ``xlim``,
    ...). Bad input raises ValueError naming the row and column (or the dict and key)."""
    _check_scale(scale)
    two_arm = _check_frame(studies, group_col)
    df = _numeric_frame(studies)
    rows = _studies_from_frame(df, two_arm, group_col, scale)
    total = _pooled_from_mapping("pooled", pooled, scale)
    subtotals = _subtotals_from_mapping(dict(subgroup_pooled or {}), df, group_col, scale)
    if isinstance(options.get("favours"), list):
        options["favours"] = tuple(options["favours"])
    spec = ForestSpec(rows, scale, total, subtotals, tuple(_as_lines(heterogeneity)),
                      arms=tuple(str(a) for a in labels_arms) if labels_arms else None, **options)
    _check_pooled_counts(spec)
    return spec


_RATIO_LIMS = {2.0: [0.5, 0.7, 1, 1.5, 2], 5.0: [0.2, 0.5, 1, 2, 5],
               10.0: [0.1, 0.2, 0.5, 1, 2, 5, 10], 100.0: [0.01, 0.1, 1, 10, 100]}


def _nice_ratio_lim(vals) -> tuple[float, float]:
    """Symmetric RevMan-style limits 0.5-2, 0.2-5, 0.1-10 or 0.01-100."""
    vals = [v for v in vals if np.isfinite(v) and v > 0]
    if not vals:
        return 0.5, 2.0
    m = max(max(vals), 1 / min(vals))
    for n in _RATIO_LIMS:
        if m <= n * 1.0001:
            return 1 / n, n
    return 0.01, 100.0


def _ratio_ticks(lo, hi):
    for n, t in _RATIO_LIMS.items():
        if math.isclose(lo, 1 / n) and math.isclose(hi, n):
            return t
    t = list(ticker.LogLocator(base=10, subs=(1, 2, 5)).tick_values(lo, hi))
    t = [c for c in t if lo * 0.9999 <= c <= hi * 1.0001]
    if len(t) > 7:
        t = [c for c in t if math.isclose(math.log10(c), round(math.log10(c)), abs_tol=1e-9)]
    return t or [lo, hi]


def _ratio_label(v, _pos=None):
    return f"{v:g}"


def _percent_label(v, _pos=None):
    return f"{100 * v:.0f}%"


def _points_label(v, _pos=None):
    return _num(100 * v, 0)


def forest_plot(
    studies: pd.DataFrame,
    pooled: Mapping[str, Any] | None = None,
    *,
    scale: str = "proportion",
    xlabel: str | None = None,
    title: str | None = None,
    heterogeneity: str | Sequence[str] | None = None,
    group_col: str | None = None,
    subgroup_pooled: Mapping[Any, Mapping[str, Any]] | None = None,
    ax=None,
    show_weights: bool = True,
    ref_line: float | bool | None = None,
    xlim: tuple[float, float] | None = None,
    labels_arms: tuple[str, str] | None = None,
    favours: tuple[str, str] | bool | None = None,
    est_label: str | None = None,
) -> Figure:
    """RevMan-style forest plot.

    Parameters
    ----------
    studies : DataFrame, one row per study, columns

        * ``label`` - study label (long labels are truncated with an ellipsis),
        * ``n_text`` (e.g. ``"19/22"``) **or** ``n_text_t`` and ``n_text_c``
          (two-arm studies: two columns headed by ``labels_arms``),
        * ``estimate``, ``ci_low``, ``ci_high`` - on the natural scale:
          proportions 0-1 (``scale="proportion"``), ratios > 0 (``"ratio"``),
          differences of proportions -1..1 (``"difference"``; displayed in
          percentage points). A NaN estimate shows "Not estimable", no marker.
        * ``weight`` (optional) - percent; NaN gives a default-size marker, all
          NaN (or no column) hides the weight column.
        * optional grouping column named by ``group_col``.
    pooled : dict with ``estimate``, ``ci_low``, ``ci_high``, optional ``label``
        (default "Pooled estimate"), ``pi_low``/``pi_high`` (95 % prediction
        interval, drawn as an orange bar in its own row under the diamond when
        finite).
    heterogeneity : str or list of str printed (wrapped) under the pooled row.
    subgroup_pooled : {group: dict like ``pooled``, may contain ``heterogeneity``}.
    ax : draw into an existing Axes (used as the plot panel; the text columns
        are placed outside it, so leave room). By default a new figure of fixed
        width (10 in) and height growing with the number of rows is created.
    ref_line : x of the vertical reference line; default 1 (ratio), 0
        (difference), none (proportion). ``False`` disables it.
    xlim : x-axis limits in data units; CIs beyond them end in an arrow.
    labels_arms : (treatment, control) names for the two n columns and the
        default "favours" labels.
    favours : (left, right) texts under the axis; default for ratio/difference
        with ``labels_arms`` is ("Favours <control>", "Favours <treatment>");
        ``False`` disables.
    est_label : header of the estimate column (default by scale).

    Returns the :class:`~matplotlib.figure.Figure`. The frame is read into a
    :class:`ForestSpec` (:func:`forest_spec_from_frame`) and drawn as :func:`forest_figure` does.
    """
    spec = forest_spec_from_frame(
        studies, pooled, scale=scale, group_col=group_col, subgroup_pooled=subgroup_pooled,
        heterogeneity=heterogeneity, labels_arms=labels_arms, xlabel=xlabel, title=title,
        show_weights=show_weights, ref_line=ref_line, xlim=xlim, favours=favours,
        est_label=est_label)
    with plt.rc_context(_RC):
        return _render_forest(spec, ax)


def forest_figure(spec: ForestSpec, ax=None) -> Figure:
    """The forest plot of ``spec`` (see :func:`forest_plot` for ``ax`` and the figure)."""
    _check_spec(spec)
    with plt.rc_context(_RC):
        return _render_forest(spec, ax)


# --------------------------------------------------------------------------
# Forest plot: rows (one record per line of the figure, top to bottom)
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class _StudyRow:
    label: str
    estimate: float
    ci_low: float
    ci_high: float
    counts: tuple[str, ...]
    est_text: str
    ci_text: str
    weight_text: str
    marker_side: float  # points


@dataclass(frozen=True)
class _DiamondRow:  # the overall pooled estimate or a subgroup's subtotal
    label: str
    estimate: float
    ci_low: float
    ci_high: float
    est_text: str
    ci_text: str
    weight_text: str
    overall: bool


@dataclass(frozen=True)
class _TotalRow:  # the summed counts under a diamond
    label: str
    counts: tuple[str, ...]


@dataclass(frozen=True)
class _IntervalRow:  # prediction interval
    label: str
    low: float
    high: float
    ci_text: str


@dataclass(frozen=True)
class _GroupRow:
    label: str


@dataclass(frozen=True)
class _NoteRow:  # heterogeneity and other notes
    label: str


@dataclass(frozen=True)
class _BlankRow:
    pass


_VALUE_ROWS = (_StudyRow, _DiamondRow)
_BOLD_ROWS = (_DiamondRow, _GroupRow, _TotalRow)
S_MIN, S_DEF = 4.0, 7.0  # study marker side (pt): smallest, without weight


def _value_texts(scale, est, lo, hi, weight) -> tuple[str, str, str]:
    """(estimate, CI, weight) texts of a study or diamond row."""
    e, ci = _fmt_est(scale, est, lo, hi) if np.isfinite(est) else ("Not estimable", "")
    return e, ci, f"{weight:.1f}%" if np.isfinite(weight) else ""


def _marker_side(w: float, wmax: float) -> float:
    """Side (pt) of a study's square: its area grows with the weight, the largest fills
    62 % of the row height."""
    s_max = 0.62 * ROW_H * 72
    if np.isfinite(w) and np.isfinite(wmax):
        return math.sqrt(S_MIN**2 + (s_max**2 - S_MIN**2) * w / wmax)
    return S_DEF


def _study_row(s: ForestStudy, scale: str, wmax: float) -> _StudyRow:
    return _StudyRow(s.label, s.estimate, s.ci_low, s.ci_high, s.counts,
                     *_value_texts(scale, s.estimate, s.ci_low, s.ci_high, s.weight),
                     marker_side=_marker_side(s.weight, wmax))


def _weight_sum(studies) -> float:
    ws = np.array([s.weight for s in studies], dtype=float)
    return np.nansum(ws) if np.isfinite(ws).any() else np.nan


def _pooled_rows(p: ForestPooled, scale: str, members) -> list:
    """The diamond, its prediction interval (when given) and its note lines."""
    label = p.label or ("Pooled estimate" if p.group is None else "Subtotal")
    texts = _value_texts(scale, p.estimate, p.ci_low, p.ci_high, _weight_sum(members))
    rows: list = [_DiamondRow(label, p.estimate, p.ci_low, p.ci_high, *texts, overall=p.group is None)]
    if p.counts:
        rows.append(_TotalRow("Total", p.counts))
    if np.isfinite(p.pi_low) and np.isfinite(p.pi_high):
        rows.append(_IntervalRow("Prediction interval", p.pi_low, p.pi_high,
                                 _fmt_ci_only(scale, p.pi_low, p.pi_high)))
    return rows + [_NoteRow(h) for h in p.heterogeneity]


def _max_weight(studies) -> float:
    w = np.array([s.weight for s in studies], dtype=float)
    w = w[np.isfinite(w)]
    return w.max() if w.size and w.max() > 0 else np.nan


def _group_rows(spec: ForestSpec, wmax: float) -> list:
    subtotals = {p.group: p for p in spec.subtotals}
    rows: list = []
    for gi, g in enumerate(dict.fromkeys(s.group for s in spec.studies)):
        members = [s for s in spec.studies if s.group == g]
        rows += [_BlankRow()] if gi > 0 else []
        rows += [_GroupRow(g)] + [_study_row(s, spec.scale, wmax) for s in members]
        if g in subtotals:
            rows += _pooled_rows(subtotals[g], spec.scale, members)
    return rows


def _forest_rows(spec: ForestSpec) -> list:
    """The rows of the figure, top to bottom, with their full texts."""
    wmax = _max_weight(spec.studies)
    if spec.grouped:
        rows = _group_rows(spec, wmax)
    else:
        rows = [_study_row(s, spec.scale, wmax) for s in spec.studies]
    notes = [_NoteRow(h) for h in spec.heterogeneity if h.strip()]
    if spec.pooled is not None or notes:
        rows.append(_BlankRow())
    if spec.pooled is not None:
        rows += _pooled_rows(spec.pooled, spec.scale, spec.studies)
    return rows + notes


# --------------------------------------------------------------------------
# Forest plot: layout (inches; x relative to the panel's left or right edge)
# --------------------------------------------------------------------------
GAP = 0.18  # between text columns (in)
CI_GAP = 0.05  # between an estimate and its CI
INDENT = 0.12  # study labels under a group header
PANEL_MIN, PANEL_MAX, LABEL_MAX = 2.2, 4.0, 2.9
ARM_LS = 0.78  # line spacing of the arm-name header lines (rows)
TICK_H, FAV_H, XLAB_H = 0.30, 0.22, 0.24  # bands under the panel
DIAMOND_HALF = 0.34  # diamond half height (rows)
_EST_LABELS = {"proportion": "Proportion [95% CI]", "ratio": "Ratio [95% CI]",
               "difference": "Difference, pp [95% CI]"}


@dataclass(frozen=True)
class _Columns:
    headers: tuple[str, ...]  # of the count columns
    arm_lines: tuple[tuple[str, ...], ...]  # wrapped arm names above "Events/N" (two-arm)
    count_ws: tuple[float, ...]
    count_centres: tuple[float, ...]
    est_label: str
    has_w: bool
    indent: float
    label_w: float
    panel_w: float
    x_label: float  # left of the panel (negative)
    x_est_split: float  # right of the panel: estimates end here, CIs start CI_GAP after
    est_col: float
    w_col: float

    @property
    def x_ci(self) -> float:
        return self.x_est_split + CI_GAP

    @property
    def x_w_right(self) -> float:
        return GAP + self.est_col + GAP + self.w_col

    @property
    def right_x(self) -> float:  # right end of the last text column
        return self.x_w_right if self.has_w else GAP + self.est_col

    @property
    def het_w_cols(self) -> float:  # width of the left text columns
        return self.label_w + GAP + sum(self.count_ws) + GAP * (len(self.count_ws) - 1)


def _count_headers(spec: ForestSpec) -> tuple[str, ...]:
    if len(spec.studies[0].counts) == 1:
        return ("Events/N",)
    arm_t, arm_c = spec.arms if spec.arms else ("Treatment", "Control")
    return (str(arm_t), str(arm_c))


def _count_widths(rows, headers) -> list[float]:
    """Count columns fit their texts; long arm names wrap rather than widen them much."""
    studies = [r for r in rows if isinstance(r, (_StudyRow, _TotalRow))]
    out = []
    for j, hdr in enumerate(headers):
        vals = [_text_w(r.counts[j], weight=_font_weight(r)) for r in studies]
        hw = max([_text_w(w, weight="bold") for w in hdr.split()] + [0.0])
        full = _text_w(hdr, weight="bold")
        out.append(max([_text_w("Events/N")] + vals + [min(max(hw, full / 2 + 0.1), 1.3), min(full, 0.9)]))
    return out


def _arm_lines(headers, widths) -> tuple[tuple[str, ...], ...]:
    if len(headers) == 1:
        return ()
    out = []
    for hdr, nw in zip(headers, widths):
        ls = _wrap(hdr, nw, size=FS, weight="bold")
        if len(ls) > 2:
            ls = [ls[0], _truncate(" ".join(ls[1:]), nw, weight="bold")]
        out.append(tuple(ls))
    return tuple(out)


def _font_weight(r) -> str:
    return "bold" if isinstance(r, _BOLD_ROWS) else "normal"


def _est_columns(rows, est_label) -> tuple[float, float]:
    """(width of the estimates, width of the estimate + CI column)."""
    values = [r for r in rows if isinstance(r, _VALUE_ROWS)]
    e_w = max([_text_w(r.est_text, weight=_font_weight(r)) for r in values if r.ci_text] + [0.0])
    ne_w = max([_text_w(r.est_text, style="italic") for r in values if not r.ci_text] + [0.0])
    ci_w = max([_text_w(r.ci_text, weight=_font_weight(r)) for r in rows
                if isinstance(r, (*_VALUE_ROWS, _IntervalRow)) and r.ci_text] + [0.0])
    est_col = max(e_w + CI_GAP + ci_w, ne_w, _text_w(est_label, weight="bold"))
    if e_w + CI_GAP + ci_w < est_col:  # centre the split point under a wider header
        e_w += (est_col - (e_w + CI_GAP + ci_w)) / 2
    return e_w, est_col


def _label_panel_widths(rows, avail: float, indent: float, ax) -> tuple[float, float]:
    need = max([_text_w(r.label) + indent for r in rows if isinstance(r, _StudyRow)]
               + [_text_w(r.label, weight="bold") for r in rows if isinstance(r, _BOLD_ROWS)]
               + [_text_w("Study", weight="bold")])
    panel_w = min(PANEL_MAX, max(PANEL_MIN, avail - min(need, LABEL_MAX)))
    label_w = avail - panel_w
    if label_w < 1.0:  # very wide n/estimate columns: shrink the panel, not the labels
        panel_w = max(1.5, avail - 1.0)
        label_w = avail - panel_w
    if ax is not None:  # the caller's axes is the panel; columns go around it
        panel_w = ax.get_position().width * ax.figure.get_figwidth()
    return label_w, panel_w


def _forest_columns(spec: ForestSpec, rows, ax) -> _Columns:
    headers = _count_headers(spec)
    n_ws = _count_widths(rows, headers)
    est_label = spec.est_label or _EST_LABELS[spec.scale]
    e_w, est_col = _est_columns(rows, est_label)
    has_w = bool(spec.show_weights and np.isfinite([s.weight for s in spec.studies]).any())
    w_col = max(_text_w("Weight", weight="bold"), _text_w("100.0%", weight="bold")) if has_w else 0.0
    fixed = sum(n_ws) + GAP * len(n_ws) + GAP + est_col + (GAP + w_col if has_w else 0.0) + GAP
    indent = INDENT if spec.grouped else 0.0
    label_w, panel_w = _label_panel_widths(rows, FIG_W - 2 * MARGIN - fixed, indent, ax)
    x_label = -(label_w + GAP + sum(n_ws) + GAP * len(n_ws))
    centres, x = [], x_label + label_w + GAP
    for nw in n_ws:
        centres.append(x + nw / 2)
        x += nw + GAP
    return _Columns(headers, _arm_lines(headers, n_ws), tuple(n_ws), tuple(centres), est_label,
                    has_w, indent, label_w, panel_w, x_label, GAP + e_w, est_col, w_col)


def _fit_row(r, cols: _Columns) -> list:
    """The row with texts cut to their columns; a note becomes one row per wrapped line.
    Notes may run into the (otherwise empty) panel area of their rows."""
    if isinstance(r, _StudyRow):
        counts = tuple(_truncate(t, w) for t, w in zip(r.counts, cols.count_ws))
        return [replace(r, label=_truncate(r.label, cols.label_w - cols.indent), counts=counts)]
    if isinstance(r, _TotalRow):
        counts = tuple(_truncate(t, w, weight="bold") for t, w in zip(r.counts, cols.count_ws))
        return [replace(r, label=_truncate(r.label, cols.label_w, weight="bold"), counts=counts)]
    if isinstance(r, _BOLD_ROWS):
        return [replace(r, label=_truncate(r.label, cols.label_w, weight="bold"))]
    if isinstance(r, _IntervalRow):
        return [replace(r, label=_truncate(r.label, cols.label_w, size=FS_SMALL, style="italic"))]
    if isinstance(r, _NoteRow):
        return [_NoteRow(ln) for ln in _wrap(r.label, cols.het_w_cols + GAP + cols.panel_w - 0.1,
                                             size=FS_SMALL)]
    return [r]


def _notes_into_panel(rows, cols: _Columns) -> bool:
    return any(_text_w(r.label, FS_SMALL) > cols.het_w_cols for r in rows if isinstance(r, _NoteRow))


def _favours(spec: ForestSpec) -> tuple[str, str] | None:
    if spec.favours is False or spec.scale not in ("ratio", "difference"):
        return None
    if isinstance(spec.favours, (tuple, list)) and len(spec.favours) == 2:
        return (str(spec.favours[0]), str(spec.favours[1]))
    if spec.arms:
        return (f"Favours {spec.arms[1]}", f"Favours {spec.arms[0]}")
    return None


@dataclass(frozen=True)
class _Heights:
    header: float
    title: float
    favours: float
    xlabel: float
    bottom: float
    panel: float

    @property
    def figure(self) -> float:
        return self.title + 0.1 + self.header + self.panel + self.bottom


def _forest_heights(spec: ForestSpec, cols: _Columns, n_rows: int) -> _Heights:
    header_lines = 1 + ARM_LS * max([len(ls) for ls in cols.arm_lines] + [0])
    fav_h = FAV_H if _favours(spec) else 0.0
    xlab_h = XLAB_H if spec.xlabel else 0.0
    return _Heights(header=0.12 + ROW_H * header_lines, title=0.4 if spec.title else 0.0,
                    favours=fav_h, xlabel=xlab_h, bottom=TICK_H + fav_h + xlab_h + 0.12,
                    panel=n_rows * ROW_H)


def _x_values(rows) -> list[float]:
    vals = []
    for r in rows:
        if isinstance(r, _VALUE_ROWS):
            vals += [r.ci_low, r.ci_high, r.estimate]
        elif isinstance(r, _IntervalRow):
            vals += [r.low, r.high]
    return [v for v in vals if np.isfinite(v)]


def _x_limits(spec: ForestSpec, rows) -> tuple[float, float]:
    if spec.xlim is not None:
        return spec.xlim
    if spec.scale == "ratio":
        return _nice_ratio_lim(_x_values(rows))
    if spec.scale == "proportion":
        return 0.0, 1.0
    vals = [100 * v for v in _x_values(rows)] + [0.0]
    t = ticker.MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(min(vals), max(vals))
    lo, hi = t[0] / 100, t[-1] / 100
    return (-0.1, 0.1) if hi - lo <= 0 else (lo, hi)


def _ref_value(spec: ForestSpec) -> float | None:
    """x of the reference line (None: no line)."""
    ref = spec.ref_line
    if ref is None:
        ref = {"ratio": 1.0, "difference": 0.0}.get(spec.scale)
    return None if ref is None or ref is False else float(ref)


# --------------------------------------------------------------------------
# Forest plot: drawing
# --------------------------------------------------------------------------
def _forest_axes(ax, cols: _Columns, h: _Heights, n_rows: int):
    if ax is None:
        fig = _new_figure(FIG_W, h.figure)
        left_in = MARGIN - cols.x_label
        ax = fig.add_axes((left_in / FIG_W, h.bottom / h.figure, cols.panel_w / FIG_W,
                           h.panel / h.figure))
    ax.set_ylim(n_rows - 0.5, -0.5)
    for s in ("top", "right", "left"):
        ax.spines[s].set_visible(False)
    ax.set_yticks([])
    ax.patch.set_alpha(0)
    return ax


def _set_x_axis(ax, scale: str, lo: float, hi: float) -> None:
    steps = [1, 2, 2.5, 5, 10]
    if scale == "ratio":
        ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    if scale == "ratio":
        ax.xaxis.set_major_locator(ticker.FixedLocator(_ratio_ticks(lo, hi)))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(_ratio_label))
        ax.xaxis.set_minor_locator(ticker.NullLocator())
    elif scale == "proportion":
        ax.xaxis.set_major_locator(ticker.MaxNLocator(nbins=5, steps=steps))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(_percent_label))
    else:
        ax.xaxis.set_major_locator(ticker.MaxNLocator(nbins=6, steps=steps))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(_points_label))
    ax.tick_params(axis="x", labelsize=FS, labelfontfamily=FONT, labelcolor="black", color="black")


def _draw_ref_line(ax, ref: float | None, rows, notes_into_panel: bool) -> None:
    x0, x1 = ax.get_xlim()
    if ref is None or not x0 <= ref <= x1:
        return
    y_end = len(rows) - 0.5
    if notes_into_panel:  # stop above the notes that run into the panel
        y_end = max(i for i, r in enumerate(rows) if not isinstance(r, _NoteRow)) + 0.5
    ax.add_line(Line2D([ref] * 2, [-0.5, y_end], color=C_REF, lw=0.8, zorder=1,
                       gid="ref-line", clip_on=False))


def _put(ax, x_in, y, s, anchor="left", ha="left", size=FS, weight="normal", style="normal", gid=None):
    """Text at ``x_in`` inches from the panel's ``anchor`` edge, on row ``y``."""
    if not s:
        return None
    t = blended_transform_factory(ax.transAxes, ax.transData) + ScaledTranslation(
        x_in, 0, ax.figure.dpi_scale_trans)
    return ax.text(1.0 if anchor == "right" else 0.0, y, s, transform=t, ha=ha,
                   va="center_baseline", fontsize=size, fontweight=weight, fontstyle=style,
                   fontfamily=FONT, color="black", clip_on=False, parse_math=False, gid=gid)


def _draw_header(ax, cols: _Columns) -> None:
    y_h = -0.5 - 0.06 / ROW_H - 0.5  # bottom header line centre (rows)
    _put(ax, cols.x_label, y_h, "Study", weight="bold", gid="header")
    if cols.arm_lines:
        for c, ls in zip(cols.count_centres, cols.arm_lines):
            for j, ln in enumerate(ls):  # bottom-aligned above "Events/N"
                _put(ax, c, y_h - (len(ls) - j) * ARM_LS - 0.1, ln, ha="center", weight="bold",
                     gid="header")
            _put(ax, c, y_h, "Events/N", ha="center", gid="header")
    else:
        _put(ax, cols.count_centres[0], y_h, cols.headers[0], ha="center", weight="bold", gid="header")
    _put(ax, GAP + cols.est_col / 2, y_h, cols.est_label, anchor="right", ha="center", weight="bold",
         gid="header")
    if cols.has_w:
        _put(ax, cols.x_w_right, y_h, "Weight", anchor="right", ha="right", weight="bold", gid="header")
    # rule under the header, from the label column to the last right column
    pos, fw = ax.get_position(), ax.figure.get_figwidth()
    ax.add_line(Line2D([pos.x0 * fw + cols.x_label, pos.x1 * fw + cols.right_x], [-0.5, -0.5],
                       transform=blended_transform_factory(ax.figure.dpi_scale_trans, ax.transData),
                       color="black", lw=0.6, clip_on=False, gid="header-rule"))


def _draw_title(fig, title: str | None) -> None:
    if title:
        fig.text(MARGIN / fig.get_figwidth(), 1 - 0.22 / fig.get_figheight(), title,
                 fontsize=FS_TITLE, fontweight="bold", fontfamily=FONT, ha="left", va="center",
                 parse_math=False, gid="title")


def _draw_study(ax, y: int, r: _StudyRow, cols: _Columns) -> None:
    _put(ax, cols.x_label + cols.indent, y, r.label, gid="study-label")
    for c, t in zip(cols.count_centres, r.counts):
        _put(ax, c, y, t, ha="center", gid="n-text")
    if np.isfinite(r.estimate):
        _put(ax, cols.x_est_split, y, r.est_text, anchor="right", ha="right", gid="estimate")
        _put(ax, cols.x_ci, y, r.ci_text, anchor="right", ha="left", gid="ci")
        _ci_line(ax, r.ci_low, r.ci_high, y, *ax.get_xlim(), color="black", lw=1.0)
    else:
        _put(ax, GAP, y, r.est_text, anchor="right", ha="left", style="italic", gid="not-estimable")
    if cols.has_w:
        _put(ax, cols.x_w_right, y, r.weight_text, anchor="right", ha="right", gid="weight")


def _draw_diamond(ax, y: int, r: _DiamondRow, cols: _Columns) -> None:
    k = "pooled" if r.overall else "subtotal"
    _put(ax, cols.x_label, y, r.label, weight="bold", gid=f"{k}-label")
    _put(ax, cols.x_est_split, y, r.est_text, anchor="right", ha="right", weight="bold", gid=f"{k}-estimate")
    _put(ax, cols.x_ci, y, r.ci_text, anchor="right", ha="left", weight="bold", gid=f"{k}-ci")
    if cols.has_w:
        _put(ax, cols.x_w_right, y, r.weight_text, anchor="right", ha="right", weight="bold",
             gid=f"{k}-weight")
    (x0, x1), e, lo, hi = ax.get_xlim(), r.estimate, r.ci_low, r.ci_high
    verts = [(lo, y), (e, y - DIAMOND_HALF), (hi, y), (e, y + DIAMOND_HALF)]
    ax.add_patch(Polygon(verts, closed=True, facecolor=C_DIAMOND if r.overall else C_SUBDIAMOND,
                         edgecolor="black", lw=0.8, zorder=3, clip_on=bool(lo < x0 or hi > x1),
                         gid="pooled-diamond" if r.overall else "subtotal-diamond"))
    if lo < x0 or hi > x1:
        _ci_line(ax, lo, hi, y, x0, x1, color="black", lw=0.8, only_arrows=True)


def _draw_total(ax, y: int, r: _TotalRow, cols: _Columns) -> None:
    _put(ax, cols.x_label, y, r.label, weight="bold", gid="total-label")
    for c, t in zip(cols.count_centres, r.counts):
        _put(ax, c, y, t, ha="center", weight="bold", gid="total-n-text")


def _draw_interval(ax, y: int, r: _IntervalRow, cols: _Columns) -> None:
    _put(ax, cols.x_label + 0.12, y, r.label, size=FS_SMALL, style="italic", gid="pi-label")
    _put(ax, cols.x_ci, y, r.ci_text, anchor="right", ha="left", size=FS_SMALL, style="italic",
         gid="pi-ci")
    _ci_line(ax, r.low, r.high, y, *ax.get_xlim(), color=C_PI, lw=2.2, caps=True,
             gid="prediction-interval")


def _draw_group(ax, y: int, r: _GroupRow, cols: _Columns) -> None:
    _put(ax, cols.x_label, y, r.label, weight="bold", gid="group-header")


def _draw_note(ax, y: int, r: _NoteRow, cols: _Columns) -> None:
    _put(ax, cols.x_label, y, r.label, size=FS_SMALL, gid="heterogeneity")


def _draw_blank(ax, y: int, r: _BlankRow, cols: _Columns) -> None:
    pass


_DRAW_ROW = {_StudyRow: _draw_study, _DiamondRow: _draw_diamond, _TotalRow: _draw_total,
             _IntervalRow: _draw_interval,
             _GroupRow: _draw_group, _NoteRow: _draw_note, _BlankRow: _draw_blank}


def _draw_squares(ax, rows) -> None:
    """One marker per study with an estimate inside the x range. Squares at the very edge
    (e.g. 100 %) must not be cut in half: no clipping; estimates outside the range are
    marked only by their CI's arrow."""
    x0, x1 = ax.get_xlim()
    sq = [(r.estimate, y, r.marker_side**2) for y, r in enumerate(rows)
          if isinstance(r, _StudyRow) and np.isfinite(r.estimate)]
    if sq:
        keep = [t for t in sq if x0 <= t[0] <= x1]
        ax.scatter([t[0] for t in keep], [t[1] for t in keep], s=[t[2] for t in keep],
                   marker="s", color=C_SQUARE, edgecolors="none", zorder=4, gid="study-squares",
                   clip_on=False)


def _draw_favours(ax, fav, ref: float, cols: _Columns, scale: str) -> None:
    """The two "favours" texts under the tick labels, either side of the reference line;
    that line is free, so the texts may extend beyond the panel."""
    fig, (x0, x1), gap = ax.figure, ax.get_xlim(), 0.12
    y_fav = -(TICK_H + FAV_H / 2 - 0.02)
    tfav = blended_transform_factory(ax.transData, ax.transAxes) + ScaledTranslation(
        0, y_fav, fig.dpi_scale_trans)
    room_l = _panel_frac_in(ax, fig, x0, ref, scale) - cols.x_label - gap
    room_r = _panel_frac_in(ax, fig, ref, x1, scale) + cols.right_x - gap
    for s, room, sign, ha, side in ((fav[0], room_l, -1, "right", "left"),
                                    (fav[1], room_r, 1, "left", "right")):
        ax.text(ref, 0, _truncate(s, max(0.4, room - 0.2), size=FS_SMALL),
                transform=tfav + ScaledTranslation(sign * gap, 0, fig.dpi_scale_trans),
                ha=ha, va="center", fontsize=FS_SMALL, fontfamily=FONT, clip_on=False,
                parse_math=False, gid=f"favours-{side}")


def _draw_xlabel(ax, xlabel: str, cols: _Columns, h: _Heights) -> None:
    y_xl = -(TICK_H + h.favours + XLAB_H / 2)
    ax.text(0.5, 0, _truncate(xlabel, cols.panel_w + 2.0), transform=ax.transAxes
            + ScaledTranslation(0, y_xl, ax.figure.dpi_scale_trans), ha="center", va="center",
            fontsize=FS, fontfamily=FONT, clip_on=False, parse_math=False, gid="xlabel")


#: The x-axis label of a forest whose caller gives none: every forest has one.
DEFAULT_XLABEL = {"proportion": "Proportion of patients", "ratio": "Ratio (log scale)",
                  "difference": "Difference (percentage points)"}


def _render_forest(spec: ForestSpec, ax=None) -> Figure:
    if not spec.xlabel:
        spec = replace(spec, xlabel=DEFAULT_XLABEL[spec.scale])
    rows = _forest_rows(spec)
    cols = _forest_columns(spec, rows, ax)
    rows = [line for r in rows for line in _fit_row(r, cols)]
    h = _forest_heights(spec, cols, len(rows))
    ax = _forest_axes(ax, cols, h, len(rows))
    _set_x_axis(ax, spec.scale, *_x_limits(spec, rows))
    ref = _ref_value(spec)
    _draw_ref_line(ax, ref, rows, _notes_into_panel(rows, cols))
    _draw_header(ax, cols)
    _draw_title(ax.figure, spec.title)
    for y, r in enumerate(rows):
        _DRAW_ROW[type(r)](ax, y, r, cols)
    _draw_squares(ax, rows)
    fav = _favours(spec)
    if fav and ref is not None:
        _draw_favours(ax, fav, ref, cols, spec.scale)
    if spec.xlabel:
        _draw_xlabel(ax, spec.xlabel, cols, h)
    return ax.figure


def _panel_frac_in(ax, fig, a, b, scale):
    """Width in inches of the data interval [a, b] on the panel."""
    x0, x1 = ax.get_xlim()
    w = ax.get_position().width * fig.get_figwidth()
    if scale == "ratio":
        f = (math.log(b) - math.log(a)) / (math.log(x1) - math.log(x0))
    else:
        f = (b - a) / (x1 - x0)
    return abs(f) * w


def _ci_line(ax, lo, hi, y, x0, x1, *, color, lw, caps=False, only_arrows=False, gid=None):
    """Horizontal CI line clipped to [x0, x1] with arrowheads where clipped."""
    a, b = max(lo, x0), min(hi, x1)
    if not only_arrows and b >= a:
        ax.add_line(Line2D([a, b], [y, y], color=color, lw=lw, zorder=2, solid_capstyle="butt",
                           gid=gid, clip_on=False))
        if caps:
            for xc, on in ((a, lo >= x0), (b, hi <= x1)):
                if on:
                    ax.add_line(Line2D([xc, xc], [y - 0.22, y + 0.22], color=color, lw=1.0, zorder=2,
                                       clip_on=False))
    if lo < x0:
        ax.add_line(Line2D([x0], [y], marker="<", markersize=5, color=color, lw=0, zorder=3,
                           clip_on=False, gid="ci-arrow"))
    if hi > x1:
        ax.add_line(Line2D([x1], [y], marker=">", markersize=5, color=color, lw=0, zorder=3,
                           clip_on=False, gid="ci-arrow"))


# --------------------------------------------------------------------------
# Grotta bars
# --------------------------------------------------------------------------
_GROTTA = {
    "mRS": dict(grades=MRS_GRADES, colors=MRS_COLORS, desc=MRS_DESCRIPTIONS,
                title="Modified Rankin Scale score", short="mRS"),
    "mTICI": dict(grades=MTICI_GRADES, colors=MTICI_COLORS, desc=MTICI_DESCRIPTIONS,
                  title="mTICI grade", short="mTICI"),
}
MIN_LABEL_PCT = 3.0  # segments below this share are not labelled on the bar


def _norm_grade(g, grades) -> str | None:
    """'2', 2, 2.0, ' 2B ' -> canonical grade string, or None if unknown."""
    if isinstance(g, (bool, np.bool_)) or g is None or (isinstance(g, float) and math.isnan(g)):
        return None
    if isinstance(g, (int, np.integer)):
        s = str(int(g))
    elif isinstance(g, (float, np.floating)):
        if not float(g).is_integer():
            return None
        s = str(int(g))
    else:
        s = str(g).strip().lower()
    return s if s in grades else None


def _check_dist_frame(dist, scale) -> None:
    if scale not in _GROTTA:
        raise ValueError(f"scale must be one of {list(_GROTTA)}, got {scale!r}")
    if not isinstance(dist, pd.DataFrame):
        raise ValueError("dist must be a pandas DataFrame with columns group, grade, count")
    missing = [c for c in ("group", "grade", "count") if c not in dist.columns]
    if missing:
        raise ValueError(f"dist is missing required column(s) {missing}; got {list(dist.columns)}")
    if len(dist) == 0:
        raise ValueError("dist is empty: nothing to plot")


def _dist_row(i: int, r, scale: str) -> tuple[str, str, int]:
    """(group, grade, count) of row ``i`` of ``dist``."""
    g = r["group"]
    if pd.isna(g) or str(g).strip() == "":
        raise ValueError(f"column 'group', row {i}: group is empty")
    grades = _GROTTA[scale]["grades"]
    gr = _norm_grade(r["grade"], grades)
    if gr is None:
        raise ValueError(
            f"column 'grade', row {i} (group {g!r}): unknown {scale} grade {r['grade']!r}; "
            f"allowed: {', '.join(grades)}")
    c = pd.to_numeric(pd.Series([r["count"]]), errors="coerce").iloc[0]
    where = f"column 'count', row {i} (group {g!r}, grade {gr})"
    if pd.isna(c):
        raise ValueError(f"{where}: count {r['count']!r} is missing or not numeric")
    if c < 0:
        raise ValueError(f"{where}: negative count {c:g}")
    if not float(c).is_integer():
        raise ValueError(f"{where}: count {c:g} is not an integer")
    return str(g), gr, int(c)


def _group_order(groups: list[str], group_order) -> list[str]:
    if group_order is None:
        return groups
    go = [str(g) for g in group_order]
    unknown = [g for g in go if g not in groups]
    if unknown:
        raise ValueError(f"group_order has group(s) {unknown} that are not in dist (groups: {groups})")
    if len(set(go)) != len(go):
        raise ValueError("group_order contains duplicates")
    return go + [g for g in groups if g not in go]


def _validate_dist(dist, scale, group_order):
    """(groups top to bottom, {group: {grade: count}})."""
    _check_dist_frame(dist, scale)
    out = [_dist_row(i, r, scale) for i, r in dist.reset_index(drop=True).iterrows()]
    tidy = pd.DataFrame(out, columns=["group", "grade", "count"])
    dup = tidy.duplicated(["group", "grade"], keep=False)
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise ValueError(f"dist has duplicate rows for group {tidy['group'][i]!r}, grade {tidy['grade'][i]} (row {i})")
    groups = _group_order(list(dict.fromkeys(tidy["group"])), group_order)
    counts = {g: {gr: 0 for gr in _GROTTA[scale]["grades"]} for g in groups}
    for g, gr, c in out:
        counts[g][gr] += c
    for g in groups:
        if sum(counts[g].values()) == 0:
            raise ValueError(f"group {g!r} has a total count of 0")
    return groups, counts
def grotta_bar(
    dist: pd.DataFrame,
    *,
    scale: str = "mRS",
    group_order: Sequence[str] | None = None,
    ax=None,
    annotate: bool = True,
    title: str | None = None,
    cutoff: str | int | None = None,
    show_counts: bool = True,
) -> Figure:
    """Stacked 100 % horizontal bars ("Grotta bars") of an ordinal outcome.

    Parameters
    ----------
    dist : long DataFrame with columns ``group``, ``grade`` (int or str;
        mRS 0-6, or mTICI 0, 1, 2a, 2b, 2c, 3) and ``count`` (non-negative
        integers). The total per group is the sum of its counts; grades that
        are absent count as 0.
    scale : "mRS" (green -> dark red/black) or "mTICI" (red -> green).
    group_order : top-to-bottom order; groups not listed follow in order of
        appearance.
    annotate : label segments with "31.8%\\n(7)" (or "31.8%" when narrow; above
        the bar with a leader line when too narrow for the bar; segments
        < 3 % are listed in a note under the plot instead).
    cutoff : draw a dashed line after this grade on every bar (e.g. ``2`` for
        mRS 0-2 vs 3-6, ``"2a"`` for mTICI 2b-3) and print the share on the
        favourable side to the right of each bar.
    show_counts : add "(n)" under the percentage where there is room.

    Segment patches carry ``gid="segment|<group>|<grade>"``, their labels
    ``gid="seglabel|<group>|<grade>"``, group labels ``gid="grouplabel|<group>"``.
    """
    groups, counts = _validate_dist(dist, scale, group_order)
    if cutoff is not None:
        cut = _norm_grade(cutoff, _GROTTA[scale]["grades"])
        if cut is None or cut == _GROTTA[scale]["grades"][-1]:
            raise ValueError(f"cutoff {cutoff!r} is not a valid {scale} grade below the highest grade")
    else:
        cut = None
    with plt.rc_context(_RC):
        return _grotta(groups, counts, scale=scale, ax=ax, annotate=annotate, title=title,
                       cut=cut, show_counts=show_counts)


def _pct(c, n) -> str:
    return f"{100 * c / n:.1f}%"


def _ink(color) -> str:
    """Black or white text, whichever contrasts better with ``color``."""
    from matplotlib.colors import to_rgb
    r, g, b = (v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in to_rgb(color))
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"


# Grotta layout constants (inches)
G_GAP = 0.15  # between the group labels / cut-off texts and the bars
G_LABEL_MAX = 2.6  # widest group label
BAR_H, LANE_H, BAR_GAP = 0.46, 0.24, 0.16  # bar, label lane above it, space under it
SEG_PAD = 0.05  # around a label inside a segment
LANE_SEP = 0.08  # between labels in the lane
G_AXIS_H, G_NOTE_H = 0.42, 0.19  # tick band under the bars, one note line


@dataclass(frozen=True)
class _Segment:
    grade: str
    color: str
    left: float  # fractions of the bar
    frac: float
    count: int
    mode: str | None = None  # "in" (label inside), "lane" (above the bar), "note", None
    text: str | None = None
    x: float = 0.0  # lane label: left edge (fraction of the bar)
    w: float = 0.0  # lane label: width (fraction of the bar)


def _grotta_group_labels(groups, n_by) -> dict[str, str]:
    out = {}
    for g in groups:
        suffix = f" (n = {n_by[g]})"
        out[g] = _truncate(g, max(0.6, G_LABEL_MAX - _text_w(suffix))) + suffix
    return out


def _grotta_cut_texts(groups, counts, n_by, spec, cut) -> dict[str, str]:
    """Share on the favourable side of the cut-off: low mRS, high mTICI."""
    if cut is None:
        return {}
    grades, short, ci = spec["grades"], spec["short"], spec["grades"].index(cut)
    out = {}
    for g in groups:
        if short == "mRS":
            fav = sum(counts[g][gr] for gr in grades[: ci + 1])
            out[g] = f"{short} {grades[0]}{NDASH}{cut}: {_pct(fav, n_by[g])}"
        else:
            fav = sum(counts[g][gr] for gr in grades[ci + 1:])
            out[g] = f"{short} {grades[ci + 1]}{NDASH}{grades[-1]}: {_pct(fav, n_by[g])}"
    return out


def _segment_mode(c: int, n: int, frac: float, panel_w: float,
                  show_counts: bool) -> tuple[str, str | None]:
    """Where the label of a segment of ``c`` of ``n`` (``frac`` of the bar) goes, and its text."""
    w_in = frac * panel_w
    pct = _pct(c, n)
    two = f"{pct}\n({c})"
    if show_counts and _text_w(two) + 2 * SEG_PAD <= w_in:
        return "in", two
    if _text_w(pct) + 2 * SEG_PAD <= w_in:
        return "in", pct
    if 100 * frac >= MIN_LABEL_PCT:
        return "lane", pct
    return "note", None


def _spread(xs: list[float], ws: list[float], sep: float) -> list[float]:
    """Left edges of labels in [0, 1] moved apart (left to right, then back from the right);
    an edge below 0 means there was no room."""
    xs = list(xs)
    xs[0] = max(xs[0], 0.0)
    for i in range(1, len(xs)):
        xs[i] = max(xs[i], xs[i - 1] + ws[i - 1] + sep)
    if xs[-1] + ws[-1] > 1.0:
        xs[-1] = 1.0 - ws[-1]
        for i in range(len(xs) - 2, -1, -1):
            xs[i] = min(xs[i], xs[i + 1] - sep - ws[i])
    return xs


def _place_lane(segs: list[_Segment], panel_w: float) -> list[_Segment]:
    """Positions of the labels above the bar; those without room become notes."""
    lane = [i for i, s in enumerate(segs) if s.mode == "lane"]
    if not lane:
        return segs
    ws = [_text_w(segs[i].text) / panel_w for i in lane]
    xs = [segs[i].left + segs[i].frac / 2 - w / 2 for i, w in zip(lane, ws)]
    segs = list(segs)
    for i, x, w in zip(lane, _spread(xs, ws, LANE_SEP / panel_w), ws):
        segs[i] = replace(segs[i], x=x, w=w, mode="note" if x < -1e-9 else "lane")
    return segs


def _bar_segments(cg: dict, spec, panel_w: float, annotate: bool, show_counts: bool):
    """(segments of one bar, whether any label wanted the lane above it)."""
    n, left, segs = sum(cg.values()), 0.0, []
    for gr, color in zip(spec["grades"], spec["colors"]):
        frac = cg[gr] / n
        mode, text = (None, None) if cg[gr] == 0 or not annotate else \
            _segment_mode(cg[gr], n, frac, panel_w, show_counts)
        segs.append(_Segment(gr, color, left, frac, cg[gr], mode, text))
        left += frac
    wanted_lane = any(s.mode == "lane" for s in segs)
    return _place_lane(segs, panel_w), wanted_lane


def _note_items(segs: list[_Segment], short: str, n: int) -> list[str]:
    """Segments listed in the note: too small first, then those the lane had no room for."""
    small = [s for s in segs if s.mode == "note" and s.text is None]
    crowded = [s for s in segs if s.mode == "note" and s.text is not None]
    return [f"{short} {s.grade} {_pct(s.count, n)} ({s.count})" for s in small + crowded]


def _grotta_note_lines(items: dict[str, list[str]]) -> list[str]:
    body = "; ".join(f"{g}: {', '.join(v)}" for g, v in items.items() if v)
    if not body:
        return []
    return _wrap(f"Not labelled (< {MIN_LABEL_PCT:g}% or no room): {body}",
                 FIG_W - 2 * MARGIN, size=FS_SMALL)


def _legend(fig_or_ax, spec, ncol: int, **kw):
    handles = [Patch(facecolor=c, edgecolor="black", linewidth=0.5) for c in spec["colors"]]
    labels = [f"{gr}  {spec['desc'][gr]}" for gr in spec["grades"]]
    return fig_or_ax.legend(handles, labels, ncols=ncol, frameon=False, title=spec["title"],
                            prop=_fp(FS_SMALL), **kw)


def _figure_legend(fig, spec, ncol: int):
    return _legend(fig, spec, ncol, loc="upper center", title_fontproperties=_fp(FS, "bold"),
                   handlelength=1.4, handleheight=1.0, columnspacing=1.2, handletextpad=0.5,
                   borderaxespad=0.0)


def _legend_size(spec) -> tuple[int, float]:
    """(columns, height in inches) of a legend that fits the figure width."""
    tmp = _new_figure(FIG_W, 3.0)
    renderer = tmp.canvas.get_renderer()
    n = len(spec["grades"])
    ncol = n
    while True:
        leg = _figure_legend(tmp, spec, ncol)
        bb = leg.get_window_extent(renderer)
        if bb.width / tmp.dpi <= FIG_W - 2 * MARGIN or ncol <= 2:
            return ncol, bb.height / tmp.dpi
        leg.remove()
        ncol = math.ceil(n / math.ceil(n / ncol + 1)) if ncol > 4 else ncol - 1


@dataclass(frozen=True)
class _GrottaLayout:
    label_w: float  # group labels
    left_in: float  # panel left edge
    panel_w: float
    lane_h: float  # label lane above each bar (0 when no bar needs one)
    n_groups: int
    title_h: float
    leg_h: float
    n_notes: int

    @property
    def row_h(self) -> float:
        return self.lane_h + BAR_H + BAR_GAP

    @property
    def panel_h(self) -> float:
        return self.n_groups * self.row_h + 0.04

    @property
    def top(self) -> float:
        return 0.12 + self.title_h + self.leg_h + 0.18

    @property
    def bottom(self) -> float:
        return G_AXIS_H + G_NOTE_H * self.n_notes + 0.08

    @property
    def fig_h(self) -> float:
        return self.top + self.panel_h + self.bottom


def _grotta_widths(glabels, cut_texts, ax) -> tuple[float, float, float]:
    """(label width, panel left, panel width) in inches."""
    label_w = max(_text_w(s) for s in glabels.values())
    right_w = max([_text_w(s) for s in cut_texts.values()] + [0.0])
    left_in = MARGIN + label_w + G_GAP
    panel_w = FIG_W - left_in - MARGIN - (G_GAP + right_w if right_w else 0.1)
    if ax is not None:  # fit segment labels to the caller's axes
        panel_w = ax.get_position().width * ax.figure.get_figwidth()
    return label_w, left_in, panel_w


def _grotta_axes(ax, lay: _GrottaLayout):
    """(axes, whether the figure is ours); y in inches from the top of the panel."""
    own = ax is None
    if own:
        fig = _new_figure(FIG_W, lay.fig_h)
        ax = fig.add_axes((lay.left_in / FIG_W, lay.bottom / lay.fig_h, lay.panel_w / FIG_W,
                           lay.panel_h / lay.fig_h))
    ax.set_xlim(0, 1)
    ax.set_ylim(lay.panel_h, 0)
    for s in ("top", "right", "left"):
        ax.spines[s].set_visible(False)
    ax.set_yticks([])
    ax.patch.set_alpha(0)
    ax.xaxis.set_major_locator(ticker.MultipleLocator(0.2))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(_percent_label))
    ax.tick_params(axis="x", labelsize=FS, labelfontfamily=FONT, labelcolor="black")
    ax.grid(False)
    return ax, own


def _gtext(ax, x, y, s, *, transform=None, ha="center", size=FS, color="black", gid=None):
    return ax.text(x, y, s, transform=transform or ax.transData, ha=ha, va="center", fontsize=size,
                   fontfamily=FONT, color=color, fontweight="normal", clip_on=False,
                   parse_math=False, gid=gid, linespacing=1.1)


def _draw_segment(ax, g: str, s: _Segment, y_top: float, lane_h: float) -> None:
    ax.add_patch(Rectangle((s.left, y_top), s.frac, BAR_H, facecolor=s.color, edgecolor="white",
                           linewidth=0.8, gid=f"segment|{g}|{s.grade}"))
    if s.mode == "in":
        _gtext(ax, s.left + s.frac / 2, y_top + BAR_H / 2, s.text, color=_ink(s.color),
               gid=f"seglabel|{g}|{s.grade}")
    elif s.mode == "lane":
        xc = s.left + s.frac / 2
        _gtext(ax, s.x + s.w / 2, y_top - lane_h / 2 - 0.02, s.text, size=FS,
               gid=f"seglabel|{g}|{s.grade}")
        ax.add_line(Line2D([xc, xc], [y_top - 0.05, y_top], color="black", lw=0.6, clip_on=False))


def _side_transform(ax, dx: float):
    return ax.get_yaxis_transform() + ScaledTranslation(dx, 0, ax.figure.dpi_scale_trans)


def _draw_bar(ax, i: int, g: str, label: str, segs, cut_text, lay: _GrottaLayout):
    """One group's bar with its labels; returns the x of the cut-off and the bar's y span."""
    y_top = 0.02 + i * lay.row_h + lay.lane_h
    y_mid = y_top + BAR_H / 2
    _gtext(ax, 0, y_mid, label, transform=_side_transform(ax, -G_GAP), ha="right",
           gid=f"grouplabel|{g}")
    for s in segs:
        if s.count:
            _draw_segment(ax, g, s, y_top, lay.lane_h)
    ax.add_patch(Rectangle((0, y_top), 1, BAR_H, facecolor="none", edgecolor="black", lw=0.6,
                           zorder=3))  # outline of the whole bar
    if cut_text is None:
        return None
    _gtext(ax, 1, y_mid, cut_text, transform=_side_transform(ax, G_GAP), ha="left",
           gid=f"cutlabel|{g}")
    return y_top


def _draw_cutoff(ax, bars) -> None:
    """One dashed line through every bar at its cut-off (``bars``: (x, y_top) per bar)."""
    xs, ys = [], []
    for xb, yt in bars:
        xs += [xb, xb]
        ys += [yt - 0.04, yt + BAR_H + 0.04]
    if xs:
        ax.add_line(Line2D(xs, ys, color="black", lw=1.3, ls=(0, (4, 2.5)), zorder=4,
                           gid="cutoff-line", clip_on=False))


def _figure_texts(fig, spec, ncol: int, title, note_lines, lay: _GrottaLayout) -> None:
    """Legend, title and notes of a figure of our own."""
    leg = _figure_legend(fig, spec, ncol)
    leg.set_bbox_to_anchor((0.5, 1 - (0.12 + lay.title_h) / lay.fig_h), transform=fig.transFigure)
    if title:
        fig.text(MARGIN / FIG_W, 1 - 0.25 / lay.fig_h, title, fontsize=FS_TITLE, fontweight="bold",
                 fontfamily=FONT, ha="left", va="center", parse_math=False, gid="title")
    for j, ln in enumerate(note_lines):
        fig.text(MARGIN / FIG_W, (lay.bottom - G_AXIS_H - 0.1 - G_NOTE_H * j) / lay.fig_h, ln,
                 fontsize=FS_SMALL, fontfamily=FONT, ha="left", va="center", parse_math=False,
                 gid="note")


def _axes_texts(ax, spec, ncol: int, title, note_lines, lay: _GrottaLayout) -> None:
    """Legend, title and notes around the caller's axes."""
    _legend(ax, spec, ncol, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    if title:
        ax.set_title(title, fontsize=FS_TITLE, fontweight="bold", loc="left", pad=lay.leg_h * 72 + 6)
    for j, ln in enumerate(note_lines):
        _gtext(ax, 0, 0, ln, ha="left", size=FS_SMALL, gid="note", transform=ax.transAxes
               + ScaledTranslation(-(lay.label_w + G_GAP), -(G_AXIS_H + 0.1 + G_NOTE_H * j),
                                   ax.figure.dpi_scale_trans))


def _grotta(groups, counts, *, scale, ax, annotate, title, cut, show_counts):
    spec = _GROTTA[scale]
    n_by = {g: sum(counts[g].values()) for g in groups}
    glabels = _grotta_group_labels(groups, n_by)
    cut_texts = _grotta_cut_texts(groups, counts, n_by, spec, cut)
    label_w, left_in, panel_w = _grotta_widths(glabels, cut_texts, ax)
    bars = {g: _bar_segments(counts[g], spec, panel_w, annotate, show_counts) for g in groups}
    segs = {g: b[0] for g, b in bars.items()}
    ncol, leg_h = _legend_size(spec)
    note_lines = _grotta_note_lines({g: _note_items(segs[g], spec["short"], n_by[g]) for g in groups})
    lay = _GrottaLayout(label_w, left_in, panel_w, LANE_H if any(b[1] for b in bars.values()) else 0.0,
                        len(groups), 0.4 if title else 0.0, leg_h, len(note_lines))
    ax, own = _grotta_axes(ax, lay)
    cut_bars = []
    for i, g in enumerate(groups):
        y_top = _draw_bar(ax, i, g, glabels[g], segs[g], cut_texts.get(g), lay)
        if y_top is not None:
            ci = spec["grades"].index(cut)
            cut_bars.append((sum(s.frac for s in segs[g][: ci + 1]), y_top))
    _draw_cutoff(ax, cut_bars)
    if own:
        _figure_texts(ax.figure, spec, ncol, title, note_lines, lay)
    else:
        _axes_texts(ax, spec, ncol, title, note_lines, lay)
    return ax.figure


# --------------------------------------------------------------------------
# Risk of bias (robvis style): traffic lights and summary bars
# --------------------------------------------------------------------------
#: robvis' colour-blind-safe palette, and a symbol in every mark so that colour is never
#: the only cue: + low, − some concerns / moderate, × high / serious, ! critical, ? no information.
ROB_COLORS = {"low": "#FED98E", "some concerns": "#FE9929", "moderate": "#FE9929",
              "high": "#D95F0E", "serious": "#D95F0E", "critical": "#993404",
              "no information": "#FFFFFF", "yes": "#FED98E", "no": "#D95F0E",
              "unclear": "#FFFFFF", "not applicable": "#DDDDDD"}
ROB_SYMBOLS = {"low": "+", "some concerns": MINUS, "moderate": MINUS, "high": "\u00d7",
               "serious": "\u00d7", "critical": "!", "no information": "?", "yes": "+",
               "no": "\u00d7", "unclear": "?", "not applicable": "n/a"}


def _rob_check(judgements) -> None:
    unknown = sorted({j for j in judgements if j not in ROB_COLORS})
    if unknown:
        raise ValueError(f"risk-of-bias judgement(s) {unknown} not drawable; expected one of "
                         f"{sorted(ROB_COLORS)}")


def _rob_legend(fig, levels, y: float, ncol: int | None = None):
    handles = [Line2D([], [], ls="", marker="o", ms=11, mfc=ROB_COLORS[lv], mec="black", mew=0.6)
               for lv in levels]
    labels = [f"{ROB_SYMBOLS[lv]}  {lv.capitalize()}" for lv in levels]
    fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(0.0, y), ncol=ncol or len(levels),
               frameon=False, fontsize=FS_SMALL, handletextpad=0.4, columnspacing=1.4)


def rob_traffic_light(rows: Sequence[str], columns: Sequence[str], cells: Sequence[Sequence[str]],
                      *, levels: Sequence[str], domain_key: Sequence[str] = ()) -> Figure:
    """Traffic-light plot: one row per assessment (``rows``), one column per domain
    (``columns``, the last usually "Overall"), ``cells[i][j]`` the judgement; a circle in the
    judgement's colour carrying its symbol. ``domain_key`` lines ("D1: ...") and the
    judgement legend (``levels``) are printed under the grid."""
    if len(cells) != len(rows) or any(len(c) != len(columns) for c in cells):
        raise ValueError(f"cells must be {len(rows)} rows of {len(columns)} judgements")
    _rob_check([j for c in cells for j in c] + list(levels))
    with plt.rc_context(_RC):
        label_w = min(LABEL_MAX + 1.2, max(_text_w(r) for r in rows) + 0.15)
        col_w, row_h, key_line = 0.58, 0.27, 0.17
        key_h = key_line * len(domain_key) + 0.42
        grid_w, grid_h = col_w * len(columns), row_h * (len(rows) + 1)
        w, h = max(label_w + grid_w + 2 * MARGIN, 5.0), grid_h + key_h + 0.1
        fig = _new_figure(w, h)
        ax = fig.add_axes([(MARGIN + label_w) / w, (key_h + 0.05) / h, grid_w / w, grid_h / h])
        ax.set_xlim(-0.5, len(columns) - 0.5)
        ax.set_ylim(len(rows) - 0.5, -1.5)
        ax.axis("off")
        for j, c in enumerate(columns):
            ax.text(j, -1, c, ha="center", va="center", fontsize=FS, weight="bold")
        for i, (label, judged) in enumerate(zip(rows, cells)):
            ax.text(-0.5 - 0.15 / col_w, i, label, ha="right", va="center", fontsize=FS)
            if i:
                ax.axhline(i - 0.5, color="#DDDDDD", lw=0.5)
            for j, jd in enumerate(judged):
                ax.plot(j, i, "o", ms=13, mfc=ROB_COLORS[jd], mec="black", mew=0.6)
                ax.text(j, i, ROB_SYMBOLS[jd], ha="center", va="center_baseline", fontsize=FS,
                        weight="bold", gid=f"rob-{i}-{j}")
        ax.axvline(len(columns) - 1.5, color="black", lw=0.6)
        for k, line in enumerate(domain_key):
            fig.text(MARGIN / w, (key_h - 0.1 - key_line * k) / h, line, fontsize=FS_SMALL, va="top")
        _rob_legend(fig, levels, (key_h - 0.12 - key_line * len(domain_key)) / h + 0.02)
    return fig


def rob_summary_bars(panels: Mapping[str, Mapping[str, Mapping[str, float]]], *,
                     levels: Sequence[str]) -> Figure:
    """Summary bar chart: panels side by side (e.g. unweighted, weighted), in each a stacked
    horizontal bar per domain of the shares (0-1) of ``levels``; a share's symbol is printed
    in its segment when wide enough."""
    panels = dict(panels)
    domains = list(next(iter(panels.values())))
    _rob_check(levels)
    with plt.rc_context(_RC):
        label_w = max(_text_w(d) for d in domains) + 0.15
        bar_h, head, foot = 0.27, 0.3, 0.75
        w = FIG_W
        h = bar_h * len(domains) + head + foot
        gap = 0.5
        panel_w = (w - 2 * MARGIN - label_w - gap * (len(panels) - 1) - 0.15) / len(panels)
        for p, (title, shares) in enumerate(panels.items()):
            left_in = MARGIN + label_w + p * (panel_w + gap)
            if p == 0:
                fig = _new_figure(w, h)
            ax = fig.add_axes([left_in / w, foot / h, panel_w / w, (h - head - foot) / h])
            for i, d in enumerate(domains):
                left = 0.0
                for lv in levels:
                    v = float(shares[d].get(lv, 0.0))
                    if v > 0:
                        ax.barh(i, v, left=left, height=0.72, color=ROB_COLORS[lv], edgecolor="black",
                                lw=0.5)
                        if v >= 0.08:
                            ax.text(left + v / 2, i, ROB_SYMBOLS[lv], ha="center", va="center",
                                    fontsize=FS, weight="bold")
                    left += v
            ax.set_xlim(0, 1)
            ax.set_ylim(len(domains) - 0.5, -0.5)
            ax.set_yticks(range(len(domains)), domains if p == 0 else [""] * len(domains), fontsize=FS)
            ax.tick_params(axis="y", length=0)
            ax.xaxis.set_major_formatter(ticker.PercentFormatter(1.0, decimals=0))
            ax.set_xticks([0, 0.5, 1.0])
            ax.tick_params(axis="x", labelsize=FS_SMALL)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            ax.set_title(title, fontsize=FS_SMALL, loc="left", weight="bold")
        _rob_legend(fig, levels, 0.3 / h + 0.02)
    return fig


def posterior_densities(panels, *, xlabel: str, log_x: bool = True, ref: float = 1.0) -> Figure:
    """Posterior densities of pooled effects, one panel per outcome.

    ``panels``: sequence of ``(title, curves)`` with ``curves`` a sequence of
    ``(label, x, density)`` (x on the natural scale: ratios or differences). A vertical line
    marks no effect (``ref``)."""
    panels = list(panels)
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(1, len(panels), figsize=(FIG_W, 2.6), squeeze=False)
        for ax, (title, curves) in zip(axes[0], panels):
            for (label, x, dens), style in zip(curves, ("-", "--", ":")):
                ax.plot(x, dens, style, color=C_SQUARE, lw=1.4, label=label)
            ax.axvline(ref, color=C_REF, lw=0.8)
            if log_x:
                ax.set_xscale("log")
                ax.xaxis.set_major_formatter(ticker.FuncFormatter(_ratio_label))
                ax.xaxis.set_minor_formatter(ticker.NullFormatter())
            ax.set_title(title, fontsize=FS)
            ax.set_yticks([])
            ax.set_xlabel(xlabel, fontsize=FS_SMALL)
            for side in ("top", "right", "left"):
                ax.spines[side].set_visible(False)
        axes[0][0].legend(fontsize=FS_SMALL, frameon=False, loc="upper left")
        fig.tight_layout()
    return fig


# --------------------------------------------------------------------------
# Specification curve (multiverse)
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class CurvePanel:
    """One scale of a specification curve: estimates and CIs (natural scale) in plotting order,
    ``excludes`` (True where the CI excludes ``null``; None: no null, e.g. a rate), the axis
    label, ``scale`` ("ratio": log axis, "difference": percentage points, "proportion": %)
    and a title (may be empty)."""
    title: str
    scale: str
    ylabel: str
    estimate: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    excludes: tuple[bool, ...] | None = None
    null: float | None = None


SC_CURVE_H = 1.75   # in
SC_ROW_H = 0.145    # one choice value of the dot matrix (in)
SC_GAP = 0.85       # between the panels of two scales: room for the y axis (in)
C_INCLUDES = "#9E9E9E"


def specification_curve(panels: Sequence[CurvePanel], rows: Sequence[tuple[str, str, Sequence[bool]]], *,
                        run: int | None = None) -> Figure:
    """A specification curve (Simonsohn et al.; Voracek et al. 2019): each specification's
    estimate (dot) and CI (line) in the given order, above a dot matrix of its choices.

    ``panels`` are drawn side by side, their widths proportional to their numbers of
    specifications; ``rows``: ``(choice, value, mask)`` with one mask entry per specification
    (all panels, in order), a dot where True. ``run`` (index over all specifications) is
    marked in orange in both parts."""
    sizes = [len(p.estimate) for p in panels]
    n = sum(sizes)
    if n == 0:
        raise ValueError("a specification curve needs at least one specification")
    for choice, value, mask in rows:
        if len(mask) != n:
            raise ValueError(f"row {choice}: {value}: {len(mask)} entries for {n} specifications")
    labels = [f"{c}: {v}" for c, v, _ in rows]
    label_w = min(2.4, max((_text_w(s, FS_SMALL) for s in labels), default=0.5)) + 0.12
    left, right = MARGIN + label_w + 0.45, MARGIN
    plot_w = FIG_W - left - right - SC_GAP * (len(panels) - 1)
    mat_h = SC_ROW_H * max(len(rows), 1)
    top, mid, bottom = 0.3, 0.12, 0.35
    fig_h = top + SC_CURVE_H + mid + mat_h + bottom
    with plt.rc_context(_RC):
        fig = _new_figure(FIG_W, fig_h)
        x0, start = left, 0
        for j, (p, size) in enumerate(zip(panels, sizes)):
            w = plot_w * size / n
            cax = fig.add_axes(((x0) / FIG_W, (bottom + mat_h + mid) / fig_h, w / FIG_W, SC_CURVE_H / fig_h))
            max_ = fig.add_axes((x0 / FIG_W, bottom / fig_h, w / FIG_W, mat_h / fig_h), sharex=cax)
            _curve_panel(cax, p, None if run is None or not start <= run < start + size else run - start)
            _matrix_panel(max_, rows, start, size, labels if j == 0 else None, label_w,
                          None if run is None or not start <= run < start + size else run - start)
            x0, start = x0 + w + SC_GAP, start + size
        fig.text(left / FIG_W, 0.12 / fig_h, "Specifications, sorted by estimate", fontsize=FS_SMALL,
                 fontfamily=FONT, ha="left", va="center")
    return fig


def _curve_panel(ax, p: CurvePanel, run) -> None:
    ax.set_gid("spec-curve")
    x = np.arange(len(p.estimate))
    est, lo, hi = (np.asarray(v, dtype=float) for v in (p.estimate, p.ci_low, p.ci_high))
    colour = np.array([C_SQUARE if (p.excludes is None or e) else C_INCLUDES
                       for e in (p.excludes or [True] * x.size)])
    ax.vlines(x, lo, hi, colors=colour, lw=0.9 if x.size < 80 else 0.6)
    ax.scatter(x, est, s=9 if x.size < 80 else 5, c=colour, zorder=3, linewidths=0)
    if run is not None:
        ax.vlines([run], [lo[run]], [hi[run]], colors=C_PI, lw=1.4, zorder=4)
        ax.scatter([run], [est[run]], s=22, c=C_PI, zorder=5, linewidths=0)
    if p.null is not None:  # no effect stays in view
        ax.axhline(p.null, color=C_REF, lw=0.8, ls=(0, (4, 2.5)), zorder=1)
        ends = np.array([np.nanmin(lo), np.nanmax(hi), p.null])
        if p.scale == "ratio":
            ax.set_ylim(ends.min() / 1.08, ends.max() * 1.08)
        else:
            pad = 0.05 * (ends.max() - ends.min() or 0.01)
            ax.set_ylim(ends.min() - pad, ends.max() + pad)
    if p.scale == "ratio":
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(_ratio_label))
        ax.yaxis.set_minor_locator(ticker.NullLocator())
    elif p.scale == "proportion":
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(_percent_label))
    else:
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(_points_label))
    ax.set_xlim(-0.7, x.size - 0.3)
    ax.tick_params(axis="y", labelsize=FS_SMALL)
    ax.tick_params(axis="x", bottom=False, labelbottom=False)
    ax.set_ylabel(p.ylabel, fontsize=FS_SMALL)
    if p.title:
        ax.set_title(p.title, fontsize=FS_SMALL, loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _matrix_panel(ax, rows, start: int, size: int, labels, label_w: float, run) -> None:
    ax.set_gid("spec-matrix")
    n_rows = len(rows)
    for i, (choice, _value, mask) in enumerate(rows):
        m = np.asarray(mask[start:start + size], dtype=bool)
        y = n_rows - 1 - i
        ax.scatter(np.flatnonzero(m), np.full(int(m.sum()), y), s=6 if size < 80 else 3, c="black",
                   linewidths=0, zorder=3)
        if i and rows[i - 1][0] != choice:
            ax.axhline(y + 0.5, color="#BDBDBD", lw=0.6, zorder=1)
    if run is not None:
        ax.axvspan(run - 0.5, run + 0.5, color=C_PI, alpha=0.25, lw=0, zorder=0)
    ax.set_ylim(-0.5, n_rows - 0.5)
    ax.set_yticks(np.arange(n_rows))
    if labels is not None:
        ax.set_yticklabels([_truncate(s, label_w - 0.12, FS_SMALL) for s in labels[::-1]], fontsize=FS_SMALL)
    else:
        ax.set_yticklabels([])
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", bottom=False, labelbottom=False)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
