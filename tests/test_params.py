"""Parameter files: defaults, every kind of bad value, and the shipped example files."""

import pytest

from evtreport import params as P
from conftest import ROOT


def write(tmp_path, text):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path


def test_default_file_equals_schema_defaults():
    assert P.load(ROOT / "params" / "default.yaml") == P.DEFAULTS


@pytest.mark.parametrize("path", sorted((ROOT / "params").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_parameter_files_are_valid(path):
    P.load(path)


def test_empty_file_means_defaults(tmp_path):
    assert P.load(write(tmp_path, "")) == P.DEFAULTS


@pytest.mark.parametrize("text, fragment", [
    ("ci_metod: wilson", "unknown parameter 'ci_metod'; allowed: favourable_mrs_max"),
    ("ci_method: exact", "parameter 'ci_method': expected one of 'wilson', 'clopper-pearson'"),
    ("favourable_mrs_max: 3", "parameter 'favourable_mrs_max': expected one of 1, 2, got 3"),
    ("favourable_mrs_max: true", "parameter 'favourable_mrs_max': expected one of 1, 2, got True"),
    ("hksj: 'yes'", "parameter 'hksj': expected true or false, got 'yes'"),
    ("hksj: 1", "parameter 'hksj': expected true or false, got 1"),
    ("confidence_level: 95", "parameter 'confidence_level': expected a number between 0.5 and 0.999, got 95"),
    ("confidence_level: .nan", "parameter 'confidence_level': expected a number"),
    ("exclude_studies: lee-2018", "parameter 'exclude_studies': expected a list of str values"),
    ("- a\n- b", "expected a YAML mapping of parameter: value, got list"),
    ("model: [random", "not valid YAML"),
])
def test_bad_values_are_named_with_what_is_allowed(tmp_path, text, fragment):
    path = write(tmp_path, text)
    with pytest.raises(P.ParameterError) as err:
        P.load(path)
    assert str(path) in str(err.value)
    assert fragment in str(err.value)


def test_all_problems_are_reported_at_once(tmp_path):
    with pytest.raises(P.ParameterError) as err:
        P.load(write(tmp_path, "model: mixed\ntransform: probit\n"))
    assert len(str(err.value).splitlines()) == 2


def test_unknown_excluded_study_is_rejected(tmp_path):
    path = write(tmp_path, "exclude_studies: [lee-2018, nobody-1999]")
    with pytest.raises(P.ParameterError, match="unknown source_id 'nobody-1999'"):
        P.load(path, known_sources={"lee-2018"})
    assert P.load(path, known_sources={"lee-2018", "nobody-1999"})["exclude_studies"] == [
        "lee-2018", "nobody-1999"]


def test_missing_file_is_named(tmp_path):
    with pytest.raises(P.ParameterError, match="cannot read parameter file"):
        P.load(tmp_path / "absent.yaml")


def test_alpha_from_confidence_level():
    assert P.alpha({"confidence_level": 0.95}) == 0.05
    assert P.alpha({"confidence_level": 0.9}) == 0.1


def test_duplicate_key_is_rejected_naming_both_lines(tmp_path):
    path = write(tmp_path, "hksj: true\nmodel: fixed\n# a comment\nhksj: false\n")
    with pytest.raises(P.ParameterError) as exc:
        P.load(path)
    assert str(exc.value) == (f"{path}: parameter 'hksj' is given twice (lines 1 and 4); "
                              "keep one of them")


def test_parameter_file_not_utf8_names_the_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_bytes(b"ci_method: wilson # caf\xe9\n")
    with pytest.raises(P.ParameterError, match=r"p\.yaml: not valid UTF-8 \(byte 0xe9\)"):
        P.load(path)
