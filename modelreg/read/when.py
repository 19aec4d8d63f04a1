"""What a user's WHEN names (`--at`, `--since`, `--until`): a date, a datetime, a modelreg tag or a git revision.

- An ISO 8601 date is that whole day (UTC unless it carries a zone); a datetime is that instant
  (UTC when it has no zone). A `datetime` from the API is taken as is (naive: UTC).
- A modelreg tag (`fraud#production#4`, `fraud@v2`) is the moment just after that event: its model is
  cut exactly there, in event order, and every other model at the tag's date.
- Any other git revision (a commit, a branch, `v1.0`, `HEAD~3`) is its commit's committer date: the
  state as it was when that commit was made, whatever the commit contains.
"""

from __future__ import annotations

from datetime import UTC, datetime

from modelreg.core.asof import Moment
from modelreg.core.instants import parse_instant, parse_span
from modelreg.core.refs import TAGS_PREFIX, parse_tag_name
from modelreg.errors import InvalidInputError
from modelreg.git import GitRepo

When = str | datetime | Moment


def moment(git: GitRepo, when: When, option: str = "--at") -> Moment:
    """The moment `when` names; InvalidInputError when it names none."""
    if isinstance(when, Moment):
        return when
    if isinstance(when, datetime):
        aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
        return Moment(aware, aware, None, aware.isoformat())
    text = when.strip()
    span = parse_span(text)
    if span is not None:
        return Moment(span.first, span.last, None, text)
    if text and not text.startswith("-"):
        tag = text.removeprefix(TAGS_PREFIX)
        if parse_tag_name(tag) is not None:
            records, _ = git.read_refs([TAGS_PREFIX + tag])
            found = next((r for r in records if r.tag == tag and r.annotated), None)
            instant = parse_instant(found.date) if found is not None else None
            if instant is not None:
                return Moment(instant, instant, tag, text)
        commit = git.resolve_commit(text)
        if commit is not None:
            instant = parse_instant(git.commit_date(commit))
            if instant is not None:
                return Moment(instant, instant, None, text)
    raise InvalidInputError(
        f"{option} {text!r}: expected an ISO 8601 date or datetime (2026-03-01, 2026-03-01T10:00:00Z), "
        "a modelreg tag or a git revision"
    )
