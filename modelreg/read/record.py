"""The policy of record: which committed `.modelreg/config.yaml` judges every event, chosen without the checkout.

The branch that holds it is named, in this order, by
1. the remote's HEAD (`refs/remotes/origin/HEAD`, set by `git clone` or `git remote set-head origin --auto`),
   when that branch has a committed config;
2. otherwise the branch the registry was initialised on: `modelreg init` records it as `main_branch` in
   the config it commits, and the commit that first added the config (on any branch's history, or
   HEAD's) is read for it.
The config committed on that branch (its remote-tracking branch when the local one is missing or
behind) is the policy. When it names another `main_branch` (a reviewed rename), that branch is
followed once, and its own config must name itself.

What the work tree holds, which branch is checked out, and a config committed only on some other
branch never choose it. A branch that is missing, or that the first configs disagree on, is an
error that says so, not a fallback to the work tree. The one exception: a registry whose config was
never committed anywhere (`modelreg init` not yet committed, or undone) reads its work tree's copy,
and reads it as a policy with no commit.
"""

from __future__ import annotations

import os

from modelreg import cachefile
from modelreg.errors import ConfigError, NotFoundError
from modelreg.formats import config as configmod
from modelreg.formats.config import CONFIG_PATH, Config
from modelreg.git.catfile import built_from
from modelreg.git.history import Branches, additions, branches, tip_of
from modelreg.git.repo import GitRepo
from modelreg.paths import cache_dir

_ORIGIN = "origin"
_HINT = "fetch it, or name the remote's default branch with `git remote set-head origin --auto`"


def policy_of_record(git: GitRepo, also: list[str] | None = None) -> tuple[Config, str | None]:
    """The policy config and the commit it was read from (None only for a never-committed registry).
    `also`: ref patterns the next read will list (see history.branches).

    The work tree's config is still parsed, so a broken edit is reported where it is, but it
    decides nothing unless no config was ever committed.
    """
    (text,) = git.read_files([(None, CONFIG_PATH)])
    local = configmod.from_yaml(text, CONFIG_PATH) if text is not None else None
    listed = branches(git, also or ())
    named = listed.remote_head(_ORIGIN)
    if named is not None:
        found = _committed(git, listed, named, _ORIGIN)
        if found is not None:
            return _settled(git, listed, named, *found)
    first = {_main_branch_in(git, commit) for commit in _first_configs(git, listed)}
    first.discard(None)
    if not first:
        if local is None:
            raise NotFoundError(f"no registry in {git.root}: run `modelreg init` first")
        return local, None
    if len(first) > 1:
        names = ", ".join(sorted(str(name) for name in first))
        raise ConfigError(
            f"the registry's config was first committed on more than one branch ({names}): cannot tell which "
            f"holds the policy of record; name it with `git remote set-head origin <branch>`"
        )
    (branch,) = first
    assert branch is not None
    found = _committed(git, listed, branch, _ORIGIN)
    if found is None:
        raise ConfigError(
            f"the registry's main branch {branch!r} (where it was initialised) is not here or has no "
            f"{CONFIG_PATH}, so there is no policy of record to read by: {_HINT}"
        )
    return _settled(git, listed, branch, *found)


def _first_configs(git: GitRepo, listed: Branches) -> list[str]:
    """The commits that added the config on any branch's history or HEAD's.

    The walk grows with the history, so its answer is kept, keyed by what fixes it: every tip,
    a detached HEAD's commit and the shallow boundary (a commit's history never changes).
    """
    detached = git.resolve_commit("HEAD") if listed.checked_out is None else None
    ident = ("config-additions", 1, str(git.root), CONFIG_PATH, listed.key(), detached, sorted(git.shallow_commits))
    path = os.path.join(cache_dir(), "record", cachefile.file_name(*map(str, ident)))
    cached = cachefile.load(path)
    if isinstance(cached, tuple) and len(cached) == 2 and cached[0] == ident and isinstance(cached[1], list):
        return [str(commit) for commit in cached[1]]
    last = os.path.join(cache_dir(), "record", cachefile.file_name("config-additions-last", str(git.root)))
    found = _carried(git, cachefile.load(last), ident)
    if found is None:
        found = additions(git, CONFIG_PATH, detached)
    cachefile.dump(path, (ident, found))
    cachefile.dump(last, (ident, found))
    return found


def _carried(git: GitRepo, last: object, ident: tuple[object, ...]) -> list[str] | None:
    """The additions last found, when the tips have moved since only onto commits this machine built without
    touching the config (`git.catfile.built_from`: a registration's commit): their histories add no config."""
    if not (isinstance(last, tuple) and len(last) == 2 and isinstance(last[0], tuple) and isinstance(last[1], list)):
        return None
    before, found = last
    if len(before) != len(ident) or before[:4] != ident[:4] or before[5:] != ident[5:]:
        return None
    try:
        old, new = (dict(line.split(" ", 1) for line in key) for key in (before[4], ident[4]))  # type: ignore[union-attr]
    except (AttributeError, TypeError, ValueError):  # a damaged entry: read the history
        return None
    if old.keys() != new.keys():
        return None
    for ref, tip in new.items():
        for _ in range(64):  # a few registrations since: further back, git's history says
            if tip == old[ref]:
                break
            built = built_from(tip)
            if built is None or any(p == CONFIG_PATH or CONFIG_PATH.startswith(f"{p}/") for p in built[1]):
                return None
            tip = built[0]
        else:
            return None
    return [str(commit) for commit in found]


def _settled(git: GitRepo, listed: Branches, branch: str, config: Config, commit: str) -> tuple[Config, str]:
    """Follow one rename: the config on `branch` may name another main branch, whose config must name itself."""
    if config.main_branch == branch:
        return config, commit
    renamed = _committed(git, listed, config.main_branch, config.remote)
    if renamed is None or renamed[0].main_branch != config.main_branch:
        raise ConfigError(
            f"{CONFIG_PATH} on {branch} names {config.main_branch!r} as the main branch, which is not here "
            f"or does not name itself in its own {CONFIG_PATH}: {_HINT}"
        )
    return renamed


def _committed(
    git: GitRepo, listed: Branches, branch: str, remote: str, *, follow: bool = True
) -> tuple[Config, str] | None:
    """The config committed at `branch`'s tip (the newer of it and its remote-tracking branch), and that tip."""
    tip = tip_of(git, listed, branch, remote)
    text = git.read_files([(tip, CONFIG_PATH)], keep=True)[0] if tip else None
    if tip is None or text is None:
        return None
    config = configmod.from_yaml(text, f"{CONFIG_PATH} on {branch}")
    if follow and config.remote != remote:  # the config names its own remote: its tracking branch may be newer
        return _committed(git, listed, branch, config.remote, follow=False) or (config, tip)
    return config, tip


def _main_branch_in(git: GitRepo, commit: str) -> str | None:
    (text,) = git.read_files([(commit, CONFIG_PATH)], keep=True)
    if text is None:
        return None
    try:
        return configmod.from_yaml(text, f"{CONFIG_PATH} in {commit[:12]}").main_branch
    except ConfigError:
        return None  # an unreadable first config names nothing
