"""Publication-quality figures for the EVT evidence report.

Two figure types:

* :func:`forest_plot` - RevMan-style forest plot (text columns left and right of
  the plot panel, squares sized by weight, pooled diamonds, prediction interval,
  heterogeneity text, optional subgroups).
* :func:`grotta_bar` - stacked 100 % horizontal bars ("Grotta bars") of an
  ordinal outcome (modified Rankin Scale or mTICI) for one or more groups.

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
    "forest_plot",
    "grotta_bar",
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
# Forest plot
# --------------------------------------------------------------------------
_SCALES = ("proportion", "ratio", "difference")


def _validate_forest(studies, scale, pooled, group_col, subgroup_pooled):
    if scale not in _SCALES:
        raise ValueError(f"scale must be one of {_SCALES}, got {scale!r}")
    if not isinstance(studies, pd.DataFrame):
        raise ValueError("studies must be a pandas DataFrame")
    if len(studies) == 0:
        raise ValueError("studies is empty: a forest plot needs at least one row")
    required = ["label", "estimate", "ci_low", "ci_high"]
    missing = [c for c in required if c not in studies.columns]
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
    lim = {"proportion": (0.0, 1.0), "difference": (-1.0, 1.0)}.get(scale)
    for i, r in df.iterrows():
        who = f"row {i} ({r['label']!r})"
        if pd.isna(r["label"]) or str(r["label"]).strip() == "":
            raise ValueError(f"column 'label', row {i}: label is empty")
        e, lo, hi, w = r["estimate"], r["ci_low"], r["ci_high"], r["weight"]
        if np.isfinite(e):
            for c, v in (("ci_low", lo), ("ci_high", hi)):
                if not np.isfinite(v):
                    raise ValueError(f"column {c!r}, {who}: missing/infinite while estimate is given")
            if lo > e + 1e-12:
                raise ValueError(f"column 'ci_low', {who}: ci_low ({lo:g}) > estimate ({e:g})")
            if hi < e - 1e-12:
                raise ValueError(f"column 'ci_high', {who}: ci_high ({hi:g}) < estimate ({e:g})")
            for c, v in (("estimate", e), ("ci_low", lo), ("ci_high", hi)):
                if scale == "ratio" and v <= 0:
                    raise ValueError(f"column {c!r}, {who}: ratio scale needs values > 0, got {v:g}")
                if lim and not (lim[0] - 1e-9 <= v <= lim[1] + 1e-9):
                    unit = "proportions (0-1)" if scale == "proportion" else "differences of proportions (-1 to 1; the plot shows percentage points)"
                    raise ValueError(f"column {c!r}, {who}: {v:g} outside {lim}; expected {unit}")
        if np.isfinite(w) and w < 0:
            raise ValueError(f"column 'weight', {who}: weight must be >= 0, got {w:g}")
        if pd.notna(w) and not np.isfinite(w):
            raise ValueError(f"column 'weight', {who}: weight must be finite or NaN")
    for name, d in [("pooled", pooled)] + [
        (f"subgroup_pooled[{g!r}]", d) for g, d in (subgroup_pooled or {}).items()
    ]:
        if d is None:
            continue
        if not isinstance(d, Mapping):
            raise ValueError(f"{name} must be a dict")
        miss = [k for k in ("estimate", "ci_low", "ci_high") if k not in d]
        if miss:
            raise ValueError(f"{name} is missing key(s) {miss}")
        e, lo, hi = (float(d[k]) for k in ("estimate", "ci_low", "ci_high"))
        if not all(np.isfinite([e, lo, hi])):
            raise ValueError(f"{name}: estimate/ci_low/ci_high must be finite")
        if not lo <= e <= hi:
            raise ValueError(f"{name}: need ci_low <= estimate <= ci_high, got {lo:g}, {e:g}, {hi:g}")
        if scale == "ratio" and lo <= 0:
            raise ValueError(f"{name}: ratio scale needs values > 0")
        pl, ph = float(d.get("pi_low", np.nan) or np.nan), float(d.get("pi_high", np.nan) or np.nan)
        if np.isfinite(pl) and np.isfinite(ph) and pl > ph:
            raise ValueError(f"{name}: pi_low ({pl:g}) > pi_high ({ph:g})")
    if subgroup_pooled and group_col is None:
        raise ValueError("subgroup_pooled given but group_col is None")
    return df, two_arm


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

    Returns the :class:`~matplotlib.figure.Figure`.
    """
    df, two_arm = _validate_forest(studies, scale, pooled, group_col, subgroup_pooled)
    with plt.rc_context(_RC):
        return _forest(df, two_arm, pooled, scale=scale, xlabel=xlabel, title=title,
                       heterogeneity=heterogeneity, group_col=group_col,
                       subgroup_pooled=dict(subgroup_pooled or {}), ax=ax,
                       show_weights=show_weights, ref_line=ref_line, xlim=xlim,
                       labels_arms=labels_arms, favours=favours, est_label=est_label)


def _as_lines(h) -> list[str]:
    if h is None:
        return []
    if isinstance(h, str):
        return [h] if h.strip() else []
    return [str(x) for x in h if str(x).strip()]


def _pooled_vals(d):
    e, lo, hi = (float(d[k]) for k in ("estimate", "ci_low", "ci_high"))
    pl = d.get("pi_low", np.nan)
    ph = d.get("pi_high", np.nan)
    pl = float(pl) if pl is not None else np.nan
    ph = float(ph) if ph is not None else np.nan
    return e, lo, hi, pl, ph


def _forest(df, two_arm, pooled, *, scale, xlabel, title, heterogeneity, group_col,
            subgroup_pooled, ax, show_weights, ref_line, xlim, labels_arms, favours, est_label):
    weights = df["weight"].to_numpy(float)
    has_w = bool(show_weights and np.isfinite(weights).any())
    grouped = group_col is not None
    indent = 0.12 if grouped else 0.0

    # ---------------- rows ----------------
    rows: list[dict] = []

    def add_pooled_rows(d, kind, default_label, het, wsum):
        e, lo, hi, pl, ph = _pooled_vals(d)
        rows.append(dict(kind=kind, label=str(d.get("label") or default_label),
                         est=e, lo=lo, hi=hi, wsum=wsum))
        if np.isfinite(pl) and np.isfinite(ph):
            rows.append(dict(kind="pi", label="Prediction interval", lo=pl, hi=ph))
        for h in _as_lines(het):
            rows.append(dict(kind="het", label=h))

    def study_rows(sub):
        for _, r in sub.iterrows():
            rows.append(dict(kind="study", label=str(r["label"]), est=r["estimate"],
                             lo=r["ci_low"], hi=r["ci_high"], w=r["weight"],
                             n=str(r["n_text"]) if not two_arm else None,
                             nt=str(r["n_text_t"]) if two_arm else None,
                             nc=str(r["n_text_c"]) if two_arm else None))

    def _nt(v):
        return "" if pd.isna(v) else str(v)

    if two_arm:
        df["n_text_t"] = df["n_text_t"].map(_nt)
        df["n_text_c"] = df["n_text_c"].map(_nt)
    else:
        df["n_text"] = df["n_text"].map(_nt)

    if grouped:
        groups = list(dict.fromkeys(df[group_col].tolist()))
        unknown = [g for g in subgroup_pooled if g not in groups]
        if unknown:
            raise ValueError(f"subgroup_pooled has group(s) {unknown} not present in column {group_col!r}")
        for gi, g in enumerate(groups):
            if gi > 0:
                rows.append(dict(kind="blank"))
            rows.append(dict(kind="group", label=str(g)))
            sub = df[df[group_col] == g]
            study_rows(sub)
            if g in subgroup_pooled:
                d = subgroup_pooled[g]
                ws = sub["weight"].to_numpy(float)
                add_pooled_rows(d, "subtotal", "Subtotal", d.get("heterogeneity"),
                                np.nansum(ws) if np.isfinite(ws).any() else np.nan)
    else:
        study_rows(df)
    if pooled is not None or heterogeneity:
        rows.append(dict(kind="blank"))
    if pooled is not None:
        add_pooled_rows(pooled, "pooled", "Pooled estimate", None,
                        np.nansum(weights) if np.isfinite(weights).any() else np.nan)
    for h in _as_lines(heterogeneity):
        rows.append(dict(kind="het", label=h))
    # drop a trailing blank row (e.g. heterogeneity only)
    while rows and rows[-1]["kind"] == "blank":
        rows.pop()

    # ---------------- texts of the right-hand columns ----------------
    for r in rows:
        if r["kind"] in ("study", "pooled", "subtotal"):
            if np.isfinite(r["est"]):
                r["etext"], r["citext"] = _fmt_est(scale, r["est"], r["lo"], r["hi"])
            else:
                r["etext"], r["citext"] = "Not estimable", ""
            w = r.get("w", r.get("wsum"))
            r["wtext"] = (f"{w:.1f}%" if np.isfinite(w) else "") if w is not None else ""
        elif r["kind"] == "pi":
            r["etext"], r["citext"] = "", _fmt_ci_only(scale, r["lo"], r["hi"])

    bold_kinds = ("pooled", "subtotal", "group")
    est_label = est_label or {"proportion": "Proportion [95% CI]", "ratio": "Ratio [95% CI]",
                              "difference": "Difference, pp [95% CI]"}[scale]
    if two_arm:
        arm_t, arm_c = labels_arms if labels_arms else ("Treatment", "Control")
        n_headers = [str(arm_t), str(arm_c)]
        n_keys = ["nt", "nc"]
    else:
        n_headers = ["Events/N"]
        n_keys = ["n"]

    # ---------------- column widths (inches) ----------------
    GAP = 0.18
    n_ws = []
    for key, hdr in zip(n_keys, n_headers):
        vals = [_text_w(r[key]) for r in rows if r["kind"] == "study"]
        # arm names are truncated to a sane width
        # long arm names wrap (at most 2 lines) rather than widen the column much
        hw = max([_text_w(w, weight="bold") for w in hdr.split()] + [0.0])
        n_ws.append(max([_text_w("Events/N")] + vals + [min(max(hw, _text_w(hdr, weight="bold") / 2 + 0.1), 1.3),
                                                       min(_text_w(hdr, weight="bold"), 0.9)]))
    arm_lines = []
    if two_arm:
        for hdr, nw in zip(n_headers, n_ws):
            ls = _wrap(hdr, nw, size=FS, weight="bold")
            if len(ls) > 2:
                ls = [ls[0], _truncate(" ".join(ls[1:]), nw, weight="bold")]
            arm_lines.append(ls)
    e_w = max([_text_w(r["etext"], weight="bold" if r["kind"] in bold_kinds else "normal")
               for r in rows if r["kind"] in ("study", "pooled", "subtotal") and r["citext"]] + [0.0])
    ne_w = max([_text_w(r["etext"], style="italic") for r in rows
                if r["kind"] in ("study", "pooled", "subtotal") and not r["citext"]] + [0.0])
    ci_w = max([_text_w(r["citext"], weight="bold" if r["kind"] in bold_kinds else "normal")
                for r in rows if r.get("citext")] + [0.0])
    CI_GAP = 0.05
    est_col = max(e_w + CI_GAP + ci_w, ne_w, _text_w(est_label, weight="bold"))
    if e_w + CI_GAP + ci_w < est_col:  # centre the split point under a wider header
        e_w += (est_col - (e_w + CI_GAP + ci_w)) / 2
    w_col = max(_text_w("Weight", weight="bold"), _text_w("100.0%", weight="bold")) if has_w else 0.0

    fixed = sum(n_ws) + GAP * len(n_ws) + GAP + est_col + (GAP + w_col if has_w else 0.0) + GAP
    avail = FIG_W - 2 * MARGIN - fixed  # label column + panel
    label_need = max(
        [_text_w(r["label"]) + indent for r in rows if r["kind"] == "study"]
        + [_text_w(r["label"], weight="bold") for r in rows if r["kind"] in bold_kinds]
        + [_text_w("Study", weight="bold")]
    )
    PANEL_MIN, PANEL_MAX, LABEL_MAX = 2.2, 4.0, 2.9
    panel_w = min(PANEL_MAX, max(PANEL_MIN, avail - min(label_need, LABEL_MAX)))
    label_w = avail - panel_w
    if label_w < 1.0:  # very wide n/estimate columns: shrink the panel, not the labels
        panel_w = max(1.5, avail - 1.0)
        label_w = avail - panel_w
    if ax is not None:  # the caller's axes is the panel; columns go around it
        panel_w = ax.get_position().width * ax.figure.get_figwidth()

    # x positions relative to panel left (negative) and panel right (positive)
    x_label = -(label_w + GAP + sum(n_ws) + GAP * len(n_ws))
    n_centres = []
    x = x_label + label_w + GAP
    for nw in n_ws:
        n_centres.append(x + nw / 2)
        x += nw + GAP
    x_est_split = GAP + e_w  # estimate right-aligned here, CI left-aligned after
    x_est_centre = GAP + est_col / 2
    x_ci = x_est_split + CI_GAP
    x_ne = GAP  # "Not estimable" left-aligned
    x_w_right = GAP + est_col + GAP + w_col

    # truncate / wrap left-column texts.  Heterogeneity lines may run into the
    # (otherwise empty) panel area of their rows; the reference line then stops
    # above them.
    het_w_cols = label_w + GAP + sum(n_ws) + GAP * (len(n_ws) - 1)
    het_w = het_w_cols + GAP + panel_w - 0.1
    het_into_panel = False
    final_rows = []
    for r in rows:
        k = r["kind"]
        if k == "study":
            r["label_t"] = _truncate(r["label"], label_w - indent)
        elif k in bold_kinds:
            r["label_t"] = _truncate(r["label"], label_w, weight="bold")
        elif k == "pi":
            r["label_t"] = _truncate(r["label"], label_w, size=FS_SMALL, style="italic")
        if k == "het":
            lines = _wrap(r["label"], het_w, size=FS_SMALL)
            het_into_panel |= any(_text_w(ln, FS_SMALL) > het_w_cols for ln in lines)
            for ln in lines:
                final_rows.append(dict(kind="het", label_t=ln))
        else:
            final_rows.append(r)
    rows = final_rows
    for k in ("nt", "nc", "n"):
        for r in rows:
            if r.get(k) is not None:
                r[k] = _truncate(r[k], n_ws[n_keys.index(k)])

    n_rows = len(rows)
    ARM_LS = 0.78  # line spacing of the arm-name header lines (rows)
    header_lines = 1 + ARM_LS * max([len(ls) for ls in arm_lines] + [0])
    HEADER_H = 0.12 + ROW_H * header_lines
    TITLE_H = 0.4 if title else 0.0
    xlab_text = xlabel
    fav = None
    if favours is not False and scale in ("ratio", "difference"):
        if isinstance(favours, (tuple, list)) and len(favours) == 2:
            fav = (str(favours[0]), str(favours[1]))
        elif labels_arms:
            fav = (f"Favours {labels_arms[1]}", f"Favours {labels_arms[0]}")
    TICK_H = 0.30
    FAV_H = 0.22 if fav else 0.0
    XLAB_H = 0.24 if xlab_text else 0.0
    BOTTOM = TICK_H + FAV_H + XLAB_H + 0.12
    panel_h = n_rows * ROW_H
    fig_h = TITLE_H + 0.1 + HEADER_H + panel_h + BOTTOM

    # ---------------- figure / axes ----------------
    if ax is None:
        fig = _new_figure(FIG_W, fig_h)
        left_in = MARGIN - x_label
        ax = fig.add_axes((left_in / FIG_W, BOTTOM / fig_h, panel_w / FIG_W, panel_h / fig_h))
    else:
        fig = ax.figure
    ax.set_ylim(n_rows - 0.5, -0.5)
    for s in ("top", "right", "left"):
        ax.spines[s].set_visible(False)
    ax.set_yticks([])
    ax.patch.set_alpha(0)

    # x scale / limits / ticks
    all_x = []
    for r in rows:
        if r["kind"] in ("study", "pooled", "subtotal", "pi"):
            all_x += [r.get("lo", np.nan), r.get("hi", np.nan), r.get("est", np.nan)]
    all_x = [v for v in all_x if v is not None and np.isfinite(v)]
    if scale == "ratio":
        ax.set_xscale("log")
        lo, hi = xlim if xlim is not None else _nice_ratio_lim(all_x)
        ax.set_xlim(lo, hi)
        ax.xaxis.set_major_locator(ticker.FixedLocator(_ratio_ticks(lo, hi)))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(_ratio_label))
        ax.xaxis.set_minor_locator(ticker.NullLocator())
        ref = 1.0 if ref_line is None else ref_line
    elif scale == "proportion":
        lo, hi = xlim if xlim is not None else (0.0, 1.0)
        ax.set_xlim(lo, hi)
        ax.xaxis.set_major_locator(ticker.MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, p: f"{100 * v:.0f}%"))
        ref = None if ref_line is None else ref_line
    else:
        if xlim is not None:
            lo, hi = xlim
        else:
            vals = [100 * v for v in all_x] + [0.0]
            t = ticker.MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(min(vals), max(vals))
            lo, hi = t[0] / 100, t[-1] / 100
            if hi - lo <= 0:
                lo, hi = -0.1, 0.1
        ax.set_xlim(lo, hi)
        ax.xaxis.set_major_locator(ticker.MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, p: _num(100 * v, 0)))
        ref = 0.0 if ref_line is None else ref_line
    ax.tick_params(axis="x", labelsize=FS, labelfontfamily=FONT, labelcolor="black", color="black")
    x0, x1 = ax.get_xlim()

    if ref is not False and ref is not None and x0 <= float(ref) <= x1:
        y_end = n_rows - 0.5
        if het_into_panel:
            y_end = max(i for i, r in enumerate(rows) if r["kind"] != "het") + 0.5
        ax.add_line(Line2D([float(ref)] * 2, [-0.5, y_end], color=C_REF, lw=0.8, zorder=1,
                           gid="ref-line", clip_on=False))

    # transforms: x offsets in inches from the panel's left/right edge, y in rows
    def place(x_in, anchor):
        xa = 1.0 if anchor == "right" else 0.0
        return xa, blended_transform_factory(ax.transAxes, ax.transData) + ScaledTranslation(
            x_in, 0, fig.dpi_scale_trans)

    def put(x_in, y, s, anchor="left", ha="left", size=FS, weight="normal", style="normal", gid=None):
        if not s:
            return None
        xa, t = place(x_in, anchor)
        return ax.text(xa, y, s, transform=t, ha=ha, va="center_baseline", fontsize=size,
                       fontweight=weight, fontstyle=style, fontfamily=FONT, color="black",
                       clip_on=False, parse_math=False, gid=gid)

    # ---------------- header ----------------
    y_h = -0.5 - 0.06 / ROW_H - 0.5  # bottom header line centre (rows)
    put(x_label, y_h, "Study", weight="bold", gid="header")
    if two_arm:
        for c, ls in zip(n_centres, arm_lines):
            for j, ln in enumerate(ls):  # bottom-aligned above "Events/N"
                put(c, y_h - (len(ls) - j) * ARM_LS - 0.1, ln, ha="center", weight="bold", gid="header")
            put(c, y_h, "Events/N", ha="center", gid="header")
    else:
        put(n_centres[0], y_h, n_headers[0], ha="center", weight="bold", gid="header")
    put(x_est_centre, y_h, est_label, anchor="right", ha="center", weight="bold", gid="header")
    if has_w:
        put(x_w_right, y_h, "Weight", anchor="right", ha="right", weight="bold", gid="header")
    # rule under the header, from the label column to the last right column
    right_x = x_w_right if has_w else GAP + est_col
    pos = ax.get_position()
    fw = fig.get_figwidth()
    ax.add_line(Line2D([pos.x0 * fw + x_label, pos.x1 * fw + right_x], [-0.5, -0.5],
                       transform=blended_transform_factory(fig.dpi_scale_trans, ax.transData),
                       color="black", lw=0.6, clip_on=False, gid="header-rule"))
    if title:
        fig.text(MARGIN / fig.get_figwidth(), 1 - 0.22 / fig.get_figheight(), title,
                 fontsize=FS_TITLE, fontweight="bold", fontfamily=FONT, ha="left", va="center",
                 parse_math=False, gid="title")

    # ---------------- rows ----------------
    finite_w = weights[np.isfinite(weights)]
    wmax = finite_w.max() if finite_w.size and finite_w.max() > 0 else np.nan
    S_MIN, S_MAX, S_DEF = 4.0, 0.62 * ROW_H * 72, 7.0  # marker side in points
    sq_x, sq_y, sq_s = [], [], []
    half = 0.34  # diamond half height (rows)
    for y, r in enumerate(rows):
        k = r["kind"]
        if k == "study":
            put(x_label + indent, y, r["label_t"], gid="study-label")
            if two_arm:
                put(n_centres[0], y, r["nt"], ha="center", gid="n-text")
                put(n_centres[1], y, r["nc"], ha="center", gid="n-text")
            else:
                put(n_centres[0], y, r["n"], ha="center", gid="n-text")
            if np.isfinite(r["est"]):
                put(x_est_split, y, r["etext"], anchor="right", ha="right", gid="estimate")
                put(x_ci, y, r["citext"], anchor="right", ha="left", gid="ci")
                _ci_line(ax, r["lo"], r["hi"], y, x0, x1, color="black", lw=1.0)
                w = r["w"]
                if np.isfinite(w) and np.isfinite(wmax):
                    side = math.sqrt(S_MIN**2 + (S_MAX**2 - S_MIN**2) * w / wmax)
                else:
                    side = S_DEF
                sq_x.append(r["est"])
                sq_y.append(y)
                sq_s.append(side**2)
            else:
                put(x_ne, y, r["etext"], anchor="right", ha="left", style="italic", gid="not-estimable")
            if has_w:
                put(x_w_right, y, r["wtext"], anchor="right", ha="right", gid="weight")
        elif k == "group":
            put(x_label, y, r["label_t"], weight="bold", gid="group-header")
        elif k in ("pooled", "subtotal"):
            put(x_label, y, r["label_t"], weight="bold", gid=f"{k}-label")
            put(x_est_split, y, r["etext"], anchor="right", ha="right", weight="bold", gid=f"{k}-estimate")
            put(x_ci, y, r["citext"], anchor="right", ha="left", weight="bold", gid=f"{k}-ci")
            if has_w:
                put(x_w_right, y, r["wtext"], anchor="right", ha="right", weight="bold", gid=f"{k}-weight")
            e, lo, hi = r["est"], r["lo"], r["hi"]
            verts = [(lo, y), (e, y - half), (hi, y), (e, y + half)]
            ax.add_patch(Polygon(verts, closed=True,
                                 facecolor=C_DIAMOND if k == "pooled" else C_SUBDIAMOND,
                                 edgecolor="black", lw=0.8, zorder=3, clip_on=bool(lo < x0 or hi > x1),
                                 gid="pooled-diamond" if k == "pooled" else "subtotal-diamond"))
            if lo < x0 or hi > x1:
                _ci_line(ax, lo, hi, y, x0, x1, color="black", lw=0.8, only_arrows=True)
        elif k == "pi":
            put(x_label + 0.12, y, r["label_t"], size=FS_SMALL, style="italic", gid="pi-label")
            put(x_ci, y, r["citext"], anchor="right", ha="left", size=FS_SMALL, style="italic", gid="pi-ci")
            _ci_line(ax, r["lo"], r["hi"], y, x0, x1, color=C_PI, lw=2.2, caps=True,
                     gid="prediction-interval")
        elif k == "het":
            put(x_label, y, r["label_t"], size=FS_SMALL, gid="heterogeneity")
    if sq_x:
        # squares at the very edge (e.g. 100 %) must not be cut in half: no clipping,
        # estimates outside xlim are only marked by the CI arrow.
        keep = [i for i, v in enumerate(sq_x) if x0 <= v <= x1]
        ax.scatter([sq_x[i] for i in keep], [sq_y[i] for i in keep], s=[sq_s[i] for i in keep],
                   marker="s", color=C_SQUARE, edgecolors="none", zorder=4, gid="study-squares",
                   clip_on=False)

    # ---------------- below the axis ----------------
    y_fav = -(TICK_H + FAV_H / 2 - 0.02)
    if fav and ref is not False and ref is not None:
        tfav = blended_transform_factory(ax.transData, ax.transAxes) + ScaledTranslation(0, y_fav, fig.dpi_scale_trans)
        gap = 0.12
        # the line below the tick labels is free: the labels may extend beyond the panel
        room_l = _panel_frac_in(ax, fig, x0, float(ref), scale) - x_label - gap
        room_r = _panel_frac_in(ax, fig, float(ref), x1, scale) + right_x - gap
        lt = _truncate(fav[0], max(0.4, room_l - 0.2), size=FS_SMALL)
        rt = _truncate(fav[1], max(0.4, room_r - 0.2), size=FS_SMALL)
        ax.text(float(ref), 0, lt, transform=tfav + ScaledTranslation(-gap, 0, fig.dpi_scale_trans),
                ha="right", va="center", fontsize=FS_SMALL, fontfamily=FONT, clip_on=False,
                parse_math=False, gid="favours-left")
        ax.text(float(ref), 0, rt, transform=tfav + ScaledTranslation(gap, 0, fig.dpi_scale_trans),
                ha="left", va="center", fontsize=FS_SMALL, fontfamily=FONT, clip_on=False,
                parse_math=False, gid="favours-right")
    if xlab_text:
        y_xl = -(TICK_H + FAV_H + XLAB_H / 2)
        ax.text(0.5, 0, _truncate(xlab_text, panel_w + 2.0), transform=ax.transAxes
                + ScaledTranslation(0, y_xl, fig.dpi_scale_trans), ha="center", va="center",
                fontsize=FS, fontfamily=FONT, clip_on=False, parse_math=False, gid="xlabel")
    return fig


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


def _validate_dist(dist, scale, group_order):
    if scale not in _GROTTA:
        raise ValueError(f"scale must be one of {list(_GROTTA)}, got {scale!r}")
    grades = _GROTTA[scale]["grades"]
    if not isinstance(dist, pd.DataFrame):
        raise ValueError("dist must be a pandas DataFrame with columns group, grade, count")
    missing = [c for c in ("group", "grade", "count") if c not in dist.columns]
    if missing:
        raise ValueError(f"dist is missing required column(s) {missing}; got {list(dist.columns)}")
    if len(dist) == 0:
        raise ValueError("dist is empty: nothing to plot")
    df = dist.reset_index(drop=True)
    out = []
    for i, r in df.iterrows():
        g = r["group"]
        if pd.isna(g) or str(g).strip() == "":
            raise ValueError(f"column 'group', row {i}: group is empty")
        gr = _norm_grade(r["grade"], grades)
        if gr is None:
            raise ValueError(
                f"column 'grade', row {i} (group {g!r}): unknown {scale} grade {r['grade']!r}; "
                f"allowed: {', '.join(grades)}")
        c = pd.to_numeric(pd.Series([r["count"]]), errors="coerce").iloc[0]
        if pd.isna(c):
            raise ValueError(f"column 'count', row {i} (group {g!r}, grade {gr}): count "
                             f"{r['count']!r} is missing or not numeric")
        if c < 0:
            raise ValueError(f"column 'count', row {i} (group {g!r}, grade {gr}): negative count {c:g}")
        if not float(c).is_integer():
            raise ValueError(f"column 'count', row {i} (group {g!r}, grade {gr}): count {c:g} is not an integer")
        out.append((str(g), gr, int(c)))
    tidy = pd.DataFrame(out, columns=["group", "grade", "count"])
    dup = tidy.duplicated(["group", "grade"], keep=False)
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise ValueError(f"dist has duplicate rows for group {tidy['group'][i]!r}, grade {tidy['grade'][i]} (row {i})")
    groups = list(dict.fromkeys(tidy["group"]))
    if group_order is not None:
        go = [str(g) for g in group_order]
        unknown = [g for g in go if g not in groups]
        if unknown:
            raise ValueError(f"group_order has group(s) {unknown} that are not in dist (groups: {groups})")
        if len(set(go)) != len(go):
            raise ValueError("group_order contains duplicates")
        groups = go + [g for g in groups if g not in go]
    counts = {g: {gr: 0 for gr in grades} for g in groups}
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


def _grotta(groups, counts, *, scale, ax, annotate, title, cut, show_counts):
    spec = _GROTTA[scale]
    grades, colors, desc = spec["grades"], spec["colors"], spec["desc"]
    short = spec["short"]
    n_by = {g: sum(counts[g].values()) for g in groups}

    # ---------- horizontal layout (inches) ----------
    GAP = 0.15
    LABEL_MAX = 2.6
    glabels = {}
    for g in groups:
        suffix = f" (n = {n_by[g]})"
        glabels[g] = _truncate(g, max(0.6, LABEL_MAX - _text_w(suffix)) ) + suffix
    label_w = max(_text_w(s) for s in glabels.values())
    cut_texts = {}
    if cut is not None:
        ci = grades.index(cut)
        for g in groups:
            if scale == "mRS":
                fav = sum(counts[g][gr] for gr in grades[: ci + 1])
                cut_texts[g] = f"{short} {grades[0]}{NDASH}{cut}: {_pct(fav, n_by[g])}"
            else:
                fav = sum(counts[g][gr] for gr in grades[ci + 1:])
                cut_texts[g] = f"{short} {grades[ci + 1]}{NDASH}{grades[-1]}: {_pct(fav, n_by[g])}"
    right_w = max([_text_w(s) for s in cut_texts.values()] + [0.0])
    left_in = MARGIN + label_w + GAP
    panel_w = FIG_W - left_in - MARGIN - (GAP + right_w if right_w else 0.1)
    if ax is not None:  # fit segment labels to the caller's axes
        panel_w = ax.get_position().width * ax.figure.get_figwidth()

    # ---------- segment labels ----------
    BAR_H, LANE_H, BAR_GAP = 0.46, 0.24, 0.16
    PAD = 0.05
    seg_info = {}  # (g, grade) -> dict
    notes = []
    any_lane = False
    for g in groups:
        n = n_by[g]
        left = 0.0
        lane = []
        for gr in grades:
            c = counts[g][gr]
            frac = c / n
            info = dict(left=left, frac=frac, count=c, mode=None, text=None)
            seg_info[(g, gr)] = info
            left += frac
            if c == 0 or not annotate:
                continue
            w_in = frac * panel_w
            pct = _pct(c, n)
            two = f"{pct}\n({c})"
            if show_counts and _text_w(two) + 2 * PAD <= w_in:
                info.update(mode="in", text=two)
            elif _text_w(pct) + 2 * PAD <= w_in:
                info.update(mode="in", text=pct)
            elif 100 * frac >= MIN_LABEL_PCT:
                info.update(mode="lane", text=pct)
                lane.append(info)
            else:
                info.update(mode="note")
                notes.append((g, f"{short} {gr} {pct} ({c})"))
        # de-overlap the labels placed above the bar (1-D, left to right, then back)
        if lane:
            any_lane = True
            for it in lane:
                it["w"] = _text_w(it["text"]) / panel_w
                it["x"] = it["left"] + it["frac"] / 2 - it["w"] / 2  # left edge (fraction)
            sep = 0.08 / panel_w
            lo_b, hi_b = 0.0, 1.0
            lane[0]["x"] = max(lane[0]["x"], lo_b)
            for a, b in zip(lane, lane[1:]):
                b["x"] = max(b["x"], a["x"] + a["w"] + sep)
            if lane[-1]["x"] + lane[-1]["w"] > hi_b:
                lane[-1]["x"] = hi_b - lane[-1]["w"]
                for a, b in reversed(list(zip(lane, lane[1:]))):
                    a["x"] = min(a["x"], b["x"] - sep - a["w"])
            for it in lane:
                if it["x"] < lo_b - 1e-9:  # too crowded: fall back to the note
                    it["mode"] = "note"
                    gr = next(k[1] for k, v in seg_info.items() if v is it)
                    notes.append((g, f"{short} {gr} {_pct(it['count'], n)} ({it['count']})"))

    # ---------- legend (measured) ----------
    handles = [Patch(facecolor=colors[i], edgecolor="black", linewidth=0.5) for i in range(len(grades))]
    leg_labels = [f"{gr}  {desc[gr]}" for gr in grades]

    def make_legend(fig, ncol):
        return fig.legend(handles, leg_labels, ncols=ncol, loc="upper center", frameon=False,
                          title=spec["title"], title_fontproperties=_fp(FS, "bold"),
                          prop=_fp(FS_SMALL), handlelength=1.4, handleheight=1.0,
                          columnspacing=1.2, handletextpad=0.5, borderaxespad=0.0)

    tmp = _new_figure(FIG_W, 3.0)
    renderer = tmp.canvas.get_renderer()
    ncol = len(grades)
    while True:
        leg = make_legend(tmp, ncol)
        bb = leg.get_window_extent(renderer)
        if bb.width / tmp.dpi <= FIG_W - 2 * MARGIN or ncol <= 2:
            break
        leg.remove()
        ncol = math.ceil(len(grades) / math.ceil(len(grades) / ncol + 1)) if ncol > 4 else ncol - 1
    leg_h = bb.height / tmp.dpi

    # ---------- note lines ----------
    note_lines = []
    if notes:
        per_group: dict[str, list[str]] = {}
        for g, item in notes:
            per_group.setdefault(g, []).append(item)
        body = "; ".join(f"{g}: {', '.join(items)}" for g, items in per_group.items())
        note_lines = _wrap(f"Not labelled (< {MIN_LABEL_PCT:g}% or no room): {body}",
                           FIG_W - 2 * MARGIN, size=FS_SMALL)

    # ---------- vertical layout ----------
    TITLE_H = 0.4 if title else 0.0
    TOP = 0.12 + TITLE_H + leg_h + 0.18
    lane_h = LANE_H if any_lane else 0.0
    row_h = lane_h + BAR_H + BAR_GAP
    panel_h = len(groups) * row_h + 0.04
    AXIS_H = 0.42
    NOTE_H = 0.19 * len(note_lines)
    BOTTOM = AXIS_H + NOTE_H + 0.08
    fig_h = TOP + panel_h + BOTTOM

    if ax is None:
        fig = _new_figure(FIG_W, fig_h)
        ax = fig.add_axes((left_in / FIG_W, BOTTOM / fig_h, panel_w / FIG_W, panel_h / fig_h))
        own = True
    else:
        fig = ax.figure
        own = False
    ax.set_xlim(0, 1)
    ax.set_ylim(panel_h, 0)  # y in inches from the top of the panel
    for s in ("top", "right", "left"):
        ax.spines[s].set_visible(False)
    ax.set_yticks([])
    ax.patch.set_alpha(0)
    ax.xaxis.set_major_locator(ticker.MultipleLocator(0.2))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, p: f"{100 * v:.0f}%"))
    ax.tick_params(axis="x", labelsize=FS, labelfontfamily=FONT, labelcolor="black")
    ax.grid(False)

    def txt(x, y, s, *, transform=None, ha="center", size=FS, color="black", weight="normal", gid=None,
            va="center"):
        return ax.text(x, y, s, transform=transform or ax.transData, ha=ha, va=va, fontsize=size,
                       fontfamily=FONT, color=color, fontweight=weight, clip_on=False,
                       parse_math=False, gid=gid, linespacing=1.1)

    lab_t = ax.get_yaxis_transform() + ScaledTranslation(-GAP, 0, fig.dpi_scale_trans)
    right_t = ax.get_yaxis_transform() + ScaledTranslation(GAP, 0, fig.dpi_scale_trans)
    bounds = []
    for i, g in enumerate(groups):
        y_top = 0.02 + i * row_h + lane_h
        y_mid = y_top + BAR_H / 2
        txt(0, y_mid, glabels[g], transform=lab_t, ha="right", gid=f"grouplabel|{g}")
        for gi, gr in enumerate(grades):
            info = seg_info[(g, gr)]
            if info["count"] == 0:
                continue
            ax.add_patch(Rectangle((info["left"], y_top), info["frac"], BAR_H, facecolor=colors[gi],
                                   edgecolor="white", linewidth=0.8, gid=f"segment|{g}|{gr}"))
            if info["mode"] == "in":
                txt(info["left"] + info["frac"] / 2, y_mid, info["text"], color=_ink(colors[gi]),
                    gid=f"seglabel|{g}|{gr}")
            elif info["mode"] == "lane":
                xc = info["left"] + info["frac"] / 2
                xt = info["x"] + info["w"] / 2
                y_lab = y_top - lane_h / 2 - 0.02
                txt(xt, y_lab, info["text"], size=FS, gid=f"seglabel|{g}|{gr}")
                ax.add_line(Line2D([xc, xc], [y_top - 0.05, y_top], color="black", lw=0.6,
                                   clip_on=False))
        # outline of the whole bar
        ax.add_patch(Rectangle((0, y_top), 1, BAR_H, facecolor="none", edgecolor="black", lw=0.6,
                               zorder=3))
        if cut is not None:
            ci = grades.index(cut)
            xb = sum(seg_info[(g, gr)]["frac"] for gr in grades[: ci + 1])
            bounds.append((xb, y_top, y_top + BAR_H))
            txt(1, y_mid, cut_texts[g], transform=right_t, ha="left", gid=f"cutlabel|{g}")
    if bounds:
        xs, ys = [], []
        for xb, yt, yb in bounds:
            xs += [xb, xb]
            ys += [yt - 0.04, yb + 0.04]
        ax.add_line(Line2D(xs, ys, color="black", lw=1.3, ls=(0, (4, 2.5)), zorder=4, gid="cutoff-line",
                           clip_on=False))

    if own:
        leg = make_legend(fig, ncol)
        leg.set_bbox_to_anchor((0.5, 1 - (0.12 + TITLE_H) / fig_h), transform=fig.transFigure)
        if title:
            fig.text(MARGIN / FIG_W, 1 - 0.25 / fig_h, title, fontsize=FS_TITLE, fontweight="bold",
                     fontfamily=FONT, ha="left", va="center", parse_math=False, gid="title")
        for j, ln in enumerate(note_lines):
            fig.text(MARGIN / FIG_W, (BOTTOM - AXIS_H - 0.1 - 0.19 * j) / fig_h, ln, fontsize=FS_SMALL,
                     fontfamily=FONT, ha="left", va="center", parse_math=False, gid="note")
    else:
        ax.legend(handles, leg_labels, ncols=ncol, loc="lower center", bbox_to_anchor=(0.5, 1.0),
                  frameon=False, title=spec["title"], prop=_fp(FS_SMALL))
        if title:
            ax.set_title(title, fontsize=FS_TITLE, fontweight="bold", loc="left", pad=leg_h * 72 + 6)
        for j, ln in enumerate(note_lines):
            txt(0, 0, ln, ha="left", size=FS_SMALL, gid="note",
                transform=ax.transAxes + ScaledTranslation(-(label_w + GAP), -(AXIS_H + 0.1 + 0.19 * j),
                                                           fig.dpi_scale_trans))
    return fig
