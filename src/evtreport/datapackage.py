"""The column tables of data/README.md, generated from data/datapackage.json.

    python -m evtreport.datapackage --readme    rewrite the generated tables in data/README.md
    python -m evtreport.datapackage --check     exit 1 when they are out of date

The package is the one description of the data files (see evtreport.data); the README's
tables between `<!-- BEGIN generated: NAME -->` and `<!-- END generated -->` are written from
it, so the two cannot disagree (tests/test_datapackage.py checks it).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from . import data as data_mod

README = data_mod.PACKAGE.parent / "README.md"
_BLOCK = re.compile(r"(<!-- BEGIN generated: (?P<name>[a-z_]+) -->\n).*?(<!-- END generated -->)",
                    re.S)

TYPE_TEXT = {
    "text": "text", "slug": "slug", "int": "integer ≥ 0", "year": "year", "pmid": "digits",
    "doi": "DOI", "url": "URL", "decimal": "number", "percent": "number 0–100",
    "pvalue": "p-value as printed", "rowrefs": "row_ids, `;`-separated", "enum": "vocabulary",
}


def load(path: Path = data_mod.PACKAGE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def column_table(resource: dict) -> str:
    cols = data_mod.COLUMNS[resource["name"]]
    lines = ["| column | type | required | meaning |", "|---|---|---|---|"]
    for f in resource["schema"]["fields"]:
        col = cols[f["name"]]
        lines.append(f"| `{f['name']}` | {TYPE_TEXT[col.kind]} | {'yes' if col.required else ''} "
                     f"| {_cell(f.get('description', ''))} |")
    return "\n".join(lines) + "\n"


def vocabulary_table(resource: dict, field: str) -> str:
    f = next(f for f in resource["schema"]["fields"] if f["name"] == field)
    lines = ["| name | meaning |", "|---|---|"]
    lines += [f"| `{c['value']}` | {_cell(c['label'])} |" for c in f["categories"]]
    return "\n".join(lines) + "\n"


def tables(pkg: dict) -> dict[str, str]:
    """{block name: generated Markdown}: one column table per file, and the outcome vocabulary."""
    out = {r["name"]: column_table(r) for r in pkg["resources"]}
    outcomes = next(r for r in pkg["resources"] if r["name"] == "outcomes")
    out["outcome_vocabulary"] = vocabulary_table(outcomes, "outcome")
    return out


def render_readme(text: str, pkg: dict) -> str:
    generated = tables(pkg)
    missing = set(generated) - {m.group("name") for m in _BLOCK.finditer(text)}
    if missing:
        raise ValueError(f"{README}: no generated block for {sorted(missing)} "
                         "(add `<!-- BEGIN generated: NAME -->` ... `<!-- END generated -->`)")

    def fill(m: re.Match) -> str:
        if m.group("name") not in generated:
            raise ValueError(f"{README}: generated block {m.group('name')!r} is not a "
                             "resource of data/datapackage.json")
        return m.group(1) + generated[m.group("name")] + m.group(3)
    return _BLOCK.sub(fill, text)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in (["--readme"], ["--check"]):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    text = README.read_text(encoding="utf-8")
    new = render_readme(text, load())
    if args == ["--check"]:
        if new != text:
            print(f"{README}: column tables out of date; run `python -m evtreport.datapackage "
                  "--readme`", file=sys.stderr)
            return 1
        print(f"{README}: column tables match data/datapackage.json")
        return 0
    README.write_text(new, encoding="utf-8")
    print(f"wrote the column tables of {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
