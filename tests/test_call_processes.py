"""The MLflow plugin's calls ask git less (issue 24's per-call cost) and still never act on a stale answer.

What a call now knows without a git process of its own: the model's refs (listed in the branch listing that
opens the registry, and a registration's retire check reads them there), the branch's tip (read from git's
ref files), the committer identity (kept while nothing git makes it of changes). Each test has another
writer, or the user, change things between two calls, and the next call sees it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.exceptions import MlflowException

from modelreg.api import Registry
from modelreg.git import GitRepo, batch
from modelreg.git.ident import committer
from modelreg.git.reffiles import read_tip
from modelreg.mlflow.store import ModelregRegistryStore
from modelreg.paths import cache_dir
from modelreg.publish import publisher
from modelreg.read import seeded, snapshot
from modelreg.read.snapshot import Snapshot, patterns_for
from tests.conftest import git, make_repo


@pytest.fixture(autouse=True)
def _untrusted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new process would: no tag made here yet compared with git's record of it."""
    monkeypatch.setattr(seeded, "_PENDING", {})
    monkeypatch.setattr(seeded, "_MATCHED", set())
    monkeypatch.setattr(seeded, "_DIFFERED", [])


def _rev_parse(where: Path, ref: str) -> str | None:
    said = subprocess.run(["git", "rev-parse", "-q", "--verify", ref], cwd=where, capture_output=True, text=True)
    return said.stdout.strip() or None


@pytest.mark.parametrize("how", ["loose", "packed", "packed-then-moved", "missing", "worktree"])
def test_a_branch_tip_read_from_the_ref_files_is_the_one_git_names(tmp_path: Path, how: str) -> None:
    repo = make_repo(tmp_path / "r")
    where, ref = repo, "refs/heads/main"
    if how in ("packed", "packed-then-moved"):
        git(repo, "pack-refs", "--all")
        assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    if how == "packed-then-moved":  # a loose ref newer than the packed one: the loose one is the tip
        git(repo, "commit", "-q", "--allow-empty", "-m", "later")
    if how == "missing":
        ref = "refs/heads/nothing"
    if how == "worktree":  # a linked worktree's refs are in the repository it shares
        where = tmp_path / "wt"
        git(repo, "worktree", "add", "-q", str(where), "-b", "other")
        git(where, "commit", "-q", "--allow-empty", "-m", "on other")
        ref = "refs/heads/other"
    assert read_tip(str(where), ref) == _rev_parse(where, ref)
    assert (read_tip(str(where), ref) is None) == (how == "missing")


def test_a_ref_only_git_can_read_is_left_to_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "r")
    git(repo, "symbolic-ref", "refs/heads/alias", "refs/heads/main")
    assert read_tip(str(repo), "refs/heads/alias") == "?"
    assert read_tip(str(tmp_path / "nowhere"), "refs/heads/main") == "?"
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))
    assert read_tip(str(repo), "refs/heads/main") == "?"


def test_a_registration_builds_on_the_tip_another_writer_moved(repo: Path, artifact) -> None:
    """The tip is read when the registration builds its commit: a commit made since (then packed, then another
    loose one on top) is its parent, not lost."""
    store = ModelregRegistryStore(f"modelreg://{repo}")
    store.create_registered_model("m")
    store.create_model_version("m", str(artifact("a", b"a")))
    git(repo, "commit", "-q", "--allow-empty", "-m", "someone else")
    git(repo, "pack-refs", "--all")
    store.create_model_version("m", str(artifact("b", b"b")))
    git(repo, "commit", "-q", "--allow-empty", "-m", "someone else again")
    theirs = _rev_parse(repo, "HEAD")
    store.create_model_version("m", str(artifact("c", b"c")))
    assert _rev_parse(repo, "HEAD~1") == theirs
    log = git(repo, "log", "--format=%s", "main").splitlines()
    assert log[:5] == [
        "modelreg: register m v3",
        "someone else again",
        "modelreg: register m v2",
        "someone else",
        "modelreg: register m v1",
    ]


def test_a_model_retired_between_two_calls_takes_no_version(repo: Path, artifact, cli) -> None:
    """The plugin's registration finds the retire tag in the refs listed with the branches."""
    store = ModelregRegistryStore(f"modelreg://{repo}")
    store.create_registered_model("m")
    source = str(artifact("a", b"a"))
    store.create_model_version("m", source)
    assert cli("retire", "m", "--reason", "replaced").code == 0  # another writer
    with pytest.raises(MlflowException, match="is retired"):
        store.create_model_version("m", source)
    assert cli("unretire", "m", "--reason", "back").code == 0
    assert store.create_model_version("m", source).version == 2


def _own_identity(monkeypatch: pytest.MonkeyPatch, repo: Path) -> None:
    """git's identity from the config, dated by the clock (the fixtures give it through the environment)."""
    for var in ("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_COMMITTER_DATE", "GIT_AUTHOR_DATE"):
        monkeypatch.delenv(var, raising=False)
    git(repo, "config", "user.name", "First Person")
    git(repo, "config", "user.email", "first@example.com")


def _tagger(repo: Path, tag: str) -> str:
    return git(repo, "tag", "--list", "--format=%(taggername) %(taggeremail)", tag).strip()


def test_the_identity_kept_between_calls_follows_the_config(
    repo: Path, artifact, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user changes user.name, in the repository's config and then in the global one, between two
    transitions: each next tag names who git would name now."""
    _own_identity(monkeypatch, repo)
    store = ModelregRegistryStore(f"modelreg://{repo}")
    store.create_registered_model("m")
    store.create_model_version("m", str(artifact("a", b"a")))
    store.transition_model_version_stage("m", 1, "Staging", False)
    store.transition_model_version_stage("m", 1, "Production", False)
    assert _tagger(repo, "m#production#3") == "First Person <first@example.com>"
    git(repo, "config", "user.name", "Second Person")
    store.transition_model_version_stage("m", 1, "Staging", False)
    assert _tagger(repo, "m#staging#4") == "Second Person <first@example.com>"
    git(repo, "config", "--unset", "user.name")
    git(repo, "config", "--global", "user.name", "Global Person")
    store.transition_model_version_stage("m", 1, "Production", False)
    assert _tagger(repo, "m#production#5") == "Global Person <first@example.com>"
    monkeypatch.setenv("GIT_COMMITTER_NAME", "From The Environment")
    store.transition_model_version_stage("m", 1, "Staging", False)
    assert _tagger(repo, "m#staging#6") == "From The Environment <first@example.com>"


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/St_Johns"])
def test_a_kept_identity_is_what_git_var_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone: str) -> None:
    repo = make_repo(tmp_path / "r")
    _own_identity(monkeypatch, repo)
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        grepo = GitRepo(repo)
        first = committer(str(repo), grepo.git)
        kept = committer(str(repo), lambda *args: pytest.fail("git asked again"))  # type: ignore[arg-type]
        said = git(repo, "var", "GIT_COMMITTER_IDENT").strip().rsplit(" ", 2)
        assert kept[0] == first[0] == said[0] == "First Person <first@example.com>"
        assert kept[2] == first[2] == said[2]
        assert abs(kept[1] - int(said[1])) <= 2
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_an_identity_git_reads_through_an_include_or_a_given_date_is_asked_each_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "r")
    _own_identity(monkeypatch, repo)
    included = tmp_path / "who.inc"
    included.write_text("[user]\n\tname = Included Person\n")
    git(repo, "config", "include.path", str(included))
    asked: list[tuple[str, ...]] = []

    def ask(*args: str) -> str:
        asked.append(args)
        return GitRepo(repo).git(*args)

    assert committer(str(repo), ask)[0] == "Included Person <first@example.com>"
    included.write_text("[user]\n\tname = Changed Person\n")  # the key holds no included file
    assert committer(str(repo), ask)[0] == "Changed Person <first@example.com>"
    git(repo, "config", "--unset", "include.path")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-01-02T03:04:05+00:00")
    assert committer(str(repo), ask)[1:] == (1767323045, "+0000")
    assert committer(str(repo), ask)[1:] == (1767323045, "+0000")
    assert len(asked) == 4


def test_the_plugin_opens_with_the_model_refs_in_the_branch_listing(repo: Path, artifact) -> None:
    """The refs listed with the branches are the model's, and the view read from them is a fresh read's."""
    store = ModelregRegistryStore(f"modelreg://{repo}")
    store.create_registered_model("m")
    store.create_model_version("m", str(artifact("a", b"a")))
    reg = store._open("m")
    assert tuple(patterns_for("m")) in reg.git.listed_ids
    assert reg.model("m").state == Registry.open(repo).model("m").state


def _fresh_read(repo: Path, name: str) -> Snapshot:
    """The model's refs parsed from git alone: no kept parse."""
    shutil.rmtree(Path(os.environ["XDG_CACHE_HOME"]) / "modelreg" / "state", ignore_errors=True)
    return snapshot.take(GitRepo(repo), name, cache_dir())


def _plugin_pairs(store: ModelregRegistryStore, source: str, count: int) -> None:
    for number in range(count):
        version = store.create_model_version("m", source).version
        store.transition_model_version_stage("m", version, "Staging" if number % 2 else "Production", True)
        store.get_registered_model("m")


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
def test_tags_a_write_made_read_back_as_git_describes_them(
    repo: Path, artifact, monkeypatch: pytest.MonkeyPatch, zone: str
) -> None:
    """What the plugin's writes put in the kept parse of the model's refs is what a read from git alone gives."""
    _own_identity(monkeypatch, repo)
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        store = ModelregRegistryStore(f"modelreg://{repo}")
        store.create_registered_model("m")
        _plugin_pairs(store, str(artifact("a", b"a")), 3)
        store.transition_model_version_stage("m", 3, "Archived", False)
        with monkeypatch.context() as asked:  # the last event was kept: reading it asks git for its ids alone
            asked.setattr(GitRepo, "read_refs", lambda *args: pytest.fail("read from git"))
            seeded_take = snapshot.take(GitRepo(repo), "m", cache_dir())
        assert seeded_take == _fresh_read(repo, "m")
        assert "m#archived#5" in [event.tag for event in seeded_take.events["m"]]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_a_record_git_describes_otherwise_is_never_kept(repo: Path, artifact, monkeypatch: pytest.MonkeyPatch) -> None:
    """A newer git writes a UTC date as `Z`: a writer that formats it otherwise sees git differ and keeps
    nothing it made, so every read parses what git says."""
    _own_identity(monkeypatch, repo)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr(publisher, "git_date", lambda epoch, offset: f"{epoch} {offset}")
    try:
        store = ModelregRegistryStore(f"modelreg://{repo}")
        store.create_registered_model("m")
        _plugin_pairs(store, str(artifact("a", b"a")), 3)
        assert snapshot.take(GitRepo(repo), "m", cache_dir()) == _fresh_read(repo, "m")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_refs_another_writer_changed_after_a_kept_write_are_read(
    repo: Path, artifact, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the plugin's writes were kept: another writer's new event, then a tag moved and one deleted."""
    _own_identity(monkeypatch, repo)
    store = ModelregRegistryStore(f"modelreg://{repo}")
    store.create_registered_model("m")
    _plugin_pairs(store, str(artifact("a", b"a")), 3)
    assert cli("alias", "set", "m@1", "champion").code == 0
    assert store.get_model_version_by_alias("m", "champion").version == 1
    git(repo, "tag", "-f", "-a", "-m", "moved", "m#staging#3", "m@v1")
    assert snapshot.take(GitRepo(repo), "m", cache_dir()) == _fresh_read(repo, "m")
    git(repo, "tag", "-d", "m#production#4")
    kept = snapshot.take(GitRepo(repo), "m", cache_dir())
    assert kept == _fresh_read(repo, "m")
    assert "m#production#4" not in [event.tag for event in kept.events["m"]]


class _Everywhere(set[str]):
    def __contains__(self, root: object) -> bool:
        return True


@pytest.fixture
def kept_cat_file(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Lookups through a `cat-file` kept running, as the plugin has them; stopped after the test."""
    monkeypatch.setattr(batch, "_ON", _Everywhere())
    monkeypatch.setattr(batch, "_KEPT", {})
    yield
    batch._close_all()


def _one_shot(repo: Path, specs: list[str], option: str) -> bytes:
    stdin = "".join(f"{spec}\n" for spec in specs).encode()
    return subprocess.run(["git", "cat-file", option], cwd=repo, input=stdin, capture_output=True, check=True).stdout


def test_a_kept_cat_file_answers_as_a_fresh_one(tmp_path: Path, kept_cat_file: None) -> None:
    repo = make_repo(tmp_path / "r")
    (repo / "a dir").mkdir()
    (repo / "a dir" / "f.txt").write_text("text\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "more")
    head = git(repo, "rev-parse", "HEAD").strip()
    specs = [f"{head}^{{tree}}", f"{head}:a dir", f"{head}:a dir/f.txt", f"{head}:nothing", "refs/heads/main", "0" * 40]
    assert batch.answers(repo, specs, contents=True) == _one_shot(repo, specs, "--batch")
    assert batch.answers(repo, specs, contents=False) == _one_shot(repo, specs, "--batch-check")
    assert batch.answers(repo, ["bad\nname"], contents=False) is None  # not a line: the caller asks git itself
    assert len(batch._KEPT) == 1


def test_a_kept_cat_file_reads_what_another_writer_changed(tmp_path: Path, kept_cat_file: None) -> None:
    """Refs created, moved, deleted and packed, objects written and repacked after it started: answered as now."""
    repo = make_repo(tmp_path / "r")
    ref = "refs/modelreg/blobs/sha256/" + "ab" * 32
    first = _blob(repo, b"first")
    assert batch.answers(repo, [ref], contents=False) == _one_shot(repo, [ref], "--batch-check")  # missing
    git(repo, "update-ref", ref, first)
    assert batch.answers(repo, [ref], contents=False) == f"{first} blob 5\n".encode()
    second = _blob(repo, b"second!")  # a loose object written after the process started
    git(repo, "update-ref", ref, second)
    assert batch.answers(repo, [ref], contents=True) == f"{second} blob 7\nsecond!\n".encode()
    git(repo, "pack-refs", "--all")
    git(repo, "gc", "-q", "--prune=now")  # loose objects into a new pack, loose ones gone
    assert batch.answers(repo, [ref], contents=True) == f"{second} blob 7\nsecond!\n".encode()
    git(repo, "update-ref", "-d", ref)
    assert batch.answers(repo, [ref], contents=False) == f"{ref} missing\n".encode()
    assert len(batch._KEPT) == 1


def _blob(repo: Path, data: bytes) -> str:
    done = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"], cwd=repo, input=data, capture_output=True, check=True
    )
    return done.stdout.decode().strip()


def test_a_kept_cat_file_asked_from_two_threads_answers_each(tmp_path: Path, kept_cat_file: None) -> None:
    """One thread at a time uses the pipe; the other asks a cat-file of its own."""
    repo = make_repo(tmp_path / "r")
    blobs = {_blob(repo, f"blob {n}".encode()): f"blob {n}" for n in range(20)}
    wrong: list[str] = []

    def ask() -> None:
        for _ in range(10):
            for oid, text in blobs.items():
                if batch.answers(repo, [oid], contents=True) not in (
                    None,
                    f"{oid} blob {len(text)}\n{text}\n".encode(),
                ):
                    wrong.append(oid)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_the_plugin_stores_bytes_again_after_another_writer_removed_them(
    tmp_path: Path, artifact, kept_cat_file: None
) -> None:
    """The blob refs are looked up in the kept `cat-file` at each registration: removed ones are stored again."""
    repo = make_repo(tmp_path / "r")
    Registry.init(repo)  # the git store: blobs under refs/modelreg/blobs/
    store = ModelregRegistryStore(f"modelreg://{repo}")
    store.create_registered_model("m")
    source = str(artifact("a", b"weights"))
    store.create_model_version("m", source)
    refs = git(repo, "for-each-ref", "--format=%(refname)", "refs/modelreg/blobs/").split()
    assert refs and batch._KEPT
    for ref in refs:
        git(repo, "update-ref", "-d", ref)
    assert store.create_model_version("m", source).version == 2
    assert git(repo, "for-each-ref", "--format=%(refname)", "refs/modelreg/blobs/").split() == refs
    assert Path(store.get_model_version_download_uri("m", 2)).read_bytes() == b"weights"


def test_the_dirty_flag_asked_beside_the_hashing_is_each_registration_own(repo: Path, artifact) -> None:
    """The work tree is edited, then committed, between the plugin's registrations: each lineage says so."""
    store = ModelregRegistryStore(f"modelreg://{repo}")
    store.create_registered_model("m")
    source = str(artifact("a", b"a"))

    def dirty(version: int) -> bool:
        return Registry.open(repo).resolve(f"m@v{version}").manifest.lineage.code_dirty

    store.create_model_version("m", source)
    (repo / "train.py").write_text("print('changed')\n")
    store.create_model_version("m", source)
    git(repo, "commit", "-qam", "the change")
    store.create_model_version("m", source)
    assert [dirty(1), dirty(2), dirty(3)] == [False, True, False]
