"""Private cache files, and the parsed-tags cache stored in them."""

from __future__ import annotations

import os
from pathlib import Path

from modelreg import cachefile, statecache
from modelreg.models import Event


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


def test_parsed_events_come_back_equal_and_a_different_key_misses(tmp_path: Path):
    event = Event("fraud", "assign", 2, "fraud#production#1", seq=1, kind="stage", target="production", archived=(1,))
    parsed = {"events": {"fraud": [event]}, "problems": ["bad tag"], "claims": {"refs/x": "abc"}}
    path = tmp_path / "state.bin"
    statecache.save(path, "key-1", parsed)
    loaded = statecache.load(path, "key-1")
    assert loaded is not None
    assert loaded["events"] == {"fraud": [event]}
    assert loaded["problems"] == ["bad tag"]
    assert statecache.load(path, "key-2") is None


def test_a_cache_written_for_other_event_fields_misses(tmp_path: Path, monkeypatch):
    path = tmp_path / "state.bin"
    statecache.save(path, "k", {"events": {}})
    monkeypatch.setattr(statecache, "_FIELD_NAMES", ("name", "action"))
    assert statecache.load(path, "k") is None
