"""MLflow's model-registry plugin: `MLFLOW_REGISTRY_URI=modelreg:///abs/path/to/repo` (docs/mlflow.md).

MLflow finds this class through the `mlflow.model_registry_store` entry point for the scheme
`modelreg`. Each call opens the registry afresh (MLflow keeps one store object per URI for the
life of the process, and other writers may have changed the repository since), runs the same
typed API the CLI runs, and turns every modelreg error into an `MlflowException`.

Only this module and `importers.mlflow` import `mlflow`; `import modelreg` never does.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from mlflow.entities.model_registry import (
    ModelVersion as MlflowModelVersion,
)
from mlflow.entities.model_registry import (
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    ABORTED,
    DATA_LOSS,
    INTERNAL_ERROR,
    INVALID_PARAMETER_VALUE,
    INVALID_STATE,
    PERMISSION_DENIED,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
)
from mlflow.store.entities.paged_list import PagedList
from mlflow.store.model_registry.abstract_store import AbstractStore

from modelreg.api import Registry
from modelreg.core.filtering import SearchRecord
from modelreg.core.refs import NAME_RE, ModelRef
from modelreg.errors import (
    ConfigError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    ModelregError,
    NotFoundError,
    ReviewRequired,
)
from modelreg.importers.mlflow import RunFacts, download, logged_model_run, run_facts
from modelreg.mlflow import mapping as mlflowmap
from modelreg.mlflow import search as mlflowsearch
from modelreg.models import ModelVersion

T = TypeVar("T")
_CODES: tuple[tuple[type[ModelregError], int], ...] = (
    (ReviewRequired, PERMISSION_DENIED),
    (NotFoundError, RESOURCE_DOES_NOT_EXIST),
    (ConflictError, ABORTED),
    (IntegrityError, DATA_LOSS),
    (ConfigError, INVALID_STATE),
    (InvalidInputError, INVALID_PARAMETER_VALUE),
)
_PULLED: list[str] = []  # directories handed to MLflow as download URIs: removed when the process ends


@atexit.register
def _remove_pulled() -> None:
    for directory in _PULLED:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def mlflow_errors() -> Iterator[None]:
    """modelreg's errors as MlflowException, with the same one-line message the CLI prints."""
    try:
        yield
    except ModelregError as exc:
        code = next((code for kind, code in _CODES if isinstance(exc, kind)), INTERNAL_ERROR)
        raise MlflowException(f"modelreg: {exc}", error_code=code) from None


def _logged_model_id(source: str) -> str | None:
    """`models:/m-<id>` → `m-<id>`: MLflow 3 registers logged models by that URI."""
    rest = source.removeprefix("models:/") if source.startswith("models:/") else ""
    return rest if rest.startswith("m-") and "/" not in rest else None


def _unsupported(what: str, instead: str) -> MlflowException:
    return MlflowException(f"modelreg: {what} is not supported: {instead}", error_code=INVALID_STATE)


_VIA_MLFLOW = "set through MLflow's registry API"


class ModelregRegistryStore(AbstractStore):
    """An MLflow model registry kept in a modelreg git repository."""

    def __init__(self, store_uri: str | None = None, tracking_uri: str | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        with mlflow_errors():
            self.path = mlflowmap.registry_path(store_uri or "")
        self.store_uri = store_uri
        self.tracking_uri = tracking_uri

    # --- helpers ---------------------------------------------------------------------------

    def _call(self, work: Callable[[Registry], T]) -> T:
        with mlflow_errors():
            return work(Registry.open(self.path))

    @staticmethod
    def _name(name: str) -> str:
        if not isinstance(name, str) or not NAME_RE.fullmatch(name) or len(name) > 100:
            raise MlflowException(
                f"modelreg: {name!r} is not a valid model name here: {mlflowmap.MODEL_NAME_RULE}",
                error_code=INVALID_PARAMETER_VALUE,
            )
        return name

    @staticmethod
    def _version(version: object) -> int:
        try:
            number = int(str(version))
        except ValueError:
            number = 0
        if number < 1:
            raise MlflowException(f"modelreg: {version!r} is not a version number", error_code=INVALID_PARAMETER_VALUE)
        return number

    def _entity(self, reg: Registry, mv: ModelVersion) -> MlflowModelVersion:
        manifest = mv.manifest
        found = manifest.extra.get("origin")
        origin: dict[str, Any] = found if isinstance(found, dict) else {}
        view = reg.model(mv.name)
        touched = [e.date for e in view.events if e.version == mv.version or mv.version in e.archived]
        created = mlflowmap.millis(manifest.created_at)
        updated = max([created, *(mlflowmap.millis(d) for d in touched if d)])
        return MlflowModelVersion(
            name=mv.name,
            version=str(mv.version),
            creation_timestamp=created,
            last_updated_timestamp=updated,
            description=manifest.description,
            user_id=manifest.created_by,
            current_stage=mlflowmap.to_mlflow_stage(mv.stage),
            source=str(origin.get("source") or f"models:/{mv.name}/{mv.version}"),
            run_id=manifest.lineage.run_id,
            tags=[
                ModelVersionTag(key, "" if value is None else str(value))  # type: ignore[no-untyped-call]
                for key, value in manifest.tags.items()
            ],
            aliases=list(mv.aliases),
            model_id=origin.get("model_id"),
        )

    def _get(self, reg: Registry, ref: ModelRef) -> MlflowModelVersion:
        return self._entity(reg, reg.resolve(ref))

    def _model_entity(self, reg: Registry, name: str) -> RegisteredModel:
        view = reg.model(name)
        state = view.state
        first = reg.resolve(ModelRef(name, version=min(state.versions)))
        dates = [mlflowmap.millis(e.date) for e in view.events if e.date]
        created = mlflowmap.millis(first.manifest.created_at)
        return RegisteredModel(
            name=name,
            creation_timestamp=created,
            last_updated_timestamp=max([created, *dates]),
            description=state.description,
            latest_versions=self._latest(reg, name, None),
            tags=[
                RegisteredModelTag(key, "" if value is None else str(value))  # type: ignore[no-untyped-call]
                for key, value in sorted(state.tags.items())
            ],
            aliases=[
                RegisteredModelAlias(alias, str(version))  # type: ignore[no-untyped-call]
                for alias, version in sorted(state.aliases.items())
            ],
        )

    def _latest(self, reg: Registry, name: str, stages: list[str] | None) -> list[MlflowModelVersion]:
        """Per stage asked for, the version modelreg resolves `NAME/STAGE` to (its most recent holder).

        With no stages, MLflow's meaning: per stage ("None" included), the highest version in it.
        """
        state = reg.state(name)
        found: list[int] = []
        if stages:
            for stage in stages:
                ours = mlflowmap.to_modelreg_stage(stage, reg.config.stages)
                if ours is None:
                    holder = max((v for v in state.versions if v not in state.stages), default=None)
                else:
                    holder = state.stage_holder(ours)
                if holder is not None and holder not in found:
                    found.append(holder)
        else:
            newest: dict[str | None, int] = {}
            for version in state.versions:
                held = state.stages.get(version)
                newest[held] = max(version, newest.get(held, 0))
            found = sorted(newest.values())
        return [self._get(reg, ModelRef(name, version=v)) for v in found]

    # --- registered models -----------------------------------------------------------------

    def create_registered_model(
        self, name: str, tags: Any = None, description: Any = None, deployment_job_id: Any = None
    ) -> RegisteredModel:
        """A modelreg model exists once it has a version: this checks the name and writes nothing."""
        self._name(name)
        if tags or description:
            raise _unsupported(
                "a description or tags before the model's first version",
                "register a version first, then update_registered_model / set_registered_model_tag",
            )

        def create(reg: Registry) -> RegisteredModel:
            try:
                reg.model(name)
            except NotFoundError:
                return RegisteredModel(name=name, tags=[], aliases=[], latest_versions=[])
            raise MlflowException(
                f"modelreg: registered model {name!r} already exists", error_code=RESOURCE_ALREADY_EXISTS
            )

        return self._call(create)

    def update_registered_model(self, name: str, description: str, deployment_job_id: Any = None) -> RegisteredModel:
        """The model's own description, as a `describe` event (`NAME#_describe#SEQ`)."""
        self._name(name)

        def update(reg: Registry) -> RegisteredModel:
            reg.describe(name, description=description or "", reason=_VIA_MLFLOW)
            return self._model_entity(reg, name)

        return self._call(update)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        raise _unsupported(
            "renaming a model", "its name is in every git tag and manifest; register the versions under the new name"
        )

    def delete_registered_model(self, name: str) -> None:
        raise _unsupported(
            "deleting a model", "modelreg keeps every version and event; archive its versions (stage 'Archived')"
        )

    def get_registered_model(self, name: str) -> RegisteredModel:
        self._name(name)
        return self._call(lambda reg: self._model_entity(reg, name))

    def get_latest_versions(self, name: str, stages: list[str] | None = None) -> list[MlflowModelVersion]:
        self._name(name)
        return self._call(lambda reg: self._latest(reg, name, stages))

    def set_registered_model_tag(self, name: str, tag: Any) -> None:
        self._name(name)
        self._call(lambda reg: reg.describe(name, tags=mlflowmap.tags({tag.key: tag.value}), reason=_VIA_MLFLOW))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._name(name)
        self._call(lambda reg: reg.describe(name, remove_tags=(mlflowmap.safe_key(key),), reason=_VIA_MLFLOW))

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Any = None,
        page_token: Any = None,
    ) -> PagedList[Any]:
        def search(reg: Registry) -> PagedList[Any]:
            filter_, order = mlflowsearch.models(filter_string, order_by)
            names = [summary.name for summary in reg.models()]
            found = mlflowsearch.matching(names, filter_, order, lambda name: SearchRecord(name=name))
            paged = mlflowsearch.page(found, max_results, page_token)
            return PagedList([self._model_entity(reg, name) for name in paged], paged.token)

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
        """Download the model through MLflow and register it as any `modelreg register` does."""
        self._name(name)
        with mlflow_errors():
            run_id = run_id or logged_model_run(model_id or _logged_model_id(source), self.tracking_uri)
        with tempfile.TemporaryDirectory(prefix="modelreg-mlflow-") as scratch:
            if local_model_path is not None and Path(local_model_path).exists():
                path = Path(local_model_path)
            else:
                with mlflow_errors():
                    path = download(source, scratch, self.tracking_uri)
            with mlflow_errors():
                facts = run_facts(run_id, self.tracking_uri) if run_id else RunFacts()
            origin = {
                "from": "MLflow",
                "source": source,
                "run_id": run_id,
                "experiment_id": facts.experiment_id,
                "model_id": model_id,
                "tracking_uri": self.tracking_uri,
            }

            def register(reg: Registry) -> MlflowModelVersion:
                mv = reg.register(
                    name,
                    path,
                    params=mlflowmap.params(facts.params),
                    metrics=mlflowmap.metrics(facts.metrics),
                    tags=mlflowmap.tags({t.key: t.value for t in tags or []}),
                    description=description or "",
                    run_id=run_id,
                    code_commit=facts.git_commit,
                    origin={k: v for k, v in origin.items() if v is not None},
                )
                return self._get(reg, ModelRef(name, version=mv.version))

            return self._call(register)

    def update_model_version(self, name: str, version: Any, description: str) -> MlflowModelVersion:
        self._name(name)
        number = self._version(version)

        def update(reg: Registry) -> MlflowModelVersion:
            reg.update(name, number, description=description or "")
            return self._get(reg, ModelRef(name, version=number))

        return self._call(update)

    def transition_model_version_stage(
        self, name: str, version: Any, stage: str, archive_existing_versions: bool
    ) -> MlflowModelVersion:
        """Staging/Production/Archived → a modelreg stage event; None → the version leaves its stage.

        `archive_existing_versions=True` is modelreg's single-holder archiving (previous holders of a
        `single_holder` stage are archived in the same event); False keeps them where they are.
        """
        self._name(name)
        number = self._version(version)

        def transition(reg: Registry) -> MlflowModelVersion:
            target = mlflowmap.to_modelreg_stage(stage, reg.config.stages)
            current = reg.state(name).stages.get(number)
            reg.reader.select(reg.state(name), ModelRef(name, version=number))
            if target is None:
                if current is not None:
                    reg.remove_stage(name, number, reason="MLflow: transition to stage None")
            elif current != target:
                reg.promote(name, number, target, keep_existing=not archive_existing_versions)
            return self._get(reg, ModelRef(name, version=number))

        return self._call(transition)

    def delete_model_version(self, name: str, version: Any) -> None:
        raise _unsupported(
            "deleting a model version",
            "versions and their events are immutable git tags; take it out of service with stage 'Archived' "
            "or by moving its aliases",
        )

    def get_model_version(self, name: str, version: Any) -> MlflowModelVersion:
        self._name(name)
        number = self._version(version)
        return self._call(lambda reg: self._get(reg, ModelRef(name, version=number)))

    def get_model_version_download_uri(self, name: str, version: Any) -> str:
        """A local directory holding the version's bytes, pulled and verified as `modelreg pull` does."""
        self._name(name)
        number = self._version(version)

        def pull(reg: Registry) -> str:
            mv = reg.resolve(ModelRef(name, version=number))
            directory = tempfile.mkdtemp(prefix=f"modelreg-{name}-v{number}-")
            _PULLED.append(directory)
            placed = reg.pull(mv, Path(directory) / "model")
            return str(placed)

        return self._call(pull)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Any = None,
        page_token: Any = None,
    ) -> PagedList[Any]:
        def search(reg: Registry) -> PagedList[Any]:
            filter_, order = mlflowsearch.versions(filter_string, order_by)
            names = mlflowsearch.names_wanted(filter_)
            found = []
            for summary in reg.models():
                if names is None or summary.name in names:
                    view = reg.model(summary.name)
                    found += [reg.reader.version(view, version) for version in view.state.versions]
            matched = mlflowsearch.matching(found, filter_, order, mlflowsearch.version_record)
            paged = mlflowsearch.page(matched, max_results, page_token)
            return PagedList([self._entity(reg, mv) for mv in paged], paged.token)

        return self._call(search)

    def set_model_version_tag(self, name: str, version: Any, tag: Any) -> None:
        self._name(name)
        number = self._version(version)
        self._call(lambda reg: reg.update(name, number, tags=mlflowmap.tags({tag.key: tag.value})))

    def delete_model_version_tag(self, name: str, version: Any, key: str) -> None:
        self._name(name)
        number = self._version(version)
        self._call(lambda reg: reg.update(name, number, remove_tags=(mlflowmap.safe_key(key),)))

    # --- aliases -----------------------------------------------------------------------------

    def set_registered_model_alias(self, name: str, alias: str, version: Any) -> None:
        self._name(name)
        number = self._version(version)

        def set_alias(reg: Registry) -> None:
            if reg.state(name).aliases.get(alias) != number:
                reg.set_alias(name, alias, number)

        self._call(set_alias)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._name(name)
        self._call(lambda reg: reg.remove_alias(name, alias))

    def get_model_version_by_alias(self, name: str, alias: str) -> MlflowModelVersion:
        self._name(name)
        return self._call(lambda reg: self._get(reg, ModelRef(name, alias=alias)))
