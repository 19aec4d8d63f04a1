"""The only module that touches fsspec: content-addressed blobs, verified on the way out (DESIGN §5)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from modelreg.errors import IntegrityError, ModelregError, NotFoundError
from modelreg.hashing import CHUNK, WORKERS, ProgressFn
from modelreg.models import Artifact, ArtifactFile


class StoreError(ModelregError):
    """The store could not be reached or refused an operation."""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "modelreg" / "blobs"


def blob_path(digest: str) -> str:
    """`sha256/<first two hex>/<hex>`: the blob's key below `<store>/blobs/` and in the cache."""
    algo, _, hexdigest = digest.partition(":")
    return f"{algo}/{hexdigest[:2]}/{hexdigest}"


class BlobStore:
    """A store URL (any fsspec URL, or a path relative to the repository) opened for blobs."""

    def __init__(self, url: str, repo_root: Path, options: dict[str, Any] | None = None) -> None:
        import fsspec  # type: ignore[import-untyped]  # deferred: fsspec costs start-up time that read-only commands never pay

        self.url = url
        target = url if "://" in url else str((repo_root / url).resolve())
        try:
            self.fs, base = fsspec.core.url_to_fs(target, **(options or {}))
        except (ImportError, ValueError) as exc:
            raise StoreError(f"cannot open store {url}: {exc}") from None
        self.base = base.rstrip("/")
        self.is_local = "file" in _protocols(self.fs)

    def key(self, digest: str) -> str:
        return f"{self.base}/blobs/{blob_path(digest)}"

    def has(self, blob: ArtifactFile) -> bool:
        """True when a blob of the right size is at its key (a wrong size is re-uploaded)."""
        try:
            return int(self.fs.size(self.key(blob.digest))) == blob.size
        except FileNotFoundError:
            return False

    def put(self, source: Path, blob: ArtifactFile) -> None:
        """Store `source` under its digest; the final key only ever holds a whole blob."""
        key = self.key(blob.digest)
        if self.is_local:
            _atomic_copy(source, Path(key))
        else:
            self.fs.makedirs(key.rsplit("/", 1)[0], exist_ok=True)
            self.fs.put_file(str(source), key)  # a single PUT or multipart upload: atomic on object stores

    def fetch_to_cache(self, blob: ArtifactFile, cache: Path, progress: ProgressFn | None = None) -> Path:
        """The blob in the local cache, downloaded and verified if it is not there yet."""
        cached = cache / blob_path(blob.digest)
        if cached.is_file() and cached.stat().st_size == blob.size:
            return cached
        cached.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        try:
            with self.fs.open(self.key(blob.digest), "rb") as src, _temp_beside(cached) as (tmp, out):
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    if progress:
                        progress(len(chunk))
                out.flush()
                got = f"sha256:{digest.hexdigest()}"
                if got != blob.digest:
                    self._remove_bad_blob(blob)
                    raise IntegrityError(
                        f"blob {blob.digest} in store {self.url} is corrupt (its bytes hash to {got}); "
                        "it was removed from the store, register the model again to restore it"
                    )
                os.chmod(tmp, 0o444)
                os.replace(tmp, cached)
        except FileNotFoundError:
            raise NotFoundError(f"blob {blob.digest} ({blob.path}) is missing from store {self.url}") from None
        return cached

    def _remove_bad_blob(self, blob: ArtifactFile) -> None:
        with suppress(OSError):
            self.fs.rm_file(self.key(blob.digest))


def _protocols(fs: Any) -> tuple[str, ...]:
    proto = fs.protocol
    return (proto,) if isinstance(proto, str) else tuple(proto)


@contextmanager
def _temp_beside(final: Path) -> Iterator[tuple[Path, Any]]:
    """A temporary file in `final`'s directory (so a rename is atomic), removed unless renamed."""
    tmp = final.parent / f".{final.name}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "wb") as out:
            yield tmp, out
    finally:
        tmp.unlink(missing_ok=True)


def _atomic_copy(source: Path, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    with _temp_beside(final) as (tmp, out):
        with open(source, "rb") as src:
            shutil.copyfileobj(src, out, CHUNK)
        out.flush()
        os.fsync(out.fileno())
        os.chmod(tmp, 0o444)
        os.replace(tmp, final)


def upload(store: BlobStore, files: list[tuple[Path, ArtifactFile]]) -> int:
    """Put every blob the store lacks, in parallel; returns how many were uploaded."""
    unique = {blob.digest: (src, blob) for src, blob in files}

    def one(item: tuple[Path, ArtifactFile]) -> int:
        src, blob = item
        if store.has(blob):
            return 0
        store.put(src, blob)
        return 1

    with ThreadPoolExecutor(WORKERS) as pool:
        return sum(pool.map(one, unique.values()))


def materialise(store: BlobStore, artifact: Artifact, dest: Path, progress: ProgressFn | None = None) -> Path:
    """Place the artifact's files under `dest`, verified, all at once or not at all.

    Returns the file's path for a single-file artifact, `dest` for a directory.
    """
    cache = cache_root()
    with ThreadPoolExecutor(WORKERS) as pool:
        cached = list(pool.map(lambda b: store.fetch_to_cache(b, cache, progress), artifact.files))
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
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
