"""Per-call cost through MlflowClient: N x (create_model_version + transition_model_version_stage).

The same calls run against MLflow's own sqlite registry (the floor, measured in the same run) and
against `modelreg://` (a fresh git repository). Both register the same small local model directory;
the goal (issue 24) is modelreg within 5x sqlite.

    .venv/bin/python benchmarks/bench_mlflow_calls.py [--count 200]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlflow import MlflowClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from modelreg.api import Registry  # after the path above, so this checkout's modelreg is used


def run(client: MlflowClient, name: str, source: str, count: int) -> float:
    client.create_registered_model(name)
    start = time.perf_counter()
    for number in range(count):
        mv = client.create_model_version(name, source, run_id=None)
        stage = "Staging" if number % 2 else "Production"
        client.transition_model_version_stage(name, mv.version, stage)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-mlflow-") as scratch:
        root = Path(scratch)
        model = root / "model"
        model.mkdir()
        (model / "MLmodel").write_text("flavors: {}\n")
        (model / "model.pkl").write_bytes(os.urandom(4096))
        sqlite = f"sqlite:///{root / 'mlflow.db'}"
        floor = run(MlflowClient(tracking_uri=sqlite, registry_uri=sqlite), "BenchModel", str(model), args.count)

        repo = root / "repo"
        repo.mkdir()
        for argv in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "initial"]):
            subprocess.run(["git", *argv], cwd=repo, check=True)
        Registry.init(repo)
        ours = run(
            MlflowClient(tracking_uri=sqlite, registry_uri=f"modelreg://{repo}"), "BenchModel", str(model), args.count
        )

    per = lambda seconds: 1000 * seconds / args.count  # noqa: E731
    print(f"{args.count} x (create_model_version + transition_model_version_stage) through MlflowClient")
    print(f"  mlflow sqlite registry : {floor:7.2f} s  ({per(floor):6.1f} ms a pair)")
    print(f"  modelreg:// registry   : {ours:7.2f} s  ({per(ours):6.1f} ms a pair)")
    print(f"  ratio                  : {ours / floor:7.2f} x  (goal: at most 5 x)")


if __name__ == "__main__":
    main()
