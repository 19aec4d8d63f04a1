"""`modelreg delete`: a version or a model deleted as a tombstone event, with history kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from modelreg.api import Registry
from modelreg.errors import NotFoundError
from tests.conftest import Result, git


def test_delete_a_version_then_the_model_from_the_cli(repo: Path, cli: Callable[..., Result], artifact) -> None:
    for content in (b"one", b"two", b"three"):
        assert cli("register", "Fraud Model", artifact(content=content)).code == 0
    assert cli("promote", "Fraud Model@2", "staging").code == 0
    assert cli("alias", "set", "Fraud Model@2", "champion").code == 0

    refused = cli("delete", "Fraud Model@champion", "--reason", "x")
    assert refused.code == 1 and "NAME@N" in refused.err
    assert cli("delete", "Fraud Model@2").code != 0  # a reason is required
    done = cli("delete", "Fraud Model@2", "--reason", "trained on leaked labels", "--json")
    assert done.code == 0, done.err
    assert json.loads(done.out)["tag"] == "+fraud+032+model#_delete#3"

    reg = Registry.open(repo)
    with pytest.raises(NotFoundError, match="has no version 2"):
        reg.resolve("Fraud Model@2")
    state = reg.state("Fraud Model")
    assert (state.versions, state.stages, state.aliases) == ((1, 3), {}, {})
    history = json.loads(cli("history", "Fraud Model", "--json").out)
    assert [(e["action"], e["version"]) for e in history][-1] == ("delete", 2)
    assert history[-1]["reason"] == "trained on leaked labels"
    assert cli("verify").code == 0

    assert cli("delete", "Fraud Model", "--reason", "replaced").code == 0
    assert json.loads(cli("list", "--json").out) == []
    gone = cli("show", "Fraud Model")
    assert gone.code != 0 and "Fraud Model was deleted (+fraud+032+model#_delete#4)" in gone.err
    kept = json.loads(cli("history", "Fraud Model", "--json").out)  # a deleted model's history, tombstone last
    assert [(e["action"], e["reason"]) for e in kept][-1] == ("delete", "replaced") and len(kept) == 7
    assert cli("history", "No Such Model").code != 0
    assert cli("register", "Fraud Model", artifact(content=b"four")).code == 0
    assert Registry.open(repo).state("Fraud Model").versions == (4,)
    assert "+fraud+032+model@v2" in git(repo, "tag").split()


def test_gc_collects_the_blobs_of_a_deleted_version_after_the_grace_period(repo: Path, artifact) -> None:
    reg = Registry.open(repo)
    reg.register("m", artifact(content=b"only in v1"))
    reg.register("m", artifact(content=b"in v2"))
    v1_blobs = {f.digest for f in reg.resolve("m@1").manifest.artifact.files}
    v2_blobs = {f.digest for f in reg.resolve("m@2").manifest.artifact.files}
    assert Registry.open(repo).gc(grace_s=0).unreferenced == ()
    Registry.open(repo).delete("m", 1, reason="leaked labels")
    assert Registry.open(repo).gc().unreferenced == ()  # deleted just now: within the grace period
    report = Registry.open(repo).gc(grace_s=0, delete=True)
    assert {b.digest for b in report.unreferenced} == v1_blobs
    assert Registry.open(repo).pull("m@2", repo.parent / "out").read_bytes() == b"in v2"
    assert not v1_blobs & v2_blobs
    assert Registry.open(repo).verify(blobs=True).ok  # a deleted version's blobs are not missing: nothing serves them
