"""The annotated tags claim refs point at, read through the claim refs themselves (DESIGN §10).

A claim ref (`refs/modelreg/versions/NAME/N`, `refs/modelreg/events/NAME/SEQ`) points at the tag
object that was created with it. When the tag ref of that name was moved since, the claim's
object is the version or event: it is read here by the claim ref, named by its own `tag` header.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelreg.models import TagRecord

if TYPE_CHECKING:
    from modelreg.git.repo import GitRepo

_FIELDS = (
    "%(refname)",
    "%(objecttype)",
    "%(objectname)",
    "%(*objectname)",
    "%(tag)",
    "%(taggername) %(taggeremail)",
    "%(taggerdate:iso-strict)",
    "%(contents:subject)",
    "%(contents:body)",
)
_FORMAT = "%00".join(_FIELDS) + "%00%1e"
_RECORD_END = "\x00\x1e"


def claimed_tags(repo: GitRepo, claim_refs: list[str]) -> dict[str, TagRecord]:
    """Claim ref → the annotated tag it points at (claims pointing at anything else are left out): one call."""
    if not claim_refs:
        return {}
    out = repo.git("for-each-ref", f"--format={_FORMAT}", *claim_refs)
    wanted = set(claim_refs)
    found: dict[str, TagRecord] = {}
    for record in out.split(_RECORD_END):
        record = record.lstrip("\n")
        if not record:
            continue
        ref, objtype, obj, peeled, tag, tagger, date, subject, body = record.split("\x00", 8)
        if objtype == "tag" and ref in wanted:
            found[ref] = TagRecord(tag, obj, peeled, True, tagger.strip(), date, subject, body)
    return found
