"""Saying why a blob is missing: which store, which clone registered it, and what fixes it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from modelreg.errors import NotFoundError
from modelreg.models import Manifest
from modelreg.store.blobs import BlobStore, LocalStore
from modelreg.store.gitstore import GitStore


def explanation(manifest: Manifest, store: BlobStore) -> str:
    """Where the version's bytes should have been, and how to get them there (appended to the error)."""
    who = f"registered by {manifest.created_by} at {manifest.created_at} into store {manifest.artifact.store}"
    version = f"{manifest.name} v{manifest.version}"
    if isinstance(store, GitStore):
        where = f"on remote {store.remote}" if store.remote else "on any remote"
        return (
            f"{version} was {who}; its blob is neither in this clone nor {where}: that clone registered it "
            "without pushing the blob refs; fix: in that clone, "
            f"`git push {store.remote or 'origin'} 'refs/modelreg/blobs/*:refs/modelreg/blobs/*'`"
        )
    if isinstance(store, LocalStore) and "://" not in store.url:
        return (
            f"{version} was {who}, a directory inside that clone and not shared; fix: in that clone, move the "
            "blobs to a store every clone reaches (`modelreg store migrate git:` and push, or "
            "`modelreg store migrate s3://bucket/registry`)"
        )
    return (
        f"{version} was {who}; it was deleted from {store.url} or never uploaded there; fix: register it again "
        "from the original files, or pull with --store URL naming a store that has it"
    )


@contextmanager
def explained(manifest: Manifest, store: BlobStore) -> Iterator[None]:
    """A blob found missing inside says which version, which clone and which fix."""
    try:
        yield
    except NotFoundError as exc:
        if " is missing from store " not in str(exc):
            raise
        raise NotFoundError(f"{exc}: {explanation(manifest, store)}") from None
