"""select's prefetch: what it is told comes before what is viewed, and a limited cheap-order search
is told about no more than the chunks it looked at."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from modelreg.core.filterfields import SearchRecord
from modelreg.core.filtering import parse_filter, parse_order_by
from modelreg.core.selecting import FIRST_CHUNK, select

RECORDS = [SearchRecord("fraud", v, (), (), {"auc": (v % 10) / 10}) for v in range(1, 201)]


def _run(filter_text: str, order_by: list[str], limit: int | None) -> tuple[list[int], list[list[int]], list[int]]:
    """The answer, the chunks prefetch was given, and the items viewed, each checked against what came first."""
    chunks: list[list[int]] = []
    viewed: list[int] = []

    def prefetch(items: Sequence[int]) -> None:
        chunks.append(list(items))

    def view(i: int) -> SearchRecord:
        assert any(i in chunk for chunk in chunks), "viewed before it was prefetched"
        viewed.append(i)
        return RECORDS[i]

    def cheap(i: int) -> SearchRecord:
        return SearchRecord(RECORDS[i].name, RECORDS[i].version)

    items = range(len(RECORDS))
    found = select(
        items, parse_filter(filter_text), parse_order_by(order_by), limit, view=view, cheap=cheap, prefetch=prefetch
    )
    assert found == select(items, parse_filter(filter_text), parse_order_by(order_by), limit, view=lambda i: RECORDS[i])
    return found, chunks, viewed


def test_a_limited_cheap_search_prefetches_only_its_first_chunk_when_it_fills_there() -> None:
    found, chunks, viewed = _run("metrics.auc > 0.5", [], 5)
    assert len(found) == 5
    assert [len(c) for c in chunks] == [FIRST_CHUNK]
    assert chunks[0][:3] == [199, 198, 197]  # the default order: newest version first
    assert len(viewed) < FIRST_CHUNK


def test_chunks_double_while_the_limit_is_not_met() -> None:
    found, chunks, _viewed = _run("metrics.auc > 0.85", [], 6)  # one version in ten matches: 60 to view
    assert len(found) == 6
    assert [len(c) for c in chunks] == [FIRST_CHUNK, 2 * FIRST_CHUNK, 4 * FIRST_CHUNK]
    flat = [i for c in chunks for i in c]
    assert len(flat) == len(set(flat))  # no item is prefetched twice


def test_no_match_prefetches_every_item_once() -> None:
    found, chunks, viewed = _run("metrics.auc > 2", [], 3)
    assert found == []
    flat = sorted(i for c in chunks for i in c)
    assert flat == list(range(len(RECORDS))) == sorted(viewed)


@pytest.mark.parametrize(("order_by", "limit"), [(["metrics.auc DESC"], 3), ([], None)])
def test_an_order_or_a_search_that_views_everything_prefetches_everything_at_once(
    order_by: list[str], limit: int | None
) -> None:
    _found, chunks, _viewed = _run("metrics.auc > 0.5", order_by, limit)
    assert len(chunks) == 1
    assert sorted(chunks[0]) == list(range(len(RECORDS)))
