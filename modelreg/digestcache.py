"""Digests of local files remembered by their stat identity, so unchanged files are not re-read.

The key is (device, inode, size, mtime_ns, ctime_ns) of the file's real path. Writing a file
changes its ctime, which no user tool can set back, so a hit means the bytes are the ones that
were hashed. Best effort: any trouble with the cache database just means hashing again.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import suppress
from pathlib import Path

StatKey = tuple[int, int, int, int, int]


def stat_key(path: Path) -> StatKey:
    info = os.stat(path)
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


class DigestCache:
    def __init__(self, db_path: Path) -> None:
        self._db: sqlite3.Connection | None = None
        with suppress(sqlite3.Error, OSError):
            db_path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(db_path, timeout=5, isolation_level=None)
            db.execute(
                "CREATE TABLE IF NOT EXISTS digests (path TEXT PRIMARY KEY, dev INTEGER, ino INTEGER, "
                "size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, digest TEXT)"
            )
            self._db = db

    def get(self, path: Path, key: StatKey) -> str | None:
        if self._db is None:
            return None
        with suppress(sqlite3.Error):
            row = self._db.execute(
                "SELECT digest FROM digests WHERE path = ? AND dev = ? AND ino = ? AND size = ? AND mtime_ns = ? "
                "AND ctime_ns = ?",
                (str(path.resolve()), *key),
            ).fetchone()
            return str(row[0]) if row else None
        return None

    def put(self, entries: list[tuple[Path, StatKey, str]]) -> None:
        if self._db is None or not entries:
            return
        with suppress(sqlite3.Error):
            self._db.executemany(
                "INSERT OR REPLACE INTO digests VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(str(path.resolve()), *key, digest) for path, key, digest in entries],
            )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
