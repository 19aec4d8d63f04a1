"""The serving directory `sync` keeps: verified versions, an atomically swapped `current`, `current.json`.

    DIR/versions/<name>-v<N>-<digest12>/   one verified artifact per directory, complete or absent
    DIR/current -> versions/<…>            a relative symlink, replaced in one rename
    DIR/current.json                       what `current` holds, replaced in one rename
    DIR/.incoming-*/                       a pull in progress (removed by the next run if it died)
    DIR/.quarantine/<name>.<time>/         a planted entry moved out of `versions/` (kept for the operator)

A reader that opens `DIR/current/...` sees the old version or the new one, never a mix: a version
directory appears under `versions/` only once every file in it is verified (rename of a finished
directory), and `current` moves by renaming a new symlink over it.

Nothing another user planted is served: `versions/` must be ours (a symlink or another owner's
directory is refused), and an entry under it is used only when it is a real directory (no symlink
anywhere in it), every file and directory in it is ours and writable by nobody else, and its bytes
hash to the manifest's digests. The lock and the temporary files are opened without following
symlinks. Who can write DIR itself can still replace `current` between rounds: see docs/security.md.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modelreg.errors import InvalidInputError
from modelreg.models import Artifact
from modelreg.store.hashing import sha256_file

_INCOMING = ".incoming-"
_LOCK = ".sync.lock"
_QUARANTINE = ".quarantine"
_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH


class Layout:
    def __init__(self, dest: Path) -> None:
        self.dest = dest.absolute()
        self.versions = self.dest / "versions"
        self.current = self.dest / "current"
        self.current_json = self.dest / "current.json"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold DIR's lock: one `sync` per directory (the kernel drops it when the process dies)."""
        import fcntl  # POSIX only: here, not at the top, so the module imports everywhere

        self.dest.mkdir(parents=True, exist_ok=True)
        lock = self.dest / _LOCK
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise InvalidInputError(
                    f"{lock} is a symbolic link: refusing to follow it (someone else may have planted it; remove it)"
                ) from None
            raise
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise InvalidInputError(f"another `modelreg sync` is using {self.dest}") from None
            self._own_versions()
            yield
        finally:
            os.close(fd)

    def _own_versions(self) -> None:
        """Make `versions/` (ours, writable by us only) or refuse one another user could write."""
        with contextlib.suppress(FileExistsError):
            os.mkdir(self.versions, 0o755)
        info = os.lstat(self.versions)
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
            raise InvalidInputError(f"{self.versions} is not a directory but a symbolic link or a file: remove it")
        if info.st_uid != os.geteuid():
            raise InvalidInputError(
                f"{self.versions} belongs to uid {info.st_uid}, not to this user ({os.geteuid()}): "
                "whoever owns it decides what is served; remove it or sync into a directory of your own"
            )
        if info.st_mode & _OTHERS_WRITE:
            os.chmod(self.versions, stat.S_IMODE(info.st_mode) & ~_OTHERS_WRITE)

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
        """Each entry of `versions/` → when it last became current (its mtime); a planted one is pruned too."""
        found = {}
        for entry in self.versions.iterdir():
            if not entry.name.startswith("."):
                found[entry.name] = entry.lstat().st_mtime
        return found

    def planted(self, name: str) -> str | None:
        """Why versions/`name` may not be served as it is (None: absent, or ours all through).

        Looked at without following a symlink: the entry and everything in it must be a real
        directory or regular file, owned by this user and writable by no one else.
        """
        root = self.versions / name
        try:
            info = os.lstat(root)
        except FileNotFoundError:
            return None
        problem = _foreign(info)
        if problem or not stat.S_ISDIR(info.st_mode):
            return problem or "is not a directory"
        for directory, dirs, files in os.walk(root):
            for entry in (*dirs, *files):
                path = Path(directory, entry)
                problem = _foreign(os.lstat(path))
                if problem:
                    return f"holds {path.relative_to(root)}, which {problem}"
        return None

    def quarantine(self, name: str) -> Path:
        """Move versions/`name` out of the way, into DIR/.quarantine/ (kept for the operator to look at)."""
        place = self.dest / _QUARANTINE
        with contextlib.suppress(FileExistsError):
            os.mkdir(place, 0o700)
        moved = place / f"{name}.{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.{os.getpid()}"
        os.rename(self.versions / name, moved)
        _fsync_dir(self.versions)
        return moved

    def holds(self, name: str, artifact: Artifact) -> bool:
        """Whether versions/`name` holds exactly the artifact's files, all ours, every byte re-hashed."""
        root = self.versions / name
        if not root.is_dir() or self.planted(name) is not None:
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
        _tighten(pulled)
        if final.exists() or final.is_symlink():
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
        tmp.unlink(missing_ok=True)  # a symlink planted here is removed, not followed (and O_EXCL below)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        with open(fd, "w", encoding="utf-8") as out:
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


def _foreign(info: os.stat_result) -> str | None:
    """What makes one lstat'ed entry unsafe to serve: a symlink, another owner, write access for others."""
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link"
    if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
        return "is not a regular file or directory"
    if info.st_uid != os.geteuid():
        return f"belongs to uid {info.st_uid}, not to this user ({os.geteuid()})"
    if info.st_mode & _OTHERS_WRITE:
        return "is writable by other users"
    return None


def _tighten(root: Path) -> None:
    """Take write access away from group and others on a pulled tree (whatever the umask gave it)."""
    for directory, dirs, files in os.walk(root):
        for entry in (directory, *(os.path.join(directory, n) for n in (*dirs, *files))):
            info = os.lstat(entry)
            if not stat.S_ISLNK(info.st_mode) and info.st_mode & _OTHERS_WRITE:
                os.chmod(entry, stat.S_IMODE(info.st_mode) & ~_OTHERS_WRITE)


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
