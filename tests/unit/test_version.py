"""The package's version is said once in code and once in pyproject.toml: they must agree."""

import tomllib
from pathlib import Path

import modelreg
from modelreg.version import __version__


def test_version_matches_pyproject() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["version"] == __version__ == modelreg.__version__
