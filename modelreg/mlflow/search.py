"""MLflow's searches over a modelreg registry: filter strings (modelreg/core/filtering.py) and pages. Pure.

`search_model_versions` takes the fields of `filtering` (MLflow's `name`, `version_number`,
`run_id`, `tags.KEY`, `params.KEY`, `metrics.KEY`, `creation_timestamp`, and modelreg's `stage`,
`alias`, `author`, `dataset`); `search_registered_models` takes `name`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from modelreg.core.filtering import Filter, SearchRecord, parse_filter, parse_order_by, search
from modelreg.models import ModelVersion

if TYPE_CHECKING:
    from mlflow.store.entities.paged_list import PagedList


T = TypeVar("T")
MODEL_FIELDS = frozenset({"name", "tags"})
PROMPT_TAG = "mlflow.prompt.is_prompt"  # MLflow's client adds `tags.<this> != 'true'` to leave prompts out


def version_record(mv: ModelVersion) -> SearchRecord:
    m = mv.manifest
    return SearchRecord(
        name=mv.name,
        version=mv.version,
        stages=(mv.stage,) if mv.stage else (),
        aliases=mv.aliases,
        metrics=m.metrics,
        params=m.params,
        tags=m.tags,
        created=m.created_at,
        author=m.created_by,
        dataset=m.lineage.dataset,
        run_id=m.lineage.run_id,
    )


def names_wanted(filter_: Filter) -> set[str] | None:
    """The model names a filter pins with `name = '…'` or `name IN (…)` (None: any), so a search reads only those."""
    wanted: set[str] | None = None
    for clause in filter_.clauses:
        if clause.field == "name" and clause.op in ("=", "IN"):
            values = {clause.value} if isinstance(clause.value, str) else set(clause.value)
            wanted = values if wanted is None else wanted & values
    return wanted


def _no_prompts(filter_: Filter) -> Filter:
    """Drop the "not a prompt" clause: modelreg holds no prompts, and a model without the tag is none."""
    kept = tuple(c for c in filter_.clauses if not (c.field == "tags" and c.key == PROMPT_TAG and c.op == "!="))
    return filter_._replace(clauses=kept)


def versions(filter_string: str | None, order_by: Sequence[str] | None) -> tuple[Filter, Any]:
    return _no_prompts(parse_filter(filter_string)), parse_order_by(order_by)


def models(filter_string: str | None, order_by: Sequence[str] | None) -> tuple[Filter, Any]:
    filter_ = _no_prompts(parse_filter(filter_string, fields=MODEL_FIELDS))
    return filter_, parse_order_by(order_by, fields=MODEL_FIELDS)


def matching(items: Iterable[T], filter_: Filter, order: Any, view: Any) -> list[T]:
    return search(items, filter_, order, view=view)


def page(items: list[Any], max_results: int | None, page_token: str | None) -> PagedList[Any]:
    """MLflow's PagedList of one page; the token is the offset of the next page."""
    from mlflow.store.entities.paged_list import PagedList

    start = int(page_token) if page_token and str(page_token).isdigit() else 0
    size = max_results if max_results and max_results > 0 else len(items) or 1
    end = start + size
    return PagedList(items[start:end], str(end) if end < len(items) else None)
