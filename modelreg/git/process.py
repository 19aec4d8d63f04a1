"""Running git: a cleaned environment, and git's own last line as the error."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from modelreg.errors import GitError

# Variables a hook or CI job may inherit that would point git at another repository.
_LOCATION_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)
# Replace refs (`git replace`) would let a local ref swap the content of a tagged commit behind the
# tag's back: modelreg reads objects as named, so caches keyed by object ids stay true.
_SETTINGS = {"LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_NO_REPLACE_OBJECTS": "1"}


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LOCATION_VARS}
    env.update(_SETTINGS)
    env.update(extra or {})
    return env


def run_git_raw(
    args: list[str], cwd: Path, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run git with the cleaned environment; the caller judges the exit status."""
    try:
        return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, env=git_env(env), check=False)
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None


def run_git(args: list[str], cwd: Path, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    """Run git; return stdout; raise GitError with git's own last line on failure."""
    proc = run_git_raw(args, cwd, stdin.encode() if stdin is not None else None, env)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.decode(errors="replace").splitlines() if line.strip()]
        detail = lines[-1].removeprefix("fatal: ").removeprefix("error: ") if lines else f"exit {proc.returncode}"
        raise GitError(f"git {args[0]} failed: {detail}")
    return proc.stdout.decode(errors="surrogateescape")
