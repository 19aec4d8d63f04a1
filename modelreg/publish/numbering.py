"""The next version number and event seq of a model, from ref names alone (DESIGN §3, §7).

A write needs one number past every one taken. Versions and seqs run 1..K without gaps (DESIGN
§7), so the highest is found by looking refs up by name (`cat-file --batch-check`: one file or
one packed-refs search each), never by listing them: powers of two first, then a few rounds of
64 points between the last present and the first absent, then the next few numbers, which finds
a claim or tag past a small gap (a claim ref fetched without its tag, a writer's lost tag). A
clone holds fetched claim refs loose, where a listing opens every file: 50,000 of them take a
second. A caller that lists the model's tags anyway (a promotion) takes the seq from that list.
A number taken elsewhere and not here yet is the remote's to refuse (`git push --atomic`), and
the write is redone on top (publish.push).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from modelreg.core import names
from modelreg.core.refs import MAX_NUMBER, TAGS_PREFIX, claim_prefixes, claim_ref, version_claim_ref, version_tag
from modelreg.git import GitRepo
from modelreg.git.peeled import resolve_refs
from modelreg.read.snapshot import Snapshot

_PROBE = 8  # numbers looked up past the highest one known, per call
_POINTS = 64  # numbers looked up per round of the search between a present and an absent one

Refs = Callable[[int], list[str]]  # number → the refs any of which takes it


def highest_version(git: GitRepo, name: str) -> int:
    """The highest version number taken for `name`: by a version tag or a version claim ref (0 when none)."""

    def refs(version: int) -> list[str]:
        return [TAGS_PREFIX + version_tag(name, version), version_claim_ref(name, version)]

    return taken_above(git, highest(git, refs), refs)


def last_seq(git: GitRepo, name: str, listing: str | None = None, known: int = 0) -> int:
    """The highest seq taken for `name` (0 when none): by a claim ref, and by an event tag's name in `listing`.

    `listing`: `for-each-ref` lines (`refname objectname`) holding every event tag of `name`, when
    the caller has them (`ref_ids(tag_patterns(name))`); `known`: a seq taken, when the caller
    knows one (only the names above it are read). Without a listing, claim refs alone say (an
    event tag without its claim never takes effect, and its name takes no claim).
    """

    def refs(seq: int) -> list[str]:
        return [claim_ref(name, seq)]

    if listing is None:
        return taken_above(git, max(known, highest(git, refs)), refs)
    seqs = (int(seq) for seq in re.findall(above(known), listing, re.MULTILINE))
    return taken_above(git, max((seq for seq in seqs if seq <= MAX_NUMBER), default=known), refs)


def taken_in(snap: Snapshot, name: str) -> tuple[int, int]:
    """(`highest_version`, `last_seq` without a listing) of `name`, from a snapshot of its refs, for a write
    that reads one anyway: every version tag and version claim ref, and every claim ref, is in its listing."""
    keys = {name, names.encode(name)}  # tags are filed under the name, claim refs under its key
    versions = [v for key in keys for v in snap.taken_versions.get(key, ()) if 0 < v <= MAX_NUMBER]
    prefix = claim_prefixes(name)[0]
    tails = (ref[len(prefix) :] for ref in snap.claims if ref.startswith(prefix))
    seqs = [seq for tail in tails if tail.isdigit() and 0 < (seq := int(tail)) <= MAX_NUMBER]
    return max(versions, default=0), max(seqs, default=0)


def highest(git: GitRepo, refs: Refs) -> int:
    """The highest number whose refs exist, when 1..N all do (DESIGN §7): a handful of lookups, in a few calls."""
    powers = [2**exponent for exponent in range(63)]
    present = _present(git, powers, refs)
    if not present:
        return 0
    low = max(present)
    high = min((p for p in powers if p > low), default=MAX_NUMBER + 1)
    while high - low > 1:
        step = max(1, (high - low) // _POINTS)
        points = list(range(low + step, high, step))
        found = _present(git, points, refs)
        low = max(found, default=low)
        high = min((p for p in points if p > low), default=high)
    return low


def taken_above(git: GitRepo, known: int, refs: Refs) -> int:
    """`known`, or the highest number above it whose refs exist here, looked up a few at a time (a run
    of them, or one past a small gap, is found)."""
    while True:
        found = _present(git, list(range(known + 1, known + 1 + _PROBE)), refs)
        if not found:
            return known
        known = max(found)


def _present(git: GitRepo, numbers: list[int], refs: Refs) -> set[int]:
    """Those of `numbers` that some ref of theirs takes: one `cat-file --batch-check`."""
    wanted = {ref: number for number in numbers if 0 < number <= MAX_NUMBER for ref in refs(number)}
    return {wanted[ref] for ref in resolve_refs(git, list(wanted))}


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
