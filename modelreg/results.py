"""Results of writes, reviews, checks and `sync`: immutable typed records, no I/O (see models for why NamedTuples).

Kept apart from models so that a read imports none of them.
"""

from pathlib import Path
from typing import Any, Literal, NamedTuple

from modelreg.models import Event, Finding, Manifest, Merge, Request


class InitResult(NamedTuple):
    root: Path
    config_path: Path
    store: str
    commit: str


class UpdateResult(NamedTuple):
    manifest: Manifest
    commit: str | None  # the commit that recorded the change; None when nothing changed
    warnings: tuple[str, ...] = ()
    event: Event | None = None  # the `_update` event that records who changed what, and why


class RenameResult(NamedTuple):
    """A rename (ops.rename), written all together: the old name's `_delete` event, and the new name's `_create`
    (a model without versions) or the versions registered again under it (ops.renameversions)."""

    old: str
    new: str
    deleted: Event
    created: Event | None = None
    versions: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()


class FetchReport(NamedTuple):
    """What `fetch` found: refs that changed on the remote are never taken silently."""

    remote: str
    fetched: bool
    problems: tuple[str, ...]  # a claim ref moved on the remote, a ref missing there, a ref git refused
    warnings: tuple[str, ...] = ()  # tags moved or not the object their claim names: the claim decides


class VerifyReport(NamedTuple):
    models: int
    versions: int
    events: int
    blobs: int  # blobs re-hashed (0 without --blobs), always in the store of record
    findings: tuple[Finding, ...]
    warnings: tuple[str, ...] = ()  # manifests naming another store than the store of record

    @property
    def ok(self) -> bool:
        return not self.findings


class StoredBlob(NamedTuple):
    digest: str
    size: int
    modified: float | None  # unix time, when the store reports it


class UpgradeResult(NamedTuple):
    claimed: tuple[str, ...]  # version tags given the claim ref they lacked
    refused: tuple[str, ...]  # why each other unclaimed version tag was left as it is (and out of reads)


class GcReport(NamedTuple):
    store: str
    referenced: int  # distinct digests that some manifest references
    unreferenced: tuple[StoredBlob, ...]  # blobs no manifest references, old enough to delete
    young: int  # unreferenced, but newer than the grace period (a registration may be under way)
    leftovers: tuple[str, ...]  # temporary files of interrupted uploads, old enough to delete
    deleted: bool

    @property
    def reclaimable_bytes(self) -> int:
        return sum(b.size for b in self.unreferenced)


class CreatedRequest(NamedTuple):
    request: Request
    branch: str  # short name, e.g. modelreg/request/fraud-detector-production-v7-3f9a1c
    commit: str
    title: str
    body: str  # Markdown for the pull request
    pushed_to: str | None  # the remote it was pushed to, if it was


RequestState = Literal["open", "merged", "applied", "unreviewed"]


class RequestStatus(NamedTuple):
    request: Request
    state: RequestState  # open: on a branch; merged: waiting for apply; unreviewed: committed without a merge
    branch: str | None = None
    merge: Merge | None = None
    event: Event | None = None  # the event that applied it


class RequestList(NamedTuple):
    statuses: tuple[RequestStatus, ...]
    warnings: tuple[str, ...]  # request files that do not parse, left out


class ApplyResult(NamedTuple):
    request: Request
    outcome: Literal["applied", "already-applied", "failed"]
    event: Event | None = None
    error: str | None = None


class ReportResult(NamedTuple):
    """What `report` wrote."""

    path: Path  # the report's directory
    pages: tuple[str, ...]  # paths inside it, index.html first
    models: int
    versions: int
    events: int


class LintReport(NamedTuple):
    """What `lint` found in the registry's files."""

    manifests: int  # manifests checked
    problems: tuple[str, ...]  # one line each, naming the file and the field
    warnings: tuple[str, ...] = ()  # what could not be checked

    @property
    def ok(self) -> bool:
        return not self.problems


class ImportReport(NamedTuple):
    """What `modelreg import` (MLflow, GTO) brought, or with `dry_run` would bring."""

    source: str
    registered: list[dict[str, Any]]  # {"name", "version", "from"}
    events: list[dict[str, Any]]  # {"name", "version", "action", "kind", "target", "tag"}
    skipped: list[str]
    already: int  # versions and events an earlier import brought
    dry_run: bool


# --- sync: the deployed version, one log record, how a run ended ---

RecordKind = Literal["swap", "hook", "hook-failed", "ignored", "refused", "error", "cleaned", "pruned", "quarantined"]


class Deployed(NamedTuple):
    """What `current` holds: the facts written to current.json and given to a change callback."""

    name: str
    version: int
    digest: str
    ref: str  # the reference followed, as given
    tag: str  # the event (or version) tag that made `ref` name this version
    approved_by: str | None
    when: str  # when it became current (UTC, ISO 8601)
    path: Path  # DIR/current/<file> for a single file, DIR/current for a directory

    def facts(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "digest": self.digest,
            "ref": self.ref,
            "tag": self.tag,
            "approved_by": self.approved_by,
            "when": self.when,
            "path": self.path.name if self.path.name != "current" else ".",
        }


class Record(NamedTuple):
    """One thing worth a log line: a swap, a hook's outcome, a refusal, an error."""

    kind: RecordKind
    message: str
    deployed: Deployed | None = None
    exit_code: int = 0
    retry_in: float | None = None


class SyncResult(NamedTuple):
    """How a `sync` ended: what `current` holds and the exit code the CLI gives."""

    current: Deployed | None
    exit_code: int
    stopped: bool  # ended by `stop`, not by `once`
