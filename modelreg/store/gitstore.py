"""The git store (`git:`): blobs as git objects in the registry's own repository, under their own refs.

A team with only a git remote shares models with no other setup: register's atomic push carries
the blob refs with the version tag, and pull fetches the blobs it lacks one ref at a time (a
clone's default fetch never downloads them). Bytes are still hashed on the way out (BlobCache).
Hosts cap object and repository sizes, so this store suits models up to tens of MiB; outgrowing
it is `modelreg store migrate s3://…` (see docs/storage.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from modelreg.errors import GitError, StoreError
from modelreg.git import blobrefs
from modelreg.models import ArtifactFile
from modelreg.results import StoredBlob
from modelreg.store.blobs import BlobStore, open_store

GIT_STORE = "git:"


def is_git_store(url: str) -> bool:
    return url == GIT_STORE


class GitStore(BlobStore):
    """Blobs under `refs/modelreg/blobs/sha256/<hex>` of the repository at `root`; `remote` serves what is missing."""

    def __init__(self, url: str, root: Path, remote: str | None) -> None:
        self.url = url
        self.base = "refs/modelreg"
        self.root = root
        self.remote = remote
        self._looked_up: dict[str, blobrefs.BlobRef | None] = {}  # prefetched: each answers one `_size`
        self._oids: dict[str, str] = {}  # blob ref → the blob it named when this store looked or wrote

    def key(self, digest: str) -> str:
        return blobrefs.blob_ref(digest)

    def prefetch(self, digests: Iterable[str]) -> None:
        keys = [self.key(digest) for digest in dict.fromkeys(digests)]
        found = blobrefs.lookup(self.root, keys)
        self._looked_up.update({key: found.get(key) for key in keys})
        self._oids.update({key: ref.oid for key, ref in found.items()})

    def _size(self, key: str) -> int | None:
        found = self._looked_up.pop(key) if key in self._looked_up else blobrefs.lookup(self.root, [key]).get(key)
        if found is not None:
            self._oids[key] = found.oid
        return found.size if found else None

    def _open(self, key: str) -> BinaryIO:
        found = blobrefs.lookup(self.root, [key]).get(key)
        if found is None and self.remote is not None and blobrefs.remote_exists(self.root, self.remote):
            try:
                blobrefs.fetch_refs(self.root, self.remote, [key])
            except GitError as exc:
                raise StoreError(f"cannot fetch {key} from {self.remote}: {exc}") from None
            found = blobrefs.lookup(self.root, [key]).get(key)
        if found is None:
            raise FileNotFoundError(key)
        return blobrefs.open_blob(self.root, found.oid)

    def _put(self, source: Path, blob: ArtifactFile, create_only: bool) -> bool:
        self._oids[self.key(blob.digest)] = blobrefs.write(self.root, source, self.key(blob.digest))
        return True

    def _remove(self, key: str) -> None:
        self._oids.pop(key, None)
        found = blobrefs.lookup(self.root, [key]).get(key)
        if found is None:
            raise FileNotFoundError(key)
        blobrefs.delete(self.root, key, found.oid)

    def list_blobs(self) -> Iterator[StoredBlob]:
        """The blob refs of this clone, dated by when this clone created them (undated ones count as young)."""
        found = blobrefs.listing(self.root)
        dates = blobrefs.created_at(self.root, [b.ref for b in found])
        for b in found:
            hexdigest = b.ref.rsplit("/", 1)[-1]
            if len(hexdigest) == 64 and all(c in "0123456789abcdef" for c in hexdigest):
                yield StoredBlob(f"sha256:{hexdigest}", b.size, dates.get(b.ref))

    def list_temps(self) -> Iterator[tuple[str, float | None]]:
        return iter(())

    def refs_for(self, files: Sequence[ArtifactFile]) -> list[tuple[str, str]]:
        """(ref, blob id) of these files' blobs, as stored here: what a registration's push carries.

        Those this store looked up or wrote are taken as it found them: the local transaction that publishes
        them verifies each ref still names its blob (and a push needs the blob itself); the others are looked up.
        """
        refs = list(dict.fromkeys(self.key(f.digest) for f in files))
        unknown = [ref for ref in refs if ref not in self._oids]
        found = {ref: b.oid for ref, b in blobrefs.lookup(self.root, unknown).items()}
        self._oids.update(found)
        missing = [ref for ref in refs if ref not in self._oids]
        if missing:
            raise StoreError(f"{missing[0]} is not in this repository: the blob was removed while registering")
        return [(ref, self._oids[ref]) for ref in refs]


def push_refs(store: BlobStore, files: Sequence[ArtifactFile]) -> list[tuple[str, str]]:
    """The blob refs a registration publishes with its tag: those of a git store, none for any other store."""
    return store.refs_for(files) if isinstance(store, GitStore) else []


def open_any(url: str, repo_root: Path, options: Mapping[str, Any] | None, remote: str | None) -> BlobStore:
    """A store for `url`: `git:` is this repository (blobs missing here come from `remote`), else see open_store."""
    if is_git_store(url):
        return GitStore(url, repo_root, remote)
    return open_store(url, repo_root, options)
