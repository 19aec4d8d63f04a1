"""Fixtures: an isolated HOME and git identity, real git repositories, the CLI run in-process."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from modelreg.api import Registry
from modelreg.cli import main

ROOT = Path(__file__).resolve().parents[1]
IDENTITY = {
    "GIT_AUTHOR_NAME": "Jane Doe",
    "GIT_AUTHOR_EMAIL": "jane@example.com",
    "GIT_COMMITTER_NAME": "Jane Doe",
    "GIT_COMMITTER_EMAIL": "jane@example.com",
    # Every commit and tag in one second: ordering must never depend on dates.
    "GIT_AUTHOR_DATE": "2026-01-02T03:04:05+00:00",
    "GIT_COMMITTER_DATE": "2026-01-02T03:04:05+00:00",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: with the suite spread over workers, none is left running one alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No inherited git variables or user config; HOME and the blob cache in a temp dir."""
    home = tmp_path_factory.mktemp("home")
    for var in list(os.environ):
        if var.startswith(("GIT_", "MODELREG_")) or var in ("EMAIL", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("COLUMNS", "200")
    for key, value in IDENTITY.items():
        monkeypatch.setenv(key, value)
    return home


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    (path / "README.md").write_text("# project\n")
    (path / "train.py").write_text("print('train')\n")
    git(path, "add", "README.md", "train.py")
    git(path, "commit", "-q", "-m", "initial")
    return path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with one commit and an initialised registry; the current directory.

    Its store is a directory in the clone (what `init` wrote before `git:`): many tests look at or
    damage blob files. The git store, `init`'s default now, has its own tests (test_gitstore.py).
    """
    path = make_repo(tmp_path / "repo")
    Registry.init(path, ".modelreg/store")
    monkeypatch.chdir(path)
    return path


@pytest.fixture
def artifact(tmp_path: Path) -> Callable[[str, bytes], Path]:
    """Write a file outside the repository and return its path."""

    def write(name: str = "model.pkl", content: bytes = b"weights v1") -> Path:
        path = tmp_path / "artifacts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path

    return write


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run `modelreg ARGS…` in-process; returns exit code, stdout and stderr."""

    def run(*args: str | Path) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def repo_state(repo: Path) -> tuple[str, str, str, list[str]]:
    """Everything a failed command must leave untouched: refs, index, work tree status, store blobs."""
    refs = git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
    index = git(repo, "ls-files", "--stage")
    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    store = repo / ".modelreg" / "store"
    blobs = sorted(str(p.relative_to(store)) for p in store.rglob("*") if p.is_file()) if store.exists() else []
    return refs, index, status, blobs


def start_modelreg(cwd: Path, *args: str, env: dict[str, str] | None = None, **popen: Any) -> subprocess.Popen[str]:
    """Start `python -m modelreg ARGS` in `cwd`: the tests' one way to run the CLI as a process."""
    return subprocess.Popen(
        [sys.executable, "-m", "modelreg", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        text=True,
        **popen,
    )


def run_modelreg(
    cwd: Path, *args: str, check: bool = True, env: dict[str, str] | None = None, stdout: Any = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    """Run `python -m modelreg ARGS` to the end; stdout and stderr captured (stdout may go elsewhere)."""
    proc = start_modelreg(cwd, *args, env=env, stdout=stdout, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    result = subprocess.CompletedProcess(proc.args, proc.returncode, out or "", err)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh sqlite MLflow tracking store (and MLflow's own registry in it) for this test; the current directory
    is tmp_path, where MLflow writes its runs' artifacts."""
    import mlflow  # MLflow's tests alone pay for its import (about a second)

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    yield uri
    mlflow.set_registry_uri(None)  # type: ignore[arg-type]
    mlflow.set_tracking_uri(None)  # type: ignore[arg-type]


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repository holding an initialised registry on `main`, with a store all clones share."""
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", str(bare), str(seed))
    (seed / "README.md").write_text("# models\n")
    git(seed, "add", "README.md")
    git(seed, "commit", "-q", "-m", "initial")
    Registry.init(seed, store=str(tmp_path / "shared-store"))
    git(seed, "push", "-q", "origin", "main")
    return bare


@pytest.fixture
def clone(remote: Path, tmp_path: Path):
    def make(name: str, *extra: str, url: str | None = None) -> Path:
        path = tmp_path / name
        git(tmp_path, "clone", "-q", *extra, url or str(remote), str(path))
        return path

    return make


def install_hook(repo: Path, name: str, body: str) -> None:
    hook = repo / ".git" / "hooks" / name
    hook.write_text("#!/bin/sh\n" + body)
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
