"""Writing through a shared remote: atomic pushes, lost races redone, nothing lost or duplicated."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelreg import ConflictError, InvalidInputError, Registry
from modelreg.git import remote as gitremote
from modelreg.git import repo as gitrepo
from modelreg.publish import push as publish
from tests.conftest import git, install_hook, run_modelreg, start_modelreg
from tests.servers import git_daemon

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def daemon_url(remote: Path):
    """The same remote served by `git daemon` on 127.0.0.1 (pushes enabled)."""
    with contextlib.ExitStack() as stack:
        try:
            prefix = stack.enter_context(git_daemon(remote.parent))
        except RuntimeError as exc:
            pytest.skip(str(exc))
        yield f"{prefix}/{remote.name}"


def remote_refs(remote: Path) -> dict[str, str]:
    out = git(remote, "for-each-ref", "--format=%(refname) %(objectname)")
    return dict(line.split(" ")[::-1][::-1] for line in out.splitlines()) if out else {}


def remote_tags(remote: Path) -> list[str]:
    return sorted(git(remote, "tag", "-l").split())


def model_file(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / f"model-{content.hex()[:16]}.bin"
    path.write_bytes(content)
    return path


def test_register_and_promote_with_push(clone, remote, tmp_path):
    a = clone("a")
    Registry.open(a).register("m", model_file(tmp_path, b"one"), push=True)
    assert remote_tags(remote) == ["m@v1"]
    on_remote = git(remote, "show", "main:.modelreg/models/m/v1.yaml")
    assert on_remote == (a / ".modelreg/models/m/v1.yaml").read_text()
    assert git(a, "status", "--porcelain") == ""
    assert git(a, "rev-parse", "main") == git(remote, "rev-parse", "main")
    event = Registry.open(a).promote("m", 1, "production", push=True)
    refs = remote_refs(remote)
    assert refs["refs/tags/m#production#1"] == refs["refs/modelreg/events/m/1"] == event.object


def test_a_lost_race_is_redone_on_top(clone, remote, tmp_path):
    """B loses its first push to A (a pre-push hook registers from A first) and retries as v2."""
    a, b = clone("a"), clone("b")
    other = model_file(tmp_path, b"from a")
    marker = tmp_path / "raced"
    install_hook(
        b,
        "pre-push",
        f"""
if [ ! -e "{marker}" ]; then
  touch "{marker}"
  cd "{a}" && PYTHONPATH="{ROOT}" "{sys.executable}" -m modelreg register m "{other}" --push >/dev/null || exit 2
fi
exit 0
""",
    )
    mv = Registry.open(b).register("m", model_file(tmp_path, b"from b"), push=True)
    assert marker.exists()
    assert mv.version == 2
    assert remote_tags(remote) == ["m@v1", "m@v2"]
    for version in (1, 2):
        commit = git(remote, "rev-parse", f"m@v{version}^{{commit}}").strip()
        git(remote, "cat-file", "-e", f"{commit}:.modelreg/models/m/v{version}.yaml")
        git(remote, "merge-base", "--is-ancestor", commit, "main")


def test_losing_every_attempt_ends_in_a_conflict(clone, tmp_path, monkeypatch):
    a, b = clone("a"), clone("b")
    counter = tmp_path / "n"
    install_hook(
        b,
        "pre-push",
        f"""
n=$(cat "{counter}" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "{counter}"
cd "{a}" && PYTHONPATH="{ROOT}" "{sys.executable}" -m modelreg register m "{tmp_path}/x$n" --push >/dev/null
exit 0
""",
    )
    for n in range(1, 4):
        (tmp_path / f"x{n}").write_bytes(f"x{n}".encode())
    monkeypatch.setattr(publish, "MAX_ATTEMPTS", 2)
    with pytest.raises(ConflictError, match="gave up after 2 attempts"):
        Registry.open(b).register("m", model_file(tmp_path, b"never"), push=True)


@pytest.mark.parametrize("transport", ["file", "git-daemon"])
def test_racing_writers_all_land_without_gaps(clone, remote, tmp_path, transport, request):
    url = request.getfixturevalue("daemon_url") if transport == "git-daemon" else None
    clones = [clone(f"w{i}", url=url) for i in range(3)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "modelreg",
                "register",
                "m",
                str(model_file(tmp_path, f"writer {i}".encode())),
                "--push",
            ],
            cwd=path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, path in enumerate(clones)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert remote_tags(remote) == ["m@v1", "m@v2", "m@v3"]
    tree = git(remote, "ls-tree", "--name-only", "main", ".modelreg/models/m/").split()
    assert tree == [f".modelreg/models/m/v{v}.yaml" for v in (1, 2, 3)]

    for path in clones:
        git(path, "pull", "-q", "--ff-only")
    events = [
        ("promote", "m", "1", "staging"),
        ("alias", "set", "m", "champion", "2"),
        ("promote", "m", "3", "production"),
    ]
    procs = [
        start_modelreg(path, *args, "--push", env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for path, args in zip(clones, events, strict=True)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    claims = sorted(
        int(ref.rsplit("/", 1)[1]) for ref in remote_refs(remote) if ref.startswith("refs/modelreg/events/")
    )
    assert claims == [1, 2, 3]
    versions = sorted(int(ref.rsplit("/", 1)[1]) for ref in remote_refs(remote) if "/modelreg/versions/" in ref)
    assert versions == [1, 2, 3]
    seqs = sorted(int(tag.rsplit("#", 1)[1]) for tag in remote_tags(remote) if "#" in tag)
    assert seqs == [1, 2, 3]
    fresh = clone("fresh")
    run_modelreg(fresh, "fetch")
    listed = json.loads(run_modelreg(fresh, "list", "--json").stdout)
    assert listed == [
        {
            "name": "m",
            "latest": 3,
            "versions": 3,
            "stages": {"staging": 1, "production": 3},
            "aliases": {"champion": 2},
            "warnings": [],
            "retired": None,
            "description": "",
            "tags": {},
        }
    ]
    assert json.loads(run_modelreg(fresh, "verify", "--json").stdout)["ok"] is True


def test_a_writer_killed_before_its_push_leaves_nothing_and_a_rerun_succeeds(clone, remote, tmp_path):
    a = clone("a")
    before = remote_refs(remote)
    # The hook kills modelreg (the parent of `git push`) and refuses the push: the writer dies right there.
    install_hook(a, "pre-push", 'kill -9 "$(cut -d" " -f4 /proc/$PPID/stat)"; exit 1\n')
    path = model_file(tmp_path, b"weights")
    proc = run_modelreg(a, "register", "m", str(path), "--push", check=False)
    assert proc.returncode == -9
    assert remote_refs(remote) == before
    assert git(a, "tag", "-l") == ""  # nothing to clean up locally either
    (a / ".git/hooks/pre-push").unlink()
    assert run_modelreg(a, "register", "m", str(path), "--push", "--json").returncode == 0
    assert remote_tags(remote) == ["m@v1"]


def test_ci_on_a_detached_head_commits_to_a_named_branch(clone, remote, tmp_path):
    ci = clone("ci")
    git(ci, "checkout", "-q", "--detach")
    path = model_file(tmp_path, b"ci weights")
    refused = run_modelreg(ci, "register", "m", str(path), "--push", check=False)
    assert refused.returncode == 1 and "--branch" in refused.stderr
    run_modelreg(ci, "register", "m", str(path), "--push", "--branch", "main")
    assert remote_tags(remote) == ["m@v1"]
    git(remote, "cat-file", "-e", "main:.modelreg/models/m/v1.yaml")
    assert git(ci, "rev-parse", "--abbrev-ref", "HEAD").strip() == "HEAD"  # still detached, untouched


def test_unpushed_commits_are_not_pushed_behind_the_users_back(clone, remote, tmp_path):
    a = clone("a")
    (a / "notes.txt").write_text("wip\n")
    git(a, "add", "notes.txt")
    git(a, "commit", "-q", "-m", "local work")
    before = remote_refs(remote)
    proc = run_modelreg(a, "register", "m", str(model_file(tmp_path, b"w")), "--push", check=False)
    assert proc.returncode == 1
    assert "has commits that origin does not" in proc.stderr
    assert remote_refs(remote) == before


def test_fetch_reports_tags_moved_or_deleted_on_the_remote(clone, remote, tmp_path):
    a, b = clone("a"), clone("b")
    run_modelreg(a, "register", "m", str(model_file(tmp_path, b"one")), "--push")
    run_modelreg(a, "register", "m", str(model_file(tmp_path, b"two")), "--push")
    run_modelreg(a, "promote", "m", "1", "production", "--push")
    assert run_modelreg(b, "fetch").stdout.startswith("Up to date with origin")
    assert json.loads(run_modelreg(b, "resolve", "m/production", "--json").stdout)["version"] == 1

    # Someone moves the production tag on the remote to v2 by hand, and deletes v2's version tag.
    target = git(remote, "rev-parse", "m@v2^{commit}").strip()
    body = git(remote, "tag", "-l", "--format=%(contents)", "m#production#1")
    git(remote, "tag", "-f", "-a", "-m", body, "m#production#1", target)
    git(remote, "tag", "-d", "m@v2")
    proc = run_modelreg(b, "fetch", "--json", check=False)
    assert proc.returncode == 4
    report = json.loads(proc.stdout)
    # The moved tag is reported, not taken: its claim ref decides (DESIGN §10); the deleted one is a problem.
    assert any(w.startswith("m#production#1 points at") and "moved" in w for w in report["warnings"])
    assert any(p.startswith("m@v2 is here but not on origin") for p in report["problems"])
    assert not any("m#production#1" in p for p in report["problems"])
    stale = run_modelreg(b, "resolve", "m/production", "--fetch", check=False)
    assert stale.returncode == 4


def test_a_shallow_tagless_clone_catches_up_with_fetch(clone, remote, tmp_path):
    a = clone("a")
    run_modelreg(a, "register", "m", str(model_file(tmp_path, b"one")), "--push")
    run_modelreg(a, "promote", "m", "1", "production", "--push")
    run_modelreg(a, "register", "m", str(model_file(tmp_path, b"two")), "--push")
    ci = clone("ci", "--depth=1", "--no-tags", "--no-local")
    assert run_modelreg(ci, "resolve", "m/production", check=False).returncode == 1
    proc = run_modelreg(ci, "resolve", "m/production", "--fetch", "--json")
    assert json.loads(proc.stdout)["version"] == 1
    pulled = Path(run_modelreg(ci, "pull", "m/production", "-o", str(tmp_path / "serve")).stdout.strip())
    assert pulled.read_bytes() == b"one"


def test_reading_a_registry_by_url_without_a_clone(clone, remote, tmp_path, isolated_env):
    a = clone("a")
    for content in (b"one", b"two"):
        run_modelreg(a, "register", "m", str(model_file(tmp_path, content)), "--push")
    run_modelreg(a, "register", "other", str(model_file(tmp_path, b"other")), "--push")
    run_modelreg(a, "promote", "m", "1", "production", "--push")
    run_modelreg(a, "alias", "set", "m", "champion", "2", "--push")
    run_modelreg(a, "update", "m", "2", "--description", "edited later", "--push")
    git(remote, "config", "uploadpack.allowFilter", "true")  # as hosting services allow
    url = f"file://{remote}"
    server = tmp_path / "serving-host"
    server.mkdir()  # not a git repository

    resolved = json.loads(run_modelreg(server, "resolve", "m/production", "--repo", url, "--json").stdout)
    assert (resolved["name"], resolved["version"], resolved["stage"]) == ("m", 1, "production")
    shown = json.loads(run_modelreg(server, "show", "m@champion", "--repo", url, "--json").stdout)
    assert (shown["version"], shown["description"]) == (2, "edited later")
    pulled = Path(run_modelreg(server, "pull", "m@champion", "-o", str(server / "model"), "--repo", url).stdout.strip())
    assert pulled.read_bytes() == b"two"
    history = json.loads(run_modelreg(server, "history", "m", "--repo", url, "--json").stdout)
    assert [e["action"] for e in history] == ["register", "register", "assign", "assign", "update"]  # as it happened
    check = json.loads(run_modelreg(server, "check-ref", "m#production#1", "--repo", url).stdout)
    assert (check["version"], check["current"]) == (1, True)
    listed = json.loads(run_modelreg(server, "list", "--repo", url, "--json").stdout)
    assert [m["name"] for m in listed] == ["m", "other"]

    # The cache holds no history and only the blobs that were read.
    cache = next((isolated_env / ".cache" / "modelreg" / "repos").iterdir())
    assert (cache / "shallow").exists()
    objects = git(cache, "cat-file", "--batch-all-objects", "--batch-check=%(objecttype)").split()
    assert objects.count("blob") <= 8
    refused = run_modelreg(server, "promote", "m", "2", "production", check=False)
    assert refused.returncode == 1 and "not inside a git repository" in refused.stderr
    with pytest.raises(InvalidInputError, match="read-only"):
        Registry.open_url(url, "m").promote("m", 2, "production")


def test_a_repeated_read_by_url_fetches_only_when_the_remote_changed(clone, remote, tmp_path, monkeypatch):
    a = clone("a")
    run_modelreg(a, "register", "m", str(model_file(tmp_path, b"one")), "--push")
    run_modelreg(a, "promote", "m", "1", "production", "--push")
    git(remote, "config", "uploadpack.allowFilter", "true")
    url = f"file://{remote}"
    asked: list[str] = []
    real = gitrepo.run_git

    def spy(args, *rest, **kw):  # real git, only observed
        asked.append(args[0])
        return real(args, *rest, **kw)

    real_raw = gitremote.run_git_raw

    def spy_raw(args, *rest, **kw):  # the mirror's fetch, which reads git's whole report
        asked.append(args[0])
        return real_raw(args, *rest, **kw)

    monkeypatch.setattr(gitrepo, "run_git", spy)
    monkeypatch.setattr(gitremote, "run_git_raw", spy_raw)
    assert Registry.open_url(url, "m").resolve("m/production").version == 1
    assert "fetch" in asked
    asked.clear()
    assert Registry.open_url(url, "m").resolve("m/production").version == 1
    assert "fetch" not in asked and "ls-remote" not in asked  # one ls-refs request for m's ref prefixes (lsrefs)
    run_modelreg(a, "register", "m", str(model_file(tmp_path, b"two")), "--push")
    run_modelreg(a, "promote", "m", "2", "production", "--push")
    asked.clear()
    assert Registry.open_url(url, "m").resolve("m/production").version == 2
    assert "fetch" in asked
    # another model's event (no commit on the branch) does not make m's view fetch again
    run_modelreg(a, "register", "other", str(model_file(tmp_path, b"x")), "--push")
    Registry.open_url(url, "m")
    run_modelreg(a, "promote", "other", "1", "staging", "--push")
    asked.clear()
    assert Registry.open_url(url, "m").resolve("m/production").version == 2
    assert "fetch" not in asked


def test_a_clone_that_may_be_behind_says_so(clone, tmp_path):
    a, b = clone("a"), clone("b")
    run_modelreg(a, "register", "m", str(model_file(tmp_path, b"one")), "--push")
    proc = run_modelreg(b, "resolve", "m", check=False)
    assert proc.returncode == 1
    assert "may be behind its remote: try again with --fetch" in proc.stderr
    assert json.loads(run_modelreg(b, "resolve", "m", "--fetch", "--json").stdout)["version"] == 1


def test_local_only_events_are_never_pushed_or_skipped_over(clone, remote, tmp_path):
    a = clone("a")
    run_modelreg(a, "register", "m", str(model_file(tmp_path, b"one")), "--push")
    run_modelreg(a, "promote", "m", "1", "staging")  # local only
    before = remote_refs(remote)
    proc = run_modelreg(a, "promote", "m", "1", "production", "--push", check=False)
    assert proc.returncode == 1
    assert "m#staging#1 is here but not on origin" in proc.stderr and "git push origin" in proc.stderr
    assert remote_refs(remote) == before


def test_a_server_refusal_is_not_mistaken_for_a_lost_race(clone, remote, tmp_path):
    a = clone("a")
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'main is protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    proc = run_modelreg(a, "register", "m", str(model_file(tmp_path, b"one")), "--push", check=False)
    assert proc.returncode == 1
    assert "was refused" in proc.stderr and "hook declined" in proc.stderr


def test_a_tag_moved_on_the_remote_does_not_stop_a_write_nor_get_taken(clone, remote, tmp_path):
    a = clone("a")
    run_modelreg(a, "register", "m", str(model_file(tmp_path, b"one")), "--push")
    run_modelreg(a, "register", "m", str(model_file(tmp_path, b"two")), "--push")
    run_modelreg(a, "promote", "m", "1", "staging", "--push")
    original = git(a, "rev-parse", "m#staging#1").strip()
    body = git(remote, "tag", "-l", "--format=%(contents)", "m#staging#1")
    git(remote, "tag", "-f", "-a", "-m", body, "m#staging#1", git(remote, "rev-parse", "m@v2^{commit}").strip())
    # The claim ref is the event (DESIGN §10): the moved tag neither blocks the write nor replaces ours.
    run_modelreg(a, "promote", "m", "2", "production", "--push")
    assert git(a, "rev-parse", "m#staging#1").strip() == original
    assert "m#production#2" in remote_tags(remote)


def test_update_in_a_stale_clone_keeps_what_others_pushed(clone, remote, tmp_path):
    a = clone("a")
    run_modelreg(a, "register", "m", str(model_file(tmp_path, b"one")), "--push")
    b = clone("b")
    run_modelreg(a, "update", "m", "1", "--description", "from a", "--push")
    run_modelreg(b, "update", "m", "1", "--tag", "owner=b", "--push")  # b has not pulled a's update
    fresh = clone("fresh")
    run_modelreg(fresh, "fetch")
    shown = json.loads(run_modelreg(fresh, "show", "m@1", "--json").stdout)
    assert (shown["description"], shown["tags"]) == ("from a", {"owner": "b"})
