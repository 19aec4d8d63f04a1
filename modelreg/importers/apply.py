"""Write an import plan into a registry through the normal register and event paths."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from modelreg.core.progress import Progress
from modelreg.core.refs import ModelRef, tag_patterns
from modelreg.errors import NotFoundError
from modelreg.importers.plan import EventStep, Plan, VersionStep, describe_needed, holding, needed, subject
from modelreg.models import ModelState
from modelreg.ops.lifecycle import EditArgs, describe
from modelreg.ops.register import RegisterArgs, register
from modelreg.publish.options import WriteOptions
from modelreg.publish.publisher import EventDraft, Publisher
from modelreg.read.reader import Reader
from modelreg.results import ImportReport

# Fetches a version's bytes into the scratch directory given; returns the artifact's path.
Fetch = Callable[[VersionStep, Path], Path]


class Imported(NamedTuple):
    versions: dict[str, int]  # source key → modelreg version
    events: set[str]  # source keys of history events


def imported(reader: Reader, name: str) -> Imported:
    """What earlier imports wrote for model `name`: the `imported.key` of its tags' payloads."""
    records, _ = reader.git.read_refs(tag_patterns(name))
    versions: dict[str, int] = {}
    events: set[str] = set()
    for record in records:
        try:
            payload = json.loads(record.body.strip() or "null")
        except ValueError:
            continue
        if not isinstance(payload, dict) or not isinstance(payload.get("imported"), dict):
            continue
        key = payload["imported"].get("key")
        if not isinstance(key, str):
            continue
        if payload.get("action") == "register" and isinstance(payload.get("version"), int):
            versions[key] = payload["version"]
        else:
            events.add(key)
    return Imported(versions, events)


def _state(reader: Reader, name: str) -> ModelState | None:
    try:
        return reader.state(name)
    except NotFoundError:
        return None


def run(
    reader: Reader,
    publisher: Publisher,
    plan: Plan,
    source: str,
    fetch: Fetch,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Register the plan's new versions, then write its events that are still needed, in order."""
    registered: list[dict[str, Any]] = []
    written: list[dict[str, Any]] = []
    skipped = list(plan.skipped)
    already = 0
    names = list(dict.fromkeys([v.name for v in plan.versions] + [e.name for e in plan.events]))
    done = {name: imported(reader, name) for name in names}
    planned: dict[str, int] = {}  # dry run: the versions it would give
    for name in names:
        steps = [v for v in plan.versions if v.name == name]
        fresh = [v for v in steps if v.key not in done[name].versions]
        already += len(steps) - len(fresh)
        if progress is not None and fresh:
            progress.start(f"importing {name}", len(fresh))
        next_version = max([0, *(_state(reader, name) or _no_state()).versions]) + 1
        for step in fresh:
            if dry_run:
                planned[step.key] = next_version
                registered.append({"name": name, "version": next_version, "from": step.label})
                next_version += 1
                continue
            with tempfile.TemporaryDirectory(prefix="modelreg-import-") as scratch:
                path = _placeholder(step, Path(scratch)) if step.missing else fetch(step, Path(scratch))
                origin = {**step.imported, "key": step.key, **({"missing": step.missing} if step.missing else {})}
                meta: RegisterArgs = {
                    "params": dict(step.params),
                    "metrics": dict(step.metrics),
                    "tags": dict(step.tags),
                    "description": step.description,
                    "run_id": step.run_id,
                    "code_commit": step.code_commit,
                    "origin": origin,
                    "imported": origin,
                }
                with reader.git.as_author(step.who, step.date):
                    mv = register(reader, publisher, name, path, meta)
            done[name].versions[step.key] = mv.version
            registered.append({"name": name, "version": mv.version, "from": step.label})
            if progress is not None:
                progress.advance(1)
        for event in (e for e in plan.events if e.name == name):
            version = done[name].versions.get(event.version_key, planned.get(event.version_key))
            if version is None:
                skipped.append(f"{event.name}: {event.kind} {event.target!r} of {event.version_key}: no such version")
                continue
            state = _state(reader, name)
            if not needed(event, state, version, done[name].events):
                already += 1
                continue
            if event.action == "unassign":
                if state is None or not holding(event, state, version):
                    skipped.append(
                        f"{event.key or event.version_key}: {event.target!r} left by a version not holding it"
                    )
                    continue
                if not event.target:
                    event = event._replace(target=state.stages[version])
            if event.kind == "stage" and event.target in reader.config.review_required and event.action == "assign":
                skipped.append(
                    f"{event.key or event.version_key}: stage {event.target!r} requires review in this registry; "
                    f"not imported (import before setting review_required, or request it: "
                    f"`modelreg promote {name} {version} {event.target} --request`)"
                )
                continue
            if dry_run:
                written.append(_event_row(event, version, None))
                continue
            with reader.git.as_author(event.who, event.date):
                tag = _write_event(reader, publisher, event, version, source)
            done[name].events.add(event.key)
            written.append(_event_row(event, version, tag))
    for model in plan.models:
        state = _state(reader, model.name)
        if state is not None and not describe_needed(model, state):
            already += 1
            continue
        row = {"name": model.name, "version": None, "action": "describe", "kind": "model", "target": "_describe"}
        if dry_run or state is None:  # no version of it was imported (a dry run, or all of them skipped)
            written.append({**row, "tag": None})
            continue
        edit: EditArgs = {
            "description": model.description,
            "tags": dict(model.tags),
            "reason": f"imported from {source}",
        }
        made = describe(reader, publisher, model.name, edit)
        written.append({**row, "version": made.version, "tag": made.tag})
    return ImportReport(source, registered, written, skipped, already, dry_run)


def _no_state() -> Any:
    class _Empty:
        versions: tuple[int, ...] = ()

    return _Empty()


def _event_row(event: EventStep, version: int, tag: str | None) -> dict[str, Any]:
    return {
        "name": event.name,
        "version": version,
        "action": event.action,
        "kind": event.kind,
        "target": event.target,
        "tag": tag,
    }


def _write_event(reader: Reader, publisher: Publisher, event: EventStep, version: int, source: str) -> str:
    """One event tag (with its claim ref) as `promote`/`alias set` write them, with an `imported` payload."""
    if event.kind == "stage":
        reader.config.check_stage(event.target)
    dest = publisher.target(WriteOptions())

    def attempt() -> str:
        view = reader.model(event.name)
        reader.select(view.state, ModelRef(event.name, version=version))
        imported = {**event.imported, **({"key": event.key} if event.key else {})}
        draft = EventDraft(
            event.action,
            event.kind,
            event.target,
            version,
            subject(event, version, source),
            extra={"imported": imported},
        )
        return publisher.write_event(dest, view, draft).tag

    return publisher.retry(dest, event.name, attempt)


def _placeholder(step: VersionStep, scratch: Path) -> Path:
    """The one file a version without reachable bytes holds: where they were and why they are missing."""
    path = scratch / "MISSING.txt"
    path.write_text(
        f"{step.label}: its bytes were not imported.\n{step.missing}\nThey were at: {step.location or 'unknown'}\n",
        encoding="utf-8",
    )
    return path
