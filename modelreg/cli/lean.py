"""The read commands' common forms, parsed without Typer: Typer and its command tree cost 100 ms.

A command line is taken here only when every word of it is understood: the command, the exact
number of operands, and options from the command's table below (`--opt value` or `--opt=value`).
Anything else (`--help`, a typo, an operand that starts with `-`, shell completion) goes to the
Typer app, which owns the grammar and the help; a test holds these tables to its declarations.
"""

from __future__ import annotations

import os
from collections.abc import Callable

_READ_OPTIONS = {"--fetch": "fetch", "--json": "json_"}, {"--remote": "remote", "--repo": "repo"}

# command → (operand names, flags, options that take a value)
_AT = {"--at": "at"}
COMMANDS: dict[str, tuple[tuple[str, ...], dict[str, str], dict[str, str]]] = {
    "list": ((), _READ_OPTIONS[0], {**_READ_OPTIONS[1], **_AT}),
    "show": (("ref",), _READ_OPTIONS[0], {**_READ_OPTIONS[1], **_AT}),
    "history": (("name",), _READ_OPTIONS[0], {**_READ_OPTIONS[1], "--since": "since", "--until": "until"}),
    "resolve": (("ref",), _READ_OPTIONS[0], {**_READ_OPTIONS[1], **_AT}),
    "check-ref": (
        ("ref",),
        {**_READ_OPTIONS[0], "--env": "env"},
        {**_READ_OPTIONS[1], "--github-output": "github_output"},
    ),
    "search": (
        ("filter_",),
        _READ_OPTIONS[0],
        {**_READ_OPTIONS[1], **_AT, "--model": "model", "--order-by": "order_by", "--limit": "limit"},
    ),
    "lint": ((), {"--json": "json_"}, {}),
}
OPTIONAL_OPERANDS = frozenset({"search"})  # commands whose operands may be left out (they default to None)
REPEATABLE = frozenset({"--order-by"})  # options that may be given more than once: a list of their values
POSITIVE_INTEGERS = frozenset({"--limit"})


def parse(args: list[str]) -> Callable[[], None] | None:
    """The call that runs `args`, or None when they are not a form this module takes."""
    if not args or args[0] not in COMMANDS or any(key.startswith("_MODELREG_COMPLETE") for key in os.environ):
        return None
    names, flags, valued = COMMANDS[args[0]]
    operands: list[str] = []
    values: dict[str, object] = {flag: False for flag in flags.values()} | dict.fromkeys(valued.values())
    rest = iter(args[1:])
    for word in rest:
        option, eq, value = word.partition("=")
        if option in flags and not eq:
            values[flags[option]] = True
        elif option in valued:
            if not eq:
                value = next(rest, "")
            if not value or value.startswith("-"):
                return None
            if option in POSITIVE_INTEGERS:
                if not value.isdigit() or int(value) < 1:
                    return None  # Typer says why
                values[valued[option]] = int(value)
            elif option in REPEATABLE:
                values[valued[option]] = [*(values[valued[option]] or []), value]  # type: ignore[misc]
            else:
                values[valued[option]] = value
        elif word.startswith("-") or len(operands) == len(names):
            return None
        else:
            operands.append(word)
    if len(operands) != len(names) and not (args[0] in OPTIONAL_OPERANDS and len(operands) < len(names)):
        return None
    given = dict(zip(names, operands, strict=False))
    return _call(args[0], {name: given.get(name) for name in names} | values)


def _call(command: str, kwargs: dict[str, object]) -> Callable[[], None]:
    if command == "check-ref" and kwargs["github_output"] is not None:
        from pathlib import Path  # ~5 ms (urllib, ipaddress) that `--version` never pays

        kwargs["github_output"] = Path(str(kwargs["github_output"]))
    from modelreg.cli import reads  # the registry's read side: ~50 ms that `--version` and `--help` never pay

    function = {
        "list": reads.list_models,
        "show": reads.show,
        "history": reads.history,
        "resolve": reads.resolve,
        "check-ref": reads.check_ref,
        "search": reads.search,
        "lint": reads.lint,
    }[command]
    return lambda: function(**kwargs)  # type: ignore[operator]
