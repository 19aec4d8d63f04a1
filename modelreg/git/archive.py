"""Writing a committed file or directory out of git (`git archive`), regular files only."""

from __future__ import annotations

from pathlib import Path

from modelreg.git.process import run_git_raw


def export_tree(root: Path, commit: str, path: str, dest: Path) -> bool:
    """See `GitRepo.export`."""
    import io  # with tarfile below
    import tarfile  # with bz2 and lzma: ~6 ms of every command's start-up, for the GTO import alone

    proc = run_git_raw(["archive", "--format=tar", commit, "--", path], root)
    if proc.returncode != 0:
        return False
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as archive:
        members = [m for m in archive.getmembers() if m.isfile() or m.isdir()]
        archive.extractall(dest, members=members, filter="data")
    return any(m.isfile() for m in members)
