"""`modelreg lint` and the pre-commit hook `modelreg-check` (run for real with `pre-commit try-repo`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from modelreg import Registry
from tests.conftest import ROOT, git, run_modelreg

MANIFEST = ".modelreg/models/fraud/v1.yaml"


@pytest.fixture
def registry(repo: Path, cli, artifact) -> Path:
    assert cli("register", "fraud", artifact(content=b"one"), "--metric", "auc=0.91", "--param", "depth=6").code == 0
    assert cli("register", "fraud", artifact(content=b"two"), "--metric", "auc=0.93").code == 0
    return repo


def edit(repo: Path, path: str, old: str, new: str) -> None:
    file = repo / path
    text = file.read_text()
    assert old in text, text
    file.write_text(text.replace(old, new))


def test_a_clean_registry_passes(registry: Path, cli) -> None:
    result = cli("lint")
    assert result.code == 0, result.err
    assert "2 manifests" in result.out
    report = Registry.lint(registry)
    assert report.ok and report.manifests == 2 and report.problems == ()


def test_description_and_tags_may_change(registry: Path, cli) -> None:
    edit(registry, MANIFEST, "description: ''", "description: better words")
    edit(registry, MANIFEST, "tags: {}", "tags: {team: risk}")
    result = cli("lint")
    assert result.code == 0, result.err
    assert "2 manifests" in result.out
    report = Registry.lint(registry)
    assert report.ok and report.manifests == 2 and report.problems == ()
    # the same file with an immutable key edited too is refused: the check looked at this file
    edit(registry, MANIFEST, "auc: 0.91", "auc: 0.99")
    assert cli("lint").code != 0


def test_a_hand_edited_metric_is_named(registry: Path, cli) -> None:
    assert cli("lint").code == 0  # the verdicts of the clean files are remembered: the edit must still show
    edit(registry, MANIFEST, "auc: 0.91", "auc: 0.99")
    result = cli("lint")
    assert result.code == 1
    (line,) = result.err.splitlines()
    assert line == (
        f"error: {MANIFEST}: 'metrics.auc' is 0.99, but fraud@v1 registered 0.91: "
        "only 'description' and 'tags' may change after registration"
    )
    facts = json.loads(cli("lint", "--json").out)
    assert facts["ok"] is False and facts["problems"] == [line.removeprefix("error: ")]


def test_schema_problems_name_the_file_and_key(registry: Path, cli) -> None:
    edit(registry, MANIFEST, "size: ", "size: -")
    edit(registry, ".modelreg/config.yaml", "stages:", "stages: 7\nold_stages:")
    (registry / ".modelreg/models/fraud/notes.txt").write_text("hi")
    (registry / ".modelreg/requests").mkdir()
    (registry / ".modelreg/requests/x.yaml").write_text("schema: nope\n")
    result = cli("lint")
    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[0].startswith("error: .modelreg/config.yaml: key 'stages' must be a list")
    assert f"error: {MANIFEST}: key 'artifact.files[0].size' must be a number of bytes" in result.err
    assert "error: .modelreg/models/fraud/notes.txt: not a manifest" in result.err
    assert "error: .modelreg/requests/x.yaml: key 'schema'" in result.err


def test_a_manifest_in_the_wrong_place(registry: Path, cli) -> None:
    shutil.copy(registry / MANIFEST, registry / ".modelreg/models/fraud/v7.yaml")
    result = cli("lint")
    assert result.code == 1 and "v7.yaml: holds fraud v1, expected fraud v7" in result.err


def test_without_its_version_tag_a_manifest_is_only_warned_about(registry: Path, cli) -> None:
    git(registry, "tag", "-d", "fraud@v2")
    result = cli("lint")
    assert result.code == 0 and "warning: .modelreg/models/fraud/v2.yaml: no version tag fraud@v2" in result.err


def test_lint_needs_no_store_and_no_remote(registry: Path) -> None:
    shutil.rmtree(registry / ".modelreg" / "store")
    git(registry, "remote", "add", "origin", "https://invalid.example/nowhere.git")
    result = run_modelreg(registry, "lint", check=False)
    assert result.returncode == 0, result.stderr


def test_outside_a_registry(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    git(tmp_path, "init", "-q")
    monkeypatch.chdir(tmp_path)
    result = cli("lint")
    assert result.code == 1 and "error: .modelreg/config.yaml: missing (run `modelreg init`)" in result.err


# --- the real hook ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pre-commit's environments, shared by the module's tests (building one installs modelreg)."""
    if shutil.which("pre-commit", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("pre-commit is not installed (the dev extra)")
    return tmp_path_factory.mktemp("pre-commit-home")


def try_repo(repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """`pre-commit try-repo` with this project as the hook repository, as a user would run it."""
    hook_repo = ROOT
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [str(Path(sys.executable).parent / "pre-commit"), "try-repo", str(hook_repo), "modelreg-check", "--all-files"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
def test_pre_commit_try_repo(registry: Path, pre_commit_home: Path) -> None:
    git(registry, "add", "-A")
    git(registry, "commit", "-q", "-m", "registry", "--allow-empty")
    clean = try_repo(registry, pre_commit_home)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "modelreg registry check" in clean.stdout and "Passed" in clean.stdout

    edit(registry, MANIFEST, "auc: 0.91", "auc: 0.99")
    git(registry, "add", MANIFEST)
    edited = try_repo(registry, pre_commit_home)
    assert edited.returncode == 1
    assert "Failed" in edited.stdout
    assert f"{MANIFEST}: 'metrics.auc' is 0.99, but fraud@v1 registered 0.91" in edited.stdout
