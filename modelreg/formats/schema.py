"""Typed field access for parsed YAML, with errors that name the file and the key."""

from __future__ import annotations

import sys
from typing import Any, TypeVar

from modelreg.errors import ConfigError

T = TypeVar("T")
_MAX_FLOAT = int(sys.float_info.max)  # float() of a larger int raises OverflowError
_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    dict: "a mapping",
    list: "a list",
}


class Fields:
    """A mapping read from `source`, whose keys are checked as they are taken."""

    def __init__(self, data: Any, source: str, path: str = "") -> None:
        if not isinstance(data, dict):
            where = f"{path}" if path else "the document"
            raise ConfigError(f"{source}: {where} must be a mapping")
        self.data: dict[Any, Any] = data
        self.source = source
        self.path = path

    def key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: key '{self.key(key)}' {message}")

    def required(self, key: str, kind: type[T]) -> T:
        if key not in self.data:
            raise self.fail(key, "is missing")
        return self.typed(key, kind)

    def optional(self, key: str, kind: type[T], default: T) -> T:
        if self.data.get(key) is None:
            return default
        return self.typed(key, kind)

    def maybe(self, key: str, kind: type[T]) -> T | None:
        return None if self.data.get(key) is None else self.typed(key, kind)

    def typed(self, key: str, kind: type[T]) -> T:
        value = self.data[key]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            if abs(value) > _MAX_FLOAT:
                raise self.fail(key, "is too large a number")
            ok, value = True, float(value)
        if not ok:
            raise self.fail(key, f"must be {_TYPE_NAMES.get(kind, kind.__name__)}, not {value!r}")
        return value  # type: ignore[no-any-return]

    def child(self, key: str) -> Fields:
        return Fields(self.data.get(key) or {}, self.source, self.key(key))

    def str_list(self, key: str, default: list[str]) -> list[str]:
        value = self.optional(key, list, default)
        for item in value:
            if not isinstance(item, str):
                raise self.fail(key, f"must list strings, not {item!r}")
        return value

    def scalar_map(self, key: str) -> dict[str, Any]:
        """A flat mapping of names to scalars (params, metrics, tags)."""
        value = self.optional(key, dict, {})
        for name, item in value.items():
            if not isinstance(name, str):
                raise self.fail(key, f"must have string keys, not {name!r}")
            if isinstance(item, (dict, list)):
                raise self.fail(f"{key}.{name}", "must be a single value")
        return value
