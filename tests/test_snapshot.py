"""The parsed-refs cache (modelreg.read.snapshot): data keyed by object ids, never answers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import modelreg
from modelreg import cachefile
from modelreg.git import GitRepo
from modelreg.paths import cache_dir
from modelreg.read import snapshot


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def fresh(repo: Path, name: str | None, tmp_path: Path) -> snapshot.Snapshot:
    """A read with an empty cache."""
    scratch = tmp_path / f"scratch-{len(list(tmp_path.iterdir()))}"
    return snapshot.take(GitRepo(repo), name, str(scratch))


@pytest.fixture
def history(repo, artifact):
    reg = modelreg.Registry.open(repo)
    reg.register("m", artifact(content=b"1"), description="first")
    reg.register("m", artifact(content=b"2"))
    reg.register("other", artifact(content=b"3"))
    reg.promote("m", 1, "production", reason="why not")
    reg.promote("m", 2, "production")
    reg.set_alias("m", "champion", 1)
    reg.remove_alias("m", "champion")
    reg.rollback("m")
    return reg


def test_the_cached_state_after_writes_equals_a_fresh_read(history, repo, tmp_path):
    for name in ("m", "other", None):
        assert snapshot.take(history.git, name, cache_dir()) == fresh(repo, name, tmp_path)


def test_only_new_refs_are_read_after_a_write(history, repo, monkeypatch):
    history.models()  # the cache now holds every ref
    asked: list[list[str]] = []
    real = GitRepo.read_refs

    def spy(self: GitRepo, patterns: list[str]):  # a real git call, only observed
        asked.append(list(patterns))
        return real(self, patterns)

    monkeypatch.setattr(GitRepo, "read_refs", spy)
    history.promote("m", 2, "staging")
    asked.clear()
    summaries = {s.name: s for s in history.models()}
    assert asked == [["refs/modelreg/events/m/6", "refs/tags/m#staging#6"]]
    assert summaries["m"].stages["staging"] == 2


def test_a_ref_written_behind_the_registrys_back_is_seen(history, repo):
    history.models()
    git(repo, "tag", "-a", "-m", "x", "m#staging#99", "m@v1")
    assert any("m#staging#99" in p for p in history.problems("m"))
    assert any("m#staging#99" in p for p in history.problems(None))


def test_a_moved_tag_is_read_again_not_taken_from_the_cache(history, repo, tmp_path):
    first_commit = git(repo, "rev-parse", "m@v1^{commit}").strip()
    assert history.resolve("m@1").commit == first_commit
    # Re-point m@v1's tag at m@v2's commit: the cache must follow the ref, not its old parse.
    body = git(repo, "cat-file", "tag", "m@v1").split("\n\n", 1)[1]
    git(repo, "tag", "-f", "-a", "-m", body, "m@v1", "m@v2^{commit}")
    taken = snapshot.take(history.git, "m", cache_dir())
    assert taken == fresh(repo, "m", tmp_path)
    moved = next(e for e in taken.events["m"] if e.tag == "m@v1")
    # Its claim ref still names the old tag object, and the claim is the version (DESIGN §10).
    assert moved.object == git(repo, "rev-parse", "refs/modelreg/versions/m/1").strip()
    assert moved.commit == first_commit
    assert any(p.startswith("m@v1: moved after refs/modelreg/versions/m/1 claimed it") for p in taken.problems)
    resolved = history.resolve("m@1")
    assert resolved.commit == first_commit
    assert any("m@v1: moved after" in w for w in resolved.warnings)


def test_another_models_cache_file_under_this_ones_name_is_not_believed(history, repo):
    """A planted (or renamed) cache file holds its own key: `m`'s state never comes from `other`'s."""
    truth = history.resolve("m/production")
    history.resolve("other")
    state = Path(cache_dir()) / "state"
    root = str(history.git.root)
    mine = state / cachefile.file_name(root, *snapshot.patterns_for("m"))
    theirs = state / cachefile.file_name(root, *snapshot.patterns_for("other"))
    shutil.copyfile(theirs, mine)
    os.chmod(mine, 0o600)
    assert history.resolve("m/production") == truth


def test_a_replaced_version_commit_changes_nothing_modelreg_reads(history, repo, cli):
    """`git replace` could swap a tagged commit's content locally: modelreg reads objects as named."""
    before = json.loads(cli("show", "m@1", "--json").out)
    commit = git(repo, "rev-parse", "m@v2^{commit}").strip()
    original = git(repo, "rev-parse", "m@v1^{commit}").strip()
    git(repo, "replace", original, commit)
    # git itself now follows the replacement
    assert git(repo, "rev-parse", f"{original}^{{tree}}") == git(repo, "rev-parse", f"{commit}^{{tree}}")
    after = json.loads(cli("show", "m@1", "--json").out)
    assert after == before
    assert after["version"] == 1
