"""Private cache files (modelreg.cachefile)."""

from __future__ import annotations

import os
from pathlib import Path

from modelreg import cachefile


def test_a_value_round_trips_in_a_file_only_its_owner_can_touch(tmp_path: Path):
    path = tmp_path / "cache" / "x.bin"
    value = {"format": 1, "rows": [("a", 1, None, (2, 3))], "ids": {4, 5}}
    cachefile.dump(str(path), value)
    assert cachefile.load(str(path)) == value
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["x.bin"]  # no temporary file left


def test_a_missing_damaged_or_shared_file_reads_as_nothing(tmp_path: Path):
    path = tmp_path / "x.bin"
    assert cachefile.load(str(path)) is None
    cachefile.dump(str(path), [1, 2])
    os.chmod(path, 0o620)  # group-writable: another user could have written it
    assert cachefile.load(str(path)) is None
    os.chmod(path, 0o600)
    path.write_bytes(b"\xff\x00garbage")
    assert cachefile.load(str(path)) is None


def test_an_unwritable_cache_is_skipped_silently(tmp_path: Path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a directory should be")
    cachefile.dump(str(blocker / "x.bin"), [1])  # no exception
    assert cachefile.load(str(blocker / "x.bin")) is None


def test_a_directory_another_user_could_write_is_neither_read_nor_written(tmp_path: Path):
    shared = tmp_path / "shared"
    cachefile.dump(str(shared / "x.bin"), [1])
    assert cachefile.load(str(shared / "x.bin")) == [1]
    os.chmod(shared, 0o777)  # a planted file could be waiting there
    assert cachefile.load(str(shared / "x.bin")) is None
    cachefile.dump(str(shared / "y.bin"), [2])
    assert not (shared / "y.bin").exists()


def test_file_names_differ_by_every_part():
    names = {cachefile.file_name(*parts) for parts in (("a", "b"), ("a", "c"), ("ab",), ("b", "a"))}
    assert len(names) == 4
