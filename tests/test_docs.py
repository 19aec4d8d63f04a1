"""The documentation stays true to the CLI: generated reference, help texts, the CLI ↔ Python table."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from modelreg.cli.commands import app

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CLI_REFERENCE = DOCS / "cli.md"
PYTHON_API = DOCS / "python-api.md"
TABLE_HEADING = re.compile(r"^#+ .*CLI.*Python", re.MULTILINE)

# The script that writes docs/cli.md (`make docs`); only the output path differs here.
DOCS_SCRIPT = ROOT / ".ci" / "cli-docs"

# Typer may bring its own copy of click, so commands are recognised by shape, not by class:
# a group has a `commands` mapping; a parameter's `param_type_name` is "option" or "argument".
Command = Any


def _subcommands(command: Command) -> dict[str, Command]:
    return dict(getattr(command, "commands", None) or {})


def _walk(command: Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Command]]:
    """Every command of the app with its path (`()` for the app itself, `("alias", "set")`, …)."""
    yield path, command
    for name, sub in sorted(_subcommands(command).items()):
        yield from _walk(sub, (*path, name))


ROOT_COMMAND = typer.main.get_command(app)
COMMANDS = list(_walk(ROOT_COMMAND))
TOP_LEVEL = sorted(_subcommands(ROOT_COMMAND))
LEAVES = [path for path, command in COMMANDS if path and not _subcommands(command)]


def _label(path: tuple[str, ...]) -> str:
    return " ".join(("modelreg", *path))


def test_cli_reference_is_generated_from_the_app(tmp_path: Path) -> None:
    output = tmp_path / "cli.md"
    proc = subprocess.run(
        [sys.executable, str(DOCS_SCRIPT), str(output)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, f"generating the CLI reference failed:\n{proc.stderr}"
    expected = output.read_text(encoding="utf-8")
    actual = CLI_REFERENCE.read_text(encoding="utf-8") if CLI_REFERENCE.exists() else ""
    assert actual == expected, (
        "docs/cli.md is out of date with modelreg/cli/: run `make docs` (python .ci/cli-docs docs/cli.md) and commit it"
    )


def test_the_app_has_commands() -> None:
    assert TOP_LEVEL, "the Typer app has no commands: the checks below would pass vacuously"
    assert LEAVES


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[_label(path) for path, _ in COMMANDS])
def test_every_command_and_parameter_has_help(path: tuple[str, ...], command: Command) -> None:
    label = _label(path)
    assert (command.help or "").strip(), f"`{label}` has no help text (give the function a docstring)"
    params = [p for p in command.params if p.param_type_name in ("option", "argument")]
    assert len(params) == len(command.params), f"`{label}` has parameters of an unknown kind: {command.params}"
    for param in params:
        name = param.opts[0] if param.opts else param.name
        text = getattr(param, "help", None) or ""
        assert text.strip(), f"`{label}`: {param.param_type_name} {name} has no help text"


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS if p], ids=_label)
def test_every_command_help_shows_an_example(path: tuple[str, ...]) -> None:
    command = dict(COMMANDS)[path]
    assert f"`modelreg {path[0]}" in (command.help or ""), f"`{_label(path)}` --help has no example: add one"


def test_versioned_commands_show_the_one_grammar_in_their_help() -> None:
    for path in (("promote",), ("alias", "set"), ("update",), ("diff",)):
        assert re.search(r"`modelreg [a-z ]+ fraud-detector@\d", dict(COMMANDS)[path].help), path


def _table_first_cells(markdown: str) -> list[str]:
    """The first cell of every row of the table under the 'CLI … Python' heading."""
    match = TABLE_HEADING.search(markdown)
    assert match, f"{PYTHON_API.name} has no heading naming both 'CLI' and 'Python' above the command table"
    section = markdown[match.end() :]
    following = re.search(r"^#+ ", section, re.MULTILINE)
    section = section[: following.start()] if following else section
    cells = []
    for line in section.splitlines():
        line = line.strip()
        if line.startswith("|") and not re.fullmatch(r"\|[\s:|-]*\|", line):
            first = re.split(r"(?<!\\)\|", line.strip("|"))[0]  # cells may hold escaped pipes: `a \| b`
            cells.append(first.strip().strip("`").strip())
    return cells


def test_python_api_maps_every_command() -> None:
    cells = _table_first_cells(PYTHON_API.read_text(encoding="utf-8"))
    for name in TOP_LEVEL:
        assert any(cell == f"modelreg {name}" or cell.startswith(f"modelreg {name} ") for cell in cells), (
            f"`modelreg {name}` is missing from the CLI ↔ Python table in docs/python-api.md"
        )
    for path in LEAVES:
        label = _label(path)
        assert any(cell == label or cell.startswith(f"{label} ") for cell in cells), (
            f"`{label}` is missing from the CLI ↔ Python table in docs/python-api.md"
        )


def test_the_design_page_gives_each_decision_its_measured_reason() -> None:
    design = (DOCS / "design.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## (.+)\n((?:(?!^## ).*\n?)*)", design, re.MULTILINE))
    gitpython = next(body for title, body in sections.items() if "GitPython" in title)
    assert "bench_gitpython.py" in gitpython and "import git" in gitpython
    assert re.search(r"GitPython: .*\| \d+\.\d+ \|", gitpython)  # the side-by-side table, in seconds
    for topic, evidence in (
        ("seq", "test_state_ignores_tag_dates_even_when_clocks_run_backwards"),
        ("Claim refs", "stress_races.py"),
        ("Caches", "benchmarks/results.md"),
        ("lean start", "bench_startup.py"),
    ):
        body = next(body for title, body in sections.items() if topic in title)
        assert evidence in body, topic
