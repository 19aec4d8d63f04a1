"""Digests of local files remembered by their stat identity, so unchanged files are not re-read.

The key is (device, inode, size, mtime_ns, ctime_ns) of the file's real path. Writing a file
changes its ctime, which no user tool can set back, so a hit means the bytes are the ones that
were hashed: provided the write fell in a later timestamp tick than the hash. File timestamps are
coarse (a kernel tick; whole seconds on FAT, ext3, HFS+ and many network mounts), so a file
rewritten with the same size in the tick its digest was taken keeps its stat identity.

So, as git does for its index ("racy git"), each entry records when it was written: the time the
cache was opened, which precedes every stat and hash its caller made. An entry is trusted unread
only when its file's mtime and ctime are older than that by more than a tick (`_racy`); a racy
entry is checked by reading the file again, and recorded as trusted once the file's timestamps
are old enough that any later write would change them. Timestamps are compared with this
machine's clock: a network file system whose server clock runs behind it is not covered.
Best effort: any trouble with the cache database just means hashing again.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from modelreg.store.hashing import sha256_file

StatKey = tuple[int, int, int, int, int]

_SECOND = 1_000_000_000


def stat_key(path: Path) -> StatKey:
    info = os.stat(path)
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def _racy(key: StatKey, written_ns: int) -> bool:
    """Whether a write after `written_ns` could have left the file's timestamps as `key` has them.

    One tick of slack: 2 s for whole-second timestamps (FAT's are 2 s), 100 ms for finer ones
    (a kernel tick is at most 10 ms, and file times lag the clock read here by up to one).
    """
    tick = 2 * _SECOND if key[4] % _SECOND == 0 else _SECOND // 10
    return max(key[3], key[4]) >= written_ns - tick


class DigestCache:
    def __init__(self, db_path: Path, now: Callable[[], int] = time.time_ns) -> None:
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # one connection, used by the caller's worker threads too
        self._now = now
        self._opened_ns = now()
        with suppress(sqlite3.Error, OSError):
            db_path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(db_path, timeout=5, isolation_level=None, check_same_thread=False)
            if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'digests'").fetchone():
                db.execute("DROP TABLE digests")
            # v2 entries record their write time; v1's table (`digests`) had none and is dropped.
            db.execute(
                "CREATE TABLE IF NOT EXISTS digests_v2 (path TEXT PRIMARY KEY, dev INTEGER, ino INTEGER, "
                "size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, digest TEXT, written_ns INTEGER)"
            )
            self._db = db

    def get(self, path: Path, key: StatKey) -> str | None:
        """The digest recorded for `path` under identity `key`; a racy entry is checked by reading the file."""
        if self._db is None:
            return None
        real = str(path.resolve())
        row = None
        with suppress(sqlite3.Error), self._lock:
            row = self._db.execute(
                "SELECT dev, ino, size, mtime_ns, ctime_ns, digest, written_ns FROM digests_v2 WHERE path = ?", (real,)
            ).fetchone()
        if not row or tuple(row[:5]) != key:
            return None
        digest, written = str(row[5]), int(row[6])
        if not _racy(key, written):
            return digest

        checked = self._now()
        try:
            same = sha256_file(path)[0] == digest and stat_key(path) == key
        except OSError:
            same = False
        entry = (real, digest, written)  # the row read above, unless another process replaced it since
        with suppress(sqlite3.Error), self._lock:
            if not same:
                self._db.execute("DELETE FROM digests_v2 WHERE path = ? AND digest = ? AND written_ns = ?", entry)
            elif not _racy(key, checked):
                self._db.execute(
                    "UPDATE digests_v2 SET written_ns = ? WHERE path = ? AND digest = ? AND written_ns = ?",
                    (checked, *entry),
                )
        return digest if same else None

    def put(self, entries: list[tuple[Path, StatKey, str]]) -> None:
        """Record digests taken since this cache was opened (racy ones are checked again on `get`)."""
        if self._db is None or not entries:
            return
        with suppress(sqlite3.Error), self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO digests_v2 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(str(path.resolve()), *key, digest, self._opened_ns) for path, key, digest in entries],
            )

    def close(self) -> None:
        if self._db is not None:
            with self._lock:
                self._db.close()
