"""Tags this process has just written, as `git for-each-ref` will describe them: so the next read of the model's
refs (read.snapshot) parses them without asking git (`snapshot.seed`).

The writer knows every byte of a tag object it made (unsigned, with a plain one-line subject and a one-line
body); what git shows of it is a function of those bytes and git's own formatting of the date. That function
is not taken on trust: a record is kept only after git described an earlier tag of this process of the same
shape (zone offset, a subject in ASCII or not) exactly as this module did (the read that parses it compares
them: `observe`). Until then, and for ever after one difference, each new tag is read from git as before.
"""

from __future__ import annotations

from modelreg.models import TagRecord

Shape = tuple[str, bool]  # a tag's zone offset, and whether its subject is ASCII
_PENDING: dict[str, tuple[TagRecord, Shape]] = {}  # tag name → (the record made here, its shape)
_PENDING_MAX = 64
_MATCHED: set[Shape] = set()  # shapes of the tags made here that git described as made here
_DIFFERED: list[bool] = []  # set once git described one otherwise: never trusted again in this process


def record_of(tag: str, obj: str, commit: str, who: str, date: str, offset: str, message: str) -> TagRecord | None:
    """The record git would give of the unsigned tag object `obj` made here (`who`, `date` as `git_date` gives
    it), when this process has seen git agree; None otherwise (the record is then kept for the comparison)."""
    subject, blank, body = message.partition("\n\n")
    plain = (
        blank
        and subject
        and subject == subject.strip()
        and subject.isprintable()
        and body.endswith("\n")
        and body.isascii()
        and body[:-1].isprintable()
        and not body.startswith("-----")
    )
    if not plain:
        return None
    record, shape = TagRecord(tag, obj, commit, True, who, date, subject, body), (offset, subject.isascii())
    if shape in _MATCHED and not _DIFFERED:
        return record
    if len(_PENDING) >= _PENDING_MAX:
        _PENDING.clear()
    _PENDING[tag] = (record, shape)
    return None


def observe(records: list[TagRecord]) -> None:
    """Compare git's records of tags made here with this module's (a read of refs calls it with what it read)."""
    if not _PENDING:
        return
    for record in records:
        made = _PENDING.pop(record.tag, None)
        if made is None:
            continue
        if made[0] == record:
            _MATCHED.add(made[1])
        else:
            _DIFFERED.append(True)
