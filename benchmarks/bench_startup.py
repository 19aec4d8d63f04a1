"""Start-up of the CLI as a user meets it: the venv's console script, whole processes, in this run.

Times, median of --runs (interleaved, so a busy machine slows every row alike):
  - `python -c pass` (the floor every command pays);
  - `modelreg --version` and `modelreg resolve bench/production` (the lean path: no Typer, no Rich);
  - `modelreg --help` and `modelreg promote --help` (the Typer app, with its completion options).
With --code DIR the modelreg package is imported from DIR (e.g. an unpacked older commit) instead;
give --code more than once to compare trees in one run, their runs interleaved, each tree with its
own cache (two versions of the code under one venv, one Typer release, one machine load):

    .venv/bin/python benchmarks/bench_startup.py [--events 200] [--runs 15] [--code DIR]...
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchenv import IDENTITY, MODELREG, PYTHON, compile_package, installed_env, progress, run_checked
from make_registry import build

COMMANDS = {
    "python -c pass": [PYTHON, "-c", "pass"],
    "modelreg --version": [MODELREG, "--version"],
    "modelreg resolve bench/production": [MODELREG, "resolve", "bench/production"],
    "modelreg --help": [MODELREG, "--help"],
    "modelreg promote --help": [MODELREG, "promote", "--help"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--code", type=Path, action="append", help="import modelreg from this directory instead")
    args = parser.parse_args()
    codes: list[Path | None] = list(args.code or [None])
    for code in codes:
        if code is None:
            compile_package()
        else:
            subprocess.run([PYTHON, "-m", "compileall", "-q", str(code / "modelreg")], check=True)
    typer = subprocess.run(
        [PYTHON, "-c", "import importlib.metadata as m; print(m.version('typer'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="modelreg-startup-") as tmp:
        repo = Path(tmp) / "repo"
        progress(f"building a registry of {args.events:,} events")
        build(repo, args.events, progress=progress)
        trees = {}
        for index, code in enumerate(codes):
            extra = {"PYTHONPATH": str(code.resolve())} if code else {}
            env = installed_env(**IDENTITY, **extra, XDG_CACHE_HOME=str(Path(tmp) / f"cache-{index}"))
            trees[str(code) if code else "the installed code"] = env
        commands = {}
        for tree, env in trees.items():
            for label, command in COMMANDS.items():  # warm: caches filled, bytecode written
                if subprocess.run(command, cwd=repo, env=env, capture_output=True, check=False).returncode == 0:
                    commands[tree, label] = (command, env)
                else:
                    progress(f"{label}: fails with {tree} (left out)")
        samples: dict[tuple[str, str], list[float]] = {key: [] for key in commands}
        for _ in range(args.runs):
            for key, (command, env) in commands.items():
                start = time.perf_counter()
                run_checked(command, repo, env)
                samples[key].append(time.perf_counter() - start)
    width = max(len(label) for label in COMMANDS)
    print(f"typer {typer}; median of {args.runs} whole processes (interleaved)")
    for tree in trees:
        print(f"code: {tree}")
        floor = statistics.median(samples[tree, "python -c pass"])
        for (where, label), values in samples.items():
            if where == tree:
                median = statistics.median(values)
                print(f"  {label:<{width}}  {median:6.3f} s  {median / floor:4.1f}x python -c pass")


if __name__ == "__main__":
    main()
