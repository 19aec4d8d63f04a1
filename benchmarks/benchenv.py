"""What the benchmarks share: processes run as an installed user has them, and median timing.

"As an installed user has it": the modelreg package is compiled to bytecode first (`python -m
compileall -q` over the directory the venv's python imports it from), and every timed child runs
without PYTHONDONTWRITEBYTECODE (a machine that sets it globally would otherwise time uncompiled
imports, which no installed user pays after the first run).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

PYTHON = sys.executable  # run the benchmarks with the venv's python: .venv/bin/python benchmarks/...
MODELREG = str(Path(PYTHON).with_name("modelreg"))  # the venv's console script
# What every reader of bench's tags must list (the floor), and every ref of the registry (the list floor).
CONTENTS = "--format=%(refname)%(objectname)%(*objectname)%(contents)"
BENCH_REFS = [
    "refs/tags/bench@v*",
    "refs/tags/bench#*#*",
    "refs/modelreg/events/bench/",
    "refs/modelreg/versions/bench/",
]
ALL_REFS = ["refs/tags/", "refs/modelreg/"]
IDENTITY = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def installed_env(**extra: str) -> dict[str, str]:
    """This process's environment without PYTHONDONTWRITEBYTECODE, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def compile_package() -> Path:
    """Compile the modelreg package the venv's python imports (found from a neutral directory); returns its path."""
    if not Path(MODELREG).is_file():
        raise SystemExit(f"no modelreg console script beside {PYTHON}: run this with the venv's python")
    found = subprocess.run(
        [PYTHON, "-c", "import os, modelreg; print(os.path.dirname(os.path.abspath(modelreg.__file__)))"],
        cwd="/",
        env=installed_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        raise SystemExit(f"cannot import modelreg: {found.stderr.strip()}")
    package = Path(found.stdout.strip())
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(package)], env=installed_env(), check=True)
    return package


def run_checked(args: Sequence[str], cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.run(list(args), cwd=cwd, env=dict(env), capture_output=True, check=False)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).decode(errors="replace").strip()
        raise SystemExit(f"`{' '.join(args)}` failed (exit {proc.returncode}): {detail}")
    return proc


def median_time(
    args: Sequence[str],
    cwd: Path,
    runs: int,
    env: Mapping[str, str],
    before: Callable[[int], None] | None = None,
) -> float:
    """Median wall time of `args` as a child process (stdout and stderr piped); `before(i)` runs untimed ahead of
    run i. Exits with the command's error when a run fails."""
    samples = []
    for index in range(runs):
        if before is not None:
            before(index)
        start = time.perf_counter()
        proc = subprocess.run(list(args), cwd=cwd, env=dict(env), capture_output=True, check=False)
        samples.append(time.perf_counter() - start)
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).decode(errors="replace").strip()
            raise SystemExit(f"`{' '.join(args)}` failed (exit {proc.returncode}): {detail}")
    return statistics.median(samples)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
