"""The memo mechanism on its own: what is recorded, and every change that must make a replay miss."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelreg import memo


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MODELREG_NO_MEMO", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "cache"


def reading(path: Path, *, code: int = 0, err: str = "", cat: Path | None = None):
    """A stand-in for a CLI run: reads `path` (and `cat`'s output through a command), prints what it saw."""

    def command() -> int:
        data = memo.read_file(str(path))
        seen = "absent" if data is None else data.decode()
        if cat is not None:
            proc = subprocess.run(["cat", str(cat)], capture_output=True, check=False)
            out = proc.stdout if proc.returncode == 0 else None
            memo.note_run(["cat", str(cat)], str(cat.parent), (), {}, out)
            seen += "|" + ("<failed>" if out is None else out.decode())
        sys.stdout.write(f"saw {seen}\n")
        if err:
            sys.stderr.write(err)
        return code

    return command


def replayed(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str | None:
    capsys.readouterr()
    return capsys.readouterr().out if memo.replay(argv) else None


def test_a_recorded_run_is_replayed_with_its_exact_output(tmp_path, capsys):
    source = tmp_path / "input.txt"
    source.write_text("one")
    argv = ["resolve", "fraud/production"]
    assert replayed(capsys, argv) is None
    assert memo.record(argv, reading(source)) == 0
    assert capsys.readouterr().out == "saw one\n"
    assert replayed(capsys, argv) == "saw one\n"


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.write_text("two"),  # same size, new bytes
        lambda p: p.write_text("one more"),
        lambda p: p.unlink(),
    ],
    ids=["edited", "grown", "deleted"],
)
def test_a_changed_file_input_is_a_miss(tmp_path, capsys, change):
    source = tmp_path / "input.txt"
    source.write_text("one")
    argv = ["show", "fraud"]
    memo.record(argv, reading(source))
    change(source)
    assert replayed(capsys, argv) is None


def test_a_file_recorded_as_absent_that_appears_is_a_miss(tmp_path, capsys):
    source = tmp_path / "input.txt"
    argv = ["show", "fraud"]
    memo.record(argv, reading(source))
    assert replayed(capsys, argv) == "saw absent\n"
    source.write_text("now here")
    assert replayed(capsys, argv) is None


@pytest.mark.parametrize(
    ("before", "after", "seen"),
    [("ref-a", "ref-b", "ref-a"), ("ref-a", None, "ref-a"), (None, "ref-a", "<failed>")],
    ids=["output-changed", "now-fails", "now-succeeds"],
)
def test_a_command_whose_outcome_changed_is_a_miss(tmp_path, capsys, before, after, seen):
    """`cat refs.txt` stands for a git probe; a missing file makes it fail (exit 1)."""
    source, refs = tmp_path / "input.txt", tmp_path / "refs.txt"
    source.write_text("one")

    def put(content: str | None) -> None:
        if content is None:
            refs.unlink(missing_ok=True)
        else:
            refs.write_text(content)

    argv = ["resolve", "fraud"]
    put(before)
    memo.record(argv, reading(source, cat=refs))
    assert replayed(capsys, argv) == f"saw one|{seen}\n"
    put(after)
    assert replayed(capsys, argv) is None


def test_an_edited_module_is_a_miss(tmp_path, capsys, monkeypatch):
    package = tmp_path / "lib" / "memo_probe_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(package.parent))
    importlib.import_module("memo_probe_pkg")
    source = tmp_path / "input.txt"
    source.write_text("one")
    argv = ["resolve", "fraud"]
    try:
        memo.record(argv, reading(source))
        assert replayed(capsys, argv) == "saw one\n"
        (package / "__init__.py").write_text("VALUE = 22\n")
        assert replayed(capsys, argv) is None
    finally:
        sys.modules.pop("memo_probe_pkg", None)


@pytest.mark.parametrize(("code", "err"), [(1, ""), (0, "warning: something\n")], ids=["failed", "warned"])
def test_only_a_clean_success_is_recorded(tmp_path, capsys, code, err):
    source = tmp_path / "input.txt"
    source.write_text("one")
    argv = ["resolve", "fraud"]
    assert memo.record(argv, reading(source, code=code, err=err)) == code
    assert replayed(capsys, argv) is None


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["resolve"],
        ["resolve", "a", "b"],
        ["resolve", "--fetch", "a"],
        ["resolve", "a", "--repo", "url"],
        ["resolve", "a", "--json", "--json"],
        ["resolve", "--", "a"],
        ["show", "-h"],
        ["show", "a", "--help"],
        ["list", "a"],
        ["history"],
        ["list", "--fetch"],
        ["pull", "a"],
        ["check-ref", "a"],
    ],
)
def test_only_plain_read_commands_are_memoized(argv):
    assert memo.entry_file(argv) is None


@pytest.mark.parametrize(
    "argv",
    [
        ["resolve", "a"],
        ["resolve", "a", "--json"],
        ["show", "--json", "models:/a/Production"],
        ["history", "a"],
        ["list"],
        ["list", "--json"],
    ],
)
def test_read_commands_with_or_without_json_are_memoized(argv):
    assert memo.entry_file(argv) is not None


def test_the_question_includes_directory_environment_and_command_line(tmp_path, monkeypatch):
    base = memo.entry_file(["show", "a"])
    assert memo.entry_file(["show", "a", "--json"]) != base
    monkeypatch.setenv("COLUMNS", "33")
    assert memo.entry_file(["show", "a"]) != base
    monkeypatch.delenv("COLUMNS")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "other"))
    assert memo.entry_file(["show", "a"]) != base
    monkeypatch.delenv("GIT_CONFIG_GLOBAL")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert memo.entry_file(["show", "a"]) != base
    monkeypatch.setenv("MODELREG_NO_MEMO", "1")
    assert memo.entry_file(["show", "a"]) is None


def test_a_damaged_or_foreign_recording_is_a_miss(tmp_path, capsys):
    source = tmp_path / "input.txt"
    source.write_text("one")
    argv = ["resolve", "fraud"]
    memo.record(argv, reading(source))
    entry = Path(memo.entry_file(argv) or "")
    assert entry.stat().st_mode & 0o077 == 0
    os.chmod(entry, 0o666)  # writable by others: anyone could have put an answer there
    assert replayed(capsys, argv) is None
    os.chmod(entry, 0o600)
    assert replayed(capsys, argv) == "saw one\n"
    entry.write_bytes(b"\x00not marshal")
    assert replayed(capsys, argv) is None


def test_no_memo_switch_neither_records_nor_replays(tmp_path, capsys, monkeypatch):
    source = tmp_path / "input.txt"
    source.write_text("one")
    argv = ["resolve", "fraud"]
    monkeypatch.setenv("MODELREG_NO_MEMO", "1")
    memo.record(argv, reading(source))
    monkeypatch.delenv("MODELREG_NO_MEMO")
    assert replayed(capsys, argv) is None


def test_plain_and_json_answers_do_not_depend_on_the_terminal_size(monkeypatch):
    before = {tuple(argv): memo.entry_file(argv) for argv in (["resolve", "a"], ["show", "a", "--json"], ["show", "a"])}
    monkeypatch.setattr(memo, "_terminal", lambda: (True, (33, 10)))
    assert memo.entry_file(["resolve", "a"]) == before[("resolve", "a")]
    assert memo.entry_file(["show", "a", "--json"]) == before[("show", "a", "--json")]
    assert memo.entry_file(["show", "a"]) != before[("show", "a")]


def test_recordings_are_pruned_past_keep(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(memo, "KEEP", 8)
    source = tmp_path / "input.txt"
    source.write_text("one")
    for n in range(20):
        (tmp_path / f"sub{n}").mkdir()
        monkeypatch.chdir(tmp_path / f"sub{n}")
        memo.record(["resolve", "fraud"], reading(source))
    kept = list(Path(memo.entry_file(["resolve", "fraud"]) or "").parent.glob("*.bin"))
    assert 4 <= len(kept) <= 8
    assert replayed(capsys, ["resolve", "fraud"]) == "saw one\n"  # the newest survives
