"""Shell completion from the registry: model names, versions, stages and aliases.

Only called while a shell asks for completions (`_MODELREG_COMPLETE` is set), never on a normal
start-up. Any error means no suggestions: a completion must never print one.
"""

from __future__ import annotations

from typing import Any

from modelreg.cli.registry import open_registry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from modelreg.api import Registry  # see cli.registry: loaded only by commands that open one


def _registry() -> Registry | None:
    try:
        return open_registry()
    except Exception:
        return None


def _model_words(reg: Registry, name: str) -> tuple[list[str], list[str]]:
    """(versions, aliases) of `name`, or nothing when it is not a model."""
    try:
        state = reg.model(name).state
    except Exception:
        return [], []
    return [str(v) for v in sorted(state.versions)], sorted(state.aliases)


def _models(reg: Registry) -> list[str]:
    try:
        return [m.name for m in reg.models()]
    except Exception:
        return []


def refs(incomplete: str) -> list[str]:
    """`fr` → `fraud-detector`; `fraud-detector@` → its versions, aliases and latest; `fraud-detector/` → stages."""
    reg = _registry()
    if reg is None:
        return []
    for mark in ("@", "/"):
        if mark in incomplete:
            name = incomplete.partition(mark)[0]
            versions, aliases = _model_words(reg, name)
            if not versions:
                return []
            words = [*versions, *aliases, "latest"] if mark == "@" else list(reg.config.stages)
            return [c for w in words if (c := f"{name}{mark}{w}").startswith(incomplete)]
    names = [n for n in _models(reg) if n.startswith(incomplete)]
    return names if len(names) != 1 else [names[0], f"{names[0]}@", f"{names[0]}/"]


def names(incomplete: str) -> list[str]:
    reg = _registry()
    return [] if reg is None else [n for n in _models(reg) if n.startswith(incomplete)]


def stages(incomplete: str) -> list[str]:
    reg = _registry()
    return [] if reg is None else [s for s in reg.config.stages if s.startswith(incomplete.lower())]


def operands(ctx: Any, incomplete: str) -> list[str]:
    """What may follow `NAME[@VERSION]`: its versions (unless given), then stages and aliases."""
    reg = _registry()
    if reg is None:
        return []
    first = (ctx.params.get("ref") or ctx.params.get("name") or "") if ctx is not None else ""
    name = first.partition("@")[0].partition("/")[0]
    versions, aliases = _model_words(reg, name)
    words = [*(() if "@" in first else versions), *reg.config.stages, *aliases]
    return [w for w in words if w.startswith(incomplete)]
