"""The serving directory `sync` keeps: verified versions, an atomically swapped `current`, `current.json`.

    DIR/versions/<name>-v<N>-<digest12>/   one verified artifact per directory, complete or absent
    DIR/current -> versions/<…>            a relative symlink, replaced in one rename
    DIR/current.json                       what `current` holds, replaced in one rename
    DIR/.incoming-*/                       a pull in progress (removed by the next run if it died)

A reader that opens `DIR/current/...` sees the old version or the new one, never a mix: a version
directory appears under `versions/` only once every file in it is verified (rename of a finished
directory), and `current` moves by renaming a new symlink over it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modelreg.errors import InvalidInputError
from modelreg.models import Artifact
from modelreg.store.hashing import sha256_file

_INCOMING = ".incoming-"
_LOCK = ".sync.lock"


class Layout:
    def __init__(self, dest: Path) -> None:
        self.dest = dest.absolute()
        self.versions = self.dest / "versions"
        self.current = self.dest / "current"
        self.current_json = self.dest / "current.json"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold DIR's lock: one `sync` per directory (the kernel drops it when the process dies)."""
        import fcntl

        self.versions.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dest / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise InvalidInputError(f"another `modelreg sync` is using {self.dest}") from None
            yield
        finally:
            os.close(fd)

    def clean_leftovers(self) -> list[str]:
        """Remove what a killed run left behind: unfinished pulls and temporary symlinks or files."""
        removed = []
        for entry in sorted(self.dest.iterdir()):
            if entry.name.startswith(_INCOMING) or (entry.name.startswith(".current") and entry.name.endswith(".tmp")):
                _remove(entry)
                removed.append(entry.name)
        return removed

    def current_name(self) -> str | None:
        """The version directory `current` points at, if it points at one that exists."""
        try:
            target = os.readlink(self.current)
        except OSError:
            return None
        parts = Path(target).parts
        if len(parts) != 2 or parts[0] != "versions" or not (self.versions / parts[1]).is_dir():
            return None
        return parts[1]

    def version_dirs(self) -> dict[str, float]:
        """Each version directory → when it last became current (its mtime)."""
        found = {}
        for entry in self.versions.iterdir():
            if entry.is_dir() and not entry.name.startswith("."):
                found[entry.name] = entry.stat().st_mtime
        return found

    def holds(self, name: str, artifact: Artifact) -> bool:
        """Whether versions/`name` holds exactly the artifact's files, every byte re-hashed."""
        root = self.versions / name
        if not root.is_dir():
            return False
        present = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink())
        if present != sorted(f.path for f in artifact.files):
            return False
        return all(
            not (root / f.path).is_symlink() and sha256_file(root / f.path)[0] == f.digest for f in artifact.files
        )

    def incoming(self) -> Path:
        """A new hidden directory in DIR for a pull (same filesystem as `versions/`: a rename finishes it)."""
        return Path(tempfile.mkdtemp(prefix=_INCOMING, dir=self.dest))

    def install(self, pulled: Path, name: str) -> None:
        """Move a finished, verified directory into `versions/` (replacing a damaged one of that name)."""
        final = self.versions / name
        if final.exists():
            trash = self.incoming()
            os.rename(final, trash / name)
            _remove(trash)
        os.rename(pulled, final)
        _fsync_dir(self.versions)

    def swap(self, name: str, facts: dict[str, Any]) -> None:
        """Point `current` at versions/`name`, then describe it in current.json; each in one rename."""
        os.utime(self.versions / name)  # "last became current": what pruning ranks by
        link = self.dest / f".current.{os.getpid()}.tmp"
        link.unlink(missing_ok=True)
        os.symlink(os.path.join("versions", name), link)
        os.replace(link, self.current)
        self.write_facts(facts)
        _fsync_dir(self.dest)

    def write_facts(self, facts: dict[str, Any]) -> None:
        tmp = self.dest / f".current.json.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as out:
            json.dump(facts, out, indent=2, sort_keys=True)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.current_json)

    def read_facts(self) -> dict[str, Any] | None:
        try:
            facts = json.loads(self.current_json.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return facts if isinstance(facts, dict) else None

    def remove_version(self, name: str) -> None:
        """Take a version directory out of `versions/` in one rename, then delete it."""
        trash = self.incoming()
        os.rename(self.versions / name, trash / name)
        _remove(trash)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
