"""What an import will write: versions and events, in the source's order. Pure records and decisions.

A version is known by its `key` in the source (`MLflow:NAME:VERSION`, `GTO:TAG`), recorded in its
version tag's payload (`imported.key`), so a second import finds what the first one wrote.
Events are either "history" events (GTO: each source tag is one event, skipped when an event
with its key exists) or "state" events (MLflow keeps no transition history: the version's
current stage or alias is applied when modelreg's state differs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from modelreg.models import ModelState, Scalar

EventMode = Literal["history", "state"]


class VersionStep(NamedTuple):
    key: str  # the version's identity in the source, e.g. "MLflow:Fraud:3"
    name: str  # the modelreg model
    label: str  # how the source names it, for people
    location: str | None  # where its bytes are (a URI or a path); None: nowhere we can reach
    who: str | None = None  # "Name <email>" when the source knows it
    date: str | None = None  # a date git takes ("@<epoch> +0000"); None: now
    description: str = ""
    params: Mapping[str, Scalar] = {}
    metrics: Mapping[str, Scalar] = {}
    tags: Mapping[str, Scalar] = {}
    run_id: str | None = None
    code_commit: str | None = None
    imported: Mapping[str, Any] = {}  # the payload's `imported` object and the manifest's `origin`
    missing: str | None = None  # why the bytes cannot be had (the version records it; pull explains it)


class EventStep(NamedTuple):
    name: str
    version_key: str  # the VersionStep it concerns
    action: Literal["assign", "unassign"]
    kind: Literal["stage", "alias"]
    target: str
    mode: EventMode
    key: str = ""  # for history events: the source's identity of this event (e.g. the GTO tag)
    who: str | None = None
    date: str | None = None
    imported: Mapping[str, Any] = {}


class ModelStep(NamedTuple):
    """A model's own description and tags in the source: a `describe` event when modelreg's differ."""

    name: str
    description: str
    tags: Mapping[str, Scalar]


class Plan(NamedTuple):
    versions: list[VersionStep]
    events: list[EventStep]
    skipped: list[str]  # what does not map, one line each
    models: tuple[ModelStep, ...] = ()


def describe_needed(step: ModelStep, state: ModelState) -> bool:
    """Whether the model's description or any of the step's tags differ from modelreg's state."""
    return step.description != state.description or any(state.tags.get(k) != v for k, v in step.tags.items())


def needed(step: EventStep, state: ModelState | None, version: int, done_keys: set[str]) -> bool:
    """Whether `step` still has to be written: its key is not imported yet (history), or the state differs."""
    if step.mode == "history":
        return step.key not in done_keys
    if state is None:
        return step.action == "assign"
    holds = holding(step, state, version)
    return not holds if step.action == "assign" else holds


def holding(step: EventStep, state: ModelState, version: int) -> bool:
    """Whether `version` holds the step's target now (a stage target "" means any stage)."""
    if step.kind == "alias":
        return state.aliases.get(step.target) == version
    if not step.target:
        return version in state.stages
    return state.stages.get(version) == step.target


def subject(step: EventStep, version: int, source: str) -> str:
    if step.kind == "alias":
        change = (
            f"{step.name}@{step.target} → v{version}"
            if step.action == "assign"
            else f"{step.name}@{step.target} removed"
        )
    else:
        change = (
            f"{step.name} v{version} → {step.target}"
            if step.action == "assign"
            else f"{step.name} v{version} left {step.target}"
        )
    return f"{change} (imported from {source})"
