"""The MLflow plugin and `modelreg import mlflow`, against the real mlflow package.

Tracking is a sqlite store in a temp dir; models are small scikit-learn models.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import mlflow
import mlflow.sklearn
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LogisticRegression

from modelreg.api import Registry
from modelreg.mlflow.store import ModelregRegistryStore
from tests.conftest import ROOT, git

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:.*deprecated since 2.9.0:FutureWarning")]
README = ROOT / "README.md"
X, Y = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]


def readme_mlflow_code() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Moving from MLflow") :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "README's 'Moving from MLflow' section has no python block"
    return match.group(1)


def run_json(repo: Path, *args: str) -> Any:
    proc = subprocess.run(
        [sys.executable, "-m", "modelreg", *args, "--json"], cwd=repo, capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout)


def test_the_readme_mlflow_code_runs_unchanged_and_writes_the_registry(repo: Path, tmp_path: Path) -> None:
    work = tmp_path / "mlflow-work"
    work.mkdir()
    script = work / "flow.py"
    script.write_text(readme_mlflow_code(), encoding="utf-8")
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}",
        "MLFLOW_REGISTRY_URI": f"modelreg://{repo}",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.run([sys.executable, str(script)], cwd=work, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "[1]"

    history = run_json(repo, "history", "iris-classifier")
    events = [(e["action"], e["version"], e.get("target")) for e in history]
    assert events == [
        ("create", 0, "_create"),  # register_model creates the registered model first: it exists before v1
        ("register", 1, None),
        ("register", 2, None),
        ("assign", 1, "staging"),
        ("assign", 2, "production"),
        ("update", 2, "_update"),  # the description, then the version tag: each an event with its commit
        ("update", 2, "_update"),
        ("assign", 2, "champion"),
    ]
    tags = git(repo, "tag").split()
    assert tags == sorted(
        [
            "iris-classifier@v1",
            "iris-classifier@v2",
            "iris-classifier#_create#1",
            "iris-classifier#staging#2",
            "iris-classifier#production#3",
            "iris-classifier#_update#4",
            "iris-classifier#_update#5",
            "iris-classifier#champion#6",
        ]
    )
    assert run_json(repo, "verify")["ok"] is True

    v2 = Registry.open(repo).resolve("iris-classifier@2").manifest
    assert v2.description == "C=0.5, validated"
    assert dict(v2.tags) == {"validated": "yes"}
    assert dict(v2.params) == {"C": 0.5}
    origin = v2.extra["origin"]
    assert origin["from"] == "MLflow" and origin["experiment_id"] == "0"
    assert v2.lineage.run_id == origin["run_id"] and len(v2.lineage.run_id) == 32
    v1 = Registry.open(repo).resolve("iris-classifier@1").manifest
    assert dict(v1.params) == {"C": 1.0} and dict(v1.metrics) == {"accuracy": 1.0}
    assert "MLmodel" in {f.path for f in v1.artifact.files}
    assert "registered_model_meta" not in {f.path for f in v2.artifact.files}


def _log(name: str | None, c: float) -> Any:
    with mlflow.start_run() as run:
        mlflow.log_param("C", c)
        mlflow.log_metric("accuracy", 0.5 + c / 10)
        mlflow.set_tag("mlflow.source.git.commit", "a" * 40)
        info = mlflow.sklearn.log_model(LogisticRegression(C=c).fit(X, Y), name="model", registered_model_name=name)
    return run, info


@pytest.fixture
def plugin(repo: Path, tracking: str) -> MlflowClient:
    """An MlflowClient whose registry is the modelreg repository."""
    uri = f"modelreg://{repo}"
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=tracking, registry_uri=uri)


def test_plugin_records_lineage_and_serves_verified_bytes(repo: Path, plugin: MlflowClient) -> None:
    run, _ = _log("churn", 1.0)
    manifest = Registry.open(repo).resolve("churn@1").manifest
    assert manifest.lineage.code_commit == "a" * 40
    assert manifest.lineage.run_id == run.info.run_id
    assert dict(manifest.metrics) == {"accuracy": 0.6}

    mv = plugin.get_model_version("churn", "1")
    assert (mv.current_stage, mv.run_id, mv.version) == ("None", run.info.run_id, 1)
    path = plugin._get_registry_client().store.get_model_version_download_uri("churn", "1")
    assert Path(path, "MLmodel").is_file()
    loaded = mlflow.sklearn.load_model("models:/churn/1")
    assert list(loaded.predict([[3.0]])) == [1]

    # A blob changed in the store after registration: the download refuses it, as `pull` does.
    blobs = [p for p in (repo / ".modelreg" / "store" / "blobs").rglob("*") if p.is_file()]
    assert blobs
    for found in blobs:
        found.chmod(0o644)
        found.write_bytes(b"tampered")
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "modelreg"
    subprocess.run(["rm", "-rf", str(cache)], check=True)
    with pytest.raises(MlflowException) as caught:
        mlflow.sklearn.load_model("models:/churn/1")
    assert "modelreg:" in caught.value.message and caught.value.error_code == "DATA_LOSS"


def test_plugin_stages_aliases_tags_and_search(repo: Path, plugin: MlflowClient) -> None:
    for c in (1.0, 0.5, 0.25):
        _log("churn", c)
    plugin.transition_model_version_stage("churn", 1, "Production")
    plugin.transition_model_version_stage("churn", 2, "Production", archive_existing_versions=True)
    state = Registry.open(repo).state("churn")
    assert state.stages == {1: "archived", 2: "production"}
    plugin.transition_model_version_stage("churn", 3, "Staging")
    plugin.transition_model_version_stage("churn", 3, "None")
    assert 3 not in Registry.open(repo).state("churn").stages
    assert [mv.version for mv in plugin.get_latest_versions("churn", ["Production"])] == [2]

    plugin.set_registered_model_alias("churn", "champion", 2)
    assert plugin.get_model_version_by_alias("churn", "champion").version == 2
    model = plugin.get_registered_model("churn")
    assert model.aliases == {"champion": "2"}
    assert sorted(mv.version for mv in model.latest_versions) == [1, 2, 3]
    plugin.delete_registered_model_alias("churn", "champion")
    assert Registry.open(repo).state("churn").aliases == {}

    plugin.set_model_version_tag("churn", 3, "owner", "risk")
    plugin.update_model_version("churn", 3, description="candidate")
    mv = plugin.get_model_version("churn", 3)
    assert (mv.tags, mv.description) == ({"owner": "risk"}, "candidate")
    plugin.delete_model_version_tag("churn", 3, "owner")
    assert plugin.get_model_version("churn", 3).tags == {}

    found = plugin.search_model_versions("name = 'churn' AND tags.owner = 'risk'")
    assert list(found) == []
    found = plugin.search_model_versions("name = 'churn' AND params.C = '0.5' AND metrics.accuracy > 0.5")
    assert [(mv.version, mv.current_stage) for mv in found] == [(2, "Production")]
    with pytest.raises(MlflowException) as caught:
        plugin.search_model_versions("name = 'churn' AND")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    found = plugin.search_model_versions("name LIKE 'ch%'", order_by=["version_number ASC"])
    assert [mv.version for mv in found] == [1, 2, 3]
    assert [m.name for m in plugin.search_registered_models("name = 'churn'")] == ["churn"]
    assert run_json(repo, "verify")["ok"] is True


def test_plugin_refusals_are_mlflow_exceptions(repo: Path, plugin: MlflowClient) -> None:
    _log("churn", 1.0)
    store = plugin._get_registry_client().store
    assert isinstance(store, ModelregRegistryStore)
    cases = [
        (lambda: plugin.get_model_version("churn", 9), "RESOURCE_DOES_NOT_EXIST", "has no version 9"),
        (lambda: plugin.get_registered_model("Churn Model"), "RESOURCE_DOES_NOT_EXIST", "'Churn Model'"),
        (lambda: plugin.get_registered_model("a/b"), "INVALID_PARAMETER_VALUE", "cannot contain '/'"),
        (lambda: plugin.rename_registered_model("Churn Model", "x"), "RESOURCE_DOES_NOT_EXIST", "'Churn Model'"),
        (lambda: plugin.transition_model_version_stage("churn", 1, "Shadow"), "INVALID_PARAMETER_VALUE", "Shadow"),
        (lambda: plugin.set_registered_model_alias("churn", "v3", 1), "INVALID_PARAMETER_VALUE", "alias"),
        (lambda: store.create_registered_model("churn"), "RESOURCE_ALREADY_EXISTS", "already exists"),
    ]
    for call, code, words in cases:
        with pytest.raises(MlflowException) as caught:
            call()
        assert caught.value.error_code == code, caught.value.message
        assert words in caught.value.message
        assert "Traceback" not in caught.value.message

    # A registered model's own description and tags are `describe` events, shown back by MLflow and history.
    plugin.update_registered_model("churn", "Churn scoring")
    plugin.set_registered_model_tag("churn", "team", "growth")
    plugin.set_registered_model_tag("churn", "tier", "1")
    plugin.delete_registered_model_tag("churn", "tier")
    model = plugin.get_registered_model("churn")
    assert (model.description, model.tags) == ("Churn scoring", {"team": "growth"})
    described = [e for e in run_json(repo, "history", "churn") if e["action"] == "describe"]
    assert [e["tag"] for e in described] == [f"churn#_describe#{e['seq']}" for e in described]
    assert len(described) == 4 and described[0]["reason"] == "set through MLflow's registry API"

    config = repo / ".modelreg" / "config.yaml"
    config.write_text(config.read_text().replace("review_required: []", "review_required: [production]"))
    git(repo, "commit", "-q", "-am", "review production")
    with pytest.raises(MlflowException) as caught:
        plugin.transition_model_version_stage("churn", 1, "Production")
    assert caught.value.error_code == "PERMISSION_DENIED"
    assert "`modelreg promote churn@1 production --request`" in caught.value.message
    assert Registry.open(repo).state("churn").stages == {}


def _mlflow_registry(tracking: str) -> MlflowClient:
    """Two models in MLflow's own registry: versions, transitions, aliases, tags, a description."""
    client = MlflowClient(tracking_uri=tracking, registry_uri=tracking)
    for c in (1.0, 0.5, 0.25):
        _log("Churn Model", c)
    for c in (2.0, 3.0):
        _log("fraud", c)
    client.transition_model_version_stage("Churn Model", 1, "Production")
    client.transition_model_version_stage("Churn Model", 2, "Staging")
    client.transition_model_version_stage("Churn Model", 2, "Production", archive_existing_versions=True)
    client.transition_model_version_stage("Churn Model", 3, "Staging")
    client.set_registered_model_alias("Churn Model", "champion", 2)
    client.set_registered_model_alias("Churn Model", "Challenger", 3)
    client.update_model_version("Churn Model", 3, description="smaller C")
    client.set_model_version_tag("Churn Model", 3, "owner", "risk")
    client.transition_model_version_stage("fraud", 2, "Production")
    client.set_registered_model_tag("fraud", "team", "payments")
    return client


def test_import_mlflow_brings_stages_aliases_and_bytes_and_is_idempotent(
    repo: Path, tracking: str, tmp_path: Path
) -> None:
    client = _mlflow_registry(tracking)
    reg = Registry.open(repo)
    dry = reg.import_mlflow(tracking_uri=tracking, dry_run=True)
    assert len(dry.registered) == 5 and git(repo, "tag") == ""

    report = Registry.open(repo).import_mlflow(tracking_uri=tracking)
    assert [(r["name"], r["version"]) for r in report.registered] == [
        ("Churn Model", 1),  # MLflow's names, exactly
        ("Churn Model", 2),
        ("Churn Model", 3),
        ("fraud", 1),
        ("fraud", 2),
    ]
    reg = Registry.open(repo)
    # The registered model's own tags come over as a describe event (MLflow's `fraud` has team=payments).
    fraud = {m.name: m for m in reg.models()}["fraud"]
    assert dict(fraud.tags) == {"team": "payments"}
    described = [e for e in report.events if e["action"] == "describe"]
    assert [e["name"] for e in described] == ["fraud"] and described[0]["tag"].startswith("fraud#_describe#")
    churn = reg.state("Churn Model")
    expected = {
        int(mv.version): mv.current_stage.lower()
        for mv in client.search_model_versions("name = 'Churn Model'")
        if mv.current_stage != "None"
    }
    assert churn.stages == expected == {1: "archived", 2: "production", 3: "staging"}
    assert churn.aliases == {"champion": 2}  # `Challenger`: the plugin refuses it too (aliases are lowercase)
    assert [line for line in report.skipped if "Challenger" in line] == [
        "MLflow Churn Model@Challenger: invalid alias name 'Challenger': use lowercase letters and digits, "
        "separated by single '.', '_' or '-'"
    ]
    assert reg.state("fraud").stages == {2: "production"}
    v3 = reg.resolve('"Churn Model"@3').manifest
    assert (v3.description, dict(v3.tags)) == ("smaller C", {"owner": "risk"})
    assert dict(v3.params) == {"C": 0.25} and v3.lineage.code_commit == "a" * 40

    # Every event says where it came from, with MLflow's user and time.
    message = git(repo, "tag", "-l", "--format=%(contents)", "+churn+032+model#production#*")
    payload = json.loads(message.split("\n\n", 1)[1])
    assert payload["imported"]["from"] == "MLflow" and payload["imported"]["stage"] == "Production"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", payload["imported"]["time"])

    pulled = reg.pull("models:/Churn Model/Production", tmp_path / "served")
    model = mlflow.sklearn.load_model(str(pulled))
    assert list(model.predict([[3.0]])) == [1]
    assert run_json(repo, "verify")["ok"] is True

    refs = git(repo, "for-each-ref")
    again = Registry.open(repo).import_mlflow(tracking_uri=tracking)
    assert (again.registered, again.events) == ([], [])
    assert git(repo, "for-each-ref") == refs

    # Later, only what is new comes over.
    _log("fraud", 4.0)
    client.transition_model_version_stage("fraud", 3, "Staging")
    later = Registry.open(repo).import_mlflow(["fraud"], tracking_uri=tracking)
    assert [(r["name"], r["version"]) for r in later.registered] == [("fraud", 3)]
    assert [(e["target"], e["version"]) for e in later.events] == [("staging", 3)]


def test_import_mlflow_cli_json(repo: Path, tracking: str) -> None:
    _log("fraud", 1.0)
    proc = subprocess.run(
        [sys.executable, "-m", "modelreg", "import", "mlflow", "--tracking-uri", tracking, "fraud", "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["registered"] == [{"name": "fraud", "version": 1, "from": "MLflow fraud v1"}]
    missing = subprocess.run(
        [sys.executable, "-m", "modelreg", "import", "mlflow", "--tracking-uri", tracking, "nope"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: MLflow:") and "Traceback" not in missing.stderr


def test_mlflow_is_not_imported_by_modelreg_or_the_cli() -> None:
    code = "import sys, modelreg, modelreg.cli.commands; print('mlflow' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"
