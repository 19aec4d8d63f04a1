"""The options every write takes, travelling together."""

from __future__ import annotations

from typing import NamedTuple, TypedDict


class WriteOptions(NamedTuple):
    """How a write is published: pushed to `remote` (None: the config's default), signed, and why.

    None means "as the registry's config says" (`push`, `remote`, `require_signed`).
    """

    push: bool | None = None
    remote: str | None = None
    sign: bool | None = None
    reason: str | None = None


class WriteArgs(TypedDict, total=False):
    """The keyword arguments of `WriteOptions`, for the Registry's methods (`**write: Unpack[WriteArgs]`)."""

    push: bool | None
    remote: str | None
    sign: bool | None
    reason: str | None
