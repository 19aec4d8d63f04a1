"""The MLflow plugin on MLflow's terms: any MLflow name, sources MLflow can download, MLflow's codes, races.

Calls go to the store class MLflow builds for `modelreg://` (no tracking server needed); one test
logs a run to a sqlite tracking store for `runs:/`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import mlflow
import pytest
from mlflow.entities.model_registry import ModelVersionTag, RegisteredModelTag
from mlflow.exceptions import MlflowException

from modelreg.api import Registry
from modelreg.mlflow.store import ModelregRegistryStore
from tests.conftest import ROOT, Result, git

pytestmark = pytest.mark.slow
NAMES = ["ElasticnetWineModel", "sk-learn-random-forest-reg-model", "SetRegisteredModelTag_TestMod 2"]


@pytest.fixture
def store(repo: Path) -> ModelregRegistryStore:
    return ModelregRegistryStore(f"modelreg://{repo}")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    model = tmp_path / "model-src"
    model.mkdir()
    (model / "MLmodel").write_text("flavors: {}\n")
    (model / "model.pkl").write_bytes(b"weights")
    return model


def _code(call: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(MlflowException) as caught:
        call()
    return caught.value.error_code, caught.value.message


def test_mlflow_names_round_trip_and_are_addressable_from_cli_and_api(
    repo: Path, store: ModelregRegistryStore, source: Path, cli: Callable[..., Result]
) -> None:
    for name in NAMES:
        store.create_registered_model(name)
        mv = store.create_model_version(name, str(source))
        assert (mv.name, mv.version) == (name, 1)
        assert store.get_registered_model(name).name == name
    store.create_model_version("Fraud", str(source))
    store.create_model_version("fraud", str(source))
    assert sorted(m.name for m in store.search_registered_models(max_results=100)) == sorted([*NAMES, "Fraud", "fraud"])

    tags = git(repo, "tag").split()
    assert "+elasticnet+wine+model@v1" in tags and "sk-learn-random-forest-reg-model@v1" in tags
    # Case-insensitive file systems: no two refs or directories differ only in case.
    refs = git(repo, "for-each-ref", "--format=%(refname)").split()
    assert len({r.lower() for r in refs}) == len(refs)
    dirs = [p.name for p in (repo / ".modelreg" / "models").iterdir()]
    assert len({d.lower() for d in dirs}) == len(dirs) == 5

    reg = Registry.open(repo)
    assert reg.resolve("ElasticnetWineModel@1").name == "ElasticnetWineModel"
    assert reg.resolve('"SetRegisteredModelTag_TestMod 2"@v1').manifest.name == "SetRegisteredModelTag_TestMod 2"
    shown = cli("show", "ElasticnetWineModel@1", "--json")
    assert shown.code == 0, shown.err
    assert json.loads(shown.out)["name"] == "ElasticnetWineModel"
    shown = cli("show", "SetRegisteredModelTag_TestMod 2@1", "--json")
    assert shown.code == 0 and json.loads(shown.out)["version"] == 1
    assert cli("lint").code == 0
    assert cli("verify").code == 0


def test_sources_mlflow_can_download_and_a_clean_error_for_one_it_cannot(
    repo: Path, store: ModelregRegistryStore, source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert store.create_model_version("Src", source.as_uri()).version == 1  # file:// URI
    copied = store.copy_model_version(store.get_model_version("Src", 1), "Copy Of Src")  # models:/Src/1
    assert (copied.name, copied.version, copied.source) == ("Copy Of Src", 1, "models:/Src/1")
    same = Registry.open(repo)
    assert same.resolve("Copy Of Src@1").manifest.artifact.digest == same.resolve("Src@1").manifest.artifact.digest

    for bad in ("path/to/nowhere", "models:/Nobody/3", "runs:/0123456789abcdef/model"):
        code, message = _code(lambda bad=bad: store.create_model_version("Src", bad))
        assert code == "INVALID_PARAMETER_VALUE" and repr(bad) in message
    assert git(repo, "tag", "--list", "+src@v*").split() == ["+src@v1"]

    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking)
    mlflow.set_tracking_uri(tracking)
    try:
        with mlflow.start_run() as run:
            mlflow.log_param("alpha", "0.5")
            mlflow.log_artifacts(str(source), "model")
        tracked = ModelregRegistryStore(f"modelreg://{repo}", tracking)
        mv = tracked.create_model_version("Src", f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    finally:
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
    assert (mv.version, mv.run_id) == (2, run.info.run_id)
    assert dict(Registry.open(repo).resolve("Src@2").manifest.params) == {"alpha": 0.5}


def test_deletes_pages_limits_and_order_behave_as_mlflow_stores(store: ModelregRegistryStore, source: Path) -> None:
    for name in ("b-model", "A Model", "c-model"):
        store.create_model_version(name, str(source), tags=[ModelVersionTag("k", "v")])
    # 1. deleting a tag or alias that is not there does nothing
    store.delete_model_version_tag("b-model", 1, "missing")
    store.delete_registered_model_tag("b-model", "missing")
    store.delete_registered_model_alias("b-model", "missing")
    assert store.get_model_version("b-model", 1).tags == {"k": "v"}
    store.set_registered_model_tag("b-model", RegisteredModelTag("team", "x"))
    store.set_registered_model_tag("b-model", RegisteredModelTag("team", "x"))  # the same value: no event, no error
    code, _ = _code(lambda: store.delete_registered_model_tag("Nobody", "team"))
    assert code == "RESOURCE_DOES_NOT_EXIST"
    # 2, 3. page tokens and max_results
    for call in (
        lambda: store.search_model_versions(page_token="evilhax"),
        lambda: store.search_registered_models(page_token="evilhax"),
        lambda: store.search_model_versions(max_results=10**15),
        lambda: store.search_registered_models(max_results=10**15),
        lambda: store.search_registered_models(max_results=0),
    ):
        code, _ = _code(call)
        assert code == "INVALID_PARAMETER_VALUE"
    first = store.search_model_versions(max_results=2, order_by=["name ASC"])
    rest = store.search_model_versions(max_results=2, order_by=["name ASC"], page_token=first.token)
    assert [mv.name for mv in first] + [mv.name for mv in rest] == ["A Model", "b-model", "c-model"]
    assert rest.token is None
    # 4. registered models by last update
    store.update_model_version("A Model", 1, "touched last")
    newest = store.search_registered_models(order_by=["last_updated_timestamp DESC"])
    assert newest[0].name == "A Model"
    code, _ = _code(lambda: store.search_registered_models(order_by=["size DESC"]))
    assert code == "INVALID_PARAMETER_VALUE"
    # 6. versions are ints, as in MLflow's local stores
    assert isinstance(store.get_model_version("A Model", "1").version, int)


_WRITER = """
import sys
from pathlib import Path
from modelreg.mlflow.store import ModelregRegistryStore
store = ModelregRegistryStore("modelreg://" + sys.argv[1])
for _ in range(4):
    print(store.create_model_version("Racing Model", sys.argv[2]).version, flush=True)
"""


def test_two_writers_never_lose_or_duplicate_a_version(repo: Path, source: Path) -> None:
    env = {"PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(repo), str(source)],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=600) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], [err[-2000:] for _, err in outputs]
    numbers = sorted(int(line) for out, _ in outputs for line in out.split())
    assert numbers == list(range(1, 9))
    assert Registry.open(repo).state("Racing Model").versions == tuple(range(1, 9))
    assert len(git(repo, "tag", "--list", "+racing+032+model@v*").split()) == 8


def test_deleting_is_a_tombstone_event_that_history_keeps(
    repo: Path, store: ModelregRegistryStore, source: Path, cli: Callable[..., Result]
) -> None:
    for _ in range(3):
        store.create_model_version("Doomed", str(source))
    store.set_registered_model_alias("Doomed", "champion", 2)
    store.transition_model_version_stage("Doomed", 2, "Production", False)
    store.delete_model_version("Doomed", 2)
    code, _ = _code(lambda: store.get_model_version("Doomed", 2))
    assert code == "RESOURCE_DOES_NOT_EXIST"
    assert sorted(mv.version for mv in store.search_model_versions("name = 'Doomed'")) == [1, 3]
    assert store.get_registered_model("Doomed").aliases == {}
    assert store.get_latest_versions("Doomed", ["Production"]) == []
    history = json.loads(cli("history", "Doomed", "--json").out)
    deleted = [e for e in history if e["action"] == "delete"]
    assert len(deleted) == 1 and deleted[0]["version"] == 2
    assert deleted[0]["reason"] == "deleted through MLflow's registry API" and deleted[0]["actor"]
    assert "+doomed@v2" in git(repo, "tag").split()  # the version tag stays: history keeps it

    store.delete_registered_model("Doomed")
    code, _ = _code(lambda: store.get_registered_model("Doomed"))
    assert code == "RESOURCE_DOES_NOT_EXIST"
    assert [m.name for m in store.search_registered_models()] == []
    assert store.create_model_version("Doomed", str(source)).version == 4  # numbers are never reused
    assert [mv.version for mv in store.search_model_versions("name = 'Doomed'")] == [4]
    assert cli("verify").code == 0
    code, message = _code(lambda: store.rename_registered_model("Doomed", "Saved"))
    assert code == "NOT_IMPLEMENTED" and "Doomed has deleted versions (v1, v2, v3)" in message
