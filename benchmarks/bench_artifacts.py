"""Register artifacts into a local store, set against a durable floor measured in the same rounds.

The floor is what any durable registration must at least do: one in-process `hashlib.sha256`
pass over the bytes, `cp` of them beside the store, and `sync` of every copied file (an fsync
each). Each round writes new random bytes (no blob or digest is known from an earlier round),
then times the floor and each tree's `modelreg register` in an order that rotates from round to
round; the store's blobs and the digest cache are emptied before each register. Each row gives
the median of the rounds, their spread (min to max) and the median of the per-round ratios to the
floor. Whole processes are timed through this interpreter's `modelreg` console script, with
PYTHONPATH set to the tree under test (by default the one holding this script; `--tree
LABEL=PATH` adds another, e.g. the commit before a change, for a before/after in the same run).

Cases (`--cases`): `file` (one file of --size-mib), `file-half` (half of it), `dir64` (64 files,
--size-mib in all), `small` (--small-files files of 64 KiB), `cold` (one file of --size-mib,
dropped from the page cache before every contender with posix_fadvise(DONTNEED)), `tmpfs` (one
file of --size-mib/2 on /dev/shm, another file system than the store's). `--pull` also times a
pull of the last registered `file` and `dir64` (cold cache, then cached, against `cp`).

    .venv/bin/python benchmarks/bench_artifacts.py [--size-mib 1024] [--runs 3] [--tree before=../old]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODELREG = str(Path(sys.executable).with_name("modelreg"))
HERE = Path(__file__).resolve().parents[1]
GOALS = {"file": 1.3, "file-half": 1.3, "dir64": 1.5, "small": 1.5, "cold": 1.3, "tmpfs": 1.3}


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """(seconds, peak RSS in MiB, CPU seconds) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def files_of(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())


def settle(paths: list[Path], cold: bool) -> None:
    """No dirty pages left from before; with `cold`, the sources' pages dropped from the page cache."""
    os.sync()
    for path in paths if cold else []:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def hash_pass(paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        with open(path, "rb") as handle:
            hashlib.file_digest(handle, "sha256")
    return time.perf_counter() - start


def cpu_now() -> float:
    """CPU seconds used so far by this process and its waited-for children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def floor(source: Path, copy: Path) -> tuple[float, float, float]:
    """(hash pass + cp + sync of the copy, hash pass alone, CPU seconds of the whole)."""
    cpu = cpu_now()
    start = time.perf_counter()
    hashed = hash_pass(files_of(source))
    subprocess.run(["cp", "-r", str(source), str(copy)], check=True)
    subprocess.run(["sync", *map(str, files_of(copy))], check=True)
    elapsed = time.perf_counter() - start
    cpu = cpu_now() - cpu
    shutil.rmtree(copy) if copy.is_dir() else copy.unlink()
    return elapsed, hashed, cpu


def write_random(path: Path, size: int) -> None:
    with open(path, "wb") as handle:
        for _ in range(size // (16 << 20)):
            handle.write(os.urandom(16 << 20))
        handle.write(os.urandom(size % (16 << 20)))


def make_input(case: str, work: Path, size: int, small: int) -> Path:
    """New random bytes for one round of `case`."""
    if case == "tmpfs":
        path = Path(tempfile.mkdtemp(prefix="modelreg-bench-", dir="/dev/shm")) / "model.bin"
        write_random(path, size // 2)
        return path
    if case in ("dir64", "small"):
        directory = work / f"in-{case}"
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir()
        count, each = (64, size // 64) if case == "dir64" else (small, 64 << 10)
        for index in range(count):
            write_random(directory / f"shard-{index:04d}.bin", each)
        return directory
    path = work / f"in-{case}.bin"
    write_random(path, size // 2 if case == "file-half" else size)
    return path


def registry(work: Path, env: dict[str, str]) -> Path:
    repo = work / "repo"
    repo.mkdir()
    for args in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "commit", "-q", "--allow-empty", "-m", "root"],
        [MODELREG, "init", "--store", ".modelreg/store"],  # a local directory store: what this measures
    ):
        subprocess.run(args, cwd=repo, env=env, check=True, capture_output=True)
    return repo


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s  ({min(values):.2f}–{max(values):.2f})"


def bench_case(
    case: str, work: Path, repo: Path, trees: dict[str, dict[str, str]], args: argparse.Namespace
) -> list[tuple[str, str]]:
    store, cache = repo / ".modelreg" / "store", work / "cache"
    floors: list[float] = []
    hashes: list[float] = []
    times: dict[str, list[float]] = {label: [] for label in trees}
    ratios: dict[str, list[float]] = {label: [] for label in trees}
    again: list[float] = []
    floor_cpu: list[float] = []
    cpus: dict[str, list[float]] = {label: [] for label in trees}
    rss: list[float] = []
    cold = case == "cold"
    for run in range(args.runs):
        source = make_input(case, work, args.size_mib << 20, args.small_files)
        paths = files_of(source)
        round_times: dict[str, float] = {}
        contenders: list[str | None] = [None, *trees]  # None: the floor
        for index in range(len(contenders)):
            label = contenders[(index + run) % len(contenders)]
            if label is None:
                settle(paths, cold)
                seconds, hashed, cpu = floor(source, work / "floor-copy")
                floors.append(seconds)
                floor_cpu.append(cpu)
                hashes.append(hashed)
                continue
            shutil.rmtree(store / "blobs", ignore_errors=True)
            shutil.rmtree(store / "tmp", ignore_errors=True)
            shutil.rmtree(cache, ignore_errors=True)
            settle(paths, cold)
            seconds, peak, cpu = timed([MODELREG, "register", case, str(source)], repo, trees[label])
            round_times[label] = seconds
            cpus[label].append(cpu)
            rss.append(peak)
        for label, seconds in round_times.items():
            times[label].append(seconds)
            ratios[label].append(seconds / floors[-1])
        if not cold:  # the last register left its blobs: the same bytes again
            settle(paths, cold)
            again.append(timed([MODELREG, "register", case, str(source)], repo, trees["register"])[0] / hashes[-1])
        if case == "tmpfs":
            shutil.rmtree(source.parent)
    rows = [
        (
            f"{case}: floor (hashlib + cp + sync)",
            f"{spread(floors)}  (hash pass {statistics.median(hashes):.2f}; cpu {statistics.median(floor_cpu):.2f} s)",
        )
    ]
    for label in trees:
        ratio = statistics.median(ratios[label])
        goal = GOALS[case]
        mark = "✓" if ratio <= goal else "✗"
        rows.append(
            (
                f"{case}: {label}",
                f"{spread(times[label])}  = {ratio:.2f}x floor "
                f"({min(ratios[label]):.2f}–{max(ratios[label]):.2f}; goal ≤ {goal}x) {mark}  "
                f"cpu {statistics.median(cpus[label]):.2f} s",
            )
        )
    if again:
        rows.append((f"{case}: register again, same bytes", f"{statistics.median(again):.2f}x hashlib pass"))
    rows.append((f"{case}: peak RSS", f"{max(rss):.0f} MiB"))
    return rows


def bench_pull(case: str, repo: Path, env: dict[str, str], runs: int) -> list[tuple[str, str]]:
    source = repo.parent / (f"in-{case}.bin" if case == "file" else f"in-{case}")
    shutil.rmtree(Path(env["XDG_CACHE_HOME"]), ignore_errors=True)
    os.sync()
    first, _, _ = timed([MODELREG, "pull", case, "-o", str(repo.parent / f"{case}-first")], repo, env)
    cached, copies = [], []
    for run in range(runs):
        out = repo.parent / f"{case}-pull-{run}"
        os.sync()
        cached.append(timed([MODELREG, "pull", case, "-o", str(out)], repo, env)[0])
        shutil.rmtree(out)
        os.sync()
        start = time.perf_counter()
        subprocess.run(["cp", "-r", str(source), str(out)], check=True)
        copies.append(time.perf_counter() - start)
        shutil.rmtree(out) if out.is_dir() else out.unlink()
    pull, cp = statistics.median(cached), statistics.median(copies)
    return [
        (f"{case}: pull, cold cache", f"{first:.2f} s"),
        (f"{case}: pull, cached", f"{pull:.3f} s  = {pull / cp:.2f}x cp  (goal ≤ 2x: a copy, never a link)"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--small-files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cases", default="file,dir64,small,cold,tmpfs")
    parser.add_argument("--tree", action="append", default=[], help="LABEL=PATH: also time this tree")
    parser.add_argument("--pull", action="store_true")
    args = parser.parse_args()
    cases = args.cases.split(",")
    if unknown := set(cases) - set(GOALS):
        raise SystemExit(f"unknown cases: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="modelreg-bench-", dir=os.environ.get("BENCH_DIR")) as tmp:
        work = Path(tmp)
        env = {
            **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
            "HOME": str(work),
            "XDG_CACHE_HOME": str(work / "cache"),
            "GIT_AUTHOR_NAME": "Bench",
            "GIT_AUTHOR_EMAIL": "bench@example.com",
            "GIT_COMMITTER_NAME": "Bench",
            "GIT_COMMITTER_EMAIL": "bench@example.com",
        }
        trees = {"register": {**env, "PYTHONPATH": str(HERE)}}
        for spec in args.tree:
            label, _, path = spec.partition("=")
            trees[f"register ({label})"] = {**env, "PYTHONPATH": str(Path(path).resolve())}
        for tree in trees.values():
            subprocess.run([sys.executable, "-m", "compileall", "-q", f"{tree['PYTHONPATH']}/modelreg"], check=True)
        repo = registry(work, trees["register"])
        print(
            f"modelreg register, {args.size_mib} MiB, median of {args.runs} interleaved rounds, "
            f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        for case in cases:  # each case's rows as soon as it is done
            rows = bench_case(case, work, repo, trees, args)
            if args.pull and case in ("file", "dir64"):
                rows += bench_pull(case, repo, trees["register"], args.runs)
            width = max(len(name) for name, _ in rows)
            for name, value in rows:
                print(f"{name:<{width}}  {value}", flush=True)
        print(f"load at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
