"""Numbered figures and tables, cross-references and number formatting for the notebooks.

A figure or table is shown with a caption carrying a stable id; the build numbers
them in reading order across chapters and turns references to them into "Figure n" /
"Table n" links (an unknown id stops the build). A reference is written `@fig:id` /
`@tbl:id` in Python strings: `markdown()` and captions show it as a readable link,
"[Figure id](#fig-id)", so it reads well in a live notebook too (JupyterLab), and Markdown
cells write that link form directly.
"""

from __future__ import annotations

import html
import io
import math
import re

import pandas as pd
from markupsafe import escape

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
REF = re.compile(r"@(fig|tbl):([a-z0-9][a-z0-9-]*)")
_REF_WORD = {"fig": "Figure", "tbl": "Table"}


def readable_refs(text: str, *, as_html: bool = False) -> str:
    """'@fig:dmvo-forest' -> '[Figure dmvo-forest](#fig-dmvo-forest)' (Markdown) or the same
    as an <a> element: readable before the build numbers it, and resolved by the build."""
    def link(m: re.Match) -> str:
        label, href = f"{_REF_WORD[m.group(1)]} {m.group(2)}", f"#{m.group(1)}-{m.group(2)}"
        return f'<a class="evt-ref" href="{href}">{label}</a>' if as_html else f"[{label}]({href})"
    return REF.sub(link, text)


def _check_id(id: str) -> None:
    if not _ID.match(id):
        raise ValueError(f"figure/table id {id!r}: use lowercase letters, digits and '-'")


def _caption_html(kind: str, id: str, caption: str, notes: str | None) -> str:
    """Caption and notes as HTML: plain strings are escaped (a data string in a caption is
    text, never markup; a template's output, Markup, is already escaped), then references
    (@fig:id) become links the build numbers."""
    caption = readable_refs(str(escape(caption)), as_html=True)
    notes_html = (f'<span class="evt-notes">{readable_refs(str(escape(notes)), as_html=True)}</span>'
                  if notes else "")
    return (f'<div class="evt-caption" data-kind="{kind}" data-id="{id}">'
            f'<span class="evt-caption-text">{caption}</span>{notes_html}</div>')


# A figure is printed across the A4 text column of report.css (210 mm less 2 x 12 mm);
# Chromium shows a PNG at 96 px per inch at most. Its smallest text must print at
# MIN_PRINT_PT or more: the build stops before publishing a figure too small to read.
PRINT_WIDTH_IN = 7.32
CSS_PX_PER_IN = 96
MIN_PRINT_PT = 7.0
SMALLEST_TEXT_KEY = "evtreport smallest text pt"  # PNG text chunk, read by the PDF test


def figure(fig, id: str, caption: str, *, notes: str | None = None, dpi: int = 150) -> None:
    """Show a matplotlib figure as PNG followed by its caption, then close it."""
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    _check_id(id)
    smallest = smallest_text_pt(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight",
                metadata={"Software": None, SMALLEST_TEXT_KEY: f"{smallest:g}"})
    plt.close(fig)
    width_in = int.from_bytes(buf.getvalue()[16:20], "big") / dpi  # PNG header: width in px
    printed = smallest * printed_width_in(width_in, dpi) / width_in
    if printed < MIN_PRINT_PT:
        raise ValueError(f"figure {id!r}: its smallest text ({smallest:g} pt in a figure "
                         f"{width_in:.2f} in wide) prints at {printed:.1f} pt on A4, below "
                         f"{MIN_PRINT_PT:g} pt: draw the figure narrower or its text larger")
    display(Image(data=buf.getvalue(), format="png"))
    display({"text/html": _caption_html("figure", id, caption, notes),
             "text/plain": f"Figure [{id}]: {_strip_tags(readable_refs(caption))}"}, raw=True)


def printed_width_in(width_in: float, dpi: float) -> float:
    """Width in inches at which a PNG `width_in` wide saved at `dpi` is printed."""
    return min(PRINT_WIDTH_IN, width_in * dpi / CSS_PX_PER_IN)


def smallest_text_pt(fig) -> float:
    """Font size (pt) of the smallest visible, non-empty text in a matplotlib figure."""
    from matplotlib.text import Text

    fig.canvas.draw()  # tick labels get their text when drawn
    sizes = [t.get_fontsize() for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip()]
    return min(sizes, default=MIN_PRINT_PT)


def table(df: pd.DataFrame, id: str, caption: str, *, notes: str | None = None,
          index: bool = False, escape: bool = True, css_class: str = "") -> None:
    """Show a DataFrame as a captioned HTML table (caption above, as is usual for tables)."""
    from IPython.display import display

    _check_id(id)
    if df.empty:
        raise ValueError(f"table {id!r} is empty")
    body = df.to_html(index=index, escape=escape, na_rep="–", border=0,
                      classes=f"evt-table {css_class}".strip(), justify="left")
    display({"text/html": _caption_html("table", id, caption, notes) + body,
             "text/plain": f"Table [{id}]: {_strip_tags(readable_refs(caption))}\n"
                           f"{df.to_string(index=index)}"},
            raw=True)


def code_id(identifier: str) -> str:
    """An identifier (data row id, source id) as inline code that may wrap in a narrow
    table column: a line-break opportunity after each '.', '_' and '-'."""
    return "<code>" + re.sub(r"([._-])", r"\1<wbr>", html.escape(identifier)) + "</code>"


def markdown(text: str) -> None:
    """Show computed prose (numbers filled in from results) as Markdown."""
    from IPython.display import Markdown, display
    display(Markdown(readable_refs(text)))


def _strip_tags(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


# -- number formatting: percentages to one decimal, intervals in brackets ----------------------

def pct(p: float, digits: int = 1) -> str:
    """0.8636 -> '86.4%'."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return f"{100 * p:.{digits}f}%"


def pct_ci(est: float, low: float, high: float, digits: int = 1) -> str:
    """'86.4% [66.7–95.3]'."""
    if any(v is None or math.isnan(v) for v in (low, high)):
        return pct(est, digits)
    return f"{pct(est, digits)} [{100 * low:.{digits}f}–{100 * high:.{digits}f}]"


def num_ci(est: float, low: float, high: float, digits: int = 2) -> str:
    """'0.95 [0.79–1.15]' for ratios; negative numbers get a real minus sign."""
    def f(v):
        return f"{v:.{digits}f}".replace("-", "−")
    sep = " to " if (low < 0 or high < 0) else "–"
    return f"{f(est)} [{f(low)}{sep}{f(high)}]"


def count(events, total) -> str:
    """'19/22', or '–' when the count is not reported."""
    if events is None or total is None or pd.isna(events) or pd.isna(total):
        return "–" if total is None or pd.isna(total) else f"–/{int(total)}"
    return f"{int(events)}/{int(total)}"


def p_value(p: float) -> str:
    if p is None or math.isnan(p):
        return "–"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def effect(est: float, low: float, high: float, measure: str) -> str:
    """A two-arm effect as the report prints it: '0.95 [0.79–1.15]' for ratios,
    '−1.2 [−6.3 to 3.9] pp' for a risk difference (percentage points)."""
    if est is None or (isinstance(est, float) and math.isnan(est)):
        return "–"
    if measure == "RD":
        return num_ci(100 * est, 100 * low, 100 * high, digits=1) + " pp"
    return num_ci(est, low, high)


def no_wrap(text: str) -> str:
    """Keep '86.4% [66.7–95.3]' on one line in narrow table columns (no-break space after
    the estimate, word joiner after the dash)."""
    return text.replace("% [", "%\u00a0[").replace(" [", "\u00a0[").replace("–", "–\u2060")
