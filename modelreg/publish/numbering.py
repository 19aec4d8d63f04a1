"""The next version number and event seq of a model, from ref names alone (DESIGN §3, §7).

A write needs one number past every one taken. Tag names carry them, and `for-each-ref` of a
model's tag names opens no tag object (a clone has them packed): one call, parsed by string
operations. A claim ref can be here without its tag (fetched on its own, or left by a writer
that lost its tag), so the claim refs just above the highest tag are looked up by name too,
never by listing their directory (a fetched clone holds them loose: listing opens every file).
A number taken elsewhere and not here yet is the remote's to refuse (`git push --atomic`), and
the write is redone on top (publish.push).
"""

from __future__ import annotations

from collections.abc import Callable

from modelreg.core.refs import MAX_NUMBER, TAGS_PREFIX, claim_ref, tag_patterns, version_claim_ref, version_tag
from modelreg.git import GitRepo
from modelreg.git.peeled import resolve_refs

_PROBE = 8  # claim refs looked up past the highest number known, per call


def highest_version_tag(git: GitRepo, name: str) -> int:
    """The highest version among `name`'s version tag names (0 when none)."""
    prefix = TAGS_PREFIX + version_tag(name, 1)[:-1]  # refs/tags/KEY@v
    found = 0
    for line in git.ref_ids(tag_patterns(name)[:1]).splitlines():
        ref = line.partition(" ")[0]
        if ref.startswith(prefix):
            found = max(found, _number(ref[len(prefix) :]))
    return found


def last_seq(git: GitRepo, name: str) -> int:
    """The highest seq taken for `name`: by an event tag's name or a claim ref (0 when none)."""
    found = 0
    for line in git.ref_ids(tag_patterns(name)[1:]).splitlines():
        found = max(found, _number(line.partition(" ")[0].rpartition("#")[2]))
    return claimed_above(git, found, lambda seq: claim_ref(name, seq))


def claimed_above(git: GitRepo, known: int, ref_of: Callable[[int], str]) -> int:
    """`known`, or the highest number above it whose claim ref (`ref_of(number)`) exists here.

    Claim refs are looked up by name, a few at a time: a run of them, or one past a small gap, is found.
    """
    while True:
        probes = {ref_of(known + step): known + step for step in range(1, _PROBE + 1)}
        found = resolve_refs(git, list(probes))
        if not found:
            return known
        known = max(probes[ref] for ref in found)


def highest_version(git: GitRepo, name: str) -> int:
    """The highest version number taken for `name`: by a version tag's name or a version claim ref."""
    return claimed_above(git, highest_version_tag(git, name), lambda version: version_claim_ref(name, version))


def _number(text: str) -> int:
    """A version or seq as tag names carry it (`[1-9][0-9]{0,18}`, at most 2**63 - 1); 0 for anything else."""
    if 0 < len(text) <= 19 and text.isascii() and text.isdigit() and text[0] != "0":
        number = int(text)
        return number if number <= MAX_NUMBER else 0
    return 0
