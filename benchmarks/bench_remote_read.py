"""How long a serving host takes to resolve and read one model from a big remote registry.

Builds (benchmarks/make_registry.py) a repository with --tags modelreg tags (half version
tags, half stage events with their claim refs) over --commits unrelated commits of source
history, serves it with `git daemon` on 127.0.0.1 (the tests' helper, tests/servers.py), then
times, median of --runs, in this run:
  - baselines: `git clone --bare` of the whole repository (what reading used to need), and
    `git ls-remote` of the bench model's refs and HEAD (the floor for asking whether they changed);
  - `modelreg resolve bench/production --repo URL`, cold (empty cache) and repeated (goal: within
    2x of that ls-remote: an unchanged remote is asked, nothing is fetched);
  - `modelreg show bench@v1 --repo URL`, repeated.

    .venv/bin/python benchmarks/bench_remote_read.py [--tags 10000] [--commits 3000] [--runs 5]
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from make_registry import build

from tests.servers import git_daemon

MODELREG = str(Path(sys.executable).with_name("modelreg"))


def timed(args: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(args, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=int, default=10_000)
    parser.add_argument("--commits", type=int, default=3_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="modelreg-remote-") as tmp:
        work = Path(tmp)
        repo = work / "registry.git"
        start = time.perf_counter()
        build(repo, args.tags, commits=args.commits)
        subprocess.run(["git", "config", "uploadpack.allowFilter", "true"], cwd=repo, check=True)
        built = time.perf_counter() - start
        count = len(subprocess.run(["git", "tag", "-l"], cwd=repo, capture_output=True, text=True).stdout.split())
        daemon = git_daemon(work)
        url = f"{daemon.__enter__()}/registry.git"
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["XDG_CACHE_HOME"] = str(work / "cache")
        rows: list[tuple[str, float]] = []

        def median(label: str, make: list[str], before: object = None) -> None:
            samples = []
            for _ in range(args.runs):
                if callable(before):
                    before()
                samples.append(timed(make, env, work))
            rows.append((label, statistics.median(samples)))

        def fresh_clone() -> None:
            shutil.rmtree(work / "clone.git", ignore_errors=True)

        def cold_cache() -> None:
            shutil.rmtree(work / "cache", ignore_errors=True)

        median("git clone --bare (whole repository)", ["git", "clone", "-q", "--bare", url, "clone.git"], fresh_clone)
        refs = ["HEAD", "refs/tags/bench@v*", "refs/tags/bench#*", "refs/modelreg/events/bench/*"]
        median("git ls-remote of bench's refs and HEAD", ["git", "ls-remote", url, *refs])
        median(
            "modelreg resolve bench/production --repo, cold cache",
            [MODELREG, "resolve", "bench/production", "--repo", url],
            cold_cache,
        )
        median(
            "modelreg resolve bench/production --repo, repeated",
            [MODELREG, "resolve", "bench/production", "--repo", url],
        )
        median("modelreg show bench@v1 --repo, repeated", [MODELREG, "show", "bench@v1", "--repo", url, "--json"])
        daemon.__exit__(None, None, None)
        size = sum(p.stat().st_size for p in (work / "cache").rglob("*") if p.is_file())
        whole = sum(p.stat().st_size for p in repo.rglob("*") if p.is_file())
    print(
        f"registry: {count} tags over {args.commits} unrelated commits (built in {built:.1f} s); median of {args.runs}"
    )
    width = max(len(label) for label, _ in rows)
    clone, ls_remote = rows[0][1], rows[1][1]
    for label, seconds in rows:
        print(
            f"{label:<{width}}  {seconds:6.3f} s  ({seconds / clone:.2f}x clone, {seconds / ls_remote:.2f}x ls-remote)"
        )
    print(f"cache after reading one model: {size / 1024:.0f} KiB; the whole repository: {whole / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
