"""MLflow's registry entities (RegisteredModel, ModelVersion) built from a modelreg registry's state.

Versions are ints, as MLflow's local stores give them. A model's view (its events) is read once per
call and handed down, so building N versions reads the model's tags once.
"""

from __future__ import annotations

from typing import Any

from mlflow.entities import Metric
from mlflow.entities.model_registry import ModelVersion as MlflowModelVersion
from mlflow.entities.model_registry import (
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)

from modelreg.api import Registry
from modelreg.core import mlflowmap
from modelreg.core.events import ARCHIVED, event_from_tag
from modelreg.core.refs import ModelRef, version_tag
from modelreg.git.peeled import read_tags
from modelreg.mlflow.search import source_of
from modelreg.models import Event, ModelVersion
from modelreg.ops.rename import created_millis
from modelreg.read.lean import touching
from modelreg.read.reader import ModelView, registration


def version(
    reg: Registry,
    mv: ModelVersion,
    view: ModelView | None = None,
    *,
    touched: Event | None = None,
    fresh: bool = False,
    known: tuple[int | None, list[Event]] | None = None,
) -> MlflowModelVersion:
    """The MLflow ModelVersion of a modelreg version.

    Created when its version tag's payload says (`millis`, else the manifest's `created_at`); last updated
    by the newest event about it, read from `view` (the model's events). A version a call has just
    written is known without reading the model's events again: `fresh` (just registered: only its
    version tag is read), `touched` (the event just written about it) or `known` (read lean: see `_held`).
    """
    manifest = mv.manifest
    found = manifest.extra.get("origin")
    origin: dict[str, Any] = found if isinstance(found, dict) else {}
    if known is not None:  # read lean: (its creation time, the events about it)
        registered, events = known
    elif fresh:
        registered, events = _registration(reg, mv), []
    else:
        view = view or reg.model(mv.name)
        event = next((e for e in view.events if e.action == "register" and e.version == mv.version), None)
        registered = (event.created_millis or event.millis) if event else None  # a renamed version's first time
        events = (
            [touched]
            if touched is not None
            else [e for e in view.events if e.seq is not None and (e.version == mv.version or mv.version in e.archived)]
        )
    created = registered or mlflowmap.millis(manifest.created_at)
    updated = max([created, *(e.millis or mlflowmap.millis(e.date) for e in events)])
    return MlflowModelVersion(
        name=mv.name,
        version=mv.version,  # type: ignore[arg-type]  # MLflow's local stores give an int
        creation_timestamp=created,
        last_updated_timestamp=updated,
        description=manifest.description or None,  # MLflow: None for a version never described
        user_id=manifest.created_by,
        current_stage=mlflowmap.to_mlflow_stage(mv.stage),
        source=source_of(mv),
        run_id=manifest.lineage.run_id,
        run_link=origin.get("run_link"),
        tags=[
            ModelVersionTag(key, "" if value is None else str(value))  # type: ignore[no-untyped-call]
            for key, value in manifest.tags.items()
        ],
        aliases=list(mv.aliases),
        model_id=origin.get("model_id"),
        # a logged model's version shows its run's metrics and params, as MLflow's stores show the logged model's
        metrics=[Metric(k, v, created, 0) for k, v in manifest.metrics.items()] if origin.get("model_id") else None,
        params={k: str(v) for k, v in manifest.params.items()}  # type: ignore[arg-type]  # a dict, as MLflow's stores
        if origin.get("model_id")
        else None,
    )


def _registration(reg: Registry, mv: ModelVersion) -> int | None:
    """The time (ms) a version's tag records: known when `reg` registered it, else one tag read."""
    tag = version_tag(mv.name, mv.version)
    if tag in reg.publisher.registered:
        return reg.publisher.registered[tag]
    records = read_tags(reg.reader.git, [f"refs/tags/{tag}"])
    event = event_from_tag(records[0]) if records else None
    return event.millis if event else None


def numbered(reg: Registry, name: str, number: int, view: ModelView | None = None) -> MlflowModelVersion:
    view = view or reg.model(name)
    return version(
        reg,
        reg.reader.version(view, number)
        if number in view.state.versions
        else reg.resolve(ModelRef(name, version=number)),
        view,
    )


def model(reg: Registry, name: str) -> RegisteredModel:
    """The MLflow RegisteredModel: its description, tags, aliases and latest version per stage.

    Created when its `create` event was written (MLflow's `create_registered_model`; a renamed model's `create`
    carries the first creation time), else with its first version; last updated by its newest event. A model and
    its events keep MLflow's milliseconds where the event recorded them (`millis`), else the tag's date.
    """
    view = reg.model(name)
    state = view.state
    dates = [e.millis or mlflowmap.millis(e.date) for e in view.events if e.date]
    created = next((created_millis(e) for e in view.events if e.tag == state.created), None)
    if created is None:
        first = reg.reader.version(view, min(state.versions))
        created = mlflowmap.millis(first.manifest.created_at)
    return RegisteredModel(
        name=name,
        creation_timestamp=created,
        last_updated_timestamp=max([created, *dates]),
        description=state.description,
        latest_versions=latest(reg, name, None, view),
        tags=[
            RegisteredModelTag(key, "" if value is None else str(value))  # type: ignore[no-untyped-call]
            for key, value in sorted(state.tags.items())
        ],
        aliases=[
            RegisteredModelAlias(alias, str(number))  # type: ignore[no-untyped-call]
            for alias, number in sorted(state.aliases.items())
        ],
    )


def latest(
    reg: Registry, name: str, stages: list[str] | None, view: ModelView | None = None
) -> list[MlflowModelVersion]:
    """Per stage asked for, the version modelreg resolves `NAME/STAGE` to (its most recent holder).

    With no stages, MLflow's meaning: per stage ("None" included), the highest version in it.
    """
    if view is None and stages and (holders := _held(reg, name, stages)) is not None:
        return holders
    view = view or reg.model(name)
    state = view.state
    found: list[int] = []
    if stages:
        for stage in stages:
            ours = mlflowmap.to_modelreg_stage(stage, reg.config.stages)
            if ours is None:
                holder = max((v for v in state.versions if v not in state.stages), default=None)
            else:
                holder = state.stage_holder(ours)
            if holder is not None and holder not in found:
                found.append(holder)
    else:
        newest: dict[str | None, int] = {}
        for number in state.versions:
            held = state.stages.get(number)
            newest[held] = max(number, newest.get(held, 0))
        found = sorted(newest.values())
    return [version(reg, reg.reader.version(view, number), view) for number in found]


def _held(reg: Registry, name: str, stages: list[str]) -> list[MlflowModelVersion] | None:
    """`latest` for stages of modelreg's own, read as `resolve NAME/STAGE` reads (read.lean for a large model),
    so that loading `models:/NAME/Production` does not grow with the model's past. None: the full read.

    A holder's last update is its newest event at its commit (read.lean.touching): an event that archived it
    came before the assignment it holds the stage by (or it would not hold it)."""
    ours = [mlflowmap.to_modelreg_stage(stage, reg.config.stages) for stage in stages]
    if any(stage is None or stage == ARCHIVED for stage in ours):
        return None
    found: dict[int, MlflowModelVersion] = {}
    for stage in dict.fromkeys(s for s in ours if s is not None):
        view = reg.reader.deciding(ModelRef(name, stage=stage))
        if view.snap.events:  # read in full (a small model): every stage from that one read
            return latest(reg, name, stages, view)
        holder = view.state.stage_holder(stage)
        if holder is None or holder in found:
            continue
        mv = reg.reader.version(view, holder)
        events = touching(reg.reader.context, name, holder)
        if events is None:
            return None
        registered = registration(view.events, holder)
        found[holder] = version(reg, mv, known=(registered.created_millis or registered.millis, events))
    return list(found.values())
