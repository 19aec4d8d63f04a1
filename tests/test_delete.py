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
    assert cli("show", "Fraud Model").code != 0
    assert cli("register", "Fraud Model", artifact(content=b"four")).code == 0
    assert Registry.open(repo).state("Fraud Model").versions == (4,)
    assert "+fraud+032+model@v2" in git(repo, "tag").split()
