"""What long operations report their progress to: a protocol, so that reading one needs no hashing or I/O."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

ProgressFn = Callable[[int], None]


class Progress(Protocol):
    """What long operations report to: the CLI draws a bar, library callers may log or ignore."""

    def start(self, label: str, total: int) -> None: ...

    def advance(self, amount: int) -> None: ...
