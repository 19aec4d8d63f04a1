"""An MLflow registry, read into plain records, as an import plan. Pure: no `mlflow`, no I/O.

MLflow's registry keeps each version's current stage and its last update time, not the history
of transitions, so the plan gives each version its current stage (in the order MLflow last
updated them) and each alias its version; modelreg writes only what its state lacks.

A model keeps its MLflow name exactly (`Churn Model`), by the one model-name rule the plugin uses
(`core.names`), so `models:/Churn Model/Production` finds it through the plugin too; an alias is kept
exactly too, and one the plugin refuses (`Champion`: modelreg aliases are lowercase) is not mapped.
Imports before names were kept exactly wrote a model under its slug (`churn-model`) and lowercased its
aliases: such a model (`earlier` says which) keeps both, so it goes on receiving its later versions and
events there, and never comes over a second time under its exact name.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import NamedTuple

from modelreg.core import mlflowmap, names
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


def earlier_name(name: str) -> str:
    """The modelreg name imports gave an MLflow model before names were kept exactly (its slug)."""
    return mlflowmap.model_name(name)


def key_name(key: str) -> str | None:
    """The MLflow model a version key (`MLflow:Churn Model:3`) names; None for another source's key."""
    name, _, version = key.removeprefix(f"{SOURCE}:").rpartition(":")
    return name if key.startswith(f"{SOURCE}:") and name and version.isdigit() else None


Earlier = Mapping[str, Collection[str]]  # a modelreg model → the MLflow models earlier imports wrote to it


def target_name(model: str, earlier: Earlier, claimed: Mapping[str, str]) -> tuple[str | None, str]:
    """The modelreg model an MLflow model's versions go to, or None and the "not mapped" line saying why.

    Its exact name, unless an earlier import wrote it under its slug: there it stays.
    """
    slug = earlier_name(model)
    if model not in earlier.get(model, ()) and model in earlier.get(slug, ()):
        name = slug
    elif problem := names.model_name_problem(model):
        return None, f"MLflow model {model!r}: {problem}"
    else:
        name = model
    owners = earlier.get(name, ())
    holder = min(owners) if owners and model not in owners else claimed.get(name, model)
    if holder != model:
        return None, f"MLflow model {model!r}: its modelreg name {name!r} is taken by MLflow's {holder!r}"
    return name, ""


def plan(
    models: list[MlflowModel],
    runs: Mapping[str, RunFacts],
    stages: tuple[str, ...],
    tracking_uri: str | None,
    earlier: Earlier | None = None,
) -> Plan:
    """What to write for `models`. `earlier` says, for the modelreg models they could go to, which MLflow
    models earlier imports wrote there (by the versions' `imported.key`)."""
    versions: list[VersionStep] = []
    events: list[EventStep] = []
    skipped: list[str] = []
    described: list[ModelStep] = []
    earlier = earlier or {}
    claimed: dict[str, str] = {}
    for model in models:
        name, why = target_name(model.name, earlier, claimed)
        if name is None:
            skipped.append(why)
            continue
        claimed[name] = model.name
        slugged = name != model.name
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
            ours = alias.lower() if slugged else alias  # as the plugin: exactly (see above)
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
