"""The text layer: number words, plurals, and escaping of data strings."""

import pytest

from evtreport import text


@pytest.mark.parametrize("n, expected", [(0, "zero"), (1, "one"), (10, "ten"), (11, "11"), (1073, "1073")])
def test_number_word(n, expected):
    assert text.number_word(n) == expected


def test_plural():
    assert text.plural(1, "trial") == "one trial"
    assert text.plural(3, "trial") == "three trials"
    assert text.plural(2, "series", "series") == "two series"
    assert text.plural(2, "trial", capital=True) == "Two trials"


def test_join_and():
    assert text.join_and(["A"]) == "A"
    assert text.join_and(["A", "B", "C"]) == "A, B and C"


def test_render_escapes_data(tmp_path, monkeypatch):
    (tmp_path / "t.md.j2").write_text("Source: {{ label }}; {{ names | join_and }}.")
    text.environment.cache_clear()
    monkeypatch.setattr(text, "TEMPLATE_DIR", tmp_path)
    out = str(text.environment(str(tmp_path)).get_template("t.md.j2").render(
        label="<img src=x onerror=alert(1)>", names=["<b>a</b>", "b"]))
    text.environment.cache_clear()
    assert "<img" not in out and "&lt;img" in out
    assert "<b>" not in out


def test_join_and_escapes_each_item_once(tmp_path):
    (tmp_path / "t.md.j2").write_text("{{ names | join_and }}")
    out = str(text.environment(str(tmp_path)).get_template("t.md.j2").render(
        names=["R&D", "<b>"]))
    text.environment.cache_clear()
    assert out == "R&amp;D and &lt;b&gt;"
