"""data/datapackage.json: the one description of the data files (a Frictionless Data Package
with a Table Schema per CSV), read by the validator (evtreport.data) and by anyone using R,
Excel or another tool.

Each field's type and constraints are one of ``FORMATS`` (or a string with an ``enum``); the
validator checks exactly these, with its own messages. The enums of ``VOCABULARY_ENUMS`` are
the keys of data/vocabulary.csv and are generated, as are the column tables of data/README.md:

    python -m evtreport.datapackage --write [DATA_DIR]   regenerate them after editing
                                                          vocabulary.csv or datapackage.json
    python -m evtreport.datapackage --check [DATA_DIR]   exit 1 when any is out of date

DATA_DIR defaults to data/; its README.md is regenerated only when it has the generated
blocks (`<!-- BEGIN generated: NAME -->` ... `<!-- END generated -->`).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from . import paths

FILE = "datapackage.json"
VOCABULARY = "vocabulary"

#: Value formats: a Table Schema type with its constraints (besides ``required`` and ``enum``,
#: which are the field's own). Every field of the package is one of these or a string enum.
FORMATS: dict[str, dict] = {
    "text": {"type": "string"},
    "slug": {"type": "string", "pattern": r"[a-z0-9][a-z0-9._-]*"},
    "int": {"type": "integer", "minimum": 0},
    "year": {"type": "integer", "minimum": 1900, "maximum": 2100},
    "pmid": {"type": "string", "pattern": r"[0-9]+"},
    "doi": {"type": "string", "pattern": r"10\.\d{4,9}/\S+"},
    "url": {"type": "string", "pattern": r"https?://\S+"},
    "decimal": {"type": "number"},
    "percent": {"type": "number", "minimum": 0, "maximum": 100},
    "pvalue": {"type": "string",
               "pattern": r"(?:<|>|<=|>=)?\s*(?:0(?:\.[0-9]+)?|1(?:\.0+)?|\.[0-9]+)"},
    "rowrefs": {"type": "string",
                "pattern": r"[a-z0-9][a-z0-9._-]*(?:\s*;\s*[a-z0-9][a-z0-9._-]*)*"},
}

#: Enums that are keys of vocabulary.csv: (file, field) -> (kind, values allowed besides).
#: A foreign key cannot say "a key of kind outcome", so these are enums, generated.
VOCABULARY_ENUMS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("outcomes", "outcome"): ("outcome", ()),
    ("effects", "outcome"): ("outcome", ()),
    ("risk_of_bias", "outcome"): ("outcome", ("all",)),
    ("vocabulary", "family"): ("family", ()),
}

TYPE_TEXT = {
    "text": "text", "slug": "slug", "int": "integer ≥ 0", "year": "year", "pmid": "digits",
    "doi": "DOI", "url": "URL", "decimal": "number", "percent": "number 0–100",
    "pvalue": "p-value as printed", "rowrefs": "row_ids, `;`-separated", "enum": "a listed value",
}


class PackageError(ValueError):
    """The package cannot be read as the schema of its folder; ``problems`` lists why."""

    def __init__(self, path: Path, problems: list[str]):
        self.path, self.problems = path, list(problems)
        super().__init__("\n".join(f"{path}: {p}" for p in self.problems))


@dataclass(frozen=True)
class Column:
    kind: str
    required: bool = False
    values: tuple[str, ...] = ()
    vocabulary: str | None = None   # the vocabulary kind the values are keys of


@dataclass(frozen=True)
class Table:
    name: str
    columns: dict[str, Column]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[tuple[str, str, str], ...]   # (field, resource, its field)
    labels: dict[str, dict[str, str]]                # field -> {value: label} (categories)


def path_of(data_dir: str | Path | None = None) -> Path:
    return Path(data_dir or paths.DATA_DIR) / FILE


def load(data_dir: str | Path | None = None) -> dict:
    """The package of a data folder as JSON (PackageError naming the file if it cannot be read)."""
    p = path_of(data_dir)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PackageError(p, [
            "file not found: the data package describes the files of its folder and the "
            "validator reads their columns from it; copy the project's data/datapackage.json "
            "into the folder (then `python -m evtreport.datapackage --write FOLDER` if its "
            "vocabulary.csv differs)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PackageError(p, [f"cannot read the data package ({exc})"]) from None
    try:
        pkg = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PackageError(p, [f"line {exc.lineno}, column {exc.colno}: not valid JSON "
                               f"({exc.msg})"]) from None
    if not isinstance(pkg, dict) or not isinstance(pkg.get("resources"), list):
        raise PackageError(p, ["not a data package: expected a JSON object with a list of "
                               "'resources'"])
    return pkg


def _one(x) -> str:
    return x[0] if isinstance(x, list) and len(x) == 1 else x


def _column(where: str, f: dict, vocab_kind: str | None, problems: list[str]) -> Column:
    cons = dict(f.get("constraints") or {})
    required = cons.pop("required", False) is True
    enum = cons.pop("enum", None)
    if enum is not None:
        if f.get("type", "string") != "string" or cons or not isinstance(enum, list):
            problems.append(f"{where}: an enum field must be a string with only 'required' "
                            "and 'enum' constraints")
        return Column("enum", required, tuple(str(v) for v in enum or ()), vocab_kind)
    if vocab_kind:
        problems.append(f"{where}: needs the enum of the {vocab_kind} keys of vocabulary.csv "
                        "(run `python -m evtreport.datapackage --write`)")
    shape = {"type": f.get("type", "string"), **cons}
    for kind, spec in FORMATS.items():
        if spec == shape:
            return Column(kind, required)
    problems.append(f"{where}: type and constraints {json.dumps(shape)} are none of the "
                    "formats the validator checks (FORMATS in src/evtreport/datapackage.py)")
    return Column("text", required)


def tables(pkg: dict, path: Path) -> dict[str, Table]:
    """{resource name: Table} of a package (PackageError listing every problem)."""
    problems: list[str] = []
    out: dict[str, Table] = {}
    for i, res in enumerate(pkg["resources"]):
        name = res.get("name") if isinstance(res, dict) else None
        if not isinstance(name, str):
            problems.append(f"resource {i + 1}: no name")
            continue
        if res.get("path") != f"{name}.csv":
            problems.append(f"resource {name!r}: path must be '{name}.csv'")
        schema = res.get("schema")
        fields = schema.get("fields") if isinstance(schema, dict) else None
        if not isinstance(fields, list) or not all(isinstance(f, dict) and "name" in f
                                                   for f in fields):
            problems.append(f"resource {name!r}: needs a schema with a list of named fields")
            continue
        cols = {f["name"]: _column(f"field {name}.{f['name']}", f,
                                   VOCABULARY_ENUMS.get((name, f["name"]), (None,))[0], problems)
                for f in fields}
        try:
            pk = schema.get("primaryKey", [])
            pk = tuple([pk] if isinstance(pk, str) else pk)
            fks = tuple((_one(fk["fields"]), fk["reference"]["resource"],
                         _one(fk["reference"]["fields"])) for fk in schema.get("foreignKeys", []))
        except (KeyError, TypeError):
            problems.append(f"resource {name!r}: malformed primaryKey or foreignKeys")
            continue
        for col in pk + tuple(c for c, _, _ in fks):
            if col not in cols:
                problems.append(f"resource {name!r}: key field {col!r} is not a field")
        labels = {f["name"]: {c["value"]: c.get("label", "") for c in f["categories"]}
                  for f in fields if isinstance(f.get("categories"), list)}
        out[name] = Table(name, cols, pk, fks, labels)
    if problems:
        raise PackageError(path, problems)
    return out


# --------------------------------------------------------------------------- generated parts

def vocabulary_enums(terms: dict) -> dict[tuple[str, str], list[str]]:
    """What the enums of ``VOCABULARY_ENUMS`` must be, from vocabulary terms (evtreport.vocab)."""
    return {k: [key for (kd, key) in terms if kd == kind] + list(extra)
            for k, (kind, extra) in VOCABULARY_ENUMS.items()}


def _fields(pkg: dict) -> dict[tuple[str, str], dict]:
    return {(r.get("name"), f.get("name")): f for r in pkg.get("resources", [])
            if isinstance(r, dict) and isinstance(r.get("schema"), dict)
            for f in r["schema"].get("fields", []) if isinstance(f, dict)}


def enum_problems(pkg: dict, terms: dict) -> list[str]:
    """Where the package's vocabulary enums differ from vocabulary.csv."""
    fields, out = _fields(pkg), []
    for (res, name), want in vocabulary_enums(terms).items():
        got = (fields.get((res, name)) or {}).get("constraints", {}).get("enum")
        if got != want:
            kind = VOCABULARY_ENUMS[(res, name)][0]
            extra = [v for v in got or [] if v not in want]
            missing = [v for v in want if v not in (got or [])]
            what = "; ".join(x for x in (missing and f"missing {', '.join(missing)}",
                                          extra and f"not in vocabulary.csv: {', '.join(extra)}")
                             if x) or "order differs"
            out.append(f"field {res}.{name}: its enum is not the {kind} keys of vocabulary.csv "
                       f"({what}); run `python -m evtreport.datapackage --write`")
    return out


def with_vocabulary(pkg: dict, terms: dict) -> dict:
    """The package with its vocabulary enums set from ``terms`` (everything else kept)."""
    new = json.loads(json.dumps(pkg))
    fields = _fields(new)
    for key, values in vocabulary_enums(terms).items():
        fields[key].setdefault("constraints", {})["enum"] = values
    return new


def dumps(pkg: dict) -> str:
    return json.dumps(pkg, indent=2, ensure_ascii=False) + "\n"


def structure(pkg: dict) -> dict:
    """What the code relies on (names, types, constraints, keys), without the prose and the
    vocabulary enums: a data folder's package must have the project's structure."""
    out = {}
    for r in pkg.get("resources", []):
        schema = r.get("schema", {})
        fields = []
        for f in schema.get("fields", []):
            cons = dict(f.get("constraints", {}))
            if (r.get("name"), f.get("name")) in VOCABULARY_ENUMS:
                cons.pop("enum", None)
            fields.append((f.get("name"), f.get("type", "string"), json.dumps(cons, sort_keys=True)))
        out[r.get("name")] = (r.get("path"), fields, json.dumps(schema.get("primaryKey")),
                              json.dumps(schema.get("foreignKeys"), sort_keys=True))
    return out


def structure_problems(pkg: dict, project: dict) -> list[str]:
    """How a folder's package differs from the project's, resource by resource (which
    resources there are is the validator's check)."""
    mine, want = structure(pkg), structure(project)
    out = []
    for n in (n for n in want if n in mine and mine[n] != want[n]):
        a, b = mine[n], want[n]
        fa, fb = dict((x[0], x) for x in a[1]), dict((x[0], x) for x in b[1])
        diff = [k for k in dict.fromkeys(list(fb) + list(fa)) if fa.get(k) != fb.get(k)]
        what = (f"fields {', '.join(diff)}" if diff else "field order" if a[1] != b[1]
                else "path or keys")
        out.append(f"resource {n!r} differs from the project's data/datapackage.json ({what}); "
                   "the code reads the files as the project's package describes them: copy it")
    return out


# --------------------------------------------------------------------------- data/README.md

_BLOCK = re.compile(r"(<!-- BEGIN generated: (?P<name>[a-z_]+) -->\n).*?(<!-- END generated -->)",
                    re.S)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def column_table(res: dict, table: Table) -> str:
    lines = ["| column | type | required | meaning |", "|---|---|---|---|"]
    for f in res["schema"]["fields"]:
        col = table.columns[f["name"]]
        kind = (f"a `{col.vocabulary}` key of vocabulary.csv" if col.vocabulary
                else TYPE_TEXT[col.kind])
        lines.append(f"| `{f['name']}` | {kind} | {'yes' if col.required else ''} "
                     f"| {_cell(f.get('description', ''))} |")
    return "\n".join(lines) + "\n"


def readme_blocks(pkg: dict, path: Path) -> dict[str, str]:
    """{block name: Markdown}: a column table per file, the outcome vocabulary and the trial
    characteristics."""
    from . import vocab
    tabs = tables(pkg, path)
    out = {r["name"]: column_table(r, tabs[r["name"]]) for r in pkg["resources"]}
    out["outcome_vocabulary"] = vocab.readme_table("outcome", path.parent) + "\n"
    chars = tabs["trials"].labels.get("characteristic", {})
    out["trial_characteristics"] = "\n".join(
        ["| characteristic | what the cell holds |", "|---|---|"]
        + [f"| `{k}` | {_cell(v)} |" for k, v in chars.items()]) + "\n"
    return out


def render_readme(text: str, pkg: dict, path: Path) -> str:
    generated = readme_blocks(pkg, path)
    found = [m.group("name") for m in _BLOCK.finditer(text)]
    missing = [n for n in generated if n not in found]
    unknown = [n for n in found if n not in generated]
    if missing or unknown:
        raise ValueError(f"README.md: generated blocks missing for {missing}, unknown: {unknown} "
                         "(`<!-- BEGIN generated: NAME -->` ... `<!-- END generated -->`)")
    return _BLOCK.sub(lambda m: m.group(1) + generated[m.group("name")] + m.group(3), text)


def regenerate(data_dir: str | Path | None = None) -> dict[Path, str]:
    """{file: its regenerated text} for the package and (when it has generated blocks) the
    README of a data folder."""
    from . import vocab
    d = Path(data_dir or paths.DATA_DIR)
    p = path_of(d)
    pkg = with_vocabulary(load(d), vocab.terms(d))
    out = {p: dumps(pkg)}
    readme = d / "README.md"
    if readme.exists() and "<!-- BEGIN generated:" in readme.read_text(encoding="utf-8"):
        out[readme] = render_readme(readme.read_text(encoding="utf-8"), pkg, p)
    return out


def main(argv: list[str] | None = None) -> int:
    from . import vocab
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("--write", "--check") or len(args) > 2:
        print(__doc__.split("\n\n")[2].rstrip(), file=sys.stderr)
        return 2
    try:
        files = regenerate(args[1] if len(args) > 1 else None)
    except (PackageError, vocab.VocabularyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    stale = [p for p, text in files.items()
             if not p.exists() or p.read_text(encoding="utf-8") != text]
    if args[0] == "--check":
        for p in stale:
            print(f"{p}: out of date; run `python -m evtreport.datapackage --write`",
                  file=sys.stderr)
        if not stale:
            print(f"up to date: {', '.join(str(p) for p in files)}")
        return 1 if stale else 0
    for p in stale:
        p.write_text(files[p], encoding="utf-8")
    print(f"wrote {', '.join(str(p) for p in stale)}" if stale else "nothing to change")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
