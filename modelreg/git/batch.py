"""One `git cat-file --batch-command` kept running per repository, for a long-lived caller (the MLflow plugin):
its object and ref lookups then cost no git process each.

Off unless `keep_running(root)` was called for the repository. The answers are what a `git cat-file --batch`
(or `--batch-check`) started for the same question gives, byte for byte: each name is looked up when it is
asked (refs are read again; an object written since is found, git re-reads its packs on a miss). Anything
unusual (a name git's line protocol cannot carry, another thread using it, a forked child, the process gone
or answering oddly) goes to a fresh one-shot `cat-file`, as before.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from modelreg.git.process import git_env

_ON: set[str] = set()  # the repositories (work tree roots) whose lookups go through a kept process
_KEPT: dict[tuple[str, tuple[tuple[str, str], ...]], _Batch] = {}
_KEPT_MAX = 4
_STARTING = threading.Lock()


def keep_running(root: Path) -> None:
    """From now on in this process, lookups in the repository `root` go through a `cat-file` kept running."""
    _ON.add(str(root))


def answers(root: Path, specs: list[str], contents: bool) -> bytes | None:
    """What `git cat-file --batch` (`contents`) or `--batch-check` would print for `specs` (default format),
    from the kept process; None when the caller should run its own."""
    if str(root) not in _ON or any(not spec or spec != spec.strip() or "\n" in spec or "\r" in spec for spec in specs):
        return None
    env = git_env()
    key = (str(root), tuple(sorted(env.items())))
    with _STARTING:  # one process per key, however many threads ask first
        batch = _KEPT.get(key)
        if batch is None or batch.pid != os.getpid():
            if len(_KEPT) >= _KEPT_MAX:
                for old in list(_KEPT):
                    _KEPT.pop(old).close()
            try:
                batch = _KEPT[key] = _Batch(root, env)
            except OSError:
                return None
    if not batch.lock.acquire(blocking=False):  # another thread is asking: it keeps the pipe
        return None
    try:
        return batch.ask(specs, "contents" if contents else "info")
    except (OSError, ValueError, IndexError):
        _KEPT.pop(key, None)
        batch.close()
        return None
    finally:
        batch.lock.release()


class _Batch:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(
            ["git", "cat-file", "--batch-command"],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )

    def ask(self, specs: list[str], command: str) -> bytes:
        """Each spec asked and answered in turn (never a pipe full both ways)."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        out = bytearray()
        for spec in specs:
            self.proc.stdin.write(f"{command} {spec}\n".encode())
            self.proc.stdin.flush()
            header = self.proc.stdout.readline()
            if not header.endswith(b"\n"):
                raise OSError("git cat-file stopped answering")
            out += header
            fields = header.split()
            if command == "contents" and len(fields) == 3 and fields[2].isdigit():
                body = self.proc.stdout.read(int(fields[2]) + 1)
                if len(body) != int(fields[2]) + 1 or not body.endswith(b"\n"):
                    raise OSError("git cat-file stopped answering")
                out += body
            elif not ((len(fields) == 3 and fields[2].isdigit()) or header.endswith((b" missing\n", b" ambiguous\n"))):
                raise ValueError(f"unexpected answer from git cat-file: {header!r}")
        return bytes(out)

    def close(self) -> None:
        if self.pid != os.getpid():
            return
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@atexit.register
def _close_all() -> None:
    while _KEPT:
        _KEPT.popitem()[1].close()


def via_kept(root: Path, run: Callable[[list[str], bytes | None], bytes]) -> Callable[[list[str], bytes | None], bytes]:
    """`run` (a git runner on bytes), with its `cat-file --batch` questions asked of the kept process."""

    def runner(args: list[str], stdin: bytes | None = None) -> bytes:
        if args == ["cat-file", "--batch"] and stdin is not None:
            out = answers(root, stdin.decode("utf-8", "surrogateescape").split("\n")[:-1], contents=True)
            if out is not None:
                return out
        return run(args, stdin)

    return runner
