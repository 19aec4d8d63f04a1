"""The names `modelreg notify` and its config share: event kinds and body formats. Pure, and light to import
(the config imports it on every read; the bodies and signatures are in modelreg.core.notices).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from modelreg.errors import InvalidInputError

Format = Literal["json", "slack", "teams"]
FORMATS: tuple[Format, ...] = ("json", "slack", "teams")
KINDS = ("promote", "rollback", "alias", "request", "retire")


def parse_kinds(text: str | Iterable[str] | None) -> frozenset[str]:
    """`promote,rollback` (or a list of names) → the kinds; None or empty → all of them."""
    if text is None:
        return frozenset(KINDS)
    words = [w.strip() for w in (text.split(",") if isinstance(text, str) else text)]
    words = [w for w in words if w]
    unknown = [w for w in words if w not in KINDS]
    if unknown:
        raise InvalidInputError(f"unknown event kind {unknown[0]!r}: choose from {', '.join(KINDS)}")
    return frozenset(words) if words else frozenset(KINDS)


def check_format(text: str) -> Format:
    for fmt in FORMATS:
        if text == fmt:
            return fmt
    raise InvalidInputError(f"unknown format {text!r}: choose from {', '.join(FORMATS)}")
