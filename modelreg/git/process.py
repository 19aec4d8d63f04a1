"""Running git: a cleaned environment, and git's own last line as the error.

Every git command that talks to a remote for a read (a `--repo URL` mirror, its on-demand blob
fetches, `sync`'s probes) runs under a bound: `network_timeout()` seconds, 60 unless the
environment variable MODELREG_NETWORK_TIMEOUT says otherwise. Over http(s) git's own low-speed
limit stops a transfer that stalls for that long; over git:// or a local path (which have no such
setting) the whole process group is killed when the bound passes.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from modelreg.errors import GitError, InvalidInputError

NETWORK_TIMEOUT_S = 60.0
TIMEOUT_VARIABLE = "MODELREG_NETWORK_TIMEOUT"

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


def network_timeout() -> float:
    """How long a remote may take to answer, in seconds (MODELREG_NETWORK_TIMEOUT, else 60)."""
    text = os.environ.get(TIMEOUT_VARIABLE, "").strip()
    if not text:
        return NETWORK_TIMEOUT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 86400 * 365:
        raise InvalidInputError(f"{TIMEOUT_VARIABLE}={text!r}: expected a positive number of seconds")
    return seconds


def network_settings(timeout: float) -> list[str]:
    """git -c options that stop an http(s) transfer moving under 1 byte/s for `timeout` seconds."""
    return ["-c", "http.lowSpeedLimit=1", "-c", f"http.lowSpeedTime={max(1, round(timeout))}"]


class GitTimeout(GitError):
    """A git command did not finish within its bound (and was stopped)."""


def run_git_raw(
    args: list[str],
    cwd: Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run git with the cleaned environment; the caller judges the exit status.

    With `timeout`, git and every process it started (a transport helper, upload-pack) are killed
    once it passes, and GitTimeout is raised.
    """
    if timeout is None:
        try:
            return subprocess.run(
                ["git", *args], cwd=cwd, input=stdin, capture_output=True, env=git_env(env), check=False
            )
        except FileNotFoundError:
            raise GitError("git is not installed or not on PATH") from None
    argv = ["git", *network_settings(timeout), *args]
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.PIPE if stdin is not None else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=git_env(env),
            start_new_session=True,  # its own process group: killed whole on a timeout
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise GitTimeout(f"git {args[0]} got no answer within {timeout:g} s and was stopped") from None
    except BaseException:  # interrupted (Ctrl-C): leave no git behind
        _kill_group(proc)
        raise
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.communicate()


def run_git(
    args: list[str],
    cwd: Path,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> str:
    """Run git; return stdout; raise GitError with git's own last line on failure."""
    proc = run_git_raw(args, cwd, stdin.encode() if stdin is not None else None, env, timeout)
    if proc.returncode != 0:
        raise GitError(f"git {args[0]} failed: {failure_reason(proc.stderr, proc.returncode)}")
    return proc.stdout.decode(errors="surrogateescape")


def failure_reason(stderr: bytes, returncode: int) -> str:
    """What went wrong, from git's stderr: its first fatal or error line, not a warning or hint printed last."""
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    for prefix in ("fatal: ", "error: "):
        found = next((line for line in lines if line.startswith(prefix)), None)
        if found is not None:
            return found.removeprefix(prefix)
    said = [line for line in lines if not line.startswith(("warning: ", "hint: "))]
    return said[-1] if said else f"exit {returncode} ({lines[-1]})" if lines else f"exit {returncode}"
