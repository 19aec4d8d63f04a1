"""The CI-cold section of benchmarks/run.py: a fresh clone, an empty cache, the first call.

Every CI job on a tag, every init container and every new laptop starts here. For each size two
registries are built (make_registry): the registry as it is by default (no review, unsigned tags),
and the same registry with the policy on (`--policy`: production review-required, every production
event from a request merged into main, every tag signed, `require_signed`). Each is served as a
`file://` remote; one `git clone --no-local` of it is the fresh clone (tags, branch, no
refs/modelreg/*), as CI has it. Rows, each a median, for each of the two (the policy-on rows are
marked so), every row's runs alternating between the two clones run by run:

  - `git fetch` (glob): a plain `git fetch origin` of the same refs modelreg fetch brings
    (`refs/tags/*`, `refs/modelreg/*`, the branch), each run in the fresh clone's state;
  - `modelreg fetch`: the same, by modelreg (comparing and fetching), in the same state;
  - first calls (`resolve`, `check-ref`, `list --json`, `history --json`, `search`) in the fetched
    clone with an empty XDG_CACHE_HOME before every run;
  - the peak memory of each first call (one more run, the cache emptied, through peak_rss.py): of
    the modelreg process itself and of the largest git process it ran;
  - their floors in the same clone: `python -c pass` + `git for-each-ref` of bench's refs with
    their messages (the list floor: of every ref);
  - writes in the unsigned clone only (bench_writes): `register` and `promote`, first call and warm,
    beside `git commit` + `git tag -a`, and the git processes each starts.

"The fresh clone's state" is restored before each fetch run: the clone's packed-refs as `git clone`
wrote them, and no refs/modelreg/ (a claim ref points at a tag object the clone already holds, so
no object differs between a fresh clone and this one).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import bench_writes
from benchenv import ALL_REFS, BENCH_REFS, CONTENTS, IDENTITY, MODELREG, PYTHON, installed_env, median_time, progress
from make_registry import build, layout
from peak_rss import git_shim, peaks

POLICY = " (policy on)"  # the suffix of every row measured in the policy-on registry
SIGNED = " (signed only)"  # the policy-on registry, its config of record without `review_required`
PASS = "python -c pass"
FLOOR_BENCH = "git for-each-ref, bench's refs with messages (fetched clone)"
FLOOR_ALL = "git for-each-ref, all refs with messages (fetched clone)"
GIT_FETCH = "git fetch (glob), fresh clone"
MODELREG_FETCH = "modelreg fetch, fresh clone"
FIRST = "first call, fresh clone, empty cache"
RSS_OWN = "peak RSS of the modelreg process (MiB)"
RSS_GIT = "peak RSS of its largest git process (MiB)"
GITS = "git processes (the peak RSS run)"
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
PEAK_RSS = str(Path(__file__).resolve().with_name("peak_rss.py"))

# What each row ran (filled as rows are timed).
WHAT: dict[str, str] = {}


class Clone(NamedTuple):
    """One registry's fresh clone: `suffix` marks its rows ("" for the unsigned registry, POLICY)."""

    suffix: str
    remote: Path
    path: Path
    cache: Path  # its XDG_CACHE_HOME
    env: dict[str, str]
    as_cloned: bytes  # packed-refs as `git clone` wrote them

    def fresh(self, _: int = 0) -> None:
        """Back to the fresh clone's state, with an empty cache."""
        (self.path / ".git" / "packed-refs").write_bytes(self.as_cloned)
        shutil.rmtree(self.path / ".git" / "refs" / "modelreg", ignore_errors=True)
        self.empty_cache()

    def empty_cache(self, _: int = 0) -> None:
        shutil.rmtree(self.cache, ignore_errors=True)


def _clone(size: int, work: Path, single: bool, policy: bool) -> Clone:
    name = f"{size}-policy" if policy else str(size)
    remote, path, cache = (work / f"cold-{what}-{name}" for what in ("remote", "clone", "cache"))
    progress(f"[{size:,} events, CI-cold{POLICY if policy else ''}] building the registry")
    build(remote, size, single=single, progress=progress, policy=policy)
    progress(f"[{size:,} events, CI-cold{POLICY if policy else ''}] git clone --no-local")
    subprocess.run(["git", "clone", "-q", "--no-local", f"file://{remote}", str(path)], check=True)
    env = installed_env(**IDENTITY, XDG_CACHE_HOME=str(cache))
    return Clone(POLICY if policy else "", remote, path, cache, env, (path / ".git" / "packed-refs").read_bytes())


def _signed_only(policy: Clone) -> Clone:
    """A second fresh clone of the policy-on registry, fetched, whose config of record requires signatures but no
    review: a commit on main that drops `review_required`, taken as the remote's main (refs/remotes/origin/main),
    so the same signed tags are read without their review evidence."""
    path = policy.path.with_name(policy.path.name + "-signed")
    cache = policy.cache.with_name(policy.cache.name + "-signed")
    subprocess.run(["git", "clone", "-q", "--no-local", f"file://{policy.remote}", str(path)], check=True)
    env = {**policy.env, "XDG_CACHE_HOME": str(cache)}
    subprocess.run([MODELREG, "fetch"], cwd=path, env=env, check=True, capture_output=True)
    config = path / ".modelreg" / "config.yaml"
    config.write_text("".join(line for line in config.read_text().splitlines(True) if "review_required" not in line))
    subprocess.run(["git", "commit", "-q", "-am", "signatures, no review"], cwd=path, env=env, check=True)
    subprocess.run(["git", "update-ref", "refs/remotes/origin/main", "HEAD"], cwd=path, check=True)
    return Clone(SIGNED, policy.remote, path, cache, env, b"")


# A row timed in each clone: (its argv in a clone, what it ran, what to do in a clone before each run).
Row = tuple[Callable[[Clone], list[str]], str, Callable[[Clone], Callable[[int], None] | None]]


def _alternating(
    clones: list[Clone],
    rows: dict[str, Row],
    runs: int,
    r: dict[str, float],
) -> None:
    """Median of each row in each clone (`label + suffix`); runs alternate, row by row and clone by clone.

    `rows`: label → (argv in a clone, what it ran, what to do in a clone before each run). On a shared
    machine the load swings from one minute to the next: timing one side after the other would put
    that in their ratios.
    """
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        for label, (argv, what, before) in rows.items():
            for clone in clones:
                WHAT.setdefault(label, what)
                samples.setdefault(label + clone.suffix, []).append(
                    median_time(argv(clone), clone.path, 1, clone.env, before(clone))
                )
    r.update((label, statistics.median(values)) for label, values in samples.items())


def _modelreg(args: list[str]) -> Callable[[Clone], list[str]]:
    return lambda _: [MODELREG, *args]


def _peak_rss(clone: Clone, args: list[str]) -> tuple[float, float, int]:
    """(modelreg's own peak RSS, its largest git process's, in MiB; how many git processes it ran), in one more
    run with an empty cache (see peak_rss.py)."""
    clone.empty_cache()
    out = clone.cache.with_name(clone.cache.name + "-rss")
    out.unlink(missing_ok=True)
    shim = git_shim(clone.cache.with_name(clone.cache.name + "-shim"), out)
    env = {**clone.env, "PATH": f"{shim}{os.pathsep}{clone.env.get('PATH', '')}"}
    proc = subprocess.run([PYTHON, PEAK_RSS, str(out), *args], cwd=clone.path, env=env, capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"`modelreg {' '.join(args)}` failed: {proc.stderr.decode(errors='replace').strip()}")
    found = peaks(out)
    out.unlink()
    return found


def measure_cold(size: int, work: Path, runs: int, single: bool = False, policy: bool = True) -> dict[str, float]:
    """The CI-cold rows at one size (median seconds; peak RSS in MiB); `single`: one model holds every event.

    `policy`: the policy-on registry too, its rows beside the unsigned one's (label + POLICY).
    """
    clones = [_clone(size, work, single, False), *([_clone(size, work, single, True)] if policy else [])]
    versions = dict(layout(size, single))["bench"]
    r: dict[str, float] = {}

    progress(f"[{size:,} events, CI-cold] fetch")
    fetch_note = " (the two fetches alternate, run by run)"
    _alternating(
        clones,
        {
            GIT_FETCH: (
                lambda _: ["git", "fetch", "-q", "--no-tags", "origin", *GLOB_REFSPECS],
                f"`git fetch -q --no-tags origin {' '.join(GLOB_REFSPECS)}` in the fresh clone{fetch_note}",
                lambda c: c.fresh,
            ),
            MODELREG_FETCH: (
                lambda _: [MODELREG, "fetch"],
                f"`modelreg fetch` in the fresh clone, empty cache{fetch_note}",
                lambda c: c.fresh,
            ),
        },
        runs,
        r,
    )
    for clone in clones:
        clone.fresh()
        subprocess.run([MODELREG, "fetch"], cwd=clone.path, env=clone.env, check=True, capture_output=True)
    if policy:
        clones.append(_signed_only(clones[1]))

    progress(f"[{size:,} events, CI-cold] floors")
    _alternating(
        clones,
        {
            PASS: (lambda _: [PYTHON, "-c", "pass"], "`python -c pass` with the venv's python", lambda _: None),
            FLOOR_BENCH: (
                lambda _: ["git", "for-each-ref", CONTENTS, *BENCH_REFS],
                f"`git for-each-ref '{CONTENTS}' {' '.join(BENCH_REFS)}` in the fetched clone",
                lambda _: None,
            ),
            FLOOR_ALL: (
                lambda _: ["git", "for-each-ref", CONTENTS, *ALL_REFS],
                f"`git for-each-ref '{CONTENTS}' {' '.join(ALL_REFS)}` in the fetched clone",
                lambda _: None,
            ),
        },
        runs,
        r,
    )

    progress(f"[{size:,} events, CI-cold] first calls")
    calls = {name: [arg.replace("{N}", str(versions)) for arg in args] for name, args in CALLS.items()}
    rows: dict[str, Row] = {}
    for name, args in CALLS.items():
        shown = " ".join(f"'{a}'" if " " in a else a for a in args).replace("{N}", "N")
        rows[f"{name}: {FIRST}"] = (
            _modelreg(calls[name]),
            f"`modelreg {shown}` in the fetched clone, XDG_CACHE_HOME emptied before each run",
            lambda c: c.empty_cache,
        )
    _alternating(clones, rows, runs, r)
    progress(f"[{size:,} events, CI-cold] peak memory of the first calls")
    for name, argv in calls.items():
        WHAT.setdefault(
            f"{name}: {RSS_OWN}",
            f"one more first call, empty cache, through `benchmarks/peak_rss.py`: {RSS_OWN} (VmHWM at exit)",
        )
        WHAT.setdefault(
            f"{name}: {RSS_GIT}",
            f"the same run: {RSS_GIT} (`/usr/bin/time -f %M` around each git; the largest one, not their sum)",
        )
        WHAT.setdefault(f"{name}: {GITS}", "the same run: how many git processes it started")
        for clone in clones:
            if clone.suffix == SIGNED:
                continue
            own, child, count = _peak_rss(clone, argv)
            r[f"{name}: {RSS_OWN}{clone.suffix}"], r[f"{name}: {RSS_GIT}{clone.suffix}"] = own, child
            r[f"{name}: {GITS}{clone.suffix}"] = count

    progress(f"[{size:,} events, CI-cold] writes (unsigned registry)")
    WHAT.update((label, what) for label, what in bench_writes.WHAT.items() if label not in WHAT)
    r.update(bench_writes.measure_writes(clones[0].path, clones[0].env, clones[0].cache, runs, versions))
    for clone in clones:
        for path in (clone.remote, clone.path, clone.cache):
            shutil.rmtree(path, ignore_errors=True)
    return r


def floor(r: dict[str, float], suffix: str = "") -> float:
    return r[PASS + suffix] + r[FLOOR_BENCH + suffix]


def list_floor(r: dict[str, float], suffix: str = "") -> float:
    return r[PASS + suffix] + r[FLOOR_ALL + suffix]


Value = Callable[[dict[str, float]], float | None]
# (row, goal as written, limit (None: no goal), value (None: not measured))
Ratio = tuple[str, str, float | None, Value]
# Each first call's goal over its floor (None: no goal), and whether the list floor is its floor.
GOALS: dict[str, tuple[float | None, bool]] = {
    "resolve bench/production": (3.0, False),
    "check-ref bench#production#N": (3.0, False),
    "list --json": (3.0, True),
    "history bench --json": (None, False),
    "search metrics.auc > 0.5 --model bench": (5.0, False),
}
RSS_LIMIT = 64.0  # MiB, resolve's peak at 100,000 events


def _over_floor(name: str, suffix: str, listing: bool) -> Value:
    def value(r: dict[str, float]) -> float | None:
        label = f"{name}: {FIRST}{suffix}"
        return r[label] / (list_floor(r, suffix) if listing else floor(r, suffix)) if label in r else None

    return value


def _row(label: str) -> Value:
    return lambda r: r.get(label)


def _floors(suffix: str, listing: bool) -> Value:
    def value(r: dict[str, float]) -> float | None:
        return None if PASS + suffix not in r else list_floor(r, suffix) if listing else floor(r, suffix)

    return value


def _fetch_ratio(suffix: str) -> Value:
    return lambda r: r[MODELREG_FETCH + suffix] / r[GIT_FETCH + suffix] if GIT_FETCH + suffix in r else None


def _policy_over_unsigned(label: str, suffix: str = POLICY) -> Value:
    return lambda r: r[label + suffix] / r[label] if label + suffix in r else None


def ratios() -> list[Ratio]:
    rows: list[Ratio] = []
    for suffix in ("", POLICY):
        rows += [
            (f"floor, s{suffix}", "", None, _floors(suffix, listing=False)),
            (f"list floor, s{suffix}", "", None, _floors(suffix, listing=True)),
            (f"modelreg fetch / git fetch (glob){suffix}", "≤ 2", 2.0, _fetch_ratio(suffix)),
        ]
        for name, (limit, listing) in GOALS.items():
            goal = "" if limit is None else f"≤ {limit:g}"
            over = "list floor" if listing else "floor"
            rows.append((f"{name}, first call / {over}{suffix}", goal, limit, _over_floor(name, suffix, listing)))
    rows.append(("modelreg fetch, policy on / unsigned", "", None, _policy_over_unsigned(MODELREG_FETCH)))
    rows += [
        (f"{name}, first call, signed only / unsigned", "≤ 1.5", 1.5, _policy_over_unsigned(f"{name}: {FIRST}", SIGNED))
        for name in CALLS
    ]
    rows += [
        (f"{name}, first call, policy on / unsigned", "", None, _policy_over_unsigned(f"{name}: {FIRST}"))
        for name in CALLS
    ]
    for suffix in ("", POLICY):
        for what in (RSS_OWN, RSS_GIT):
            label = f"resolve bench/production: {what}{suffix}"
            rows.append((f"resolve, {what}{suffix}", f"< {RSS_LIMIT:g} (at 100,000)", RSS_LIMIT, _row(label)))
    return [*rows, *bench_writes.RATIOS]


def _cell(name: str, value: float) -> str:
    if bench_writes.GIT_COUNT in name or GITS in name:
        return f"{value:.0f}"
    return f"{value:.1f}" if "(MiB)" in name else f"{value:.3f}"


def _ratio_cell(name: str, value: float | None, limit: float | None) -> str:
    if value is None:
        return "—"
    shown = f"{value:.1f}" if "(MiB)" in name else f"{value:.3f}" if ", s" in name else f"{value:.2f}"
    return shown if limit is None else f"{shown} {'✓' if value <= limit else '✗'}"


def section(
    sizes: list[int],
    table: dict[int, dict[str, float]],
    runs: int,
    runs_large: int,
    single: bool = False,
    load: tuple[str, str] = ("", ""),
) -> str:
    """The CI-cold section of results.md: what each row ran, the medians, the ratios.

    `load`: the machine's load averages (1, 5, 15 minutes) as the section started and ended.
    """
    columns = " | ".join(f"{s:,} events" for s in sizes)
    policy = any(name.endswith(POLICY) for results in table.values() for name in results)
    lines = [
        "## CI-cold: a fresh clone, an empty cache, the first call",
        "",
        f"Measured by `benchmarks/run.py --sections cold` (median of {runs} runs per row; {runs_large} from 50,000 "
        "events, on a shared 2-core machine"
        + (f"; load average {load[0]} at the start, {load[1]} at the end" if load[0] else "")
        + "): the registry built by "
        "`benchmarks/make_registry.py` is served as a `file://` remote and cloned with `git clone --no-local` (tags "
        "and branch, no refs/modelreg/*). Fetch rows run in the fresh clone's state (its packed-refs as cloned "
        "restored and refs/modelreg/ removed before each run); first calls run in the clone after `modelreg fetch`, "
        "with XDG_CACHE_HOME emptied before each run. Floors are taken in the same clone, in the same run. "
        "Writes run last, in the same clone (each adds a version or an event)."
        + (" Built with `--single`: one model holds every event." if single else "")
        + (
            f" Rows marked{POLICY} ran the same in a second registry of the same size, built with "
            "`make_registry.py --policy`: `review_required: [production]` and `require_signed: true` in the config "
            "of record, every production event applied from a request merged into main with a merge commit, every "
            "tag signed (SSH, ed25519); its floors are its own (signed tags have longer messages). Rows marked"
            f"{SIGNED} ran the first calls in another fresh clone of that registry, fetched, whose config of record "
            "requires signatures but not review (a commit on main that drops `review_required`, taken as the "
            "remote's main): the same signed tags, without their review evidence. Each row's runs alternate between "
            "the clones, run by run. Writes run in the unsigned clone only."
            if policy
            else ""
        ),
        "",
        "| row | what it ran |",
        "|---|---|",
        *(f"| {label} | {what} |" for label, what in WHAT.items()),
        "",
        f"| row (median seconds; peak RSS in MiB) | {columns} |",
        "|---|" + "---|" * len(sizes),
    ]
    for name in dict.fromkeys(name for results in table.values() for name in results):
        lines.append(
            f"| {name} | " + " | ".join(_cell(name, table[s][name]) if name in table[s] else "—" for s in sizes) + " |"
        )
    lines += ["", f"| ratio (same run) | goal | {columns} |", "|---|---|" + "---|" * len(sizes)]
    for name, goal, limit, value in ratios():
        cells = [_ratio_cell(name, value(table[s]), limit) for s in sizes]
        if any(cell != "—" for cell in cells):
            lines.append(f"| {name} | {goal} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


MARK = "## CI-cold"


def merged(existing: str, cold: str | None, main: str | None) -> str:
    """results.md with the sections that ran replaced and the others kept."""
    before, _, after = existing.partition(MARK)
    kept_main = before if before.strip() else ""
    kept_cold = MARK + after if after else ""
    return (main if main is not None else kept_main).rstrip("\n") + "\n\n" + (cold if cold is not None else kept_cold)
