"""The one grammar of commands that take a version, shared by every such command (no Typer here).

`promote NAME@2 production` and `promote NAME 2 production` mean the same; so do
`alias set NAME@2 champion` and `alias set NAME 2 champion`; the version may also be named by any
reference of one version (`NAME@champion`, `NAME/Staging`). See docs/concepts.md, "One grammar".
"""

from __future__ import annotations

from collections.abc import Sequence

from modelreg.core.refs import ModelRef, looks_like_version, parse_ref, parse_version, versioned_operands
from modelreg.errors import InvalidInputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from modelreg.api import Registry  # see cli.registry: loaded only by commands that open one


def versioned(reg: Registry, words: Sequence[str | None], following: int, usage: str) -> tuple[str, int, list[str]]:
    """(name, version, the `following` operands after it) from `NAME@N A…` or `NAME N A…`.

    A reference that is not a number (`NAME@champion`) is looked up in `reg`.
    """
    ref, rest = versioned_operands(words, following, usage)
    return ref.name, version_of(reg, ref), rest


def version_of(reg: Registry, ref: ModelRef) -> int:
    return ref.version if ref.version is not None else reg.resolve(ref).version


def alias_operands(words: Sequence[str]) -> list[str]:
    """`NAME ALIAS N` (the older order) as `NAME N ALIAS`: an alias never looks like a version."""
    if len(words) == 3 and looks_like_version(words[2]) and not looks_like_version(words[1]):
        return [words[0], words[2], words[1]]
    return list(words)


def two_versions(reg: Registry, words: Sequence[str], usage: str) -> tuple[str, int, int]:
    """`NAME A B` (two version numbers) or `REF REF` (any two references to one model's versions)."""
    if len(words) == 3 and "@" not in words[0] and "/" not in words[0]:
        return parse_ref(words[0]).name, parse_version(words[1]), parse_version(words[2])
    if len(words) != 2:
        raise InvalidInputError(f"expected {usage}")
    a, b = parse_ref(words[0]), parse_ref(words[1])
    if a.name != b.name:
        raise InvalidInputError(f"{words[0]} and {words[1]} are versions of different models: compare one model's")
    return a.name, version_of(reg, a), version_of(reg, b)
