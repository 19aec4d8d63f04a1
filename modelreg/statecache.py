"""A cache of parsed tags, keyed by the exact set of (ref, object id) they came from.

Tag objects are immutable and named by their content, so the list of ref names and object ids
determines every byte the parse read: when it is unchanged, the parse from last time is the
parse now. Listing ids is one cheap `for-each-ref` without messages; a miss costs that call plus
the full read it replaces. Best effort: an unreadable cache file is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import suppress
from dataclasses import asdict
from pathlib import Path
from typing import Any

from modelreg.models import Event

FORMAT = 2  # 2: events carry approved_by and merge_commit


def cache_file(cache_dir: Path, repo: Path, patterns: list[str]) -> Path:
    ident = hashlib.sha256("\0".join([str(repo), *patterns]).encode()).hexdigest()[:32]
    return cache_dir / f"{ident}.json"


def key_of(ref_ids: str) -> str:
    return hashlib.sha256(ref_ids.encode()).hexdigest()


def load(path: Path, key: str) -> dict[str, Any] | None:
    """The cached parse for `key`, with events rebuilt; None on a miss."""
    with suppress(OSError, ValueError, TypeError, KeyError):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("key") != key:
            return None
        parsed: dict[str, Any] = data["parsed"]
        parsed["events"] = {
            name: [Event(**{**e, "archived": tuple(e["archived"])}) for e in events]
            for name, events in parsed["events"].items()
        }
        return parsed
    return None


def save(path: Path, key: str, parsed: dict[str, Any]) -> None:
    data = {
        "format": FORMAT,
        "key": key,
        "parsed": {**parsed, "events": {n: [asdict(e) for e in evs] for n, evs in parsed["events"].items()}},
    }
    with suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, path)
