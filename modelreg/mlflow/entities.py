"""MLflow's registry entities (RegisteredModel, ModelVersion) built from a modelreg registry's state.

Versions are ints, as MLflow's local stores give them. A model's view (its events) is read once per
call and handed down, so building N versions reads the model's tags once.
"""

from __future__ import annotations

from typing import Any

from mlflow.entities.model_registry import ModelVersion as MlflowModelVersion
from mlflow.entities.model_registry import (
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)

from modelreg.api import Registry
from modelreg.core import mlflowmap
from modelreg.core.refs import ModelRef
from modelreg.models import ModelVersion
from modelreg.read.reader import ModelView


def version(
    reg: Registry, mv: ModelVersion, view: ModelView | None = None, *, touched: str | None = None
) -> MlflowModelVersion:
    """The MLflow ModelVersion of a modelreg version.

    Its last update is that of the newest event about it, read from `view` (the model's events), or,
    for a version a call has just written (`touched`: the new event's date, or "" for a registration),
    known without reading the events again.
    """
    manifest = mv.manifest
    found = manifest.extra.get("origin")
    origin: dict[str, Any] = found if isinstance(found, dict) else {}
    created = mlflowmap.millis(manifest.created_at)
    if touched is not None:
        dates = [touched]
    else:
        view = view or reg.model(mv.name)
        dates = [e.date for e in view.events if e.version == mv.version or mv.version in e.archived]
    updated = max([created, *(mlflowmap.millis(d) for d in dates if d)])
    return MlflowModelVersion(
        name=mv.name,
        version=mv.version,  # type: ignore[arg-type]  # MLflow's local stores give an int
        creation_timestamp=created,
        last_updated_timestamp=updated,
        description=manifest.description,
        user_id=manifest.created_by,
        current_stage=mlflowmap.to_mlflow_stage(mv.stage),
        source=str(origin.get("source") or f"models:/{mv.name}/{mv.version}"),
        run_id=manifest.lineage.run_id,
        run_link=origin.get("run_link"),
        tags=[
            ModelVersionTag(key, "" if value is None else str(value))  # type: ignore[no-untyped-call]
            for key, value in manifest.tags.items()
        ],
        aliases=list(mv.aliases),
        model_id=origin.get("model_id"),
    )


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
    """The MLflow RegisteredModel: its description, tags, aliases and latest version per stage."""
    view = reg.model(name)
    state = view.state
    first = reg.reader.version(view, min(state.versions))
    dates = [mlflowmap.millis(e.date) for e in view.events if e.date]
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
