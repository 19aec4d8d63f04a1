"""Which items a parsed filter selects, in order, at most a limit; pure, no I/O.

The caller says how to see an item (`view`: its record, or None when it has none to match), and
what costs nothing to know of it (`cheap`: name, version, stages, aliases). `prefetch` is told,
before items are viewed, which items are about to be, so that the caller can read what they need
in one go (a batch of manifests) instead of one at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from modelreg.core.filterfields import CHEAP_FIELDS, OrderKey, SearchRecord, sort_key
from modelreg.core.filtering import Filter

T = TypeVar("T")

FIRST_CHUNK = 16  # items viewed before the first look at whether the limit is met; doubles after


def select(
    items: Iterable[T],
    filter_: Filter,
    order: Sequence[OrderKey] = (),
    limit: int | None = None,
    *,
    view: Callable[[T], SearchRecord | None],
    cheap: Callable[[T], SearchRecord] | None = None,
    prefetch: Callable[[Sequence[T]], None] | None = None,
) -> list[T]:
    """The items whose record (`view(item)`, None: none to match) the filter matches, in order, at most `limit`.

    When the order needs no more than `cheap(item)` and there is a limit, items are viewed in that order
    until `limit` match, in chunks that double (`prefetch` is given each chunk first): the same answer as
    viewing them all, as the sort is stable. Otherwise every item is viewed (`prefetch` is given them all)."""
    if cheap is not None and limit is not None and all(k.field in CHEAP_FIELDS for k in order):
        key = sort_key(order)
        ordered = sorted(items, key=lambda i: key(cheap(i)))
        found: list[T] = []
        start, size = 0, max(FIRST_CHUNK, 2 * limit)
        while start < len(ordered) and len(found) < limit:
            chunk = ordered[start : start + size]
            if prefetch is not None:
                prefetch(chunk)
            for item in chunk:
                record = view(item)
                if record is not None and (not filter_.clauses or filter_.matches(record)):
                    found.append(item)
                    if len(found) == limit:
                        break
            start, size = start + size, size * 2
        return found
    items = list(items)
    if prefetch is not None:
        prefetch(items)
    records = ((record, item) for item in items if (record := view(item)) is not None)
    matched = [pair for pair in records if filter_.matches(pair[0])] if filter_.clauses else list(records)
    if order:
        key = sort_key(order)
        matched.sort(key=lambda pair: key(pair[0]))
    else:  # the default order alone: no need for the general key
        matched.sort(key=lambda pair: (pair[0].name, -(pair[0].version or 0)))
    found = [item for _record, item in matched]
    return found if limit is None else found[:limit]
