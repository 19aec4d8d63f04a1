"""Time modelreg's commands as whole processes on registries of 100 to 100,000 events.

Every number is the median of --runs whole-process runs, taken in this run beside its baseline:
  - floor: `python -c pass` (the venv's python) plus `git for-each-ref` of the bench model's tags
    and claim refs with their messages (the least any reader of those tags must do); list floor:
    `python -c pass` plus `git for-each-ref` of every tag and claim ref with their messages;
  - `modelreg --help` beside a minimal two-command Typer app's `--help`;
  - GTO's `show` on a GTO-format repository of the same size, when a `gto` executable is found.
Reads are timed warm (the same call again after one untimed warm-up call) and as the first call
after a new event (an untimed `modelreg alias set bench champion V`, V alternating 1 and 3, before
each timed run). Processes run as an installed user has them (see benchenv.py): the package is
compiled to bytecode first and PYTHONDONTWRITEBYTECODE is removed from every child's environment;
each size gets its own empty XDG_CACHE_HOME. Prints a table and writes --output.

    .venv/bin/python benchmarks/run.py [--sizes 100,1000,10000,50000,100000] [--runs 7] [--gto PATH]
        [--output benchmarks/results.md]

Building the 100,000-event registry takes a few minutes; progress goes to stderr. The CI-cold section
(bench_cold: a fresh clone, an empty cache, the first call, `modelreg fetch` beside a glob `git fetch`,
each in the unsigned registry and, unless --no-cold-policy, in the same registry with the policy on:
reviewed and signed) runs at --cold-sizes; `--sections cold` runs only it (results.md keeps the other
section as it was).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_cold
from benchenv import (
    ALL_REFS,
    BENCH_REFS,
    CONTENTS,
    IDENTITY,
    MODELREG,
    PYTHON,
    compile_package,
    installed_env,
    median_time,
    progress,
    run_checked,
)
from make_registry import build, layout

HERE = Path(__file__).resolve().parent
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

PYTHON_PASS = "python -c pass"
FOR_EACH_REF_BENCH = "git for-each-ref, bench's refs with messages"
FOR_EACH_REF_ALL = "git for-each-ref, all refs with messages"
MINIMAL_HELP = "minimal Typer app --help"
HELP = "modelreg --help"
WARM = "warm"
AFTER = "first call after a new event"

# The reads, by row name: (arguments, timed warm, timed as the first call after a new event).
READS: dict[str, tuple[list[str], bool, bool]] = {
    "resolve bench/production": (["resolve", "bench/production"], True, True),
    "show bench": (["show", "bench"], True, True),
    "show bench --json": (["show", "bench", "--json"], True, True),
    "check-ref bench#production#N": (["check-ref", "bench#production#{N}"], True, True),
    "history bench --json": (["history", "bench", "--json"], True, True),
    "history bench (table)": (["history", "bench"], True, False),
    "list --json": (["list", "--json"], True, True),
    "list (table)": (["list"], True, True),
}

# What each row ran, for the header of the results (filled as rows are timed; N is bench's last version).
WHAT: dict[str, str] = {}


def measure(size: int, work: Path, runs: int, gto: str | None, single: bool) -> dict[str, float]:
    repo = work / f"modelreg-{size}"
    cache = work / f"cache-{size}"
    progress(f"[{size:,} events] building the registry")
    build(repo, size, single=single, progress=progress)
    versions = dict(layout(size, single))["bench"]
    env = installed_env(**IDENTITY, XDG_CACHE_HOME=str(cache))
    r: dict[str, float] = {}

    def time_it(label: str, args: list[str], what: str, before: Callable[[int], None] | None = None) -> None:
        WHAT.setdefault(label, what)
        r[label] = median_time(args, repo, runs, env, before)

    written = [0]

    def new_event(_: int) -> None:  # an untimed write to bench: the next read is the first after a new event
        written[0] += 1
        run_checked([MODELREG, "alias", "set", "bench", "champion", str(1 + 2 * (written[0] % 2))], repo, env)

    progress(f"[{size:,} events] baselines")
    time_it(PYTHON_PASS, [PYTHON, "-c", "pass"], "`python -c pass` with the venv's python")
    time_it(
        FOR_EACH_REF_BENCH,
        ["git", "for-each-ref", CONTENTS, *BENCH_REFS],
        f"`git for-each-ref '{CONTENTS}' {' '.join(BENCH_REFS)}`",
    )
    time_it(
        FOR_EACH_REF_ALL,
        ["git", "for-each-ref", CONTENTS, *ALL_REFS],
        f"`git for-each-ref '{CONTENTS}' {' '.join(ALL_REFS)}`",
    )
    (work / "minimal.py").write_text(MINIMAL_TYPER)
    minimal = [PYTHON, str(work / "minimal.py"), "--help"]
    time_it(MINIMAL_HELP, minimal, "`python minimal.py --help`: a two-command Typer app")
    time_it(HELP, [MODELREG, "--help"], "`modelreg --help` (the venv's console script)")

    progress(f"[{size:,} events] reads, warm")
    for name, (args, warm, _) in READS.items():
        argv = [MODELREG, *(arg.replace("{N}", str(versions)) for arg in args)]
        if warm:
            run_checked(argv, repo, env)  # the untimed warm-up call
            time_it(f"{name}: {WARM}", argv, f"`modelreg {' '.join(args).replace('{N}', 'N')}` after one untimed call")
    progress(f"[{size:,} events] reads, first call after a new event")
    for name, (args, _, after) in READS.items():
        argv = [MODELREG, *(arg.replace("{N}", str(versions)) for arg in args)]
        if after:
            what = (
                f"`modelreg {' '.join(args).replace('{N}', 'N')}`, each run preceded by an untimed "
                "`modelreg alias set bench champion V`"
            )
            time_it(f"{name}: {AFTER}", argv, what, new_event)

    progress(f"[{size:,} events] writes")
    artifact = work / "model.bin"
    artifact.write_bytes(b"weights" * 1000)
    time_it("register", [MODELREG, "register", "bench", str(artifact)], "`modelreg register bench model.bin` (7 KB)")
    # Each promote gives staging to a version that never held it: the even versions the build gave
    # an alias, then the versions just registered.
    fresh = [*range(2, versions, 2), *range(versions + 1, versions + 1 + runs)][:runs]
    samples = []
    for version in fresh:
        start = time.perf_counter()
        run_checked([MODELREG, "promote", "bench", str(version), "staging"], repo, env)
        samples.append(time.perf_counter() - start)
    r["promote"] = statistics.median(samples)
    WHAT.setdefault("promote", "`modelreg promote bench V staging`, V a version that never held staging")

    if gto:
        progress(f"[{size:,} events] GTO")
        gto_repo = work / f"gto-{size}"
        build(gto_repo, size, fmt="gto", single=single, progress=progress)
        gto_env = {**env, "XDG_CACHE_HOME": str(work / f"gto-cache-{size}")}
        gto_runs = 3 if size <= 1000 else 1
        for label, args in (("gto show bench", ["show", "bench"]), ("gto show", ["show"])):
            what = f"`gto {' '.join(args)}` on a GTO-format registry of the same size (3 runs to 1,000 events, then 1)"
            WHAT.setdefault(label, what)
            r[label] = median_time([gto, *args], gto_repo, gto_runs, gto_env)
        shutil.rmtree(gto_repo, ignore_errors=True)
    shutil.rmtree(repo, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    return r


# -- ratios and goals ------------------------------------------------------------------------------------------------


def floor(r: dict[str, float]) -> float:
    return r[PYTHON_PASS] + r[FOR_EACH_REF_BENCH]


def list_floor(r: dict[str, float]) -> float:
    return r[PYTHON_PASS] + r[FOR_EACH_REF_ALL]


# (row, goal as written, the limit at a size (None: no goal), value from one size's results)
Ratio = tuple[str, str, Callable[[int], float | None], Callable[[dict[str, float]], float | None]]


def over_floor(row: str) -> Callable[[dict[str, float]], float]:
    return lambda r: r[row] / floor(r)


def ratio_rows() -> list[Ratio]:
    rows: list[Ratio] = [
        ("floor, s", "", lambda _: None, floor),
        ("list floor, s", "", lambda _: None, list_floor),
    ]
    for name in ("resolve bench/production", "show bench", "check-ref bench#production#N"):
        rows.append((f"{name}, {WARM} / floor", "≤ 2", lambda _: 2.0, over_floor(f"{name}: {WARM}")))
        rows.append(
            (
                f"{name}, {AFTER} / floor",
                "≤ 3; ≤ 2.5 at 100,000",
                lambda size: 2.5 if size >= 100_000 else 3.0,
                over_floor(f"{name}: {AFTER}"),
            )
        )
    rows += [
        (
            f"history bench (table) / history bench --json, {WARM}",
            "≤ 2 (at 50,000)",
            lambda _: 2.0,
            lambda r: r[f"history bench (table): {WARM}"] / r[f"history bench --json: {WARM}"],
        ),
        (
            f"list --json, {AFTER} / list floor",
            "≤ 2",
            lambda _: 2.0,
            lambda r: r[f"list --json: {AFTER}"] / list_floor(r),
        ),
        (
            f"list (table), {AFTER} / list floor",
            "≤ 2",
            lambda _: 2.0,
            lambda r: r[f"list (table): {AFTER}"] / list_floor(r),
        ),
        (f"{HELP} / {MINIMAL_HELP}", "≤ 1.0", lambda _: 1.0, lambda r: r[HELP] / r[MINIMAL_HELP]),
        ("register, s", "≤ 0.5 (at 100,000)", lambda _: 0.5, lambda r: r["register"]),
        ("promote, s", "≤ 0.5 (at 100,000)", lambda _: 0.5, lambda r: r["promote"]),
        (
            f"gto show bench / show bench, {WARM}",
            "",
            lambda _: None,
            lambda r: r["gto show bench"] / r[f"show bench: {WARM}"] if "gto show bench" in r else None,
        ),
    ]
    return rows


def cell(value: float | None, limit: float | None, seconds: bool) -> str:
    if value is None:
        return "—"
    if limit is None:
        return f"{value:.3f}" if seconds else f"{value:.2f}"
    return f"{value:.2f} {'✓' if value <= limit else '✗'}"


def tables(sizes: list[int], table: dict[int, dict[str, float]]) -> str:
    columns = " | ".join(f"{s:,} events" for s in sizes)
    lines = [f"| row (median seconds) | {columns} |", "|---|" + "---|" * len(sizes)]
    for name in dict.fromkeys(name for results in table.values() for name in results):
        values = " | ".join(f"{table[s][name]:.3f}" if name in table[s] else "—" for s in sizes)
        lines.append(f"| {name} | {values} |")
    lines += ["", f"| ratio (same run) | goal | {columns} |", "|---|---|" + "---|" * len(sizes)]
    for name, goal, limit, value in ratio_rows():
        cells = [cell(value(table[s]), limit(s), name.endswith(", s")) for s in sizes]
        if any(c != "—" for c in cells):
            lines.append(f"| {name} | {goal} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def header(runs: int, single: bool) -> str:
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    shape = (
        "one model, `bench`, holds every event"
        if single
        else "`bench` holds a quarter of the events, the rest spread over models of 100 events each"
    )
    lines = [
        "# modelreg benchmarks",
        "",
        f"Measured by `benchmarks/run.py` on a {os.cpu_count()}-core machine (Python {platform.python_version()}, "
        f"{git_version}): each row is the median of {runs} whole-process run{'s' if runs != 1 else ''}, with stdout "
        "and stderr piped (so the table views print plain text, as to a pipe), in a "
        f"registry built by `benchmarks/make_registry.py` ({shape}; half version tags, half stage/alias events with "
        "their claim refs, packed refs). The modelreg package is compiled to bytecode first and every child runs "
        "without PYTHONDONTWRITEBYTECODE, as an installed user has it; each size has its own empty XDG_CACHE_HOME. "
        "Every ratio is taken between rows of the same run; ✓ / ✗: within the goal or not.",
        "",
        "- **floor**: `python -c pass` + `git for-each-ref` of bench's refs with their messages (the least any "
        "reader of bench's tags must do); **list floor**: `python -c pass` + `git for-each-ref` of all refs.",
        f"- **{WARM}**: the same command again, after one untimed call and with nothing changed in between.",
        f"- **{AFTER}**: before each timed run an untimed `modelreg alias set bench champion V` (V alternating "
        "1 and 3) adds an event to bench, so the refs no longer match what the previous call saw.",
        "- N in `check-ref bench#production#N` is bench's last version (the production event the build wrote).",
        "",
        "| row | what it ran |",
        "|---|---|",
        *(f"| {label} | {what} |" for label, what in WHAT.items()),
        "",
    ]
    return "\n".join(lines) + "\n"


def _load() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000,50000", help="comma-separated event counts (≤ 100000)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--gto", default=shutil.which("gto"), help="a gto executable (pip install gto)")
    parser.add_argument("--gto-max", type=int, default=10_000, help="largest size to run GTO on (it is slow)")
    parser.add_argument("--single", action="store_true", help="one model holds every event (GTO's worst case)")
    parser.add_argument("--output", type=Path, default=HERE / "results.md")
    parser.add_argument("--sections", default="main,cold", help="main (warm and after-a-write reads), cold (CI-cold)")
    parser.add_argument("--cold-sizes", default="10000,100000", help="comma-separated event counts for CI-cold")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--cold-runs-large", type=int, default=1, help="runs per CI-cold row from 50,000 events")
    parser.add_argument(
        "--no-cold-policy", action="store_true", help="CI-cold: the unsigned registry only, not the policy-on one too"
    )
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    package = compile_package()
    progress(f"compiled {package}")
    main_text = cold_text = None
    with tempfile.TemporaryDirectory(prefix="modelreg-bench-") as tmp:
        if "main" in sections:
            table: dict[int, dict[str, float]] = {}
            for size in sizes:
                gto = args.gto if args.gto and size <= args.gto_max else None
                table[size] = measure(size, Path(tmp), args.runs, gto, args.single)
                progress(f"measured {size:,} events")
            main_text = header(args.runs, args.single) + tables(sizes, table)
            print(main_text)
        if "cold" in sections:
            cold_sizes = [int(s.replace("_", "")) for s in args.cold_sizes.split(",")]
            cold: dict[int, dict[str, float]] = {}
            load_before = _load()
            progress(f"CI-cold: load average {load_before}")
            for size in cold_sizes:
                runs = args.cold_runs if size < 50_000 else args.cold_runs_large
                cold[size] = bench_cold.measure_cold(size, Path(tmp), runs, args.single, not args.no_cold_policy)
                progress(f"measured {size:,} events, CI-cold; load average {_load()}")
            load = (load_before, _load())
            cold_text = bench_cold.section(cold_sizes, cold, args.cold_runs, args.cold_runs_large, args.single, load)
            print(cold_text)
    existing = args.output.read_text() if args.output.exists() else ""
    args.output.write_text(bench_cold.merged(existing, cold_text, main_text))
    progress(f"wrote {args.output}")


if __name__ == "__main__":
    main()
