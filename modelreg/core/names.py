"""Model names and their keys: the one rule for what a model may be called (DESIGN §1, §10). Pure: no I/O.

A model name is any name MLflow accepts: not blank, no `/` or `:`, not a relative path part, no control
character. Refs and paths never hold the name itself but its *key*, a reversible encoding that is

- readable: a lowercase slug (`fraud-detector`, `sk-learn-random-forest-reg-model`) is its own key, so
  registries written before names were widened keep every tag, claim ref and directory unchanged;
- safe as a git ref component and a file name: keys use only `a-z 0-9 . _ - +`;
- collision-free on case-insensitive file systems: keys hold no uppercase letter, so `Fraud` (key `+fraud`)
  and `fraud` (key `fraud`) never share a loose ref or a directory;
- reversible: `+` and a lowercase letter is that letter in uppercase; `+` and three decimal digits is one
  byte of the name's UTF-8 (`+032` a space, `+043` a `+`). Every other key character is itself.

A key is only taken from a ref or a path when it is canonical (re-encoding its name gives it back), so no
two refs ever name the same model.
"""

from __future__ import annotations

import re
from functools import lru_cache

from modelreg.errors import InvalidInputError

SLUG_RE = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*$")
KEY_RE = re.compile(r"^(?:[a-z0-9._-]|\+[a-z]|\+[0-9]{3})+$")
MAX_NAME_LENGTH = 256  # MLflow's SQL stores keep names in a 256-character column
MAX_KEY_LENGTH = 128  # keeps `KEY#TARGET#SEQ` (targets ≤ 100) within a file name's 255 bytes
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")
_TOKEN = re.compile(r"\+([a-z])|\+([0-9]{3})|([a-z0-9._-])")

RULE = (
    "a model name is any text MLflow accepts: not blank, without '/' or ':', not '.' or '..', "
    "without control characters"
)


def model_name_problem(name: object) -> str | None:
    """Why `name` is not a model name, or None when it is one."""
    if not isinstance(name, str) or not name.strip():
        return "model name is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"model name is longer than {MAX_NAME_LENGTH} characters: {name[:20]!r}…"
    if "/" in name or ":" in name:
        return f"invalid model name {name!r}: names cannot contain '/' or ':'"
    if name in (".", "..") or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return f"invalid model name {name!r}: {RULE}"
    if len(encode(name)) > MAX_KEY_LENGTH:
        return (
            f"model name {name[:20]!r}… is too long for git refs: its key (uppercase letters and other "
            f"characters escaped) would be longer than {MAX_KEY_LENGTH} characters"
        )
    return None


def check_model_name(name: str) -> str:
    """Return `name` if it is a model name, else raise InvalidInputError."""
    problem = model_name_problem(name)
    if problem is not None:
        raise InvalidInputError(problem)
    return name


def is_slug(name: str) -> bool:
    """A lowercase slug that is its own key."""
    return bool(SLUG_RE.fullmatch(name)) and not name.endswith(".lock")


def encode(name: str) -> str:
    """The key of a model name: what its refs and directories are called."""
    if is_slug(name):
        return name
    out: list[str] = []
    for index, char in enumerate(name):
        if char in _PLAIN and not (index == 0 and char == "-"):
            out.append(char)
        elif "A" <= char <= "Z":
            out.append("+" + char.lower())
        elif char == "." and 0 < index < len(name) - 1 and name[index - 1] != "." and name[index + 1] != ".":
            out.append(char if name[index:] != ".lock" else "+046")
        else:
            out.extend(f"+{byte:03d}" for byte in char.encode())
    return "".join(out)


@lru_cache(maxsize=4096)  # a read decodes one key per tag, and a registry has few models
def decode(key: str) -> str | None:
    """The model name a key stands for; None if `key` is not the canonical key of a model name."""
    if is_slug(key):  # its own key
        return key if model_name_problem(key) is None else None
    if not KEY_RE.fullmatch(key):
        return None
    raw = bytearray()
    for match in _TOKEN.finditer(key):
        upper, byte, plain = match.groups()
        if upper:
            raw += upper.upper().encode()
        elif byte:
            if int(byte) > 255:
                return None
            raw.append(int(byte))
        else:
            raw += plain.encode()
    try:
        name = raw.decode()
    except UnicodeDecodeError:
        return None
    if encode(name) != key or model_name_problem(name) is not None:
        return None
    return name


def key_of(name: str) -> str:
    """The key of a valid model name (checked)."""
    return encode(check_model_name(name))


def reference_text(name: str) -> str:
    """How to write the model in a reference (`NAME@7`): as is, or quoted when it holds `@`, `"` or blank ends."""
    if any(c in name for c in '@"') or name != name.strip():
        return '"' + name.replace('"', '""') + '"'
    return name
