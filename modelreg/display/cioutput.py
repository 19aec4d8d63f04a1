"""Writing facts for CI systems: `$GITHUB_OUTPUT` blocks and dotenv lines.

Nothing here is ever evaluated by a shell. A value comes from tags anyone with push access can
write, so each one is framed so that it cannot start another output or variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from modelreg.errors import InvalidInputError

Value = str | int | bool | None


def text_of(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def github_output(values: Mapping[str, Value], delimiter: str) -> str:
    """GitHub's multi-line form, `key<<DELIM`, value, `DELIM`, for every key.

    A value holding the delimiter line could close its block early and add outputs of its own;
    the caller passes a random delimiter, and one that occurs in a value is refused.
    """
    blocks = []
    for key, value in values.items():
        text = text_of(value)
        if delimiter in text or delimiter in key:
            raise InvalidInputError("an output value contains the delimiter: refusing to write it")
        blocks.append(f"{key}<<{delimiter}\n{text}\n{delimiter}\n")
    return "".join(blocks)


def env_lines(values: Mapping[str, Value], prefix: str = "MODELREG_") -> str:
    """`MODELREG_KEY=value` lines that a POSIX shell can source (`. ./model.env`).

    Each value is quoted for the shell when it needs it (`shlex.quote`: `MODELREG_ACTOR='Jane Doe <j@x>'`);
    plain values (a version, a digest, `true`) stay bare. A value with a line break is refused: a
    dotenv reader has no quoting for it.
    """
    import shlex  # only `check-ref --env` quotes

    lines = []
    for key, value in values.items():
        text = text_of(value)
        if any(c in text for c in "\n\r\x00"):
            raise InvalidInputError(f"the value of {key} has a line break: it cannot be written as an env line")
        lines.append(f"{prefix}{key.upper()}={shlex.quote(text)}\n")
    return "".join(lines)


def append_github_output(path: Path, values: Mapping[str, Value]) -> None:
    """Append `values` to a `$GITHUB_OUTPUT` file, framed by a random delimiter."""
    import secrets  # ~3 ms (random, hmac, base64): only `--github-output` pays

    block = github_output(values, f"ghadelimiter_{secrets.token_hex(16)}")
    try:
        with path.open("a", encoding="utf-8") as out:
            out.write(block)
    except OSError as exc:
        raise InvalidInputError(f"cannot write {path}: {exc.strerror}") from None
