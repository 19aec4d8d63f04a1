"""Names, references and tag names: pure functions, no I/O.

Every name that reaches a ref, a path or a CI output passes `check_name` first (DESIGN §1).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal, NamedTuple

from modelreg.core import names
from modelreg.errors import InvalidInputError

NAME_RE = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*$")
MAX_NAME_LENGTH = 100
LATEST = "latest"
_VERSION_RE = re.compile(r"^v?([0-9]{1,19})$")  # at most 2**63 - 1, as manifests and tags allow
MAX_NUMBER = 2**63 - 1

NameKind = Literal["model", "stage", "alias"]


def check_name(name: str, kind: NameKind = "model") -> str:
    """Return `name` if it is a valid model/stage/alias name, else raise InvalidInputError.

    Model names follow `core.names` (any name MLflow accepts); stages and aliases are lowercase slugs.
    """
    if kind == "model":
        return names.check_model_name(name)
    if not name:
        raise InvalidInputError(f"{kind} name is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError(f"{kind} name is longer than {MAX_NAME_LENGTH} characters: {name[:20]!r}…")
    if not NAME_RE.fullmatch(name):
        raise InvalidInputError(
            f"invalid {kind} name {name!r}: use lowercase letters and digits, separated by single '.', '_' or '-'"
        )
    return name


def check_alias(alias: str, stages: tuple[str, ...]) -> str:
    """An alias is a name that cannot be mistaken for a version, a stage or `latest`."""
    check_name(alias, "alias")
    if looks_like_version(alias):
        raise InvalidInputError(f"invalid alias {alias!r}: it looks like a version number")
    if alias in stages:
        raise InvalidInputError(f"invalid alias {alias!r}: it is the name of a stage")
    if alias == LATEST:
        raise InvalidInputError("invalid alias 'latest': it is reserved for the newest version")
    return alias


def stage_name(text: str) -> str:
    """Stage names are case-insensitive everywhere: `Production` is `production` (as in MLflow)."""
    return text.strip().lower()


def looks_like_version(text: str) -> bool:
    return bool(_VERSION_RE.fullmatch(text))


def parse_version(text: str) -> int:
    """`7` or `v7` → 7."""
    match = _VERSION_RE.fullmatch(text.strip())
    if not match or not 1 <= int(match.group(1)) <= MAX_NUMBER:
        raise InvalidInputError(f"invalid version {text!r}: expected a positive number like 7 or v7")
    return int(match.group(1))


class ModelRef(NamedTuple):
    """A parsed reference: a model name and at most one selector.

    With no selector the reference means the latest version.
    """

    name: str
    version: int | None = None
    alias: str | None = None
    stage: str | None = None

    def __str__(self) -> str:
        name = names.reference_text(self.name)
        if self.version is not None:
            return f"{name}@v{self.version}"
        if self.alias is not None:
            return f"{name}@{self.alias}"
        if self.stage is not None:
            return f"{name}/{self.stage}"
        return name


def parse_ref(text: str) -> ModelRef:
    """Parse every reference form of DESIGN §4.

    name · name@7 · name@v7 · name@champion · name@latest · name/production · name/7 ·
    models:/name/7 · models:/name/Production · models:/name/latest · models:/name@champion
    """
    raw = text.strip()
    if not raw:
        raise InvalidInputError("empty model reference")
    mlflow = raw.startswith("models:/")
    body = raw[len("models:/") :] if mlflow else raw
    try:
        if body.startswith('"'):
            return _parse_quoted(body)
        return _parse_body(body, mlflow)
    except InvalidInputError as exc:
        raise InvalidInputError(f"invalid reference {text!r}: {exc}") from None


def _parse_body(body: str, mlflow: bool) -> ModelRef:
    if "@" in body:
        name, _, selector = body.partition("@")
        check_name(name)
        if not selector:
            raise InvalidInputError("nothing after '@'")
        if _VERSION_RE.fullmatch(selector):
            return ModelRef(name, version=parse_version(selector))
        if selector == LATEST:
            return ModelRef(name)
        return ModelRef(name, alias=check_name(selector, "alias"))
    if "/" in body:
        name, _, selector = body.partition("/")
        check_name(name)
        if not selector:
            raise InvalidInputError("nothing after '/'")
        selector = stage_name(selector)  # `Production` (as MLflow writes it) is `production`
        if _VERSION_RE.fullmatch(selector):
            return ModelRef(name, version=parse_version(selector))
        if selector == LATEST:
            return ModelRef(name)
        return ModelRef(name, stage=check_name(selector, "stage"))
    if mlflow:
        raise InvalidInputError("expected models:/NAME/VERSION, models:/NAME/STAGE or models:/NAME@ALIAS")
    return ModelRef(check_name(body))


def _parse_quoted(body: str) -> ModelRef:
    """`"Fraud Model"@7`: a quoted name (a `"` inside written `""`) for names holding `@` or blanks."""
    index, chars = 1, []
    while True:
        end = body.find('"', index)
        if end < 0:
            raise InvalidInputError("no closing '\"' after the model name")
        chars.append(body[index:end])
        if body[end + 1 : end + 2] != '"':
            break
        chars.append('"')
        index = end + 2
    name, rest = check_name("".join(chars)), body[end + 1 :]
    if not rest:
        return ModelRef(name)
    if rest[0] not in "@/":
        raise InvalidInputError("expected '@' or '/' after the quoted model name")
    parsed = _parse_body("m" + rest, mlflow=False)
    return parsed._replace(name=name)


def versioned_operands(words: Sequence[str | None], following: int, usage: str) -> tuple[ModelRef, list[str]]:
    """The one grammar of the commands that take a version: `NAME@N A…` or `NAME N A…`.

    `words` are the command's operands in order (None for those not given); `following` is how
    many operands come after the version (a stage, an alias…); `usage` shows the right form in
    the error. The version may be any reference of one version (`NAME@champion`, `NAME/staging`).
    """
    given = [w for w in words if w is not None]
    if not given:
        raise InvalidInputError(f"expected {usage}")
    first, rest = given[0], given[1:]
    if len(rest) == following + 1 and "@" not in first and "/" not in first and not first.startswith("models:/"):
        name = check_name(first)
        return ModelRef(name, version=_operand_version(rest[0], usage)), rest[1:]
    if len(rest) != following:
        raise InvalidInputError(f"expected {usage}, got {' '.join(given)!r}")
    if "@" not in first and "/" not in first:
        raise InvalidInputError(f"which version of {check_name(first)}? expected {usage}")
    return parse_ref(first), rest


def _operand_version(text: str, usage: str) -> int:
    try:
        return parse_version(text)
    except InvalidInputError:
        raise InvalidInputError(f"invalid version {text!r}: expected {usage}") from None


# --- tag names (DESIGN §3) ---------------------------------------------------------------------

TAGS_PREFIX = "refs/tags/"
CLAIMS_PREFIX = "refs/modelreg/events/"  # NAME/SEQ → the event tag object that took that seq
VERSION_CLAIMS_PREFIX = "refs/modelreg/versions/"  # NAME/N → the version tag object of vN


# Targets of events about a whole model or a version's metadata, not a stage or alias: a leading `_`
# can never start a stage or alias name (NAME_RE), so `fraud#_retire#9` never collides with one.
MODEL_TARGETS = {
    "_retire": "retire",
    "_unretire": "unretire",
    "_describe": "describe",
    "_update": "update",
    "_delete": "delete",  # a version (kind "version") or every version up to it (kind "model"): a tombstone
    "_create": "create",  # a model before its first version, with its description and tags (version 0)
}
NO_VERSION = 0  # the `version` of a model-level event written while the model has no version


def is_event_target(target: str) -> bool:
    """A stage or alias name, or one of the model-level targets."""
    return bool(NAME_RE.fullmatch(target)) or target in MODEL_TARGETS


def version_tag(name: str, version: int) -> str:
    return f"{names.encode(name)}@v{version}"


def event_tag(name: str, target: str, seq: int) -> str:
    return f"{names.encode(name)}#{target}#{seq}"


def claim_ref(name: str, seq: int) -> str:
    return f"{CLAIMS_PREFIX}{names.encode(name)}/{seq}"


def version_claim_ref(name: str, version: int) -> str:
    return f"{VERSION_CLAIMS_PREFIX}{names.encode(name)}/{version}"


def claim_prefixes(name: str | None) -> list[str]:
    """`for-each-ref` patterns (ref prefixes) of the claim refs of one model (or of all models)."""
    key = names.encode(name) if name else None
    return [f"{prefix}{key}/" if key else prefix for prefix in (CLAIMS_PREFIX, VERSION_CLAIMS_PREFIX)]


def is_claim_ref(ref: str) -> bool:
    return ref.startswith((CLAIMS_PREFIX, VERSION_CLAIMS_PREFIX))


def tag_patterns(name: str | None) -> list[str]:
    """`git for-each-ref` patterns matching the tags of one model (or of all models)."""
    model = names.encode(name) if name is not None else "*"
    return [f"{TAGS_PREFIX}{model}@v*", f"{TAGS_PREFIX}{model}#*#*"]


class TagName(NamedTuple):
    """A parsed modelreg tag name: a version tag (`seq` is None) or an event tag."""

    name: str
    version: int | None = None
    target: str | None = None
    seq: int | None = None


def parse_tag_name(text: str) -> TagName | None:
    """`fraud@v7` or `fraud#production#12` (optionally under refs/tags/); None if not ours.

    The name part is a model's key (`core.names`): the TagName holds the model's name it decodes to.
    """
    tag = text.removeprefix(TAGS_PREFIX)
    if "@" in tag:  # NAME@vN: a name without @ # /, N of 1 to 19 digits, no leading 0
        key, _, version = tag.partition("@")
        number = _number(version[1:]) if version.startswith("v") and _plain(key) else None
        name = names.decode(key) if number is not None else None
        return TagName(name, version=number) if name is not None else None
    parts = tag.split("#")  # NAME#TARGET#SEQ
    if len(parts) != 3 or not _plain(parts[0]) or not _plain(parts[1]) or (seq := _number(parts[2])) is None:
        return None
    name = names.decode(parts[0])
    return TagName(name, target=parts[1], seq=seq) if name is not None and is_event_target(parts[1]) else None


def _plain(part: str) -> bool:
    """A part of a tag name: not empty, without @, # or /."""
    return bool(part) and "@" not in part and "#" not in part and "/" not in part


def _number(text: str) -> int | None:
    """A version or seq as tag names write it (1 to 19 ASCII digits, no leading 0), if at most MAX_NUMBER."""
    if not 0 < len(text) <= 19 or not text.isascii() or not text.isdigit() or text[0] == "0":
        return None
    number = int(text)
    return number if number <= MAX_NUMBER else None
