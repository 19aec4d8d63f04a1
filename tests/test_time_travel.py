"""`--at`, `--since` and `--until` through the CLI, the lean path and the API, on a registry with chosen dates."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from modelreg import InvalidInputError, NotFoundError, Registry
from tests import dated
from tests.conftest import git, run_modelreg


@pytest.fixture
def registry(repo, cli, artifact, monkeypatch) -> Path:
    return dated.build(repo, cli, artifact, monkeypatch)


def listed(cli, *args: str) -> dict[str, tuple[int, dict[str, int], dict[str, int]]]:
    result = dated.ok(cli("list", "--json", *args))
    return {m["name"]: (m["latest"], m["stages"], m["aliases"]) for m in json.loads(result.out)}


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2026-02-28", {}),
        ("2026-03-02", {"fraud": (2, {}, {})}),
        ("2026-03-03", {"fraud": (2, {"production": 1}, {})}),
        ("2026-03-04T11:00:00Z", {"churn": (1, {}, {}), "fraud": (2, {"production": 1}, {})}),
        # seq 4 says March 4, noon: by then it had happened, and so had seq 2 and 3 before it.
        ("2026-03-04", {"churn": (1, {}, {}), "fraud": (2, {"production": 2, "archived": 1}, {"champion": 1})}),
        ("2026-03-07", {"churn": (1, {}, {}), "fraud": (2, {"production": 2, "archived": 1}, {"champion": 1})}),
        ("2026-03-08", {"churn": (1, {}, {}), "fraud": (3, {"production": 2, "archived": 1}, {"champion": 1})}),
        ("2026-03-04T13:00:00+02:00", {"churn": (1, {}, {}), "fraud": (2, {"production": 1}, {})}),  # 11:00Z
        # a modelreg tag: its model just after it, the others at its date
        ("fraud#production#2", {"churn": (1, {}, {}), "fraud": (2, {"production": 2, "archived": 1}, {})}),
        ("fraud#champion#3", {"churn": (1, {}, {}), "fraud": (2, {"production": 2, "archived": 1}, {"champion": 2})}),
        ("refs/tags/fraud@v2", {"fraud": (2, {}, {})}),
        # a git revision: its commit date (HEAD~1 registered churn v1, on March 4 at 10:00)
        ("HEAD~1", {"churn": (1, {}, {}), "fraud": (2, {"production": 1}, {})}),
    ],
)
def test_list_at(registry, cli, when: str, expected: dict[str, tuple[int, dict[str, int], dict[str, int]]]) -> None:
    assert listed(cli, "--at", when) == expected


def test_resolve_and_show_at(registry, cli) -> None:
    assert dated.ok(cli("resolve", "fraud/production", "--at", "2026-03-03")).out.startswith("fraud@v1 ")
    assert dated.ok(cli("resolve", "fraud/production")).out.startswith("fraud@v2 ")
    assert dated.ok(cli("resolve", "fraud", "--at", "2026-03-01")).out.startswith("fraud@v1 ")
    assert dated.ok(cli("resolve", "fraud@champion", "--at", "fraud#champion#3")).out.startswith("fraud@v2 ")
    shown = json.loads(dated.ok(cli("show", "fraud@v1", "--at", "2026-03-03", "--json")).out)
    assert (shown["stage"], shown["aliases"]) == ("production", [])
    shown = json.loads(dated.ok(cli("show", "fraud@v1", "--json")).out)
    assert (shown["stage"], shown["aliases"]) == ("archived", ["champion"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("resolve", "fraud", "--at", "2026-02-01"), "error: fraud had no version yet at 2026-02-01\n"),
        (("resolve", "fraud@v3", "--at", "2026-03-07"), "error: fraud has no version 3 (latest is v2)\n"),
        (("resolve", "fraud@champion", "--at", "2026-03-03"), "error: fraud has no alias 'champion' (aliases: none)\n"),
        (("show", "churn", "--at", "2026-03-03"), "error: churn had no version yet at 2026-03-03\n"),
        (("list", "--at", "yesterday"), "error: --at 'yesterday': expected an ISO 8601 date or datetime"),
        (("list", "--at", "2026-02-30"), "error: --at '2026-02-30': expected an ISO 8601 date"),
        (("list", "--at", "no-such-branch"), "error: --at 'no-such-branch': expected"),
        (("list", "--at", "fraud#production#9"), "error: --at 'fraud#production#9': expected"),
        (("history", "fraud", "--since", "soon"), "error: --since 'soon': expected"),
    ],
)
def test_times_that_name_nothing(registry, cli, args: tuple[str, ...], message: str) -> None:
    result = cli(*args)
    assert result.code == 1
    assert result.err.startswith(message), result.err
    assert result.err.count("\n") == 1


def test_history_since_and_until(registry, cli) -> None:
    def tags(*args: str) -> list[str]:
        return [e["tag"] for e in json.loads(dated.ok(cli("history", "fraud", "--json", *args)).out)]

    everything = tags()
    assert everything == [
        "fraud@v1",
        "fraud@v2",
        "fraud#production#1",
        "fraud#production#2",
        "fraud#champion#3",
        "fraud#champion#4",
        "fraud@v3",
    ]
    assert tags("--since", "2026-03-04", "--until", "2026-03-05") == everything[3:6]
    assert tags("--until", "2026-03-02") == everything[:2]
    assert tags("--since", "fraud#champion#3") == everything[4:]
    assert tags("--since", "2026-03-09") == []
    assert tags("--since", "2026-01-01", "--until", "2099-01-01") == everything


def test_the_lean_path_takes_at(registry) -> None:
    out = run_modelreg(registry, "resolve", "fraud/production", "--at", "2026-03-03").stdout
    assert out.startswith("fraud@v1 ")
    out = run_modelreg(registry, "history", "fraud", "--until=2026-03-01").stdout
    assert [row.split("\t")[1] for row in out.splitlines()[1:]] == ["v1"]
    failed = run_modelreg(registry, "list", "--at", "never", check=False)
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: --at 'never'")


def test_api_parity(registry) -> None:
    reg = Registry.open(registry)
    assert reg.resolve("fraud/production", at="2026-03-03").version == 1
    assert reg.show("fraud@champion", at="fraud#champion#3").version == 2
    assert reg.resolve("fraud/production", at=datetime(2026, 3, 4, 11, tzinfo=UTC)).version == 1
    assert reg.resolve("fraud/production", at=datetime(2026, 3, 4, 11)).version == 1  # naive: UTC
    assert [m.name for m in reg.models(at="2026-03-03")] == ["fraud"]
    assert [e.tag for e in reg.history("fraud", since="2026-03-08")] == ["fraud@v3"]
    assert [e.tag for e in reg.history("fraud", until="fraud@v1")] == ["fraud@v1"]
    cli_found = json.loads(
        run_modelreg(registry, "search", "alias = 'champion'", "--at", "fraud#champion#3", "--json").stdout
    )
    assert [(v["name"], v["version"]) for v in cli_found["versions"]] == [("fraud", 2)]
    found = reg.search("stage = 'production'", at="2026-03-03")
    assert [(mv.name, mv.version) for mv in found.versions] == [("fraud", 1)]
    assert reg.search("", at="2026-03-01").versions[0].version == 1
    with pytest.raises(NotFoundError, match="had no version yet"):
        reg.resolve("fraud", at="2026-01-01")
    with pytest.raises(InvalidInputError, match="--at '--help'"):
        reg.models(at="--help")


def test_time_travel_replays_only_what_the_policy_admits(registry, cli) -> None:
    # seq 2 loses its claim ref: it never took effect, then or now.
    git(registry, "update-ref", "-d", "refs/modelreg/events/fraud/2")
    result = cli("list", "--json", "--at", "2026-03-05T12:00:00Z")
    assert result.code == 0
    fraud = {m["name"]: m for m in json.loads(result.out)}["fraud"]
    assert fraud["stages"] == {"production": 1}
    assert "ignoring fraud#production#2" in result.err
