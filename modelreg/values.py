"""`key=value` options → typed mappings: pure."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from modelreg.errors import InvalidInputError
from modelreg.models import Scalar

_KEY_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$")


def coerce(text: str) -> Scalar:
    """`7` → 7, `0.5` → 0.5, `true` → True; anything else stays a string."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def parse_pairs(pairs: Iterable[str], option: str) -> dict[str, Scalar]:
    """`["lr=0.1", "depth=6"]` → `{"lr": 0.1, "depth": 6}`; a later key wins."""
    result: dict[str, Scalar] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep:
            raise InvalidInputError(f"{option} {pair!r}: expected KEY=VALUE")
        if not _KEY_RE.match(key):
            raise InvalidInputError(f"{option} {pair!r}: the key must be letters, digits, '_', '.', '-' or '/'")
        result[key] = coerce(value)
    return result
