"""`modelreg import mlflow` of a registry of 200 versions (10 models x 20), with stages and aliases.

MLflow's own registry (sqlite) holds the versions; each version's source is one of 20 small
scikit-learn models logged once (each model's versions share their bytes, as retrained models
often do not, but the import downloads every version anyway). Set against floors measured in
the same run: MLflow downloading every version alone, and `modelreg register` of those
downloads through the Python API (hashing, store, commit, tags), without MLflow. A second
import (nothing new) is timed too.

    .venv/bin/python benchmarks/bench_import.py [--models 10] [--versions 20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

from benchenv import IDENTITY

warnings.filterwarnings("ignore", category=FutureWarning)


def build_mlflow(tracking: str, models: int, versions: int) -> None:
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    mlflow.set_tracking_uri(tracking)
    mlflow.set_registry_uri(tracking)
    client = MlflowClient(tracking_uri=tracking, registry_uri=tracking)
    sources = []
    for index in range(versions):
        with mlflow.start_run() as run:
            mlflow.log_param("C", 1.0 / (index + 1))
            mlflow.log_metric("accuracy", 0.5 + index / 100)
            info = mlflow.sklearn.log_model(
                LogisticRegression(C=1.0 / (index + 1)).fit([[0.0], [1.0]], [0, 1]), name="m"
            )
        sources.append((info.model_uri, run.info.run_id, info.model_id))
    for m in range(models):
        name = f"model-{m}"
        client.create_registered_model(name)
        for source, run_id, model_id in sources:
            client.create_model_version(name, source, run_id, model_id=model_id)
        client.transition_model_version_stage(name, versions - 2, "Production")
        client.transition_model_version_stage(name, versions - 1, "Staging")
        client.transition_model_version_stage(name, versions - 1, "Production", archive_existing_versions=True)
        client.transition_model_version_stage(name, versions, "Staging")
        client.set_registered_model_alias(name, "champion", versions - 1)


def fresh_registry(where: Path) -> Path:
    repo = where / "repo"
    repo.mkdir(parents=True)
    env = {**os.environ, **IDENTITY}
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "init"], cwd=repo, check=True, env=env)
    from modelreg.api import Registry

    Registry.init(repo)
    return repo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--versions", type=int, default=20)
    args = parser.parse_args()
    os.environ.update(IDENTITY)
    total = args.models * args.versions
    with tempfile.TemporaryDirectory(prefix="bench-import-") as scratch:
        root = Path(scratch)
        os.chdir(root)
        tracking = f"sqlite:///{root / 'mlflow.db'}"
        started = time.perf_counter()
        build_mlflow(tracking, args.models, args.versions)
        print(f"built an MLflow registry of {total} versions in {time.perf_counter() - started:.1f} s")

        from mlflow import MlflowClient

        from modelreg.api import Registry
        from modelreg.importers.mlflow import download

        client = MlflowClient(tracking_uri=tracking, registry_uri=tracking)
        downloads = root / "downloads"
        started = time.perf_counter()
        paths = []
        for m in range(args.models):
            for v in range(1, args.versions + 1):
                target = downloads / f"{m}-{v}"
                target.mkdir(parents=True)
                paths.append((f"model-{m}", download(f"models:/model-{m}/{v}", target, tracking, tracking)))
        floor_download = time.perf_counter() - started

        plain = fresh_registry(root / "plain")
        reg = Registry.open(plain)
        started = time.perf_counter()
        for name, path in paths:
            reg.register(name, path)
        floor_register = time.perf_counter() - started

        repo = fresh_registry(root / "imported")
        started = time.perf_counter()
        report = Registry.open(repo).import_mlflow(tracking_uri=tracking)
        imported = time.perf_counter() - started
        started = time.perf_counter()
        again = Registry.open(repo).import_mlflow(tracking_uri=tracking)
        second = time.perf_counter() - started
        assert len(report.registered) == total
        assert not again.registered
        assert not again.events
        champion = client.get_model_version_by_alias("model-0", "champion").version
        assert Registry.open(repo).state("model-0").aliases["champion"] == int(champion)

        print(f"{'what':<52} {'seconds':>8} {'per version':>12}")
        rows = [
            (f"floor: MLflow downloads {total} versions", floor_download),
            (f"floor: modelreg register of {total} downloads (API)", floor_register),
            (f"modelreg import mlflow ({total} versions, {len(report.events)} events)", imported),
            ("modelreg import mlflow again (nothing new)", second),
        ]
        for label, seconds in rows:
            print(f"{label:<52} {seconds:>8.1f} {seconds / total * 1000:>10.0f} ms")
        print(f"import / (download + register floors) = {imported / (floor_download + floor_register):.2f}")
        print(f"not mapped: {len(report.skipped)} line(s)")
        for line in report.skipped[:5]:
            print(f"  {line}")


if __name__ == "__main__":
    main()
