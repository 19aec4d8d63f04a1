"""What the checks of a registry read: its repository, its policy of record, and its URL when read by URL."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from modelreg.formats.config import Config
from modelreg.git import GitRepo


class Context(NamedTuple):
    git: GitRepo
    config: Config  # the policy of record: the main branch's config (DESIGN §9)
    source: str | None = None  # the URL of a read-only view; None for a work tree
    policy_commit: str | None = None  # the commit whose config is `config`; None: the work tree's

    @property
    def root(self) -> Path:
        return self.git.root
