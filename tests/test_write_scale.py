"""Writes that cost what they write: numbers from ref names, and the promotion view (ops/promoteview).

The promotion view answers, on random histories (tests/historygen.py: refused events, archives,
rollbacks, retirements, hostile `archived` lists), what the full replay answers wherever a
promotion looks; where it cannot, it says so and the full replay decides.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modelreg.api import Registry
from modelreg.core.events import to_archive
from modelreg.core.refs import claim_ref, version_claim_ref
from modelreg.errors import ModelregError
from modelreg.ops.promoteview import promotion_view
from modelreg.publish.numbering import above, highest, highest_version, last_seq
from modelreg.read.reader import ModelView
from tests.conftest import git
from tests.historygen import build
from tests.test_cold_reads import _moved_version_tags


def _next_seq(view: ModelView) -> int:
    return max(view.state.last_seq, *view.snap.taken_seqs.get(view.state.name, {0})) + 1


@pytest.mark.parametrize("seed", range(40))
def test_the_promotion_view_answers_as_the_full_replay(tmp_path: Path, seed: int) -> None:
    held = build(tmp_path / "repo", seed)
    reader = Registry.open(tmp_path / "repo").reader
    try:
        full: ModelView | None = reader.model("fraud")
    except ModelregError:
        full = None
    decided = 0
    for version in range(1, held["versions"] + 2):
        for stage in ("staging", "production", "archived"):
            single = stage in reader.config.single_holder
            lean = promotion_view(reader, "fraud", version, stage, single)
            if lean is None:
                continue
            decided += 1
            assert full is not None, (seed, version, stage)
            where = (seed, version, stage)
            assert version in full.state.versions, where
            assert lean.state.retired == full.state.retired, where
            assert (lean.state.stages.get(version) == stage) == (full.state.stages.get(version) == stage), where
            if single:
                assert to_archive(lean.state, version, stage, True) == to_archive(full.state, version, stage, True)
            assert _next_seq(lean) == _next_seq(full), where
            assert lean.events[0].commit == next(
                e.commit for e in full.events if e.action == "register" and e.version == version
            )
    assert decided > 0 or full is None or _moved_version_tags(tmp_path / "repo")  # moved: the full replay decides


def test_the_promotion_view_is_used_and_leaves_hard_cases_to_the_full_replay(repo, cli, artifact) -> None:
    for number in range(3):
        assert cli("register", "m", artifact(f"w{number}", f"weights {number}".encode())).code == 0
    reader = Registry.open(repo).reader
    assert promotion_view(reader, "m", 1, "production", True) is not None
    assert promotion_view(reader, "m", 9, "production", True) is None  # no such version: the full read words it
    assert promotion_view(reader, "m", 1, "archived", False) is None
    assert cli("promote", "m", "1", "staging").code == 0
    assert promotion_view(reader, "m", 1, "staging", False) is None  # it may hold it already: the full read says
    assert cli("promote", "m", "1", "staging").err.startswith("error: m v1 is already in stage 'staging'")
    assert cli("promote", "m", "2", "production").code == 0
    view = promotion_view(reader, "m", 3, "production", True)
    assert view is not None and view.state.stage_holders("production") == (2,)
    result = cli("promote", "m", "3", "production")
    assert result.code == 0 and "archived v2" in result.out
    assert cli("promote", "m", "3", "production").err.startswith("error: m v3 is already in stage 'production'")
    assert git(repo, "tag", "-l", "m#*").split() == ["m#production#2", "m#production#3", "m#staging#1"]


def test_numbers_taken_by_claim_refs_alone_are_not_taken_again(repo, cli, artifact) -> None:
    """A claim ref fetched without its tag still holds its number: the next write goes past it."""
    assert cli("register", "m", artifact("a", b"a")).code == 0
    assert cli("promote", "m", "1", "staging").code == 0
    tag_object = git(repo, "rev-parse", "refs/tags/m@v1").strip()
    git(repo, "update-ref", version_claim_ref("m", 3), tag_object)  # v2 is free, v3 claimed: a gap
    git(repo, "update-ref", claim_ref("m", 4), git(repo, "rev-parse", "refs/tags/m#staging#1").strip())
    git_repo = Registry.open(repo).reader.git
    assert highest_version(git_repo, "m") == 3
    assert last_seq(git_repo, "m") == 4
    result = cli("register", "m", artifact("b", b"b"))
    assert result.code == 0 and "Registered m v4" in result.out
    assert cli("promote", "m", "4", "production").code == 0
    assert "m#production#5" in git(repo, "tag", "-l", "m#*").split()


@pytest.mark.parametrize("known", [0, 1, 5, 9, 10, 49, 50, 99, 100, 998, 999, 1000, 12344, 2**63 - 2])
def test_the_seqs_above_a_number_are_found_by_one_expression(known: int) -> None:
    import re

    seqs = [*range(1, 1100), 12344, 12345, 99999, 2**63 - 1]
    listing = "".join(f"refs/tags/m#staging#{seq} {'ab' * 20}\n" for seq in seqs)
    listing += "refs/tags/m@v123456 " + "cd" * 20 + "\nrefs/tags/m#staging#0123 x\n"
    found = sorted(int(seq) for seq in re.findall(above(known), listing))
    assert found == [seq for seq in seqs if seq > known]


def test_same_bytes_are_looked_for_only_when_the_store_held_them_already(repo, cli, artifact) -> None:
    """New bytes in the store of record cannot be an earlier version's: no read of the model's events then."""
    first = artifact("model.pkl", b"the weights")
    assert cli("register", "m", first).code == 0
    assert "same bytes as v1" in cli("register", "m", first).err  # the store had them: looked for, found
    for blob in (repo / ".modelreg" / "store").rglob("*"):
        if blob.is_file():
            blob.unlink()  # a store that lost them (or a clone's own local store): the bytes are new to it
    result = cli("register", "m", first)
    assert result.code == 0 and "Registered m v3" in result.out
    assert "same bytes" not in result.err


def test_trees_are_built_as_git_builds_them_from_an_index(tmp_path: Path) -> None:
    """Raw trees edited as bytes give git's own trees: order (a directory sorts as `name/`), modes, nesting."""
    from modelreg.git import GitRepo
    from tests.conftest import make_repo

    repo = make_repo(tmp_path / "r")
    (repo / "a.b").write_text("file\n")
    (repo / "a").mkdir()
    (repo / "a" / "x").write_text("x\n")
    (repo / "run.sh").write_text("#!/bin/sh\n")
    (repo / "run.sh").chmod(0o755)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    blob = git(repo, "rev-parse", "HEAD:a.b").strip()
    files = {"a/y": blob, "a-/z": blob, "a.b": blob, "d/e/f/g.yaml": blob, "a0": blob}
    built = GitRepo(repo).commit_files(git(repo, "rev-parse", "HEAD").strip(), {p: "file\n" for p in files}, "m")
    env_index = tmp_path / "index"
    expected = subprocess_tree(repo, env_index, files)
    assert git(repo, "rev-parse", f"{built[0]}^{{tree}}").strip() == expected
    assert "100755 blob" in git(repo, "ls-tree", built[0], "run.sh")  # the untouched entries keep their modes


def subprocess_tree(repo: Path, index: Path, files: dict[str, str]) -> str:
    import os
    import subprocess

    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    subprocess.run(["git", "read-tree", "HEAD"], cwd=repo, env=env, check=True)
    for path, blob in files.items():
        subprocess.run(
            ["git", "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}"], cwd=repo, env=env, check=True
        )
    return subprocess.run(
        ["git", "write-tree"], cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_a_manifest_already_at_the_next_number_is_never_overwritten(repo, cli, artifact) -> None:
    assert cli("register", "m", artifact("a", b"a")).code == 0
    stray = repo / ".modelreg" / "models" / "m" / "v2.yaml"
    stray.write_text("someone's own file\n")
    result = cli("register", "m", artifact("b", b"b"))
    assert result.code == 0 and "Registered m v3" in result.out
    assert stray.read_text() == "someone's own file\n"


def _check_against_full(reader, name: str, versions: int, where: object) -> int:
    """Compare the promotion view with the full view for every version and stage; returns how many it decided."""
    full = reader.model(name)
    decided = 0
    for version in range(1, versions + 1):
        for stage in ("staging", "production"):
            single = stage in reader.config.single_holder
            lean = promotion_view(reader, name, version, stage, single)
            if lean is None:
                continue
            decided += 1
            at = (where, version, stage)
            assert (lean.state.stages.get(version) == stage) == (full.state.stages.get(version) == stage), at
            assert lean.state.retired == full.state.retired, at
            if single:
                assert to_archive(lean.state, version, stage, True) == to_archive(full.state, version, stage, True), at
            assert _next_seq(lean) == _next_seq(full), at
    return decided


@pytest.mark.slow  # seconds each: started first, so the workers finish together
@pytest.mark.parametrize("seed", range(6))
def test_the_promotion_view_answers_as_the_full_replay_on_histories_modelreg_wrote(repo, artifact, seed) -> None:
    """Histories written by modelreg itself (registrations record `after`): every stage is decided here."""
    import random

    rng = random.Random(seed)
    reg = Registry.open(repo)
    versions = 0
    decided = 0
    for step in range(24):
        move = rng.random()
        try:
            if versions < 2 or move < 0.25:
                reg.register("m", artifact(f"w{step}", f"{seed} {step}".encode()))
                versions += 1
            elif move < 0.65:
                stage = rng.choice(["staging", "production"])
                reg.promote("m", rng.randint(1, versions), stage, keep_existing=rng.random() < 0.2)
            elif move < 0.75:
                reg.remove_stage("m", rng.randint(1, versions))
            elif move < 0.8:
                reg.set_alias("m", "champion", rng.randint(1, versions))
            elif move < 0.85:
                (reg.retire if rng.random() < 0.5 else reg.unretire)("m", reason="a reason")
            else:
                reg.rollback("m", stage="production")
        except ModelregError:
            pass  # refused as the user would be told: nothing written
        decided += _check_against_full(reg.reader, "m", versions, (seed, step))
    assert decided > 0


@pytest.mark.parametrize("top", [0, 1, 2, 3, 63, 64, 65, 1000, 4097])
def test_the_highest_of_a_run_of_numbers_is_found_by_lookups(repo, top: int) -> None:
    """Numbers run 1..N (DESIGN §7): the highest is found by name lookups, and a small gap past it is stepped over."""
    from modelreg.git import GitRepo

    commit = git(repo, "rev-parse", "HEAD").strip()
    lines = "".join(f"create refs/modelreg/events/m/{n} {commit}\n" for n in range(1, top + 1))
    if lines:
        subprocess_run_stdin(repo, ["git", "update-ref", "--stdin"], lines)
    git_repo = GitRepo(repo)
    assert highest(git_repo, lambda n: [claim_ref("m", n)]) == top
    assert last_seq(git_repo, "m") == top
    git(repo, "update-ref", claim_ref("m", top + 5), commit)  # past a gap of four: still found
    assert last_seq(git_repo, "m") == top + 5


def subprocess_run_stdin(repo: Path, args: list[str], text: str) -> None:
    import subprocess

    subprocess.run(args, cwd=repo, input=text, text=True, check=True)
