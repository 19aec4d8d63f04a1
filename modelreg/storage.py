"""The only module that touches fsspec: content-addressed blobs, verified on the way out (DESIGN §5).

A blob lives at `<store>/blobs/sha256/<aa>/<hex>` and is only ever visible there whole: local
stores write a temporary file beside it, fsync and link it into place; object stores use one
PUT or multipart upload, which the server makes visible atomically. Nothing a store says about
a blob's content (ETags, checksums) is trusted: bytes are hashed as they are read.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import Any, BinaryIO

from modelreg.digestcache import DigestCache, stat_key
from modelreg.errors import IntegrityError, InvalidInputError, ModelregError, NotFoundError, StoreError
from modelreg.hashing import CHUNK, WORKERS, ProgressFn, sha256_file
from modelreg.models import Artifact, ArtifactFile
from modelreg.paths import cache_home
from modelreg.results import StoredBlob

TMP_DIR = "tmp"  # below the store root: partial local uploads, never under blobs/
_UPLOAD_PART = 16 << 20  # a multiple of 256 KiB (GCS) and over 5 MiB (S3's minimum part)
_PIPE_CHUNK = 4 << 20
_PIPE_DEPTH = 3
# Local copies run two threads each (hash, write) and are bound by CPU and disk, not latency.
_LOCAL_WORKERS = max(1, os.cpu_count() or 1)


def cache_root() -> Path:
    return cache_home() / "blobs"


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

    def _put(self, source: Path, blob: ArtifactFile, create_only: bool) -> bool:
        """Upload; False when it turned out another writer had stored the blob already."""
        raise NotImplementedError

    def _remove(self, key: str) -> None:
        raise NotImplementedError

    def _find(self, root: str) -> Iterator[tuple[str, int, float | None]]:
        raise NotImplementedError

    # what the registry uses
    def size_of(self, digest: str) -> int | None:
        """The stored blob's size, or None when it is not there."""
        try:
            return self._size(self.key(digest))
        except Exception as exc:
            raise StoreError(f"cannot reach store {self.url}: {_one_line(exc)}") from None

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
            raise StoreError(f"upload of {blob.digest} to store {self.url} failed: {_one_line(exc)}") from None

    def remove(self, digest: str) -> None:
        with suppress(FileNotFoundError):
            self._remove(self.key(digest))

    def remove_path(self, path: str) -> None:
        with suppress(FileNotFoundError):
            self._remove(path)

    def fetch_to_cache(self, blob: ArtifactFile, cache: Path, progress: ProgressFn | None = None) -> Path:
        """The blob in the local cache, downloaded and verified if it is not there yet."""
        cached = cache / blob_path(blob.digest)
        if _cache_hit(cached, blob):
            return cached
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.parent / f".{cached.name}.{uuid.uuid4().hex}.tmp"
        try:
            with self._open(self.key(blob.digest)) as src:
                got, _ = _copy_and_hash(src, tmp, progress)
                if got != blob.digest:
                    raise IntegrityError(
                        f"blob {blob.digest} ({blob.path}) in store {self.url} is corrupt: its bytes hash to "
                        f"{got}; nothing was placed (`modelreg verify --blobs` lists every damaged blob)"
                    )
                os.chmod(tmp, 0o444)
                os.replace(tmp, cached)
        except FileNotFoundError:
            raise NotFoundError(f"blob {blob.digest} ({blob.path}) is missing from store {self.url}") from None
        except ModelregError:
            raise
        except Exception as exc:
            raise StoreError(f"download of {blob.digest} from store {self.url} failed: {_one_line(exc)}") from None
        finally:
            tmp.unlink(missing_ok=True)
        return cached

    def verify(self, blob: ArtifactFile) -> str | None:
        """Re-hash a stored blob; None when it is whole and right, else what is wrong."""
        size = self.size_of(blob.digest)
        if size is None:
            return f"blob {blob.digest} ({blob.path}) is missing from store {self.url}"
        if size != blob.size:
            return f"blob {blob.digest} ({blob.path}) in store {self.url} has {size} bytes, expected {blob.size}"
        digest = hashlib.sha256()
        with self._open(self.key(blob.digest)) as src:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
        got = f"sha256:{digest.hexdigest()}"
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
        _copy_file(source, tmp)
        return self.commit_local(tmp, blob)

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

    def commit_local(self, tmp: Path, blob: ArtifactFile) -> bool:
        """Make a complete temporary copy durable and visible under its key; True if it was new."""
        final = Path(self.key(blob.digest))
        try:
            if self.has(blob):
                return False
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
            raise StoreError(f"cannot open store {url}: {_one_line(exc)}") from None
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
    from datetime import datetime

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


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _cache_hit(cached: Path, blob: ArtifactFile) -> bool:
    """A cached blob is trusted while it is read-only and the right size; otherwise re-verified."""
    try:
        info = cached.stat()
    except FileNotFoundError:
        return False
    if info.st_size == blob.size and not info.st_mode & 0o222:
        return True
    if info.st_size == blob.size and sha256_file(cached)[0] == blob.digest:
        os.chmod(cached, 0o444)
        return True
    cached.unlink(missing_ok=True)
    return False


def _copy_file(source: Path, target: Path) -> None:
    """Copy in the kernel where the platform allows (no bytes through Python)."""
    with open(source, "rb") as src, open(target, "wb") as dst:
        if hasattr(os, "copy_file_range"):
            try:
                while os.copy_file_range(src.fileno(), dst.fileno(), 1 << 30):
                    pass
                return
            except OSError:
                src.seek(0)
                dst.seek(0)
                dst.truncate()
        shutil.copyfileobj(src, dst, CHUNK)


def _fsync_dir(directory: Path) -> None:
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def ingest(
    store: BlobStore,
    files: list[tuple[Path, str]],
    progress: ProgressFn | None = None,
) -> tuple[list[ArtifactFile], int]:
    """Hash every file and store the blobs the store lacks; returns (files, blobs uploaded).

    A file unchanged since an earlier registration on this machine is not read again (its
    digest is remembered by stat identity) when its blob is already stored. Otherwise, on a local
    store, each file is read once: the same buffers are hashed and written to a temporary file
    in the store, which is linked into place once the digest is known (or dropped when that blob
    is already there). Object stores get the blobs they lack after hashing. A file that changes
    while it is being registered is refused.
    """
    cache = DigestCache(cache_home() / "digests.sqlite")
    try:
        keys = {src: stat_key(src) for src, _ in files}
        known = {src: d for src, _ in files if (d := cache.get(src, keys[src])) is not None}

        def one(item: tuple[Path, str]) -> tuple[ArtifactFile, bool]:
            src, rel = item
            size = keys[src][2]
            if src in known and store.has(ArtifactFile(rel, known[src], size)):
                if progress:
                    progress(size)
                return ArtifactFile(rel, known[src], size), False
            if isinstance(store, LocalStore):
                tmp = store.local_temp()
                try:
                    with open(src, "rb") as reader:
                        digest, size = _copy_and_hash(reader, tmp, progress)
                    blob = ArtifactFile(rel, digest, size)
                    return blob, store.commit_local(tmp, blob)
                finally:
                    tmp.unlink(missing_ok=True)
            digest, size = sha256_file(src, progress)
            blob = ArtifactFile(rel, digest, size)
            return blob, store.put(src, blob)

        with ThreadPoolExecutor(_LOCAL_WORKERS if isinstance(store, LocalStore) else WORKERS) as pool:
            results = list(pool.map(one, files))
        changed = [src for src, _ in files if stat_key(src) != keys[src]]
        if changed:
            # What was uploaded may mix old and new bytes under the old digest: take it back.
            for (src, _), (blob, new) in zip(files, results, strict=True):
                if new and src in changed:
                    store.remove(blob.digest)
            raise InvalidInputError(f"{changed[0]} changed while it was being registered; register it again")
        cache.put([(src, keys[src], blob.digest) for (src, _), (blob, _) in zip(files, results, strict=True)])
    finally:
        cache.close()
    return [blob for blob, _ in results], sum(new for _, new in results)


def _copy_and_hash(source: BinaryIO, target: Path, progress: ProgressFn | None) -> tuple[str, int]:
    """Read `source` once into `target`: each buffer is hashed on one thread while another writes it.

    The digest is of the bytes actually read, whatever the source (a file, an object store stream)
    claims about itself.
    """
    digest = hashlib.sha256()
    buffers = [bytearray(_PIPE_CHUNK) for _ in range(_PIPE_DEPTH)]
    pending: list[list[Any]] = [[] for _ in range(_PIPE_DEPTH)]
    size = 0
    with (
        open(target, "wb", buffering=0) as out,
        ThreadPoolExecutor(1) as hasher,
        ThreadPoolExecutor(1) as writer,
    ):
        flusher = _EarlyWriteback(out.fileno())
        for index in itertools.count():
            slot = index % _PIPE_DEPTH
            for future in pending[slot]:  # this buffer is free once its hash and write are done
                future.result()
            n = source.readinto(buffers[slot])  # type: ignore[attr-defined]
            if not n:
                break
            view = memoryview(buffers[slot])[:n]
            pending[slot] = [hasher.submit(digest.update, view), writer.submit(flusher.write, view)]
            size += n
            if progress:
                progress(n)
        for futures in pending:
            for future in futures:
                future.result()
        os.fsync(out.fileno())  # cheap: early writeback has flushed nearly everything already
    return f"sha256:{digest.hexdigest()}", size


class _EarlyWriteback:
    """Writes a file and asks the kernel to start writing it to disk as it goes.

    `posix_fadvise(DONTNEED)` on the part already written starts its writeback at once, so the
    fsync that makes the blob durable finds almost nothing left to do (measured here: the final
    fsync of 1 GiB drops from ~0.3 s to ~0.01 s), and a large artifact does not crowd the page cache.
    """

    WINDOW = 32 << 20

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.written = 0
        self.advised = 0

    def write(self, data: memoryview) -> None:
        view = data
        while view:
            view = view[os.write(self.fd, view) :]
        self.written += len(data)
        if self.written - self.advised >= self.WINDOW and hasattr(os, "posix_fadvise"):
            os.posix_fadvise(self.fd, self.advised, self.written - self.advised, os.POSIX_FADV_DONTNEED)
            self.advised = self.written


def materialise(store: BlobStore, artifact: Artifact, dest: Path, progress: ProgressFn | None = None) -> Path:
    """Place the artifact's files under `dest`, verified, all at once or not at all.

    Returns the file's path for a single-file artifact, `dest` for a directory.
    """
    cache = cache_root()
    hits = {b.digest: cache / blob_path(b.digest) for b in artifact.files if _cache_hit(cache / blob_path(b.digest), b)}
    misses = [b for b in artifact.files if b.digest not in hits]
    if progress:
        progress(sum(b.size for b in artifact.files if b.digest in hits))
    if misses:
        with ThreadPoolExecutor(WORKERS) as pool:
            hits.update(
                zip(
                    (b.digest for b in misses),
                    pool.map(lambda b: store.fetch_to_cache(b, cache, progress), misses),
                    strict=True,
                )
            )
    cached = [hits[b.digest] for b in artifact.files]
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it 0700; a pulled directory is an ordinary one
    try:
        for blob, source in zip(artifact.files, cached, strict=True):
            target = staging / blob.path
            target.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(source, target)
        if not dest.exists():
            os.rename(staging, dest)
        else:
            for blob in artifact.files:
                target = dest / blob.path
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / blob.path, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest / artifact.files[0].path if artifact.is_single_file else dest


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def older_than(modified: float | None, seconds: float) -> bool:
    """Unknown ages count as young: gc never deletes what it cannot date."""
    return modified is not None and time.time() - modified > seconds
