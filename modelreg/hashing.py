"""Content digests of local files and directories (DESIGN §2), streamed, in parallel."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from modelreg.errors import InvalidInputError
from modelreg.models import ArtifactFile

ProgressFn = Callable[[int], None]


class Progress(Protocol):
    """What long operations report to: the CLI draws a bar, library callers may log or ignore."""

    def start(self, label: str, total: int) -> None: ...

    def advance(self, amount: int) -> None: ...


CHUNK = 1 << 20
WORKERS = min(8, (os.cpu_count() or 1) * 2)


def scan(path: Path) -> list[tuple[Path, str]]:
    """The files of an artifact as (absolute path, relative POSIX path), sorted by the latter.

    A file is its own single entry; a directory is walked (following links). Missing or empty
    inputs are refused.
    """
    if not path.exists():
        raise InvalidInputError(f"{path} does not exist")
    if path.is_file():
        if path.stat().st_size == 0:
            raise InvalidInputError(f"{path} is an empty file")
        return [(path, path.name)]
    if not path.is_dir():
        raise InvalidInputError(f"{path} is neither a file nor a directory")
    found: list[tuple[Path, str]] = []
    for dirpath, dirnames, filenames in os.walk(path, followlinks=True):
        dirnames.sort()
        for filename in filenames:
            full = Path(dirpath) / filename
            if full.is_file():
                found.append((full, full.relative_to(path).as_posix()))
    if not found:
        raise InvalidInputError(f"{path} is an empty directory")
    return sorted(found, key=lambda item: item[1])


def sha256_file(path: Path, progress: ProgressFn | None = None) -> tuple[str, int]:
    """(`sha256:<hex>`, size) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with open(path, "rb") as handle:
        while n := handle.readinto(buffer):
            digest.update(view[:n])
            size += n
            if progress:
                progress(n)
    return f"sha256:{digest.hexdigest()}", size


def tree_digest(files: list[ArtifactFile]) -> str:
    """sha256 of the canonical file list: `"<digest> <size> <path>\\n"` lines sorted by path."""
    text = "".join(f"{f.digest} {f.size} {f.path}\n" for f in sorted(files, key=lambda f: f.path))
    return f"sha256:{hashlib.sha256(text.encode()).hexdigest()}"
