"""What `modelreg sync` reports: the deployed version, one log record, how a run ended (plain records, no I/O)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, NamedTuple

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
