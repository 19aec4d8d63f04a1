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

import re
from collections.abc import Callable

from modelreg.core.refs import MAX_NUMBER, TAGS_PREFIX, claim_ref, tag_patterns, version_claim_ref, version_tag
from modelreg.git import GitRepo
from modelreg.git.peeled import resolve_refs

_PROBE = 8  # claim refs looked up past the highest number known, per call


def highest_version_tag(git: GitRepo, name: str, listing: str | None = None) -> int:
    """The highest version among `name`'s version tag names (0 when none); `listing` as for `last_seq`."""
    pattern = re.compile(f"^{re.escape(TAGS_PREFIX + version_tag(name, 1)[:-1])}([1-9][0-9]{{0,18}}) ", re.MULTILINE)
    if listing is None:
        listing = git.ref_ids(tag_patterns(name)[:1])
    return max((number for text in pattern.findall(listing) if (number := int(text)) <= MAX_NUMBER), default=0)


def last_seq(git: GitRepo, name: str, listing: str | None = None, known: int = 0) -> int:
    """The highest seq taken for `name`: by an event tag's name or a claim ref (0 when none).

    `listing`: `for-each-ref` lines (`refname objectname`) that hold every event tag of `name`
    (and possibly its version tags: `ref_ids(tag_patterns(name))`), when the caller has them
    already; `known`: a seq taken, when the caller knows one (only the names above it are read).
    """
    if listing is None:
        listing = git.ref_ids(tag_patterns(name)[1:])
    seqs = (int(seq) for seq in re.findall(above(known), listing, re.MULTILINE))
    found = max((seq for seq in seqs if seq <= MAX_NUMBER), default=known)
    return claimed_above(git, found, lambda seq: claim_ref(name, seq))


def above(number: int) -> str:
    """A regular expression matching `#SEQ ` (a tag name's end in a `for-each-ref` line) for every seq
    as tag names write them (`[1-9][0-9]{0,18}`) above `number`; group 1 is the seq.

    A scan for the few seqs above a known one costs no Python per line.
    """
    digits = str(number)
    larger = [
        digits[:index] + f"[{int(digit) + 1}-9]" + "[0-9]" * (len(digits) - index - 1)
        for index, digit in enumerate(digits)
        if digit != "9"
    ]
    if len(digits) < 19:
        larger.append(f"[1-9][0-9]{{{len(digits)},18}}")  # more digits
    return f"#({'|'.join(larger) or '(?!)'}) "


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


def highest_version(git: GitRepo, name: str, listing: str | None = None) -> int:
    """The highest version number taken for `name`: by a version tag's name or a version claim ref."""
    found = highest_version_tag(git, name, listing)
    return claimed_above(git, found, lambda version: version_claim_ref(name, version))
