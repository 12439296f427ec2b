"""Tests for evtreport.plots: layout (no overlapping / clipped text), geometry
(markers, diamonds, segment widths), number formatting and input validation."""

from __future__ import annotations

import dataclasses
import io
import itertools
import math

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon, Rectangle
from matplotlib.text import Text

from evtreport import plots
from evtreport.plots import forest_plot, grotta_bar, save_figure

Z = 1.959963984540054


def wilson(x: int, n: int) -> tuple[float, float, float]:
    p = x / n
    d = 1 + Z**2 / n
    c = (p + Z**2 / (2 * n)) / d
    h = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n * n)) / d
    return p, max(0.0, c - h), min(1.0, c + h)


REAL = [("ICASS-M1 series 2022", 21, 22), ("Lee 2018", 76, 99), ("Jia 2018", 45, 47), ("Dobrocky", 7, 10)]
LONG = "Multicenter Randomized Clinical Trial of Endovascular Treatment for Acute Ischemic Stroke in the Netherlands 2015"


def make_studies(k: int, *, long_label=True, nan_est_row=None, weights=True) -> pd.DataFrame:
    rng = np.random.default_rng(1234 + k)
    rows = []
    for i in range(k):
        if i < len(REAL):
            lab, x, n = REAL[i]
        else:
            n = int(rng.integers(8, 250))
            x = int(rng.integers(0, n + 1))
            lab = f"Study {i + 1} et al. {1995 + i}"
        if long_label and i == min(1, k - 1):
            lab = LONG
        p, lo, hi = wilson(x, n)
        rows.append(dict(label=lab, n_text=f"{x}/{n}", estimate=p, ci_low=lo, ci_high=hi, weight=float(n)))
    df = pd.DataFrame(rows)
    df["weight"] = 100 * df["weight"] / df["weight"].sum() if weights else np.nan
    if nan_est_row is not None:
        df.loc[nan_est_row, ["estimate", "ci_low", "ci_high"]] = np.nan
    return df


POOLED = dict(label="Random-effects model", estimate=0.86, ci_low=0.70, ci_high=0.94, pi_low=0.35, pi_high=0.99)
HET = "Heterogeneity: τ² = 0.12; I² = 45% (Q = 12.3, df = 6, p = 0.06)"


# --------------------------------------------------------------------------- helpers
def visible_texts(fig) -> list[Text]:
    """All visible, non-empty Text artists that are actually drawn."""
    fig.canvas.draw()
    locs, lims = {}, {}
    for ax in fig.axes:
        for tk in ax.xaxis.majorTicks + ax.xaxis.minorTicks:
            locs[id(tk.label1)] = tk.get_loc()
            lims[id(tk.label1)] = sorted(ax.get_xlim())
    out = []
    for t in fig.findobj(Text):
        if not (t.get_visible() and t.get_text().strip()):
            continue
        # tick labels of ticks outside the view interval exist but are not drawn
        if id(t) in locs:
            x0, x1 = lims[id(t)]
            if not (x0 - 1e-9 <= locs[id(t)] <= x1 + 1e-9):
                continue
        out.append(t)
    return out


def assert_no_overlap_and_inside(fig):
    texts = visible_texts(fig)
    assert texts, "no text drawn?"
    r = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(r)) for t in texts]
    W, H = fig.canvas.get_width_height()
    for s, b in boxes:
        assert b.x0 >= 0 and b.y0 >= 0 and b.x1 <= W and b.y1 <= H, f"text {s!r} outside figure: {b}"
    clashes = [(s1, s2) for (s1, b1), (s2, b2) in itertools.combinations(boxes, 2) if b1.overlaps(b2)]
    assert not clashes, f"overlapping texts: {clashes[:5]}"
    return texts


def by_gid(fig, cls, gid):
    return [a for a in fig.findobj(cls) if a.get_gid() == gid]


def texts_gid(fig, gid):
    return [t.get_text() for t in fig.findobj(Text) if t.get_gid() == gid]


# --------------------------------------------------------------------------- forest
@pytest.mark.parametrize("k", [1, 2, 10, 40])
def test_forest_layout_geometry(k):
    df = make_studies(k, nan_est_row=(k - 1 if k >= 10 else None))
    fig = forest_plot(df, POOLED, heterogeneity=HET, xlabel="Proportion with mRS 0–2")
    assert fig.get_figwidth() == pytest.approx(plots.FIG_W)
    assert_no_overlap_and_inside(fig)
    # one square per study with an estimate
    sq = by_gid(fig, PathCollection, "study-squares")
    assert len(sq) == 1
    assert len(sq[0].get_offsets()) == int(df["estimate"].notna().sum())
    np.testing.assert_allclose(np.asarray(sq[0].get_offsets())[:, 0], df["estimate"].dropna().to_numpy())
    # pooled diamond spans exactly the pooled CI, apex at the estimate
    (dia,) = by_gid(fig, Polygon, "pooled-diamond")
    xs = dia.get_xy()[:, 0]
    assert xs.min() == pytest.approx(POOLED["ci_low"])
    assert xs.max() == pytest.approx(POOLED["ci_high"])
    assert sorted(set(np.round(xs, 12))) == pytest.approx(sorted({0.70, 0.86, 0.94}))
    # prediction interval line drawn with its limits
    (pi,) = by_gid(fig, Line2D, "prediction-interval")
    assert tuple(pi.get_xdata()) == pytest.approx((0.35, 0.99))
    # long label truncated with an ellipsis, others intact
    labels = texts_gid(fig, "study-label")
    assert len(labels) == k
    if k > 1:
        assert any(s.endswith("…") and LONG.startswith(s[:-1]) for s in labels)
    assert "Not estimable" in texts_gid(fig, "not-estimable") or k < 10
    assert texts_gid(fig, "heterogeneity")[0].startswith("Heterogeneity")
    plt.close("all")


def test_forest_height_grows_with_k():
    heights = [forest_plot(make_studies(k), POOLED, heterogeneity=HET).get_figheight() for k in (1, 2, 10, 40)]
    assert all(a < b for a, b in zip(heights, heights[1:])), heights
    # fixed row height: 30 more studies add 30 rows
    assert heights[3] - heights[2] == pytest.approx(30 * plots.ROW_H)


def test_forest_text_values_wilson():
    df = make_studies(4, long_label=False)
    fig = forest_plot(df, POOLED)
    est, ci = texts_gid(fig, "estimate"), texts_gid(fig, "ci")
    for (lab, x, n), e, c in zip(REAL, est, ci):
        p, lo, hi = wilson(x, n)
        assert e == f"{100 * p:.1f}%"
        assert c == f"[{100 * lo:.1f}–{100 * hi:.1f}]"
    assert est[0] == "95.5%" and texts_gid(fig, "n-text")[0] == "21/22"
    assert texts_gid(fig, "pooled-estimate") == ["86.0%"]
    assert texts_gid(fig, "pooled-ci") == ["[70.0–94.0]"]
    w = texts_gid(fig, "weight")
    assert w == [f"{v:.1f}%" for v in df["weight"]]
    # proportion axis: 0-100 %
    ax = fig.axes[0]
    assert ax.get_xlim() == (0.0, 1.0)
    assert ax.get_xscale() == "linear"


def test_forest_all_nan_weights_hide_column():
    df = make_studies(3, weights=False)
    fig = forest_plot(df, POOLED)
    assert "Weight" not in [t.get_text() for t in fig.findobj(Text)]
    assert texts_gid(fig, "weight") == []
    sizes = by_gid(fig, PathCollection, "study-squares")[0].get_sizes()
    assert len(set(sizes)) == 1  # default marker size
    assert_no_overlap_and_inside(fig)


def test_forest_show_weights_false_and_off_scale_estimate():
    df = make_studies(5, long_label=False)
    df.loc[4, ["n_text", "estimate", "ci_low", "ci_high"]] = ["4/80", *wilson(4, 80)]
    fig = forest_plot(df, POOLED, xlim=(0.4, 1.0), show_weights=False, ref_line=0.5)
    assert "Weight" not in [t.get_text() for t in fig.findobj(Text)]
    # 5 % lies left of xlim: no square, an arrow at the left edge instead
    offs = by_gid(fig, PathCollection, "study-squares")[0].get_offsets()
    assert len(offs) == 4
    arrows = by_gid(fig, Line2D, "ci-arrow")
    # one left arrow at the axis edge per CI (and the prediction interval, 0.35) that extends
    # below 0.4, none on the right
    n_left = int((df["ci_low"] < 0.4).sum()) + 1
    assert [tuple(a.get_xdata()) for a in arrows] == [(0.4,)] * n_left
    assert 4 in [round(a.get_ydata()[0]) for a in arrows]
    assert texts_gid(fig, "estimate")[4] == "5.0%"
    (ref,) = by_gid(fig, Line2D, "ref-line")
    assert tuple(ref.get_xdata()) == (0.5, 0.5)
    assert_no_overlap_and_inside(fig)


def two_arm_df():
    return pd.DataFrame(dict(
        label=["MR CLEAN-MED", "ESCAPE-MeVO", "DISTAL", "Zero-event study", "Tiny study"],
        n_text_t=["106/255", "92/255", "101/271", "0/12", "3/9"],
        n_text_c=["118/274", "101/274", "110/272", "0/11", "1/10"],
        estimate=[0.95, 0.92, 0.93, np.nan, 3.1],
        ci_low=[0.79, 0.75, 0.77, np.nan, 0.4],
        ci_high=[1.15, 1.13, 1.12, np.nan, 240.0],
        weight=[35, 33, 30, np.nan, 2],
        design=["RCT", "RCT", "RCT", "Observational", "Observational"],
    ))


def test_forest_ratio_scale_two_arm_subgroups():
    df = two_arm_df()
    fig = forest_plot(
        df, dict(estimate=0.94, ci_low=0.83, ci_high=1.06, pi_low=0.7, pi_high=1.3), scale="ratio",
        labels_arms=("EVT", "Medical"), group_col="design",
        subgroup_pooled={"RCT": dict(estimate=0.93, ci_low=0.83, ci_high=1.04, heterogeneity="I² = 0%")},
        heterogeneity=[HET, "Test for subgroup differences: p = 0.29"], xlabel="Risk ratio", title="mRS 0–2")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    (ref,) = by_gid(fig, Line2D, "ref-line")
    assert tuple(ref.get_xdata()) == (1.0, 1.0)
    alltext = [t.get_text() for t in fig.findobj(Text)]
    for s in ("EVT", "Medical", "Favours EVT", "Favours Medical", "RCT", "Observational", "mRS 0–2"):
        assert s in [a.strip() for a in alltext], s
    assert texts_gid(fig, "estimate")[0] == "0.95" and texts_gid(fig, "ci")[0] == "[0.79–1.15]"
    assert len(by_gid(fig, Polygon, "subtotal-diamond")) == 1
    assert len(by_gid(fig, PathCollection, "study-squares")[0].get_offsets()) == 4
    # CI beyond the axis limit (240 > 100) ends in an arrow
    assert ax.get_xlim()[1] == pytest.approx(100)
    assert len(by_gid(fig, Line2D, "ci-arrow")) == 1
    assert_no_overlap_and_inside(fig)


def test_forest_difference_scale():
    df = two_arm_df().drop(columns="design")
    df["estimate"] = [-0.015, -0.03, 0.01, np.nan, 0.2]
    df["ci_low"] = [-0.101, -0.12, -0.07, np.nan, -0.3]
    df["ci_high"] = [0.071, 0.06, 0.09, np.nan, 0.7]
    fig = forest_plot(df, dict(estimate=-0.01, ci_low=-0.06, ci_high=0.04), scale="difference",
                      labels_arms=("EVT", "Best medical treatment"), xlim=(-0.3, 0.3))
    ax = fig.axes[0]
    assert ax.get_xscale() == "linear"
    (ref,) = by_gid(fig, Line2D, "ref-line")
    assert tuple(ref.get_xdata()) == (0.0, 0.0)
    assert texts_gid(fig, "estimate")[0] == "−1.5"
    assert texts_gid(fig, "ci")[0] == "[−10.1 to 7.1]"
    assert len(by_gid(fig, Line2D, "ci-arrow")) == 1  # 0.7 > xlim 0.3
    assert_no_overlap_and_inside(fig)


@pytest.mark.parametrize(
    "mutate, pattern",
    [
        (lambda d: d.drop(columns="ci_low"), r"missing required column.*ci_low"),
        (lambda d: d.drop(columns="n_text"), r"n_text"),
        (lambda d: d.assign(ci_low=d["ci_low"].where(d.index != 2, 0.99)),
         r"ci_low.*row 2 \('Jia 2018'\).*ci_low \(0\.99\) > estimate"),
        (lambda d: d.assign(ci_high=d["ci_high"].where(d.index != 1, 0.5)), r"ci_high.*row 1 \('Lee 2018'\)"),
        (lambda d: d.assign(estimate=d["estimate"].astype(object).where(d.index != 3, "n/a")),
         r"estimate.*row 3 \('Dobrocky'\).*not numeric"),
        (lambda d: d.assign(weight=d["weight"].where(d.index != 0, -1.0)), r"weight.*row 0"),
        (lambda d: d.assign(ci_low=d["ci_low"].where(d.index != 0, np.nan)), r"ci_low.*row 0.*missing"),
        (lambda d: d.assign(estimate=d["estimate"] * 100, ci_low=d["ci_low"] * 100, ci_high=d["ci_high"] * 100),
         r"estimate.*row 0.*outside"),
        (lambda d: d.iloc[0:0], r"empty"),
    ],
)
def test_forest_invalid_input(mutate, pattern):
    df = make_studies(4, long_label=False)
    with pytest.raises(ValueError, match=pattern):
        forest_plot(mutate(df), POOLED)


def test_forest_invalid_pooled_and_scale():
    df = make_studies(3, long_label=False)
    with pytest.raises(ValueError, match=r"pooled.*ci_low <= estimate"):
        forest_plot(df, dict(estimate=0.5, ci_low=0.6, ci_high=0.9))
    with pytest.raises(ValueError, match=r"pooled is missing key.*ci_high"):
        forest_plot(df, dict(estimate=0.5, ci_low=0.4))
    with pytest.raises(ValueError, match=r"scale"):
        forest_plot(df, POOLED, scale="odds")
    with pytest.raises(ValueError, match=r"ratio scale needs values > 0"):
        forest_plot(df.assign(ci_low=0.0), None, scale="ratio")


def test_forest_prediction_interval_bounds_of_zero_are_checked():
    # a bound of 0.0 is a value, not "missing": (0.1, 0.0) is reversed
    with pytest.raises(ValueError, match=r"pooled: pi_low \(0.1\) > pi_high \(0\)"):
        forest_plot(make_studies(3), dict(estimate=0.5, ci_low=0.4, ci_high=0.6, pi_low=0.1, pi_high=0.0))


# --------------------------------------------------------------------------- ForestSpec
def _png(fig) -> bytes:
    b = io.BytesIO()
    save_figure(fig, b, format="png", dpi=60)
    return b.getvalue()


def hand_spec(**kw) -> plots.ForestSpec:
    """two_arm_df() grouped by design with an RCT subtotal, written as records."""
    df = two_arm_df()
    studies = tuple(plots.ForestStudy(r.label, r.estimate, r.ci_low, r.ci_high, (r.n_text_t, r.n_text_c),
                                      r.weight, r.design) for r in df.itertuples())
    sub = plots.ForestPooled(0.93, 0.83, 1.04, heterogeneity=("I² = 0%",), group="RCT")
    pooled = plots.ForestPooled(0.94, 0.83, 1.06, label="Random-effects model", pi_low=0.7, pi_high=1.3)
    return plots.ForestSpec(studies, "ratio", pooled, (sub,), (HET,), arms=("EVT", "Medical"), **kw)


def test_forest_figure_from_records_equals_forest_plot_from_frame():
    fig_frame = forest_plot(
        two_arm_df(), dict(label="Random-effects model", estimate=0.94, ci_low=0.83, ci_high=1.06,
                           pi_low=0.7, pi_high=1.3),
        scale="ratio", group_col="design", labels_arms=("EVT", "Medical"), heterogeneity=HET,
        subgroup_pooled={"RCT": dict(estimate=0.93, ci_low=0.83, ci_high=1.04, heterogeneity="I² = 0%")},
        title="mRS 0–2", xlabel="Risk ratio")
    fig_spec = plots.forest_figure(hand_spec(title="mRS 0–2", xlabel="Risk ratio"))
    assert _png(fig_spec) == _png(fig_frame)
    assert texts_gid(fig_spec, "subtotal-label") == ["Subtotal"]
    assert texts_gid(fig_spec, "n-text")[:2] == ["106/255", "118/274"]


def test_forest_rows_in_drawing_order():
    rows = plots._forest_rows(hand_spec())
    kinds = [type(r).__name__.strip("_").removesuffix("Row") for r in rows]
    assert kinds == ["Group", "Study", "Study", "Study", "Diamond", "Note",
                     "Blank", "Group", "Study", "Study",
                     "Blank", "Diamond", "Interval", "Note"]
    assert [r.label for r in rows if isinstance(r, plots._GroupRow)] == ["RCT", "Observational"]
    subtotal, pooled = [r for r in rows if isinstance(r, plots._DiamondRow)]
    assert (subtotal.weight_text, pooled.weight_text) == ("98.0%", "100.0%")  # 35 + 33 + 30; all
    assert not subtotal.overall and pooled.overall


def test_forest_spec_is_frozen():
    spec = hand_spec()
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.scale = "proportion"
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.studies[0].estimate = 1.0


@pytest.mark.parametrize(
    "change, pattern",
    [
        (lambda s: dataclasses.replace(s, scale="odds"), r"scale must be one of"),
        (lambda s: dataclasses.replace(s, studies=()), r"studies is empty"),
        (lambda s: dataclasses.replace(s, studies=s.studies[:1] + (
            dataclasses.replace(s.studies[1], counts=("1/2",)),) + s.studies[2:]), r"same number of count texts"),
        (lambda s: dataclasses.replace(s, studies=s.studies[:2] + (
            dataclasses.replace(s.studies[2], group=None),) + s.studies[3:]),
         r"studies, row 2 \('DISTAL'\): group is None"),
        (lambda s: dataclasses.replace(s, studies=s.studies[:1] + (
            dataclasses.replace(s.studies[1], ci_low=0.95),) + s.studies[2:]),
         r"column 'ci_low', row 1 \('ESCAPE-MeVO'\): ci_low \(0.95\) > estimate \(0.92\)"),
        (lambda s: dataclasses.replace(s, subtotals=(dataclasses.replace(s.subtotals[0], group="Nope"),)),
         r"subtotals: group 'Nope' has no study"),
        (lambda s: dataclasses.replace(s, subtotals=s.subtotals * 2), r"more than one subtotal"),
        (lambda s: dataclasses.replace(s, pooled=dataclasses.replace(s.pooled, pi_low=2.0)),
         r"pooled: pi_low \(2\) > pi_high \(1.3\)"),
        (lambda s: dataclasses.replace(s, subtotals=(dataclasses.replace(s.subtotals[0], ci_low=0.0),)),
         r"subtotals\['RCT'\]: ratio scale needs values > 0"),
    ],
)
def test_forest_figure_invalid_spec(change, pattern):
    plots.forest_figure(hand_spec())  # the unchanged spec is valid
    with pytest.raises(ValueError, match=pattern):
        plots.forest_figure(change(hand_spec()))


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_deterministic_output_and_no_global_state(fmt, tmp_path):
    before = dict(plt.rcParams)
    n_figs = len(plt.get_fignums())
    out = {}
    for name, build in [("forest", lambda: forest_plot(make_studies(5), POOLED, heterogeneity=HET)),
                        ("grotta", lambda: grotta_bar(ICASS_MRS, cutoff=2))]:
        bufs = []
        for _ in range(2):
            b = io.BytesIO()
            save_figure(build(), b, format=fmt, dpi=72)
            bufs.append(b.getvalue())
        assert len(bufs[0]) > 1000
        assert bufs[0] == bufs[1], f"{name} {fmt} output differs between two identical builds"
        out[name] = bufs[0]
    assert out["forest"] != out["grotta"]
    assert dict(plt.rcParams) == before
    assert len(plt.get_fignums()) == n_figs  # figures are not registered with pyplot
    # saving to a path infers the format; file-like objects need format=
    save_figure(grotta_bar(ICASS_MRS), tmp_path / f"g.{fmt}")
    magic = {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}[fmt]
    assert (tmp_path / f"g.{fmt}").read_bytes().startswith(magic) and out["grotta"].startswith(magic)
    with pytest.raises(ValueError, match="format"):
        save_figure(grotta_bar(ICASS_MRS), io.BytesIO())


# --------------------------------------------------------------------------- Grotta
ICASS_MRS = pd.DataFrame(dict(group="ICASS-M1 series", grade=[0, 1, 2, 3, 4, 5, 6], count=[7, 6, 6, 2, 0, 0, 1]))
ICASS_TICI = pd.DataFrame(dict(group="ICASS-M1 series", grade=["0", "1", "2a", "2b", "3"], count=[1, 0, 0, 2, 19]))


def segments(fig):
    out = {}
    for p in fig.findobj(Rectangle):
        gid = p.get_gid() or ""
        if gid.startswith("segment|"):
            _, g, gr = gid.rsplit("|", 2)
            out[(g, gr)] = p
    return out


def seglabels(fig):
    return {tuple(t.get_gid().rsplit("|", 2)[1:]): t.get_text() for t in fig.findobj(Text)
            if (t.get_gid() or "").startswith("seglabel|")}


def test_grotta_icass_mrs():
    fig = grotta_bar(ICASS_MRS, cutoff=2)
    seg = segments(fig)
    counts = dict(zip(map(str, ICASS_MRS["grade"]), ICASS_MRS["count"]))
    g = "ICASS-M1 series"
    for gr, c in counts.items():
        if c == 0:
            assert (g, gr) not in seg  # missing grade: no segment ...
            assert (g, gr) not in seglabels(fig)  # ... and no label
        else:
            assert seg[(g, gr)].get_width() == pytest.approx(c / 22)
    assert sum(p.get_width() for p in seg.values()) == pytest.approx(1.0)
    # segments are contiguous, in grade order
    lefts = [seg[(g, gr)].get_x() for gr in "0123456" if (g, gr) in seg]
    assert lefts == sorted(lefts) and lefts[0] == 0
    lab = seglabels(fig)
    assert lab[(g, "0")] == "31.8%\n(7)"  # 7/22
    assert lab[(g, "1")].startswith("27.3%")  # 6/22
    assert lab[(g, "3")].startswith("9.1%")  # 2/22
    assert lab[(g, "6")].startswith("4.5%")  # 1/22, narrow -> placed above the bar
    assert texts_gid(fig, f"grouplabel|{g}") == ["ICASS-M1 series (n = 22)"]
    assert texts_gid(fig, f"cutlabel|{g}") == ["mRS 0–2: 86.4%"]
    (cut,) = by_gid(fig, Line2D, "cutoff-line")
    assert set(np.round(cut.get_xdata(), 12)) == {round(19 / 22, 12)}
    assert_no_overlap_and_inside(fig)


def test_grotta_mtici():
    fig = grotta_bar(ICASS_TICI, scale="mTICI", cutoff="2a")
    g = "ICASS-M1 series"
    seg, lab = segments(fig), seglabels(fig)
    assert set(seg) == {(g, "0"), (g, "2b"), (g, "3")}
    assert seg[(g, "3")].get_width() == pytest.approx(19 / 22)
    assert lab[(g, "3")] == "86.4%\n(19)"
    assert lab[(g, "2b")].startswith("9.1%")
    assert (g, "1") not in lab and (g, "2a") not in lab and (g, "2c") not in lab
    assert texts_gid(fig, f"cutlabel|{g}") == ["mTICI 2b–3: 95.5%"]
    # red (grade 0) -> green (grade 3)
    assert mcolors.to_hex(seg[(g, "0")].get_facecolor()) == plots.MTICI_COLORS[0].lower()
    assert mcolors.to_hex(seg[(g, "3")].get_facecolor()) == plots.MTICI_COLORS[-1].lower()
    assert_no_overlap_and_inside(fig)


def test_grotta_many_groups_narrow_segments_and_order():
    rows = []
    data = {
        "ICASS-M1 series": [7, 6, 6, 2, 0, 0, 1],
        "EVT arm of a hypothetical randomized trial with a rather long name": [30, 40, 45, 50, 40, 30, 55],
        "Medical": [20, 35, 40, 55, 50, 35, 60],
        "Crowded": [1, 2, 2, 2, 2, 1, 90],  # many narrow segments side by side
        "Tiny share": [1, 0, 0, 0, 0, 0, 60],  # 1.6 % -> note instead of a label
    }
    for g, cs in data.items():
        rows += [dict(group=g, grade=i, count=c) for i, c in enumerate(cs)]
    df = pd.DataFrame(rows)
    order = ["Medical", "ICASS-M1 series"]
    fig = grotta_bar(df, group_order=order, cutoff=2, title="mRS at 90 days")
    texts = assert_no_overlap_and_inside(fig)
    seg, lab = segments(fig), seglabels(fig)
    for g, cs in data.items():
        n = sum(cs)
        assert sum(seg[(g, str(i))].get_width() for i, c in enumerate(cs) if c) == pytest.approx(1.0)
        for i, c in enumerate(cs):
            if c:
                assert seg[(g, str(i))].get_width() == pytest.approx(c / n)
                if (g, str(i)) in lab:
                    assert lab[(g, str(i))].split("\n")[0] == f"{100 * c / n:.1f}%"
                else:  # unlabelled segments are listed in the note
                    assert f"{g}: " in " ".join(texts_gid(fig, "note"))
                    assert f"mRS {i} {100 * c / n:.1f}% ({c})" in " ".join(texts_gid(fig, "note"))
    assert ("Tiny share", "0") not in lab
    # group order: listed groups first (top = smallest y), then the rest in order of appearance
    ys = {g: seg[(g, "6")].get_y() for g in data}
    got = sorted(ys, key=ys.get)
    assert got == ["Medical", "ICASS-M1 series",
                   "EVT arm of a hypothetical randomized trial with a rather long name", "Crowded", "Tiny share"]
    assert any(t.get_text().endswith("(n = 290)") and "…" in t.get_text() for t in texts)


@pytest.mark.parametrize(
    "df, kw, pattern",
    [
        (ICASS_MRS.assign(count=[7, 6, 6, 2, 0, 0, -1]), {}, r"count.*row 6.*negative count"),
        (ICASS_MRS.assign(grade=[0, 1, 2, 3, 4, 5, 7]), {}, r"grade.*row 6.*unknown mRS grade 7"),
        (ICASS_TICI.assign(grade=["0", "1", "2", "2b", "3"]), {"scale": "mTICI"}, r"unknown mTICI grade '2'"),
        (ICASS_MRS.iloc[0:0], {}, r"empty"),
        (ICASS_MRS.drop(columns="count"), {}, r"missing required column.*count"),
        (ICASS_MRS.assign(count=[7, 6, 6, 2.5, 0, 0, 1]), {}, r"not an integer"),
        (ICASS_MRS.assign(count=0), {}, r"total count of 0"),
        (pd.concat([ICASS_MRS, ICASS_MRS.iloc[[0]]]), {}, r"duplicate"),
        (ICASS_MRS, {"scale": "NIHSS"}, r"scale"),
        (ICASS_MRS, {"group_order": ["Nope"]}, r"group_order.*Nope"),
        (ICASS_MRS, {"cutoff": 9}, r"cutoff"),
    ],
)
def test_grotta_invalid(df, kw, pattern):
    with pytest.raises(ValueError, match=pattern):
        grotta_bar(df, **kw)


# --------------------------------------------------------------------------- palettes
_CVD = {  # Machado et al. 2009, severity 1.0, linear RGB
    "protan": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deutan": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritan": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def _lab(lin):
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ np.clip(lin, 0, 1)
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("palette", [plots.MRS_COLORS, plots.MTICI_COLORS])
def test_palettes_colour_blind_distinguishable(palette):
    lin = [np.where((c := np.array(mcolors.to_rgb(h))) <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
           for h in palette]
    for name, m in [("normal", np.eye(3))] + list(_CVD.items()):
        labs = [_lab(np.asarray(m) @ c) for c in lin]
        dmin = min(np.linalg.norm(a - b) for a, b in itertools.combinations(labs, 2))
        assert dmin >= 15, f"{name}: two colours only ΔE={dmin:.1f} apart"


def test_backend_untouched():
    assert matplotlib.get_backend()  # importing plots must not switch backends


def test_overlap_checker_detects_overlap_and_clipping():
    """The layout checker used above must actually fail on bad layouts."""
    fig = plots._new_figure(4, 2)
    fig.text(0.1, 0.5, "overlapping text one")
    fig.text(0.15, 0.5, "overlapping text two")
    with pytest.raises(AssertionError, match="overlapping"):
        assert_no_overlap_and_inside(fig)
    fig = plots._new_figure(4, 2)
    fig.text(0.9, 0.5, "runs off the right edge")
    with pytest.raises(AssertionError, match="outside figure"):
        assert_no_overlap_and_inside(fig)


# --------------------------------------------------------------------------- RevMan rows, axis label

def test_forest_total_row_prints_the_summed_counts_under_the_diamond():
    df = two_arm_df().drop(columns="design").iloc[:3]
    fig = forest_plot(df, dict(estimate=0.93, ci_low=0.83, ci_high=1.04, counts=("299/781", "329/820")),
                      scale="ratio", labels_arms=("EVT", "Medical"))
    assert texts_gid(fig, "total-label") == ["Total"]
    assert texts_gid(fig, "total-n-text") == ["299/781", "329/820"]
    # the total row stands under the diamond (rows are drawn top to bottom: y grows downwards)
    (label,) = [t for t in fig.findobj(Text) if t.get_gid() == "total-label"]
    (pooled,) = [t for t in fig.findobj(Text) if t.get_gid() == "pooled-label"]
    assert label.get_position()[1] == pooled.get_position()[1] + 1
    assert_no_overlap_and_inside(fig)
    # without counts, no total row
    fig = forest_plot(df, dict(estimate=0.93, ci_low=0.83, ci_high=1.04), scale="ratio",
                      labels_arms=("EVT", "Medical"))
    assert texts_gid(fig, "total-label") == []


def test_forest_total_row_needs_one_text_per_count_column():
    df = two_arm_df().drop(columns="design").iloc[:3]
    with pytest.raises(ValueError, match="one text per count column"):
        forest_plot(df, dict(estimate=0.93, ci_low=0.83, ci_high=1.04, counts=("299/781",)),
                    scale="ratio", labels_arms=("EVT", "Medical"))


@pytest.mark.parametrize("scale, expected", [("proportion", "Proportion of patients"),
                                             ("ratio", "Ratio (log scale)")])
def test_every_forest_has_an_x_axis_label(scale, expected):
    df = make_studies(3) if scale == "proportion" else two_arm_df().drop(columns="design").iloc[:3]
    fig = forest_plot(df, None, scale=scale)
    assert texts_gid(fig, "xlabel") == [expected]
    fig = forest_plot(df, None, scale=scale, xlabel="Rate among treated patients")
    assert texts_gid(fig, "xlabel") == ["Rate among treated patients"]


def test_report_forests_carry_total_row_axis_label_and_overall_test():
    """The DMVO forest of death: RevMan's total row (summed arm counts, by hand from the data),
    the favours labels, the x-axis label, the heterogeneity line and the test for overall effect."""
    from evtreport import analyses, params
    from evtreport.data import load_dataset
    from evtreport.present import dmvo, icass

    b = analyses.run(load_dataset(), params.DEFAULTS)
    fig = dmvo.rct_forest(b, "mortality")
    # ESCAPE-MeVO 34/255 vs 23/275; DISTAL ≈42/271 vs ≈38/272 (from 15.5% and 14.0%)
    assert texts_gid(fig, "total-n-text") == ["≈76/526", "≈61/547"]
    assert texts_gid(fig, "xlabel") == ["Risk ratio, EVT vs medical (log scale)"]
    notes = texts_gid(fig, "heterogeneity")
    assert any(n.startswith("Heterogeneity: ") for n in notes)
    assert any(n.startswith("Test for overall effect: Z = ") for n in notes)
    alltext = {t.get_text() for t in fig.findobj(Text)}
    assert {"Favours EVT", "Favours medical"} <= alltext
    for fam in ("reperfusion", "favourable", "mortality"):
        assert texts_gid(icass.comparator_forest(b, fam), "xlabel"), fam
    plt.close("all")


# --------------------------------------------------------------------------- risk of bias

def test_rob_traffic_light_marks_each_judgement_by_colour_and_symbol():
    cells = [["low", "some concerns", "high"], ["some concerns", "low", "no information"]]
    fig = plots.rob_traffic_light(["Trial A: death", "Trial B: death"], ["D1", "D2", "Overall"], cells,
                                  levels=("low", "some concerns", "high"), domain_key=["D1: x", "D2: y"])
    marks = {t.get_gid(): t.get_text() for t in fig.findobj(Text) if (t.get_gid() or "").startswith("rob-")}
    assert marks == {"rob-0-0": "+", "rob-0-1": "−", "rob-0-2": "×", "rob-1-0": "−", "rob-1-1": "+",
                     "rob-1-2": "?"}
    fills = [mcolors.to_hex(line.get_markerfacecolor()) for line in fig.axes[0].lines if line.get_marker() == "o"]
    assert fills[:3] == [plots.ROB_COLORS["low"].lower(), plots.ROB_COLORS["some concerns"].lower(),
                         plots.ROB_COLORS["high"].lower()]
    assert_no_overlap_and_inside(fig)
    with pytest.raises(ValueError, match="not drawable"):
        plots.rob_traffic_light(["A"], ["D1"], [["probably low"]], levels=("low",))


def test_rob_summary_bars_stack_the_shares_to_the_whole_axis():
    shares = {"D1": {"low": 0.25, "some concerns": 0.75, "high": 0.0},
              "Overall": {"low": 0.0, "some concerns": 0.5, "high": 0.5}}
    fig = plots.rob_summary_bars({"Unweighted": shares, "Weighted": shares},
                                 levels=("low", "some concerns", "high"))
    assert len(fig.axes) == 2
    widths = sorted(round(p.get_width(), 6) for p in fig.axes[0].patches)
    assert widths == [0.25, 0.5, 0.5, 0.75]
    assert_no_overlap_and_inside(fig)


def test_rob_palette_is_colour_blind_distinguishable():
    test_palettes_colour_blind_distinguishable([plots.ROB_COLORS[k] for k in ("low", "some concerns", "high")])
