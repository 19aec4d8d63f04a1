"""The registry's values: immutable typed records, no I/O.

Records are `typing.NamedTuple`s rather than frozen dataclasses: defining a dataclass costs
about 1 ms at import and `dataclasses` itself pulls in `inspect` (20 ms), which every CLI call
would pay before doing any work. A NamedTuple is as immutable and as typed, for a tenth of that.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

Action = Literal[
    "register", "assign", "unassign", "rollback", "retire", "unretire", "describe", "update", "delete", "create"
]
TargetKind = Literal["stage", "alias", "model", "version"]  # model, version: model-level events (refs.MODEL_TARGETS)
Scalar = str | int | float | bool | None
# The default of a mapping field: records are immutable, so an empty default must be too.
NO_VALUES: Mapping[str, Any] = MappingProxyType({})


class ArtifactFile(NamedTuple):
    path: str  # relative POSIX path
    digest: str  # "sha256:<hex>"
    size: int


class Artifact(NamedTuple):
    store: str
    digest: str
    size: int
    files: tuple[ArtifactFile, ...]

    @property
    def is_single_file(self) -> bool:
        """A single-file artifact's digest is its file's digest; a directory's is the file list's."""
        return len(self.files) == 1 and self.files[0].digest == self.digest


class Lineage(NamedTuple):
    code_commit: str | None = None
    code_dirty: bool = False
    dataset: str | None = None
    run_id: str | None = None
    parent: str | None = None


class Training(NamedTuple):
    duration_s: float | None = None
    hardware: str | None = None


class Manifest(NamedTuple):
    """One immutable version manifest (`.modelreg/models/<name>/v<N>.yaml`)."""

    name: str
    version: int
    created_at: str
    created_by: str
    artifact: Artifact
    description: str = ""
    params: Mapping[str, Any] = NO_VALUES
    metrics: Mapping[str, Any] = NO_VALUES
    lineage: Lineage = Lineage()
    training: Training = Training()
    tags: Mapping[str, Any] = NO_VALUES
    extra: Mapping[str, Any] = NO_VALUES  # unknown keys, preserved on write


class Event(NamedTuple):
    """One lifecycle event, read from an annotated tag. `seq` is None for registrations."""

    name: str
    action: Action
    version: int
    tag: str
    seq: int | None = None
    kind: TargetKind | None = None
    target: str | None = None
    archived: tuple[int, ...] = ()
    reason: str | None = None
    request: str | None = None  # the id of the merged request this event applies (DESIGN §6)
    approved_by: str | None = None  # who merged that request: the merge commit's author
    merge_commit: str | None = None  # the commit that merged it into the main line
    actor: str = ""
    date: str = ""
    commit: str = ""  # the commit the tag points at
    subject: str = ""  # the tag message's first line, for people
    object: str = ""  # the tag object's id
    digest: str | None = None  # a registration's artifact digest, as its tag's payload records it
    after: int | None = None  # a registration's place among the events: the last seq its writer saw
    # describe (the model's) and update (a version's): the new description (None: unchanged) and tag changes
    description: str | None = None
    set_tags: tuple[tuple[str, Any], ...] = ()
    removed_tags: tuple[str, ...] = ()
    millis: int | None = None  # the time in milliseconds, when the payload records it (a tag's date has seconds)
    # a rename (ops.rename): the other name (a `create`: renamed from; a model's `delete`: renamed to), and the
    # `create`'s carried creation time in milliseconds (the renamed model's own, not this event's)
    renamed: str | None = None
    created_millis: int | None = None


class VersionInfo(NamedTuple):
    version: int
    stage: str | None
    aliases: tuple[str, ...]


class ModelState(NamedTuple):
    """The replay of one model's events: who holds which stage and alias."""

    name: str
    versions: tuple[int, ...]
    stages: dict[int, str]  # version → its current stage
    stage_since: dict[int, int]  # version → seq of the event that gave it its stage
    aliases: dict[str, int]  # alias → version
    holders: dict[str, tuple[int, ...]]  # target → versions that held it, oldest first (rollback walks this)
    last_seq: int
    retired: str | None = None  # the tag of the event that retired the model, while it is retired
    description: str = ""  # the model's own description and tags (`modelreg describe`)
    tags: Mapping[str, Any] = NO_VALUES
    created: str | None = None  # the tag of the `create` event that made the model before any version, while it stands

    @property
    def exists(self) -> bool:
        """A model with a version, or one created (with its description and tags) before its first version."""
        return bool(self.versions) or self.created is not None

    @property
    def latest(self) -> int | None:
        return max(self.versions) if self.versions else None

    def stage_holder(self, stage: str) -> int | None:
        """The version most recently assigned to `stage` that still holds it."""
        candidates = [v for v, s in self.stages.items() if s == stage]
        return max(candidates, key=lambda v: self.stage_since[v]) if candidates else None

    def stage_holders(self, stage: str) -> tuple[int, ...]:
        return tuple(sorted(v for v, s in self.stages.items() if s == stage))

    def aliases_of(self, version: int) -> tuple[str, ...]:
        return tuple(sorted(a for a, v in self.aliases.items() if v == version))

    def info(self, version: int) -> VersionInfo:
        return VersionInfo(version, self.stages.get(version), self.aliases_of(version))


class ModelVersion(NamedTuple):
    """A manifest with its current stage and aliases: what `show` and `resolve` return."""

    manifest: Manifest
    stage: str | None
    aliases: tuple[str, ...]
    commit: str  # the commit its version tag points at
    warnings: tuple[str, ...] = ()  # things the caller may want to tell the user; never errors
    store: str = ""  # where its blobs are read from: the store of record (the policy config's), not the manifest's

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> int:
        return self.manifest.version

    @property
    def digest(self) -> str:
        return self.manifest.artifact.digest


class ModelSummary(NamedTuple):
    """One row of `list`."""

    name: str
    latest: int | None
    versions: int
    stages: dict[str, int]  # stage → its current (most recent) holder
    aliases: dict[str, int]
    warnings: tuple[str, ...] = ()  # events the policy of record leaves out of the state
    retired: str | None = None  # the retirement event's tag: its stages and aliases no longer resolve
    description: str = ""
    tags: Mapping[str, Any] = NO_VALUES


class Finding(NamedTuple):
    """One thing `verify` found wrong."""

    kind: str  # "event", "claim", "review", "signature", "manifest", "blob"
    subject: str  # the tag, file or digest concerned
    message: str


class TagRecord(NamedTuple):
    """One annotated tag as `git for-each-ref` reports it."""

    tag: str  # short name, e.g. fraud@v7
    object: str  # the tag object's id (or the commit's, for a lightweight tag)
    commit: str  # what the tag points at, peeled
    annotated: bool
    tagger: str  # "Name <email>"
    date: str  # ISO 8601, for display only: never used for ordering
    subject: str
    body: str


class ValueChange(NamedTuple):
    key: str
    a: Any
    b: Any

    @property
    def delta(self) -> float | None:
        """b - a, rounded to the inputs' precision: 0.93 - 0.92 is 0.01, not 0.010000000000000009."""
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (self.a, self.b))
        if not numeric:
            return None
        if isinstance(self.a, int) and isinstance(self.b, int):
            return self.b - self.a
        from decimal import Decimal  # ~1 ms that only a diff of two values pays

        # repr is the shortest text that reads back as the same float: the precision the value was given with
        return float(Decimal(repr(float(self.b))) - Decimal(repr(float(self.a))))


class VersionDiff(NamedTuple):
    name: str
    a: int
    b: int
    params: tuple[ValueChange, ...]
    metrics: tuple[ValueChange, ...]
    digest_a: str
    digest_b: str


class RefCheck(NamedTuple):
    """What a CI job needs to know about one tag."""

    tag: str
    model: str
    version: int
    action: str
    kind: str | None
    target: str | None
    seq: int | None
    digest: str
    store: str
    actor: str
    date: str
    current: bool  # still in effect: the version still holds the target (or, for a version tag, exists)
    request: str | None = None  # the merged request it applies, if any
    approved_by: str | None = None  # who merged that request
    policy: str | None = None  # the commit whose config judged it (None: the work tree's)
    retired: str | None = None  # the model's retirement tag: nothing of a retired model is current

    @property
    def stage(self) -> str | None:
        return self.target if self.kind == "stage" else None

    @property
    def alias(self) -> str | None:
        return self.target if self.kind == "alias" else None


class SearchResult(NamedTuple):
    """What `search` found: the matching versions, in order, and what the user should hear about."""

    versions: tuple[ModelVersion, ...]
    warnings: tuple[str, ...] = ()  # events the policy leaves out, manifests that could not be read


REQUESTS_DIR = ".modelreg/requests"


class Request(NamedTuple):
    id: str
    name: str
    version: int
    kind: TargetKind
    target: str
    requested_by: str
    requested_at: str
    holder: int | None = None  # the version holding the target when it was requested
    keep_existing: bool = False
    reason: str | None = None

    @property
    def path(self) -> str:
        return f"{REQUESTS_DIR}/{self.id}.yaml"

    @property
    def label(self) -> str:
        """`fraud-detector v7 → production` or `fraud-detector@champion → v7`."""
        if self.kind == "alias":
            return f"{self.name}@{self.target} → v{self.version}"
        return f"{self.name} v{self.version} → {self.target}"


class Merge(NamedTuple):
    """How a request reached the main line."""

    request: Request  # as the commit that brought it in holds it: what was reviewed
    commit: str
    merged_by: str  # that commit's author: for a merge commit, who merged
    merged_at: str
    via_merge: bool  # False: committed on the main line directly, so nobody reviewed it
    newer: int = 0  # how many main-line commits that added requests came after this one
