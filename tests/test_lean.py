"""The lean dispatch of the read commands (modelreg.cli.lean) against the Typer app that owns the grammar."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from modelreg.cli import lean, main
from modelreg.cli.commands import app
from modelreg.errors import ExitCode
from modelreg.git import GitRepo
from modelreg.git.history import branches
from tests.conftest import git, run_modelreg

ROOT = Path(__file__).resolve().parents[1]


def _typer_command(name: str):
    group = typer.main.get_command(app)
    return group.commands[name]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(lean.COMMANDS))
def test_the_lean_table_matches_the_typer_declaration(name):
    operands, flags, valued = lean.COMMANDS[name]
    command = _typer_command(name)
    arguments = [p.name for p in command.params if p.param_type_name == "argument"]
    options = {opt: p for p in command.params if p.param_type_name == "option" for opt in p.opts}
    options.pop("--help", None)
    assert tuple(arguments) == operands
    assert set(options) == set(flags) | set(valued)
    for opt in flags:
        assert options[opt].is_flag, opt
    for opt in valued:
        assert not options[opt].is_flag, opt
    for opt, dest in {**flags, **valued}.items():
        assert options[opt].name == dest


@pytest.fixture
def registry(repo, cli, artifact):
    cli("register", "m", artifact(content=b"one"), "--metric", "auc=0.9")
    cli("register", "m", artifact(content=b"two"))
    cli("promote", "m", "1", "production")
    cli("alias", "set", "m", "champion", "2")
    return repo


FORMS = [
    ["list"],
    ["list", "--json"],
    ["show", "m"],
    ["show", "m@1", "--json"],
    ["show", "--json", "m/production"],
    ["history", "m"],
    ["history", "m", "--json"],
    ["resolve", "m@champion"],
    ["resolve", "models:/m/Production", "--json"],
    ["resolve", "nope"],
    ["resolve", "m@v9"],
    ["resolve", "Bad Name"],
    ["check-ref", "m#production#1"],
    ["check-ref", "m#production#1", "--env"],
    ["check-ref", "m@v2", "--json"],
    ["check-ref", "m#production#99"],
    ["check-ref", "not-a-tag"],
    ["check-ref", "m@v1", "--env", "--json"],
    ["resolve", "m", "--remote=origin"],
    ["search"],
    ["search", "--json"],
    ["search", "metrics.auc > 0.5", "--json"],
    ["search", "stage = 'production'", "--order-by", "version DESC", "--order-by=name", "--limit", "1"],
    ["search", "--model", "m", "--at", "m#production#1"],
    ["search", "metrics.auc 0.9"],
    ["search", "--limit", "1", "--model=nope"],
]


@pytest.mark.parametrize("args", FORMS, ids=" ".join)
def test_the_lean_path_answers_exactly_as_typer_does(registry, capsys, args):
    assert lean.parse(args) is not None
    outcomes = []
    for use_lean in (True, False):
        capsys.readouterr()
        code = main(args, lean=use_lean)
        captured = capsys.readouterr()
        outcomes.append((code, captured.out, captured.err))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["resolve"],
        ["resolve", "--help"],
        ["resolve", "a", "b"],
        ["resolve", "-m"],
        ["resolve", "m", "--repo"],
        ["resolve", "m", "--repo", "--json"],
        ["resolve", "m", "--jsn"],
        ["list", "m"],
        ["pull", "m"],
        ["register", "m", "file"],
        ["check-ref", "m@v1", "--github-output"],
        ["search", "--limit", "0"],
        ["search", "--limit", "x"],
        ["search", "a", "b"],
    ],
    ids=repr,
)
def test_anything_else_goes_to_typer(args):
    assert lean.parse(args) is None


def test_shell_completion_is_never_answered_by_the_lean_path(monkeypatch):
    monkeypatch.setenv("_MODELREG_COMPLETE", "bash_source")
    assert lean.parse(["resolve", "m"]) is None


def _run(cwd: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=False)


def test_the_lean_path_imports_neither_typer_nor_rich_nor_yaml(registry):
    probe = (
        "import sys\nfrom modelreg.cli import main\n"
        "for args in (['resolve', 'm/production'], ['show', 'm', '--json'], ['history', 'm', '--json'],"
        " ['list', '--json'], ['show', 'm']):\n"
        "    assert main(args) == 0, args\n"
        # what only writes, verify's checks, a policy with review or signatures, or --at need
        "reads = ('hashlib', 'tempfile', 'shutil', 'importlib', 'modelreg.results', 'modelreg.read.evidence',\n"
        " 'modelreg.read.sigverify', 'modelreg.core.asof')\n"
        "print(sorted(m for m in reads if m in sys.modules), file=sys.stderr)\n"
        "assert main(['check-ref', 'm#production#1']) == 0\n"
        "heavy = ('typer', 'rich', 'yaml', 'click', 'dataclasses')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    _run(registry, probe)  # the first call of all fills the caches (YAML is parsed once per text)
    proc = _run(registry, probe)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-2:] == ["[]", "[]"]


def test_a_full_disk_on_stdout_is_one_line_and_exit_1(registry):
    with open("/dev/full", "w") as full:
        proc = run_modelreg(registry, "history", "m", "--json", check=False, stdout=full)
    assert proc.returncode == 1
    assert json.loads(proc.stderr) == {"error": "cannot write the output: No space left on device", "exit_code": 1}
    with open("/dev/full", "w") as full:
        proc = run_modelreg(registry, "history", "m", check=False, stdout=full)
    assert proc.returncode == 1
    assert proc.stderr == "error: cannot write the output: No space left on device\n"


def test_a_bug_exits_70_with_its_traceback_in_a_file(registry, capsys, monkeypatch):
    from modelreg.read.reader import Reader

    def broken(self, name, at=None):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(Reader, "resolve", broken)
    code = main(["resolve", "m"])
    err = capsys.readouterr().err
    assert code == ExitCode.INTERNAL == 70
    assert err.startswith("error: internal error: ZeroDivisionError: a bug; the traceback is in ")
    path = Path(err.rsplit(" ", 1)[1].strip())
    assert "ZeroDivisionError" in path.read_text()
    path.unlink()


def test_a_not_found_in_a_clone_with_a_remote_suggests_fetching(registry, cli, tmp_path):
    subprocess.run(["git", "remote", "add", "origin", str(tmp_path / "elsewhere.git")], cwd=registry, check=True)
    result = cli("resolve", "m@v9")
    assert result.code == 1
    assert "try again with --fetch" in result.err
    assert json.loads(cli("resolve", "m@v2", "--json").out)["version"] == 2


def _git_commands(repo: Path, trace: Path, *args: str) -> list[str]:
    """The git commands one `modelreg ARGS` process runs (GIT_TRACE), in order, with a cache of its own."""
    trace.unlink(missing_ok=True)
    run_modelreg(repo, *args, env={"GIT_TRACE": str(trace), "XDG_CACHE_HOME": str(trace.parent / "trace-cache")})
    return [
        line.split("built-in: git ", 1)[1].split(" ", 1)[0]
        for line in trace.read_text().splitlines()
        if "built-in: git " in line
    ]


def test_a_warm_read_of_a_small_model_runs_one_git_command(registry: Path, tmp_path: Path) -> None:
    """The branches (the policy) and the model's refs (its kept snapshot) in one listing."""
    repo, trace = registry, tmp_path / "trace"
    first = _git_commands(repo, trace, "resolve", "m/production")
    warm = _git_commands(repo, trace, "resolve", "m/production")
    assert warm == ["for-each-ref"], warm
    assert len(first) > len(warm)  # cold: the config's first commit walked, the tags read, the manifest
    run_modelreg(repo, "promote", "m", "2", "production")  # refs the kept snapshot does not have
    out = run_modelreg(repo, "resolve", "m/production", env={"XDG_CACHE_HOME": str(tmp_path / "trace-cache")})
    assert out.stdout.startswith("m@v2 ")


def test_a_listing_taken_with_the_branches_serves_the_next_read_alone(registry: Path) -> None:
    """Any other git command drops it: a read later in the same process lists afresh."""
    repo = GitRepo(registry)
    patterns = ["refs/tags/m@v*"]
    branches(repo, patterns)
    assert "refs/tags/m@v1 " in repo.listed_ids[tuple(patterns)]
    repo.git("rev-parse", "HEAD")
    assert repo.listed_ids == {}


def test_a_detached_head_walks_the_history_for_the_policy_once(registry: Path, tmp_path: Path) -> None:
    """Without a remote HEAD, the config's first commits are kept by tips: a second read walks nothing."""
    repo, trace = registry, tmp_path / "trace"
    git(repo, "checkout", "-q", "--detach", "HEAD")
    assert "log" in _git_commands(repo, trace, "resolve", "m/production")
    again = _git_commands(repo, trace, "resolve", "m/production")
    assert "log" not in again and "rev-parse" in again  # HEAD's commit is part of what the walk is kept by
    git(repo, "commit", "-q", "--allow-empty", "-m", "a new commit on the detached HEAD")
    assert "log" in _git_commands(repo, trace, "resolve", "m/production")  # a new tip: walked again
