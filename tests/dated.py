"""A registry whose writes carry chosen dates (git's dates, set per write), with one clock skewed.

2026-03-01T10:00Z  register fraud v1   auc 0.90, lr 0.1, team=risk, dataset s3://data/fraud@v1, run-1
2026-03-02T10:00Z  register fraud v2   auc 0.95, lr 0.2, team=Risk, run-2
2026-03-03T10:00Z  fraud#production#1  v1 → production
2026-03-04T10:00Z  register churn v1   auc 0.70
2026-03-05T10:00Z  fraud#production#2  v2 → production (v1 archived)
2026-03-06T10:00Z  fraud#champion#3    @champion → v2
2026-03-04T12:00Z  fraud#champion#4    @champion → v1, from a machine whose clock is two days behind
2026-03-08T10:00Z  register fraud v3   auc 0.93
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Cli = Callable[..., Any]


def tick(monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    """Every git object written from now on carries `when` as its date."""
    monkeypatch.setenv("GIT_AUTHOR_DATE", when)
    monkeypatch.setenv("GIT_COMMITTER_DATE", when)


def ok(result: Any) -> Any:
    assert result.code == 0, result.err
    return result


def build(repo: Path, cli: Cli, artifact: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    def register(when: str, name: str, n: int, *extra: str) -> None:
        tick(monkeypatch, when)
        ok(cli("register", name, artifact(content=f"{name} {n}".encode()), *extra))

    register(
        "2026-03-01T10:00:00Z",
        "fraud",
        1,
        *("--metric", "auc=0.90", "--param", "lr=0.1", "--tag", "team=risk"),
        *("--dataset", "s3://data/fraud@v1", "--run-id", "run-1"),
    )
    register(
        "2026-03-02T10:00:00Z",
        "fraud",
        2,
        *("--metric", "auc=0.95", "--param", "lr=0.2", "--tag", "team=Risk", "--run-id", "run-2"),
    )
    tick(monkeypatch, "2026-03-03T10:00:00Z")
    ok(cli("promote", "fraud", "1", "production"))
    register("2026-03-04T10:00:00Z", "churn", 1, "--metric", "auc=0.70")
    tick(monkeypatch, "2026-03-05T10:00:00Z")
    ok(cli("promote", "fraud", "2", "production"))
    tick(monkeypatch, "2026-03-06T10:00:00Z")
    ok(cli("alias", "set", "fraud", "champion", "2"))
    tick(monkeypatch, "2026-03-04T12:00:00Z")
    ok(cli("alias", "set", "fraud", "champion", "1"))
    register("2026-03-08T10:00:00Z", "fraud", 3, "--metric", "auc=0.93")
    return repo
