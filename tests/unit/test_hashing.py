"""Content digests of files and directories (DESIGN §2): modelreg.store.hashing."""

from __future__ import annotations

import hashlib
import os
import random
import re
from pathlib import Path

import pytest

from modelreg.errors import InvalidInputError
from modelreg.models import ArtifactFile
from modelreg.store.hashing import CHUNK, scan, sha256_file, tree_digest


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- scan ---------------------------------------------------------------------------------------


def test_scan_single_file(tmp_path: Path) -> None:
    model = write(tmp_path / "model.pkl", b"weights")
    assert scan(model) == [(model, "model.pkl")]


def test_scan_directory_sorted_by_posix_relative_path(tmp_path: Path) -> None:
    root = tmp_path / "artifact"
    relative = ["b.txt", "a/z.txt", "a.txt", "a-b.txt", "A.txt", "a/b/c.txt", "é.txt", "z/y/x/w.bin", "a_b"]
    for index, rel in enumerate(relative):
        write(root / rel, f"file {index}".encode())
    expected = ["A.txt", "a-b.txt", "a.txt", "a/b/c.txt", "a/z.txt", "a_b", "b.txt", "z/y/x/w.bin", "é.txt"]
    found = scan(root)
    assert [rel for _, rel in found] == expected
    assert [full for full, _ in found] == [root / rel for rel in expected]


def test_scan_keeps_empty_files_inside_a_directory(tmp_path: Path) -> None:
    write(tmp_path / "d" / "empty", b"")
    write(tmp_path / "d" / "full", b"x")
    assert [rel for _, rel in scan(tmp_path / "d")] == ["empty", "full"]


def test_scan_follows_symlinks(tmp_path: Path) -> None:
    target = write(tmp_path / "elsewhere" / "weights.bin", b"w")
    root = tmp_path / "artifact"
    write(root / "config.json", b"{}")
    os.symlink(target, root / "weights.bin")
    os.symlink(tmp_path / "elsewhere", root / "linked")
    assert [rel for _, rel in scan(root)] == ["config.json", "linked/weights.bin", "weights.bin"]


def test_scan_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(InvalidInputError, match=f"^{re.escape(str(missing))} does not exist$"):
        scan(missing)


def test_scan_dangling_symlink_does_not_exist(tmp_path: Path) -> None:
    link = tmp_path / "link"
    os.symlink(tmp_path / "gone", link)
    with pytest.raises(InvalidInputError, match="does not exist"):
        scan(link)


def test_scan_empty_file(tmp_path: Path) -> None:
    empty = write(tmp_path / "empty.bin", b"")
    with pytest.raises(InvalidInputError, match=f"^{re.escape(str(empty))} is an empty file$"):
        scan(empty)


def test_scan_empty_directory(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInputError, match=f"^{re.escape(str(empty))} is an empty directory$"):
        scan(empty)


def test_scan_directory_with_only_empty_subdirectories(tmp_path: Path) -> None:
    (tmp_path / "d" / "a" / "b").mkdir(parents=True)
    (tmp_path / "d" / "c").mkdir()
    with pytest.raises(InvalidInputError, match=r"is an empty directory$"):
        scan(tmp_path / "d")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_scan_refuses_something_that_is_neither_file_nor_directory(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InvalidInputError, match=r"is neither a file nor a directory$"):
        scan(fifo)


# --- sha256_file --------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + CHUNK // 2])
def test_sha256_file_matches_hashlib(tmp_path: Path, size: int) -> None:
    data = random.Random(size).randbytes(size)
    path = write(tmp_path / "blob", data)
    reported: list[int] = []
    assert sha256_file(path, reported.append) == (f"sha256:{sha256_hex(data)}", size)
    assert sum(reported) == size
    assert all(0 < n <= CHUNK for n in reported)


def test_sha256_file_known_value(tmp_path: Path) -> None:
    path = write(tmp_path / "abc", b"abc")
    assert sha256_file(path) == ("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 3)


# --- tree_digest -----------------------------------------------------------------


def test_tree_digest_is_sha256_of_the_canonical_list() -> None:
    da, db, dc = (f"sha256:{sha256_hex(x)}" for x in (b"a", b"b", b"c"))
    files = [ArtifactFile("weights/model.pkl", db, 20), ArtifactFile("config.json", da, 7), ArtifactFile("z", dc, 1)]
    canonical = f"{da} 7 config.json\n{db} 20 weights/model.pkl\n{dc} 1 z\n"
    assert tree_digest(files) == "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert tree_digest(list(reversed(files))) == tree_digest(files)


def test_tree_digest_encodes_non_ascii_paths_as_utf8() -> None:
    digest = f"sha256:{'0' * 64}"
    canonical = f"{digest} 5 modèle/poids.bin\n".encode()
    assert tree_digest([ArtifactFile("modèle/poids.bin", digest, 5)]) == f"sha256:{sha256_hex(canonical)}"


def test_tree_digest_changes_with_every_field() -> None:
    base = [ArtifactFile("a", f"sha256:{'1' * 64}", 1), ArtifactFile("b", f"sha256:{'2' * 64}", 2)]
    variants = [
        [ArtifactFile("a2", base[0].digest, 1), base[1]],
        [ArtifactFile("a", f"sha256:{'3' * 64}", 1), base[1]],
        [ArtifactFile("a", base[0].digest, 10), base[1]],
        base[:1],
    ]
    digests = {tree_digest(base), *(tree_digest(v) for v in variants)}
    assert len(digests) == 1 + len(variants)


def test_directory_digest_end_to_end(tmp_path: Path) -> None:
    root = tmp_path / "artifact"
    contents = {"config.json": b'{"a": 1}', "weights/layer1.bin": b"\x00" * 5000, "weights/layer0.bin": b"\x01\x02"}
    for rel, data in contents.items():
        write(root / rel, data)
    files = [ArtifactFile(rel, *sha256_file(path)) for path, rel in scan(root)]
    canonical = "".join(f"sha256:{sha256_hex(contents[rel])} {len(contents[rel])} {rel}\n" for rel in sorted(contents))
    assert [f.path for f in files] == sorted(contents)
    assert tree_digest(files) == f"sha256:{sha256_hex(canonical.encode())}"
