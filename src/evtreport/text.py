"""Computed prose: Jinja2 templates filled from analysis results, autoescaped.

Every sentence the report computes is a template under `text_templates/` rendered here;
data strings (source labels, quotations, notes) are escaped by this one path, so a
label holding markup is printed as text, never as a tag. Helpers used in templates:

    {{ n | number_word }}              3 -> "three" (one to ten), 12 -> "12"
    {{ n | plural("trial") }}          "one trial", "two trials", "12 trials"
    {{ items | join_and }}             ["A", "B", "C"] -> "A, B and C"
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import re

import jinja2
from markupsafe import Markup, escape

TEMPLATE_DIR = Path(__file__).with_name("text_templates")

_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def number_word(n: int, *, capital: bool = False) -> str:
    """Numbers from zero to ten in words, larger ones in digits (as style guides ask)."""
    n = int(n)
    word = _WORDS[n] if 0 <= n < len(_WORDS) else str(n)
    return word[:1].upper() + word[1:] if capital else word


def plural(n: int, singular: str, plural_form: str | None = None, *, words: bool = True,
           capital: bool = False) -> str:
    """'one trial', 'two trials', '12 series' (plural_form for irregular nouns)."""
    n = int(n)
    noun = singular if n == 1 else (plural_form or singular + "s")
    count = number_word(n, capital=capital) if words else str(n)
    return f"{count} {noun}"


def capital(text: str) -> str:
    """First letter upper-case ('mRS' and other words that start lower-case-upper stay)."""
    text = str(text)
    return text if text[1:2].isupper() else text[:1].upper() + text[1:]


def lower_first(text: str) -> str:
    """'Death by 90 days' -> 'death by 90 days', leaving 'mRS' and 'sICH' alone."""
    text = str(text)
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def join_and(items: Iterable[Any], conj: str = "and") -> str:
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conj} {items[-1]}"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])")


def md_escape(value: Any) -> Any:
    """A data value as literal Markdown text: backslash before the characters that make
    emphasis, code, links or table cells (HTML is escaped afterwards by autoescape). Values
    already marked safe (Markup, e.g. the output of another template) pass unchanged."""
    if isinstance(value, Markup) or value is None:
        return value
    return _MD_SPECIAL.sub(r"\\\1", str(value))


@lru_cache(maxsize=None)
def environment(directory: str = str(TEMPLATE_DIR), *, markdown: bool = True,
                block: bool = False) -> jinja2.Environment:
    """The template environment. ``markdown``: values are also escaped as Markdown (for
    text shown as Markdown; captions are HTML and need only HTML escaping). ``block``:
    templates laid out line by line (lists, paragraphs), so block tags eat their newline;
    inline templates keep it and their whitespace is collapsed to single spaces."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=True,                # every data string is escaped here, by construction
        undefined=jinja2.StrictUndefined,  # a missing value is an error, not an empty string
    # join_and escapes each item itself, so its result is marked safe (not escaped twice)
        trim_blocks=block, lstrip_blocks=block, keep_trailing_newline=False,
        finalize=md_escape if markdown else None)
    from . import display as fmt
    from .vocab import label, level_text, outcome_label
    env.globals.update(pct=fmt.pct, pct_ci=fmt.pct_ci, num_ci=fmt.num_ci, effect=fmt.effect,
                       count=fmt.count, label=label, level_text=level_text,
                       outcome_label=outcome_label, plural=plural, number_word=number_word)
    env.filters.update(number_word=number_word, plural=plural, cap=capital, lower_first=lower_first,
                       join_and=lambda items, conj="and": Markup(join_and(
                           [escape(md_escape(i)) for i in items], escape(conj))))
    return env


def render(name: str, /, *, markdown: bool | None = None, **context: Any) -> Markup:
    """Render template `name` with `context`; the result is safe text in which every value
    from the context was escaped. Names ending in '.block.j2' keep their line layout (Markdown
    lists and paragraphs); other templates give one paragraph. ``markdown=False`` for
    captions and other HTML text (values HTML-escaped only); it is the default for templates
    named '*.html.j2' (table cells)."""
    block = name.endswith(".block.j2")
    if markdown is None:
        markdown = not name.endswith(".html.j2")
    text = environment(str(TEMPLATE_DIR), markdown=markdown, block=block).get_template(name).render(**context)
    if block:
        return Markup(re.sub(r"\n{3,}", "\n\n", text).strip())
    return Markup(" ".join(text.split()))


def caption(name: str, /, **context: Any) -> Markup:
    """A caption (HTML) from a template."""
    return render(name, markdown=False, **context)


def show(name: str, /, **context: Any) -> None:
    """Render a template and display it in the notebook as Markdown."""
    from IPython.display import Markdown, display

    from .display import readable_refs
    display(Markdown(readable_refs(str(render(name, **context)))))
