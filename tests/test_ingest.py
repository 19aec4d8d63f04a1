"""Register into a local store: hash once, copy in the kernel, durable before visible, never twice."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import modelreg.store.blobs as blobs
import modelreg.store.filecopy as filecopy
import modelreg.store.transfer as transfer
from modelreg import InvalidInputError, Registry
from modelreg.store.blobs import LocalStore, open_store
from modelreg.store.filecopy import copy_durable


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "blobs").rglob("*") if p.is_file()) if (root / "blobs").exists() else []


def rewrite(path: Path, data: bytes) -> None:
    """Another writer replaces the file's bytes (same size). Its mtime is set a second on, so the
    change shows in the stat identity whatever the filesystem's timestamp tick."""
    before = path.stat().st_mtime_ns
    path.write_bytes(data)
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    opened = open_store(str(tmp_path / "store"), tmp_path)
    assert isinstance(opened, LocalStore)
    return opened


@pytest.mark.parametrize("when", ["after the hash", "after the copy"])
def test_a_file_rewritten_while_it_is_registered_is_refused_and_no_blob_is_stored(store, tmp_path, monkeypatch, when):
    path = tmp_path / "model.bin"
    old, new = b"A" * 300_000, b"B" * 300_000
    path.write_bytes(old)
    if when == "after the hash":
        real_hash = transfer.sha256_file

        def hash_then_rewrite(src, progress=None):
            result = real_hash(src, progress)
            rewrite(path, new)
            return result

        monkeypatch.setattr(transfer, "sha256_file", hash_then_rewrite)
    else:

        def copy_then_rewrite(source, target):
            size = copy_durable(source, target)
            rewrite(path, new)
            return size

        monkeypatch.setattr(blobs, "copy_durable", copy_then_rewrite)
    with pytest.raises(InvalidInputError, match="changed while it was being registered"):
        transfer.ingest(store, [(path, "model.bin")])
    root = Path(store.base)
    assert store.size_of(digest_of(old)) is None
    assert store.size_of(digest_of(new)) is None
    assert stored_files(root) == []
    assert [p for p in (root / "tmp").iterdir()] == []


def test_a_blob_already_stored_is_not_written_again(repo, cli, artifact, tmp_path, monkeypatch):
    first = artifact("model.bin", os.urandom(200_000))
    cli("register", "m", first)
    [blob] = stored_files(repo / ".modelreg/store")
    before = blob.stat()
    copies: list[Path] = []
    real_copy = blobs.copy_durable

    def counting_copy(source, target):
        copies.append(source)
        return real_copy(source, target)

    monkeypatch.setattr(blobs, "copy_durable", counting_copy)
    # The same bytes under another name: the digest cache does not know this file, so it is hashed.
    second = tmp_path / "elsewhere" / "model.bin"
    second.parent.mkdir()
    second.write_bytes(first.read_bytes())
    result = cli("register", "m", second, "--json")
    assert json.loads(result.out)["version"] == 2
    assert copies == []
    after = blob.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_ctime_ns) == (
        before.st_ino,
        before.st_mtime_ns,
        before.st_ctime_ns,
    )
    assert stored_files(repo / ".modelreg/store") == [blob]
    assert list((repo / ".modelreg/store/tmp").iterdir()) == []


def test_a_blob_is_fsynced_whole_before_it_is_linked_and_its_directories_after(store, tmp_path, monkeypatch):
    """The durability path, in the order it must run: copy fsynced, linked, directory entries fsynced."""
    data = os.urandom(3 << 20)
    path = tmp_path / "model.bin"
    path.write_bytes(data)
    final = Path(store.key(digest_of(data)))
    calls: list[tuple[str, str, int]] = []
    real_fsync, real_link = os.fsync, os.link

    def fsync(fd):
        target = os.readlink(f"/proc/self/fd/{fd}")
        calls.append(("fsync", target, os.fstat(fd).st_size))
        return real_fsync(fd)

    def link(src, dst, *args, **kwargs):
        calls.append(("link", f"{src} -> {dst}", 0))
        return real_link(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "link", link)
    files, uploaded = transfer.ingest(store, [(path, "model.bin")])
    assert uploaded == 1
    assert files[0].digest == digest_of(data)
    assert final.read_bytes() == data
    [linked] = [i for i, call in enumerate(calls) if call[0] == "link"]
    tmp = calls[linked][1].split(" -> ")[0]
    assert calls[linked][1] == f"{tmp} -> {final}"
    assert ("fsync", tmp, len(data)) in calls[:linked]
    synced_after = [target for kind, target, _ in calls[linked + 1 :] if kind == "fsync"]
    assert str(final.parent) in synced_after
    assert str(final.parent.parent) in synced_after  # blobs/sha256, where the new <aa> directory was made


CRASHING = """
import os, sys, time
from pathlib import Path
from modelreg.store import transfer
from modelreg.store.blobs import open_store
real = os.copy_file_range
def copy_then_hang(src, dst, count, *rest):
    copied = real(src, dst, min(count, 1 << 20), *rest)
    Path(sys.argv[3]).write_text("copied")
    time.sleep(600)
    return copied
os.copy_file_range = copy_then_hang
store = open_store(sys.argv[1], Path.cwd())
transfer.ingest(store, [(Path(sys.argv[2]), "model.bin")])
"""


@pytest.mark.skipif(not hasattr(os, "copy_file_range"), reason="the copy is hooked at copy_file_range")
def test_a_register_killed_mid_copy_leaves_no_blob_under_its_key(tmp_path):
    data = os.urandom(4 << 20)
    path = tmp_path / "model.bin"
    path.write_bytes(data)
    root, marker = tmp_path / "store", tmp_path / "copied"
    env = {**os.environ, "PYTHONPATH": str(Path(transfer.__file__).parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", CRASHING, str(root), str(path), str(marker)], cwd=tmp_path, env=env)
    try:
        for _ in range(1200):  # up to a minute for the child to start and copy its first window
            if marker.exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert marker.exists(), "the child never reached its copy"
        os.kill(proc.pid, signal.SIGKILL)  # no finally, no cleanup: as a crash
    finally:
        proc.kill()
        proc.wait()
    [partial] = list((root / "tmp").iterdir())
    assert 0 < partial.stat().st_size < len(data)  # the half-written copy is only under tmp/
    assert stored_files(root) == []
    store = open_store(str(root), tmp_path)
    assert store.size_of(digest_of(data)) is None
    files, uploaded = transfer.ingest(store, [(path, "model.bin")])  # a new register is not misled by it
    assert uploaded == 1
    assert store.verify(files[0]) is None


@pytest.mark.parametrize("refused", ["copy_file_range", "copy_file_range and sendfile"])
def test_copy_durable_goes_on_another_way_when_the_kernel_refuses_one(tmp_path, monkeypatch, refused):
    data = os.urandom((filecopy.WRITEBACK_WINDOW * 2) + 12345)
    source, target = tmp_path / "source", tmp_path / "target"
    source.write_bytes(data)
    monkeypatch.setattr(filecopy, "_reflink", lambda src, dst: False)
    calls: list[str] = []

    def refuse(name: str, real):
        def call(*args):
            calls.append(name)
            if name in refused and calls.count(name) == 2:  # after one window went through
                raise OSError(errno.EXDEV, "cross-device")
            return real(*args)

        return call

    monkeypatch.setattr(filecopy, "_copy_file_range", refuse("copy_file_range", filecopy._copy_file_range))
    monkeypatch.setattr(filecopy, "_sendfile", refuse("sendfile", filecopy._sendfile))
    assert copy_durable(source, target) == len(data)
    assert target.read_bytes() == data
    assert "sendfile" in calls
    with pytest.raises(FileExistsError):  # never over an existing file
        copy_durable(source, target)


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="needs a tmpfs at /dev/shm")
def test_register_from_another_filesystem(repo, cli, tmp_path):
    data = os.urandom(5 << 20)
    shm = Path("/dev/shm") / f"modelreg-test-{os.getpid()}-{tmp_path.name}"
    shm.mkdir()
    try:
        (shm / "model.bin").write_bytes(data)
        cli("register", "m", shm / "model.bin")
    finally:
        (shm / "model.bin").unlink()
        shm.rmdir()
    reg = Registry.open(repo)
    assert reg.verify(blobs=True).ok
    [blob] = stored_files(repo / ".modelreg/store")
    assert blob.read_bytes() == data
    assert blob.stat().st_nlink == 1  # a copy of its own, nothing shared with the source
