"""Register and pull 1 GiB (one file, and a directory of 64 files) on a local store.

A cached pull copies verified cache entries (reflinks where the filesystem has them), so its
floor is `cp` of the same bytes.

Every number is set against a floor measured in the same run: one in-process `hashlib.sha256`
pass over the bytes plus a `cp` of them. Whole processes are timed through this interpreter's
own `modelreg` console script; peak memory is the child's max RSS.

    .venv/bin/python benchmarks/bench_artifacts.py [--size-mib 1024] [--runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODELREG = str(Path(sys.executable).with_name("modelreg"))


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of one child process."""
    os.sync()  # every measurement starts with no dirty pages left over from the one before
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return elapsed, usage.ru_maxrss / 1024


def hash_pass(paths: list[Path]) -> float:
    os.sync()
    start = time.perf_counter()
    for path in paths:
        with open(path, "rb") as handle:
            hashlib.file_digest(handle, "sha256")
    return time.perf_counter() - start


def cp(source: Path, target: Path) -> float:
    os.sync()
    start = time.perf_counter()
    subprocess.run(["cp", "-r", str(source), str(target)], check=True)
    elapsed = time.perf_counter() - start
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    return elapsed


def files_of(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())


def make_inputs(work: Path, size: int) -> tuple[Path, Path]:
    single = work / "model.bin"
    with open(single, "wb") as handle:
        for _ in range(size // (16 << 20)):
            handle.write(os.urandom(16 << 20))
    directory = work / "model-dir"
    directory.mkdir()
    for index in range(64):
        with open(directory / f"shard-{index:02d}.bin", "wb") as handle:
            handle.write(os.urandom(size // 64))
    return single, directory


def registry(work: Path, env: dict[str, str]) -> Path:
    repo = work / "repo"
    repo.mkdir()
    for args in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "commit", "-q", "--allow-empty", "-m", "root"],
        [MODELREG, "init"],
    ):
        subprocess.run(args, cwd=repo, env=env, check=True, capture_output=True)
    return repo


def bench(label: str, source: Path, repo: Path, env: dict[str, str], runs: int) -> list[tuple[str, str]]:
    store = repo / ".modelreg" / "store"
    floor_hash = statistics.median(hash_pass(files_of(source)) for _ in range(runs))
    floor_cp = statistics.median(cp(source, source.with_name(source.name + ".copy")) for _ in range(runs))
    floor = floor_hash + floor_cp

    fresh, dedup, rss = [], [], []
    for _ in range(runs):
        shutil.rmtree(store / "blobs", ignore_errors=True)
        seconds, peak = timed([MODELREG, "register", label, str(source)], repo, env)
        fresh.append(seconds)
        rss.append(peak)
        seconds, peak = timed([MODELREG, "register", label, str(source)], repo, env)
        dedup.append(seconds)
        rss.append(peak)

    cache = Path(env["XDG_CACHE_HOME"])
    shutil.rmtree(cache, ignore_errors=True)
    first_pull, peak = timed([MODELREG, "pull", label, "-o", str(repo.parent / f"{label}-first")], repo, env)
    rss.append(peak)
    cached = []
    for run in range(runs):
        out = repo.parent / f"{label}-pull-{run}"
        seconds, peak = timed([MODELREG, "pull", label, "-o", str(out)], repo, env)
        cached.append(seconds)
        rss.append(peak)
        shutil.rmtree(out)

    reg, dup, pull = statistics.median(fresh), statistics.median(dedup), statistics.median(cached)
    return [
        (f"{label}: floor (hashlib pass + cp)", f"{floor:.2f} s  (hash {floor_hash:.2f} + cp {floor_cp:.2f})"),
        (f"{label}: register, new blobs", f"{reg:.2f} s  = {reg / floor:.2f}x floor  (goal ≤ 1.3x)"),
        (f"{label}: register, blobs present", f"{dup:.2f} s  = {dup / floor_hash:.2f}x hashlib pass  (goal ≤ 1.15x)"),
        (f"{label}: pull, cold cache", f"{first_pull:.2f} s"),
        (f"{label}: pull, cached", f"{pull:.3f} s  = {pull / floor_cp:.2f}x cp  (goal ≤ 2x: a copy, never a link)"),
        (f"{label}: peak RSS", f"{max(rss):.0f} MiB  (goal < 150 MiB)"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="modelreg-bench-", dir=os.environ.get("BENCH_DIR")) as tmp:
        work = Path(tmp)
        env = {
            **os.environ,
            "HOME": str(work),
            "XDG_CACHE_HOME": str(work / "cache"),
            "GIT_AUTHOR_NAME": "Bench",
            "GIT_AUTHOR_EMAIL": "bench@example.com",
            "GIT_COMMITTER_NAME": "Bench",
            "GIT_COMMITTER_EMAIL": "bench@example.com",
        }
        single, directory = make_inputs(work, args.size_mib << 20)
        repo = registry(work, env)
        rows = bench("file", single, repo, env, args.runs) + bench("dir64", directory, repo, env, args.runs)
    width = max(len(name) for name, _ in rows)
    print(f"modelreg artifacts, {args.size_mib} MiB, median of {args.runs}, {os.cpu_count()} cores")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
