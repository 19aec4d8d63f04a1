"""The committer identity git records (`git var GIT_COMMITTER_IDENT`), kept in this process while nothing git
makes it of has changed: a long-lived caller (the MLflow plugin) asks git once, not once a write.

git makes the name and email of its environment, its config files and, lacking those, the account and the
host. The identity is kept under a key holding all of them: the whole environment, the contents of every
config file git may read (system, global, the repository's and the worktree's), `/etc/mailname`, the host
name and user id. A config file with an include (whose target the key would not hold), a date given through
GIT_COMMITTER_DATE, or a repository only git can find is always asked of git. The date is this clock's, in
the local zone, as git's own is; the zone is computed here only where it matched git's answer.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from modelreg.errors import GitError, InvalidInputError
from modelreg.git.reffiles import git_dirs

Identity = tuple[str, int, str]  # (`Name <email>`, unix time, `+hhmm` offset)
_KEPT: dict[tuple[object, ...], str] = {}
_KEPT_MAX = 16


def committer(root: str, ask: Callable[..., str], *, keep: bool = True) -> Identity:
    """The identity git would record for a commit or tag in the work tree `root` now; `ask` runs git there.

    `keep`: False when the caller changes what git reads (an import acting as another author)."""
    key = _key(root) if keep else None
    who = _KEPT.get(key) if key is not None else None
    if who is not None:
        epoch = int(time.time())
        return who, epoch, _offset(epoch)
    try:
        ident = ask("var", "GIT_COMMITTER_IDENT").strip()
    except GitError:
        raise InvalidInputError(
            "git has no identity to record: set it with "
            "`git config user.name 'Your Name'` and `git config user.email you@example.com`"
        ) from None
    who, date, offset = ident.rsplit(" ", 2)
    epoch = int(date)
    if key is not None and offset == _offset(epoch) and _key(root) == key:  # nothing moved while git read it
        if len(_KEPT) >= _KEPT_MAX:
            _KEPT.clear()
        _KEPT[key] = who
    return who, epoch, offset


def _offset(epoch: int) -> str:
    """git's `+hhmm` for the local zone at `epoch`."""
    seconds = time.localtime(epoch).tm_gmtoff
    sign = "-" if seconds < 0 else "+"
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


def _key(root: str) -> tuple[object, ...] | None:
    """What the identity is made of, or None when it cannot be kept."""
    if "GIT_COMMITTER_DATE" in os.environ:
        return None
    # Deferred: shutil and socket (about 12 ms measured) are for writes; every read imports this module (git.repo).
    import shutil
    import socket

    dirs = git_dirs(root)
    if dirs is None or any(var in os.environ for var in ("GIT_DIR", "GIT_COMMON_DIR")):
        return None
    git_dir, common = dirs
    home = os.environ.get("HOME", "")
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    program = shutil.which("git")
    prefix = os.path.dirname(os.path.dirname(os.path.realpath(program))) if program else ""
    paths = [
        "/etc/gitconfig",
        os.path.join(prefix, "etc", "gitconfig"),
        os.environ.get("GIT_CONFIG_SYSTEM", ""),
        os.environ.get("GIT_CONFIG_GLOBAL", ""),
        os.path.join(home, ".gitconfig"),
        os.path.join(xdg, "git", "config"),
        os.path.join(common, "config"),
        os.path.join(git_dir, "config.worktree"),
        "/etc/mailname",
    ]
    contents = [_content(path) for path in paths]
    if any(text is not None and b"include" in text.lower() for text in contents):
        return None
    files = tuple(zip(paths, contents, strict=True))
    return (root, tuple(sorted(os.environ.items())), files, socket.gethostname(), os.getuid())


def _content(path: str) -> bytes | None:
    if not path:
        return None
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        return None
