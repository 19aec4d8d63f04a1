"""Opening a registry: its repository and its policy of record (DESIGN §9), from a work tree or a URL."""

from __future__ import annotations

import os

from modelreg.core.refs import check_name, claim_prefixes
from modelreg.errors import NotFoundError
from modelreg.formats import config as configmod
from modelreg.formats.config import CONFIG_PATH, Config
from modelreg.git import GitRepo
from modelreg.paths import cache_dir, cache_home
from modelreg.read import snapshot
from modelreg.read.record import policy_of_record

# What a Registry is made of: (repository, policy of record, URL when read by URL, the policy's commit).
Opened = tuple[GitRepo, Config, str | None, str | None]


def open_path(path: str | os.PathLike[str] = ".", name: str | None = None) -> Opened:
    """The repository holding `path`, under its policy of record.

    The policy of record is `.modelreg/config.yaml` as committed on the main branch (its
    remote-tracking branch when the local one is missing or behind), never the copy in the
    commit that happens to be checked out: a deploy job that checks out an old tag still
    judges it by today's policy. The checkout never names that branch either: see read/record.py.
    """
    git = GitRepo.discover(path)
    # A read of model `name` kept small lists its refs first thing: that listing rides on the branches' one.
    small = name is not None and snapshot.kept_small(git, name, cache_dir())
    config, commit = policy_of_record(git, snapshot.patterns_for(name) if small else None)
    return git, config, None, commit


def open_url(url: str, name: str | None = None) -> Opened:
    """A read-only view of the registry at a git URL, without cloning it.

    Only the tags (of model `name`, or of every model), their event refs, and the commits
    they point at are fetched, shallow and blob-less, into a cache under
    `$XDG_CACHE_HOME/modelreg/repos/`; the config and the manifests read are fetched on demand.
    A serving host that needs `fraud-detector@champion` downloads a few kilobytes, not history.
    """
    if name is not None:
        check_name(name)
    tags = [f"refs/tags/{name}@v*", f"refs/tags/{name}#*"] if name is not None else ["refs/tags/*"]
    refspecs = [f"{ref}:{ref}" for ref in tags] + [f"+{ref}*:{ref}*" for ref in claim_prefixes(name)]
    from modelreg.git.remote import mirror  # sockets and the remote helpers: ~10 ms a local read never pays

    git, head = mirror(url, cache_home() / "repos", refspecs)
    (text,) = git.read_files([(head, CONFIG_PATH)], keep=True)
    if text is None:
        raise NotFoundError(f"no registry at {url}: its default branch has no {CONFIG_PATH}")
    return git, configmod.from_yaml(text, f"{CONFIG_PATH} at {url}"), url, head
