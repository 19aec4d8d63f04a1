"""How long a serving host takes to resolve and read one model from a big remote registry, without a clone.

Builds (benchmarks/make_registry.py) a repository with --tags modelreg tags (half version tags,
half stage events with their claim refs) over --commits unrelated commits of source history,
serves it with `git daemon` on 127.0.0.1 (the tests' helper, tests/servers.py `git_daemon`), then
times, median of --runs whole processes, in this run:
  - baselines: `git ls-remote URL` of the bench model's refs and HEAD (the floor for asking whether
    they changed), and `git clone --bare` of the whole repository (what reading without --repo needs);
  - `modelreg resolve bench/production --repo URL`: repeated (after one untimed call; goal: within
    2x of that ls-remote: an unchanged remote is asked, nothing is fetched) and with a cold cache;
  - `modelreg show bench@v1 --repo URL --json`, repeated.
Processes run as an installed user has them (benchenv.py: package compiled, no PYTHONDONTWRITEBYTECODE),
with their own XDG_CACHE_HOME. No network but 127.0.0.1.

    .venv/bin/python benchmarks/bench_remote_read.py [--tags 10000] [--commits 3000] [--runs 5]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' git daemon helper, servers.py

from benchenv import MODELREG, compile_package, installed_env, median_time, progress, run_checked
from make_registry import build
from servers import git_daemon

BENCH_REFS = [
    "HEAD",
    "refs/tags/bench@v*",
    "refs/tags/bench#*",
    "refs/modelreg/events/bench/*",
    "refs/modelreg/versions/bench/*",
]
LS_REMOTE = "git ls-remote URL " + " ".join(BENCH_REFS)
RESOLVE = "modelreg resolve bench/production --repo URL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=int, default=10_000, help="modelreg tags in the registry")
    parser.add_argument("--commits", type=int, default=3_000, help="unrelated commits of history underneath")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    compile_package()
    with tempfile.TemporaryDirectory(prefix="modelreg-remote-") as tmp:
        work = Path(tmp)
        repo = work / "registry.git"
        start = time.perf_counter()
        build(repo, args.tags, commits=args.commits, progress=progress)
        subprocess.run(["git", "config", "uploadpack.allowFilter", "true"], cwd=repo, check=True)
        built = time.perf_counter() - start
        count = len(subprocess.run(["git", "tag", "-l"], cwd=repo, capture_output=True, text=True).stdout.split())
        cache = work / "cache"
        env = installed_env(XDG_CACHE_HOME=str(cache))
        rows: dict[str, float] = {}
        with contextlib.ExitStack() as stack:
            try:
                prefix = stack.enter_context(git_daemon(work))
            except RuntimeError as exc:
                raise SystemExit(f"cannot serve the registry: {exc}") from exc
            url = f"{prefix}/registry.git"

            def time_it(label: str, argv: list[str], before: Callable[[int], None] | None = None) -> None:
                progress(f"timing {label}")
                rows[label] = median_time(argv, work, args.runs, env, before)

            def fresh_clone(_: int) -> None:
                shutil.rmtree(work / "clone.git", ignore_errors=True)

            def cold_cache(_: int) -> None:
                shutil.rmtree(cache, ignore_errors=True)

            time_it(LS_REMOTE, ["git", "ls-remote", url, *BENCH_REFS])
            time_it(
                "git clone --bare URL (the whole repository)",
                ["git", "clone", "-q", "--bare", url, "clone.git"],
                fresh_clone,
            )
            resolve = [MODELREG, "resolve", "bench/production", "--repo", url]
            run_checked(resolve, work, env)  # the untimed first call
            time_it(f"{RESOLVE}, repeated", resolve)
            time_it(f"{RESOLVE}, cold cache (empty XDG_CACHE_HOME)", resolve, cold_cache)
            show = [MODELREG, "show", "bench@v1", "--repo", url, "--json"]
            run_checked(show, work, env)  # the untimed first call
            time_it("modelreg show bench@v1 --repo URL --json, repeated", show)
        cached = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
        whole = sum(p.stat().st_size for p in repo.rglob("*") if p.is_file())
    print(
        f"registry: {count:,} tags over {args.commits:,} unrelated commits (built in {built:.1f} s), served by "
        f"git daemon on 127.0.0.1; median of {args.runs} whole-process runs"
    )
    width = max(len(label) for label in rows)
    ls_remote = rows[LS_REMOTE]
    for label, seconds in rows.items():
        print(f"{label:<{width}}  {seconds:6.3f} s  {seconds / ls_remote:5.2f}x ls-remote")
    ratio = rows[f"{RESOLVE}, repeated"] / ls_remote
    print(f"goal: repeated --repo resolve ≤ 2x ls-remote: {ratio:.2f}x {'✓' if ratio <= 2 else '✗'}")
    print(f"cache after reading one model: {cached / 1024:.0f} KiB; the whole repository: {whole / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
