"""Blobs as git objects under their own refs (`refs/modelreg/blobs/sha256/<hex>`): the git store's git calls.

The refs live outside branches and tags, so a clone's default fetch (branches, and the tags on
them) never downloads a blob; modelreg fetches one ref at a time when a pull needs its bytes.
"""

from __future__ import annotations

import io
import re
import subprocess
from contextlib import suppress
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple, cast

from modelreg.errors import GitError
from modelreg.git import batch
from modelreg.git.process import git_env, run_git, run_git_raw

BLOB_REFS = "refs/modelreg/blobs/"
_GOES_BACK = re.compile(r"log for '([^']+)' only goes back to (.+)$")
_ALWAYS_LOG = ["-c", "core.logAllRefUpdates=always"]  # a reflog entry dates each blob ref, for gc's grace period


class BlobRef(NamedTuple):
    ref: str
    oid: str
    size: int


def blob_ref(digest: str) -> str:
    """`sha256:<hex>` → `refs/modelreg/blobs/sha256/<hex>`."""
    algo, _, hexdigest = digest.partition(":")
    return f"{BLOB_REFS}{algo}/{hexdigest}"


def is_blob_ref(ref: str) -> bool:
    return ref.startswith(BLOB_REFS)


def lookup(root: Path, refs: list[str]) -> dict[str, BlobRef]:
    """The refs among `refs` that exist here and name a blob object, with its id and size (one git call)."""
    if not refs:
        return {}
    out = batch.answers(root, refs, contents=False)  # a long-lived caller's kept `cat-file`, else one of its own
    if out is None:
        proc = run_git_raw(
            ["cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)"],
            root,
            "".join(f"{ref}\n" for ref in refs).encode(),
        )
        if proc.returncode != 0:
            raise GitError(f"git cat-file failed: {proc.stderr.decode(errors='replace').strip()}")
        out = proc.stdout
    found = {}
    for ref, line in zip(refs, out.decode().splitlines(), strict=True):
        oid, kind, size = [*line.split(" "), "", ""][:3]
        if kind == "blob":
            found[ref] = BlobRef(ref, oid, int(size))
    return found


def write(root: Path, source: Path, ref: str) -> str:
    """Store `source`'s bytes as a git blob and point `ref` at it (put-if-absent); returns the blob id."""
    oid = run_git(["hash-object", "-w", "--no-filters", "--", str(source)], root).strip()
    proc = run_git_raw(
        [*_ALWAYS_LOG, "update-ref", "--create-reflog", "-m", "modelreg: store blob", ref, oid, ""], root
    )
    if proc.returncode != 0 and ref not in lookup(root, [ref]):
        raise GitError(f"git update-ref failed: {proc.stderr.decode(errors='replace').strip()}")
    return oid


def open_blob(root: Path, oid: str) -> BinaryIO:
    """A stream of a blob's bytes, read from `git cat-file` as they come (never the whole blob in memory)."""
    try:
        proc = subprocess.Popen(
            ["git", "cat-file", "blob", oid], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=git_env()
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    return io.BufferedReader(_ProcessReader(proc), 1 << 20)


class _ProcessReader(io.RawIOBase):
    """A process's stdout as a raw stream; closing it waits for the process, and a failure is an error."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self._proc, self._out = proc, cast("io.BufferedReader", proc.stdout)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._out.readinto1(buffer)

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        self._out.close()
        if self._proc.wait() not in (0, -13):  # -13: SIGPIPE, when the reader stopped early
            raise GitError(f"git cat-file exited with {self._proc.returncode}")


def remote_exists(root: Path, remote: str) -> bool:
    """True for a configured remote's name or a URL/path git can fetch from."""
    if "://" in remote or remote.startswith("/"):
        return True
    return run_git_raw(["remote", "get-url", remote], root).returncode == 0


def fetch_refs(root: Path, remote: str, refs: list[str]) -> None:
    """Fetch these refs (blob refs) from `remote` as they are, creating them here; a ref the remote lacks is skipped."""
    for ref in refs:
        proc = run_git_raw(
            [*_ALWAYS_LOG, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote, f"{ref}:{ref}"], root
        )
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace")
            if "couldn't find remote ref" in err or "could not find remote ref" in err.lower():
                continue
            lines = [line for line in err.splitlines() if line.strip()]
            raise GitError(f"git fetch of {ref} from {remote} failed: {lines[-1] if lines else proc.returncode}")


def listing(root: Path) -> list[BlobRef]:
    """Every blob ref here."""
    out = run_git(["for-each-ref", "--format=%(refname) %(objectname) %(objecttype) %(objectsize)", BLOB_REFS], root)
    found = []
    for line in out.splitlines():
        ref, oid, kind, size = line.split(" ")
        if kind == "blob":
            found.append(BlobRef(ref, oid, int(size)))
    return found


def created_at(root: Path, refs: list[str]) -> dict[str, float]:
    """When this clone created each ref (its reflog's first entry); refs without a reflog are left out.

    git walks reflogs of commits only, but asking for a ref as of a date before its reflog starts
    makes it name that start ("log for 'REF' only goes back to DATE").
    """
    from email.utils import parsedate_to_datetime  # the email package: ~15 ms of start-up, only gc needs it

    dates: dict[str, float] = {}
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        proc = run_git_raw(["rev-parse", *(f"{ref}@{{1970-01-02}}" for ref in chunk)], root)
        for line in proc.stderr.decode(errors="replace").splitlines():
            found = _GOES_BACK.search(line)
            if found is not None:
                with suppress(TypeError, ValueError):
                    dates[found[1]] = parsedate_to_datetime(found[2]).timestamp()
    return dates


def delete(root: Path, ref: str, oid: str) -> None:
    """Delete `ref` if it still names `oid` (a ref another process re-pointed stays)."""
    run_git_raw(["update-ref", "-m", "modelreg: gc", "-d", ref, oid], root)


def push_deletions(root: Path, remote: str, refs: list[str]) -> None:
    """Delete these refs on `remote`, all or none."""
    if refs:
        run_git(["push", "--atomic", "--quiet", remote, *(f":{ref}" for ref in refs)], root)
