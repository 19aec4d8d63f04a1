"""A GTO repository's tags and declared artifacts (`dvc.yaml`, `artifacts.yaml`), as an import plan. Pure.

GTO's tag grammar (gto 1.x): `NAME@vX.Y.Z` registers a version, `NAME@vX.Y.Z!#N` deregisters it,
`NAME#STAGE#N` assigns a stage to the version registered at the tag's commit, `NAME#STAGE!#N`
unassigns it, `NAME@deprecated#N` deprecates the artifact. A `dir:name` artifact is `dir=name`
in tags. GTO orders events by tag date (then the per-artifact counter `N`); so does the plan.

GTO's version names resolve in modelreg too: each imported version gets its GTO version as an alias
(`churn@v3.0.0`), taken off again when GTO deregisters it. A version name an alias cannot spell
(semver build metadata, `v1.0.0+abc`) stays in the version's `gto_version` tag only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from modelreg.core import mlflowmap
from modelreg.core.refs import LATEST, NAME_RE, looks_like_version
from modelreg.importers.plan import EventStep, Plan, VersionStep

SOURCE = "GTO"
_NAME = r"[a-zA-Z0-9]([a-zA-Z0-9\-/_]*[a-zA-Z0-9])?"
_SEMVER = r"\d+\.\d+\.\d+(?:-[0-9A-Za-z\-.]+)?(?:\+[0-9A-Za-z\-.]+)?"
_TAG = re.compile(
    rf"^(?P<artifact>(?:[a-zA-Z0-9\-_./]+=)?{_NAME})"
    rf"(?:(?:#(?P<stage>{_NAME})|@(?P<version>v{_SEMVER}))(?P<cancel>!?)|@(?P<deprecated>deprecated)|@(?P<created>created))"
    r"(?:#(?P<counter>[0-9]+))?$"
)
SYNONYMS = {
    "prod": "production",
    "production": "production",
    "stage": "staging",
    "stg": "staging",
    "staging": "staging",
}
SYNONYMS |= {"archive": "archived", "archived": "archived"}


class GtoTag(NamedTuple):
    tag: str
    commit: str
    who: str  # "Name <email>"
    date: str  # ISO 8601, as git reports it
    message: str


class Parsed(NamedTuple):
    artifact: str  # GTO's name (`dir:name`)
    action: str  # register, deregister, assign, unassign, deprecate, create
    version: str | None
    stage: str | None
    counter: int


def parse(tag: str) -> Parsed | None:
    """A GTO tag name's parts; None for a tag that is not GTO's."""
    match = _TAG.match(tag)
    if match is None:
        return None
    artifact = match["artifact"].replace("=", ":")
    counter = int(match["counter"]) if match["counter"] else 0
    cancel = bool(match["cancel"])
    if match["version"]:
        return Parsed(artifact, "deregister" if cancel else "register", match["version"], None, counter)
    if match["stage"]:
        return Parsed(artifact, "unassign" if cancel else "assign", None, match["stage"], counter)
    return Parsed(artifact, "deprecate" if match["deprecated"] else "create", None, None, counter)


def map_stage(stage: str, mapping: Mapping[str, str], configured: tuple[str, ...]) -> str | None:
    """GTO's stage as a configured modelreg stage: the user's mapping, the same name, or a common synonym."""
    if stage in mapping:
        return mapping[stage] if mapping[stage] in configured else None
    lowered = stage.lower()
    if lowered in configured:
        return lowered
    synonym = SYNONYMS.get(lowered)
    return synonym if synonym in configured else None


def version_key(tag: str) -> str:
    return f"{SOURCE}:{tag}"


def plan(
    tags: list[GtoTag],
    index: Mapping[str, Mapping[str, Any]],
    stage_map: Mapping[str, str],
    configured: tuple[str, ...],
) -> Plan:
    """`index`: commit → the artifacts.yaml entries at that commit (name → {path, type, description, …})."""
    versions: list[VersionStep] = []
    events: list[EventStep] = []
    skipped: list[str] = []
    parsed = [(t, p) for t in tags if (p := parse(t.tag)) is not None]
    parsed.sort(key=lambda tp: (tp[0].date, tp[1].action != "register", tp[1].counter, tp[0].tag))
    at_commit: dict[tuple[str, str], str] = {}  # (artifact, commit) → the key of the version registered there
    by_version: dict[tuple[str, str], str] = {}  # (artifact, vX.Y.Z) → key
    stage_of: dict[str, str] = {}  # key → the modelreg stage it holds in the replay so far
    names: dict[str, str] = {}
    for tag, p in parsed:
        name = mlflowmap.model_name(p.artifact.replace(":", "-").replace("/", "-"))
        if names.setdefault(name, p.artifact) != p.artifact:
            skipped.append(f"{tag.tag}: its modelreg name {name!r} is taken by GTO artifact {names[name]!r}")
            continue
        common = {"from": SOURCE, "tag": tag.tag, "user": tag.who, "time": tag.date, "message": tag.message}
        if p.action == "register":
            assert p.version is not None
            key = version_key(tag.tag)
            entry = index.get(tag.commit, {}).get(p.artifact) or {}
            path = entry.get("path") if isinstance(entry.get("path"), str) else None
            at_commit.setdefault((p.artifact, tag.commit), key)
            by_version[(p.artifact, p.version)] = key
            labels = entry.get("labels")
            declared = entry.get("declared_in") or "dvc.yaml or artifacts.yaml"
            outside = entry.get("outside")
            missing = None
            if isinstance(outside, str) and "://" not in outside:
                path = outside  # a path escaping the repository: the importer refuses the version (gto.safe_path)
            elif isinstance(outside, str):
                missing = (
                    f"{declared} gives its path as {outside!r}, outside the repository: modelreg imports bytes "
                    "only from git or the DVC cache (register them by hand)"
                )
            elif not path:
                missing = f"neither dvc.yaml nor artifacts.yaml at {tag.commit[:12]} gives a path for {p.artifact!r}"
            versions.append(
                VersionStep(
                    key=key,
                    name=name,
                    label=f"GTO {tag.tag}",
                    location=f"{tag.commit}:{path}" if path else None,
                    who=tag.who,
                    date=tag.date,
                    description=str(entry.get("description") or ""),
                    tags={"gto_version": p.version}
                    | ({"gto_type": str(entry["type"])} if entry.get("type") else {})
                    | ({"gto_labels": ",".join(map(str, labels))} if isinstance(labels, list) and labels else {}),
                    code_commit=tag.commit,
                    imported={**common, "artifact": p.artifact, "version": p.version, "commit": tag.commit}
                    | ({"path": path} if path else {}),
                    missing=missing,
                )
            )
            alias = version_alias(p.version)
            if alias is not None:
                events.append(_alias(name, key, "assign", alias, tag, common))
            continue
        if p.action == "create":
            continue
        if p.action == "deregister":
            dropped = by_version.get((p.artifact, p.version or ""))
            targets = [dropped] if dropped else []
            why = "deregistered"
            alias = version_alias(p.version or "")
            if dropped and alias is not None:
                events.append(_alias(name, dropped, "unassign", alias, tag, common | {"why": why}))
        elif p.action == "deprecate":
            targets = [k for (art, _), k in by_version.items() if art == p.artifact]
            why = "artifact deprecated"
            skipped.append(f"{tag.tag}: modelreg keeps a deprecated model listed; its versions leave their stages")
        else:
            assert p.stage is not None
            found = at_commit.get((p.artifact, tag.commit))
            if found is None:
                skipped.append(f"{tag.tag}: no version of {p.artifact!r} is registered at {tag.commit[:12]}")
                continue
            key = found
            stage = map_stage(p.stage, stage_map, configured)
            if stage is None:
                skipped.append(
                    f"{tag.tag}: GTO stage {p.stage!r} maps to no configured stage "
                    f"(map it with --stage {p.stage}=STAGE, or add it to stages in .modelreg/config.yaml)"
                )
                continue
            if p.action == "assign":
                events.append(_event(name, key, "assign", stage, tag, common | {"stage": p.stage}))
                stage_of[key] = stage
            elif stage_of.get(key) == stage:
                events.append(_event(name, key, "unassign", stage, tag, common | {"stage": p.stage}))
                del stage_of[key]
            else:
                skipped.append(
                    f"{tag.tag}: the version no longer holds {stage!r} in modelreg "
                    "(a modelreg version holds one stage; GTO let it hold several)"
                )
            continue
        for key in targets:
            if key in stage_of:
                event = _event(name, key, "unassign", stage_of.pop(key), tag, common | {"why": why})
                events.append(event._replace(key=f"{tag.tag}:{key}"))
    return Plan(versions, events, skipped)


def version_alias(version: str) -> str | None:
    """GTO's version name as a modelreg alias (`v3.0.0`), or None when an alias cannot spell it."""
    lowered = version.lower()
    return lowered if NAME_RE.fullmatch(lowered) and not looks_like_version(lowered) and lowered != LATEST else None


def _alias(name: str, key: str, action: str, alias: str, tag: GtoTag, imported: dict[str, Any]) -> EventStep:
    return EventStep(
        name=name,
        version_key=key,
        action="assign" if action == "assign" else "unassign",
        kind="alias",
        target=alias,
        mode="history",
        key=f"{SOURCE}:{tag.tag}:alias",
        who=tag.who,
        date=tag.date,
        imported=imported | {"gto_version": alias},
    )


def _event(name: str, key: str, action: str, stage: str, tag: GtoTag, imported: dict[str, Any]) -> EventStep:
    return EventStep(
        name=name,
        version_key=key,
        action="assign" if action == "assign" else "unassign",
        kind="stage",
        target=stage,
        mode="history",
        key=f"{SOURCE}:{tag.tag}",
        who=tag.who,
        date=tag.date,
        imported=imported,
    )
