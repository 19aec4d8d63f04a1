"""Ref names with their object and peeled ids, and the tags of exactly named refs: what a lean read asks git.

`for-each-ref` of names and ids opens no tag object, so a read can decide from names and ids which
tags it must open, then open only those. Peeled ids cost more: git (2.39) opens every tag object for
`%(*objectname)` rather than reading packed-refs' peeled lines (0.29 s against 0.03 s at 25,000 tags).
"""

from __future__ import annotations

from modelreg.errors import GitError
from modelreg.git.process import run_git_raw
from modelreg.git.repo import GitRepo
from modelreg.models import TagRecord

_BATCH = 400  # exact ref names per `for-each-ref` call: well under any argv limit


def peeled_ids(git: GitRepo, patterns: list[str]) -> str:
    """`refname objectname peeled-objectname` lines (peeled empty for what is not an annotated tag)."""
    return git.git("for-each-ref", "--format=%(refname) %(objectname) %(*objectname)", *patterns)


def ref_ids(git: GitRepo, patterns: list[str]) -> str:
    """`refname objectname` lines: no object is opened (peeling opens every tag object)."""
    return git.git("for-each-ref", "--format=%(refname) %(objectname)", *patterns)


def resolve_refs(git: GitRepo, refs: list[str]) -> dict[str, str]:
    """Full ref name → the object it names, for those of `refs` that exist: one `cat-file --batch-check`.

    Each name is looked up on its own (a loose ref is one file read), never by listing its directory.
    """
    if not refs:
        return {}
    out = git.git("cat-file", "--batch-check=%(objectname)", stdin="".join(f"{ref}\n" for ref in refs))
    found = {}
    for ref, line in zip(refs, out.splitlines(), strict=True):
        if not line.endswith(" missing") and " " not in line:
            found[ref] = line
    return found


def read_tags(git: GitRepo, refs: list[str]) -> list[TagRecord]:
    """The tags among `refs` (full ref names, no glob characters) with their messages, in batched calls."""
    found: list[TagRecord] = []
    for start in range(0, len(refs), _BATCH):
        found += git.read_refs(refs[start : start + _BATCH])[0]
    return found


def raw_objects(git: GitRepo, ids: list[str]) -> list[bytes | None]:
    """The bytes of each object named by its id (one `cat-file --batch`); None where there is none."""
    if not ids:
        return []
    proc = run_git_raw(["cat-file", "--batch"], git.root, "".join(f"{oid}\n" for oid in ids).encode())
    if proc.returncode != 0:
        raise GitError(f"git cat-file failed: {proc.stderr.decode(errors='replace').strip()}")
    data, pos = proc.stdout, 0
    found: list[bytes | None] = []
    for _ in ids:
        end = data.index(b"\n", pos)
        header = data[pos:end].split(b" ")
        pos = end + 1
        if len(header) == 3:
            size = int(header[2])
            found.append(data[pos : pos + size])
            pos += size + 1
        else:
            found.append(None)
    return found
