"""What a user installs: the sdist and wheel carry what they need, and every install line names a source that exists."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
REPO_URL = PYPROJECT["project"]["urls"]["Source"]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist, and the wheel built from it, as `python -m build` makes them (no network: --no-isolation)."""
    pytest.importorskip("build", reason="`build` is in the dev extras: .ci/setup-venv dev")
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


@pytest.mark.slow
def test_the_sdist_carries_its_tests_and_a_unit_test_runs_from_it(dist: Path, tmp_path: Path) -> None:
    (sdist,) = dist.glob("modelreg-*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    (unpacked,) = tmp_path.iterdir()
    for needed in (
        "LICENSE",
        "pyproject.toml",
        "modelreg/py.typed",
        "tests/conftest.py",
        "tests/unit/test_refs.py",
        "docs/concepts.md",
        "examples/demo.sh",
        "examples/github/modelreg-deploy.yml",
        "benchmarks/run.py",
        ".ci/run",
    ):
        assert (unpacked / needed).is_file(), needed
    where = subprocess.run(
        [sys.executable, "-c", "import modelreg; print(modelreg.__file__)"],
        cwd=unpacked,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(unpacked)  # the tests below test the sdist's code
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit/test_refs.py"],
        cwd=unpacked,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert re.search(r"\d+ passed", proc.stdout)


def test_the_wheel_is_typed_licensed_and_described(dist: Path) -> None:
    (wheel,) = dist.glob("modelreg-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = archive.read(metadata_name).decode()
    assert "modelreg/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "Copyright (c) 2026 the modelreg authors" in (ROOT / "LICENSE").read_text()
    assert "License-Expression: MIT" in metadata
    assert "Classifier: Typing :: Typed" in metadata
    assert f"Project-URL: Source, {REPO_URL}" in metadata
    typer = [line for line in metadata.splitlines() if line.startswith("Requires-Dist: typer")]
    assert typer == ["Requires-Dist: typer>=0.28"]  # current Typer releases allowed: no upper pin


INSTALL_FILES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "examples").rglob("*.yml")),
]
PINNED = re.compile(r'"modelreg(\[[a-z0-9,]+\])? @ git\+' + re.escape(REPO_URL) + r'@([0-9a-f]{40}|<commit>)"')


@pytest.mark.parametrize("path", INSTALL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_install_line_names_a_checkout_a_wheel_or_a_pinned_commit(path: Path) -> None:
    """modelreg is not on PyPI: `pip install modelreg` would fetch whatever claims that name."""
    for line in path.read_text().splitlines():
        match = re.search(r"pip install (.*)", line)
        if match is None or "pip install -q" in line:
            continue
        target = match[1].split("#")[0].split()[0]
        if target.strip("\"'`").startswith("modelreg"):
            assert PINNED.match(match[1]), line
        elif "modelreg" in line or target.startswith("."):
            assert target in (".", "dist/modelreg-*.whl") or target.startswith(("-", '".[', "'.[")), line


def test_ci_recipes_install_from_a_pinned_commit() -> None:
    for recipe in sorted((ROOT / "examples").rglob("*.yml")):
        installs = [line for line in recipe.read_text().splitlines() if "pip install" in line]
        assert installs and all(PINNED.search(line) for line in installs), recipe
        assert all("<commit>" not in line for line in installs), recipe  # a real commit, not a placeholder


def test_the_readme_says_there_is_no_package_on_pypi() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "not on PyPI" in readme
    assert "pip install ." in readme and f"git+{REPO_URL}@<commit>" in readme
