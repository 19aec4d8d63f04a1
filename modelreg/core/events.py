"""Event payloads and their replay into state: pure functions, no I/O.

Order comes from `seq` alone, never from tag dates (DESIGN §3).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, TypedDict, TypeGuard, cast

from modelreg.core.refs import MODEL_TARGETS, NO_VERSION, TagName, parse_tag_name
from modelreg.errors import InvalidInputError, MalformedEvent, NotFoundError
from modelreg.models import Action, Event, ModelState, TagRecord, TargetKind

FORMAT_VERSION = 1
ARCHIVED = "archived"
_ACTIONS = (
    "register",
    "assign",
    "unassign",
    "rollback",
    "retire",
    "unretire",
    "describe",
    "update",
    "delete",
    "create",
)
_RENAMED = {"create": "renamed_from", "delete": "renamed_to"}  # a rename's payload keys (ops.rename)
MAX_NESTING = 64  # a payload is one flat object; json.loads recurses once per level
MAX_NUMBER = 2**63 - 1  # a version fits a signed 64-bit integer, as in manifests
# A JSON string (an unterminated one runs to the end: one pass, never a rescan) or a bracket.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")


def event_message(subject: str, payload: dict[str, Any]) -> str:
    """A tag message: a human subject line, a blank line, then the facts as one JSON object."""
    return f"{subject}\n\n{json.dumps({'modelreg': FORMAT_VERSION, **payload})}\n"


class _Common(TypedDict):
    """The fields every event has, as its tag gives them."""

    name: str
    version: int
    tag: str
    reason: str | None
    request: str | None
    approved_by: str | None
    merge_commit: str | None
    actor: str
    date: str
    commit: str
    subject: str
    object: str
    millis: int | None


def event_from_tag(record: TagRecord, parsed: TagName | None = None) -> Event | None:
    """Decode a tag into an Event; None if the tag's name is not a modelreg name.

    `parsed`: the tag's name as `parse_tag_name` reads it, when the caller has it already.
    Raises MalformedEvent when the name is ours but the tag is not a well-formed event.
    """
    parsed = parsed or parse_tag_name(record.tag)
    if parsed is None:
        return None
    tag = record.tag
    if not record.annotated:
        raise MalformedEvent(f"{tag}: a lightweight tag (modelreg tags are annotated)")
    payload = _payload(record)
    if (
        not isinstance(payload, dict)
        or not _is_positive_int(payload.get("modelreg"))
        or (payload["modelreg"] != FORMAT_VERSION)
    ):
        raise MalformedEvent(f"{tag}: the tag message is not a modelreg {FORMAT_VERSION} payload")
    action = payload.get("action")
    version = payload.get("version")
    if action not in _ACTIONS:
        raise MalformedEvent(f"{tag}: unknown action {action!r} in the payload")
    if not _is_positive_int(version):
        # 0 only for a model-level event written while the model had no version (a `create`, and what follows it)
        if type(version) is not int or version != NO_VERSION or parsed.target not in MODEL_TARGETS:
            raise MalformedEvent(f"{tag}: bad 'version' in the payload")
        if payload.get("kind") != "model":
            raise MalformedEvent(f"{tag}: bad 'version' in the payload")
    common = _Common(
        name=parsed.name,
        version=version,
        tag=tag,
        reason=_text(tag, payload, "reason"),
        request=_text(tag, payload, "request"),
        approved_by=_text(tag, payload, "approved_by"),
        merge_commit=_text(tag, payload, "merge_commit"),
        actor=_display(record.tagger),
        date=record.date,
        commit=record.commit,
        subject=_display(record.subject),
        object=record.object,
        millis=millis if _is_positive_int(millis := payload.get("millis")) else None,
    )
    if parsed.seq is None:
        if action != "register" or version != parsed.version:
            raise MalformedEvent(f"{tag}: a version tag must record the registration of that version")
        digest = _text(tag, payload, "digest") if isinstance(payload.get("digest"), str) else None
        after = payload.get("after")
        seen = after if isinstance(after, int) and not isinstance(after, bool) and 0 <= after <= MAX_NUMBER else None
        # a version registered again under a new name (ops.renameversions): where from, and its first creation time
        created = payload.get("created_millis")
        renamed = _text(tag, payload, "renamed_from") if isinstance(payload.get("renamed_from"), str) else None
        first = created if _is_positive_int(created) else None
        return Event(action="register", digest=digest, after=seen, renamed=renamed, created_millis=first, **common)
    kind = payload.get("kind")
    archived = payload.get("archived", [])
    if parsed.target in MODEL_TARGETS:
        return _model_event(tag, payload, Event(action="register", seq=parsed.seq, target=parsed.target, **common))
    if (
        action not in ("assign", "unassign", "rollback")
        or kind not in ("stage", "alias")
        or (payload.get("target") != parsed.target)
    ):
        raise MalformedEvent(f"{tag}: 'action', 'kind' or 'target' disagree with the tag name")
    if archived is None:
        archived = []
    if not isinstance(archived, list) or not all(_is_positive_int(v) for v in archived):
        raise MalformedEvent(f"{tag}: 'archived' must be a list of versions")
    return Event(action=action, seq=parsed.seq, kind=kind, target=parsed.target, archived=tuple(archived), **common)


def _model_event(tag: str, payload: dict[str, Any], base: Event) -> Event:
    """A retire, unretire, describe (the model's description and tags) or update (a version's) event."""
    action = cast("Action", MODEL_TARGETS[base.target or ""])
    kind: TargetKind = "version" if action == "update" else "model"
    if action == "delete" and payload.get("kind") in ("version", "model"):
        kind = cast("TargetKind", payload["kind"])
    if payload.get("action") != action or payload.get("kind") != kind or payload.get("target") != base.target:
        raise MalformedEvent(f"{tag}: 'action', 'kind' or 'target' disagree with the tag name")
    description = payload.get("description")
    set_tags = payload.get("tags") or {}
    removed = payload.get("removed_tags") or []
    if description is not None and not isinstance(description, str):
        raise MalformedEvent(f"{tag}: 'description' must be text")
    if not isinstance(set_tags, dict) or not all(_is_scalar(v) for v in set_tags.values()):
        raise MalformedEvent(f"{tag}: 'tags' must map keys to single values")
    if not isinstance(removed, list) or not all(isinstance(k, str) for k in removed):
        raise MalformedEvent(f"{tag}: 'removed_tags' must be a list of keys")
    renamed_key = _RENAMED.get(action, "")  # a rename (ops.rename): the other name
    if not isinstance(payload.get(renamed_key) or "", str):
        raise MalformedEvent(f"{tag}: {renamed_key!r} must be a name")
    created = payload.get("created_millis") if action == "create" else None
    return base._replace(
        action=action,
        kind=kind,
        description=_text(tag, payload, "description"),
        set_tags=tuple(sorted((_text(tag, {"k": k}, "k") or "", v) for k, v in set_tags.items())),
        removed_tags=tuple(sorted(removed)),
        renamed=_text(tag, payload, renamed_key) if renamed_key else None,
        created_millis=created if _is_positive_int(created) else None,
    )


def _is_scalar(value: object) -> bool:
    return (
        value is None or isinstance(value, (str, bool, float)) or (isinstance(value, int) and abs(value) <= MAX_NUMBER)
    )


def _payload(record: TagRecord) -> object:
    """The JSON object of a tag message; MalformedEvent for anything json.loads cannot take safely."""
    body = record.body.strip() or "null"
    if _nesting(body) > MAX_NESTING:
        raise MalformedEvent(f"{record.tag}: the payload nests deeper than {MAX_NESTING} levels")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # ValueError: bad JSON, or an integer of more than 4300 digits
        raise MalformedEvent(f"{record.tag}: the tag message holds no JSON payload") from None


def _nesting(body: str) -> int:
    """How deep brackets nest in `body`, outside JSON strings; counting stops past MAX_NESTING."""
    if body.count("[") + body.count("{") <= MAX_NESTING:
        return 0  # too few brackets to nest deeper than the limit: no scan needed
    depth = deepest = 0
    for match in _STRING_OR_BRACKET.finditer(body):
        char = match.group()
        if char in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_NESTING:
                break
        elif char in ("]", "}"):
            depth -= 1
    return deepest


def _is_positive_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_NUMBER


def _text(tag: str, payload: dict[str, Any], key: str) -> str | None:
    """A payload value as text; MalformedEvent if it is not Unicode (a lone surrogate cannot be printed)."""
    value = payload.get(key)
    if value is None:
        return None
    text = str(value)
    if not text.isascii() and _SURROGATE.search(text):
        raise MalformedEvent(f"{tag}: {key!r} in the payload is not Unicode text")
    return text


def _display(text: str) -> str:
    """Tagger and subject as printable text: git's bytes that are not UTF-8 come as lone surrogates."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def replay(name: str, events: Iterable[Event]) -> ModelState:
    """Fold a model's events into its current state.

    Registrations give the versions; stage and alias events apply in `seq` order (ties, which
    only a race that `verify` reports can produce, break on the tag name so every reader agrees).
    A `delete` event is a tombstone: the version (kind "version"), or every version up to it (kind
    "model"), leaves the state with its stages and aliases; its tags and events stay in history.
    A `create` event makes the model exist before its first version (MLflow's registered model),
    with its description and tags; a model deletion undoes it too.
    """
    versions: set[int] = set()
    changes: list[Event] = []
    for event in events:
        if event.action == "register":
            versions.add(event.version)
        else:
            changes.append(event)
    stages: dict[int, str] = {}
    stage_since: dict[int, int] = {}
    aliases: dict[str, int] = {}
    holders: dict[str, list[int]] = {}
    last_seq = 0
    retired: str | None = None
    created: str | None = None
    description = ""
    tags: dict[str, Any] = {}
    for event in sorted(changes, key=lambda e: (e.seq or 0, e.tag)):
        seq = event.seq or 0
        last_seq = max(last_seq, seq)
        target = event.target or ""
        if event.kind in ("model", "version"):  # no stage or alias changes hands
            if event.action == "delete":
                gone = {event.version} if event.kind == "version" else {v for v in versions if v <= event.version}
                versions -= gone
                stages = {v: s for v, s in stages.items() if v not in gone}
                aliases = {a: v for a, v in aliases.items() if v not in gone}
                if event.kind == "model":
                    description, tags, retired, created = "", {}, None, None
            elif event.action == "create":
                created = event.tag
                description = event.description or ""
                tags = dict(event.set_tags)
            elif event.action == "retire":
                retired = event.tag
            elif event.action == "unretire":
                retired = None
            elif event.action == "describe":
                description = description if event.description is None else event.description
                tags = {k: v for k, v in tags.items() if k not in event.removed_tags} | dict(event.set_tags)
            continue
        history = holders.setdefault(target, [])
        if event.action == "unassign":
            if event.kind == "alias" and aliases.get(target) == event.version:
                del aliases[target]
            elif event.kind == "stage" and stages.get(event.version) == target:
                del stages[event.version]
            continue
        if event.kind == "alias":
            aliases[target] = event.version
        else:
            stages[event.version] = target
            stage_since[event.version] = seq
            for old in event.archived:
                stages[old] = ARCHIVED
                stage_since[old] = seq
        if event.action == "rollback" and event.version in history:
            # A rollback returns to an earlier holder: forget what came after it, so that a
            # second rollback walks further back instead of flipping between two versions.
            del history[len(history) - history[::-1].index(event.version) :]
        else:
            history.append(event.version)
    return ModelState(
        name=name,
        versions=tuple(sorted(versions)),
        stages=stages,
        stage_since={v: s for v, s in stage_since.items() if v in versions},
        aliases=aliases,
        holders={t: tuple(v for v in h if v in versions) for t, h in holders.items()},
        last_seq=last_seq,
        retired=retired,
        description=description,
        tags=tags,
        created=created,
    )


def current_holder(state: ModelState, kind: str, target: str) -> int | None:
    return state.aliases.get(target) if kind == "alias" else state.stage_holder(target)


def rollback_version(state: ModelState, kind: str, target: str, to: int | None = None) -> int:
    """The version a rollback of `target` re-assigns: `to`, or the holder before the current one."""
    current = current_holder(state, kind, target)
    if current is None:
        raise NotFoundError(f"{state.name}: no version holds {kind} {target!r}, nothing to roll back")
    if to is not None:
        if to == current:
            raise InvalidInputError(f"{state.name} v{to} already holds {kind} {target!r}")
        return to
    history = state.holders.get(target, ())
    last = len(history) - 1 - history[::-1].index(current) if current in history else len(history)
    for version in reversed(history[:last]):
        if version != current:
            return version
    raise NotFoundError(f"{state.name}: no version held {kind} {target!r} before v{current}")


def held_before(events: Iterable[Event], kind: str, target: str, version: int, before_seq: int | None = None) -> bool:
    """Whether an event (before `before_seq`, if given) gave `target` to `version`."""
    return any(
        e.seq is not None
        and (before_seq is None or e.seq < before_seq)
        and (e.kind, e.target, e.version) == (kind, target, version)
        and e.action in ("assign", "rollback")
        for e in events
    )


def to_archive(state: ModelState, version: int, stage: str, single_holder: bool) -> tuple[int, ...]:
    """Versions that leave `stage` when `version` takes it (previous holders of a single-holder stage)."""
    if not single_holder:
        return ()
    return tuple(v for v in state.stage_holders(stage) if v != version)


def history_order(events: Iterable[Event]) -> list[Event]:
    """Registrations and changes in one causal order, without reading clocks.

    Changes come in `seq` order. A registration comes before the first change that concerns
    its version or a later one (a version exists before anything happens to it), and, when its
    tag records the last `seq` its writer had seen (`after`), before the first change past that
    one. Registrations keep version order.
    """
    events = list(events)
    registrations = sorted((e for e in events if e.action == "register"), key=lambda e: e.version)
    changes = sorted((e for e in events if e.action != "register"), key=lambda e: (e.seq or 0, e.tag))
    never = float("inf")
    first_about: dict[int, float] = {}  # newest version a change concerns → the lowest seq of such a change
    for change in changes:
        newest = max((change.version, *change.archived))
        first_about[newest] = min(first_about.get(newest, never), change.seq or 0)
    newest_first = sorted(first_about, reverse=True)
    limits: list[float] = [never] * len(registrations)  # the seq each registration must come before
    limit, taken = never, 0
    for index in range(len(registrations) - 1, -1, -1):  # newest version first: its limit binds older ones
        reg = registrations[index]
        while taken < len(newest_first) and newest_first[taken] >= reg.version:
            limit = min(limit, first_about[newest_first[taken]])
            taken += 1
        if reg.after is not None:
            limit = min(limit, reg.after + 1)
        limits[index] = limit
    ordered: list[Event] = []
    pending = list(zip(registrations, limits, strict=True))
    for change in changes:
        while pending and pending[0][1] <= (change.seq or 0):
            ordered.append(pending.pop(0)[0])
        ordered.append(change)
    return ordered + [reg for reg, _ in pending]
