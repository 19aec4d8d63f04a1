"""The CI-cold section of benchmarks/run.py: a fresh clone, an empty cache, the first call.

Every CI job on a tag, every init container and every new laptop starts here. For each size a
registry is built (make_registry) and served as a `file://` remote; one `git clone --no-local`
of it is the fresh clone (tags, branch, no refs/modelreg/*), as CI has it. Rows, each a median:

  - `git fetch` (glob): a plain `git fetch origin` of the same refs modelreg fetch brings
    (`refs/tags/*`, `refs/modelreg/*`, the branch), each run in the fresh clone's state;
  - `modelreg fetch`: the same, by modelreg (comparing and fetching), in the same state;
  - first calls (`resolve`, `check-ref`, `list --json`, `history --json`, `search`) in the fetched
    clone with an empty XDG_CACHE_HOME before every run;
  - their floors in the same clone: `python -c pass` + `git for-each-ref` of bench's refs with
    their messages (the list floor: of every ref);
  - writes in the same clone (bench_writes): `register` and `promote`, first call and warm, beside
    `git commit` + `git tag -a`, and the git processes each starts.

"The fresh clone's state" is restored before each fetch run: the clone's packed-refs as `git clone`
wrote them, and no refs/modelreg/ (a claim ref points at a tag object the clone already holds, so
no object differs between a fresh clone and this one).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
from collections.abc import Callable
from pathlib import Path

import bench_writes
from benchenv import ALL_REFS, BENCH_REFS, CONTENTS, IDENTITY, MODELREG, PYTHON, installed_env, median_time, progress
from make_registry import build, layout

PASS = "python -c pass"
FLOOR_BENCH = "git for-each-ref, bench's refs with messages (fetched clone)"
FLOOR_ALL = "git for-each-ref, all refs with messages (fetched clone)"
GIT_FETCH = "git fetch (glob), fresh clone"
MODELREG_FETCH = "modelreg fetch, fresh clone"
FIRST = "first call, fresh clone, empty cache"
CALLS: dict[str, list[str]] = {
    "resolve bench/production": ["resolve", "bench/production"],
    "check-ref bench#production#N": ["check-ref", "bench#production#{N}"],
    "list --json": ["list", "--json"],
    "history bench --json": ["history", "bench", "--json"],
    "search metrics.auc > 0.5 --model bench": ["search", "metrics.auc > 0.5", "--model", "bench", "--limit", "5"],
}
GLOB_REFSPECS = [
    "refs/tags/*:refs/tags/*",
    "refs/modelreg/*:refs/modelreg/*",
    "+refs/heads/main:refs/remotes/origin/main",
]

# What each row ran (filled as rows are timed).
WHAT: dict[str, str] = {}


def measure_cold(size: int, work: Path, runs: int, single: bool = False) -> dict[str, float]:
    """The CI-cold rows at one size (median seconds); `single`: one model holds every event."""
    remote = work / f"cold-remote-{size}"
    clone = work / f"cold-clone-{size}"
    cache = work / f"cold-cache-{size}"
    progress(f"[{size:,} events, CI-cold] building the registry")
    build(remote, size, single=single, progress=progress)
    versions = dict(layout(size, single))["bench"]
    progress(f"[{size:,} events, CI-cold] git clone --no-local")
    subprocess.run(["git", "clone", "-q", "--no-local", f"file://{remote}", str(clone)], check=True)
    git_dir = clone / ".git"
    as_cloned = (git_dir / "packed-refs").read_bytes()
    env = installed_env(**IDENTITY, XDG_CACHE_HOME=str(cache))
    r: dict[str, float] = {}

    def fresh_clone(_: int) -> None:
        (git_dir / "packed-refs").write_bytes(as_cloned)
        shutil.rmtree(git_dir / "refs" / "modelreg", ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)

    def empty_cache(_: int) -> None:
        shutil.rmtree(cache, ignore_errors=True)

    def time_it(label: str, args: list[str], what: str, before: Callable[[int], None] | None) -> None:
        WHAT.setdefault(label, what)
        r[label] = median_time(args, clone, runs, env, before)

    progress(f"[{size:,} events, CI-cold] fetch")
    # The two fetches alternate, run by run: on a shared disk, ref writes take seconds more in one minute than
    # in the next, and timing all of one before the other would put that in their ratio.
    fetches = {
        GIT_FETCH: (
            ["git", "fetch", "-q", "--no-tags", "origin", *GLOB_REFSPECS],
            f"`git fetch -q --no-tags origin {' '.join(GLOB_REFSPECS)}` in the fresh clone",
        ),
        MODELREG_FETCH: ([MODELREG, "fetch"], "`modelreg fetch` in the fresh clone, empty cache"),
    }
    samples: dict[str, list[float]] = {label: [] for label in fetches}
    for _ in range(runs):
        for label, (args, what) in fetches.items():
            WHAT.setdefault(label, what + " (the two fetches alternate, run by run)")
            samples[label].append(median_time(args, clone, 1, env, fresh_clone))
    r.update((label, statistics.median(values)) for label, values in samples.items())
    fresh_clone(0)
    subprocess.run([MODELREG, "fetch"], cwd=clone, env=env, check=True, capture_output=True)

    progress(f"[{size:,} events, CI-cold] floors")
    time_it(PASS, [PYTHON, "-c", "pass"], "`python -c pass` with the venv's python", None)
    time_it(
        FLOOR_BENCH,
        ["git", "for-each-ref", CONTENTS, *BENCH_REFS],
        f"`git for-each-ref '{CONTENTS}' {' '.join(BENCH_REFS)}` in the fetched clone",
        None,
    )
    time_it(
        FLOOR_ALL,
        ["git", "for-each-ref", CONTENTS, *ALL_REFS],
        f"`git for-each-ref '{CONTENTS}' {' '.join(ALL_REFS)}` in the fetched clone",
        None,
    )

    progress(f"[{size:,} events, CI-cold] first calls")
    for name, args in CALLS.items():
        argv = [MODELREG, *(arg.replace("{N}", str(versions)) for arg in args)]
        shown = " ".join(f"'{a}'" if " " in a else a for a in args).replace("{N}", "N")
        time_it(
            f"{name}: {FIRST}",
            argv,
            f"`modelreg {shown}` in the fetched clone, XDG_CACHE_HOME emptied before each run",
            empty_cache,
        )
    progress(f"[{size:,} events, CI-cold] writes")
    WHAT.update((label, what) for label, what in bench_writes.WHAT.items() if label not in WHAT)
    r.update(bench_writes.measure_writes(clone, env, cache, runs, versions))
    for path in (remote, clone, cache):
        shutil.rmtree(path, ignore_errors=True)
    return r


def floor(r: dict[str, float]) -> float:
    return r[PASS] + r[FLOOR_BENCH]


def list_floor(r: dict[str, float]) -> float:
    return r[PASS] + r[FLOOR_ALL]


# (row, goal as written, limit, value)
RATIOS: list[tuple[str, str, float | None, Callable[[dict[str, float]], float]]] = [
    ("floor, s", "", None, floor),
    ("list floor, s", "", None, list_floor),
    ("modelreg fetch / git fetch (glob)", "≤ 2", 2.0, lambda r: r[MODELREG_FETCH] / r[GIT_FETCH]),
    ("resolve, first call / floor", "≤ 3", 3.0, lambda r: r[f"resolve bench/production: {FIRST}"] / floor(r)),
    ("check-ref, first call / floor", "≤ 3", 3.0, lambda r: r[f"check-ref bench#production#N: {FIRST}"] / floor(r)),
    ("list --json, first call / list floor", "≤ 3", 3.0, lambda r: r[f"list --json: {FIRST}"] / list_floor(r)),
    (
        "search, first call / floor",
        "≤ 5",
        5.0,
        lambda r: r[f"search metrics.auc > 0.5 --model bench: {FIRST}"] / floor(r),
    ),
    *bench_writes.RATIOS,
]


def _cell(name: str, value: float) -> str:
    return f"{value:.0f}" if name.endswith(bench_writes.GIT_COUNT) else f"{value:.3f}"


def section(
    sizes: list[int], table: dict[int, dict[str, float]], runs: int, runs_large: int, single: bool = False
) -> str:
    """The CI-cold section of results.md: what each row ran, the medians, the ratios."""
    columns = " | ".join(f"{s:,} events" for s in sizes)
    lines = [
        "## CI-cold: a fresh clone, an empty cache, the first call",
        "",
        f"Measured by `benchmarks/run.py --sections cold` (median of {runs} runs per row; {runs_large} from 50,000 "
        "events, on a shared 2-core machine): the registry built by "
        "`benchmarks/make_registry.py` is served as a `file://` remote and cloned with `git clone --no-local` (tags "
        "and branch, no refs/modelreg/*). Fetch rows run in the fresh clone's state (its packed-refs as cloned "
        "restored and refs/modelreg/ removed before each run); first calls run in the clone after `modelreg fetch`, "
        "with XDG_CACHE_HOME emptied before each run. Floors are taken in the same clone, in the same run. "
        "Writes run last, in the same clone (each adds a version or an event)."
        + (" Built with `--single`: one model holds every event." if single else ""),
        "",
        "| row | what it ran |",
        "|---|---|",
        *(f"| {label} | {what} |" for label, what in WHAT.items()),
        "",
        f"| row (median seconds) | {columns} |",
        "|---|" + "---|" * len(sizes),
    ]
    for name in dict.fromkeys(name for results in table.values() for name in results):
        lines.append(
            f"| {name} | " + " | ".join(_cell(name, table[s][name]) if name in table[s] else "—" for s in sizes) + " |"
        )
    lines += ["", f"| ratio (same run) | goal | {columns} |", "|---|---|" + "---|" * len(sizes)]
    for name, goal, limit, value in RATIOS:
        cells = []
        for s in sizes:
            v = value(table[s])
            cells.append(f"{v:.3f}" if limit is None else f"{v:.2f} {'✓' if v <= limit else '✗'}")
        lines.append(f"| {name} | {goal} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


MARK = "## CI-cold"


def merged(existing: str, cold: str | None, main: str | None) -> str:
    """results.md with the sections that ran replaced and the others kept."""
    before, _, after = existing.partition(MARK)
    kept_main = before if before.strip() else ""
    kept_cold = MARK + after if after else ""
    return (main if main is not None else kept_main).rstrip("\n") + "\n\n" + (cold if cold is not None else kept_cold)
