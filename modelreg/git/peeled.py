"""Ref names with their object and peeled ids, and the tags of exactly named refs: what a lean read asks git.

`for-each-ref` of names and ids opens no tag object in a packed clone (packed-refs records peeled
ids), so a read can decide from names and ids which tags it must open, then open only those.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelreg.git.repo import GitRepo
    from modelreg.models import TagRecord

_BATCH = 400  # exact ref names per `for-each-ref` call: well under any argv limit


def peeled_ids(git: GitRepo, patterns: list[str]) -> str:
    """`refname objectname peeled-objectname` lines (peeled empty for what is not an annotated tag)."""
    return git.git("for-each-ref", "--format=%(refname) %(objectname) %(*objectname)", *patterns)


def read_tags(git: GitRepo, refs: list[str]) -> list[TagRecord]:
    """The tags among `refs` (full ref names, no glob characters) with their messages, in batched calls."""
    found: list[TagRecord] = []
    for start in range(0, len(refs), _BATCH):
        found += git.read_refs(refs[start : start + _BATCH])[0]
    return found
