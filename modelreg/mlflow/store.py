"""MLflow's model-registry plugin: `MLFLOW_REGISTRY_URI=modelreg:///abs/path/to/repo` (docs/mlflow.md).

MLflow finds this class through the `mlflow.model_registry_store` entry point for the scheme
`modelreg`. Each call opens the registry afresh (MLflow keeps one store object per URI for the
life of the process, and other writers may have changed the repository since), runs the same
typed API the CLI runs, and turns every modelreg error into an `MlflowException` with MLflow's code. What a
call can learn without starting a git process it does (docs/mlflow.md, "Per-call cost"): the model's refs are
listed with the branches, object lookups go through one `cat-file` kept running (git.batch).
A write that loses a race to another writer (git's ref transaction refused) is tried again from a
fresh read, as the CLI's writes are: the transaction is atomic, so a lost attempt wrote nothing.

Entities are built in `mlflow.entities`, sources downloaded in `mlflow.sources`. Only the
`modelreg.mlflow` package and `importers.mlflow` import `mlflow`; `import modelreg` never does.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mlflow.entities.model_registry import RegisteredModel
from mlflow.store.entities.paged_list import PagedList
from mlflow.store.model_registry import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD,
)
from mlflow.store.model_registry.abstract_store import AbstractStore

from modelreg.api import Registry
from modelreg.core import mlflowmap, names
from modelreg.core.refs import ModelRef
from modelreg.errors import (
    AlreadyExists,
    ModelregError,
)
from modelreg.git import batch
from modelreg.mlflow import checks, entities, sources
from modelreg.mlflow import search as mlflowsearch
from modelreg.models import Scalar
from modelreg.ops import assign
from modelreg.publish.options import WriteOptions
from modelreg.read import opening

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion as MlflowModelVersion

T = TypeVar("T")
WRITE_ATTEMPTS = 30


class ModelregRegistryStore(AbstractStore):
    """An MLflow model registry kept in a modelreg git repository."""

    def __init__(self, store_uri: str | None = None, tracking_uri: str | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        with checks.mlflow_errors():
            self.path = mlflowmap.registry_path(store_uri or "")
            self.by_reference = mlflowmap.registry_options(store_uri or "").get("sources") == "reference"
        self.store_uri = store_uri
        self.tracking_uri = tracking_uri

    def _open(self, name: str | None = None) -> Registry:
        """The registry as it is now; `name`: the model the call reads first, whose refs are then listed in the
        same git process as the branches (read.opening)."""
        reg = Registry(*opening.open_path(self.path, name))
        batch.keep_running(reg.git.root)  # MLflow keeps this store for the process's life: one `cat-file` for it
        return reg

    def _call(self, work: Callable[[Registry], T], about: checks.About | None = None) -> T:
        with checks.mlflow_errors(about):
            return work(self._open(about.name if about is not None else None))

    def _write(
        self, work: Callable[[Registry], T], first: Registry | None = None, about: checks.About | None = None
    ) -> T:
        """`work` on a fresh read, again (bounded, with jitter) while it loses a race to another writer."""
        for number in range(WRITE_ATTEMPTS):
            try:
                reg = first if first is not None and number == 0 else self._open(about.name if about else None)
                return work(reg)
            except ModelregError as exc:
                if not checks.lost_race(exc) or number == WRITE_ATTEMPTS - 1:
                    with checks.mlflow_errors(about):
                        raise
            time.sleep(random.uniform(0, min(0.5, 0.01 * 2**number)))  # noqa: S311 - jitter, not crypto
        raise AssertionError("unreachable")

    # --- registered models -----------------------------------------------------------------

    def create_registered_model(
        self, name: str, tags: Any = None, description: Any = None, deployment_job_id: Any = None
    ) -> RegisteredModel:
        """A `NAME#_create#SEQ` event: the model exists, with its tags and description, before its first version."""
        checks.model_name(name)
        model_tags = checks.model_tags(tags)

        def create(reg: Registry) -> RegisteredModel:
            try:
                reg.create(name, description=description or "", tags=model_tags, reason=checks.VIA_MLFLOW)
            except AlreadyExists:
                raise checks.already_exists(name, reg.state(name).tags, model_tags) from None
            return entities.model(reg, name)

        return self._write(create)

    def update_registered_model(self, name: str, description: str, deployment_job_id: Any = None) -> RegisteredModel:
        """The model's own description, as a `describe` event (`NAME#_describe#SEQ`)."""
        checks.model_name(name)

        def update(reg: Registry) -> RegisteredModel:
            if reg.state(name).description != (description or ""):
                reg.describe(name, description=description or "", reason=checks.VIA_MLFLOW)
            return entities.model(reg, name)

        return self._write(update, about=checks.About(name))

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """`Registry.rename` (ops.rename): the versions registered again under the new name, the model's events
        given back, `OLD#_delete#SEQ`, in one transaction. What it refuses is NOT_IMPLEMENTED (docs/mlflow.md)."""
        checks.model_name(name)
        checks.model_name(new_name)

        def rename(reg: Registry) -> RegisteredModel:
            try:
                reg.rename(name, new_name, reason=checks.RENAMED)
            except AlreadyExists:
                taken = reg.state(new_name).tags  # MLflow's words for the model (or prompt) holding the name
                raise checks.already_exists(new_name, taken, taken) from None
            return entities.model(reg, new_name)

        return self._write(rename, about=checks.About(name))

    def delete_registered_model(self, name: str) -> None:
        """A `NAME#_delete#SEQ` event (ops.deletion): no version resolves or lists; history keeps them."""
        checks.model_name(name)
        self._write(lambda reg: reg.delete(name, reason=checks.DELETED), about=checks.About(name))

    def get_registered_model(self, name: str) -> RegisteredModel:
        checks.model_name(name)
        return self._call(lambda reg: entities.model(reg, name), checks.About(name))

    def get_latest_versions(self, name: str, stages: list[str] | None = None) -> list[MlflowModelVersion]:
        checks.model_name(name)
        return self._call(lambda reg: entities.latest(reg, name, stages), checks.About(name))

    def set_registered_model_tag(self, name: str, tag: Any) -> None:
        checks.model_name(name)
        ((key, value),) = checks.model_tags([tag]).items()

        def set_tag(reg: Registry) -> None:
            if reg.state(name).tags.get(key) != value:
                reg.describe(name, tags={key: value}, reason=checks.VIA_MLFLOW)

        self._write(set_tag, about=checks.About(name))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Deleting a tag the model does not have does nothing, as in MLflow's stores."""
        checks.model_name(name)
        checks.tag_name(key)

        def delete(reg: Registry) -> None:
            if key in reg.state(name).tags:
                reg.describe(name, remove_tags=(key,), reason=checks.VIA_MLFLOW)

        self._write(delete, about=checks.About(name))

    def list_registered_models(self, max_results: int | None, page_token: Any) -> PagedList[Any]:
        """MLflow's FileStore keeps this older name of an unfiltered search: registered models by name."""
        return self.search_registered_models(max_results=max_results, page_token=page_token)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Any = None,
        page_token: Any = None,
    ) -> PagedList[Any]:
        threshold = SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD

        def search(reg: Registry) -> PagedList[Any]:
            mlflowsearch.check_max_results(max_results, threshold)
            mlflowsearch.page_offset(page_token)
            filter_, _ = mlflowsearch.models(filter_string, None)
            keys = checks.model_order(order_by)
            summaries = mlflowsearch.prompts_only_if_asked(reg.models(), filter_)
            found = mlflowsearch.matching(summaries, filter_, None, mlflowsearch.model_record)
            models = [entities.model(reg, m.name) for m in found]
            for field, descending in reversed(keys):
                models.sort(key=lambda m, f=field: getattr(m, f) or 0, reverse=descending)  # type: ignore[misc]
            return mlflowsearch.page(models, max_results, page_token, threshold)

        return self._call(search)

    # --- versions ----------------------------------------------------------------------------

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Any = None,
        run_link: str | None = None,
        description: str | None = None,
        local_model_path: str | None = None,
        model_id: str | None = None,
    ) -> MlflowModelVersion:
        """Fetch the source (`mlflow.sources`) and register it as any `modelreg register` does."""
        checks.model_name(name)
        version_tags: dict[str, Scalar] = {checks.tag_key(t.key, t.value): t.value for t in tags or []}
        with tempfile.TemporaryDirectory(prefix="modelreg-mlflow-") as scratch:
            with checks.mlflow_errors():
                reg = self._open(name)
                run_id = sources.run_of(run_id, model_id, source, self.tracking_uri)
                facts = sources.facts(run_id, self.tracking_uri)
            try:
                path = sources.fetch(reg, source, Path(scratch), self.tracking_uri, local_model_path)
                unread = None
            except sources.Unreadable as exc:
                if not self.by_reference or not isinstance(source, str) or not source.strip():
                    raise
                path, unread = sources.reference_note(name, source, exc.why, Path(scratch)), exc.why
            origin = {
                "from": "MLflow",
                "source": source,
                "run_id": run_id,
                "run_link": run_link,
                "experiment_id": facts.experiment_id,
                "model_id": model_id,
                "tracking_uri": self.tracking_uri,
                **(sources.reference_origin(source, unread) if unread is not None else {}),
            }

            def register(reg: Registry) -> MlflowModelVersion:
                mv = reg.register(
                    name,
                    path,
                    params=mlflowmap.params(facts.params),
                    metrics=mlflowmap.metrics(facts.metrics),
                    tags=version_tags,
                    description=description or "",
                    run_id=run_id,
                    code_commit=facts.git_commit,
                    origin={k: v for k, v in origin.items() if v is not None},
                )
                return entities.version(reg, mv, fresh=True)

            return self._write(register, reg)

    def update_model_version(self, name: str, version: Any, description: str) -> MlflowModelVersion:
        checks.model_name(name)
        number = checks.version_number(version)

        def update(reg: Registry) -> MlflowModelVersion:
            if reg.resolve(ModelRef(name, version=number)).manifest.description != (description or ""):
                reg.update(name, number, description=description or "")
            return entities.numbered(reg, name, number)

        return self._write(update, about=checks.About(name, number))

    def transition_model_version_stage(
        self, name: str, version: Any, stage: str, archive_existing_versions: bool
    ) -> MlflowModelVersion:
        """Staging/Production/Archived → a modelreg stage event; None → the version leaves its stage.

        `archive_existing_versions=True` archives the stage's other holders in the same event, as MLflow does
        (only Staging and Production take it); False keeps them where they are.
        """
        checks.model_name(name)
        number = checks.version_number(version)
        checks.archiving(stage, archive_existing_versions)

        def transition(reg: Registry) -> MlflowModelVersion:
            target = checks.stage(stage, reg.config.stages)
            view = reg.model(name)
            current = view.state.stages.get(number)
            reg.reader.select(view.state, ModelRef(name, version=number))
            before = reg.reader.version(view, number)
            if current == target:
                return entities.version(reg, before, view)
            if target is None:
                event = reg.remove_stage(name, number, reason="MLflow: transition to stage None")
            else:
                keep = not archive_existing_versions
                event = assign.promote(
                    reg.reader, reg.publisher, name, number, target, keep, WriteOptions(), archive_all=True, view=view
                )
            return entities.version(reg, before._replace(stage=target), view, touched=event)

        return self._write(transition, about=checks.About(name, number))

    def delete_model_version(self, name: str, version: Any) -> None:
        """A `NAME#_delete#SEQ` event for the version: it no longer resolves or lists; history keeps it."""
        checks.model_name(name)
        number = checks.version_number(version)
        self._write(lambda reg: reg.delete(name, number, reason=checks.DELETED), about=checks.About(name, number))

    def get_model_version(self, name: str, version: Any) -> MlflowModelVersion:
        checks.model_name(name)
        number = checks.version_number(version)
        return self._call(lambda reg: entities.numbered(reg, name, number), checks.About(name, number))

    def get_model_version_download_uri(self, name: str, version: Any) -> str:
        """A local directory holding the version's bytes, pulled and verified as `modelreg pull` does."""
        checks.model_name(name)
        number = checks.version_number(version)

        def pull(reg: Registry) -> str:
            mv = reg.resolve(ModelRef(name, version=number))
            directory = tempfile.mkdtemp(prefix=f"modelreg-{names.encode(name)}-v{number}-")
            checks.PULLED.append(directory)
            return str(reg.pull(mv, Path(directory) / "model"))

        return self._call(pull, about=checks.About(name, number))

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Any = None,
        page_token: Any = None,
    ) -> PagedList[Any]:
        threshold = SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD

        def search(reg: Registry) -> PagedList[Any]:
            mlflowsearch.check_max_results(max_results, threshold)
            mlflowsearch.page_offset(page_token)
            keys = checks.version_order(order_by)
            filter_, order = mlflowsearch.versions(filter_string, order_by if keys is None else None)
            wanted = mlflowsearch.names_wanted(filter_)
            found = []
            for summary in reg.models():
                if wanted is None or summary.name in wanted:
                    view = reg.model(summary.name)
                    found += [(reg.reader.version(view, number), view) for number in view.state.versions]
            if not mlflowsearch.asks_for_prompts(filter_):  # MLflow's stores leave prompts out unless asked
                found = [(mv, view) for mv, view in found if not mlflowsearch.is_prompt(mv.manifest.tags)]
            matched = mlflowsearch.matching(found, filter_, order, lambda pair: mlflowsearch.version_record(pair[0]))
            if keys is not None:  # MLflow's attributes, its times in milliseconds
                versions = [entities.version(reg, mv, view) for mv, view in matched]
                for attr, descending in reversed(keys):
                    versions.sort(key=lambda v, a=attr: getattr(v, a) or 0, reverse=descending)  # type: ignore[misc]
                return mlflowsearch.page(versions, max_results, page_token, threshold)
            paged = mlflowsearch.page(matched, max_results, page_token, threshold)
            return PagedList([entities.version(reg, mv, view) for mv, view in paged], paged.token)

        return self._call(search)

    def set_model_version_tag(self, name: str, version: Any, tag: Any) -> None:
        checks.model_name(name)
        number = checks.version_number(version)
        key = checks.tag_key(tag.key, tag.value)

        def set_tag(reg: Registry) -> None:
            if reg.resolve(ModelRef(name, version=number)).manifest.tags.get(key) != tag.value:
                reg.update(name, number, tags={key: tag.value})

        self._write(set_tag, about=checks.About(name, number))

    def delete_model_version_tag(self, name: str, version: Any, key: str) -> None:
        """Deleting a tag the version does not have does nothing, as in MLflow's stores."""
        checks.model_name(name)
        number = checks.version_number(version)
        safe = checks.tag_key(key)

        def delete(reg: Registry) -> None:
            if safe in reg.resolve(ModelRef(name, version=number)).manifest.tags:
                reg.update(name, number, remove_tags=(safe,))

        self._write(delete, about=checks.About(name, number))

    # --- aliases -----------------------------------------------------------------------------

    def set_registered_model_alias(self, name: str, alias: str, version: Any) -> None:
        checks.model_name(name)
        number = checks.version_number(version)

        def set_alias(reg: Registry) -> None:
            if reg.state(name).aliases.get(alias) != number:
                reg.set_alias(name, alias, number)

        self._write(set_alias, about=checks.About(name, number))

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Deleting an alias the model does not have does nothing, as in MLflow's stores."""
        checks.model_name(name)

        def delete(reg: Registry) -> None:
            if alias in reg.state(name).aliases:
                reg.remove_alias(name, alias)

        self._write(delete, about=checks.About(name, alias=alias))

    def get_model_version_by_alias(self, name: str, alias: str) -> MlflowModelVersion:
        checks.model_name(name)
        about = checks.About(name, alias=alias)
        return self._call(lambda reg: entities.version(reg, reg.resolve(ModelRef(name, alias=alias))), about)
