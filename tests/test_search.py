"""`modelreg search` and Registry.search on a registry whose events carry chosen dates."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from modelreg import InvalidInputError, Registry
from modelreg.display import plain, render
from tests import dated
from tests.conftest import git, run_modelreg


@pytest.fixture
def registry(repo, cli, artifact, monkeypatch) -> Path:
    return dated.build(repo, cli, artifact, monkeypatch)


def found(cli, *args: str) -> list[str]:
    result = dated.ok(cli("search", *args, "--json"))
    return [f"{v['name']}@v{v['version']}" for v in json.loads(result.out)["versions"]]


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ("", ["churn@v1", "fraud@v3", "fraud@v2", "fraud@v1"]),
        ("name = 'fraud'", ["fraud@v3", "fraud@v2", "fraud@v1"]),
        ("metrics.auc > 0.91", ["fraud@v3", "fraud@v2"]),
        ("metrics.auc >= 0.9 AND metrics.auc < 0.94", ["fraud@v3", "fraud@v1"]),
        ("stage = 'production'", ["fraud@v2"]),
        ("stage = 'archived'", ["fraud@v1"]),
        ("stage IS NULL", ["churn@v1", "fraud@v3"]),
        ("alias = 'champion'", ["fraud@v1"]),  # seq 4 moved it back, whatever its clock said
        ("params.lr = '0.2'", ["fraud@v2"]),
        ("tags.team = 'risk'", ["fraud@v1"]),
        ("tags.team ILIKE 'risk'", ["fraud@v2", "fraud@v1"]),
        ("dataset LIKE 's3://data/%'", ["fraud@v1"]),
        ("run_id IN ('run-1', 'run-2')", ["fraud@v2", "fraud@v1"]),
        ("created = '2026-03-04'", ["churn@v1"]),
        ("created < '2026-03-02T10:00:00Z'", ["fraud@v1"]),
        ("created >= '2026-03-02' and name = 'fraud'", ["fraud@v3", "fraud@v2"]),
        ("author LIKE 'Jane%'", ["churn@v1", "fraud@v3", "fraud@v2", "fraud@v1"]),
        ("version = 2", ["fraud@v2"]),
        # filters that must match nothing
        ("metrics.auc > 0.99", []),
        ("name = 'fraud' and name = 'churn'", []),
        ("tags.nothing = 'x'", []),
        ("alias = 'challenger'", []),
        ("created < '2020-01-01'", []),
    ],
)
def test_search_through_the_cli(registry, cli, filter_: str, expected: list[str]) -> None:
    assert found(cli, filter_) == expected


def test_order_by_and_limit(registry, cli) -> None:
    assert found(cli, "", "--order-by", "metrics.auc DESC") == ["fraud@v2", "fraud@v3", "fraud@v1", "churn@v1"]
    assert found(cli, "", "--order-by", "metrics.auc", "--limit", "2") == ["churn@v1", "fraud@v1"]
    assert found(cli, "", "--order-by", "name DESC", "--order-by", "version ASC") == [
        "fraud@v1",
        "fraud@v2",
        "fraud@v3",
        "churn@v1",
    ]
    assert found(cli, "", "--order-by", "created DESC", "--limit", "1") == ["fraud@v3"]
    assert found(cli, "", "--model", "churn") == ["churn@v1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("metrics.auc 0.9",), "error: filter: expected an operator .* at column 13: 0.9"),
        (("name = 'fraud' or name = 'churn'",), "error: filter: OR is not supported .* at column 16"),
        (("params.lr = 0.2",), "error: filter: params.lr compares with a quoted string"),
        (("", "--order-by", "metrics.auc UP"), "error: order_by: expected ASC, DESC or the end at column 13"),
        (("", "--model", "nope"), "error: no model named 'nope' is registered"),
    ],
)
def test_malformed_searches_fail_with_one_line(registry, cli, args: tuple[str, ...], message: str) -> None:
    result = cli("search", *args)
    assert result.code == 1
    assert result.out == ""
    assert re.match(message, result.err), result.err
    assert result.err.count("\n") == 1


def test_limit_must_be_positive(registry, cli) -> None:
    result = cli("search", "--limit", "0")
    assert result.code == 2
    with pytest.raises(InvalidInputError, match="at least 1"):
        Registry.open(registry).search("", limit=0)


def test_api_returns_typed_versions(registry) -> None:
    reg = Registry.open(registry)
    result = reg.search("metrics.auc > 0.91", order_by=["metrics.auc DESC"])
    assert [(mv.name, mv.version, mv.stage, mv.aliases) for mv in result.versions] == [
        ("fraud", 2, "production", ()),
        ("fraud", 3, None, ()),
    ]
    assert result.versions[0].manifest.params == {"lr": 0.2}
    assert result.warnings == ()
    assert reg.search("name = 'nobody'").versions == ()
    with pytest.raises(InvalidInputError, match="column 6"):
        reg.search("name ~ 'x'")


def test_search_sees_edited_tags_and_descriptions(registry, cli) -> None:
    dated.ok(cli("update", "fraud", "3", "--tag", "team=ops", "--description", "retrained"))
    assert found(cli, "tags.team = 'ops'") == ["fraud@v3"]
    reg = Registry.open(registry)
    (mv,) = reg.search("tags.team = 'ops'").versions
    assert mv.manifest.description == "retrained"
    assert mv.manifest.metrics == {"auc": 0.93}  # the immutable part is the tagged commit's
    # An edit not yet committed is what the work tree says, as `show` reads it.
    path = registry / ".modelreg/models/fraud/v3.yaml"
    path.write_text(path.read_text().replace("team: ops", "team: platform"))
    assert found(cli, "tags.team = 'platform'") == ["fraud@v3"]
    assert json.loads(cli("show", "fraud@v3", "--json").out)["tags"] == {"team": "platform"}


def test_search_honours_the_policy_like_list(registry, cli) -> None:
    # A version tag without its claim ref is no version: list, show and search all leave it out.
    git(registry, "update-ref", "-d", "refs/modelreg/versions/fraud/3")
    result = cli("search", "name = 'fraud'", "--json")
    assert result.code == 0
    assert [v["version"] for v in json.loads(result.out)["versions"]] == [2, 1]
    assert "warning: ignoring fraud@v3: has no claim ref" in result.err
    assert json.loads(cli("list", "--json").out)[1]["latest"] == 2
    # An event without its claim ref does not count: v2 is no longer production, v1 still is.
    git(registry, "update-ref", "-d", "refs/modelreg/events/fraud/2")
    assert found(cli, "stage = 'production'") == ["fraud@v1"]


def test_terminal_table_and_pipe_text(registry) -> None:
    reg = Registry.open(registry)
    out = StringIO()
    render.table(Console(file=out, width=160), plain.search_table(reg.search("name = 'fraud'"), "\"name = 'fraud'\""))
    text = out.getvalue()
    assert "3 versions matching" in text and "production" in text and "auc=0.95" in text
    out = StringIO()
    render.table(Console(file=out, width=160), plain.search_table(reg.search("name = 'x'"), "'x'"))
    assert "No version matches 'x'." in out.getvalue()
    piped = run_modelreg(registry, "search", "stage = 'production'").stdout.splitlines()
    assert piped[0].split("\t") == ["model", "version", "stage", "aliases", "created", "metrics", "tags"]
    assert piped[1].split("\t")[:5] == ["fraud", "v2", "production", "", "2026-03-02T10:00:00Z"]
    assert len(piped) == 2
