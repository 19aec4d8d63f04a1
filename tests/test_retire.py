"""Retire, unretire, describe and update as events: through the CLI and the API, under policy and through a remote."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from modelreg import InvalidInputError, NotFoundError, Registry
from tests import dated
from tests.conftest import git, repo_state, run_modelreg
from tests.test_signing import signed  # noqa: F401 - a fixture


@pytest.fixture
def registry(repo, cli, artifact, monkeypatch) -> Path:
    return dated.build(repo, cli, artifact, monkeypatch)


def listed(cli) -> dict[str, dict]:
    return {m["name"]: m for m in json.loads(dated.ok(cli("list", "--json")).out)}


def test_retire_and_unretire(registry, cli, monkeypatch) -> None:
    dated.tick(monkeypatch, "2026-03-10T10:00:00Z")
    result = dated.ok(cli("retire", "fraud", "--reason", "replaced by fraud-v2", "--json"))
    event = json.loads(result.out)
    assert (event["tag"], event["action"], event["kind"], event["version"], event["reason"]) == (
        "fraud#_retire#5",
        "retire",
        "model",
        3,
        "replaced by fraud-v2",
    )
    assert (
        git(registry, "rev-parse", "refs/modelreg/events/fraud/5").strip()
        == git(registry, "rev-parse", "refs/tags/fraud#_retire#5").strip()
    )
    fraud = listed(cli)["fraud"]
    assert (fraud["retired"], fraud["stages"], fraud["aliases"], fraud["latest"]) == ("fraud#_retire#5", {}, {}, 3)
    assert listed(cli)["churn"]["retired"] is None
    # Stages, aliases and latest no longer resolve, with the retirement named; NAME@N still does.
    for ref in ("fraud/production", "fraud@champion", "fraud", "models:/fraud/Production"):
        refused = cli("resolve", ref)
        assert refused.code == 1
        assert "is retired (fraud#_retire#5)" in refused.err and refused.err.count("\n") == 1
    assert dated.ok(cli("resolve", "fraud@v2")).out.startswith("fraud@v2 ")
    shown = cli("show", "fraud@2", "--json")
    assert json.loads(shown.out)["stage"] is None
    assert "fraud is retired (fraud#_retire#5)" in shown.err
    # check-ref: no stage or alias answer of a retired model is current.
    check = json.loads(dated.ok(cli("check-ref", "fraud#production#2")).out)
    assert (check["current"], check["retired"]) == (False, "fraud#_retire#5")
    assert json.loads(dated.ok(cli("check-ref", "fraud#_retire#5")).out)["current"] is True
    # search sees no stage of a retired model; history shows the retirement.
    assert json.loads(dated.ok(cli("search", "stage = 'production'", "--json")).out)["versions"] == []
    history = dated.ok(cli("history", "fraud")).out.splitlines()
    assert history[-1].split("\t")[:3] == ["5", "v3", "retired"]
    assert history[-1].split("\t")[-1] == "replaced by fraud-v2"
    # Time travel: before the retirement, production resolved.
    assert dated.ok(cli("resolve", "fraud/production", "--at", "2026-03-09")).out.startswith("fraud@v2 ")
    # Writes to its stages and aliases wait for unretire.
    before = repo_state(registry)
    promote = cli("promote", "fraud", "3", "staging")
    assert promote.code == 1 and "unretire" in promote.err
    assert repo_state(registry) == before
    assert "already retired" in cli("retire", "fraud", "-r", "again").err
    new = registry.parent / "new-weights.bin"
    new.write_bytes(b"v4 weights")
    register = cli("register", "fraud", str(new))
    assert register.code == 1 and "fraud is retired (fraud#_retire#5)" in register.err and "unretire" in register.err
    assert repo_state(registry) == before

    dated.tick(monkeypatch, "2026-03-11T10:00:00Z")
    dated.ok(cli("unretire", "fraud", "--reason", "fraud-v2 rolled back"))
    assert dated.ok(cli("resolve", "fraud/production")).out.startswith("fraud@v2 ")
    assert dated.ok(cli("resolve", "fraud@champion")).out.startswith("fraud@v1 ")
    assert listed(cli)["fraud"]["retired"] is None
    assert json.loads(dated.ok(cli("check-ref", "fraud#production#2")).out)["current"] is True
    assert "is not retired" in cli("unretire", "fraud", "-r", "x").err
    assert dated.ok(cli("verify")).code == 0


def test_retire_needs_a_reason(registry, cli) -> None:
    assert cli("retire", "fraud").code == 2
    with pytest.raises(InvalidInputError, match="reason"):
        Registry.open(registry).retire("fraud", reason=" ")
    assert "No such command" not in cli("retire", "--help").err


def test_api_parity(registry) -> None:
    reg = Registry.open(registry)
    event = reg.retire("churn", reason="unused")
    assert (event.action, event.tag) == ("retire", "churn#_retire#1")
    assert {m.name: m.retired for m in reg.models()} == {"churn": "churn#_retire#1", "fraud": None}
    with pytest.raises(NotFoundError, match=r"churn is retired \(churn#_retire#1\)"):
        reg.resolve("churn")
    assert reg.resolve("churn@1").version == 1
    assert reg.unretire("churn", reason="needed after all").action == "unretire"
    assert reg.resolve("churn").version == 1
    with pytest.raises(NotFoundError, match="no model named"):
        reg.retire("nobody", reason="x")


def test_describe_a_model(registry, cli) -> None:
    dated.ok(cli("describe", "fraud", "-d", "Card fraud scoring", "-t", "owner=risk", "-t", "tier=1", "-r", "handover"))
    fraud = listed(cli)["fraud"]
    assert (fraud["description"], fraud["tags"]) == ("Card fraud scoring", {"owner": "risk", "tier": 1})
    event = json.loads(dated.ok(cli("describe", "fraud", "--remove-tag", "tier", "-r", "cleanup", "--json")).out)
    assert (event["tag"], event["description"], event["tags"], event["removed_tags"]) == (
        "fraud#_describe#6",
        None,
        {},
        ["tier"],
    )
    fraud = listed(cli)["fraud"]
    assert (fraud["description"], fraud["tags"]) == ("Card fraud scoring", {"owner": "risk"})
    assert "already has that description" in cli("describe", "fraud", "-t", "owner=risk", "-r", "x").err
    assert "has no model tag 'nope'" in cli("describe", "fraud", "--remove-tag", "nope", "-r", "x").err
    assert "nothing to describe" in cli("describe", "fraud", "-r", "x").err
    rows = dated.ok(cli("history", "fraud")).out.splitlines()
    assert rows[-2].split("\t")[2] == "described (owner=risk, tier=1, description)"
    assert rows[-1].split("\t")[2] == "described (-tier)"
    reg = Registry.open(registry)
    reg.describe("churn", description="Churn", reason="first words")
    assert {m.name: m.description for m in reg.models()}["churn"] == "Churn"


def test_update_is_an_event_with_a_reason(registry, cli) -> None:
    result = dated.ok(cli("update", "fraud", "2", "-t", "reviewed=yes", "-d", "tuned", "--reason", "fairness review"))
    assert "[tag fraud#_update#5]" in result.out
    rows = [row.split("\t") for row in dated.ok(cli("history", "fraud")).out.splitlines()]
    assert rows[-1][:3] == ["5", "v2", "updated (reviewed=yes, description)"] and rows[-1][-1] == "fairness review"
    # The tag points at the version's commit; the manifest commit is on the branch, published with it.
    assert git(registry, "rev-parse", "fraud#_update#5^{commit}") == git(registry, "rev-parse", "fraud@v2^{commit}")
    payload = json.loads(git(registry, "tag", "-l", "--format=%(contents:body)", "fraud#_update#5"))
    assert payload["manifest_commit"] == git(registry, "rev-parse", "HEAD").strip()
    shown = json.loads(dated.ok(cli("show", "fraud@2", "--json")).out)
    assert (shown["description"], shown["tags"]) == ("tuned", {"team": "Risk", "reviewed": "yes"})
    result = Registry.open(registry).update("fraud", 1, remove_tags=("team",), reason="tidy")
    assert result.event is not None and (result.event.tag, result.event.removed_tags) == ("fraud#_update#6", ("team",))
    nothing = Registry.open(registry).update("fraud", 1, description="")
    assert (nothing.commit, nothing.event) == (None, None)  # no change: no commit, no event
    assert dated.ok(cli("verify")).code == 0


def test_retire_and_update_through_a_remote(clone, artifact) -> None:
    a, b = clone("a"), clone("b")
    for path in (a, b):
        git(path, "config", "user.name", "Jane Doe")
        git(path, "config", "user.email", "jane@example.com")
    run_modelreg(a, "register", "m", str(artifact(content=b"one")), "--push")
    run_modelreg(a, "promote", "m", "1", "production", "--push")
    run_modelreg(b, "fetch")
    run_modelreg(b, "update", "m", "1", "-t", "k=v", "-r", "label", "--push")  # takes seq 2
    run_modelreg(a, "retire", "m", "-r", "gone", "--push")  # a has not seen seq 2: it is redone as seq 3
    remote_refs = git(a, "ls-remote", "origin").split()
    assert "refs/tags/m#_update#2" in remote_refs and "refs/tags/m#_retire#3" in remote_refs
    assert "refs/modelreg/events/m/3" in remote_refs
    run_modelreg(b, "fetch")
    refused = run_modelreg(b, "resolve", "m/production", check=False)
    assert refused.returncode == 1 and "m is retired (m#_retire#3)" in refused.stderr
    assert run_modelreg(b, "verify").returncode == 0


def hand_made_retire(repo: Path, seq: int) -> None:
    """An unsigned retirement made with plain git, claim ref and all."""
    commit = git(repo, "rev-parse", "fraud@v2^{commit}").strip()
    body = {"modelreg": 1, "action": "retire", "kind": "model", "target": "_retire", "version": 2, "reason": "x"}
    message = f"fraud retired\n\n{json.dumps(body)}\n"
    tag = f"fraud#_retire#{seq}"
    subprocess.run(["git", "tag", "-a", "-F", "-", tag, commit], cwd=repo, input=message, text=True, check=True)
    git(repo, "update-ref", f"refs/modelreg/events/fraud/{seq}", git(repo, "rev-parse", f"refs/tags/{tag}").strip())


def test_retire_under_require_signed(signed, repo, cli) -> None:  # noqa: F811 - the fixture
    assert cli("promote", "fraud", "2", "production").code == 0
    before = repo_state(repo)
    refused = cli("retire", "fraud", "-r", "x", "--no-sign")
    assert refused.code == 1 and "requires signed events" in refused.err
    assert repo_state(repo) == before
    # An unsigned retirement made by hand is ignored with a warning, like any other event.
    hand_made_retire(repo, 2)
    resolved = cli("resolve", "fraud/production")
    assert resolved.code == 0 and resolved.out.startswith("fraud@v2 ")
    assert "warning: ignoring fraud#_retire#2: is not signed" in resolved.err
    assert json.loads(cli("list", "--json").out)[0]["retired"] is None
    assert cli("check-ref", "fraud#_retire#2").code == 4
    git(repo, "tag", "-d", "fraud#_retire#2")
    git(repo, "update-ref", "-d", "refs/modelreg/events/fraud/2")
    # Signed by an allowed signer, it takes effect and verifies.
    assert cli("retire", "fraud", "-r", "replaced").code == 0
    assert "-----BEGIN SSH SIGNATURE-----" in git(repo, "cat-file", "tag", "fraud#_retire#2")
    assert cli("resolve", "fraud/production").code == 1
    assert cli("verify").code == 0
