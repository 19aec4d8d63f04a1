"""`modelreg pull`: verified, cached, atomic."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from modelreg.store.transfer import cache_root


@pytest.fixture
def model_dir(tmp_path):
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "weights.bin").write_bytes(os.urandom(300_000))
    (model / "sub" / "vocab.txt").write_text("a\nb\n")
    return model


def blob_of(repo: Path, digest: str) -> Path:
    hexdigest = digest.removeprefix("sha256:")
    return repo / ".modelreg/store/blobs/sha256" / hexdigest[:2] / hexdigest


def test_pull_a_file_by_alias(repo, cli, artifact, tmp_path):
    cli("register", "m", artifact(content=b"one"))
    cli("register", "m", artifact(content=b"two"))
    cli("alias", "set", "m", "champion", "1")
    result = cli("pull", "m@champion", "-o", tmp_path / "serving", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["version"] == 1
    assert Path(data["path"]) == tmp_path / "serving" / "model.pkl"
    assert Path(data["path"]).read_bytes() == b"one"
    assert cli("pull", "m", "-o", tmp_path / "latest").out.strip() == str(tmp_path / "latest" / "model.pkl")


def test_pull_a_directory_defaults_to_name_and_version(repo, cli, model_dir):
    cli("register", "llm", model_dir)
    result = cli("pull", "llm")
    assert result.code == 0, result.err
    target = repo / "llm-v1"
    assert result.out.strip() == str(target)
    assert (target / "weights.bin").read_bytes() == (model_dir / "weights.bin").read_bytes()
    assert (target / "sub" / "vocab.txt").read_text() == "a\nb\n"
    assert not [p for p in repo.iterdir() if p.name.startswith(".llm-v1")]  # no staging dir left


def test_a_second_pull_copies_from_the_cache(repo, cli, model_dir, tmp_path):
    cli("register", "llm", model_dir)
    cli("pull", "llm", "-o", tmp_path / "a")
    store_blob = blob_of(repo, json.loads(cli("resolve", "llm", "--json").out)["digest"])
    assert not store_blob.exists()  # the directory digest is not a blob
    # Break the store: a cached pull must not need it.
    for blob in (repo / ".modelreg/store/blobs").rglob("*"):
        if blob.is_file():
            os.chmod(blob, 0o644)
            blob.write_bytes(b"corrupt")
    result = cli("pull", "llm", "-o", tmp_path / "b")
    assert result.code == 0, result.err
    first, second = tmp_path / "a" / "weights.bin", tmp_path / "b" / "weights.bin"
    assert first.read_bytes() == second.read_bytes() == (model_dir / "weights.bin").read_bytes()
    assert os.stat(first).st_ino != os.stat(second).st_ino  # copies, never links to the cache
    assert os.stat(second).st_mode & 0o200  # an ordinary, writable file


def test_editing_a_pulled_file_changes_nothing_the_next_pull_serves(repo, cli, artifact, tmp_path):
    cli("register", "m", artifact(content=b"the real weights"))
    first = Path(json.loads(cli("pull", "m", "-o", tmp_path / "a", "--json").out)["path"])
    if os.getuid() != 0:  # root writes through the read-only bit; anyone else chmods first
        os.chmod(first, 0o644)
    with open(first, "r+b") as handle:  # in place: same inode, same size
        handle.write(b"EVIL")
    os.chmod(first, 0o444)
    result = cli("pull", "m", "-o", tmp_path / "b", "--json")
    assert result.code == 0, result.err
    assert Path(json.loads(result.out)["path"]).read_bytes() == b"the real weights"


@pytest.mark.parametrize("how", ["edited in place", "planted by hand"])
def test_a_cache_entry_that_changed_is_hashed_again_and_replaced(repo, cli, artifact, tmp_path, how):
    cli("register", "m", artifact(content=b"the real weights"))
    digest = json.loads(cli("resolve", "m", "--json").out)["digest"]
    hexdigest = digest.removeprefix("sha256:")
    entry = cache_root() / "sha256" / hexdigest[:2] / hexdigest
    if how == "edited in place":
        assert cli("pull", "m", "-o", tmp_path / "a").code == 0 and entry.exists()
        os.chmod(entry, 0o644)
        with open(entry, "r+b") as handle:
            handle.write(b"EVIL")
        os.chmod(entry, 0o444)  # read-only and the right size again: only its identity tells
    else:
        entry.parent.mkdir(parents=True, mode=0o700)
        entry.write_bytes(b"EVIL real weights"[:16])
        os.chmod(entry, 0o444)
    assert entry.stat().st_size == len(b"the real weights")
    result = cli("pull", "m", "-o", tmp_path / "b", "--json")
    assert result.code == 0, result.err
    assert Path(json.loads(result.out)["path"]).read_bytes() == b"the real weights"
    assert entry.read_bytes() == b"the real weights"  # fetched again from the store, verified


def test_a_cache_directory_others_can_write_is_refused(repo, cli, artifact, tmp_path):
    cli("register", "m", artifact(content=b"the real weights"))
    assert cli("pull", "m", "-o", tmp_path / "a").code == 0
    os.chmod(cache_root(), 0o777)
    result = cli("pull", "m", "-o", tmp_path / "b")
    assert result.code != 0
    assert result.err.splitlines()[-1].startswith("error: the blob cache directory") and "another user" in result.err
    assert not (tmp_path / "b").exists()


def test_a_tampered_blob_is_caught_and_nothing_is_placed(repo, cli, artifact, tmp_path):
    cli("register", "m", artifact(content=b"the real weights"))
    digest = json.loads(cli("resolve", "m", "--json").out)["digest"]
    blob = blob_of(repo, digest)
    os.chmod(blob, 0o644)
    blob.write_bytes(b"evil weights!!!!")  # same size, other bytes
    result = cli("pull", "m", "-o", tmp_path / "out")
    assert result.code == 4, result.err
    assert digest in result.err and ".modelreg/store" in result.err and "corrupt" in result.err
    assert not (tmp_path / "out").exists()
    assert blob.exists()  # evidence stays in the (possibly shared) store; verify --blobs reports it
    assert not [p for p in cache_root().rglob("*") if p.is_file()]  # nothing unverified in the cache
    assert cli("verify", "--blobs").code == 4


def test_a_missing_blob_names_the_digest_and_store(repo, cli, artifact, tmp_path):
    cli("register", "m", artifact(content=b"weights"))
    digest = json.loads(cli("resolve", "m", "--json").out)["digest"]
    blob_of(repo, digest).unlink()
    result = cli("pull", "m", "-o", tmp_path / "out")
    assert result.code == 1
    assert digest in result.err and "missing from store .modelreg/store" in result.err
    assert not (tmp_path / "out").exists()


def test_pull_into_a_non_empty_directory_is_refused_and_leaves_it_alone(repo, cli, artifact, tmp_path):
    cli("register", "m", artifact(content=b"weights"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = cli("pull", "m", "-o", out)
    assert result.code == 1 and "is not empty" in result.err
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_a_pulled_directory_has_ordinary_permissions(repo, cli, model_dir, tmp_path):
    cli("register", "llm", model_dir)
    cli("pull", "llm", "-o", tmp_path / "out")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o777 & ~umask
