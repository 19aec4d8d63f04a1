"""The MLflow plugin's checks and errors: MLflow's names, versions, tag keys, order keys and error codes."""

from __future__ import annotations

import atexit
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple

from mlflow.entities.model_registry.model_version_stages import get_canonical_stage
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    ABORTED,
    DATA_LOSS,
    INTERNAL_ERROR,
    INVALID_PARAMETER_VALUE,
    INVALID_STATE,
    NOT_IMPLEMENTED,
    PERMISSION_DENIED,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
)
from mlflow.utils import validation
from mlflow.utils.search_utils import SearchModelUtils

from modelreg.core import mlflowmap, names
from modelreg.errors import (
    ConfigError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    LostRace,
    ModelregError,
    NotFoundError,
    NotSupported,
    ReviewRequired,
)
from modelreg.models import Scalar

_CODES: tuple[tuple[type[ModelregError], int], ...] = (
    (ReviewRequired, PERMISSION_DENIED),
    (NotSupported, NOT_IMPLEMENTED),  # HTTP 501 behind MLflow's server: an answer, where a 500 is retried
    (NotFoundError, RESOURCE_DOES_NOT_EXIST),
    (ConflictError, ABORTED),
    (IntegrityError, DATA_LOSS),
    (ConfigError, INVALID_STATE),
    (InvalidInputError, INVALID_PARAMETER_VALUE),
)
PROMPT_TAG = "mlflow.prompt.is_prompt"  # MLflow's prompts are registered models with this tag 'true'
PULLED: list[str] = []  # directories handed to MLflow as download URIs: removed when the process ends
LOCAL_RACE = "another writer changed the repository at the same time"
VIA_MLFLOW = "set through MLflow's registry API"
DELETED = "deleted through MLflow's registry API"
RENAMED = "through MLflow's registry API"  # ops.rename: "renamed to NEW (through MLflow's registry API)"
MODEL_ORDER = {
    "name": "name",
    "timestamp": "last_updated_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
}
MODEL_ORDER |= {"creation_timestamp": "creation_timestamp"}


@atexit.register
def _remove_pulled() -> None:
    for directory in PULLED:
        shutil.rmtree(directory, ignore_errors=True)


class About(NamedTuple):
    """What a call is about: a missing one is named in MLflow's words."""

    name: str
    version: int | None = None
    alias: str | None = None


@contextmanager
def mlflow_errors(about: About | None = None) -> Iterator[None]:
    """modelreg's errors as MlflowException, with the same one-line message the CLI prints.

    Something missing starts with MLflow's own words for it (`Registered Model with name=… not found`,
    `Model Version (name=…, version=…) not found`, `Registered model alias … not found.`), then modelreg's.
    """
    try:
        yield
    except ModelregError as exc:
        code = next((code for kind, code in _CODES if isinstance(exc, kind)), INTERNAL_ERROR)
        words = _missing(about, str(exc)) if isinstance(exc, NotFoundError) and about is not None else ""
        raise MlflowException(f"{words}modelreg: {exc}", error_code=code) from None


def _missing(about: About, message: str) -> str:
    if about.alias is not None and "has no alias" in message:
        return f"Registered model alias {about.alias} not found. "
    if about.version is not None and " has no version " in message:
        return f"Model Version (name={about.name}, version={about.version}) not found: "
    if "no model named" in message or f"{about.name} was deleted (" in message or "takes effect" in message:
        return f"Registered Model with name={about.name} not found: "
    return ""  # something else is missing (a version's bytes, a stage's holder): modelreg's words say what


def lost_race(exc: ModelregError) -> bool:
    """A write git refused because another writer moved a ref first: nothing of it was written."""
    return isinstance(exc, LostRace) or (isinstance(exc, ConflictError) and LOCAL_RACE in str(exc))


def model_name(name: Any) -> str:
    """MLflow's model-name rule (its own check, its own words), the one `core.names` keeps for the CLI and API."""
    validation._validate_model_name(name)
    problem = names.model_name_problem(name)
    if problem is not None:
        raise MlflowException(f"modelreg: {problem}", error_code=INVALID_PARAMETER_VALUE)
    return str(name)


def version_number(version: object) -> int:
    validation._validate_model_version(version)  # type: ignore[no-untyped-call]  # MLflow's words for a non-integer
    try:
        number = int(str(version))
    except ValueError:
        number = 0
    if number < 1:
        raise MlflowException(f"modelreg: {version!r} is not a version number", error_code=INVALID_PARAMETER_VALUE)
    return number


def already_exists(name: str, existing: Mapping[str, Any], wanted: Mapping[str, Any]) -> MlflowException:
    """MLflow's words for a name taken by a registered model or a prompt (a model tagged as one)."""
    was, asked = (str(tags.get(PROMPT_TAG, "")).lower() == "true" for tags in (existing, wanted))
    if was == asked:
        message = f"{'Prompt' if was else 'Registered Model'} (name={name}) already exists."
    else:
        made, taken = ("prompt", "registered model") if asked else ("registered model", "prompt")
        message = f"Tried to create a {made} with name '{name}', but the name is already taken by a {taken}."
    return MlflowException(message, error_code=RESOURCE_ALREADY_EXISTS)


def stage(name: str, configured: tuple[str, ...]) -> str | None:
    """modelreg's stage for MLflow's; one neither has is refused in MLflow's words."""
    try:
        return mlflowmap.to_modelreg_stage(name, configured)
    except InvalidInputError:
        get_canonical_stage(name)  # type: ignore[no-untyped-call]  # MLflow refuses a stage it does not know
        raise


def archiving(stage: str, archive_existing_versions: bool) -> None:
    """MLflow archives existing versions only on a move to an active stage (Staging, Production)."""
    if archive_existing_versions and str(stage).strip().lower() not in ("staging", "production"):
        raise MlflowException(
            "Model version transition cannot archive existing model versions because "
            f"'{stage}' is not an Active stage. Valid stages are ['Staging', 'Production']",
            error_code=INVALID_PARAMETER_VALUE,
        )


def tag_name(key: Any) -> str:
    """A tag's key as MLflow checks it (not None, not empty)."""
    validation._validate_tag_name(key)  # type: ignore[no-untyped-call]
    return str(key)


def model_tags(tags: Any) -> dict[str, Scalar]:
    """A registered model's tags (MLflow's RegisteredModelTag list, or a dict) as MLflow checks them: kept exactly."""
    pairs = tags.items() if isinstance(tags, dict) else ((t.key, t.value) for t in tags or [])
    found: dict[str, Scalar] = {}
    for key, value in pairs:
        validation._validate_registered_model_tag(key, value)  # type: ignore[no-untyped-call]
        found[str(key)] = "" if value is None else str(value)
    return found


def tag_key(key: Any, value: Any = "") -> str:
    """A version tag's key (and value) as MLflow checks them: the key is kept exactly, as a model tag's is."""
    tag_name(key)
    validation._validate_model_version_tag(key, value)  # type: ignore[no-untyped-call]
    return str(key)


VERSION_ORDER = {
    "name": "name",
    "version_number": "version",
    "creation_timestamp": "creation_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
    "timestamp": "last_updated_timestamp",
}


def version_order(order_by: Any) -> list[tuple[str, bool]] | None:
    """MLflow's order of versions (its attributes, in milliseconds; by default last updated first), then by name
    and newest version; None when `order_by` names modelreg's fields (metrics, params…): modelreg orders those."""
    keys: list[tuple[str, bool]] = []
    for clause in order_by or ["last_updated_timestamp DESC"]:
        field, _, direction = str(clause).strip().partition(" ")
        direction = direction.strip().upper() or "ASC"
        if field not in VERSION_ORDER or direction not in ("ASC", "DESC"):
            return None
        keys.append((VERSION_ORDER[field], direction == "DESC"))
    for attr, descending in (("name", False), ("version", True)):
        if all(field != attr for field, _ in keys):
            keys.append((attr, descending))
    return keys


def model_order(order_by: Any) -> list[tuple[str, bool]]:
    """MLflow's `order_by` of registered models: name, last_updated_timestamp (timestamp), each ASC or DESC."""
    keys: list[tuple[str, bool]] = []
    for clause in order_by or []:
        SearchModelUtils.parse_order_by_for_search_registered_models(clause)  # type: ignore[no-untyped-call]
        field, _, direction = str(clause).strip().partition(" ")
        direction = direction.strip().upper() or "ASC"
        if field not in MODEL_ORDER or direction not in ("ASC", "DESC"):
            raise MlflowException(
                f"Invalid order by key '{clause}' specified. Valid keys are 'name', 'timestamp' and "
                "'last_updated_timestamp', each optionally followed by ASC or DESC",
                error_code=INVALID_PARAMETER_VALUE,
            )
        keys.append((MODEL_ORDER[field], direction == "DESC"))
    if not any(field == "name" for field, _ in keys):
        keys.append(("name", False))
    return keys
