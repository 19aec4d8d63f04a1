"""Time modelreg's commands as whole processes on registries of 100 to 100,000 events.

Every number is a median of --runs, taken in this run beside its baselines: `python -c pass`,
`git for-each-ref` over the same tags with their messages (the floor: the least any reader of
the tags must do), a minimal two-command Typer app's `--help`, and GTO's equivalent commands on a
GTO-format repository of the same size when a `gto` executable is found. Processes run as an
installed user has them: the package compiled to bytecode first, PYTHONDONTWRITEBYTECODE unset.
Prints a table and writes benchmarks/results.md.

    .venv/bin/python benchmarks/run.py [--sizes 100,1000,10000,50000,100000] [--runs 7] [--gto PATH]
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_registry import build, layout

import modelreg

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
IDENTITY = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}
BENCH_TAGS = ["refs/tags/bench@v*", "refs/tags/bench#*#*", "refs/modelreg/events/bench/"]
CONTENTS = "--format=%(refname)%(objectname)%(*objectname)%(contents)"


def median_time(
    args: list[str], cwd: Path, runs: int, env: dict[str, str], before: Callable[[int], None] | None = None
) -> float:
    """Median wall time of `args` as a child process; `before(i)` runs untimed ahead of run i."""
    samples = []
    for index in range(runs):
        if before is not None:
            before(index)
        start = time.perf_counter()
        proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, check=False)
        samples.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.decode().strip()}")
    return statistics.median(samples)


def measure(size: int, work: Path, runs: int, gto: str | None, single: bool) -> dict[str, float]:
    repo = work / f"modelreg-{size}"
    build(repo, size, single=single)
    versions = dict(layout(size, single))["bench"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(IDENTITY, XDG_CACHE_HOME=str(work / f"cache-{size}"))
    r: dict[str, float] = {}

    def time_it(label: str, args: list[str], before: Callable[[int], None] | None = None) -> None:
        r[label] = median_time(args, repo, runs, env, before)

    written = [0]

    def new_event(_: int) -> None:  # a write to bench between runs: every read after it is a first read
        written[0] += 1
        subprocess.run(
            [MODELREG, "alias", "set", "bench", "champion", str(1 + 2 * (written[0] % 2))],
            cwd=repo,
            env=env,
            check=True,
            capture_output=True,
        )

    time_it("python -c pass", [PYTHON, "-c", "pass"])
    time_it("git for-each-ref, bench's tags with messages", ["git", "for-each-ref", CONTENTS, *BENCH_TAGS])
    time_it(
        "git for-each-ref, all tags with messages", ["git", "for-each-ref", CONTENTS, "refs/tags/", "refs/modelreg/"]
    )
    (work / "minimal.py").write_text(MINIMAL_TYPER)
    time_it("minimal Typer app --help", [PYTHON, str(work / "minimal.py"), "--help"])
    time_it("modelreg --help", [MODELREG, "--help"])
    reads = {
        "resolve bench/production": ["resolve", "bench/production"],
        "show bench": ["show", "bench"],
        "show bench --json": ["show", "bench", "--json"],
        "check-ref": ["check-ref", f"bench#production#{versions}"],
        "history bench --json": ["history", "bench", "--json"],
        "history bench (table, piped)": ["history", "bench"],
        "list --json": ["list", "--json"],
        "list (table, piped)": ["list"],
    }
    for name, args in reads.items():
        subprocess.run([MODELREG, *args], cwd=repo, env=env, capture_output=True, check=True)  # fills the caches
        time_it(f"{name}: repeated", [MODELREG, *args])
    for name in ("resolve bench/production", "show bench", "check-ref", "list --json"):
        time_it(f"{name}: first read after a new event", [MODELREG, *reads[name]], new_event)
    artifact = work / "model.bin"
    artifact.write_bytes(b"weights" * 1000)
    time_it("register", [MODELREG, "register", "bench", str(artifact)])
    samples = []  # each promote gives staging to another version
    for version in range(2, versions, 2)[:runs]:
        start = time.perf_counter()
        subprocess.run(
            [MODELREG, "promote", "bench", str(version), "staging"], cwd=repo, env=env, check=True, capture_output=True
        )
        samples.append(time.perf_counter() - start)
    r["promote"] = statistics.median(samples)
    if gto:
        gto_repo = work / f"gto-{size}"
        build(gto_repo, size, fmt="gto", single=single)
        gto_env = {**env, "XDG_CACHE_HOME": str(work / "gto-cache")}
        gto_runs = 3 if size <= 1000 else 1
        r["gto show bench"] = median_time([gto, "show", "bench"], gto_repo, gto_runs, gto_env)
        r["gto show"] = median_time([gto, "show"], gto_repo, gto_runs, gto_env)
    shutil.rmtree(repo, ignore_errors=True)
    return r


def ratios(size: int, r: dict[str, float]) -> list[str]:
    floor = r["python -c pass"] + r["git for-each-ref, bench's tags with messages"]
    all_floor = r["python -c pass"] + r["git for-each-ref, all tags with messages"]
    parts = [f"floor = {floor:.3f} s, list floor = {all_floor:.3f} s"]
    for name in ("resolve bench/production", "show bench", "check-ref"):
        parts.append(
            f"{name}: {r[f'{name}: repeated'] / floor:.2f}x repeated, "
            f"{r[f'{name}: first read after a new event'] / floor:.2f}x after a new event"
        )
    parts.append(
        f"list --json after a write / list floor = {r['list --json: first read after a new event'] / all_floor:.2f}"
    )
    table, as_json = r["history bench (table, piped): repeated"], r["history bench --json: repeated"]
    parts.append(f"history table / history --json = {table / as_json:.2f}")
    parts.append(f"--help / minimal Typer --help = {r['modelreg --help'] / r['minimal Typer app --help']:.2f}")
    parts.append(f"register {r['register']:.3f} s, promote {r['promote']:.3f} s")
    if "gto show bench" in r:
        parts.append(f"gto show bench / modelreg show bench = {r['gto show bench'] / r['show bench: repeated']:.0f}x")
    return [f"- {size:,} events: " + "; ".join(parts)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000,50000")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--gto", default=shutil.which("gto"), help="a gto executable (pip install gto)")
    parser.add_argument("--gto-max", type=int, default=10_000, help="largest size to run GTO on (it is slow)")
    parser.add_argument("--single", action="store_true", help="one model holds every event (GTO's worst case)")
    parser.add_argument("--output", type=Path, default=HERE / "results.md")
    args = parser.parse_args()
    compileall.compile_dir(str(Path(modelreg.__file__).parent), quiet=1)
    sizes = [int(s) for s in args.sizes.split(",")]
    table: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="modelreg-bench-") as tmp:
        for size in sizes:
            gto = args.gto if args.gto and size <= args.gto_max else None
            table[size] = measure(size, Path(tmp), args.runs, gto, args.single)
            print(f"measured {size:,} events", file=sys.stderr, flush=True)
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
        lines += ratios(size, table[size])
    text = "\n".join(lines) + "\n"
    print(text)
    header = (
        f"# modelreg benchmarks\n\nMeasured by `benchmarks/run.py` on a {os.cpu_count()}-core machine: whole processes "
        f"through the venv's console script, bytecode compiled, median of {args.runs} runs.\n\n"
        "- **floor**: `python -c pass` plus `git for-each-ref` of the bench model's tags and claim refs with their "
        "messages (the least a reader of the tags must do); **list floor**: the same over every tag.\n"
        "- **repeated**: the same command run again, nothing changed in between (the parsed refs are cached, keyed by "
        "the exact ref listing; the answer is computed anew each time).\n"
        "- **first read after a new event**: before each timed run, an untimed `alias set bench champion V` adds an "
        "event to bench, so the read parses the new refs.\n"
        "- **piped**: stdout is a pipe, so the human views are plain tab-separated text.\n"
        "- **register / promote**: each run writes a new version / a new stage event of bench.\n"
        "- GTO rows are timed on a GTO-format repository of the same size (fewer runs: it is slow).\n\n"
    )
    args.output.write_text(header + text)


if __name__ == "__main__":
    main()
