"""Stages, aliases, rollback and the read commands, through the CLI on real repositories."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from modelreg import Registry
from modelreg.display import plain, render
from tests.conftest import git


@pytest.fixture
def three_versions(repo, cli, artifact):
    for n in (1, 2, 3):
        result = cli(
            "register",
            "fraud",
            artifact(content=f"weights {n}".encode()),
            "--metric",
            f"auc=0.9{n}",
            "--param",
            f"depth={n}",
        )
        assert result.code == 0, result.err
    return repo


NO_MODEL_FACTS = {"retired": None, "description": "", "tags": {}}


def state(cli, name="fraud"):
    return {m["name"]: m for m in json.loads(cli("list", "--json").out)}[name]


def test_promote_writes_an_event_tag_and_its_claim_ref(three_versions, cli):
    repo = three_versions
    result = cli("promote", "fraud", "v1", "production", "--reason", "first release", "--json")
    assert result.code == 0, result.err
    event = json.loads(result.out)
    assert event | {"actor": None, "date": None} == {
        "seq": 1,
        "action": "assign",
        "version": 1,
        "kind": "stage",
        "target": "production",
        "archived": [],
        "actor": None,
        "date": None,
        "reason": "first release",
        "request": None,
        "approved_by": None,
        "merge_commit": None,
        "tag": "fraud#production#1",
    }
    tag_object = git(repo, "rev-parse", "refs/tags/fraud#production#1").strip()
    assert git(repo, "rev-parse", "refs/modelreg/events/fraud/1").strip() == tag_object
    assert git(repo, "rev-parse", "fraud#production#1^{commit}") == git(repo, "rev-parse", "fraud@v1^{commit}")
    body = json.loads(git(repo, "tag", "-l", "--format=%(contents:body)", "fraud#production#1"))
    assert body == {
        "modelreg": 1,
        "action": "assign",
        "kind": "stage",
        "target": "production",
        "version": 1,
        "archived": [],
        "reason": "first release",
        "request": None,
        "millis": 1767323045000,  # the tag's time in milliseconds (the fixed GIT_COMMITTER_DATE: a whole second)
    }
    assert git(repo, "tag", "-l", "--format=%(taggername) %(taggeremail)", "fraud#production#1").strip() == (
        "Jane Doe <jane@example.com>"
    )


def test_production_has_one_holder_unless_asked(three_versions, cli):
    cli("promote", "fraud", "1", "production")
    event = json.loads(cli("promote", "fraud", "2", "production", "--json").out)
    assert event["archived"] == [1]
    assert state(cli)["stages"] == {"production": 2, "archived": 1}
    cli("promote", "fraud", "3", "production", "--keep-existing")
    assert json.loads(cli("show", "fraud@2", "--json").out)["stage"] == "production"
    assert json.loads(cli("resolve", "fraud/production", "--json").out)["version"] == 3


def test_stages_that_are_not_single_holder_keep_every_holder(three_versions, cli):
    cli("promote", "fraud", "1", "staging")
    cli("promote", "fraud", "2", "staging")
    assert json.loads(cli("show", "fraud@1", "--json").out)["stage"] == "staging"
    assert json.loads(cli("resolve", "fraud/staging", "--json").out)["version"] == 2


def test_a_version_has_one_stage_at_a_time(three_versions, cli):
    cli("promote", "fraud", "1", "staging")
    cli("promote", "fraud", "1", "production")
    assert json.loads(cli("show", "fraud@1", "--json").out)["stage"] == "production"
    assert cli("resolve", "fraud/staging").code == 1


def test_alias_set_move_and_remove(three_versions, cli):
    repo = three_versions
    assert cli("alias", "set", "fraud", "champion", "2").code == 0
    assert json.loads(cli("resolve", "fraud@champion", "--json").out)["version"] == 2
    cli("alias", "set", "fraud", "champion", "3")
    cli("alias", "set", "fraud", "challenger", "2")
    assert state(cli)["aliases"] == {"champion": 3, "challenger": 2}
    assert json.loads(cli("show", "fraud@3", "--json").out)["aliases"] == ["champion"]
    result = cli("alias", "rm", "fraud", "champion", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["action"] == "unassign"
    assert state(cli)["aliases"] == {"challenger": 2}
    assert cli("resolve", "fraud@champion").code == 1
    seqs = sorted(
        int(r.rsplit("/", 1)[1])
        for r in git(repo, "for-each-ref", "--format=%(refname)", "refs/modelreg/events/fraud/").split()
    )
    assert seqs == [1, 2, 3, 4]


def test_rollback_walks_back_through_previous_holders(three_versions, cli):
    for v in (1, 2, 3):
        cli("promote", "fraud", str(v), "production")
    result = cli("rollback", "fraud", "--reason", "latency regression", "--json")
    assert result.code == 0, result.err
    event = json.loads(result.out)
    assert (event["action"], event["version"], event["archived"], event["reason"]) == (
        "rollback",
        2,
        [3],
        "latency regression",
    )
    assert state(cli)["stages"]["production"] == 2
    cli("rollback", "fraud")
    assert state(cli)["stages"]["production"] == 1
    failed = cli("rollback", "fraud")
    assert failed.code == 1
    assert "no version held stage 'production' before v1" in failed.err


def test_rollback_to_a_version_and_of_an_alias(three_versions, cli):
    cli("promote", "fraud", "3", "production")
    cli("rollback", "fraud", "--to", "1")
    assert state(cli)["stages"]["production"] == 1
    cli("alias", "set", "fraud", "champion", "1")
    cli("alias", "set", "fraud", "champion", "2")
    assert cli("rollback", "fraud", "--alias", "champion").code == 0
    assert state(cli)["aliases"]["champion"] == 1


def test_history_places_registrations_where_they_happened(three_versions, cli):
    """All three versions were registered before any event: history says so (the register tags record it)."""
    cli("promote", "fraud", "1", "production", "-r", "go")
    cli("alias", "set", "fraud", "champion", "1")
    cli("promote", "fraud", "2", "production")
    result = cli("history", "fraud", "--json")
    assert result.code == 0, result.err
    events = json.loads(result.out)
    assert [(e["seq"], e["action"], e["version"], e["target"]) for e in events] == [
        (None, "register", 1, None),
        (None, "register", 2, None),
        (None, "register", 3, None),
        (1, "assign", 1, "production"),
        (2, "assign", 1, "champion"),
        (3, "assign", 2, "production"),
    ]
    assert set(events[3]) >= {"seq", "action", "version", "target", "actor", "date", "reason"}
    assert events[3]["actor"] == "Jane Doe <jane@example.com>" and events[3]["reason"] == "go"
    table = cli("history", "fraud").out
    assert "production" in table and "champion" in table


def test_history_interleaves_registrations_with_the_events_that_followed_them(repo, cli, artifact):
    steps = [
        ("register", "fraud", artifact(content=b"weights 1")),
        ("promote", "fraud", "1", "production"),
        ("register", "fraud", artifact(content=b"weights 2")),
        ("promote", "fraud", "2", "production"),
    ]
    for step in steps:
        assert cli(*step).code == 0
    expected = [("register", 1), ("assign", 1), ("register", 2), ("assign", 2)]
    events = json.loads(cli("history", "fraud", "--json").out)
    assert [(e["action"], e["version"]) for e in events] == expected
    assert [e["seq"] for e in events] == [None, 1, None, 2]
    rows = [line.split("\t")[:3] for line in cli("history", "fraud").out.splitlines()[1:]]
    assert rows == [
        ["", "v1", "registered"],
        ["1", "v1", "→ production"],
        ["", "v2", "registered"],
        ["2", "v2", "→ production (v1 archived)"],
    ]
    out = StringIO()
    render.table(Console(file=out, width=200), plain.history_table("fraud", Registry.open(repo).history("fraud")))
    cells = [[c.strip() for c in line.split("│")[1:4]] for line in out.getvalue().splitlines() if "│" in line]
    assert cells == [[seq, version, event] for seq, version, event in rows]


def test_state_ignores_tag_dates_even_when_clocks_run_backwards(three_versions, cli, monkeypatch):
    for version, date in (
        (1, "2026-03-01T00:00:00+00:00"),
        (2, "2026-02-01T00:00:00+00:00"),
        (3, "2025-01-01T00:00:00+00:00"),
    ):
        monkeypatch.setenv("GIT_COMMITTER_DATE", date)
        cli("promote", "fraud", str(version), "production")
    assert state(cli)["stages"]["production"] == 3
    assert [e["version"] for e in json.loads(cli("history", "fraud", "--json").out) if e["seq"]] == [1, 2, 3]


def test_resolve_every_reference_form(three_versions, cli):
    cli("promote", "fraud", "2", "production")
    cli("alias", "set", "fraud", "champion", "1")
    expected = {
        "fraud": 3,
        "fraud@latest": 3,
        "fraud@2": 2,
        "fraud@v2": 2,
        "fraud@champion": 1,
        "fraud/production": 2,
        "fraud/1": 1,
        "models:/fraud/1": 1,
        "models:/fraud/Production": 2,
        "models:/fraud/production": 2,
        "models:/fraud@champion": 1,
        "models:/fraud/latest": 3,
    }
    for ref, version in expected.items():
        result = cli("resolve", ref, "--json")
        assert result.code == 0, (ref, result.err)
        data = json.loads(result.out)
        assert (data["name"], data["version"]) == ("fraud", version), ref
        assert data["digest"].startswith("sha256:")
    assert cli("resolve", "fraud@champion").out.strip().startswith("fraud@v1 sha256:")


def test_show_json_has_the_manifest_keys_plus_stage_and_aliases(three_versions, cli):
    cli("promote", "fraud", "3", "staging")
    cli("alias", "set", "fraud", "challenger", "3")
    data = json.loads(cli("show", "fraud", "--json").out)
    for key in (
        "schema",
        "name",
        "version",
        "created_at",
        "created_by",
        "description",
        "artifact",
        "params",
        "metrics",
        "lineage",
        "training",
        "tags",
        "stage",
        "aliases",
    ):
        assert key in data
    assert (data["version"], data["stage"], data["aliases"], data["metrics"]) == (
        3,
        "staging",
        ["challenger"],
        {"auc": 0.93},
    )
    view = cli("show", "fraud").out
    assert "fraud v3" in view and "staging" in view and "auc=0.93" in view


def test_list_shows_every_model(three_versions, cli, artifact):
    cli("register", "churn", artifact(content=b"churn"))
    cli("promote", "fraud", "2", "production")
    models = json.loads(cli("list", "--json").out)
    assert models == [
        {"name": "churn", "latest": 1, "versions": 1, "stages": {}, "aliases": {}, "warnings": []} | NO_MODEL_FACTS,
        {"name": "fraud", "latest": 3, "versions": 3, "stages": {"production": 2}, "aliases": {}, "warnings": []}
        | NO_MODEL_FACTS,
    ]
    table = cli("list").out
    assert "churn" in table and "fraud" in table and "v2" in table


def test_list_on_an_empty_registry(repo, cli):
    assert json.loads(cli("list", "--json").out) == []
    empty = cli("list")  # a pipe: the header row, and the hint for a person on stderr
    assert empty.out == "model\tlatest\tstaging\tproduction\tarchived\taliases\n"
    assert "No models registered yet" in empty.err


def test_diff_puts_params_and_metrics_side_by_side(three_versions, cli):
    result = cli("diff", "fraud", "1", "3", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["params"] == {"depth": {"a": 1, "b": 3, "delta": 2}}
    assert data["metrics"]["auc"]["a"] == 0.91 and data["metrics"]["auc"]["b"] == 0.93
    assert data["metrics"]["auc"]["delta"] == pytest.approx(0.02)
    assert data["digest"]["a"] != data["digest"]["b"]
    assert "auc" in cli("diff", "fraud", "1", "3").out


def test_update_changes_description_and_tags_only(three_versions, cli):
    repo = three_versions
    before = json.loads(cli("show", "fraud@1", "--json").out)
    result = cli("update", "fraud", "1", "--description", "retired", "--tag", "owner=risk", "--json")
    assert result.code == 0, result.err
    after = json.loads(cli("show", "fraud@1", "--json").out)
    assert after["description"] == "retired" and after["tags"] == {"owner": "risk"}
    mutable = ("description", "tags", "policy")  # the update's commit is the new policy commit on main
    assert {k: v for k, v in after.items() if k not in mutable} == {k: v for k, v in before.items() if k not in mutable}
    assert git(repo, "show", "--name-only", "--format=%s", "HEAD").split() == [
        "modelreg:",
        "update",
        "fraud",
        "v1",
        ".modelreg/models/fraud/v1.yaml",
    ]
    assert git(repo, "status", "--porcelain") == ""
    cli("update", "fraud", "1", "--remove-tag", "owner")
    assert json.loads(cli("show", "fraud@1", "--json").out)["tags"] == {}


def test_immutable_fields_come_from_the_tagged_commit(three_versions, cli):
    """A hand edit of the artifact digest in the work tree cannot redirect what is pulled."""
    repo = three_versions
    v1, v2 = (json.loads(cli("resolve", f"fraud@{n}", "--json").out)["digest"] for n in (1, 2))
    path = repo / ".modelreg/models/fraud/v1.yaml"
    original = path.read_text()
    tampered = original.replace(v1, v2).replace("size: 9", "size: 999", 1)
    assert tampered != original and v1 not in tampered and "size: 999" in tampered  # the edit happened
    path.write_text(tampered)
    assert path.read_text() == tampered and git(repo, "status", "--porcelain").strip()
    shown = json.loads(cli("show", "fraud@1", "--json").out)["artifact"]
    assert (shown["digest"], shown["size"]) == (v1, 9)
    pulled = cli("pull", "fraud@1", "-o", repo.parent / "out", "--json")
    assert pulled.code == 0, pulled.err
    assert Path(json.loads(pulled.out)["path"]).read_bytes() == b"weights 1"


def test_check_ref_describes_tags_for_ci(three_versions, cli):
    cli("promote", "fraud", "2", "production")
    result = cli("check-ref", "refs/tags/fraud#production#1")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    digest = json.loads(cli("resolve", "fraud@2", "--json").out)["digest"]
    assert data | {"actor": None, "date": None} == {
        "tag": "fraud#production#1",
        "model": "fraud",
        "version": 2,
        "action": "assign",
        "kind": "stage",
        "target": "production",
        "stage": "production",
        "alias": None,
        "seq": 1,
        "digest": digest,
        "store": ".modelreg/store",
        "actor": None,
        "date": None,
        "current": True,
        "request": None,
        "approved_by": None,
        "ref": "fraud@v2",
        "policy": git(three_versions, "rev-parse", "main").strip(),
        "retired": None,
    }
    cli("promote", "fraud", "3", "production")
    assert json.loads(cli("check-ref", "fraud#production#1").out)["current"] is False
    version = json.loads(cli("check-ref", "fraud@v3", "--json").out)
    assert (version["action"], version["version"], version["kind"]) == ("register", 3, None)


def test_check_ref_current_means_not_undone_since(three_versions, cli):
    cli("promote", "fraud", "2", "production")  # seq 1
    cli("promote", "fraud", "3", "production")  # seq 2
    cli("rollback", "fraud")  # seq 3: back to v2
    cli("rollback", "fraud", "--to", "3")  # seq 4: v3 again
    assert json.loads(cli("check-ref", "fraud#production#2").out)["current"] is False  # superseded by seq 4
    assert json.loads(cli("check-ref", "fraud#production#4").out)["current"] is True
    cli("alias", "set", "fraud", "champion", "1")  # seq 5
    cli("alias", "set", "fraud", "champion", "2")  # seq 6
    cli("alias", "set", "fraud", "champion", "1")  # seq 7
    assert json.loads(cli("check-ref", "fraud#champion#5").out)["current"] is False
    assert json.loads(cli("check-ref", "fraud#champion#7").out)["current"] is True


def test_event_dates_read_the_same_as_they_were_written(three_versions, cli):
    written = json.loads(cli("promote", "fraud", "1", "staging", "--json").out)["date"]
    read = [e["date"] for e in json.loads(cli("history", "fraud", "--json").out) if e["seq"] == 1]
    assert read == [written] == ["2026-01-02T03:04:05+00:00"]


def test_update_that_changes_nothing_commits_nothing(three_versions, cli):
    repo = three_versions
    cli("update", "fraud", "1", "-t", "k=v")
    head = git(repo, "rev-parse", "HEAD")
    result = cli("update", "fraud", "1", "-t", "k=v")
    assert result.code == 0
    assert "nothing to commit" in result.out
    assert git(repo, "rev-parse", "HEAD") == head


def test_quoted_values_stay_strings(repo, cli, artifact):
    result = cli("register", "m", artifact(), "-t", 'ver="1.10"', "-t", "build=007", "-p", "lr=1e-3", "--json")
    data = json.loads(result.out)
    assert data["tags"] == {"ver": "1.10", "build": "007"}
    assert data["params"] == {"lr": 0.001}
