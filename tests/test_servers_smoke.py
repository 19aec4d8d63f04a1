"""The test servers of tests/servers.py work through their fsspec drivers, and behave as the storage tests assume.

Also a record of where they differ: which exception ``put_file(..., mode="create")`` raises on an existing key.
"""

from __future__ import annotations

import errno
import random
from pathlib import Path
from typing import Any

import fsspec
import pytest

from tests.server_fixtures import azurite, fake_gcs, moto_s3, seaweedfs  # noqa: F401
from tests.servers import StoreServer

# Over gcsfs's 5 MiB simple-upload limit (so a resumable upload, which needs fake-gcs's -external-url) and over
# SeaweedFS's 4 MiB filer chunks; s3fs and adlfs still send it in one PUT.
SIZE = 6 * 1024 * 1024

# What put_file(..., mode="create") raises when the key exists. All four servers refuse the write; SeaweedFS
# answers 412 PreconditionFailed without the <Condition>If-None-Match</Condition> element that AWS and moto send, so
# s3fs maps it to a plain OSError(EINVAL) instead of FileExistsError.
CREATE_ON_EXISTING: dict[str, tuple[type[OSError], int | None]] = {
    "seaweedfs": (OSError, errno.EINVAL),
    "moto": (FileExistsError, None),
    "azurite": (FileExistsError, None),
    "fake-gcs": (FileExistsError, None),
}


@pytest.fixture(params=["seaweedfs", "moto_s3", "azurite", "fake_gcs"])
def server(request: pytest.FixtureRequest) -> StoreServer:
    started: StoreServer = request.getfixturevalue(request.param)
    return started


@pytest.fixture
def store(server: StoreServer, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str]:
    """A fresh bucket of ``server`` through its fsspec driver, with the server's environment applied: (fs, path)."""
    url = server.new_bucket()
    for key, value in server.env.items():
        monkeypatch.setenv(key, value)
    fs, path = fsspec.core.url_to_fs(url, skip_instance_cache=True, **server.options)
    return fs, path


@pytest.fixture(scope="module")
def payload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("payload") / "blob"
    path.write_bytes(random.Random(6).randbytes(SIZE))
    return path


def test_new_bucket_is_fresh_and_empty(server: StoreServer, store: tuple[Any, str]) -> None:
    fs, path = store
    assert server.new_bucket() != f"{server.protocol}://{path}"
    bucket = path.split("/")[0]
    assert fs.ls(bucket, detail=False) == []


def test_roundtrip(store: tuple[Any, str], payload: Path, tmp_path: Path) -> None:
    fs, path = store
    key = f"{path}/blobs/sha256/ab/cdef"
    fs.put_file(str(payload), key)

    assert fs.size(key) == SIZE
    assert fs.cat_file(key) == payload.read_bytes()
    fs.get_file(key, str(tmp_path / "back"))
    assert (tmp_path / "back").read_bytes() == payload.read_bytes()
    assert fs.exists(key)
    assert not fs.exists(f"{path}/blobs/sha256/ab/missing")
    assert not fs.exists(f"{path}/nothing/here/at/all")


def test_create_mode_refuses_existing_key(
    server: StoreServer, store: tuple[Any, str], payload: Path, tmp_path: Path
) -> None:
    fs, path = store
    key = f"{path}/blobs/sha256/ab/cdef"
    fs.put_file(str(payload), key, mode="create")  # a new key: fine
    other = tmp_path / "other"
    other.write_bytes(b"something else")

    expected_type, expected_errno = CREATE_ON_EXISTING[server.name]
    with pytest.raises(OSError) as caught:
        fs.put_file(str(other), key, mode="create")
    assert type(caught.value) is expected_type, f"{server.name} raised {caught.value!r}"
    if expected_errno is not None:
        assert caught.value.errno == expected_errno
    if server.protocol == "s3":
        cause = caught.value.__cause__
        assert cause is not None
        assert getattr(cause, "response", {})["Error"]["Code"] == "PreconditionFailed"
    assert fs.cat_file(key) == payload.read_bytes()  # untouched


def test_seaweedfs_checks_signatures(seaweedfs: StoreServer) -> None:  # noqa: F811
    import s3fs

    key, secret = seaweedfs.env["AWS_ACCESS_KEY_ID"], seaweedfs.env["AWS_SECRET_ACCESS_KEY"]
    good = s3fs.S3FileSystem(key=key, secret=secret, skip_instance_cache=True, **seaweedfs.options)
    bucket = seaweedfs.new_bucket().removeprefix("s3://").split("/")[0]
    assert bucket in good.ls("", detail=False)

    bad = s3fs.S3FileSystem(key=key, secret=secret[::-1], skip_instance_cache=True, **seaweedfs.options)
    with pytest.raises(PermissionError, match="signature"):
        bad.ls("")
    with pytest.raises(PermissionError):
        bad.pipe_file(f"{bucket}/intruder", b"x")
    assert not good.exists(f"{bucket}/intruder")
