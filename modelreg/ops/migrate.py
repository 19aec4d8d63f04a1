"""`modelreg store migrate URL`: every blob copied to a new store and checked there, then one config commit."""

from __future__ import annotations

from typing import NamedTuple

from modelreg.core.progress import Progress
from modelreg.errors import IntegrityError, InvalidInputError, ModelregError
from modelreg.formats import config as configmod
from modelreg.formats.config import CONFIG_PATH, check_store_url
from modelreg.models import ArtifactFile
from modelreg.ops.checks import tagged_manifests
from modelreg.publish.options import WriteOptions
from modelreg.publish.publisher import Publisher
from modelreg.read.reader import Reader
from modelreg.store.gitstore import push_refs
from modelreg.store.transfer import BlobCache


class MigrateResult(NamedTuple):
    source: str
    store: str
    blobs: int  # blobs every version references, all now verified in `store`
    copied: int  # of those, the ones this run uploaded
    bytes: int
    commit: str | None  # the config commit (None: the registry already named `store`)
    warnings: tuple[str, ...] = ()


def migrate_store(
    reg: Reader, publisher: Publisher, url: str, opts: WriteOptions, progress: Progress | None = None
) -> MigrateResult:
    """Copy every blob a version references from the store of record to `url`, verify each copy there by
    hashing it, and only then commit `.modelreg/config.yaml` naming `url` (the old store is kept in
    `former_stores`, so the manifests that name it still count as read from the store of record)."""
    dest = publisher.target(opts, commits=True)
    url = check_store_url(url)
    old = reg.config.store
    if url == old:
        raise InvalidInputError(f"the registry's store is {url} already")
    snap = reg.snapshot(None)
    manifests, findings = tagged_manifests(reg, snap.events)
    if findings:
        raise ModelregError(f"cannot tell which blobs to copy: {findings[0].message}; nothing was changed")
    unique: dict[str, ArtifactFile] = {}
    for manifest in manifests.values():
        for blob in manifest.artifact.files:
            unique.setdefault(blob.digest, blob)
    source, target = reg.store(old), reg.store(url)
    total = sum(b.size for b in unique.values())
    if progress is not None:
        progress.start(f"copying blobs to {url}", total)
    copied = 0
    with BlobCache() as cache:
        for _, blob in sorted(unique.items()):
            if not target.has(blob):
                path = cache.fill(source, blob)  # hashed as it is read from the old store
                copied += target.put(path, blob)
            problem = target.verify(blob)  # and hashed again as the new store gives it back
            if problem:
                raise IntegrityError(f"{problem}; the registry still names {old}")
            if progress is not None:
                progress.advance(blob.size)
    former = tuple(dict.fromkeys((*reg.config.former_stores, old)))
    text = configmod.to_yaml(reg.config._replace(store=url, former_stores=tuple(s for s in former if s != url)))
    reason = f"modelreg: move the store to {url}"

    def attempt() -> tuple[str, tuple[str, ...]]:
        base, move_from = publisher.commit_base(dest)
        commit, blobs = reg.git.commit_files(base, {CONFIG_PATH: text}, reason)
        refs = push_refs(target, list(unique.values()))  # to git:, the blob refs go with the commit
        files = {CONFIG_PATH: (text, blobs[CONFIG_PATH])}
        return commit, publisher.publish_commit(dest, move_from, commit, files, refs, reason)

    commit, warnings = publisher.retry(dest, None, attempt)
    return MigrateResult(old, url, len(unique), copied, total, commit, warnings)
