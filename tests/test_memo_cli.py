"""Memoized read commands as a user runs them: same bytes as the full command, and never stale.

Each command runs as its own process under `python -X importtime`, so a test can see whether the
answer was replayed (modelreg.cli never imported) or computed by the full CLI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from modelreg.api import Registry
from tests.conftest import ROOT, git, make_repo

READS = [
    ("resolve", "fraud/production"),
    ("resolve", "fraud@champion", "--json"),
    ("resolve", "models:/fraud/Production"),
    ("resolve", "fraud"),
    ("show", "fraud@2"),
    ("show", "fraud/production", "--json"),
    ("show", "--json", "fraud@champion"),
    ("show", "fraud"),
    ("history", "fraud"),
    ("history", "fraud", "--json"),
    ("list",),
    ("list", "--json"),
]


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str
    replayed: bool


def run(cwd: Path, *args: str, memo: bool = True, env: dict[str, str] | None = None) -> Outcome:
    extra = {"PYTHONPATH": str(ROOT), **(env or {})}
    if not memo:
        extra["MODELREG_NO_MEMO"] = "1"
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "modelreg", *args],
        cwd=cwd,
        env={**os.environ, **extra},
        capture_output=True,
        text=True,
        check=False,
    )
    err = "\n".join(line for line in proc.stderr.splitlines() if not line.startswith("import time:"))
    return Outcome(proc.returncode, proc.stdout, err, replayed(proc.stderr))


def replayed(stderr: str) -> bool:
    """Whether the run answered without the CLI, by `-X importtime`'s list of modules."""
    timings = [line for line in stderr.splitlines() if line.startswith("import time:")]
    return "modelreg.cli" not in {line.rsplit("|", 1)[-1].strip() for line in timings}


def same_as_full_run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Outcome:
    """Run with the memo; assert it says exactly what the full command says. Returns the memo run."""
    full = run(cwd, *args, memo=False, env=env)
    memo = run(cwd, *args, env=env)
    assert (memo.code, memo.out, memo.err) == (full.code, full.out, full.err), args
    return memo


@pytest.fixture
def registry(repo, cli, artifact):
    for n in (1, 2, 3):
        assert cli("register", "fraud", artifact(content=f"weights {n}".encode()), "--metric", f"auc=0.9{n}").code == 0
    assert cli("promote", "fraud", "1", "production").code == 0
    assert cli("alias", "set", "fraud", "champion", "3").code == 0
    assert cli("update", "fraud", "2", "--description", "the candidate").code == 0
    return repo


@pytest.mark.parametrize("args", READS, ids=[" ".join(a) for a in READS])
def test_a_second_ask_is_replayed_byte_for_byte(registry, args):
    first = same_as_full_run(registry, *args)
    assert not first.replayed
    second = same_as_full_run(registry, *args)
    assert second.replayed
    assert second.out == first.out


def test_a_new_stage_holder_or_alias_move_is_seen_at_once(registry, cli):
    reads = [("resolve", "fraud/production"), ("resolve", "fraud@champion", "--json"), ("history", "fraud"), ("list",)]
    for args in reads:
        same_as_full_run(registry, *args)
        assert same_as_full_run(registry, *args).replayed
    assert cli("promote", "fraud", "2", "production").code == 0
    assert cli("alias", "set", "fraud", "champion", "1").code == 0
    moved = same_as_full_run(registry, "resolve", "fraud/production")
    assert not moved.replayed
    assert moved.out.startswith("fraud@v2 ")
    champion = same_as_full_run(registry, "resolve", "fraud@champion", "--json")
    assert not champion.replayed
    assert '"version": 1' in champion.out
    for args in reads[2:]:
        assert not same_as_full_run(registry, *args).replayed


def test_a_new_model_is_listed_at_once(registry, cli, artifact):
    same_as_full_run(registry, "list", "--json")
    assert same_as_full_run(registry, "list", "--json").replayed
    assert cli("register", "churn", artifact(content=b"churn weights")).code == 0
    listed = same_as_full_run(registry, "list", "--json")
    assert not listed.replayed
    assert '"churn"' in listed.out


def test_a_hand_edit_of_the_manifest_or_the_config_is_seen_at_once(registry):
    args = ("show", "fraud@2", "--json")
    same_as_full_run(registry, *args)
    manifest = registry / ".modelreg" / "models" / "fraud" / "v2.yaml"
    manifest.write_text(manifest.read_text().replace("the candidate", "the candidate, edited"))
    edited = same_as_full_run(registry, *args)
    assert not edited.replayed
    assert "the candidate, edited" in edited.out
    assert same_as_full_run(registry, *args).replayed

    same_as_full_run(registry, "resolve", "fraud/production")
    config = registry / ".modelreg" / "config.yaml"
    config.write_text(config.read_text().replace("production", "prod"))
    refused = same_as_full_run(registry, "resolve", "fraud/production")
    assert refused.code != 0
    assert not refused.replayed


def test_a_deleted_event_tag_is_seen_at_once(registry):
    same_as_full_run(registry, "resolve", "fraud@champion")
    tag = git(registry, "tag", "-l", "fraud#champion#*").split()[-1]
    git(registry, "tag", "-d", tag)
    gone = same_as_full_run(registry, "resolve", "fraud@champion")
    assert gone.code != 0
    assert not gone.replayed


def test_another_repository_at_the_same_path_is_asked_afresh(registry, tmp_path, artifact):
    same_as_full_run(registry, "resolve", "fraud")
    assert same_as_full_run(registry, "resolve", "fraud").replayed
    shutil.rmtree(registry)
    make_repo(registry)
    Registry.init(registry)
    Registry.open(registry).register("fraud", artifact(content=b"something else"))
    fresh = same_as_full_run(registry, "resolve", "fraud")
    assert not fresh.replayed
    assert fresh.out.startswith("fraud@v1 ")


def test_each_directory_and_terminal_width_is_its_own_question(registry):
    sub = registry / "src"
    sub.mkdir()
    same_as_full_run(registry, "show", "fraud@2")
    assert not same_as_full_run(sub, "show", "fraud@2").replayed
    assert same_as_full_run(sub, "show", "fraud@2").replayed
    wide = same_as_full_run(registry, "show", "fraud@2")
    narrow = same_as_full_run(registry, "show", "fraud@2", env={"COLUMNS": "30"})
    assert not narrow.replayed
    assert narrow.out != wide.out
    assert same_as_full_run(registry, "show", "fraud@2", env={"COLUMNS": "30"}).replayed


def test_failures_are_never_replayed(registry):
    for _ in range(2):
        missing = same_as_full_run(registry, "resolve", "fraud@9")
        assert missing.code != 0
        assert not missing.replayed


def on_terminal(cwd: Path, *args: str, memo: bool = True) -> tuple[bytes, bool]:
    """Run with stdin and stdout on a pseudo-terminal; returns what the terminal got, and whether it was replayed."""
    master, slave = os.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color"}
    if not memo:
        env["MODELREG_NO_MEMO"] = "1"
    try:
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "modelreg", *args],
            cwd=cwd,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=subprocess.PIPE,
            text=True,
            check=True,
        )
    finally:
        os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the terminal's other end is closed and drained
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return b"".join(chunks), replayed(proc.stderr)


def test_a_terminal_gets_the_same_colours_back(registry):
    full, _ = on_terminal(registry, "show", "fraud@2", memo=False)
    assert b"\x1b[" in full  # Rich drew for a terminal
    first, replayed_first = on_terminal(registry, "show", "fraud@2")
    second, replayed_second = on_terminal(registry, "show", "fraud@2")
    assert (replayed_first, replayed_second) == (False, True)
    assert first == second == full
