"""Cold reads: a fresh clone, an empty cache, the first call, as a CI job or a new pod makes it.

    .venv/bin/python benchmarks/bench_cold_reads.py REGISTRY [REGISTRY…] [--tree DIR] [--runs 5]

Each REGISTRY (built by make_registry.py, optionally signed by sign_registry.py) is cloned afresh
(`git clone --no-local`, then its claim refs fetched); every timed call is a whole
`.venv/bin/modelreg` process with its own empty XDG_CACHE_HOME. Beside each command: the floor,
`python -c pass` plus `git for-each-ref` of bench's tags in the same clone, timed in the same
run; the ratio is taken pair by pair (command, then floor), median of the pairs. Peak memory is
the process's maximum resident set (`wait4`). `--tree DIR` puts DIR first on PYTHONPATH (a
checkout of another commit, to time before and after on the same machine in the same hour).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchenv import MODELREG, PYTHON, installed_env

FLOOR_REFS = ["refs/tags/bench@v*", "refs/tags/bench#*#*"]


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int, int]:
    """(seconds, peak KiB, exit code) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, usage.ru_maxrss, proc.returncode


def floor(cwd: Path, env: dict[str, str]) -> float:
    first = run([PYTHON, "-c", "pass"], cwd, env)[0]
    return first + run(["git", "for-each-ref", *FLOOR_REFS], cwd, env)[0]


def clone(source: Path, scratch: Path) -> Path:
    dest = scratch / f"clone-{source.name}"
    subprocess.run(["git", "clone", "-q", "--no-local", str(source), str(dest)], check=True)
    subprocess.run(["git", "fetch", "-q", "origin", "+refs/modelreg/*:refs/modelreg/*"], cwd=dest, check=True)
    return dest


def commands(repo: Path) -> list[list[str]]:
    versions = subprocess.run(
        [
            "git",
            "for-each-ref",
            "--count=1",
            "--sort=-version:refname",
            "--format=%(refname:strip=2)",
            "refs/tags/bench@v*",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    latest = int(versions.rpartition("@v")[2])
    return [
        ["resolve", "bench/production"],
        ["resolve", "bench"],
        ["resolve", "--json", "bench/production"],
        ["check-ref", f"bench@v{latest}"],
        ["check-ref", f"bench#production#{latest}"],
        ["list"],
    ]


def measure(
    source: Path, tree: Path | None, runs: int, only: str | None = None
) -> list[tuple[str, float, float, float, float, int]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as scratch_name:
        scratch = Path(scratch_name)
        repo = clone(source, scratch)
        for command in commands(repo):
            if only is not None and only not in " ".join(command):
                continue
            times, floors, ratios, peaks = [], [], [], []
            for index in range(runs):
                cache = scratch / f"cache-{len(rows)}-{index}"
                env = installed_env(XDG_CACHE_HOME=str(cache))
                if tree is not None:
                    env["PYTHONPATH"] = str(tree)
                seconds, peak, code = run([MODELREG, *command], repo, env)
                if code != 0:
                    raise SystemExit(f"{' '.join(command)} exited {code} in {repo}")
                base = floor(repo, env)
                times.append(seconds)
                floors.append(base)
                ratios.append(seconds / base)
                peaks.append(peak)
            rows.append(
                (
                    " ".join(command),
                    statistics.median(times),
                    statistics.median(floors),
                    statistics.median(ratios),
                    max(peaks) / 1024,
                    runs,
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("registries", type=Path, nargs="+")
    parser.add_argument("--tree", type=Path, default=None, help="a checkout to run instead (PYTHONPATH)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default=None, help="time only the commands containing this text")
    args = parser.parse_args()
    if args.tree is not None:
        subprocess.run([PYTHON, "-m", "compileall", "-q", str(args.tree / "modelreg")], check=True)
    print("| registry | command | median s | floor s | ratio | peak MiB |")
    print("|---|---|---:|---:|---:|---:|")
    for source in args.registries:
        for name, seconds, base, ratio, peak, _ in measure(source.resolve(), args.tree, args.runs, args.only):
            print(f"| {source.name} | `{name}` | {seconds:.3f} | {base:.3f} | {ratio:.1f}× | {peak:.0f} |", flush=True)


if __name__ == "__main__":
    main()
