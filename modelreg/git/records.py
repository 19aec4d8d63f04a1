"""Annotated tags as `git for-each-ref` describes them: the format asked for, and its parse."""

from __future__ import annotations

from modelreg.models import TagRecord

_FIELDS = (
    "%(refname)",
    "%(objecttype)",
    "%(objectname)",
    "%(*objectname)",
    "%(taggername) %(taggeremail)",
    "%(taggerdate:iso-strict)",
    "%(contents:subject)",
    "%(contents:body)",
)
RECORD_FORMAT = "%00".join(_FIELDS) + "%00%1e"
_RECORD_END = "\x00\x1e"


def parse_records(out: str) -> tuple[list[TagRecord], dict[str, str]]:
    """The annotated tags (and lightweight ones, marked) of `out`, and the other refs → object id."""
    tags: list[TagRecord] = []
    others: dict[str, str] = {}
    for record in out.split(_RECORD_END):
        record = record.lstrip("\n")
        if not record:
            continue
        ref, objtype, obj, peeled, tagger, date, subject, body = record.split("\x00", 7)
        if ref.startswith("refs/tags/"):
            annotated = objtype == "tag"
            tags.append(
                TagRecord(
                    tag=ref.removeprefix("refs/tags/"),
                    object=obj,
                    commit=peeled if annotated else obj,
                    annotated=annotated,
                    tagger=tagger.strip() if annotated else "",
                    date=date,
                    subject=subject,
                    body=body,
                )
            )
        else:
            others[ref] = obj
    return tags, others
