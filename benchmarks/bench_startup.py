"""Start-up of the CLI as a user meets it: the venv's console script, whole processes, in this run.

Times, median of --runs (interleaved, so a busy machine slows every row alike):
  - `python -c pass` (the floor every command pays);
  - `modelreg --version` and `modelreg resolve bench/production` (the lean path: no Typer, no Rich);
  - `modelreg --help` and `modelreg promote --help` (the Typer app, with its completion options).
With --code DIR the modelreg package is imported from DIR (e.g. an unpacked older commit) instead, so
two versions of the code can be compared under one venv (one Typer release):

    .venv/bin/python benchmarks/bench_startup.py [--events 200] [--runs 15] [--code DIR]
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
    parser.add_argument("--code", type=Path, help="import modelreg from this directory instead")
    args = parser.parse_args()
    extra = {"PYTHONPATH": str(args.code.resolve())} if args.code else {}
    if args.code:
        subprocess.run([PYTHON, "-m", "compileall", "-q", str(args.code / "modelreg")], check=True)
    else:
        compile_package()
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
        env = installed_env(**IDENTITY, **extra, XDG_CACHE_HOME=str(Path(tmp) / "cache"))
        commands = {}
        for label, command in COMMANDS.items():  # warm: caches filled, bytecode written
            if subprocess.run(command, cwd=repo, env=env, capture_output=True, check=False).returncode == 0:
                commands[label] = command
            else:
                progress(f"{label}: fails with this code (left out)")
        samples: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(args.runs):
            for label, command in commands.items():
                start = time.perf_counter()
                run_checked(command, repo, env)
                samples[label].append(time.perf_counter() - start)
    width = max(len(label) for label in COMMANDS)
    where = f"code from {args.code}" if args.code else "the installed code"
    print(f"typer {typer}, {where}; median of {args.runs} whole processes (interleaved)")
    floor = statistics.median(samples["python -c pass"])
    for label, values in samples.items():
        median = statistics.median(values)
        print(f"{label:<{width}}  {median:6.3f} s  {median / floor:4.1f}x python -c pass")


if __name__ == "__main__":
    main()
