"""An MLflow registry, read into plain records, as an import plan. Pure: no `mlflow`, no I/O.

MLflow's registry keeps each version's current stage and its last update time, not the history
of transitions, so the plan gives each version its current stage (in the order MLflow last
updated them) and each alias its version; modelreg writes only what its state lacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from modelreg.core import mlflowmap
from modelreg.core.refs import check_alias
from modelreg.errors import InvalidInputError
from modelreg.importers.plan import EventStep, ModelStep, Plan, VersionStep

SOURCE = "MLflow"


class RunFacts(NamedTuple):
    params: Mapping[str, str] = {}
    metrics: Mapping[str, float] = {}
    git_commit: str | None = None
    experiment_id: str | None = None


class MlflowVersion(NamedTuple):
    name: str
    version: int
    created_ms: int
    updated_ms: int | None
    user: str | None
    stage: str  # "None", "Staging", "Production", "Archived"
    description: str
    source: str
    run_id: str | None
    tags: Mapping[str, str]
    model_id: str | None = None


class MlflowModel(NamedTuple):
    name: str
    description: str
    tags: Mapping[str, str]
    aliases: Mapping[str, int]
    updated_ms: int | None
    versions: tuple[MlflowVersion, ...]


def version_key(name: str, version: int) -> str:
    return f"{SOURCE}:{name}:{version}"


def plan(
    models: list[MlflowModel], runs: Mapping[str, RunFacts], stages: tuple[str, ...], tracking_uri: str | None
) -> Plan:
    versions: list[VersionStep] = []
    events: list[EventStep] = []
    skipped: list[str] = []
    described: list[ModelStep] = []
    taken: dict[str, str] = {}
    for model in models:
        name = mlflowmap.model_name(model.name)
        if taken.setdefault(name, model.name) != model.name:
            skipped.append(f"MLflow model {model.name!r}: its modelreg name {name!r} is taken by {taken[name]!r}")
            continue
        if model.description or model.tags:
            described.append(ModelStep(name, model.description, mlflowmap.tags(model.tags)))
        ordered = sorted(model.versions, key=lambda v: v.version)
        for mv in ordered:
            facts = runs.get(mv.run_id or "", RunFacts())
            imported = {
                "from": SOURCE,
                "name": mv.name,
                "version": mv.version,
                "user": mv.user or None,
                "time": mlflowmap.iso_time(mv.created_ms),
                "source": mv.source,
                "run_id": mv.run_id,
                "experiment_id": facts.experiment_id,
                "model_id": mv.model_id,
                "tracking_uri": tracking_uri,
            }
            versions.append(
                VersionStep(
                    key=version_key(mv.name, mv.version),
                    name=name,
                    label=f"MLflow {mv.name} v{mv.version}",
                    location=mv.source,
                    date=mlflowmap.git_date(mv.created_ms),
                    description=mv.description or "",
                    params=mlflowmap.params(facts.params),
                    metrics=mlflowmap.metrics(facts.metrics),
                    tags=mlflowmap.tags(mv.tags),
                    run_id=mv.run_id,
                    code_commit=facts.git_commit,
                    imported={k: v for k, v in imported.items() if v is not None},
                )
            )
        by_update = sorted(ordered, key=lambda v: (v.updated_ms or v.created_ms, v.version))
        for mv in by_update:
            try:
                stage = mlflowmap.to_modelreg_stage(mv.stage, stages)
            except InvalidInputError as exc:
                skipped.append(f"MLflow {mv.name} v{mv.version}: {exc}")
                continue
            when = mv.updated_ms or mv.created_ms
            events.append(
                EventStep(
                    name=name,
                    version_key=version_key(mv.name, mv.version),
                    action="assign" if stage else "unassign",
                    kind="stage",
                    target=stage or "",  # "": whatever stage modelreg has for it
                    mode="state",
                    date=mlflowmap.git_date(when),
                    imported={
                        "from": SOURCE,
                        "stage": mv.stage,
                        "user": mv.user or None,
                        "time": mlflowmap.iso_time(when),
                    },
                )
            )
        for alias, version in sorted(model.aliases.items()):
            ours = alias.lower()
            try:
                check_alias(ours, stages)
            except InvalidInputError as exc:
                skipped.append(f"MLflow {model.name}@{alias}: {exc}")
                continue
            events.append(
                EventStep(
                    name=name,
                    version_key=version_key(model.name, version),
                    action="assign",
                    kind="alias",
                    target=ours,
                    mode="state",
                    date=mlflowmap.git_date(model.updated_ms),
                    imported={"from": SOURCE, "alias": alias, "time": mlflowmap.iso_time(model.updated_ms)},
                )
            )
    return Plan(versions, events, skipped, tuple(described))
