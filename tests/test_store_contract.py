"""One store contract, run against a local directory, memory://, and real S3, Azure and GCS servers."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from modelreg import IntegrityError, InvalidInputError, NotFoundError, Registry
from modelreg.models import ArtifactFile
from modelreg.store.blobs import BlobStore, open_store
from modelreg.store.transfer import BlobCache, cache_root
from tests.conftest import git, make_repo, run_modelreg, start_modelreg
from tests.server_fixtures import azurite, fake_gcs, moto_s3, seaweedfs  # noqa: F401
from tests.servers import StoreServer

KINDS = ["local", "memory", "seaweedfs", "moto_s3", "azurite", "fake_gcs"]


@pytest.fixture(params=KINDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """(url, storage options) of an empty store of each kind, with the server's environment applied."""
    if request.param == "local":
        return str(tmp_path / "store"), {}
    if request.param == "memory":
        return f"memory://registry-{uuid.uuid4().hex[:8]}", {}
    server: StoreServer = request.getfixturevalue(request.param)
    for key, value in server.env.items():
        monkeypatch.setenv(key, value)
    return server.new_bucket(), server.options


@pytest.fixture
def store(store_url, tmp_path) -> BlobStore:
    url, options = store_url
    return open_store(url, tmp_path, options)


def blob_of(tmp_path: Path, content: bytes, name: str = "model.bin") -> tuple[Path, ArtifactFile]:
    path = tmp_path / name
    path.write_bytes(content)
    return path, ArtifactFile(name, "sha256:" + hashlib.sha256(content).hexdigest(), len(content))


def overwrite_object(store: BlobStore, digest: str, content: bytes) -> None:
    """Replace a stored blob's bytes behind the registry's back, as a faulty disk or a person might."""
    key = store.key(digest)
    if hasattr(store, "fs"):
        store.fs.pipe_file(key, content)
    else:
        os.chmod(key, 0o644)
        Path(key).write_bytes(content)


def test_put_is_idempotent_and_deduplicated(store, tmp_path):
    path, blob = blob_of(tmp_path, os.urandom(3 << 20))
    assert store.size_of(blob.digest) is None
    assert store.put(path, blob) is True
    assert store.has(blob)
    assert store.put(path, blob) is False
    assert [b.digest for b in store.list_blobs()] == [blob.digest]
    assert store.verify(blob) is None


def test_a_blob_of_the_wrong_size_is_uploaded_again(store, tmp_path):
    path, blob = blob_of(tmp_path, b"full content " * 1000)
    store.put(path, blob)
    overwrite_object(store, blob.digest, b"truncated")
    assert not store.has(blob)
    assert "has 9 bytes" in (store.verify(blob) or "")
    assert store.put(path, blob) is True
    assert store.verify(blob) is None


def test_losing_an_upload_race_to_the_same_bytes_is_success(store, tmp_path, monkeypatch):
    """The other writer's object appears between our existence check and our create-only upload."""
    if store.url.startswith("memory://"):
        pytest.skip("memory:// has no create-only upload (identical bytes are simply written again)")
    path, blob = blob_of(tmp_path, os.urandom(1 << 20))
    store.put(path, blob)
    real = store.size_of
    calls = []

    def absent_first(digest):
        calls.append(digest)
        return None if len(calls) == 1 else real(digest)

    monkeypatch.setattr(store, "size_of", absent_first)
    assert store.put(path, blob) is False
    assert len(calls) == 2  # the upload was tried, refused or replaced, and the blob re-checked


def test_download_is_verified_and_cached(store, tmp_path):
    content = os.urandom(2 << 20)
    path, blob = blob_of(tmp_path, content)
    store.put(path, blob)
    with BlobCache(tmp_path / "cache" / "blobs") as cache:
        cached = cache.fill(store, blob)
        assert cached.read_bytes() == content
        assert not cached.stat().st_mode & 0o222
        assert cache.fill(store, blob) == cached == cache.verified(blob)


def test_tampered_bytes_are_refused_and_never_cached(store, tmp_path):
    path, blob = blob_of(tmp_path, b"A" * 5000)
    store.put(path, blob)
    overwrite_object(store, blob.digest, b"B" * 5000)
    with pytest.raises(IntegrityError, match=blob.digest) as info:
        BlobCache(tmp_path / "cache" / "blobs").fill(store, blob)
    assert store.url in str(info.value)
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert "hashes to sha256:" in (store.verify(blob) or "")


def test_a_manifest_size_that_is_not_the_blobs_is_refused(store, tmp_path):
    path, blob = blob_of(tmp_path, b"12345")
    store.put(path, blob)
    lying = blob._replace(size=10**38)
    with pytest.raises(IntegrityError, match=rf"size of {10**38} bytes.*holds 5"):
        BlobCache(tmp_path / "cache" / "blobs").fill(store, lying)
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


def test_a_missing_blob_names_digest_and_store(store, tmp_path):
    _, blob = blob_of(tmp_path, b"never stored")
    with pytest.raises(NotFoundError) as info:
        BlobCache(tmp_path / "cache" / "blobs").fill(store, blob)
    assert blob.digest in str(info.value) and store.url in str(info.value)
    assert "missing from store" in (store.verify(blob) or "")


def test_registry_round_trip(store_url, tmp_path, artifact, monkeypatch):
    url, options = store_url
    repo = make_repo(tmp_path / "repo")
    Registry.init(repo, store=url)
    if options:
        config = repo / ".modelreg/config.yaml"
        config.write_text(config.read_text() + f"store_options: {json.dumps(options)}\n")
    reg = Registry.open(repo)
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    for index in range(6):
        (model / f"shard-{index}.bin").write_bytes(os.urandom(300_000))
    (model / "sub" / "config.json").write_text('{"layers": 2}')
    v1 = reg.register("llm", model)
    v2 = reg.register("llm", model)  # every blob is already there
    assert v1.digest == v2.digest and v1.manifest.artifact.store == url
    pulled = reg.pull("llm@1", tmp_path / "out")
    for index in range(6):
        assert (pulled / f"shard-{index}.bin").read_bytes() == (model / f"shard-{index}.bin").read_bytes()
    report = reg.verify(blobs=True)
    assert report.ok and report.blobs == 7
    assert reg.gc(grace_s=0).unreferenced == ()


def registry_on(server: StoreServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """A repository whose registry stores in a fresh bucket of `server` (endpoint in store_options)."""
    for key, value in server.env.items():
        monkeypatch.setenv(key, value)
    url = server.new_bucket()
    repo = make_repo(tmp_path / "repo")
    Registry.init(repo, store=url)
    config = repo / ".modelreg/config.yaml"
    config.write_text(config.read_text() + f"store_options: {json.dumps(server.options)}\n")
    git(repo, "commit", "-q", "-am", "modelreg: the store's endpoint")  # the policy of record is main's config
    return repo, url


def test_credentials_never_reach_git(seaweedfs, tmp_path, artifact, monkeypatch):  # noqa: F811
    repo, _ = registry_on(seaweedfs, tmp_path, monkeypatch)
    reg = Registry.open(repo)
    reg.register("m", artifact(content=b"weights"), description="uses the team bucket")
    secret = seaweedfs.env["AWS_SECRET_ACCESS_KEY"]
    key_id = seaweedfs.env["AWS_ACCESS_KEY_ID"]
    everything = subprocess.run(
        ["git", "log", "--all", "-p", "--format=%B"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
    everything += subprocess.run(["git", "tag", "-n99"], cwd=repo, capture_output=True, text=True).stdout
    assert secret not in everything and key_id not in everything

    # A wrong secret (a fresh process, so no cached client): a one-line failure that does not echo it.
    env = {"AWS_SECRET_ACCESS_KEY": "wrong-" + secret}
    proc = run_modelreg(repo, "register", "m", str(artifact(content=b"other")), env=env, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert secret not in proc.stderr and key_id not in proc.stderr + proc.stdout


def test_a_killed_upload_leaves_no_blob_under_its_key(seaweedfs, tmp_path, monkeypatch):  # noqa: F811
    repo, url = registry_on(seaweedfs, tmp_path, monkeypatch)
    big = tmp_path / "big.bin"
    with open(big, "wb") as handle:
        for _ in range(48):
            handle.write(os.urandom(4 << 20))  # 192 MiB: a multipart upload
    digest = "sha256:" + hashlib.sha256(big.read_bytes()).hexdigest()
    store = open_store(url, repo, seaweedfs.options)
    bucket = url.removeprefix("s3://").split("/", 1)[0]
    key = store.key(digest).removeprefix(f"{bucket}/")

    def uploading() -> bool:  # the server has begun a multipart upload of this blob's key
        return any(u.get("Key") == key for u in store.fs.list_multipart_uploads(bucket))  # type: ignore[attr-defined]

    log = tmp_path / "register.err"
    with open(log, "w") as err:
        proc = start_modelreg(repo, "register", "m", str(big), stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 120
        while not uploading():  # wait for the event (polled), not for a guessed time
            assert proc.poll() is None, f"register ended before its upload began: {log.read_text()}"
            assert time.monotonic() < deadline, "the upload never started"
            time.sleep(0.01)
        assert proc.poll() is None  # still uploading: killed mid-upload
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert store.size_of(digest) is None  # the parts sent so far are not a blob
    reg = Registry.open(repo)
    assert reg.register("m", big).digest == digest
    assert reg.verify(blobs=True).ok
    assert not [p for p in cache_root().rglob("*") if p.is_file()]


def test_blobs_uploaded_from_a_file_that_changed_meanwhile_are_taken_back(store_url, tmp_path, monkeypatch):
    """The file is rewritten (same size) between hashing and upload: no blob may keep the wrong bytes."""
    import modelreg.store.transfer as transfer

    url, options = store_url
    store = open_store(url, tmp_path, options)
    path, blob = blob_of(tmp_path, b"A" * 100_000)
    real_hash = transfer.sha256_file

    def hash_then_rewrite(src, progress=None):
        result = real_hash(src, progress)
        Path(src).write_bytes(b"B" * 100_000)
        return result

    monkeypatch.setattr(transfer, "sha256_file", hash_then_rewrite)
    real_copy = transfer.copy_and_hash

    def copy_then_rewrite(source, target, progress):
        result = real_copy(source, target, progress)
        path.write_bytes(b"B" * 100_000)
        return result

    monkeypatch.setattr(transfer, "copy_and_hash", copy_then_rewrite)
    with pytest.raises(InvalidInputError, match="changed while it was being registered"):
        transfer.ingest(store, [(path, "model.bin")])
    assert store.size_of(blob.digest) is None
    assert list(store.list_blobs()) == []
