"""At 80 columns: no identifier, digest or timestamp broken; `--help` leads with the everyday commands, whole."""

from __future__ import annotations

import json
import re

import typer

from modelreg.cli.commands import app
from modelreg.cli.helporder import EVERYDAY
from tests.conftest import run_modelreg
from tests.test_newcomer import on_terminal, screen_lines

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def test_help_lists_the_everyday_commands_first_with_whole_summaries(repo):
    out = run_modelreg(repo, "--help", env={"COLUMNS": "80"}).stdout
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines)
    start = lines.index("Everyday commands:")
    listed = [line.split()[0] for line in lines[start + 1 :] if re.match(r"  \S", line)]
    assert listed[: len(EVERYDAY)] == list(EVERYDAY)
    assert "..." not in "\n".join(lines[start:])  # no summary cut short
    flat = " ".join(out.split())
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        summary = " ".join(command.get_short_help_str(limit=1_000).split())
        assert f"{name} {summary}" in flat, name
    assert "fraud-\n" not in out  # a line never breaks inside `fraud-detector`


def test_show_history_list_keep_digests_and_timestamps_whole_at_80_columns(repo, cli, artifact):
    for content, metric in ((b"one", "auc=0.92"), (b"two", "auc=0.93")):
        assert cli("register", "fraud-detector", artifact(content=content), "--metric", metric).code == 0
    assert cli("promote", "fraud-detector", "1", "production", "--reason", "the first release that beat it").code == 0
    assert cli("promote", "fraud-detector", "2", "production", "--reason", "better auc on the May data").code == 0
    assert cli("alias", "set", "fraud-detector", "champion", "2").code == 0
    digest = json.loads(cli("resolve", "fraud-detector@2", "--json").out)["digest"]

    show = screen_lines(on_terminal(repo, "show", "fraud-detector@2", columns=80))
    assert all(len(line.rstrip()) <= 80 for line in show)
    assert any(digest in line for line in show), "\n".join(show)
    assert any(STAMP.search(line) for line in show)

    history = screen_lines(on_terminal(repo, "history", "fraud-detector", columns=80))
    text = "\n".join(history)
    assert all(len(line) <= 80 for line in history)
    assert len(STAMP.findall(text)) == 5, text  # two registrations, three events: every stamp whole
    assert not re.search(r"\d\d:\d\d:\d\s*│", text)

    listing = "\n".join(screen_lines(on_terminal(repo, "list", columns=80)))
    assert "fraud-detector" in listing and "champion→v2" in listing
