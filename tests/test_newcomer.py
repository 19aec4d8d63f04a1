"""A newcomer's first hour (issue 16): terminals and pipes, one grammar, safe pulls, shell-safe output, errors.

Terminal cases run the CLI as a process on a real pseudo-terminal of 60 and 120 columns; piped cases
read its stdout through a real pipe.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_modelreg

LONG = "churn-predictor-xgboost-long-name"
ANSI = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][0-9A-B])")


def on_terminal(cwd: Path, *args: str, columns: int) -> str:
    """Run `modelreg ARGS` with stdin, stdout and stderr on a pseudo-terminal `columns` wide; what it showed."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update({"PYTHONPATH": str(ROOT), "TERM": "xterm-256color"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelreg", *args], cwd=cwd, env=env, stdin=follower, stdout=follower, stderr=follower
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait() == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode()


def screen_lines(raw: str) -> list[str]:
    """The lines as a person sees them: escape sequences removed, each carriage return starting over."""
    text = ANSI.sub("", raw)
    return [part for line in text.split("\n") for part in line.split("\r")]


def piped(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `modelreg ARGS` with stdout on a real pipe."""
    return run_modelreg(cwd, *args, check=check)


@pytest.fixture
def fleet(repo, cli, artifact):
    """Two models: `fraud-detector` (v1, v2; production v2 with v1 archived; champion v2) and a long-named one."""
    for content, metric in ((b"one", "auc=0.92"), (b"two", "auc=0.93")):
        assert cli("register", "fraud-detector", artifact(content=content), "--metric", metric).code == 0
    assert cli("promote", "fraud-detector", "1", "production").code == 0
    assert cli("promote", "fraud-detector", "2", "production", "--reason", "better auc on the May data").code == 0
    assert cli("alias", "set", "fraud-detector", "champion", "2").code == 0
    assert cli("register", LONG, artifact(content=b"three")).code == 0
    return repo


# --- pipes: full values, tab-separated, no padding, no box drawing -------------------------------


def test_list_in_a_pipe_keeps_every_name_whole(fleet):
    out = piped(fleet, "list").stdout
    assert out.splitlines()[0].split("\t")[:2] == ["model", "latest"]
    assert f"{LONG}\tv1\t" in out
    grep = subprocess.run(
        f"{sys.executable} -m modelreg list | grep -c {LONG}",
        shell=True,
        cwd=fleet,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert grep.stdout == "1\n"


def test_show_in_a_pipe_has_the_digest_on_one_line_and_no_padding(fleet):
    out = piped(fleet, "show", "fraud-detector@2").stdout
    digest = json.loads(piped(fleet, "show", "fraud-detector@2", "--json").stdout)["artifact"]["digest"]
    assert f"artifact\t{digest}\n" in out
    assert all(line == line.rstrip() for line in out.splitlines())


@pytest.mark.parametrize(
    "args",
    [["diff", "fraud-detector", "1", "2"], ["requests"], ["verify"]],
    ids=" ".join,
)
def test_tables_in_a_pipe_are_tab_separated_without_box_drawing(fleet, args):
    out = piped(fleet, *args).stdout
    assert not set(out) & set("│┃━─┏┓┗┛╇╈┡┩└┘"), out
    assert all(line == line.rstrip(" ") for line in out.splitlines())
    if args[0] == "diff":
        rows = [line.split("\t") for line in out.splitlines()]
        assert rows[0] == ["section", "key", "v1", "v2", "Δ"]
        digests = json.loads(piped(fleet, "diff", "fraud-detector", "1", "2", "--json").stdout)
        assert ["artifact", "digest", digests["digest"]["a"], digests["digest"]["b"], "changed"] in rows


def test_json_is_unchanged_by_where_it_goes(fleet):
    through_pipe = json.loads(piped(fleet, "list", "--json").stdout)
    on_screen = json.loads("".join(screen_lines(on_terminal(fleet, "list", "--json", columns=60))))
    assert through_pipe == on_screen


# --- terminals: tables never cut an identifier ---------------------------------------------------


@pytest.mark.parametrize("columns", [60, 120])
def test_list_on_a_terminal_never_cuts_a_name(fleet, columns):
    lines = screen_lines(on_terminal(fleet, "list", columns=columns))
    text = "\n".join(lines)
    assert "…" not in text
    assert all(len(line) <= columns for line in lines)
    for word in ("fraud-detector", "v2", "champion→v2", "production"):
        assert word in text, text
    if columns >= 120:
        assert LONG in text


@pytest.mark.parametrize("columns", [60, 120])
def test_history_on_a_terminal_never_cuts_an_event_and_dates_carry_their_zone(fleet, columns):
    lines = screen_lines(on_terminal(fleet, "history", "fraud-detector", columns=columns))
    text = "\n".join(lines)
    assert "…" not in text
    assert all(len(line) <= columns for line in lines)
    for word in ("registered", "→ production (v1 archived)", "→ @champion"):
        assert word in text, text
    if columns >= 120:
        assert "2026-01-02T03:04:05Z" in text and "better auc on the May data" in text
    assert not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", text)  # never the zone-less `2026-01-02 03:04`


@pytest.mark.parametrize("columns", [60, 120])
def test_the_progress_bar_fits_the_terminal_in_mib_with_an_eta(repo, cli, artifact, columns):
    assert cli("register", "big", artifact(content=os.urandom(48 << 20))).code == 0
    raw = on_terminal(repo, "pull", "big", "-o", str(repo / "out"), columns=columns)
    lines = screen_lines(raw)
    bars = [line for line in lines if "MiB" in line]
    assert bars, raw
    assert all(len(line.rstrip()) < columns for line in bars), bars
    assert any("ETA" in line and "/48.0 MiB" in line for line in bars), bars
    assert not any(re.search(r"\d (kB|MB|GB)\b", line) for line in lines)


# --- --version and shell completion --------------------------------------------------------------


def test_version_flag(repo):
    from modelreg import __version__

    for args in (["--version"], ["list", "--help"]):
        proc = piped(repo, *args)
        assert proc.returncode == 0
    assert piped(repo, "--version").stdout == f"modelreg {__version__}\n"


def complete(cwd: Path, line: str) -> list[str]:
    words = line.split(" ")
    env = {"_MODELREG_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
    proc = run_modelreg(cwd, *words[1:], env=env, check=False)
    return proc.stdout.split()


def test_shell_completion_offers_models_versions_stages_and_aliases(fleet):
    assert complete(fleet, "modelreg show fraud") == ["fraud-detector", "fraud-detector@", "fraud-detector/"]
    assert set(complete(fleet, "modelreg resolve fraud-detector@")) == {
        "fraud-detector@1",
        "fraud-detector@2",
        "fraud-detector@champion",
        "fraud-detector@latest",
    }
    assert complete(fleet, "modelreg pull fraud-detector/p") == ["fraud-detector/production"]
    assert complete(fleet, "modelreg history ch") == [LONG]
    assert complete(fleet, "modelreg promote fraud-detector@2 st") == ["staging"]
    for shell in ("bash", "zsh", "fish"):
        proc = run_modelreg(fleet, "--show-completion", shell, check=False)
        assert proc.returncode == 0 and "_MODELREG_COMPLETE" in proc.stdout, (shell, proc.stderr)


# --- one grammar ---------------------------------------------------------------------------------


def test_every_versioned_command_takes_name_at_n(repo, cli, artifact):
    for content in (b"one", b"two"):
        cli("register", "m", artifact(content=content), "--metric", "auc=0.9")
    assert cli("promote", "m@2", "production").code == 0
    assert cli("alias", "set", "m@1", "champion").code == 0
    assert cli("alias", "set", "m", "2", "challenger").code == 0
    assert cli("alias", "set", "m", "shadow", "1").code == 0  # the older order still works
    assert cli("update", "m@1", "-d", "first").code == 0
    state = json.loads(cli("list", "--json").out)[0]
    assert state["stages"]["production"] == 2
    assert state["aliases"] == {"champion": 1, "challenger": 2, "shadow": 1}
    diff = json.loads(cli("diff", "m@1", "m/production", "--json").out)
    assert (diff["a"], diff["b"]) == (1, 2)
    assert json.loads(cli("diff", "m", "1", "2", "--json").out)["b"] == 2
    assert json.loads(cli("show", "m@1", "--json").out)["description"] == "first"


def test_stage_names_are_case_insensitive_everywhere(repo, cli, artifact):
    cli("register", "m", artifact(content=b"one"))
    cli("register", "m", artifact(content=b"two"))
    assert cli("promote", "m@1", "Production").code == 0
    assert cli("promote", "m", "2", "STAGING").code == 0
    assert cli("resolve", "m/Production").out.startswith("m@v1 ")
    assert cli("resolve", "m/Staging").out.startswith("m@v2 ")
    assert cli("promote", "m@2", "production").code == 0
    result = cli("rollback", "m", "--stage", "Production")
    assert result.code == 0, result.err
    assert cli("resolve", "m/production").out.startswith("m@v1 ")


def test_an_unknown_model_name_suggests_the_closest(fleet, cli):
    result = cli("resolve", "fraud-detecter")
    assert result.code == 1
    assert "no model named 'fraud-detecter' is registered: did you mean 'fraud-detector'?" in result.err
    assert cli("promote", "fraud-detektor@1", "staging").err.count("did you mean 'fraud-detector'?") == 1
    assert "did you mean" not in cli("resolve", "zzz").err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["promote", "m", "production"], "which version of m?"),
        (["promote", "m@1"], "Missing argument '[VERSION] STAGE'"),
        (["alias", "set", "m@1", "a", "b"], "expected NAME@VERSION ALIAS"),
        (["diff", "m@1", "other@1"], "versions of different models"),
    ],
)
def test_the_grammar_explains_a_wrong_form(repo, cli, artifact, args, message):
    cli("register", "m", artifact())
    result = cli(*args)
    assert result.code != 0
    assert message in result.err and "Traceback" not in result.err


# --- pull -o, duplicate keys, --env, deltas, JSON errors -----------------------------------------


def test_pull_refuses_an_existing_file_or_a_non_empty_directory(fleet, cli, tmp_path):
    existing = tmp_path / "a.pkl"
    existing.write_bytes(b"mine")
    result = cli("pull", "fraud-detector", "-o", existing)
    assert result.code == 1 and "exists and is not a directory" in result.err and "internal" not in result.err
    assert existing.read_bytes() == b"mine"
    other = tmp_path / "serving"
    other.mkdir()
    (other / "other-model.bin").write_bytes(b"another model")
    result = cli("pull", "fraud-detector", "-o", other)
    assert result.code == 1 and "is not empty" in result.err and "--force" in result.err
    assert sorted(p.name for p in other.iterdir()) == ["other-model.bin"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli("pull", "fraud-detector", "-o", empty).code == 0
    assert sorted(p.name for p in empty.iterdir()) == ["model.pkl"]


def test_pull_force_replaces_what_is_there_at_once(fleet, cli, tmp_path):
    for target in (tmp_path / "a.pkl", tmp_path / "serving"):
        if target.name == "a.pkl":
            target.write_bytes(b"mine")
        else:
            target.mkdir()
            (target / "other-model.bin").write_bytes(b"another model")
        result = cli("pull", "fraud-detector@1", "-o", target, "--force")
        assert result.code == 0, result.err
        assert sorted(p.name for p in target.iterdir()) == ["model.pkl"]
        assert (target / "model.pkl").read_bytes() == b"one"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # nothing left aside


@pytest.mark.parametrize("option", ["--metric", "--param", "--tag"])
def test_a_key_given_twice_is_an_error(repo, cli, artifact, option):
    result = cli("register", "m", artifact(), option, "auc=0.9", option, "auc=0.95")
    assert result.code == 1
    assert f"{option} auc is given twice" in result.err
    assert cli("list", "--json").out.strip() == "[]"


def test_show_and_history_print_one_timestamp_format(fleet):
    show = piped(fleet, "show", "fraud-detector@1").stdout
    history = piped(fleet, "history", "fraud-detector").stdout
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    assert stamp.search(show) and stamp.search(history)
    assert not re.search(r"\d\d:\d\d(?!:\d\dZ)(\s|$)", show + history)


def test_check_ref_env_output_can_be_sourced_by_a_shell(repo, cli, artifact, monkeypatch, tmp_path):
    actor = 'Jane "Q" O\'Doe $(touch pwned) `touch pwned2`; x=1 &'
    monkeypatch.setenv("GIT_COMMITTER_NAME", actor)
    monkeypatch.setenv("GIT_AUTHOR_NAME", actor)
    cli("register", "m", artifact())
    assert cli("promote", "m@1", "production", "--reason", "it's $HOME").code == 0
    env_file = tmp_path / "model.env"
    env_file.write_text(piped(repo, "check-ref", "m#production#1", "--env").stdout)
    for shell in ("sh", "bash"):
        proc = subprocess.run(
            [
                shell,
                "-c",
                '. "$1" && printf "%s|%s|%s" "$MODELREG_ACTOR" "$MODELREG_REF" "$MODELREG_CURRENT"',
                "x",
                str(env_file),
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        assert proc.stdout == f"{actor} <jane@example.com>|m@v1|true", shell
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()


def test_diff_json_deltas_are_rounded_to_the_inputs_precision(fleet, cli):
    diff = json.loads(cli("diff", "fraud-detector@1", "fraud-detector@2", "--json").out)
    assert diff["metrics"]["auc"] == {"a": 0.92, "b": 0.93, "delta": 0.01}


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["resolve", "nope", "--json"], 1),  # the lean path
        (["show", "Bad Name", "--json"], 1),
        (["promote", "nope@1", "production", "--json"], 1),  # the Typer path
        (["diff", "--json"], 2),  # a usage error
        (["pull", "nope", "--json", "--force"], 1),
    ],
)
def test_errors_under_json_are_a_json_object_on_stderr(repo, args, code):
    proc = piped(repo, *args, check=False)
    assert proc.returncode == code
    report = json.loads(proc.stderr)
    assert report["exit_code"] == code and isinstance(report["error"], str) and report["error"]
    assert proc.stdout == ""


def test_a_tab_in_a_pipe_cell_cannot_shift_columns(repo, cli, artifact):
    cli("register", "m", artifact())
    assert cli("promote", "m@1", "production", "--reason", "a\tb").code == 0
    rows = [line.split("\t") for line in piped(repo, "history", "m").stdout.splitlines()]
    assert {len(row) for row in rows} == {len(rows[0])}


def test_installed_bash_completion_completes_from_the_registry(fleet, isolated_env):
    proc = run_modelreg(fleet, "--install-completion", "bash", env={"SHELL": "/bin/bash"})
    assert proc.returncode == 0, proc.stderr
    bashrc = (isolated_env / ".bashrc").read_text()
    script = re.search(r"source '([^']+)'", bashrc)
    assert script and Path(script[1]).is_file()
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "modelreg").is_file():
        pytest.skip("no modelreg console script beside this python (install modelreg into the venv)")
    shell = subprocess.run(
        [
            "bash",
            "-c",
            f". '{script[1]}' && COMP_WORDS=(modelreg show fraud-detector@c) && COMP_CWORD=2 && "
            "_modelreg_completion modelreg && printf '%s\\n' \"${COMPREPLY[@]}\"",
        ],
        cwd=fleet,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert shell.stdout.split() == ["fraud-detector@champion"]
