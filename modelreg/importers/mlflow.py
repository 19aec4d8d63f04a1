"""Reading an MLflow tracking server and registry: runs, model versions, their bytes. Imports `mlflow`.

Used by `modelreg import mlflow` and by the plugin (`mlflow_store`) to download a version's
source and read the run that made it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict, Unpack

from modelreg.core import names
from modelreg.core.progress import Progress
from modelreg.errors import InvalidInputError, NotFoundError, StoreError
from modelreg.importers import apply
from modelreg.importers.mlflow_plan import MlflowModel, MlflowVersion, RunFacts, earlier_name, key_name, plan
from modelreg.importers.plan import VersionStep
from modelreg.publish.publisher import Publisher
from modelreg.read.reader import Reader
from modelreg.results import ImportReport

__all__ = ["RunFacts", "download", "import_registry", "logged_model_run", "run_facts"]

GIT_COMMIT_TAG = "mlflow.source.git.commit"
REGISTERED_META = "registered_model_meta"


def _mlflow_error(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return message.splitlines()[0] if message else type(exc).__name__


def download(source: str, scratch: str | Path, tracking_uri: str | None, registry_uri: str | None = None) -> Path:
    """The artifacts at an MLflow URI (`runs:/…`, `models:/m-…`, a store URI) in a local directory."""
    import mlflow.artifacts  # mlflow is an extra: loaded only by `import mlflow`
    from mlflow.exceptions import MlflowException

    try:
        if registry_uri is not None and source.startswith("models:/") and not source.startswith("models:/m-"):
            from mlflow.tracking import MlflowClient

            name, _, version = source.removeprefix("models:/").partition("/")
            client = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)
            source = client.get_model_version_download_uri(name, version)
        where = mlflow.artifacts.download_artifacts(
            artifact_uri=source, dst_path=str(scratch), tracking_uri=tracking_uri
        )
    except MlflowException as exc:
        raise StoreError(f"MLflow could not download {source}: {_mlflow_error(exc)}") from None
    except OSError as exc:
        raise StoreError(f"MLflow could not download {source}: {exc}") from None
    # MLflow's marker of which registry name/version a download came from: not part of the model.
    if Path(where).is_dir():
        (Path(where) / REGISTERED_META).unlink(missing_ok=True)
    return Path(where)


def run_facts(run_id: str | None, tracking_uri: str | None) -> RunFacts:
    """Params, latest metrics, git commit and experiment of an MLflow run."""
    if not run_id:
        return RunFacts()
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        run = MlflowClient(tracking_uri=tracking_uri).get_run(run_id)
    except MlflowException as exc:
        raise NotFoundError(f"MLflow has no run {run_id!r}: {_mlflow_error(exc)}") from None
    return RunFacts(
        params=dict(run.data.params),
        metrics=dict(run.data.metrics),
        git_commit=run.data.tags.get(GIT_COMMIT_TAG),
        experiment_id=run.info.experiment_id,
    )


def logged_model_run(model_id: str | None, tracking_uri: str | None) -> str | None:
    """The run that logged an MLflow 3 "logged model" (`models:/m-…`), when MLflow knows it."""
    if not model_id:
        return None
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        run_id = MlflowClient(tracking_uri=tracking_uri).get_logged_model(model_id).source_run_id
    except MlflowException:
        return None
    return run_id if isinstance(run_id, str) and run_id else None


def _read_models(client: Any, names: list[str]) -> list[MlflowModel]:
    from mlflow.exceptions import MlflowException

    try:
        if names:
            found = [client.get_registered_model(name) for name in names]
        else:
            found = _all_pages(client.search_registered_models)
        models = []
        for rm in sorted(found, key=lambda m: m.name):
            versions = _all_pages(client.search_model_versions, _name_filter(rm.name))
            models.append(
                MlflowModel(
                    name=rm.name,
                    description=rm.description or "",
                    tags=dict(rm.tags or {}),
                    aliases={alias: int(version) for alias, version in (rm.aliases or {}).items()},
                    updated_ms=rm.last_updated_timestamp,
                    versions=tuple(
                        MlflowVersion(
                            name=mv.name,
                            version=int(mv.version),
                            created_ms=mv.creation_timestamp,
                            updated_ms=mv.last_updated_timestamp,
                            user=mv.user_id,
                            stage=mv.current_stage or "None",
                            description=mv.description or "",
                            source=mv.source,
                            run_id=mv.run_id or None,
                            tags=dict(mv.tags or {}),
                            model_id=getattr(mv, "model_id", None),
                        )
                        for mv in versions
                    ),
                )
            )
    except MlflowException as exc:
        raise NotFoundError(f"MLflow: {_mlflow_error(exc)}") from None
    return models


PAGE = 1000  # results a search asks MLflow for at a time


def _all_pages(search: Callable[..., Any], *args: Any) -> list[Any]:
    """Every result of an MLflow search (`search(*args)`), page after page."""
    page = search(*args, max_results=PAGE)
    found = list(page)
    while page.token:
        page = search(*args, max_results=PAGE, page_token=page.token)
        found += list(page)
    return found


def _name_filter(name: str) -> str:
    """MLflow's filter for one model's versions: the name quoted with a quote it does not hold."""
    quote = "'" if "'" not in name else '"'
    if quote in name:
        raise InvalidInputError(f"MLflow model {name!r}: MLflow's filter language cannot quote a name holding ' and \"")
    return f"name = {quote}{name}{quote}"


def imported_earlier(reader: Reader, models: list[MlflowModel]) -> dict[str, set[str]]:
    """For each modelreg model `models` could go to (its exact name, its slug): the MLflow models whose
    versions earlier imports wrote there, by their payload's `imported.key` (`MLflow:Churn Model:3`).

    Imports kept only slugs (`Churn Model` → `churn-model`) before they kept names exactly.
    """
    found: dict[str, set[str]] = {}
    for model in models:
        for name in {earlier_name(model.name), model.name} - found.keys():
            if names.model_name_problem(name) is None:
                keys = apply.imported(reader, name).versions
                found[name] = {theirs for key in keys if (theirs := key_name(key)) is not None}
    return found


class ImportArgs(TypedDict, total=False):
    """`Registry.import_mlflow`'s keywords."""

    tracking_uri: str | None
    registry_uri: str | None
    dry_run: bool
    progress: Progress | None


def import_registry(reader: Reader, publisher: Publisher, names: list[str], **args: Unpack[ImportArgs]) -> ImportReport:
    """Bring MLflow's registered models (all, or `names`); again later, only what is new."""
    tracking_uri, registry_uri = args.get("tracking_uri"), args.get("registry_uri")
    dry_run, progress = args.get("dry_run", False), args.get("progress")
    try:
        from mlflow.tracking import MlflowClient  # mlflow is an extra: `modelreg[mlflow]`
    except ImportError:
        raise InvalidInputError("importing from MLflow needs mlflow: pip install 'modelreg[mlflow]'") from None

    if registry_uri is not None and registry_uri.startswith("modelreg:"):
        raise InvalidInputError("--registry-uri names a modelreg registry: import from MLflow's own registry")
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)
    models = _read_models(client, names)
    runs: dict[str, RunFacts] = {}
    for model in models:
        for mv in model.versions:
            if mv.run_id and mv.run_id not in runs:
                try:
                    runs[mv.run_id] = run_facts(mv.run_id, tracking_uri)
                except NotFoundError:
                    runs[mv.run_id] = RunFacts()
    the_plan = plan(models, runs, reader.config.stages, tracking_uri, imported_earlier(reader, models))
    resolved_registry = registry_uri or client._registry_uri

    def fetch(step: VersionStep, scratch: Path) -> Path:
        name, version = step.imported["name"], step.imported["version"]
        return download(f"models:/{name}/{version}", scratch, tracking_uri, resolved_registry)

    return apply.run(reader, publisher, the_plan, "MLflow", fetch, dry_run=dry_run, progress=progress)
