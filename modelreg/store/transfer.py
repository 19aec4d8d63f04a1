"""Moving artifacts between a work tree, the local blob cache and a store: register's ingest, pull's materialise.

Every byte is hashed as it is read (hashing.hash_stream); the store is reached only through
storage's BlobStore.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import BinaryIO

from modelreg.cachefile import private
from modelreg.core.progress import ProgressFn
from modelreg.errors import IntegrityError, InvalidInputError, ModelregError, NotFoundError, StoreError
from modelreg.models import Artifact, ArtifactFile
from modelreg.paths import cache_home
from modelreg.store.blobs import BlobStore, LocalStore, blob_path, one_line
from modelreg.store.digestcache import DigestCache, StatKey, stat_key
from modelreg.store.filecopy import copy_file
from modelreg.store.hashing import WORKERS, hash_stream, sha256_file

# Local stores: one worker a core (a hash pass is bound by the CPU, the copy by the disk), not by latency.
_LOCAL_WORKERS = max(1, os.cpu_count() or 1)


def _swap_in(staging: Path, dest: Path) -> None:
    """Rename `staging` to `dest`; whatever `dest` was is first renamed aside, then removed."""
    try:
        os.rename(staging, dest)  # also takes the place of an empty directory
        return
    except OSError:
        if not os.path.lexists(dest):
            raise
    aside = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.old"
    os.rename(dest, aside)
    try:
        os.rename(staging, dest)
    except OSError:
        os.rename(aside, dest)
        raise
    if aside.is_dir() and not aside.is_symlink():
        shutil.rmtree(aside, ignore_errors=True)
    else:
        aside.unlink()


def cache_root() -> Path:
    return cache_home() / "blobs"


class BlobCache:
    """Verified blobs on this machine, by digest, below a directory only this user can write.

    An entry is served without hashing only while its stat identity (device, inode, size, mtime,
    ctime) is the one recorded when it was verified; anything else (an edit, even by root, a file
    planted by hand, a copy from elsewhere) is hashed again, and dropped if it is wrong.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_root()
        self._identities = DigestCache(cache_home() / "digests.sqlite")

    def __enter__(self) -> BlobCache:
        return self

    def __exit__(self, *_: object) -> None:
        self._identities.close()

    def path(self, digest: str) -> Path:
        return self.root / blob_path(digest)

    def verified(self, blob: ArtifactFile) -> Path | None:
        """The entry for `blob` if it holds exactly the blob's bytes; None (and no entry) otherwise."""
        cached = self.path(blob.digest)
        try:
            key = stat_key(cached)
        except FileNotFoundError:
            return None
        self._check_private(cached.parent)
        if key[2] == blob.size and self._identities.get(cached, key) == blob.digest:
            return cached
        if key[2] == blob.size and sha256_file(cached)[0] == blob.digest:
            self._remember(cached, blob.digest)
            return cached
        cached.unlink(missing_ok=True)
        return None

    def fill(self, store: BlobStore, blob: ArtifactFile, progress: ProgressFn | None = None) -> Path:
        """The blob's entry, downloaded and verified if it is not there yet."""
        cached = self.verified(blob)
        if cached is not None:
            return cached
        cached = self.path(blob.digest)
        for directory in reversed((cached.parent, *cached.parent.parents)):  # each level 0700, not just the last
            if not directory.is_dir():
                directory.mkdir(mode=0o700, exist_ok=True)
        self._check_private(cached.parent)
        tmp = cached.parent / f".{cached.name}.{uuid.uuid4().hex}.tmp"
        try:
            with store.open_blob(blob.digest) as src:
                got, size = copy_and_hash(src, tmp, progress)
            if got != blob.digest:
                raise IntegrityError(
                    f"blob {blob.digest} ({blob.path}) in store {store.url} is corrupt: its bytes hash to "
                    f"{got}; nothing was placed (`modelreg verify --blobs` lists every damaged blob)"
                )
            if size != blob.size:
                raise IntegrityError(
                    f"the manifest gives {blob.path} a size of {blob.size} bytes, but blob {blob.digest} "
                    f"holds {size}: the manifest is wrong; nothing was placed"
                )
            os.replace(tmp, cached)
            self._remember(cached, blob.digest)
        except FileNotFoundError:
            raise NotFoundError(f"blob {blob.digest} ({blob.path}) is missing from store {store.url}") from None
        except ModelregError:
            raise
        except Exception as exc:
            raise StoreError(f"download of {blob.digest} from store {store.url} failed: {one_line(exc)}") from None
        finally:
            tmp.unlink(missing_ok=True)
        return cached

    def _remember(self, cached: Path, digest: str) -> None:
        os.chmod(cached, 0o444)  # a guard against accidents only: the identity below is what is trusted
        self._identities.put([(cached, stat_key(cached), digest)])

    def _check_private(self, directory: Path) -> None:
        """Refuse a cache directory (or one above it, up to modelreg's) another user owns or can write."""
        top = self.root.parent
        for path in (directory, *directory.parents):
            if not private(path.stat()):
                raise InvalidInputError(
                    f"the blob cache directory {path} is owned or writable by another user, who could plant "
                    "blobs in it: make it yours alone (chmod 700) or point XDG_CACHE_HOME elsewhere"
                )
            if path == top:
                return


def ingest(
    store: BlobStore,
    files: list[tuple[Path, str]],
    progress: ProgressFn | None = None,
) -> tuple[list[ArtifactFile], int]:
    """Hash every file and store the blobs the store lacks; returns (files, blobs uploaded).

    A file unchanged since an earlier registration on this machine is not read again (its
    digest is remembered by stat identity) when its blob is already stored. Otherwise each file is
    hashed, and a blob the store lacks is stored: on a local store by a copy inside the kernel
    (a reflink where the filesystem has them), fsynced, checked against the file's stat identity
    and only then linked under its key, so a local store never holds a blob whose bytes are not
    the ones hashed (measured against the one-read copy in benchmarks/results.md). Every blob
    written is durable when this returns. A file that changes while it is being registered is
    refused.
    """
    local = isinstance(store, LocalStore)
    cache = DigestCache(cache_home() / "digests.sqlite")
    try:
        keys = {src: stat_key(src) for src, _ in files}
        known = {src: d for src, _ in files if (d := cache.get(src, keys[src])) is not None}
        store.prefetch(known.values())

        def one(item: tuple[Path, str]) -> tuple[ArtifactFile, bool]:
            src, rel = item
            size = keys[src][2]
            if src in known and store.has(ArtifactFile(rel, known[src], size)):
                if progress:
                    progress(size)
                return ArtifactFile(rel, known[src], size), False
            digest, size = sha256_file(src, progress)
            blob = ArtifactFile(rel, digest, size)
            if isinstance(store, LocalStore):
                return blob, store.put_copy(src, blob, lambda: _refuse_changed(src, keys[src]))
            return blob, store.put(src, blob)

        from concurrent.futures import ThreadPoolExecutor  # imports logging: 10 ms on every read's start-up

        with ThreadPoolExecutor(_LOCAL_WORKERS if local else WORKERS) as pool:
            results = list(pool.map(one, files))
        if isinstance(store, LocalStore):
            store.sync_dirs(blob.digest for blob, new in results if new)
        changed = [src for src, _ in files if stat_key(src) != keys[src]]
        if changed:
            # A local blob holds the bytes hashed (its copy was checked before it was linked);
            # an upload may mix old and new bytes under the old digest: take it back.
            for (src, _), (blob, new) in zip(files, results, strict=True):
                if new and src in changed and not local:
                    store.remove(blob.digest)
            _refuse_changed(changed[0], None)
        # Only what was hashed: an entry `get` answered is left as it is (a put would be a transaction, an fsync).
        pairs = zip(files, results, strict=True)
        cache.put([(src, keys[src], blob.digest) for (src, _), (blob, _) in pairs if known.get(src) != blob.digest])
    finally:
        cache.close()
    return [blob for blob, _ in results], sum(new for _, new in results)


def _refuse_changed(src: Path, key: StatKey | None) -> None:
    """Raise unless `src` still has the stat identity `key` (None: it is known to have changed)."""
    try:
        same = key is not None and stat_key(src) == key
    except FileNotFoundError:
        same = False
    if not same:
        raise InvalidInputError(f"{src} changed while it was being registered; register it again")


def copy_and_hash(source: BinaryIO, target: Path, progress: ProgressFn | None = None) -> tuple[str, int]:
    """Read `source` once into a new file `target`, durable when this returns; (digest, size) of what was read."""
    with open(target, "wb", buffering=0) as out:
        digest, size = hash_stream(source, _EarlyWriteback(out.fileno()).write, progress)
        os.fsync(out.fileno())  # cheap: early writeback has flushed nearly everything already
    return digest, size


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


def check_destination(dest: Path, force: bool) -> None:
    """Refuse to pull onto a file or into a non-empty directory unless `force` says to replace it."""
    if force or not os.path.lexists(dest):
        return
    if dest.is_dir() and not dest.is_symlink():
        if next(os.scandir(dest), None) is None:
            return
        raise InvalidInputError(f"{dest} is not empty: pull into a new or empty directory, or replace it with --force")
    raise InvalidInputError(f"{dest} exists and is not a directory: -o names the directory to create (or --force)")


def materialise(
    store: BlobStore, artifact: Artifact, dest: Path, progress: ProgressFn | None = None, *, force: bool = False
) -> Path:
    """Place the artifact's files in the directory `dest`, verified, all at once or not at all.

    `dest` must not exist or be empty; with `force`, what is there (a file, a directory) is swapped
    out by renames and removed afterwards, so `dest` never holds a mix of old and new files.

    The files are copies of verified cache entries (reflinks where the filesystem has them), never
    hard links: editing a pulled file cannot change the cache. Returns the file's path for a
    single-file artifact, `dest` for a directory.
    """
    with BlobCache() as cache:
        hits = {b.digest: p for b in artifact.files if (p := cache.verified(b)) is not None}
        misses = list({b.digest: b for b in artifact.files if b.digest not in hits}.values())
        if progress:
            progress(sum(b.size for b in artifact.files if b.digest in hits))
        if misses:
            from concurrent.futures import ThreadPoolExecutor  # imports logging: 10 ms on every read's start-up

            with ThreadPoolExecutor(WORKERS) as pool:
                filled = pool.map(lambda b: cache.fill(store, b, progress), misses)
                hits.update(zip((b.digest for b in misses), filled, strict=True))
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it 0700; a pulled directory is an ordinary one
    try:
        for blob in artifact.files:
            target = staging / blob.path
            target.parent.mkdir(parents=True, exist_ok=True)
            copy_file(hits[blob.digest], target)
        check_destination(dest, force)  # again: something may have appeared while downloading
        _swap_in(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest / artifact.files[0].path if artifact.is_single_file else dest
