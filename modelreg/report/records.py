"""What a report shows, as immutable typed records (no I/O; see models for why NamedTuples)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from modelreg.models import NO_VALUES, Event, ModelVersion, TargetKind


class Span(NamedTuple):
    """One stretch of a stage or alias held by one version, between two events of the model's history.

    `start` and `end` are positions in the history (event order, never clocks); `end` is None while
    the version still holds the target. Dates are the events' tag dates, for people to read.
    """

    kind: TargetKind
    target: str
    version: int
    start: int
    end: int | None
    since: str
    until: str | None = None
    start_tag: str = ""
    end_tag: str | None = None


class ModelRecord(NamedTuple):
    """One model's page: its versions, its history (the audit trail) and what follows from them."""

    name: str
    versions: tuple[ModelVersion, ...]  # oldest first
    history: tuple[Event, ...]  # every event the history API returns, in its order
    spans: tuple[Span, ...]
    stages: Mapping[str, tuple[int, ...]]  # stage → the versions holding it now
    aliases: Mapping[str, int]
    warnings: tuple[str, ...] = ()  # events the policy of record leaves out
    # Model-level facts; a registry that records them fills them in (see gather.model_facts).
    retired: bool = False
    description: str | None = None
    tags: Mapping[str, Any] = NO_VALUES

    @property
    def latest(self) -> int | None:
        return self.versions[-1].version if self.versions else None

    @property
    def last_event(self) -> Event | None:
        return self.history[-1] if self.history else None


class SiteRecord(NamedTuple):
    """Everything the report's pages show."""

    models: tuple[ModelRecord, ...]
    stages: tuple[str, ...]  # the configured stages, in their order
    highlight: str | None  # the stage the metric charts mark (production, where configured)
    source: str  # what the report is of: the repository's directory name or URL
    policy_commit: str | None = None  # the commit whose config judged the events
