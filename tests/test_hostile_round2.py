"""A hostile world, round two (issue 23): planted serving entries, a planted lock, a silent server, pathological
LIKE patterns, the end of time, a policy chosen by the checkout, DVC pointers that name files, one bad GTO artifact.
Each test failed before its fix (see the notes of the change)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result

# --- 5: LIKE / ILIKE on a long value ---------------------------------------------------------------


@pytest.fixture
def long_tag(repo: Path, cli: Callable[..., Result], artifact: Callable[..., Path]) -> Path:
    """`m` v1 with a 5,000-character tag `t` of a's, `m` v2 with `t` = that and a final b."""
    assert cli("register", "m", artifact("m.bin", b"1"), "--tag", "t=" + "a" * 5000).code == 0
    assert cli("register", "m", artifact("m.bin", b"2"), "--tag", "t=" + "a" * 5000 + "b").code == 0
    return repo


@pytest.mark.parametrize(
    "clause",
    [
        "tags.t LIKE '" + "%a" * 22 + "%b'",
        "tags.t ILIKE '" + "%A" * 22 + "%B'",
        "tags.t LIKE '%" + "_" * 50 + "b'",
        "tags.t ILIKE '%" + "_" * 50 + "B'",
    ],
)
def test_5_a_pathological_like_pattern_answers_through_search(long_tag, cli, clause: str) -> None:
    # before: a backtracking regular expression, minutes per record (the test hung)
    found = cli("search", clause, "--json")
    assert found.code == 0, found.err
    assert [(v["name"], v["version"]) for v in json.loads(found.out)["versions"]] == [("m", 2)]


# --- 6: the end of time ----------------------------------------------------------------------------


@pytest.fixture
def one_version(repo: Path, cli: Callable[..., Result], artifact: Callable[..., Path]) -> Path:
    assert cli("register", "m", artifact("m.bin", b"1")).code == 0
    assert cli("promote", "m", "1", "production").code == 0
    return repo


def one_line(result: Result) -> str:
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    return result.err.strip()


@pytest.mark.parametrize("when", ["9999-12-31", "9999-12-31+05:00", "9999-12-31-05:00", "9999-12-31T23:59:59Z"])
def test_6_at_the_end_of_time_is_now(one_version, cli, when: str) -> None:
    # before: "internal error: OverflowError" from every one of these
    resolved = cli("resolve", "m/production", "--at", when)
    assert resolved.code == 0, resolved.err
    assert resolved.out.startswith("m@v1 ")
    shown = cli("show", "m/production", "--at", when, "--json")
    assert shown.code == 0, shown.err
    assert json.loads(shown.out)["stage"] == "production"
    listed = cli("list", "--at", when, "--json")
    assert listed.code == 0, listed.err
    assert [(m["name"], m["stages"]) for m in json.loads(listed.out)] == [("m", {"production": 1})]
    found = cli("search", "stage = 'production'", "--at", when, "--json")
    assert found.code == 0, found.err
    assert [v["version"] for v in json.loads(found.out)["versions"]] == [1]


def test_6_history_since_and_until_the_end_of_time(one_version, cli) -> None:
    since = cli("history", "m", "--since", "9999-12-31", "--json")
    assert since.code == 0, since.err
    assert json.loads(since.out) == []
    until = cli("history", "m", "--until", "9999-12-31", "--json")
    assert until.code == 0, until.err
    assert [(e["action"], e["kind"], e["target"]) for e in json.loads(until.out)] == [
        ("register", None, None),
        ("assign", "stage", "production"),
    ]
    early = cli("history", "m", "--until", "0001-01-01-05:00", "--json")
    assert early.code == 0, early.err
    assert json.loads(early.out) == []


@pytest.mark.parametrize("when", ["10000-01-01", "9999-12-32", "+9999-12-31"])
def test_6_a_date_past_the_end_of_time_is_one_line(one_version, cli, when: str) -> None:
    result = cli("resolve", "m/production", "--at", when)
    assert result.code == 1
    assert "--at" in one_line(result)


@pytest.mark.parametrize("millis", ["1e30", "-1e30", "253402300800000"])  # the last: 10000-01-01
def test_6_a_creation_time_out_of_range_is_one_line(one_version, cli, millis: str) -> None:
    # before: "internal error: OverflowError"
    result = cli("search", f"creation_timestamp > {millis}")
    assert result.code == 1
    message = f"error: filter: created: {millis} ms is not a time a version can have at column 22: {millis}"
    assert one_line(result) == message
