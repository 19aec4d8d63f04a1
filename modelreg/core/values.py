"""`key=value` options → typed mappings: pure."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from modelreg.errors import InvalidInputError
from modelreg.models import Scalar

MAX_TAG_KEY = 250  # MLflow's limit for a registry tag's key
_KEY_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-/]*")
_INT_RE = re.compile(r"[+-]?(0|[1-9][0-9]*)")  # `007` is an id, not 7
_FLOAT_RE = re.compile(r"[+-]?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def coerce(text: str) -> Scalar:
    """`7` → 7, `0.5` → 0.5, `true` → True; anything else stays a string.

    Quotes keep a value a string: `ver='"1.10"'` gives "1.10", not 1.1.
    """
    stripped = text.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in "\"'":
        return stripped[1:-1]
    if stripped.lower() in ("true", "false"):
        return stripped.lower() == "true"
    if _INT_RE.fullmatch(stripped):
        return int(stripped)
    if _FLOAT_RE.fullmatch(stripped):
        number = float(stripped)
        return number if math.isfinite(number) else text
    return text


def parse_pairs(pairs: Iterable[str], option: str) -> dict[str, Scalar]:
    """`["lr=0.1", "depth=6"]` → `{"lr": 0.1, "depth": 6}`; a key given twice is an error."""
    result: dict[str, Scalar] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep:
            raise InvalidInputError(f"{option} {pair!r}: expected KEY=VALUE")
        if not _KEY_RE.fullmatch(key):
            raise InvalidInputError(f"{option} {pair!r}: the key must be letters, digits, '_', '.', '-' or '/'")
        if key in result:
            raise InvalidInputError(f"{option} {key} is given twice: give each key once")
        result[key] = coerce(value)
    return result


def check_scalars(values: Mapping[str, object], what: str) -> dict[str, Scalar]:
    """A flat mapping of names to single values (what manifests can hold), or an error."""
    for key, value in values.items():
        if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
            raise InvalidInputError(f"{what}: invalid key {key!r}")
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise InvalidInputError(f"{what}: {key!r} must be a single value, not {type(value).__name__}")
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInputError(f"{what}: {key!r} must be a finite number")
    return dict(values)  # type: ignore[arg-type]


def check_model_tags(values: Mapping[str, object]) -> dict[str, Scalar]:
    """Tags (a model's own, in an event's JSON, or a version's, in its manifest): single values under any
    printable key, so MLflow's keys such as `another key` are kept as they are (YAML quotes what needs it)."""
    for key, value in values.items():
        if not isinstance(key, str) or not key.strip() or not key.isprintable() or len(key) > MAX_TAG_KEY:
            raise InvalidInputError(f"tags: invalid key {key!r}")
        check_scalars({"key": value}, f"tags: {key!r}")
    return dict(values)  # type: ignore[arg-type]


def check_metrics(metrics: Mapping[str, Scalar]) -> None:
    """Metrics are numbers (MLflow refuses anything else, and comparisons need them); params stay free text."""
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInputError(
                f"metric {key}={value!r} is not a number: metrics are numbers (e.g. {key}=0.91); "
                "give text as --param or --tag"
            )
