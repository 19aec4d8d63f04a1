"""Bad input: one line on stderr, a non-zero exit (DESIGN §8), and nothing written."""

from __future__ import annotations

import pytest

from modelreg.formats.config import from_yaml
from tests.conftest import git, make_repo, repo_state


def assert_refused(result, code, *fragments):
    assert result.code == code, (result.code, result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    assert "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in result.err, (fragment, result.err)
    assert result.out == ""


@pytest.fixture
def registered(repo, cli, artifact):
    assert cli("register", "m", artifact()).code == 0
    assert cli("register", "m", artifact(content=b"two")).code == 0
    return repo


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("../x", "cannot contain '/' or ':'"),
        ("a:b", "cannot contain '/' or ':'"),
        ("..", "invalid model name"),
        ("", "model name is empty"),
        ("   ", "model name is empty"),
        ("a" * 257, "longer than 256"),
        ("A" * 100, "too long for git refs"),
        ("x\trm", "invalid model name"),
    ],
)
def test_invalid_model_names_write_nothing(repo, cli, artifact, name, fragment):
    path = artifact()
    before = repo_state(repo)
    assert_refused(cli("register", "--", name, path), 1, fragment)
    assert repo_state(repo) == before


@pytest.mark.parametrize("name", ["A B", "$(id)", "x;rm", "-x", "x@y"])
def test_names_a_shell_or_git_would_misread_are_kept_exactly_under_a_safe_key(repo, cli, artifact, name):
    assert cli("register", "--", name, artifact()).code == 0
    tags = git(repo, "tag").split()
    assert len(tags) == 1 and all(c.isalnum() or c in "+._-@" for c in tags[0]) and tags[0].endswith("@v1")
    shown = cli("list", "--json")
    assert name in shown.out


@pytest.mark.parametrize("alias", ["v12", "12", "production", "latest", "Champion", "a/b"])
def test_invalid_aliases(registered, cli, alias):
    before = repo_state(registered)
    assert_refused(cli("alias", "set", "m", alias, "1"), 1, "alias")
    assert repo_state(registered) == before


def test_missing_and_empty_paths(repo, cli, tmp_path):
    before = repo_state(repo)
    assert_refused(cli("register", "m", tmp_path / "nope"), 1, "does not exist")
    (tmp_path / "empty-dir").mkdir()
    assert_refused(cli("register", "m", tmp_path / "empty-dir"), 1, "empty directory")
    (tmp_path / "empty.bin").write_bytes(b"")
    assert_refused(cli("register", "m", tmp_path / "empty.bin"), 1, "empty file")
    assert repo_state(repo) == before


@pytest.mark.parametrize("option", ["--param", "--metric", "--tag"])
def test_key_value_without_equals(repo, cli, artifact, option):
    path = artifact()
    before = repo_state(repo)
    assert_refused(cli("register", "m", path, option, "novalue"), 1, "expected KEY=VALUE")
    assert repo_state(repo) == before


def test_not_inside_a_git_repository(tmp_path, cli, monkeypatch, artifact):
    path = artifact()
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.chdir(outside)
    assert_refused(cli("register", "m", path), 1, "not inside a git repository")
    assert_refused(cli("list"), 1, "not inside a git repository")
    assert_refused(cli("init"), 1, "not inside a git repository")


def test_a_repository_without_a_registry(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(make_repo(tmp_path / "r"))
    assert_refused(cli("list"), 1, "modelreg init")


def test_init_twice(repo, cli):
    assert_refused(cli("init"), 1, "already exists")


def test_credentials_in_the_store_url_are_refused(tmp_path, cli, monkeypatch, artifact):
    repo = make_repo(tmp_path / "r")
    monkeypatch.chdir(repo)
    before = repo_state(repo)
    assert_refused(cli("init", "--store", "s3://AKIAX:secret@bucket/reg"), 1, "credentials")
    assert repo_state(repo) == before
    cli("init")
    before = repo_state(repo)
    assert_refused(cli("register", "m", artifact(), "--store", "https://u:p@host/reg"), 1, "credentials")
    assert repo_state(repo) == before


def test_no_git_identity(repo, cli, artifact, monkeypatch):
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var)
    # Without this, git may guess an address from the host name on some machines.
    git(repo, "config", "user.useConfigOnly", "true")
    path = artifact()
    before = repo_state(repo)
    assert_refused(cli("register", "m", path), 1, "git has no identity", "git config user.name")
    assert repo_state(repo) == before


def test_detached_head_on_register(repo, cli, artifact):
    git(repo, "checkout", "-q", "--detach")
    path = artifact()
    before = repo_state(repo)
    assert_refused(cli("register", "m", path), 1, "detached")
    assert repo_state(repo) == before


def test_unknown_model_version_stage_alias(registered, cli):
    before = repo_state(registered)
    assert_refused(cli("promote", "nope", "1", "production"), 1, "no model named 'nope'")
    assert_refused(cli("promote", "m", "9", "production"), 1, "has no version 9", "latest is v2")
    assert_refused(cli("promote", "m", "1", "prod"), 1, "unknown stage 'prod'", "staging, production, archived")
    assert_refused(cli("promote", "m", "x1", "production"), 1, "invalid version")
    assert_refused(cli("alias", "rm", "m", "champion"), 1, "no alias 'champion'")
    assert_refused(cli("resolve", "m@champion"), 1, "no alias 'champion'")
    assert_refused(cli("resolve", "m/production"), 1, "no version of m is in stage 'production'")
    assert_refused(cli("resolve", "m/prod"), 1, "unknown stage")
    assert_refused(cli("resolve", "m@production"), 1, "is a stage, not an alias")
    assert_refused(cli("show", "m@@"), 1, "invalid reference")
    assert_refused(cli("history", "nope"), 1, "no model named")
    assert_refused(cli("diff", "m", "1", "7"), 1, "has no version 7")
    assert_refused(cli("update", "m", "1"), 1, "nothing to update")
    assert_refused(cli("update", "m", "1", "--remove-tag", "x"), 1, "has no tag 'x'")
    assert_refused(cli("check-ref", "release-1.0"), 1, "not a modelreg tag")
    assert_refused(cli("check-ref", "m#production#9"), 1, "does not exist")
    assert repo_state(registered) == before


def test_promote_to_the_stage_it_already_has(registered, cli):
    cli("promote", "m", "1", "production")
    before = repo_state(registered)
    assert_refused(cli("promote", "m", "1", "production"), 1, "already in stage 'production'")
    assert repo_state(registered) == before


def test_rollback_without_an_earlier_holder(registered, cli):
    before = repo_state(registered)
    assert_refused(cli("rollback", "m"), 1, "no version holds stage 'production'")
    cli("promote", "m", "2", "production")
    before = repo_state(registered)
    assert_refused(cli("rollback", "m"), 1, "no version held stage 'production' before v2")
    assert_refused(cli("rollback", "m", "--stage", "production", "--alias", "champion"), 1, "not both")
    assert repo_state(registered) == before


def test_a_hand_edited_manifest_that_no_longer_parses(registered, cli):
    path = registered / ".modelreg/models/m/v1.yaml"
    path.write_text(path.read_text() + "name: duplicate\n")
    assert_refused(cli("show", "m@1"), 1, ".modelreg/models/m/v1.yaml", "duplicate key 'name'")
    path.write_text("schema: modelreg/manifest/v1\nname: m\nversion: 1.10\n")
    assert_refused(cli("show", "m@1"), 1, ".modelreg/models/m/v1.yaml", "'version'")


def test_a_broken_config_names_the_file_and_key(registered, cli):
    config = registered / ".modelreg/config.yaml"
    config.write_text(config.read_text().replace("- staging", "- 1.10"))
    assert_refused(cli("list"), 1, ".modelreg/config.yaml", "'stages'", "1.1")
    # `no` is read as the string it looks like, never as False (YAML 1.1's trap)
    config.write_text(config.read_text().replace("- 1.10", "- no"))
    assert cli("list", "--json").code == 0
    assert "no" in from_yaml(config.read_text(), "config.yaml").stages


def test_usage_errors_exit_2(repo, cli):
    result = cli("promote", "m")
    assert result.code == 2
    assert "Missing argument" in result.err
