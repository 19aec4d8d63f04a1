"""Writes that ask git less (issue 24's per-call cost) and still never act on a stale answer.

What a write now knows without asking git again: the files of the commit it built (kept by commit id),
the blob refs its store looked up (verified in the ref transaction), the model view a transition read
(its claim ref's compare-and-swap refuses an overtaken one), the branch HEAD names (read from HEAD as
git reads it). Each test below has another writer change the repository in between, and the next
read or write sees the change.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from mlflow.exceptions import MlflowException

from modelreg.api import Registry
from modelreg.core.refs import claim_ref, version_claim_ref
from modelreg.errors import ConfigError, ConflictError, InvalidInputError, ReviewRequired
from modelreg.formats.config import CONFIG_PATH
from modelreg.git import GitRepo
from modelreg.git.blobrefs import blob_ref
from modelreg.git.catfile import keep_built
from modelreg.git.discovery import checked_out_branch
from modelreg.mlflow.store import ModelregRegistryStore
from modelreg.models import ArtifactFile
from modelreg.ops import assign
from modelreg.publish.options import WriteOptions
from modelreg.publish.push import Target, publish
from modelreg.store.gitstore import GitStore
from tests.conftest import Result, git, make_repo


def _commit_config(repo: Path, old: str, new: str) -> None:
    config = repo / CONFIG_PATH
    config.write_text(config.read_text().replace(old, new))
    git(repo, "commit", "-qam", "policy change")


def test_a_policy_committed_after_a_registration_judges_the_next_write(repo: Path, artifact) -> None:
    """The registration keeps its commit's config (carried from its parent): a later commit's is read, not it."""
    reg = Registry.open(repo)
    first = reg.register("m", artifact("a", b"same bytes"))
    assert reg.register("m", artifact("a", b"same bytes")).version == 2  # bytes the store had: the kept path
    assert git(repo, "show", f"{first.commit}:{CONFIG_PATH}") == (repo / CONFIG_PATH).read_text()
    _commit_config(repo, "review_required: []", "review_required: [production]")
    with pytest.raises(ReviewRequired):
        Registry.open(repo).promote("m", 2, "production")


def test_what_a_commit_keeps_is_what_git_reads_from_it(tmp_path: Path) -> None:
    """Files written and paths carried from the parent read back as git shows them; a touched path is not carried."""
    repo = make_repo(tmp_path / "r")
    (repo / "a").mkdir()
    (repo / "a" / "keep.txt").write_text("kept\n")
    (repo / "a" / "edit.txt").write_text("old\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    grepo = GitRepo(repo)
    parent = git(repo, "rev-parse", "HEAD").strip()
    assert grepo.read_files([(parent, "a/keep.txt"), (parent, "a/edit.txt")], keep=True) == ["kept\n", "old\n"]
    files = {"a/edit.txt": "new\n", "b/c.txt": "c\n"}
    commit, _ = grepo.commit_files(parent, files, "change")
    keep_built(parent, commit, files, ["a/keep.txt", "a/edit.txt", "a"])
    paths = ["a/keep.txt", "a/edit.txt", "b/c.txt"]
    kept = grepo.read_files([(commit, path) for path in paths], keep=True)
    assert kept == [git(repo, "show", f"{commit}:{path}") for path in paths] == ["kept\n", "new\n", "c\n"]


def test_a_blob_ref_removed_after_its_lookup_stops_the_registration(tmp_path: Path) -> None:
    """The store answers `has` from one lookup of every blob; the transaction still checks each ref is there."""
    repo = make_repo(tmp_path / "r")
    grepo = GitRepo(repo)
    source = tmp_path / "weights"
    source.write_bytes(b"weights")
    digest = "sha256:" + "ab" * 32
    ref = blob_ref(digest)
    store = GitStore("git:", repo, None)
    store.put(source, ArtifactFile("weights", digest, 7))
    looked = GitStore("git:", repo, None)
    looked.prefetch([digest])
    assert looked.has(ArtifactFile("weights", digest, 7))
    refs = looked.refs_for([ArtifactFile("weights", digest, 7)])
    git(repo, "update-ref", "-d", ref)  # a gc in between
    head = git(repo, "rev-parse", "HEAD").strip()
    tag_object = git(repo, "rev-parse", "HEAD").strip()
    with pytest.raises(ConflictError):
        publish(grepo, Target(None), [("refs/tags/m@v1", tag_object), *refs], "register")
    assert git(repo, "tag", "--list") == ""  # nothing published
    assert git(repo, "rev-parse", "HEAD").strip() == head
    fresh = GitStore("git:", repo, None)
    assert not fresh.has(ArtifactFile("weights", digest, 7))


def test_a_transition_drafted_from_an_overtaken_view_is_refused_and_writes_nothing(repo: Path, artifact) -> None:
    reg = Registry.open(repo)
    reg.register("m", artifact("a", b"a"))
    reg.register("m", artifact("b", b"b"))
    stale = reg.model("m")
    Registry.open(repo).promote("m", 1, "production")  # another writer takes seq 1
    before = git(repo, "for-each-ref")
    with pytest.raises(ConflictError):
        assign.promote(reg.reader, reg.publisher, "m", 2, "production", False, WriteOptions(), view=stale)
    assert git(repo, "for-each-ref") == before
    event = assign.promote(reg.reader, reg.publisher, "m", 2, "production", False, WriteOptions())  # a fresh read
    assert event.seq == 2 and event.archived == (1,)


def test_the_plugin_reads_what_another_writer_did_between_its_calls(repo: Path, artifact, cli) -> None:
    source = artifact("model.pkl", b"weights")
    store = ModelregRegistryStore(f"modelreg://{repo}")
    store.create_registered_model("m")
    assert store.create_model_version("m", str(source)).version == 1
    store.transition_model_version_stage("m", 1, "Staging", False)
    result: Result = cli("register", "m", source)  # another writer: v2, and an event
    assert result.code == 0, result.err
    assert cli("promote", "m", "2", "production").code == 0
    assert cli("update", "m@1", "--description", "changed elsewhere").code == 0
    assert store.create_model_version("m", str(source)).version == 3
    assert store.get_model_version("m", 1).description == "changed elsewhere"
    moved = store.transition_model_version_stage("m", 3, "Production", True)
    assert moved.current_stage == "Production"
    assert [(v.version, v.current_stage) for v in store.get_latest_versions("m", None)] == [
        (1, "Staging"),
        (2, "Archived"),
        (3, "Production"),
    ]
    stages = [tag for tag in git(repo, "tag", "--list", "m#*").split() if "#_" not in tag]
    assert sorted(stages, key=lambda tag: int(tag.rsplit("#", 1)[1])) == [
        "m#staging#2",
        "m#production#3",
        "m#production#5",
    ]
    _commit_config(repo, "review_required: []", "review_required: [staging]")
    with pytest.raises(MlflowException, match="requires review"):
        store.transition_model_version_stage("m", 3, "Staging", False)


def test_numbers_from_the_model_refs_step_past_claim_refs_alone(repo: Path, cli, artifact) -> None:
    """Bytes the store had: the version and `after` come from the model's refs, claim refs included."""
    weights = artifact("a", b"a")
    assert cli("register", "m", weights).code == 0
    assert cli("promote", "m", "1", "staging").code == 0
    git(repo, "update-ref", version_claim_ref("m", 3), git(repo, "rev-parse", "refs/tags/m@v1").strip())
    git(repo, "update-ref", claim_ref("m", 4), git(repo, "rev-parse", "refs/tags/m#staging#1").strip())
    result = cli("register", "m", weights)
    assert result.code == 0 and "Registered m v4" in result.out and "same bytes as v1" in result.err
    message = git(repo, "tag", "--list", "--format=%(contents)", "m@v4")
    assert '"after": 4' in message or '"after":4' in message


@pytest.mark.parametrize("how", ["branch", "detached", "worktree", "unborn"])
def test_the_branch_read_from_head_is_the_one_git_names(tmp_path: Path, how: str) -> None:
    repo = make_repo(tmp_path / "r")
    where = repo
    if how == "detached":
        git(repo, "checkout", "-q", "--detach")
    elif how == "worktree":
        where = tmp_path / "wt"
        git(repo, "worktree", "add", "-q", str(where), "-b", "other")
    elif how == "unborn":
        git(repo, "checkout", "-q", "--orphan", "fresh")
    said = subprocess.run(["git", "symbolic-ref", "-q", "HEAD"], cwd=where, capture_output=True, text=True)
    expected = said.stdout.strip() or None
    assert checked_out_branch(str(where)) == expected
    assert GitRepo(where).branch() == expected
    git(where, "checkout", "-q", "-b", "later")  # HEAD moves: read again, not remembered
    assert GitRepo(where).branch() == "refs/heads/later"


def test_a_head_only_git_can_read_is_left_to_git(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/.invalid\n")  # the reftable backend's placeholder
    assert checked_out_branch(str(repo)) == "?"
    assert checked_out_branch(str(tmp_path / "nowhere")) == "?"


def test_a_write_refuses_where_it_did_before(repo: Path, artifact: Callable[..., Path]) -> None:
    """Detached HEAD: the registration still names the problem (the branch is read from HEAD's file now)."""
    git(repo, "checkout", "-q", "--detach")
    with pytest.raises(InvalidInputError, match="HEAD is detached"):
        Registry.open(repo).register("m", artifact("a", b"a"))


def test_a_config_added_again_after_registrations_is_found(repo: Path, artifact) -> None:
    """The config's first commits are carried past this machine's own registrations, never past another commit."""
    reg = Registry.open(repo)
    reg.register("m", artifact("a", b"a"))
    Registry.open(repo)  # the first configs, found for the tips after the registration
    reg.register("m", artifact("b", b"b"))
    assert Registry.open(repo).config.main_branch == "main"  # carried over the registration's commit
    git(repo, "rm", "-q", CONFIG_PATH)
    git(repo, "commit", "-qm", "drop the config")
    (repo / CONFIG_PATH).write_text(git(repo, "show", f"HEAD~1:{CONFIG_PATH}") + "main_branch: other\n")
    git(repo, "add", CONFIG_PATH)
    git(repo, "commit", "-qm", "add it again, naming another branch")
    with pytest.raises(ConfigError, match="first committed on more than one branch"):
        Registry.open(repo)
