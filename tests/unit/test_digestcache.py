"""The digest cache on real files: a hit is served unread only for a file not written since it was hashed.

File timestamps are coarse, so a rewrite of the same size within one timestamp tick of an entry keeps
the file's stat identity. As git does for its index ("racy git"), an entry written no later than the
file's timestamps (less a tick) is racy and the file is read again. Each test builds the racy (or the
settled) case from the entry's write time, never by waiting.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from modelreg.store.digestcache import DigestCache, stat_key
from modelreg.store.hashing import sha256_file

SECOND = 1_000_000_000
WRONG = "sha256:" + "0" * 64  # a digest no test file has: served back, it proves the file was not read


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_file_rewritten_in_the_tick_its_entry_was_written_is_read_again(tmp_path: Path) -> None:
    cache = DigestCache(tmp_path / "digests.sqlite")  # opened (the entry's write time) before the rewrite
    path = write(tmp_path / "model.bin", b"weights A")
    old, _ = sha256_file(path)
    write(path, b"weights B")
    # What a file system with coarse timestamps shows: the rewrite kept the identity the entry records.
    key = stat_key(path)
    cache.put([(path, key, old)])
    assert cache.get(path, key) is None
    assert cache.get(path, key) is None  # and the stale entry is gone
    cache.close()


def test_an_entry_written_after_its_files_last_write_is_served_without_reading_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "model.bin", b"weights")
    key = stat_key(path)
    cache = DigestCache(tmp_path / "digests.sqlite", now=lambda: max(key[3], key[4]) + 3 * SECOND)
    cache.put([(path, key, WRONG)])
    assert cache.get(path, key) == WRONG
    assert cache.get(path, stat_key(write(path, b"weights 2"))) is None  # another identity: a miss
    cache.close()


def test_a_racy_entry_is_checked_by_reading_and_trusted_once_it_is_older_than_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "model.bin", b"weights")
    key = stat_key(path)
    digest, _ = sha256_file(path)
    clock = [min(key[3], key[4])]  # the entry is written in the tick of the file's last write: racy
    cache = DigestCache(tmp_path / "digests.sqlite", now=lambda: clock[0])
    cache.put([(path, key, digest)])
    assert cache.get(path, key) == digest  # read again: the same bytes
    cache.put([(path, key, WRONG)])
    assert cache.get(path, key) is None  # read again: other bytes, so not served
    cache.put([(path, key, digest)])
    clock[0] += 3 * SECOND  # time has moved on: a later write would now get a later timestamp
    assert cache.get(path, key) == digest  # read once more, and recorded as settled
    path.unlink()
    assert cache.get(path, key) == digest  # served without reading (there is nothing left to read)
    cache.close()


def test_an_entry_whose_file_has_a_future_timestamp_is_never_trusted_unread(tmp_path: Path) -> None:
    path = write(tmp_path / "model.bin", b"weights")
    hour = 3600 * SECOND
    key = stat_key(path)
    os.utime(path, ns=(key[3] + hour, key[3] + hour))
    key = stat_key(path)
    cache = DigestCache(tmp_path / "digests.sqlite")
    cache.put([(path, key, WRONG)])
    assert cache.get(path, key) is None
    cache.close()


def test_entries_put_from_worker_threads_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "model.bin", b"weights")
    key = stat_key(path)
    cache = DigestCache(tmp_path / "digests.sqlite", now=lambda: max(key[3], key[4]) + 3 * SECOND)
    worker = threading.Thread(target=cache.put, args=([(path, key, WRONG)],))
    worker.start()
    worker.join()
    assert cache.get(path, key) == WRONG
    cache.close()


def test_a_database_of_the_old_layout_is_not_read(tmp_path: Path) -> None:
    path = write(tmp_path / "model.bin", b"weights")
    key = stat_key(path)
    old = sqlite3.connect(tmp_path / "digests.sqlite")
    old.execute(
        "CREATE TABLE digests (path TEXT PRIMARY KEY, dev INTEGER, ino INTEGER, "
        "size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, digest TEXT)"
    )
    old.execute("INSERT INTO digests VALUES (?, ?, ?, ?, ?, ?, ?)", (str(path.resolve()), *key, WRONG))
    old.commit()
    old.close()
    cache = DigestCache(tmp_path / "digests.sqlite", now=lambda: max(key[3], key[4]) + 3 * SECOND)
    assert cache.get(path, key) is None
    cache.close()
