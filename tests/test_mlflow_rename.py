"""MLflow's `rename_registered_model` through the plugin: a model with no version yet, renamed by events.

Real git repositories; the store class MLflow builds for `modelreg://`, no tracking server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from mlflow.entities.model_registry import RegisteredModelTag
from mlflow.exceptions import MlflowException

from modelreg.mlflow.store import ModelregRegistryStore
from tests.conftest import ROOT, Result, git, repo_state

pytestmark = pytest.mark.slow


def _refused(call: Callable[[], object]) -> MlflowException:
    with pytest.raises(MlflowException) as caught:
        call()
    assert "Traceback" not in caught.value.message
    return caught.value


def _now() -> int:
    return time.time_ns() // 1_000_000


def test_rename_keeps_creation_time_description_and_tags_and_chains(
    repo: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the real clock, as MLflow's test has it (the fixtures date every tag in one second)
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    monkeypatch.delenv("GIT_AUTHOR_DATE")
    store = ModelregRegistryStore(f"modelreg://{repo}")
    made = store.create_registered_model("UpdateRMTest", [RegisteredModelTag("team", "growth")], "churn")
    store.update_registered_model("UpdateRMTest", "churn scoring")

    start = _now()
    renamed = store.rename_registered_model("UpdateRMTest", "UpdateRMTest 2")
    end = _now()
    assert (renamed.name, renamed.description, renamed.tags) == ("UpdateRMTest 2", "churn scoring", {"team": "growth"})
    got = store.get_registered_model("UpdateRMTest 2")
    assert got.creation_timestamp == made.creation_timestamp
    assert start <= got.last_updated_timestamp <= end
    missing = _refused(lambda: store.get_registered_model("UpdateRMTest"))
    assert missing.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert missing.message.startswith("Registered Model with name=UpdateRMTest not found")
    assert [m.name for m in store.search_registered_models()] == ["UpdateRMTest 2"]

    store.update_registered_model("UpdateRMTest 2", "4th update")
    start = _now()
    again = store.rename_registered_model("UpdateRMTest 2", "UpdateRMTest 5")
    end = _now()
    assert (again.description, again.creation_timestamp) == ("4th update", made.creation_timestamp)
    assert start <= again.last_updated_timestamp <= end
    for old in ("UpdateRMTest", "UpdateRMTest 2"):
        assert _refused(lambda o=old: store.get_registered_model(o)).error_code == "RESOURCE_DOES_NOT_EXIST"

    history = json.loads(cli("history", "UpdateRMTest 2", "--json").out)
    assert [(e["action"], e.get("renamed_from"), e.get("renamed_to")) for e in history] == [
        ("create", "UpdateRMTest", None),
        ("describe", None, None),
        ("delete", None, "UpdateRMTest 5"),
    ]
    assert history[-1]["reason"] == "renamed to UpdateRMTest 5 (through MLflow's registry API)"
    verified = cli("verify", "--json")
    assert verified.code == 0 and json.loads(verified.out)["ok"] is True, verified.out + verified.err


def test_rename_refusals_in_mlflow_words(repo: Path, tmp_path: Path) -> None:
    store = ModelregRegistryStore(f"modelreg://{repo}")
    store.create_registered_model("churn")
    store.create_registered_model("fraud")
    store.create_registered_model("prompt", [RegisteredModelTag("mlflow.prompt.is_prompt", "true")])
    store.create_registered_model("gone")
    store.delete_registered_model("gone")
    source = tmp_path / "model"
    source.mkdir()
    (source / "MLmodel").write_text("flavors: {}\n")
    store.create_model_version("scored", str(source))
    store.create_model_version("scored", str(source))
    store.delete_model_version("scored", 1)
    before = repo_state(repo)

    taken = _refused(lambda: store.rename_registered_model("churn", "fraud"))
    assert taken.error_code == "RESOURCE_ALREADY_EXISTS"
    assert taken.message == "Registered Model (name=fraud) already exists."
    prompt = _refused(lambda: store.rename_registered_model("churn", "prompt"))
    assert (prompt.error_code, prompt.message) == ("RESOURCE_ALREADY_EXISTS", "Prompt (name=prompt) already exists.")
    for old in ("nothere", "gone"):
        missing = _refused(lambda o=old: store.rename_registered_model(o, "x"))
        assert missing.error_code == "RESOURCE_DOES_NOT_EXIST"
        assert missing.message.startswith(f"Registered Model with name={old} not found")
    unnamed = _refused(lambda: store.rename_registered_model("churn", None))  # type: ignore[arg-type]
    assert unnamed.message == "Missing value for required parameter 'name'."
    versions = _refused(lambda: store.rename_registered_model("scored", "x"))
    assert versions.error_code == "NOT_IMPLEMENTED"
    assert "renaming scored to x is not supported: scored has deleted versions (v1)" in versions.message
    assert repo_state(repo) == before
    assert "x#_create#1" not in git(repo, "tag").split()


def test_a_model_with_versions_keeps_them_and_their_stages_aliases_and_times(
    repo: Path, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    store = ModelregRegistryStore(f"modelreg://{repo}")
    made = store.create_registered_model("Churn", [RegisteredModelTag("team", "growth")], "churn scoring")
    versions = []
    for number in (1, 2):
        source = tmp_path / f"model{number}"
        source.mkdir()
        (source / "MLmodel").write_text(f"flavors: {{}}\nrun: {number}\n")
        versions.append(store.create_model_version("Churn", str(source), description=f"v{number}"))
    store.transition_model_version_stage("Churn", 1, "Production", archive_existing_versions=False)
    store.transition_model_version_stage("Churn", 2, "Production", archive_existing_versions=False)  # both hold it
    store.set_registered_model_alias("Churn", "champion", 1)

    renamed = store.rename_registered_model("Churn", "Attrition")
    assert (renamed.name, renamed.description, renamed.tags) == ("Attrition", "churn scoring", {"team": "growth"})
    assert renamed.creation_timestamp == made.creation_timestamp
    assert renamed.aliases == {"champion": "1"}
    assert [(mv.version, mv.current_stage) for mv in renamed.latest_versions] == [(2, "Production")]
    assert [mv.version for mv in store.get_latest_versions("Attrition", ["Production"])] == [2]
    assert store.get_model_version("Attrition", 1).current_stage == "Production"
    for was in versions:
        now = store.get_model_version("Attrition", was.version)
        assert (now.name, now.description, now.source) == ("Attrition", was.description, was.source)
        assert now.creation_timestamp == was.creation_timestamp
    assert store.get_model_version_by_alias("Attrition", "champion").version == 1
    assert (Path(store.get_model_version_download_uri("Attrition", 2)) / "MLmodel").read_text().endswith("run: 2\n")
    assert [mv.version for mv in store.search_model_versions("name = 'Attrition'")] == [2, 1]
    assert store.search_model_versions("name = 'Churn'") == []
    assert _refused(lambda: store.get_model_version("Churn", 1)).error_code == "RESOURCE_DOES_NOT_EXIST"
    verified = cli("verify", "--blobs", "--json")
    assert verified.code == 0 and json.loads(verified.out)["ok"] is True, verified.out + verified.err


RENAME = """
import sys
from mlflow.exceptions import MlflowException
from modelreg.mlflow.store import ModelregRegistryStore
store = ModelregRegistryStore(sys.argv[1])
try:
    store.rename_registered_model(sys.argv[2], sys.argv[3])
    print("renamed")
except MlflowException as exc:
    print(exc.error_code)
"""


def test_two_processes_renaming_one_model_at_once_leave_one_rename(repo: Path, cli: Callable[..., Result]) -> None:
    """Whichever wins, the other is told the model is gone (after redoing a lost race on a fresh read)."""
    store = ModelregRegistryStore(f"modelreg://{repo}")
    store.create_registered_model("churn", description="scoring")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RENAME, f"modelreg://{repo}", "churn", new],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for new in ("attrition", "retention")
    ]
    outcomes = [proc.communicate()[0].strip() for proc in procs]
    assert sorted(outcomes) == ["RESOURCE_DOES_NOT_EXIST", "renamed"], outcomes
    winner = ("attrition", "retention")[outcomes.index("renamed")]
    assert [m.name for m in store.search_registered_models()] == [winner]
    assert store.get_registered_model(winner).description == "scoring"
    assert [t for t in git(repo, "tag").split() if t.startswith("churn#")] == ["churn#_create#1", "churn#_delete#2"]
    assert cli("verify").code == 0
