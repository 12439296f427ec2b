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


def join_and(items: Iterable[Any], conj: str = "and") -> str:
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conj} {items[-1]}"


@lru_cache(maxsize=None)
def environment(directory: str = str(TEMPLATE_DIR)) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=True,                # every data string is escaped here, by construction
        undefined=jinja2.StrictUndefined,  # a missing value is an error, not an empty string
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    env.filters.update(number_word=number_word, plural=plural,
                       join_and=lambda items, conj="and": join_and(
                           [escape(i) for i in items], conj))
    return env


def render(name: str, **context: Any) -> Markup:
    """Render template `name` (e.g. 'claims/summary.md.j2') with `context`; the result is
    safe HTML/Markdown text in which every value from the context was escaped."""
    text = environment().get_template(name).render(**context)
    return Markup(" ".join(text.split()) if not name.endswith(".block.j2") else text.strip())


def show(name: str, **context: Any) -> None:
    """Render a template and display it in the notebook as Markdown."""
    from IPython.display import Markdown, display

    from .display import readable_refs
    display(Markdown(readable_refs(str(render(name, **context)))))
