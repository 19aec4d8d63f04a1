"""The claim ref is the version (DESIGN §10): a tag moved after it was claimed is read through its claim.

`git tag -f -a m@v7` and a forced push replace the tag object behind the name `m@v7`; the claim
ref `refs/modelreg/versions/m/7` still points at the tag object made with it. Every reader takes
the claim's object as the version or event, whether its clone holds the old tag (fetched before
the move) or the new one (cloned after): they all serve the same answer. The moved tag is not
taken; it is reported as a problem of that tag (`verify`, `check-ref`, and a warning on reads).

A claim naming a tag object of another name (two writers on one seq) is no move: the policy
reports it as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from modelreg.core.events import event_from_tag
from modelreg.core.refs import TAGS_PREFIX, claim_ref, is_claim_ref, parse_tag_name, version_claim_ref
from modelreg.errors import MalformedEvent
from modelreg.git.claimed import claimed_tags

if TYPE_CHECKING:
    from modelreg.git import GitRepo

# (ref, object id, model, version, seq, event fields or problem), as snapshot reads each ref.
Row = tuple[str, str, str | None, int | None, int | None, object]


class Moved(NamedTuple):
    """A moved tag's row: the event its claim names, and the problem that reports the move."""

    event: tuple[object, ...]
    problem: str


def claim_of(ref: str) -> str | None:
    """The claim ref that vouches for the modelreg tag `ref` (None for any other ref)."""
    parsed = parse_tag_name(ref) if ref.startswith(TAGS_PREFIX) else None
    if parsed is None:
        return None
    if parsed.seq is not None:
        return claim_ref(parsed.name, parsed.seq)
    assert parsed.version is not None
    return version_claim_ref(parsed.name, parsed.version)


def prefer_claims(git: GitRepo, rows: list[Row], known: dict[str, str] | None = None) -> list[Row]:
    """`rows` with each tag whose claim names another tag object of its name read through that claim.

    `known`: claim ref → object id of claims read earlier (the rows' own claim refs are added).
    """
    claims = dict(known or {})
    claims.update({row[0]: row[1] for row in rows if is_claim_ref(row[0])})
    moved = {}
    for index, (ref, obj, model, version, seq, _) in enumerate(rows):
        if model is None or not ref.startswith(TAGS_PREFIX):
            continue
        claim = claim_ref(model, seq) if seq is not None else version_claim_ref(model, version) if version else None
        if claim is not None and claims.get(claim, obj) != obj:
            moved[index] = claim
    if not moved:
        return rows
    records = claimed_tags(git, sorted(set(moved.values())))
    result = list(rows)
    for index, claim in moved.items():
        ref, obj, model, version, seq, _ = rows[index]
        record = records.get(claim)
        short = ref.removeprefix(TAGS_PREFIX)
        if record is None or record.tag != short:
            continue  # the claim names another tag (two writers on one seq): the policy reports it
        try:
            event = event_from_tag(record)
        except MalformedEvent:
            continue
        if event is None:
            continue
        problem = (
            f"{short}: moved after {claim} claimed it (the tag is {obj[:12]}, the claim {record.object[:12]}); "
            "the claimed tag object is in effect, the moved one is not taken"
        )
        result[index] = (ref, obj, model, version, seq, Moved(tuple(event), problem))
    return result


def extension_safe(before: set[str], now: list[str], new: list[str]) -> bool:
    """Whether the `new` listing lines can be parsed alone: none pairs a tag with a claim naming another object.

    Lines are `ref id`, as `for-each-ref` lists them; `before` and `new` make up `now`. A new claim
    of an old tag (claim refs fetched into a clone that had the tags) or a new tag of an old claim
    that disagree need the whole set read again: `prefer_claims` sees both sides then.
    """
    held = before.union(new)
    ids: dict[str, str] | None = None
    tag_objects: set[str] | None = None
    for line in new:
        ref, _, obj = line.partition(" ")
        claim = claim_of(ref)
        if claim is not None:
            if f"{claim} {obj}" in held:
                continue
            ids = ids if ids is not None else dict(entry.split(" ", 1) for entry in now)
            if ids.get(claim, obj) != obj:
                return False
        elif is_claim_ref(ref):
            if tag_objects is None:
                tag_objects = {entry.rsplit(" ", 1)[1] for entry in now if entry.startswith(TAGS_PREFIX)}
            if obj not in tag_objects:
                return False
    return True
