"""The only module that touches fsspec: content-addressed blobs, verified on the way out (DESIGN §5).

A blob lives at `<store>/blobs/sha256/<aa>/<hex>` and is only ever visible there whole: local
stores write a temporary file beside it, fsync and link it into place; object stores use one
PUT or multipart upload, which the server makes visible atomically. Nothing a store says about
a blob's content (ETags, checksums) is trusted: bytes are hashed as they are read.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from modelreg.errors import StoreError
from modelreg.models import ArtifactFile
from modelreg.results import StoredBlob
from modelreg.store.filecopy import copy_durable
from modelreg.store.hashing import hash_stream

TMP_DIR = "tmp"  # below the store root: partial local uploads, never under blobs/
_SYNC_WORKERS = 8  # fsyncs in flight at once: they wait on the disk, not the CPU
_UPLOAD_PART = 16 << 20  # a multiple of 256 KiB (GCS) and over 5 MiB (S3's minimum part)


def blob_path(digest: str) -> str:
    """`sha256/<first two hex>/<hex>`: the blob's key below `<store>/blobs/` and in the cache."""
    algo, _, hexdigest = digest.partition(":")
    return f"{algo}/{hexdigest[:2]}/{hexdigest}"


class BlobStore:
    """Blobs in one store. `open_store` picks the implementation: plain files, or fsspec."""

    url: str
    base: str

    def key(self, digest: str) -> str:
        return f"{self.base}/blobs/{blob_path(digest)}"

    # primitives each kind of store provides
    def _size(self, key: str) -> int | None:
        raise NotImplementedError

    def _open(self, key: str) -> BinaryIO:
        raise NotImplementedError

    def open_blob(self, digest: str) -> BinaryIO:
        """A stream of the blob's bytes as the store has them (unverified: hash what you read)."""
        return self._open(self.key(digest))

    def _put(self, source: Path, blob: ArtifactFile, create_only: bool) -> bool:
        """Upload; False when it turned out another writer had stored the blob already."""
        raise NotImplementedError

    def _remove(self, key: str) -> None:
        raise NotImplementedError

    def _find(self, root: str) -> Iterator[tuple[str, int, float | None]]:
        raise NotImplementedError

    # what the registry uses
    def prefetch(self, digests: Iterable[str]) -> None:
        """Look these blobs up together where the store can (each answers the next `has` of it); a hint only."""

    def size_of(self, digest: str) -> int | None:
        """The stored blob's size, or None when it is not there."""
        try:
            return self._size(self.key(digest))
        except Exception as exc:
            raise StoreError(f"cannot reach store {self.url}: {one_line(exc)}") from None

    def has(self, blob: ArtifactFile) -> bool:
        """True when a blob of the right size is at its key; a wrong size is uploaded again."""
        return self.size_of(blob.digest) == blob.size

    def put(self, source: Path, blob: ArtifactFile) -> bool:
        """Store `source` under its digest unless a whole copy is there; True if it uploaded."""
        present = self.size_of(blob.digest)
        if present == blob.size:
            return False
        try:
            # Create-only where nothing is there; replace a truncated or foreign object.
            return self._put(source, blob, create_only=present is None)
        except Exception as exc:
            # Another writer may have stored the same bytes first ("already exists" comes back as
            # FileExistsError, a 412, or SeaweedFS's OSError(EINVAL)): fine if the blob is whole now.
            if self.has(blob):
                return False
            raise StoreError(f"upload of {blob.digest} to store {self.url} failed: {one_line(exc)}") from None

    def remove(self, digest: str) -> None:
        with suppress(FileNotFoundError):
            self._remove(self.key(digest))

    def remove_path(self, path: str) -> None:
        with suppress(FileNotFoundError):
            self._remove(path)

    def verify(self, blob: ArtifactFile) -> str | None:
        """Re-hash a stored blob; None when it is whole and right, else what is wrong."""
        size = self.size_of(blob.digest)
        if size is None:
            return f"blob {blob.digest} ({blob.path}) is missing from store {self.url}"
        if size != blob.size:
            return f"blob {blob.digest} ({blob.path}) in store {self.url} has {size} bytes, expected {blob.size}"
        with self._open(self.key(blob.digest)) as src:
            got, _ = hash_stream(src)
        return None if got == blob.digest else f"blob {blob.digest} ({blob.path}) in store {self.url} hashes to {got}"

    def list_blobs(self) -> Iterator[StoredBlob]:
        """Every blob under `<store>/blobs/sha256/`."""
        for path, size, modified in self._find(f"{self.base}/blobs/sha256"):
            name = path.rstrip("/").rsplit("/", 1)[-1]
            if len(name) == 64 and all(c in "0123456789abcdef" for c in name):
                yield StoredBlob(f"sha256:{name}", size, modified)

    def list_temps(self) -> Iterator[tuple[str, float | None]]:
        """Leftovers of interrupted local uploads."""
        for path, _, modified in self._find(f"{self.base}/{TMP_DIR}"):
            yield path, modified


class LocalStore(BlobStore):
    """A directory on this machine: plain file operations, no fsspec."""

    def __init__(self, url: str, root: Path) -> None:
        self.url = url
        self.base = str(root)

    def _size(self, key: str) -> int | None:
        try:
            return os.stat(key).st_size
        except FileNotFoundError:
            return None

    def _open(self, key: str) -> BinaryIO:
        return open(key, "rb")

    def _put(self, source: Path, blob: ArtifactFile, create_only: bool) -> bool:
        tmp = self.local_temp()
        copy_durable(source, tmp)
        return self.commit_local(tmp, blob)

    def put_copy(self, source: Path, blob: ArtifactFile, unchanged: Callable[[], None]) -> bool:
        """Store the local file `source`, already hashed as `blob`, unless that blob is here; True if it is new.

        The copy is made in the kernel into a temporary file and fsynced (`copy_durable`); then
        `unchanged` is called, which raises when `source` changed after it was hashed, and only then
        is the copy linked under its key. The new directory entries are made durable by `sync_dirs`.
        """
        if self.has(blob):
            return False
        tmp = self.local_temp()
        try:
            try:
                copy_durable(source, tmp)
            except OSError as exc:
                raise StoreError(f"copy of {source} into store {self.url} failed: {one_line(exc)}") from None
            unchanged()
            return self.commit_local(tmp, blob, synced=True)
        finally:
            tmp.unlink(missing_ok=True)

    def sync_dirs(self, digests: Iterable[str]) -> None:
        """fsync the directories holding these blobs' entries, and those above them up to the store.

        Each fsync waits for a flush of the disk's cache, even when the first has written every entry
        already: they run side by side, so a directory of many small files waits for a few flushes, not one
        a blob directory.
        """
        blobs = Path(self.base) / "blobs"
        directories = sorted({Path(self.key(d)).parent for d in digests})
        if directories:
            from concurrent.futures import ThreadPoolExecutor  # imports logging: 10 ms on every read's start-up

            with ThreadPoolExecutor(_SYNC_WORKERS) as pool:
                list(pool.map(_fsync_dir, [*directories, blobs / "sha256", blobs]))

    def _remove(self, key: str) -> None:
        os.unlink(key)

    def _find(self, root: str) -> Iterator[tuple[str, int, float | None]]:
        for dirpath, _, filenames in os.walk(root):
            for filename in filenames:
                path = os.path.join(dirpath, filename)
                with suppress(FileNotFoundError):
                    info = os.stat(path)
                    yield path, info.st_size, info.st_mtime

    def local_temp(self) -> Path:
        """A new temporary path inside the store, on the same filesystem as the blobs."""
        directory = Path(self.base) / TMP_DIR
        directory.mkdir(parents=True, exist_ok=True)
        return directory / f"{uuid.uuid4().hex}.part"

    def commit_local(self, tmp: Path, blob: ArtifactFile, *, synced: bool = False) -> bool:
        """Make a complete temporary copy durable and visible under its key; True if it was new.

        `synced` says the copy is fsynced already and the caller makes the new entry durable
        (`sync_dirs`) before it relies on it: each fsync costs a flush of the disk's cache, even
        one with nothing left to write.
        """
        final = Path(self.key(blob.digest))
        try:
            if self.has(blob):
                return False
            if not synced:
                with open(tmp, "rb+") as handle:
                    os.fsync(handle.fileno())
            os.chmod(tmp, 0o444)
            final.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(tmp, final)  # put-if-absent: never replaces a blob another writer just stored
            except FileExistsError:
                if self.has(blob):
                    return False
                os.replace(tmp, final)  # what was there had the wrong size
            if not synced:
                _fsync_dir(final.parent)
            return True
        finally:
            tmp.unlink(missing_ok=True)


class FsspecStore(BlobStore):
    """Any other fsspec URL: s3://, gs://, az://, memory://, …"""

    def __init__(self, url: str, options: dict[str, Any]) -> None:
        import fsspec  # type: ignore[import-untyped]  # deferred: local stores never pay for it

        self.url = url
        try:
            self.fs, base = fsspec.core.url_to_fs(url, **options)
        except (ImportError, ValueError, TypeError) as exc:
            raise StoreError(f"cannot open store {url}: {one_line(exc)}") from None
        self.base = base.rstrip("/")
        protocols = set(self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,))
        azure, s3, gcs = {"az", "abfs", "abfss"} & protocols, {"s3", "s3a"} & protocols, {"gs", "gcs"} & protocols
        self._create_kwargs: dict[str, Any] = {"overwrite": False} if azure else {"mode": "create"} if s3 or gcs else {}
        # Upload in parts of bounded size, so memory does not grow with the file (the drivers'
        # defaults buffer a whole file under 100 MiB, and up to 10 parts of 50 MiB at once).
        self._upload_kwargs: dict[str, Any] = (
            {"chunksize": _UPLOAD_PART, "max_concurrency": 2}
            if s3
            else {"chunksize": _UPLOAD_PART}
            if gcs
            else {"max_concurrency": 2}
            if azure
            else {}
        )

    def _size(self, key: str) -> int | None:
        try:
            return int(self.fs.size(key))
        except FileNotFoundError:
            return None

    def _open(self, key: str) -> BinaryIO:
        return self.fs.open(key, "rb")  # type: ignore[no-any-return]

    def _put(self, source: Path, blob: ArtifactFile, create_only: bool) -> bool:
        key = self.key(blob.digest)
        self.fs.makedirs(key.rsplit("/", 1)[0], exist_ok=True)
        # One PUT or a multipart upload: the object appears whole or not at all.
        kwargs = {**self._upload_kwargs, **(self._create_kwargs if create_only else {})}
        self.fs.put_file(str(source), key, **kwargs)
        return True

    def _remove(self, key: str) -> None:
        self.fs.rm_file(key)

    def _find(self, root: str) -> Iterator[tuple[str, int, float | None]]:
        try:
            found = self.fs.find(root, detail=True)
        except FileNotFoundError:
            return
        for path, info in found.items():
            yield path, int(info.get("size") or 0), _mtime(info)


def open_store(url: str, repo_root: Path, options: Mapping[str, Any] | None = None) -> BlobStore:
    """A store for `url`: a path (relative to the repository) or `file://` opens as plain files."""
    if "://" not in url:
        return LocalStore(url, (repo_root / url).resolve())
    if url.startswith("file://"):
        return LocalStore(url, (repo_root / url.removeprefix("file://")).resolve())  # absolute paths stay
    return FsspecStore(url, dict(options or {}))


def _mtime(info: dict[str, Any]) -> float | None:
    """A listing entry's modification time, in whichever form the driver reports it."""
    for key in ("mtime", "LastModified", "last_modified", "updated"):
        value = info.get(key)
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, str):
            with suppress(ValueError):
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return None


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _fsync_dir(directory: Path) -> None:
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def older_than(modified: float | None, seconds: float) -> bool:
    """Unknown ages count as young: gc never deletes what it cannot date."""
    return modified is not None and time.time() - modified > seconds
