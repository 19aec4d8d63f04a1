"""What search and time travel cost beside `list`, on one synthetic registry.

    .venv/bin/python benchmarks/bench_search.py [--events 20000] [--runs 7]

Builds a registry with `make_registry.build` (--events tags in all: half version tags, half
stage/alias events; 20,000 tags are 10,000 versions) and times, as whole processes of the venv's
`modelreg` (median of --runs, after one untimed warm-up call), `list --json` beside:

  - search with no filter, with a metric and stage filter, and ordered with a limit;
  - search cold: the manifest parse cache emptied before every run (what the first search after
    new registrations pays, at worst);
  - the reads with `--at`: list, resolve, show, and history with --since/--until.

Every manifest in the synthetic registry has the same date and metrics, so the filters match many
versions: the timings are of reading and matching every version, not of skipping them.
Goal: search within 2x of `list`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchenv import IDENTITY, MODELREG, compile_package, installed_env, median_time, progress, run_checked
from make_registry import build

AT = "2023-11-14T22:13:20Z"  # the date make_registry gives every tag


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000, help="tags in all (half of them versions)")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    compile_package()
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = installed_env(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), **IDENTITY)
        repo = Path(tmp) / "registry"
        build(repo, args.events, progress=progress)
        versions = int(run_checked([MODELREG, "search", "--json"], repo, env).stdout.count(b'"schema"'))
        cache = home / ".cache" / "modelreg" / "manifests"
        reads: list[tuple[str, list[str], bool]] = [
            ("list", ["list", "--json"], False),
            ("search (no filter)", ["search", "--json"], False),
            ("search metrics + stage", ["search", "metrics.auc > 0.5 AND stage = 'production'", "--json"], False),
            ("search order + limit", ["search", "--order-by", "metrics.auc DESC", "--limit", "10", "--json"], False),
            ("search cold", ["search", "--json"], True),
            ("list --at", ["list", "--at", AT, "--json"], False),
            ("resolve --at", ["resolve", "bench/production", "--at", AT], False),
            ("show --at", ["show", "bench/production", "--at", AT, "--json"], False),
            ("history --since --until", ["history", "bench", "--since", AT, "--until", AT, "--json"], False),
        ]
        rows = []
        for label, command, cold in reads:
            argv = [MODELREG, *command]
            run_checked(argv, repo, env)  # warm-up
            before = (lambda _i: shutil.rmtree(cache, ignore_errors=True)) if cold else None
            seconds = median_time(argv, repo, args.runs, env, before)
            rows.append((label, seconds))
            progress(f"{label}: {seconds * 1000:.0f} ms")
        base = rows[0][1]
        print(f"\n{args.events:,} tags, {versions:,} versions; median of {args.runs} runs\n")
        print("| read | time | vs list |")
        print("|---|---:|---:|")
        for label, seconds in rows:
            print(f"| {label} | {seconds * 1000:.0f} ms | {seconds / base:.2f}x |")


if __name__ == "__main__":
    main()
