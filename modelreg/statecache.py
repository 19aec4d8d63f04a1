"""A cache of parsed tags, keyed by the exact set of (ref, object id) they came from.

Tag objects are immutable and named by their content, so the list of ref names and object ids
determines every byte the parse read: when it is unchanged, the parse from last time is the
parse now. Listing ids is one cheap `for-each-ref` without messages; a miss costs that call plus
the full read it replaces. Best effort: an unreadable cache file is a miss. Events are stored as
tuples of their fields, in a marshal file (see cachefile): at 25,000 events that loads in a
fifth of the time JSON and keyword construction took.
"""

from __future__ import annotations

import hashlib
from dataclasses import fields
from operator import attrgetter
from pathlib import Path
from typing import Any

from modelreg import cachefile
from modelreg.models import Event

FORMAT = 3  # 3: marshal, events as field tuples
_FIELD_NAMES = tuple(f.name for f in fields(Event))  # stored too: a changed Event is a miss
_EVENT_FIELDS = attrgetter(*_FIELD_NAMES)


def cache_file(cache_dir: Path, repo: Path, patterns: list[str]) -> Path:
    ident = hashlib.sha256("\0".join([str(repo), *patterns]).encode()).hexdigest()[:32]
    return cache_dir / f"{ident}.bin"


def key_of(ref_ids: str) -> str:
    return hashlib.sha256(ref_ids.encode()).hexdigest()


def load(path: Path, key: str) -> dict[str, Any] | None:
    """The cached parse for `key`, with events rebuilt; None on a miss."""
    data = cachefile.load(str(path))
    if not isinstance(data, dict) or (data.get("format"), data.get("fields"), data.get("key")) != (
        FORMAT,
        _FIELD_NAMES,
        key,
    ):
        return None
    try:
        parsed: dict[str, Any] = data["parsed"]
        parsed["events"] = {name: [Event(*row) for row in rows] for name, rows in parsed["events"].items()}
    except (KeyError, TypeError, AttributeError):
        return None
    return parsed


def save(path: Path, key: str, parsed: dict[str, Any]) -> None:
    events = {name: [_EVENT_FIELDS(e) for e in evs] for name, evs in parsed["events"].items()}
    data = {"format": FORMAT, "fields": _FIELD_NAMES, "key": key, "parsed": {**parsed, "events": events}}
    cachefile.dump(str(path), data)
