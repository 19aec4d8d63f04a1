"""Fetching refs: one glob `git fetch`, and the registry's rules (the claim ref is the version) judging tags.

Real repositories, bare remotes and `git daemon` on 127.0.0.1; git is observed, never replaced.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modelreg import Registry
from modelreg.errors import GitError
from modelreg.git import remote as gitremote
from modelreg.git import repo as gitrepo
from tests.conftest import git, run_modelreg
from tests.servers import git_daemon


def model_file(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / f"model-{content.hex()[:16]}.bin"
    path.write_bytes(content)
    return path


def resolved(path: Path, ref: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(run_modelreg(path, "resolve", ref, "--json").stdout)
    return result


def move_tag_on_remote(remote: Path, tag: str, onto: str) -> None:
    """What `git tag -f -a TAG` and a forced push do: the same name, another tag object (on another commit)."""
    body = git(remote, "tag", "-l", "--format=%(contents)", tag)
    git(remote, "tag", "-f", "-a", "-m", body, tag, git(remote, "rev-parse", f"{onto}^{{commit}}").strip())


def test_a_fresh_clone_fetches_every_claim_ref_in_one_glob_fetch(clone, remote, tmp_path, monkeypatch):
    a = clone("a")
    reg = Registry.open(a)
    for n in range(3):
        reg.register("m", model_file(tmp_path, b"w%d" % n), push=True)
    for n in range(12):
        reg.set_alias("m", "champion", 1 + n % 3, push=True)
    fresh = clone("fresh")
    fetches: list[str] = []  # the refspecs of every `git fetch`, however it is run

    def watch(args: list[str], stdin: Any) -> None:
        if args[0] == "fetch":
            text = stdin.decode() if isinstance(stdin, bytes) else stdin or ""
            fetches.append("\n".join([*(a for a in args if ":" in a), *text.split()]))

    real, real_raw = gitrepo.run_git, gitremote.run_git_raw

    def spy(args: list[str], *rest: Any, **kw: Any) -> str:
        watch(args, kw.get("stdin", rest[1] if len(rest) > 1 else None))
        return real(args, *rest, **kw)

    def spy_raw(args: list[str], *rest: Any, **kw: Any) -> Any:
        watch(args, kw.get("stdin", rest[1] if len(rest) > 1 else None))
        return real_raw(args, *rest, **kw)

    monkeypatch.setattr(gitrepo, "run_git", spy)
    monkeypatch.setattr(gitremote, "run_git_raw", spy_raw)
    report = Registry.open(fresh).fetch()
    assert report.problems == () and report.warnings == ()
    assert len(fetches) == 1
    refspecs = fetches[0].split("\n")
    # 12 event claims and 3 version claims arrived, but git was handed a few globs, not one refspec per ref.
    assert all("*" in spec for spec in refspecs if spec.startswith("refs/")), refspecs
    claims = git(fresh, "for-each-ref", "--format=%(refname)", "refs/modelreg/").split()
    assert len(claims) == 12 + 3
    assert resolved(fresh, "m@champion")["version"] == 3


def test_a_tag_moved_on_the_remote_is_reported_but_blocks_no_other_ref(clone, remote, tmp_path):
    a, b = clone("a"), clone("b")
    run_modelreg(a, "register", "m", str(model_file(tmp_path, b"one")), "--push")
    run_modelreg(a, "promote", "m", "1", "production", "--push")
    git(a, "tag", "-a", "-m", "the project's own", "nightly")
    git(a, "push", "-q", "origin", "nightly")
    run_modelreg(b, "fetch")
    git(b, "fetch", "-q", "origin", "refs/tags/nightly:refs/tags/nightly")
    nightly = git(b, "rev-parse", "nightly").strip()
    run_modelreg(a, "register", "m", str(model_file(tmp_path, b"two")), "--push")
    move_tag_on_remote(remote, "m@v1", "m@v2")
    move_tag_on_remote(remote, "nightly", "m@v2")  # none of modelreg's business: left alone, not reported
    run_modelreg(a, "promote", "m", "2", "staging", "--push")
    ours = git(b, "rev-parse", "m@v1").strip()

    proc = run_modelreg(b, "fetch", "--json", check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["problems"] == []
    assert any(w.startswith("m@v1 points at") and "not taken" in w for w in report["warnings"])
    assert git(b, "rev-parse", "m@v1").strip() == ours  # the moved tag is not taken
    assert git(b, "rev-parse", "nightly").strip() == nightly and "nightly" not in proc.stdout
    # ... and everything after it arrived: v2, its claim, the staging event
    assert resolved(b, "m/staging")["version"] == 2
    assert resolved(b, "m/production")["version"] == 1
    plain = run_modelreg(b, "fetch")
    assert "warning: m@v1 points at" in plain.stderr and plain.stdout.startswith("Up to date")


def test_a_force_moved_version_tag_does_not_split_the_fleet(clone, remote, tmp_path):
    a = clone("a")
    for n in range(7):
        run_modelreg(a, "register", "m", str(model_file(tmp_path, b"weights %d" % n)), "--push")
    run_modelreg(a, "promote", "m", "5", "production", "--push")
    run_modelreg(a, "promote", "m", "7", "production", "--push")
    old = clone("old")
    run_modelreg(old, "fetch")
    served = resolved(old, "m/production")
    assert served["version"] == 7

    # `git tag -f -a m@v7 …` onto another commit, pushed with force.
    move_tag_on_remote(remote, "m@v7", "m@v5")
    fresh = clone("fresh")  # the clone itself takes the moved tag
    fetched = run_modelreg(fresh, "fetch", "--json", check=False)
    assert fetched.returncode == 0, fetched.stderr
    assert any(w.startswith("m@v7 is not the tag object") for w in json.loads(fetched.stdout)["warnings"])
    again = run_modelreg(old, "fetch", "--json", check=False)
    assert again.returncode == 0 and any(w.startswith("m@v7 points at") for w in json.loads(again.stdout)["warnings"])

    # Every reader serves the same version, the one the claim names.
    for reader in (old, fresh):
        now = resolved(reader, "m/production")
        assert (now["version"], now["digest"]) == (7, served["digest"])
        assert resolved(reader, "m@v7")["digest"] == served["digest"]
    by_url = Registry.open_url(f"file://{remote}", "m").resolve("m/production")
    assert (by_url.version, by_url.digest) == (7, served["digest"])

    # The moved tag itself is reported: check-ref refuses it, verify names it, reads warn.
    checked = run_modelreg(fresh, "check-ref", "m@v7", check=False)
    assert checked.returncode == 4 and "moved after refs/modelreg/versions/m/7 claimed it" in checked.stderr
    verified = run_modelreg(fresh, "verify", "--json", check=False)
    assert verified.returncode == 4 and "m@v7" in verified.stdout and "moved" in verified.stdout
    assert "m@v7" in run_modelreg(fresh, "resolve", "m/production").stderr


def test_a_clone_without_claim_refs_gets_one_line_saying_what_to_fetch(clone, remote, tmp_path):
    a = clone("a")
    reg = Registry.open(a)
    for n in range(4):
        reg.register("m", model_file(tmp_path, b"w%d" % n), push=True)
    for n in range(4):
        reg.promote("m", 1 + n, "staging", push=True)
    plain = clone("plain")  # `git clone`: the tags, none of refs/modelreg/*
    proc = run_modelreg(plain, "resolve", "m", check=False)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) <= 2, lines  # the one warning, and the error
    (warning,) = [line for line in lines if line.startswith("warning:")]
    assert "8 tags of m" in warning and "modelreg fetch" in warning and "refs/modelreg/" in warning
    run_modelreg(plain, "fetch")
    assert resolved(plain, "m/staging")["version"] == 4


def test_a_hand_made_tag_seen_once_then_replaced_does_not_wedge_sync(clone, remote, tmp_path):
    a = clone("a")
    run_modelreg(a, "register", "m", str(model_file(tmp_path, b"one")), "--push")
    run_modelreg(a, "register", "m", str(model_file(tmp_path, b"two")), "--push")
    run_modelreg(a, "promote", "m", "1", "production", "--push")  # seq 1
    # Someone pushes a hand-made m#production#2 (no claim ref): readers ignore it, as they should.
    git(a, "tag", "-a", "-m", "by hand", "m#production#2", "m@v2^{commit}")
    git(a, "push", "-q", "origin", "m#production#2")
    dest = tmp_path / "served"
    with git_daemon(tmp_path) as prefix:
        url = f"{prefix}/remote.git"
        sync = ("sync", "m/production", "--dest", str(dest), "--repo", url, "--once", "--json")
        run_modelreg(tmp_path, *sync)
        assert (dest / "current").resolve().name.startswith("m-v1-")
        # It is deleted, and a real promote takes seq 2 under the same name.
        git(a, "push", "-q", "origin", ":refs/tags/m#production#2")
        git(a, "tag", "-d", "m#production#2")
        run_modelreg(a, "promote", "m", "2", "production", "--push")
        proc = run_modelreg(tmp_path, *sync, check=False)
        assert proc.returncode == 0, proc.stderr
        assert (dest / "current").resolve().name.startswith("m-v2-")
        assert Registry.open_url(url, "m").resolve("m/production").version == 2


def test_a_failed_mirror_fetch_says_what_happened_not_gits_last_warning(tmp_path):
    (tmp_path / "other.git").mkdir()
    git(tmp_path / "other.git", "init", "-q", "--bare")
    with git_daemon(tmp_path) as prefix, pytest.raises(GitError) as caught:
        Registry.open_url(f"{prefix}/missing.git", "m")
    message = str(caught.value)
    assert "filtering not recognized" not in message
    assert "not exported" in message or "does not appear" in message or "access denied" in message


def test_a_refused_ref_is_named_and_the_other_refs_still_arrive(clone, remote, tmp_path):
    a, b = clone("a"), clone("b")
    git(a, "tag", "-a", "-m", "one", "nightly")
    git(a, "push", "-q", "origin", "nightly")
    git(b, "fetch", "-q", "origin", "refs/tags/nightly:refs/tags/nightly")
    git(a, "tag", "-f", "-a", "-m", "two", "nightly")
    git(a, "tag", "-a", "-m", "new", "later")
    git(a, "push", "-q", "-f", "origin", "nightly", "later")
    with git_daemon(tmp_path) as prefix:
        git(b, "remote", "set-url", "origin", f"{prefix}/remote.git")
        refused = gitremote.fetch(gitrepo.GitRepo(b), "origin", ["refs/tags/*:refs/tags/*"], "--filter=blob:none")
        assert refused == ["nightly (would clobber existing tag)"]
        assert git(b, "tag", "-l", "later").strip() == "later"
        proc = gitremote.run_git_raw(
            ["fetch", "--no-tags", "--filter=blob:none", "origin", "refs/tags/*:refs/tags/*"], b
        )
    assert proc.returncode != 0
    # Whatever git printed around it (a "From" line, warnings), the error names the refused ref and why.
    assert gitremote.fetch_failure(proc.stderr + b"warning: filtering not recognized by server, ignoring\n") == (
        "it refused to update nightly (would clobber existing tag)"
    )
