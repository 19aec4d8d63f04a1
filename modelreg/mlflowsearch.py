"""MLflow's search filters and paging over the plugin's entities. Pure: works on any objects with the
attributes MLflow's entities have, and imports nothing from `mlflow`.

The filter grammar here is the part of MLflow's that the registry fields support: conditions
joined by AND, each `FIELD OP 'value'` with `=`, `!=`, `LIKE`, `ILIKE` (and `IN ('a', 'b')`), on
`name`, `run_id`, `version`, `current_stage`, `source`, `tags.KEY` (and `tag.KEY`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from modelreg.errors import InvalidInputError

if TYPE_CHECKING:
    from mlflow.store.entities.paged_list import PagedList

_CONDITION = re.compile(
    r"""\s*(?P<field>[`"]?[A-Za-z_][\w.]*(?:`[^`]+`)?[`"]?)\s*
        (?P<op>=|!=|<>|(?:NOT\s+)?I?LIKE|(?:NOT\s+)?IN)\s*
        (?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\((?:[^)]*)\)|-?\d+)\s*""",
    re.IGNORECASE | re.VERBOSE,
)
_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)
_STRING = re.compile(r"""'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)\"""")


class Condition(NamedTuple):
    field: str
    op: str
    values: tuple[str, ...]


def parse(filter_string: str | None) -> list[Condition]:
    """`name = 'm' AND tags.team LIKE 'ri%'` → its conditions; InvalidInputError for anything else."""
    if not filter_string or not filter_string.strip():
        return []
    conditions = []
    for part in _split_and(filter_string):
        match = _CONDITION.fullmatch(part)
        if match is None:
            raise InvalidInputError(f"cannot parse the filter {part.strip()!r} (in {filter_string!r})")
        field = match["field"].replace("`", "").replace('"', "")
        op = " ".join(match["op"].upper().split())
        raw = match["value"]
        if raw.startswith("("):
            values = tuple(a or b for a, b in _STRING.findall(raw))
        elif raw[0] in "'\"":
            values = (raw[1:-1],)
        else:
            values = (raw,)
        conditions.append(Condition(field, op, values))
    return conditions


def _split_and(text: str) -> list[str]:
    """Split on AND outside quotes."""
    parts, current, quote = [], "", ""
    index = 0
    while index < len(text):
        char = text[index]
        if quote:
            current += char
            if char == quote:
                quote = ""
            index += 1
            continue
        if char in "'\"":
            quote = char
        match = _AND.match(text, index)
        if match:
            parts.append(current)
            current = ""
            index = match.end()
            continue
        current += char
        index += 1
    parts.append(current)
    return parts


def _like(pattern: str, text: str, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def _field_value(entity: Any, field: str) -> str | None:
    lowered = field.lower()
    if lowered.startswith(("tags.", "tag.")):
        key = field.split(".", 1)[1]
        tags = entity.tags
        value = tags.get(key) if isinstance(tags, dict) else None
        return None if value is None else str(value)
    if lowered in ("name", "run_id", "version", "current_stage", "source", "description"):
        value = getattr(entity, lowered, None)
        return None if value is None else str(value)
    raise InvalidInputError(f"cannot filter on {field!r}: use name, version, run_id, current_stage, source or tags.KEY")


def matches(entity: Any, conditions: Sequence[Condition]) -> bool:
    for cond in conditions:
        value = _field_value(entity, cond.field)
        if cond.op in ("=", "!=", "<>"):
            equal = value == cond.values[0]
            if equal != (cond.op == "="):
                return False
        elif cond.op.endswith("LIKE"):
            hit = value is not None and _like(cond.values[0], value, cond.op.endswith("ILIKE"))
            if hit == cond.op.startswith("NOT"):
                return False
        else:  # IN / NOT IN
            inside = value in cond.values
            if inside == cond.op.startswith("NOT"):
                return False
    return True


def names_wanted(filter_string: str | None) -> set[str] | None:
    """The model names a filter pins with `name = '…'` or `name IN (…)` (None: any), so a search reads only those."""
    wanted: set[str] | None = None
    for cond in parse(filter_string):
        if cond.field.lower() == "name" and cond.op in ("=", "IN"):
            values = set(cond.values)
            wanted = values if wanted is None else wanted & values
    return wanted


def _sorted(items: list[Any], order_by: Sequence[str] | None, default: list[tuple[str, bool]]) -> list[Any]:
    keys: list[tuple[str, bool]] = []
    for clause in order_by or []:
        words = clause.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
            raise InvalidInputError(f"cannot order by {clause!r}: write FIELD [ASC|DESC]")
        keys.append((words[0], len(words) == 2 and words[1].upper() == "DESC"))
    for field, descending in reversed(keys or default):
        items = sorted(items, key=_by(field), reverse=descending)
    return items


def _by(field: str) -> Callable[[Any], Any]:
    return lambda entity: _order_value(entity, field)


def _order_value(entity: Any, field: str) -> Any:
    name = field.lower().removesuffix("_timestamp")
    if name in ("version", "version_number"):
        return int(entity.version)
    if name in ("creation", "last_updated"):
        return getattr(entity, f"{name}_timestamp", 0) or 0
    if name == "name":
        return entity.name
    raise InvalidInputError(
        f"cannot order by {field!r}: use name, version_number, creation_timestamp or last_updated_timestamp"
    )


def versions(items: list[Any], filter_string: str | None, order_by: Sequence[str] | None) -> list[Any]:
    conditions = parse(filter_string)
    found = [item for item in items if matches(item, conditions)]
    return _sorted(found, order_by, [("name", False), ("version", True)])


def models(items: list[Any], filter_string: str | None, order_by: Sequence[str] | None) -> list[Any]:
    conditions = parse(filter_string)
    for cond in conditions:
        if cond.field.lower() != "name" and not cond.field.lower().startswith(("tags.", "tag.")):
            raise InvalidInputError(f"registered models can be filtered by name only, not {cond.field!r}")
    found = [item for item in items if matches(item, conditions)]
    return _sorted(found, order_by, [("name", False)])


def page(items: list[Any], max_results: int | None, page_token: str | None) -> PagedList[Any]:
    """MLflow's PagedList of one page; the token is the offset of the next page."""
    from mlflow.store.entities.paged_list import PagedList

    start = int(page_token) if page_token and str(page_token).isdigit() else 0
    size = max_results if max_results and max_results > 0 else len(items) or 1
    end = start + size
    return PagedList(items[start:end], str(end) if end < len(items) else None)
