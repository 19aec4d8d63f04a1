"""Per-call cost through MlflowClient: N x (create_model_version + transition_model_version_stage).

The same calls run against MLflow's own sqlite registry (the floor, measured in the same run) and
against `modelreg://` (a fresh git repository). Both register the same small local model directory;
the goal (issue 24) is modelreg within 5x sqlite. The two alternate, round after round (`--rounds`),
so a change in the shared machine's load falls on both; then a short run with git's trace2 counts
the git processes a pair costs (a count, not a time: it does not move with the load).

    .venv/bin/python benchmarks/bench_mlflow_calls.py [--count 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from mlflow import MlflowClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from modelreg.api import Registry  # after the path above, so this checkout's modelreg is used

COUNTED_PAIRS = 10


def run(client: MlflowClient, name: str, source: str, count: int) -> float:
    client.create_registered_model(name)
    start = time.perf_counter()
    for number in range(count):
        mv = client.create_model_version(name, source, run_id=None)
        stage = "Staging" if number % 2 else "Production"
        client.transition_model_version_stage(name, mv.version, stage)
    return time.perf_counter() - start


def git_processes(client: MlflowClient, source: str, trace: Path) -> float:
    """Git processes a pair, counted from trace2's `start` events (every git process writes one)."""
    client.create_registered_model("Counted")
    for _ in range(2):  # the first versions' one-off work (a new model's directory, the caches) is not counted
        version = client.create_model_version("Counted", source).version
        client.transition_model_version_stage("Counted", version, "Staging")
    os.environ["GIT_TRACE2_EVENT"] = str(trace)
    try:
        for number in range(COUNTED_PAIRS):
            mv = client.create_model_version("Counted", source)
            client.transition_model_version_stage("Counted", mv.version, "Staging" if number % 2 else "Production")
    finally:
        del os.environ["GIT_TRACE2_EVENT"]
    starts = sum('"event":"start"' in line for line in trace.read_text().splitlines())
    return starts / COUNTED_PAIRS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100, help="pairs a round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore", FutureWarning)  # transition_model_version_stage is deprecated in MLflow
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-mlflow-") as scratch:
        root = Path(scratch)
        model = root / "model"
        model.mkdir()
        (model / "MLmodel").write_text("flavors: {}\n")
        (model / "model.pkl").write_bytes(os.urandom(4096))
        sqlite = f"sqlite:///{root / 'mlflow.db'}"
        repo = root / "repo"
        repo.mkdir()
        for argv in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "initial"]):
            subprocess.run(["git", *argv], cwd=repo, check=True)
        Registry.init(repo)
        floor_client = MlflowClient(tracking_uri=sqlite, registry_uri=sqlite)
        ours_client = MlflowClient(tracking_uri=sqlite, registry_uri=f"modelreg://{repo}")
        floors, ours = [], []
        for number in range(args.rounds):
            floors.append(run(floor_client, f"BenchModel{number}", str(model), args.count))
            ours.append(run(ours_client, f"BenchModel{number}", str(model), args.count))
        processes = git_processes(ours_client, str(model), root / "trace2.json")
    load_after = os.getloadavg()

    per = lambda seconds: 1000 * seconds / args.count  # noqa: E731
    print(f"{args.rounds} rounds of {args.count} x (create_model_version + transition_model_version_stage)")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    for number, (floor, mine) in enumerate(zip(floors, ours, strict=True), 1):
        print(
            f"  round {number}: sqlite {per(floor):6.1f} ms a pair, modelreg {per(mine):6.1f} ms, {mine / floor:5.2f} x"
        )
    floor, mine = statistics.median(floors), statistics.median(ours)
    print(f"  mlflow sqlite registry : {per(floor):6.1f} ms a pair (median round)")
    print(f"  modelreg:// registry   : {per(mine):6.1f} ms a pair (median round)")
    print(f"  ratio                  : {mine / floor:6.2f} x  (goal: at most 5 x)")
    print(f"  git processes a pair   : {processes:6.1f}  (modelreg; counted over {COUNTED_PAIRS} pairs)")


if __name__ == "__main__":
    main()
