"""What a filter or an order sees of a version: the fields, a record's values, the sort key; pure.

See filtering for the grammar. A record's value for a field is None when it has none; numbers are
floats, times aware datetimes, `stage` and `alias` a tuple.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple

from modelreg.core.instants import Span, parse_span
from modelreg.models import NO_VALUES

Kind = Literal["text", "texts", "number", "time"]
BUILTIN: Mapping[str, Kind] = {
    "name": "text",
    "version": "number",
    "stage": "texts",
    "alias": "texts",
    "created": "time",
    "author": "text",
    "dataset": "text",
    "run_id": "text",
    "source_path": "text",  # MLflow's name for what it registered a version from; only its searches ask
}
FAMILIES: Mapping[str, Kind] = {"metrics": "number", "params": "text", "tags": "text"}
ALL_FIELDS: frozenset[str] = (frozenset(BUILTIN) - {"source_path"}) | frozenset(FAMILIES)
MLFLOW_FIELDS: frozenset[str] = ALL_FIELDS | {"source_path"}  # what modelreg/mlflow/search.py's versions take


class SearchRecord(NamedTuple):
    """What a filter can see of one version (or, for a model-level search, of one model)."""

    name: str
    version: int | None = None
    stages: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    metrics: Mapping[str, Any] = NO_VALUES
    params: Mapping[str, Any] = NO_VALUES
    tags: Mapping[str, Any] = NO_VALUES
    created: str | None = None  # ISO 8601
    author: str | None = None
    dataset: str | None = None
    run_id: str | None = None
    source: str | None = None


class OrderKey(NamedTuple):
    field: str
    key: str | None
    descending: bool = False

    @property
    def label(self) -> str:
        name = f"{self.field}.{self.key}" if self.key is not None else self.field
        return f"{name} {'DESC' if self.descending else 'ASC'}"


# --- reading a record ----------------------------------------------------------------------------


def field_value(record: SearchRecord, field: str, key: str | None) -> Any:
    """The value a clause compares: None when the record has none (numbers are floats, times aware datetimes)."""
    return _GETTERS[field](record, key)


def _text_of(value: Any) -> str | None:
    return None if value is None else str(value)


# field → (record, key) → value; one lookup per clause and record, no chain of comparisons.
_GETTERS: Mapping[str, Callable[[SearchRecord, str | None], Any]] = {
    "metrics": lambda r, k: _number(r.metrics.get(k)) if k is not None else None,
    "params": lambda r, k: _text_of(r.params.get(k)) if k is not None else None,
    "tags": lambda r, k: _text_of(r.tags.get(k)) if k is not None else None,
    "name": lambda r, _k: r.name,
    "version": lambda r, _k: None if r.version is None else float(r.version),
    "stage": lambda r, _k: r.stages or None,
    "alias": lambda r, _k: r.aliases or None,
    "created": lambda r, _k: _instant(r.created),
    "author": lambda r, _k: r.author or None,
    "dataset": lambda r, _k: r.dataset or None,
    "run_id": lambda r, _k: r.run_id or None,
    "source_path": lambda r, _k: r.source or None,
}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _instant(text: str | None) -> datetime | None:
    span = parse_span(text) if text else None
    return span.first if span is not None else None


# --- comparing ------------------------------------------------------------------------------------


def clause_test(kind: Kind, op: str, value: Any) -> Callable[[Any], bool]:
    """The operator on one record's value; `texts` fields hold a tuple and match on any (or, negated, on none)."""
    if kind == "time":
        return _time_test(op, value)
    if op in ("LIKE", "ILIKE"):
        single: Callable[[Any], bool] = value.matches
    elif op in ("IN", "NOT IN"):
        members = frozenset(value)
        single = members.__contains__
    else:
        single = _COMPARE[op](value)
    negated = op in ("!=", "NOT IN")
    if negated:
        positive = single if op == "NOT IN" else _COMPARE["="](value)
        if kind == "texts":
            return lambda values: not any(positive(v) for v in values)
        return lambda v: not positive(v)
    if kind == "texts":
        return lambda values: any(single(v) for v in values)
    return single


_COMPARE: Mapping[str, Callable[[Any], Callable[[Any], bool]]] = {
    "=": lambda b: lambda a: a == b,
    "!=": lambda b: lambda a: a != b,
    "<": lambda b: lambda a: a < b,
    "<=": lambda b: lambda a: a <= b,
    ">": lambda b: lambda a: a > b,
    ">=": lambda b: lambda a: a >= b,
}


def _time_test(op: str, value: datetime | Span) -> Callable[[Any], bool]:
    """A date compares as its whole day: `= '2026-03-01'` is any time that day, `< '2026-03-01'` before it."""
    span = value if isinstance(value, Span) else Span(value, value)
    first, last = span.first, span.last
    tests: Mapping[str, Callable[[datetime], bool]] = {
        "=": lambda t: first <= t <= last,
        "!=": lambda t: not first <= t <= last,
        "<": lambda t: t < first,
        "<=": lambda t: t <= last,
        ">": lambda t: t > last,
        ">=": lambda t: t >= first,
    }
    return tests[op]


# --- ordering ---------------------------------------------------------------------------------------


class _Descending:
    """Reverses the order of the value it wraps, so one tuple key can mix ASC and DESC."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Descending) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and bool(self.value == other.value)

    __hash__ = None  # type: ignore[assignment]


DEFAULT_ORDER = (OrderKey("name", None), OrderKey("version", None, descending=True))
CHEAP_FIELDS = frozenset({"name", "version", "stage", "alias"})  # known without a version's manifest


def sort_key(order: Sequence[OrderKey]) -> Callable[[SearchRecord], tuple[Any, ...]]:
    """A key for `sorted`: the order keys, then name and newest version first; missing values last either way."""
    keys = (*order, *DEFAULT_ORDER)

    def key(record: SearchRecord) -> tuple[Any, ...]:
        parts: list[Any] = []
        for k in keys:
            value = _sortable(field_value(record, k.field, k.key))
            parts.append(value is None)
            parts.append(0 if value is None else _Descending(value) if k.descending else value)
        return tuple(parts)

    return key


def _sortable(value: Any) -> Any:
    """Values of one field in one comparable shape: numbers before text, a set by its smallest member."""
    if isinstance(value, tuple):
        value = min(value)
    if isinstance(value, float):
        return (0, value, "") if not math.isnan(value) else None
    if isinstance(value, datetime):
        return (0, value.timestamp(), "")
    if value is None:
        return None
    return (1, 0.0, str(value))
