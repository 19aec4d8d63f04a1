"""The only package that runs git: process (environment, errors), repo (one repository), remote (remotes).

modelreg drives git through its own plumbing commands rather than GitPython: see docs/design.md.
"""

from modelreg.git.history import Addition
from modelreg.git.process import git_env, run_git, run_git_raw
from modelreg.git.repo import GitRepo, RefUpdate

__all__ = ["Addition", "GitRepo", "RefUpdate", "git_env", "run_git", "run_git_raw"]
