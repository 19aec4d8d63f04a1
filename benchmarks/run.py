"""Time modelreg's commands as whole processes on registries of 100 to 50,000 events.

Every number is a median of --runs, taken in this run beside its baselines: `python -c pass`,
`git for-each-ref` over the same tags (with their messages), a minimal two-command Typer app's
`--help`, and GTO's equivalent commands on a GTO-format repository of the same size when a `gto`
executable is found (--gto PATH, or on PATH). Prints a table and writes benchmarks/results.md.

    .venv/bin/python benchmarks/run.py [--sizes 100,1000,10000,50000] [--runs 5] [--gto PATH]
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

from make_registry import build, layout

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
MODELREG = str(Path(PYTHON).with_name("modelreg"))
MINIMAL_TYPER = """import typer
app = typer.Typer()
@app.command()
def hello(name: str) -> None:
    print(name)
@app.command()
def bye() -> None:
    pass
app()
"""


def median_time(
    args: list[str], cwd: Path, runs: int, env: dict[str, str] | None = None, each: list[list[str]] | None = None
) -> float:
    """Median wall time of `args` (or of each command in `each`, one per run) as a child process."""
    samples = []
    for index in range(runs):
        command = each[index] if each else args
        start = time.perf_counter()
        proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=False)
        samples.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed: {proc.stderr.decode().strip()}")
    return statistics.median(samples)


def measure(size: int, work: Path, runs: int, gto: str | None, gto_runs: int, single: bool) -> dict[str, float]:
    repo = work / f"modelreg-{size}"
    build(repo, size, single=single)
    versions = dict(layout(size, single))["bench"]
    env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}
    results: dict[str, float] = {}
    results["python -c pass"] = median_time([PYTHON, "-c", "pass"], repo, runs)
    results["git for-each-ref (bench's tags)"] = median_time(
        [
            "git",
            "for-each-ref",
            "--format=%(refname)%(objectname)%(*objectname)%(contents)",
            "refs/tags/bench@v*",
            "refs/tags/bench#*#*",
            "refs/modelreg/events/bench/",
        ],
        repo,
        runs,
    )
    results["git for-each-ref (all tags)"] = median_time(
        ["git", "for-each-ref", "--format=%(refname)%(objectname)%(*objectname)%(contents)", "refs/tags/"], repo, runs
    )
    (work / "minimal.py").write_text(MINIMAL_TYPER)
    results["minimal Typer app --help"] = median_time([PYTHON, str(work / "minimal.py"), "--help"], repo, runs)
    results["modelreg --help"] = median_time([MODELREG, "--help"], repo, runs, env)
    reads = {
        "list": ["list"],
        "show bench": ["show", "bench"],
        "history bench": ["history", "bench", "--json"],
        "resolve bench/production": ["resolve", "bench/production"],
    }
    # A repeated ask is answered from the memo (see modelreg/memo.py): one untimed run records it.
    # The first ask after any change runs in full; MODELREG_NO_MEMO=1 times exactly that.
    for name, args in reads.items():
        subprocess.run([MODELREG, *args], cwd=repo, env=env, capture_output=True, check=True)
        results[f"modelreg {name}"] = median_time([MODELREG, *args], repo, runs, env)
    full = {**env, "MODELREG_NO_MEMO": "1"}
    for name, args in reads.items():
        results[f"modelreg {name} (first ask: full run)"] = median_time([MODELREG, *args], repo, runs, full)
    results["modelreg check-ref"] = median_time(
        [MODELREG, "check-ref", f"bench#production#{versions}"], repo, runs, env
    )
    artifact = work / "model.bin"
    artifact.write_bytes(b"weights" * 1000)
    results["modelreg register"] = median_time([MODELREG, "register", "bench", str(artifact)], repo, runs, env)
    even = [v for v in range(2, versions, 2)][:runs]
    results["modelreg promote"] = median_time(
        [], repo, runs, env, each=[[MODELREG, "promote", "bench", str(v), "staging"] for v in even]
    )
    if gto:
        gto_repo = work / f"gto-{size}"
        build(gto_repo, size, fmt="gto", single=single)
        results["gto show"] = median_time([gto, "show"], gto_repo, gto_runs)
        results["gto show bench"] = median_time([gto, "show", "bench"], gto_repo, gto_runs)
        results["gto history bench"] = median_time([gto, "history", "bench"], gto_repo, gto_runs)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000,50000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--gto", default=shutil.which("gto"), help="a gto executable (pip install gto)")
    parser.add_argument("--gto-max", type=int, default=10_000, help="largest size to run GTO on (it is slow)")
    parser.add_argument("--gto-runs", type=int, default=3)
    parser.add_argument("--single", action="store_true", help="one model holds every event (GTO's worst case)")
    parser.add_argument("--output", type=Path, default=HERE / "results.md")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    table: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="modelreg-bench-") as tmp:
        for size in sizes:
            gto = args.gto if args.gto and size <= args.gto_max else None
            runs = args.gto_runs if size <= 1000 else 1
            table[size] = measure(size, Path(tmp), args.runs, gto, runs, args.single)
            print(f"measured {size} events", file=sys.stderr, flush=True)
    rows = list(dict.fromkeys(name for results in table.values() for name in results))
    lines = [
        "| command (median s) | " + " | ".join(f"{s:,} events" for s in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for name in rows:
        lines.append(
            f"| {name} | " + " | ".join(f"{table[s][name]:.3f}" if name in table[s] else "—" for s in sizes) + " |"
        )
    lines += ["", "Ratios (same run):", ""]
    for size in sizes:
        r = table[size]
        floor = r["python -c pass"] + r["git for-each-ref (bench's tags)"]
        parts = [
            f"--help / minimal Typer --help = {r['modelreg --help'] / r['minimal Typer app --help']:.2f}",
            f"resolve / (python -c pass + for-each-ref) = {r['modelreg resolve bench/production'] / floor:.2f}",
            f"show / (python -c pass + for-each-ref) = {r['modelreg show bench'] / floor:.2f}",
            "first ask: resolve = {:.2f}, show = {:.2f}".format(
                r["modelreg resolve bench/production (first ask: full run)"] / floor,
                r["modelreg show bench (first ask: full run)"] / floor,
            ),
        ]
        if "gto show bench" in r:
            parts.append(
                f"gto show bench / modelreg show bench = {r['gto show bench'] / r['modelreg show bench']:.0f}x"
            )
            parts.append(f"gto show / modelreg list = {r['gto show'] / r['modelreg list']:.0f}x")
        lines.append(f"- {size:,} events: " + "; ".join(parts))
    text = "\n".join(lines) + "\n"
    print(text)
    header = (
        f"# modelreg benchmarks\n\nMeasured by `benchmarks/run.py` on a {os.cpu_count()}-core machine; "
        "whole processes, medians. The read commands are timed as a repeated ask, answered from the "
        "memo (`modelreg/memo.py`: one git call re-checks every input), and as a first ask after a change "
        "(`MODELREG_NO_MEMO=1`: the full run). GTO rows are timed on a GTO-format repository of the same "
        "size (fewer runs: it is slow).\n\n"
    )
    args.output.write_text(header + text)


if __name__ == "__main__":
    main()
