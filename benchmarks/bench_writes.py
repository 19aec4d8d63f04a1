"""Writes in a registry of N events: `register` and `promote` beside `git commit` + `git tag -a` (issue 22).

Run from bench_cold (the CI-cold section: in the fresh clone after `modelreg fetch`), or alone on
any registry that make_registry built (and a clone of it):

    .venv/bin/python benchmarks/bench_writes.py CLONE [--runs 3]

Rows, each a median of whole processes in CLONE:
  - the write floor: `git commit -q` of one small file (written and `git add`ed, untimed, before
    each run) plus `git tag -a` of the new commit, each timed on its own, medians added;
  - `modelreg register bench model.bin` with new bytes each run: first call (XDG_CACHE_HOME
    emptied before each run) and warm (after one untimed register, the cache kept);
  - `modelreg promote bench V production`, V a version not holding it (the one before the holder,
    then older ones; production is single-holder, so each promotion archives the holder): first
    call (empty cache) and warm;
  - how many git processes each write started (GIT_TRACE, one more run).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from benchenv import IDENTITY, MODELREG, compile_package, installed_env, progress

FLOOR = "git commit + git tag -a (write floor)"
REGISTER_COLD = "register bench: first call, empty cache"
REGISTER_WARM = "register bench: warm"
PROMOTE_COLD = "promote bench V production: first call, empty cache"
PROMOTE_WARM = "promote bench V production: warm"
GIT_COUNT = " (git processes)"

WHAT = {
    FLOOR: "`git commit -q -m …` of one small file (written and added, untimed, before each run) + "
    "`git tag -a -m … T HEAD`, each timed, medians added",
    REGISTER_COLD: "`modelreg register bench model.bin`, a new small model.bin and XDG_CACHE_HOME emptied before "
    "each run",
    REGISTER_WARM: "`modelreg register bench model.bin`, new bytes each run, after one untimed register",
    PROMOTE_COLD: "`modelreg promote bench V production`, V a version that does not hold it (the one before the "
    "holder, then older), XDG_CACHE_HOME emptied before each run",
    PROMOTE_WARM: "the same, other V, after one untimed promote",
}


def _time(args: list[str], cwd: Path, env: Mapping[str, str], before: Callable[[], None] | None = None) -> float:
    if before is not None:
        before()
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=dict(env), capture_output=True, check=False)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).decode(errors="replace").strip()
        raise SystemExit(f"`{' '.join(args)}` failed (exit {proc.returncode}): {detail}")
    return took


def _git_processes(args: list[str], cwd: Path, env: Mapping[str, str], before: Callable[[], None]) -> float:
    """How many git processes one run of `args` starts (GIT_TRACE lines naming a git command)."""
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "trace"
        _time(args, cwd, {**env, "GIT_TRACE": str(trace)}, before)
        lines = trace.read_text(errors="replace").splitlines() if trace.exists() else []
    return float(sum(1 for line in lines if " trace: built-in: git " in line or " trace: exec: git-" in line))


def measure_writes(clone: Path, env: Mapping[str, str], cache: Path, runs: int, holder: int) -> dict[str, float]:
    """The write rows (median seconds; git process counts) in `clone`, whose bench model's production holder is
    version `holder` (make_registry: bench's last version)."""
    artifact = clone.parent / f"{clone.name}-model.bin"
    r: dict[str, float] = {}
    stamp = time.time_ns()
    counter = [0]

    def new_bytes() -> None:
        counter[0] += 1
        artifact.write_bytes(f"weights {stamp} {counter[0]}\n".encode() * 4)

    def empty_cache_new_bytes() -> None:
        shutil.rmtree(cache, ignore_errors=True)
        new_bytes()

    def empty_cache() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    def staged_file() -> None:
        counter[0] += 1
        (clone / "floor.txt").write_text(f"floor {stamp} {counter[0]}\n")
        subprocess.run(["git", "add", "floor.txt"], cwd=clone, env=dict(env), check=True)

    commits = [_time(["git", "commit", "-q", "-m", f"floor {i}"], clone, env, staged_file) for i in range(runs)]
    tags = [_time(["git", "tag", "-a", "-m", "floor", f"floor-{stamp}-{i}", "HEAD"], clone, env) for i in range(runs)]
    r[FLOOR] = statistics.median(commits) + statistics.median(tags)

    register = [MODELREG, "register", "bench", str(artifact)]
    r[REGISTER_COLD] = statistics.median(_time(register, clone, env, empty_cache_new_bytes) for _ in range(runs))
    r[REGISTER_COLD + GIT_COUNT] = _git_processes(register, clone, env, empty_cache_new_bytes)
    _time(register, clone, env, new_bytes)
    r[REGISTER_WARM] = statistics.median(_time(register, clone, env, new_bytes) for _ in range(runs))

    versions = iter(range(holder - 1, 0, -1))  # never the holder; each promotion archives the one before

    def promote() -> list[str]:
        return [MODELREG, "promote", "bench", str(next(versions)), "production"]

    r[PROMOTE_COLD] = statistics.median(_time(promote(), clone, env, empty_cache) for _ in range(runs))
    r[PROMOTE_COLD + GIT_COUNT] = _git_processes(promote(), clone, env, empty_cache)
    _time(promote(), clone, env)
    r[PROMOTE_WARM] = statistics.median(_time(promote(), clone, env) for _ in range(runs))
    artifact.unlink(missing_ok=True)
    return r


# (row, goal as written, limit, value)
RATIOS: list[tuple[str, str, float | None, Callable[[dict[str, float]], float]]] = [
    ("write floor (git commit + git tag -a), s", "", None, lambda r: r[FLOOR]),
    ("register, first call, s", "≤ 0.5", 0.5, lambda r: r[REGISTER_COLD]),
    ("promote, first call, s", "≤ 0.5", 0.5, lambda r: r[PROMOTE_COLD]),
    ("register, first call / write floor", "", None, lambda r: r[REGISTER_COLD] / r[FLOOR]),
    ("promote, first call / write floor", "", None, lambda r: r[PROMOTE_COLD] / r[FLOOR]),
    ("register, warm / write floor", "", None, lambda r: r[REGISTER_WARM] / r[FLOOR]),
    ("promote, warm / write floor", "", None, lambda r: r[PROMOTE_WARM] / r[FLOOR]),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clone", type=Path, help="a registry make_registry built, or a clone of it (it is written to)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    compile_package()
    clone = args.clone.resolve()
    listing = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname)", "refs/tags/bench#production#*"],
        cwd=clone,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    holder = min(int(ref.rpartition("#")[2]) for ref in listing)  # the build's own production event: seq = version
    with tempfile.TemporaryDirectory(prefix="modelreg-writes-") as tmp:
        env = installed_env(**IDENTITY, XDG_CACHE_HOME=str(Path(tmp) / "cache"))
        progress(f"writes in {clone} (load {os.getloadavg()[0]:.1f})")
        r = measure_writes(clone, env, Path(tmp) / "cache", args.runs, holder)
    for label, seconds in r.items():
        print(f"{label}: {seconds:.0f}" if label.endswith(GIT_COUNT) else f"{label}: {seconds:.3f} s")
    for label, _, limit, value in RATIOS:
        v = value(r)
        print(f"{label}: {v:.3f}" + ("" if limit is None else (" ✓" if v <= limit else " ✗")))
    print(f"load average after: {os.getloadavg()[0]:.1f}", file=sys.stderr)


if __name__ == "__main__":
    main()
