"""MLflow's searches over a modelreg registry: filter strings (modelreg/core/filtering.py) and pages. Pure.

`search_model_versions` takes the fields of `filtering` (MLflow's `name`, `version_number`,
`run_id`, `tags.KEY`, `params.KEY`, `metrics.KEY`, `creation_timestamp`, and modelreg's `stage`,
`alias`, `author`, `dataset`) and MLflow's `source_path` (a version's source, `source_of`);
`search_registered_models` takes `name`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from mlflow.utils.search_utils import SearchModelUtils, SearchModelVersionUtils

from modelreg.core.filterfields import MLFLOW_FIELDS
from modelreg.core.filtering import Filter, SearchRecord, parse_filter, parse_order_by
from modelreg.core.selecting import select
from modelreg.errors import InvalidInputError
from modelreg.models import ModelSummary, ModelVersion

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
        tags={PROMPT_TAG: "false", **m.tags},  # as MLflow's stores: what is no prompt has the prompt tag 'false'
        created=m.created_at,
        author=m.created_by,
        dataset=m.lineage.dataset,
        run_id=m.lineage.run_id,
        source=source_of(mv),
    )


def source_of(mv: ModelVersion) -> str:
    """The source MLflow registered the version from (its `origin`); `models:/NAME/V` for one registered otherwise."""
    found = mv.manifest.extra.get("origin")
    source = found.get("source") if isinstance(found, dict) else None
    return str(source or f"models:/{mv.name}/{mv.version}")


def model_record(summary: ModelSummary) -> SearchRecord:
    """What a registered-model filter sees: its name and tags (a model that is no prompt has the prompt tag 'false')."""
    return SearchRecord(name=summary.name, tags={PROMPT_TAG: "false", **summary.tags})


def prompts_only_if_asked(models: list[ModelSummary], filter_: Filter) -> list[ModelSummary]:
    """As MLflow's stores: prompts (models tagged as one) are found only by a filter on the prompt tag."""
    return models if asks_for_prompts(filter_) else [m for m in models if not is_prompt(m.tags)]


def asks_for_prompts(filter_: Filter) -> bool:
    return any(c.field == "tags" and c.key == PROMPT_TAG for c in filter_.clauses)


def is_prompt(tags: Mapping[str, Any]) -> bool:
    return str(tags.get(PROMPT_TAG, "false")).lower() == "true"


def names_wanted(filter_: Filter) -> set[str] | None:
    """The model names a filter pins with `name = '…'` or `name IN (…)` (None: any), so a search reads only those."""
    wanted: set[str] | None = None
    for clause in filter_.clauses:
        if clause.field == "name" and clause.op in ("=", "IN"):
            values = {clause.value} if isinstance(clause.value, str) else set(clause.value)
            wanted = values if wanted is None else wanted & values
    return wanted


def versions(filter_string: str | None, order_by: Sequence[str] | None) -> tuple[Filter, Any]:
    with _in_mlflow_words(filter_string, SearchModelVersionUtils.parse_search_filter):
        return parse_filter(filter_string, fields=MLFLOW_FIELDS), parse_order_by(order_by)


def models(filter_string: str | None, order_by: Sequence[str] | None) -> tuple[Filter, Any]:
    with _in_mlflow_words(filter_string, SearchModelUtils.parse_search_filter):
        filter_ = parse_filter(filter_string, fields=MODEL_FIELDS)
        return filter_, parse_order_by(order_by, fields=MODEL_FIELDS)


@contextmanager
def _in_mlflow_words(filter_string: str | None, mlflow_parse: Callable[[Any], Any]) -> Iterator[None]:
    """A filter modelreg refuses is refused in MLflow's words when MLflow's parser refuses it too.

    modelreg's grammar is MLflow's plus its own fields (stage, alias, author, dataset), so only a
    refusal asks MLflow's parser, never an accepted filter.
    """
    try:
        yield
    except InvalidInputError:
        mlflow_parse(filter_string)  # raises MLflow's own MlflowException, with its words and code
        raise


def matching(items: Iterable[T], filter_: Filter, order: Any, view: Any) -> list[T]:
    return select(items, filter_, order, view=view)


def check_max_results(max_results: Any, threshold: int) -> int | None:
    """MLflow's bounds: a positive integer up to the store's threshold (None: every result)."""
    if max_results is None:
        return None
    if not isinstance(max_results, (int, float)) or max_results != int(max_results) or not 0 < max_results <= threshold:
        raise InvalidInputError(
            f"Invalid value for max_results. It must be a positive integer at most {threshold}, but got {max_results}"
        )
    return int(max_results)


def page_token(offset: int) -> str:
    """MLflow's page token: base64 of `{"offset": N}`."""
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def page_offset(token: Any) -> int:
    """The offset a page token stands for (0 for none); an unreadable token is invalid input, as in MLflow."""
    if not token:
        return 0
    try:
        decoded = json.loads(base64.b64decode(str(token), validate=True))
    except (ValueError, binascii.Error):
        raise InvalidInputError(f"Invalid page token, could not base64-decode: {str(token)[:60]!r}") from None
    offset = decoded.get("offset") if isinstance(decoded, dict) else None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidInputError(f"Invalid page token: {str(token)[:60]!r} holds no offset")
    return offset


def page(items: list[Any], max_results: Any, token: Any, threshold: int) -> PagedList[Any]:
    """MLflow's PagedList of one page and the token of the next."""
    from mlflow.store.entities.paged_list import PagedList  # mlflow is an extra, loaded by the plugin

    size = check_max_results(max_results, threshold) or threshold
    start = page_offset(token)
    end = start + size
    return PagedList(items[start:end], page_token(end) if end < len(items) else None)
