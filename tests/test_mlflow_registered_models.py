"""MLflow's registered model before its first version, and reference-only sources (`?sources=reference`).

Real git repositories; the store class MLflow builds for `modelreg://`, no tracking server.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from mlflow.entities.model_registry import RegisteredModelTag
from mlflow.exceptions import MlflowException

from modelreg.api import Registry
from modelreg.errors import NotFoundError
from modelreg.mlflow.store import ModelregRegistryStore
from tests.conftest import Result, git

pytestmark = pytest.mark.slow


def test_a_registered_model_exists_with_tags_and_description_before_its_first_version(
    repo: Path, cli: Callable[..., Result]
) -> None:
    store = ModelregRegistryStore(f"modelreg://{repo}")
    tags = [RegisteredModelTag("another key", "some other value"), RegisteredModelTag("numeric value", "12345")]
    made = store.create_registered_model("CreateRMTest", tags, "churn scoring")
    got = store.get_registered_model("CreateRMTest")
    assert (got.description, got.tags, got.latest_versions) == (
        "churn scoring",
        {"another key": "some other value", "numeric value": "12345"},
        [],
    )
    assert got.creation_timestamp == made.creation_timestamp
    assert [m.name for m in store.search_registered_models()] == ["CreateRMTest"]
    assert git(repo, "tag").split() == ["+create+r+m+test#_create#1"]
    with pytest.raises(MlflowException) as caught:
        store.create_registered_model("CreateRMTest")
    assert caught.value.error_code == "RESOURCE_ALREADY_EXISTS"

    listed = cli("list", "--json")
    assert listed.code == 0, listed.err
    (row,) = json.loads(listed.out)["models"] if isinstance(json.loads(listed.out), dict) else json.loads(listed.out)
    expected = ("CreateRMTest", None, 0, "churn scoring")
    assert (row["name"], row["latest"], row["versions"], row["description"]) == expected
    plain = cli("list")
    assert plain.code == 0 and "no version yet" in plain.out and "vNone" not in plain.out
    shown = cli("show", "CreateRMTest")
    assert shown.code != 0 and "has no version yet" in shown.err
    verified = cli("verify", "--json")
    assert verified.code == 0, verified.out + verified.err
    assert json.loads(verified.out)["ok"] is True and json.loads(verified.out)["models"] == 1
    assert cli("lint").code == 0

    # Deleted, it is gone; created again, it exists again (a fresh creation time); its history keeps all of it.
    store.delete_registered_model("CreateRMTest")
    with pytest.raises(MlflowException) as caught:
        store.get_registered_model("CreateRMTest")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "Registered Model with name=CreateRMTest not found" in caught.value.message
    again = store.create_registered_model("CreateRMTest")
    assert again.tags == {} and again.creation_timestamp >= made.creation_timestamp
    actions = [e.action for e in Registry.open(repo).history("CreateRMTest")]
    assert actions == ["create", "delete", "create"]


def test_a_registry_without_create_events_reads_as_before(repo: Path, tmp_path: Path) -> None:
    model = tmp_path / "m.bin"
    model.write_bytes(b"weights")
    reg = Registry.open(repo)
    reg.register("fraud", model)
    with pytest.raises(NotFoundError):
        reg.model("churn")
    assert [m.name for m in reg.models()] == ["fraud"] and reg.state("fraud").created is None


def test_reference_only_sources_are_opt_in_and_never_serve_bytes(
    repo: Path, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    strict = ModelregRegistryStore(f"modelreg://{repo}")
    with pytest.raises(MlflowException) as caught:
        strict.create_model_version("churn", "runs:/no-such-run/model", "no-such-run")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE" and "runs:/no-such-run/model" in caught.value.message

    store = ModelregRegistryStore(f"modelreg://{repo}?sources=reference")
    mv = store.create_model_version("churn", "runs:/no-such-run/model", "no-such-run")
    assert (mv.version, mv.source, mv.run_id) == (1, "runs:/no-such-run/model", "no-such-run")
    with pytest.raises(MlflowException) as caught:
        store.get_model_version_download_uri("churn", 1)
    assert "reference-only" in caught.value.message and "Traceback" not in caught.value.message
    assert "Registered Model with name" not in caught.value.message  # the model is there; its bytes are not

    pulled = cli("pull", "churn@1", "--output", tmp_path / "out")
    assert pulled.code != 0 and "reference-only" in pulled.err and not (tmp_path / "out").exists()
    shown = cli("show", "churn@1")
    assert shown.code == 0 and "reference-only" in shown.out
    verified = cli("verify", "--json")
    report = json.loads(verified.out)
    assert report["ok"] is True and any("reference-only" in w for w in report["warnings"])

    with pytest.raises(MlflowException) as caught:
        ModelregRegistryStore(f"modelreg://{repo}?sources=maybe")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_mlflow_times_are_milliseconds_and_versions_list_last_updated_first(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for fixed in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):  # the clock's own time, which has milliseconds
        monkeypatch.delenv(fixed)
    model = tmp_path / "m.bin"
    model.write_bytes(b"weights")
    store = ModelregRegistryStore(f"modelreg://{repo}")
    made = [store.create_model_version(name, str(model)) for name in ("b", "a", "b")]
    stamps = [mv.creation_timestamp for mv in made]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3  # a tag's date alone has whole seconds
    found = store.search_model_versions()
    assert [(mv.name, mv.version) for mv in found] == [("b", 2), ("a", 1), ("b", 1)]


def test_archive_existing_versions_archives_every_other_holder_of_the_stage(repo: Path, tmp_path: Path) -> None:
    """MLflow's `archive_existing_versions=True`: the stage's other holders are archived, whatever the stage."""
    model = tmp_path / "model.txt"
    model.write_text("weights")
    store = ModelregRegistryStore(f"modelreg://{repo}")
    for _ in range(3):
        store.create_model_version("model", str(model))
    store.transition_model_version_stage("model", 1, "Staging", False)
    store.transition_model_version_stage("model", 2, "Production", False)
    store.transition_model_version_stage("model", 3, "Staging", True)
    stages = [store.get_model_version("model", v).current_stage for v in (1, 2, 3)]
    assert stages == ["Archived", "Production", "Staging"]


def test_search_model_versions_filters_on_source_path_as_mlflow_stores_do(
    repo: Path, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    model = tmp_path / "m.bin"
    model.write_bytes(b"weights")
    store = ModelregRegistryStore(f"modelreg://{repo}?sources=reference")
    for source in ("A/B", "A/D", "A/D"):  # reference-only: MLflow's stores keep a source they never read
        store.create_model_version("churn", source, "run-1")
    store.create_model_version("churn", str(model))  # bytes read from a local path: that path is its source

    def found(filter_string: str) -> set[int]:
        return {int(mv.version) for mv in store.search_model_versions(filter_string)}

    assert found("source_path = 'A/D'") == {2, 3}
    assert found("source_path != 'A/D' AND run_id = 'run-1'") == {1}
    assert found("source_path LIKE 'A/%'") == {1, 2, 3}
    assert found(f"source_path = '{model}'") == {4}
    assert found("source_path = 'A'") == found("source_path = 'A/'") == found("source_path = ''") == set()
    with pytest.raises(MlflowException) as caught:  # MLflow orders by no source, and neither does the plugin
        store.search_model_versions(order_by=["source_path"])
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    listed = cli("search", "source_path = 'A/D'")  # modelreg's own grammar has no such field
    assert listed.code == 1 and "source_path" in listed.err


def test_loading_a_stage_of_a_large_model_reads_it_as_resolve_does(
    repo: Path, cli: Callable[..., Result], artifact: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`models:/NAME/Production` asks `get_latest_versions(NAME, ["Production"])`: for a model past the lean read's
    size, the holder is read as `resolve` reads it and dated by its own events; the answer is the full read's."""
    from modelreg.mlflow import entities
    from modelreg.read import lean, snapshot

    for when, args in (
        ("2026-03-01T10:00Z", ("register", "fraud", artifact("m1", b"w1"))),
        ("2026-03-02T10:00Z", ("register", "fraud", artifact("m2", b"w2"))),
        ("2026-03-03T10:00Z", ("promote", "fraud", "1", "production")),
        ("2026-03-04T10:00Z", ("alias", "set", "fraud", "champion", "1")),
        ("2026-03-05T10:00Z", ("promote", "fraud", "2", "staging")),
        ("2026-03-06T10:00Z", ("update", "fraud", "2", "--description", "second")),
    ):
        monkeypatch.setenv("GIT_COMMITTER_DATE", when)
        assert cli(*args).code == 0
    monkeypatch.setattr(lean, "FULL_READ_BELOW", 0)
    monkeypatch.setattr(snapshot, "kept_small", lambda git, name, cache_dir: False)
    asked: list[int] = []
    touching = entities.touching
    monkeypatch.setattr(entities, "touching", lambda ctx, name, v: (asked.append(v), touching(ctx, name, v))[1])
    reg = Registry.open(repo)

    def shown(found: list) -> list[tuple]:
        return [(v.version, v.current_stage, v.creation_timestamp, v.last_updated_timestamp, v.aliases) for v in found]

    stages = ["Production", "Staging"]
    lean_answer = shown(entities.latest(reg, "fraud", stages))
    assert asked == [1, 2]  # read lean
    assert lean_answer == shown(entities.latest(reg, "fraud", stages, view=reg.model("fraud")))
    (v1, v2) = lean_answer
    assert v1[3] > v1[2] and v2[3] > v2[2]  # the alias set on v1 and the edit of v2 came after they were made
