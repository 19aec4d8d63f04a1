"""`modelreg import mlflow` keeps MLflow's names exactly, as the plugin does (issue 24), and a registry an earlier
import wrote under slugs keeps working: its models go on receiving their versions and events there.

Tracking is a sqlite store in a temp dir; models are small scikit-learn models.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mlflow
import mlflow.sklearn
import pytest
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

from modelreg.api import Registry
from modelreg.core import mlflowmap
from modelreg.core.refs import ModelRef, check_alias
from modelreg.errors import InvalidInputError, NotFoundError
from modelreg.importers import apply
from modelreg.importers import mlflow as mlflow_import
from modelreg.importers.mlflow_plan import MlflowModel, RunFacts, version_key
from modelreg.importers.plan import EventStep, ModelStep, Plan, VersionStep
from modelreg.results import ImportReport
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:.*deprecated since 2.9.0:FutureWarning")]
X, Y = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]


def _log(name: str, c: float) -> None:
    with mlflow.start_run():
        mlflow.log_param("C", c)
        mlflow.sklearn.log_model(LogisticRegression(C=c).fit(X, Y), name="model", registered_model_name=name)


def _cli(repo: Path, *args: str) -> Any:
    proc = subprocess.run(
        [sys.executable, "-m", "modelreg", *args, "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_an_imported_name_is_found_exactly_by_the_api_the_cli_and_the_plugin(repo: Path, tracking: str) -> None:
    mlflow_client = MlflowClient(tracking_uri=tracking, registry_uri=tracking)
    _log("Churn Model", 1.0)
    _log("Churn Model", 0.5)
    mlflow_client.transition_model_version_stage("Churn Model", 2, "Production")
    mlflow_client.set_registered_model_alias("Churn Model", "champion", 1)

    report = Registry.open(repo).import_mlflow(tracking_uri=tracking)
    assert [(r["name"], r["version"]) for r in report.registered] == [("Churn Model", 1), ("Churn Model", 2)]
    reg = Registry.open(repo)
    assert [m.name for m in reg.models()] == ["Churn Model"]
    assert reg.resolve("models:/Churn Model/Production").version == 2
    assert reg.resolve(ModelRef("Churn Model", alias="champion")).version == 1
    assert reg.resolve('"Churn Model"@champion').manifest.extra["origin"]["key"] == "MLflow:Churn Model:1"
    with pytest.raises(NotFoundError):
        reg.resolve("churn-model/production")  # no slug of it anywhere

    assert _cli(repo, "resolve", "models:/Churn Model/Production")["version"] == 2

    plugin = MlflowClient(tracking_uri=tracking, registry_uri=f"modelreg://{repo}")
    [latest] = plugin.get_latest_versions("Churn Model", ["Production"])
    assert (latest.name, int(latest.version)) == ("Churn Model", 2)
    assert int(plugin.get_model_version_by_alias("Churn Model", "champion").version) == 1
    mlflow.set_registry_uri(f"modelreg://{repo}")
    served = mlflow.sklearn.load_model("models:/Churn Model/Production")
    assert list(served.predict([[3.0]])) == [1]


def _slugged_plan(
    models: list[MlflowModel], runs: Mapping[str, RunFacts], stages: tuple[str, ...], tracking_uri: str | None
) -> Plan:
    """The plan imports made before they kept names exactly (their code, as it was, without the run facts and
    model tags this test does not use): names slugged, aliases lowercased."""
    versions: list[VersionStep] = []
    events: list[EventStep] = []
    skipped: list[str] = []
    described: list[ModelStep] = []
    taken: dict[str, str] = {}
    for model in models:
        name = mlflowmap.model_name(model.name)
        if taken.setdefault(name, model.name) != model.name:
            skipped.append(f"MLflow model {model.name!r}: its modelreg name {name!r} is taken by {taken[name]!r}")
            continue
        if model.description or model.tags:
            described.append(ModelStep(name, model.description, mlflowmap.tags(model.tags)))
        ordered = sorted(model.versions, key=lambda v: v.version)
        for mv in ordered:
            imported = {"from": "MLflow", "name": mv.name, "version": mv.version, "source": mv.source}
            versions.append(
                VersionStep(
                    key=version_key(mv.name, mv.version),
                    name=name,
                    label=f"MLflow {mv.name} v{mv.version}",
                    location=mv.source,
                    date=mlflowmap.git_date(mv.created_ms),
                    run_id=mv.run_id,
                    imported={**imported, "tracking_uri": tracking_uri},
                )
            )
        for mv in sorted(ordered, key=lambda v: (v.updated_ms or v.created_ms, v.version)):
            stage = mlflowmap.to_modelreg_stage(mv.stage, stages)
            when = mv.updated_ms or mv.created_ms
            events.append(
                EventStep(
                    name=name,
                    version_key=version_key(mv.name, mv.version),
                    action="assign" if stage else "unassign",
                    kind="stage",
                    target=stage or "",
                    mode="state",
                    date=mlflowmap.git_date(when),
                    imported={"from": "MLflow", "stage": mv.stage, "time": mlflowmap.iso_time(when)},
                )
            )
        for alias, version in sorted(model.aliases.items()):
            ours = alias.lower()
            try:
                check_alias(ours, stages)
            except InvalidInputError as exc:
                skipped.append(f"MLflow {model.name}@{alias}: {exc}")
                continue
            events.append(
                EventStep(
                    name=name,
                    version_key=version_key(model.name, version),
                    action="assign",
                    kind="alias",
                    target=ours,
                    mode="state",
                    date=mlflowmap.git_date(model.updated_ms),
                    imported={"from": "MLflow", "alias": alias, "time": mlflowmap.iso_time(model.updated_ms)},
                )
            )
    return Plan(versions, events, skipped, tuple(described))


def _import_with_slugs(repo: Path, tracking: str) -> ImportReport:
    """An import as modelreg made them before it kept names: the old plan, through the same writer."""
    client = MlflowClient(tracking_uri=tracking, registry_uri=tracking)
    models = mlflow_import._read_models(client, [])
    runs = {mv.run_id: RunFacts() for model in models for mv in model.versions if mv.run_id}
    reg = Registry.open(repo)

    def fetch(step: VersionStep, scratch: Path) -> Path:
        uri = f"models:/{step.imported['name']}/{step.imported['version']}"
        return mlflow_import.download(uri, scratch, tracking, tracking)

    the_plan = _slugged_plan(models, runs, reg.config.stages, tracking)
    return apply.run(reg.reader, reg.publisher, the_plan, "MLflow", fetch)


def test_a_model_imported_earlier_under_its_slug_keeps_it_and_is_never_imported_twice(
    repo: Path, tracking: str
) -> None:
    mlflow_client = MlflowClient(tracking_uri=tracking, registry_uri=tracking)
    _log("Churn Model", 1.0)
    _log("Churn Model", 0.5)
    mlflow_client.transition_model_version_stage("Churn Model", 1, "Production")
    mlflow_client.set_registered_model_alias("Churn Model", "Champion", 1)
    before = _import_with_slugs(repo, tracking)
    assert [(r["name"], r["version"]) for r in before.registered] == [("churn-model", 1), ("churn-model", 2)]
    assert Registry.open(repo).state("churn-model").aliases == {"champion": 1}

    # Later in MLflow: a third version takes Production and the alias, and a model of another name appears.
    _log("Churn Model", 0.25)
    mlflow_client.transition_model_version_stage("Churn Model", 3, "Production", archive_existing_versions=True)
    mlflow_client.set_registered_model_alias("Churn Model", "Champion", 3)
    _log("Fraud Model", 2.0)

    report = Registry.open(repo).import_mlflow(tracking_uri=tracking)
    assert [(r["name"], r["version"]) for r in report.registered] == [("churn-model", 3), ("Fraud Model", 1)]
    assert report.skipped == []
    reg = Registry.open(repo)
    assert sorted(m.name for m in reg.models()) == ["Fraud Model", "churn-model"]  # no second `Churn Model`
    churn = reg.state("churn-model")
    assert (churn.versions, churn.stages, churn.aliases) == (
        (1, 2, 3),
        {1: "archived", 3: "production"},
        {"champion": 3},
    )
    assert reg.resolve("churn-model@3").manifest.extra["origin"]["key"] == "MLflow:Churn Model:3"
    with pytest.raises(NotFoundError):
        reg.resolve("models:/Churn Model/Production")

    again = Registry.open(repo).import_mlflow(tracking_uri=tracking)
    assert (again.registered, again.events, again.skipped) == ([], [], [])
    only = Registry.open(repo).import_mlflow(["Churn Model"], tracking_uri=tracking)  # named: the same model
    assert (only.registered, only.events) == ([], [])


def test_a_name_with_a_quote_and_more_versions_than_a_page_come_over_whole(
    repo: Path, tracking: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow's filter quotes the name with the quote it does not hold, and every page of versions is read."""
    monkeypatch.setattr(mlflow_import, "PAGE", 1)
    for c in (1.0, 0.5):
        _log("O'Brien's Model", c)
    report = Registry.open(repo).import_mlflow(tracking_uri=tracking)
    assert sorted((r["name"], r["version"]) for r in report.registered) == [
        ("O'Brien's Model", 1),
        ("O'Brien's Model", 2),
    ]
    assert Registry.open(repo).resolve(ModelRef("O'Brien's Model", version=2)).version == 2


def test_a_name_holding_both_quotes_is_refused_in_one_line(repo: Path, tracking: str) -> None:
    MlflowClient(tracking_uri=tracking, registry_uri=tracking).create_registered_model("""say "it's" here""")
    with pytest.raises(InvalidInputError, match="cannot quote a name holding"):
        Registry.open(repo).import_mlflow(tracking_uri=tracking)
