"""`modelreg init` and `modelreg register` against real git repositories."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
import yaml

from tests.conftest import git, make_repo, run_modelreg


def test_init_commits_config_and_ignores_the_local_store(tmp_path, cli, monkeypatch):
    repo = make_repo(tmp_path / "r")
    monkeypatch.chdir(repo)
    result = cli("init", "--store", ".modelreg/store", "--json")
    assert result.code == 0, result.err
    info = json.loads(result.out)
    assert info["store"] == ".modelreg/store"
    assert git(repo, "show", "--name-only", "--format=%s", "HEAD").split() == [
        "modelreg:",
        "init",
        "registry",
        ".modelreg/.gitignore",
        ".modelreg/config.yaml",
    ]
    assert git(repo, "status", "--porcelain") == ""
    assert "modelreg: 1" in (repo / ".modelreg/config.yaml").read_text()
    assert git(repo, "check-ignore", ".modelreg/store/blobs/x").strip() == ".modelreg/store/blobs/x"


def test_init_with_a_store_url_writes_no_ignore_rule(tmp_path, cli, monkeypatch):
    repo = make_repo(tmp_path / "r")
    monkeypatch.chdir(repo)
    assert cli("init", "--store", "s3://bucket/registry").code == 0
    config = yaml.safe_load((repo / ".modelreg/config.yaml").read_text())
    assert config["store"] == "s3://bucket/registry"
    assert not (repo / ".modelreg/.gitignore").exists()


def test_register_a_file(repo, cli, artifact):
    path = artifact("model.pkl", b"some weights")
    result = cli(
        "register",
        "fraud-detector",
        path,
        "--param",
        "lr=0.01",
        "--param",
        "depth=6",
        "--param",
        "early=true",
        "--param",
        "solver=adam",
        "--metric",
        "auc=0.923",
        "--tag",
        "team=risk",
        "--description",
        "Tuned",
        "--dataset",
        "s3://data/fraud@v3",
        "--run-id",
        "run-42",
        "--hardware",
        "1x A100",
        "--duration-s",
        "3600",
        "--json",
    )
    assert result.code == 0, result.err
    shown = json.loads(result.out)
    digest = "sha256:" + hashlib.sha256(b"some weights").hexdigest()
    assert shown["version"] == 1
    assert shown["artifact"]["digest"] == digest
    assert shown["stage"] is None and shown["aliases"] == []

    text = (repo / ".modelreg/models/fraud-detector/v1.yaml").read_text()
    manifest = yaml.safe_load(text)
    assert list(manifest)[:6] == ["schema", "name", "version", "created_at", "created_by", "description"]
    assert manifest["schema"] == "modelreg/manifest/v1"
    assert manifest["created_by"] == "Jane Doe <jane@example.com>"
    assert manifest["created_at"] == "2026-01-02T03:04:05Z"
    assert manifest["artifact"] == {
        "store": ".modelreg/store",
        "digest": digest,
        "size": 12,
        "files": [{"path": "model.pkl", "digest": digest, "size": 12}],
    }
    assert manifest["params"] == {"lr": 0.01, "depth": 6, "early": True, "solver": "adam"}
    assert manifest["metrics"] == {"auc": 0.923}
    assert manifest["tags"] == {"team": "risk"}
    assert manifest["lineage"]["dataset"] == "s3://data/fraud@v3"
    assert manifest["lineage"]["run_id"] == "run-42"
    assert manifest["training"] == {"duration_s": 3600.0, "hardware": "1x A100"}
    initial = git(repo, "rev-parse", "HEAD~1").strip()
    assert manifest["lineage"]["code_commit"] == initial
    assert "code_dirty" not in manifest["lineage"]

    # the blob is stored under its digest, byte for byte
    blob = repo / ".modelreg/store/blobs/sha256" / digest[7:9] / digest[7:]
    assert blob.read_bytes() == b"some weights"
    # the tag is annotated, points at the commit that added the manifest, and carries the facts
    assert git(repo, "cat-file", "-t", "fraud-detector@v1").strip() == "tag"
    tagged = git(repo, "rev-parse", "fraud-detector@v1^{commit}").strip()
    assert tagged == git(repo, "rev-parse", "HEAD").strip()
    assert git(repo, "show", f"{tagged}:.modelreg/models/fraud-detector/v1.yaml") == text
    body = git(repo, "tag", "-l", "--format=%(contents:body)", "fraud-detector@v1")
    # millis: the tag's time in milliseconds (the fixed GIT_COMMITTER_DATE here, so a whole second)
    expected = {"modelreg": 1, "action": "register", "version": 1, "digest": digest, "after": 0}
    expected["millis"] = 1767323045000
    assert json.loads(body) == expected
    assert git(repo, "status", "--porcelain") == ""


def test_register_a_directory(repo, cli, tmp_path):
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "weights.bin").write_bytes(b"w" * 1000)
    (model / "config.json").write_text("{}")
    (model / "sub" / "vocab.txt").write_text("a\nb\n")
    result = cli("register", "llm", model, "--json")
    assert result.code == 0, result.err
    files = json.loads(result.out)["artifact"]["files"]
    assert [f["path"] for f in files] == ["config.json", "sub/vocab.txt", "weights.bin"]
    canonical = "".join(f"{f['digest']} {f['size']} {f['path']}\n" for f in files)
    assert json.loads(result.out)["artifact"]["digest"] == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    assert json.loads(result.out)["artifact"]["size"] == 1000 + 2 + 4


def test_versions_count_up_and_identical_blobs_are_stored_once(repo, cli, artifact):
    path = artifact()
    for expected in (1, 2, 3):
        result = cli("register", "m", path, "--json")
        assert json.loads(result.out)["version"] == expected
    assert git(repo, "tag", "-l").split() == ["m@v1", "m@v2", "m@v3"]
    blobs = [p for p in (repo / ".modelreg/store/blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 1


def test_register_commits_only_its_manifest_and_leaves_the_users_changes_alone(repo, cli, artifact):
    (repo / "README.md").write_text("# staged change\n")
    git(repo, "add", "README.md")
    (repo / "train.py").write_text("print('unstaged change')\n")
    (repo / "notes.txt").write_text("untracked\n")
    before = git(repo, "status", "--porcelain")
    staged_before = git(repo, "diff", "--cached")

    assert cli("register", "m", artifact()).code == 0

    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [".modelreg/models/m/v1.yaml"]
    assert git(repo, "status", "--porcelain") == before
    assert git(repo, "diff", "--cached") == staged_before
    assert (repo / "train.py").read_text() == "print('unstaged change')\n"
    manifest = yaml.safe_load((repo / ".modelreg/models/m/v1.yaml").read_text())
    assert manifest["lineage"]["code_dirty"] is True


def test_register_records_the_parent_version(repo, cli, artifact):
    cli("register", "base", artifact())
    cli("register", "base", artifact(content=b"v2"))
    result = cli("register", "tuned", artifact(content=b"tuned"), "--parent", "base", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["lineage"]["parent"] == "base@v2"


def test_register_to_another_store(repo, cli, artifact, tmp_path):
    other = tmp_path / "shared-store"
    result = cli("register", "m", artifact(), "--store", str(other), "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["artifact"]["store"] == str(other)
    assert len([p for p in other.rglob("*") if p.is_file()]) == 1
    assert cli("pull", "m", "-o", tmp_path / "elsewhere").code == 1  # not in the store of record
    pulled = cli("pull", "m", "-o", tmp_path / "out", "--store", str(other), "--json")
    assert Path(json.loads(pulled.out)["path"]).read_bytes() == b"weights v1"


def test_python_module_entry_point(repo, artifact):
    """`python -m modelreg` is the whole CLI: a write, a read, and a one-line error for bad input."""
    registered = run_modelreg(repo, "register", "m", str(artifact()), "--json")
    digest = json.loads(registered.stdout)["artifact"]["digest"]
    assert run_modelreg(repo, "resolve", "m").stdout == f"m@v1 {digest}\n"
    bad = run_modelreg(repo, "resolve", "Not:A:Name", check=False)
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: invalid reference") and bad.stderr.count("\n") == 1
    assert "Traceback" not in bad.stderr


def test_an_unchanged_file_is_not_hashed_again_but_a_changed_one_is(repo, cli, artifact):
    path = artifact(content=b"A" * 4096)
    first = json.loads(cli("register", "m", path, "--json").out)["artifact"]["digest"]
    assert json.loads(cli("register", "m", path, "--json").out)["artifact"]["digest"] == first
    # Rewrite the bytes in place with the same size and modification time: only the ctime moves.
    stat = path.stat()
    path.write_bytes(b"B" * 4096)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    third = json.loads(cli("register", "m", path, "--json").out)["artifact"]["digest"]
    assert third == "sha256:" + hashlib.sha256(b"B" * 4096).hexdigest()
    assert cli("verify", "--blobs").code == 0


def test_register_reads_a_file_rewritten_in_the_timestamp_tick_of_its_cached_digest(repo, cli, artifact):
    from modelreg.paths import cache_home
    from modelreg.store.digestcache import DigestCache, stat_key

    path = artifact(content=b"A" * 4096)
    first = json.loads(cli("register", "m", path, "--json").out)["artifact"]["digest"]
    # On a file system with coarse timestamps, a same-size rewrite in the tick the digest was cached
    # keeps the file's stat identity: record exactly that (the entry's write time precedes the rewrite).
    cache = DigestCache(cache_home() / "digests.sqlite")
    path.write_bytes(b"B" * 4096)
    cache.put([(path, stat_key(path), first)])
    cache.close()
    second = json.loads(cli("register", "m", path, "--json").out)["artifact"]["digest"]
    assert second == "sha256:" + hashlib.sha256(b"B" * 4096).hexdigest()
    assert cli("verify", "--blobs").code == 0


def test_a_cached_digest_is_not_trusted_for_a_blob_the_store_lacks(repo, cli, artifact):
    path = artifact(content=b"C" * 4096)
    digest = json.loads(cli("register", "m", path, "--json").out)["artifact"]["digest"]
    blob = repo / ".modelreg/store/blobs/sha256" / digest[7:9] / digest[7:]
    blob.unlink()
    assert cli("register", "m", path).code == 0
    assert blob.read_bytes() == b"C" * 4096


def test_a_stray_tag_with_a_version_name_does_not_block_registration(repo, cli, artifact):
    cli("register", "m", artifact())
    git(repo, "tag", "m@v2")  # lightweight, made by hand: not a registration, but the name is taken
    result = cli("register", "m", artifact(content=b"next"), "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["version"] == 3


def test_the_api_refuses_values_a_manifest_cannot_hold(repo, artifact):
    from modelreg import InvalidInputError, Registry
    from tests.conftest import repo_state

    reg = Registry.open(repo)
    path = artifact()
    before = repo_state(repo)
    for bad in ({"a": [1]}, {"a": {"b": 1}}, {"a": float("nan")}, {"bad key": 1}):
        with pytest.raises(InvalidInputError, match=r"^params: "):
            reg.register("m", path, params=bad)
    assert repo_state(repo) == before


def test_a_file_url_store_is_relative_to_the_repository(repo, cli, artifact, monkeypatch, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    reg = __import__("modelreg").Registry.open(repo)
    reg.register("m", artifact(), store="file://shared-store")
    assert [p for p in (repo / "shared-store").rglob("*") if p.is_file()]
    assert not (elsewhere / "shared-store").exists()
