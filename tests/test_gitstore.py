"""The git store (`git:`, init's default): blobs under refs/modelreg/blobs/, pushed with the registry's refs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from modelreg.api import Registry
from modelreg.errors import IntegrityError, NotFoundError
from tests.conftest import git, make_repo
from tests.servers import git_daemon

BLOB_REFS = "refs/modelreg/blobs/"


def blob_refs(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname)", BLOB_REFS).split()


def make_bare(tmp_path: Path) -> Path:
    bare = tmp_path / "srv" / "models.git"
    if not bare.exists():
        bare.parent.mkdir()
        git(bare.parent, "init", "-q", "--bare", "-b", "main", str(bare))
    return bare


def team(tmp_path: Path, url_of: str | None = None) -> tuple[Path, str]:
    """A bare remote holding a registry initialised with no --store (so: git:); returns (writer clone, url)."""
    bare = make_bare(tmp_path)
    writer = make_repo(tmp_path / "writer")
    url = url_of or bare.as_uri()
    git(writer, "remote", "add", "origin", url)
    git(writer, "push", "-q", "origin", "main")
    result = Registry.init(writer)
    assert result.store == "git:"
    git(writer, "push", "-q", "origin", "main")
    return writer, url


def register_three(writer: Path, tmp_path: Path) -> dict[int, dict[str, bytes]]:
    reg = Registry.open(writer)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "model.bin").write_bytes(b"first weights")
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "weights.bin").write_bytes(b"second " * 1000)
    (tmp_path / "d" / "sub" / "vocab.txt").write_bytes(b"a\nb\n")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "model.bin").write_bytes(b"third weights")
    reg.register("fraud", tmp_path / "a" / "model.bin", push=True)
    reg.register("fraud", tmp_path / "d", push=True)
    reg.register("churn", tmp_path / "c" / "model.bin", push=True)
    return {
        1: {"model.bin": b"first weights"},
        2: {"weights.bin": b"second " * 1000, "sub/vocab.txt": b"a\nb\n"},
        3: {"model.bin": b"third weights"},
    }


def fresh_clone(url: str, dest: Path) -> Path:
    subprocess.run(["git", "clone", "-q", "-b", "main", url, str(dest)], check=True, capture_output=True)
    return dest


def check_clone_pulls_everything(url: str, tmp_path: Path, expected: dict[int, dict[str, bytes]]) -> None:
    clone = fresh_clone(url, tmp_path / "ci")
    assert blob_refs(clone) == []  # a clone's default fetch brings no blob
    reg = Registry.open(clone)
    reg.fetch()
    assert blob_refs(clone) == []  # nor does the registry's own fetch
    assert reg.config.store == "git:"
    for number, (ref, files) in enumerate(
        [("fraud@v1", expected[1]), ("fraud@v2", expected[2]), ("churn@v1", expected[3])]
    ):
        dest = tmp_path / f"out{number}"
        reg.pull(ref, dest)
        assert {str(p.relative_to(dest)): p.read_bytes() for p in dest.rglob("*") if p.is_file()} == files
    assert len(blob_refs(clone)) == 4  # fetched one by one, as the pulls needed them


def test_a_clone_of_a_registry_pushed_over_file_url_pulls_every_version(tmp_path):
    writer, url = team(tmp_path)
    expected = register_three(writer, tmp_path)
    assert len(blob_refs(tmp_path / "srv" / "models.git")) == 4  # the atomic pushes carried them
    check_clone_pulls_everything(url, tmp_path, expected)


def test_a_clone_over_git_daemon_pulls_every_version(tmp_path):
    make_bare(tmp_path)
    with git_daemon(tmp_path / "srv") as prefix:
        writer, url = team(tmp_path, f"{prefix}/models.git")
        expected = register_three(writer, tmp_path)
        check_clone_pulls_everything(url, tmp_path, expected)


def test_init_writes_git_store_and_a_local_registration_keeps_its_blob_in_a_ref(tmp_path, cli, monkeypatch):
    repo = make_repo(tmp_path / "r")
    monkeypatch.chdir(repo)
    assert cli("init").code == 0
    assert yaml.safe_load((repo / ".modelreg/config.yaml").read_text())["store"] == "git:"
    assert not (repo / ".modelreg/.gitignore").exists()
    (tmp_path / "m.bin").write_bytes(b"w")
    result = cli("register", "m", tmp_path / "m.bin")
    assert result.code == 0, result.err
    digest = json.loads(cli("resolve", "m", "--json").out)["digest"]
    assert blob_refs(repo) == [BLOB_REFS + digest.replace(":", "/")]
    assert git(repo, "cat-file", "blob", blob_refs(repo)[0]) == "w"
    oid = git(repo, "rev-parse", blob_refs(repo)[0]).strip()
    assert oid not in git(repo, "rev-list", "--objects", "--branches", "--tags")  # outside branches and tags
    assert cli("pull", "m", "-o", tmp_path / "out").code == 0
    assert (tmp_path / "out" / "m.bin").read_bytes() == b"w"


def test_a_blob_ref_with_other_bytes_is_refused_on_the_way_out(tmp_path):
    writer, url = team(tmp_path)
    (tmp_path / "m.bin").write_bytes(b"the real weights")
    reg = Registry.open(writer)
    version = reg.register("m", tmp_path / "m.bin", push=True)
    ref = BLOB_REFS + version.manifest.artifact.digest.replace(":", "/")
    bad = (
        subprocess.run(
            ["git", "hash-object", "-w", "--stdin"],
            cwd=tmp_path / "srv" / "models.git",
            input=b"forged",
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    git(tmp_path / "srv" / "models.git", "update-ref", ref, bad)
    clone = fresh_clone(url, tmp_path / "ci")
    reader = Registry.open(clone)
    reader.fetch()
    with pytest.raises(IntegrityError, match="corrupt"):
        reader.pull("m", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_gc_removes_only_unreferenced_blob_refs(tmp_path, monkeypatch):
    repo = make_repo(tmp_path / "r")
    Registry.init(repo)
    reg = Registry.open(repo)
    (tmp_path / "keep.bin").write_bytes(b"kept")
    reg.register("m", tmp_path / "keep.bin")
    store = reg.reader.store("git:")
    from modelreg.models import ArtifactFile
    from modelreg.store.hashing import sha256_file

    (tmp_path / "stray.bin").write_bytes(b"stray")
    digest, size = sha256_file(tmp_path / "stray.bin")
    monkeypatch.delenv("GIT_COMMITTER_DATE")  # the reflog entry that dates the ref: now, not the fixed test date
    store.put(tmp_path / "stray.bin", ArtifactFile("stray.bin", digest, size))
    assert len(blob_refs(repo)) == 2
    young = reg.gc(delete=True)  # within the grace period: a registration may be about to use it
    assert young.unreferenced == () and young.young == 1 and len(blob_refs(repo)) == 2
    report = reg.gc(delete=True, grace_s=0)
    assert [b.digest for b in report.unreferenced] == [digest]
    assert blob_refs(repo) == [BLOB_REFS + reg.resolve("m").manifest.artifact.digest.replace(":", "/")]
    assert reg.pull("m", tmp_path / "out").read_bytes() == b"kept"


def test_store_migrate_copies_verified_then_commits_the_config(tmp_path, cli, monkeypatch):
    writer, url = team(tmp_path)
    register_three(writer, tmp_path)
    monkeypatch.chdir(writer)
    shared = tmp_path / "shared-store"
    result = cli("store", "migrate", str(shared), "--push", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert (report["from"], report["blobs"], report["copied"]) == ("git:", 4, 4)
    assert sorted(p.name for p in (shared / "blobs").rglob("*") if p.is_file()) == sorted(
        ref.rsplit("/", 1)[1] for ref in blob_refs(writer)
    )
    assert git(writer, "show", "--name-only", "--format=%s", report["commit"]).split() == [
        "modelreg:", "move", "the", "store", "to", str(shared), ".modelreg/config.yaml",
    ]  # fmt: skip
    config = yaml.safe_load(git(writer, "show", f"{report['commit']}:.modelreg/config.yaml"))
    assert (config["store"], config["former_stores"]) == (str(shared), ["git:"])
    clone = fresh_clone(url, tmp_path / "ci")
    reg = Registry.open(clone)
    reg.fetch()
    version = reg.resolve("fraud@v2")
    assert version.warnings == ()  # the manifests name git:, a store the registry moved from
    reg.pull("fraud@v2", tmp_path / "out")
    assert (tmp_path / "out" / "sub" / "vocab.txt").read_bytes() == b"a\nb\n"
    assert blob_refs(clone) == []  # read from the new store
    again = cli("store", "migrate", str(shared))
    assert again.code == 1 and "already" in again.err


def test_a_missing_git_blob_names_the_store_the_clone_and_the_fix(tmp_path):
    writer, url = team(tmp_path)
    (tmp_path / "m.bin").write_bytes(b"w")
    version = Registry.open(writer).register("m", tmp_path / "m.bin", push=True)
    ref = BLOB_REFS + version.manifest.artifact.digest.replace(":", "/")
    git(tmp_path / "srv" / "models.git", "update-ref", "-d", ref)  # as if registered without pushing it
    reg = Registry.open(fresh_clone(url, tmp_path / "ci"))
    reg.fetch()
    with pytest.raises(NotFoundError) as caught:
        reg.pull("m", tmp_path / "out")
    message = str(caught.value)
    assert "is missing from store git:" in message
    assert "registered by Jane Doe <jane@example.com>" in message and "on remote origin" in message
    assert "git push origin 'refs/modelreg/blobs/*:refs/modelreg/blobs/*'" in message


def test_a_blob_left_in_another_clones_local_store_says_so(tmp_path):
    bare = make_bare(tmp_path)
    writer = make_repo(tmp_path / "writer")
    git(writer, "remote", "add", "origin", bare.as_uri())
    Registry.init(writer, ".modelreg/store")  # the old default: a directory in the clone
    git(writer, "push", "-q", "origin", "main")
    (tmp_path / "m.bin").write_bytes(b"w")
    Registry.open(writer).register("m", tmp_path / "m.bin", push=True)
    reg = Registry.open(fresh_clone(bare.as_uri(), tmp_path / "ci"))
    reg.fetch()
    with pytest.raises(NotFoundError) as caught:
        reg.pull("m", tmp_path / "out")
    message = str(caught.value)
    assert "missing from store .modelreg/store" in message and "registered by Jane Doe" in message
    assert "a directory inside that clone" in message and "modelreg store migrate git:" in message


def test_a_registry_on_a_local_store_moves_to_git_and_its_clones_pull(tmp_path):
    bare = make_bare(tmp_path)
    writer = make_repo(tmp_path / "writer")
    git(writer, "remote", "add", "origin", bare.as_uri())
    Registry.init(writer, ".modelreg/store")
    git(writer, "push", "-q", "origin", "main")
    (tmp_path / "m.bin").write_bytes(b"w")
    reg = Registry.open(writer)
    reg.register("m", tmp_path / "m.bin", push=True)
    result = reg.migrate_store("git:", push=True)
    assert (result.blobs, result.copied) == (1, 1)
    assert len(blob_refs(bare)) == 1  # pushed with the config commit
    clone = Registry.open(fresh_clone(bare.as_uri(), tmp_path / "ci"))
    clone.fetch()
    assert clone.pull("m", tmp_path / "out").read_bytes() == b"w"


def test_a_reader_without_a_clone_gets_blobs_from_the_url(tmp_path, cli, monkeypatch):
    writer, url = team(tmp_path)
    expected = register_three(writer, tmp_path)
    monkeypatch.chdir(tmp_path)
    result = cli("sync", "fraud@v2", "--dest", tmp_path / "served", "--repo", url, "--once")
    assert result.code == 0, result.err
    current = tmp_path / "served" / "current"
    assert {str(p.relative_to(current)): p.read_bytes() for p in current.rglob("*") if p.is_file()} == expected[2]
