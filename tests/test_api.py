"""The Python API does what the CLI does, with typed results."""

from __future__ import annotations

import subprocess

import pytest

import modelreg
from modelreg.git import process as gitprocess
from modelreg.publish import push as publish
from modelreg.read import seeded
from tests.conftest import git, install_hook, make_repo


def test_the_whole_lifecycle_from_python(tmp_path, artifact):
    repo = make_repo(tmp_path / "repo")
    modelreg.Registry.init(repo)
    reg = modelreg.Registry.open(repo)
    v1 = reg.register("fraud-detector", artifact(content=b"one"), metrics={"auc": 0.91})
    v2 = reg.register("fraud-detector", artifact(content=b"two"), metrics={"auc": 0.93}, params={"depth": 6})
    assert (v1.version, v2.version) == (1, 2)
    assert isinstance(v2, modelreg.ModelVersion) and v2.manifest.params == {"depth": 6}

    event = reg.promote("fraud-detector", 2, "production", reason="better")
    assert isinstance(event, modelreg.Event)
    assert (event.seq, event.tag, event.reason) == (1, "fraud-detector#production#1", "better")
    reg.set_alias("fraud-detector", "champion", 1)

    resolved = reg.resolve("models:/fraud-detector/Production")
    assert (resolved.version, resolved.stage, resolved.digest) == (2, "production", v2.digest)
    assert reg.resolve("fraud-detector@champion").version == 1
    assert [m.name for m in reg.models()] == ["fraud-detector"]
    assert [e.action for e in reg.history("fraud-detector")] == ["register", "register", "assign", "assign"]
    assert reg.diff("fraud-detector", 1, 2).metrics[0].delta == pytest.approx(0.02)
    assert reg.check_ref("fraud-detector#production#1").current is True

    rolled = reg.rollback("fraud-detector", to=1)
    assert rolled.action == "rollback" and reg.state("fraud-detector").stage_holder("production") == 1

    path = modelreg.pull("fraud-detector/production", tmp_path / "serving", repo=repo)
    assert path.read_bytes() == b"one"
    updated = reg.update("fraud-detector", 1, description="back in service")
    assert updated.manifest.description == "back in service" and updated.commit is not None
    assert reg.update("fraud-detector", 1, description="back in service").commit is None


def test_the_cli_exits_with_the_code_the_api_error_carries(repo, cli, artifact, tmp_path):
    """Real failures, raised by the API and turned into exit codes by the CLI (DESIGN §8)."""
    assert cli("register", "m", artifact()).code == modelreg.ExitCode.OK == 0
    reg = modelreg.Registry.open(repo)
    assert reg.resolve("m@v1").version == 1 and cli("resolve", "m@v1").code == 0
    cases = [
        (lambda: reg.resolve("m@v9"), ["resolve", "m@v9"], modelreg.NotFoundError, 1),
        (
            lambda: reg.promote("m", 1, "no-such-stage"),
            ["promote", "m", "1", "no-such-stage"],
            modelreg.InvalidInputError,
            1,
        ),
    ]
    # a hand-made event tag without its claim ref does not verify
    commit = subprocess.run(["git", "rev-parse", "m@v1^{commit}"], cwd=repo, capture_output=True, text=True).stdout
    body = '{"modelreg": 1, "action": "assign", "kind": "stage", "target": "staging", "version": 1, "archived": []}'
    subprocess.run(
        ["git", "tag", "-a", "-m", f"m v1 → staging\n\n{body}", "m#staging#5", commit.strip()], cwd=repo, check=True
    )
    cases.append((lambda: reg.check_ref("m#staging#5"), ["check-ref", "m#staging#5"], modelreg.IntegrityError, 4))
    for call, args, error, code in cases:
        with pytest.raises(error) as info:
            call()
        assert info.value.exit_code == code
        result = cli(*args)
        assert result.code == code, (args, result.err)
        assert result.err.splitlines()[-1] == f"error: {info.value}"
    with pytest.raises(modelreg.InvalidInputError) as outside:
        modelreg.Registry.open(tmp_path)
    assert outside.value.exit_code == modelreg.ExitCode.ERROR


def test_a_push_that_keeps_losing_exits_with_the_conflict_code(clone, remote, cli, artifact, monkeypatch):
    """Another clone pushes to main during every one of our pushes: ConflictError, exit 3, nothing on the remote."""
    other, ours = clone("other"), clone("ours")
    install_hook(
        ours,
        "pre-push",
        f"""
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
cd "{other}" && git commit -q --allow-empty -m "meanwhile" && git push -q origin main || exit 2
exit 0
""",
    )
    monkeypatch.setattr(publish, "MAX_ATTEMPTS", 2)  # the in-process CLI gives up as soon as the API does
    before = git(remote, "for-each-ref")
    with pytest.raises(modelreg.ConflictError, match="gave up after 2 attempts") as info:
        modelreg.Registry.open(ours).register("m", artifact(), push=True)
    assert info.value.exit_code == 3
    monkeypatch.chdir(ours)
    result = cli("register", "m", artifact(), "--push")
    assert result.code == info.value.exit_code, result.err
    assert result.err.splitlines()[-1] == f"error: {info.value}"
    after = git(remote, "for-each-ref")
    assert "refs/tags/" not in before + after and before != after  # the other clone's pushes landed; ours never
    assert git(remote, "log", "-1", "--format=%s", "main").strip() == "meanwhile"


@pytest.fixture
def git_calls(monkeypatch):
    """The argv of every git process modelreg runs (through git/process.py) from here on."""
    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(args, *a, **kw):
        calls.append(list(args))
        return real_run(args, *a, **kw)

    monkeypatch.setattr(gitprocess.subprocess, "run", counting_run)
    return calls


@pytest.mark.parametrize("versions", [2, 6])
def test_reading_state_costs_one_for_each_ref(repo, cli, artifact, git_calls, versions, monkeypatch):
    """Whatever the number of tags: one listing of ref ids; only new refs' messages are read."""
    for n in range(versions):
        cli("register", "m", artifact(content=str(n).encode()))
        cli("promote", "m", str(n + 1), "production")
        cli("alias", "set", "m", "champion", str(n + 1))
    calls = git_calls
    reg = modelreg.Registry.open(repo)
    reg.state("m")
    reg.models()
    calls.clear()
    reg.state("m")  # warm: the tag set is the one just read
    reg.models()
    assert [c[1] for c in calls] == ["for-each-ref", "for-each-ref"]
    assert all("%(contents" not in " ".join(c) for c in calls)
    calls.clear()
    reg.resolve("m/production")
    # Resolving reads no snapshot: names and ids, then only the tags that decide (read/lean), whatever the history.
    # A handful of calls, the same for 2 and 6 versions: one listing of names and ids, then exactly named refs.
    # The manifest may cost nothing: the registration that committed it kept it by its commit (GitRepo.keep_built).
    assert len(calls) <= 9 and [c[1] for c in calls][:2] in (["for-each-ref", "cat-file"], ["for-each-ref"])
    assert all("*" not in arg for c in calls if "%(contents" in " ".join(c) for arg in c[3:])
    monkeypatch.setattr(seeded, "_MATCHED", set())  # as in a new process: the write's tags are not kept for reads
    cli("alias", "set", "m", "challenger", "1")
    calls.clear()
    reg.state("m")  # only the new tag and its claim ref are read
    assert [c[1] for c in calls] == ["for-each-ref", "for-each-ref"]
    assert calls[1][-2:] == [f"refs/modelreg/events/m/{2 * versions + 1}", f"refs/tags/m#challenger#{2 * versions + 1}"]
    git(repo, "tag", "-a", "-m", "by hand", "m#staging#77", "m@v1")
    calls.clear()
    reg.state("m")  # a tag made behind modelreg's back: one more full read
    assert [c[1] for c in calls] == ["for-each-ref", "for-each-ref"]
    assert "%(contents" in " ".join(calls[1])


def test_a_first_read_lists_claim_refs_by_id_without_their_messages(
    repo, cli, artifact, monkeypatch, tmp_path, git_calls
):
    """A claim ref names its tag object: a first read must not read (and parse) every message a second time."""
    cli("register", "m", artifact())
    cli("promote", "m", "1", "production")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    calls = git_calls
    calls.clear()
    state = modelreg.Registry.open(repo).state("m")
    assert state.stage_holder("production") == 1
    with_messages = [c for c in calls if c[1] == "for-each-ref" and "%(contents" in " ".join(c)]
    assert with_messages and all(arg.startswith("refs/tags/") for c in with_messages for arg in c[3:])
    by_id = [c for c in calls if c[1] == "for-each-ref" and any(a.startswith("refs/modelreg/") for a in c[3:])]
    assert by_id and all(c[2] == "--format=%(refname) %(objectname)" for c in by_id)


def test_a_claimed_seq_is_never_reused(repo, cli, artifact):
    """A claim ref left by another writer (whose tag we do not have) pushes our seq past it."""
    cli("register", "m", artifact())
    reg = modelreg.Registry.open(repo)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    subprocess.run(["git", "update-ref", "refs/modelreg/events/m/1", commit], cwd=repo, check=True)
    assert reg.promote("m", 1, "staging").seq == 2


def test_a_tag_that_is_ours_by_name_but_malformed_is_reported_not_applied(repo, cli, artifact):
    cli("register", "m", artifact())
    subprocess.run(["git", "tag", "m#production#1"], cwd=repo, check=True)  # lightweight: not an event
    reg = modelreg.Registry.open(repo)
    assert reg.state("m").stage_holder("production") is None
    assert any("lightweight" in p for p in reg.problems("m"))
    assert reg.promote("m", 1, "production").seq == 2  # the malformed tag's seq stays taken
