"""How long a serving host takes to resolve and read one model from a big remote registry.

Builds (benchmarks/make_registry.py) a repository with --tags modelreg tags (half version
tags, half stage events with their claim refs) over --commits unrelated commits of source
history, then times, median of --runs, in this run:
  - baseline: `git clone --bare` of the whole repository (what reading used to need), and
    `git ls-remote` (one round trip, the floor for asking a remote anything);
  - `modelreg resolve bench/production --repo URL`, cold (empty cache) and warm;
  - `modelreg show bench@v1 --repo URL`, warm.

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

from make_registry import build

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
        url = f"file://{repo}"
        env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}
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
        median("git ls-remote (one round trip)", ["git", "ls-remote", url, "refs/heads/main"])
        median(
            "modelreg resolve bench/production --repo, cold cache",
            [MODELREG, "resolve", "bench/production", "--repo", url],
            cold_cache,
        )
        median(
            "modelreg resolve bench/production --repo, warm cache",
            [MODELREG, "resolve", "bench/production", "--repo", url],
        )
        median("modelreg show bench@v1 --repo, warm cache", [MODELREG, "show", "bench@v1", "--repo", url, "--json"])
        size = sum(p.stat().st_size for p in (work / "cache").rglob("*") if p.is_file())
        whole = sum(p.stat().st_size for p in repo.rglob("*") if p.is_file())
    print(
        f"registry: {count} tags over {args.commits} unrelated commits (built in {built:.1f} s); median of {args.runs}"
    )
    width = max(len(label) for label, _ in rows)
    clone = rows[0][1]
    for label, seconds in rows:
        print(f"{label:<{width}}  {seconds:6.3f} s  ({seconds / clone:.2f}x clone)")
    print(f"cache after reading one model: {size / 1024:.0f} KiB; the whole repository: {whole / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
