"""requirements.lock (pip) and environment.yml (conda) pin the same versions."""

import re

import yaml

from conftest import ROOT

CONDA_TO_PIP = {"matplotlib-base": "matplotlib", "nbconvert-core": "nbconvert"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements.lock: {line!r} is not pinned with =="
            pins[_norm(name)] = version
    return pins


def _conda() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and "=" in dep and not dep.startswith("python="):
            name, version = re.split(r"==?", dep, maxsplit=1)
            pins[_norm(CONDA_TO_PIP.get(name, name))] = version
    return pins


def test_conda_pins_match_lock():
    lock, conda = _lock(), _conda()
    mismatches = {n: (v, lock.get(n)) for n, v in conda.items() if lock.get(n) != v}
    assert not mismatches, f"environment.yml vs requirements.lock (conda, pip): {mismatches}"


def test_every_direct_dependency_is_pinned_in_both():
    direct = [_norm(l.split("#")[0].strip()) for l in (ROOT / "requirements.in").read_text().splitlines()
              if l.split("#")[0].strip()]
    lock, conda = _lock(), _conda()
    assert not [d for d in direct if d not in lock], "direct dependency missing from requirements.lock"
    assert not [d for d in direct if d not in conda], "direct dependency missing from environment.yml"


def test_venv_has_the_locked_versions():
    from importlib import metadata
    lock = _lock()
    wrong = {n: (v, metadata.version(n)) for n, v in lock.items() if metadata.version(n) != v}
    assert not wrong, f"installed versions differ from requirements.lock: {wrong}"
