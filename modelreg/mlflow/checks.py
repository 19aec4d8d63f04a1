"""The MLflow plugin's checks and errors: MLflow's names, versions, tag keys, order keys and error codes."""

from __future__ import annotations

import atexit
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    ABORTED,
    DATA_LOSS,
    INTERNAL_ERROR,
    INVALID_PARAMETER_VALUE,
    INVALID_STATE,
    PERMISSION_DENIED,
    RESOURCE_DOES_NOT_EXIST,
)
from mlflow.utils import validation

from modelreg.core import mlflowmap, names
from modelreg.errors import (
    ConfigError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    LostRace,
    ModelregError,
    NotFoundError,
    ReviewRequired,
)
from modelreg.models import Scalar

_CODES: tuple[tuple[type[ModelregError], int], ...] = (
    (ReviewRequired, PERMISSION_DENIED),
    (NotFoundError, RESOURCE_DOES_NOT_EXIST),
    (ConflictError, ABORTED),
    (IntegrityError, DATA_LOSS),
    (ConfigError, INVALID_STATE),
    (InvalidInputError, INVALID_PARAMETER_VALUE),
)
PULLED: list[str] = []  # directories handed to MLflow as download URIs: removed when the process ends
LOCAL_RACE = "another writer changed the repository at the same time"
VIA_MLFLOW = "set through MLflow's registry API"
DELETED = "deleted through MLflow's registry API"
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
    if " has no version " in message or "has no alias" in message:
        return ""
    return f"Registered Model with name={about.name} not found: "


def lost_race(exc: ModelregError) -> bool:
    """A write git refused because another writer moved a ref first: nothing of it was written."""
    return isinstance(exc, LostRace) or (isinstance(exc, ConflictError) and LOCAL_RACE in str(exc))


def unsupported(what: str, instead: str) -> MlflowException:
    return MlflowException(f"modelreg: {what} is not supported: {instead}", error_code=INVALID_STATE)


def model_name(name: Any) -> str:
    """MLflow's model-name rule (its own check, its own words), the one `core.names` keeps for the CLI and API."""
    validation._validate_model_name(name)
    problem = names.model_name_problem(name)
    if problem is not None:
        raise MlflowException(f"modelreg: {problem}", error_code=INVALID_PARAMETER_VALUE)
    return str(name)


def version_number(version: object) -> int:
    try:
        number = int(str(version))
    except ValueError:
        number = 0
    if number < 1:
        raise MlflowException(f"modelreg: {version!r} is not a version number", error_code=INVALID_PARAMETER_VALUE)
    return number


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


def tag_key(key: Any) -> str:
    """A version tag's key as MLflow checks it, then as a manifest key (`mlflowmap.safe_key`)."""
    tag_name(key)
    return mlflowmap.safe_key(str(key))


def model_order(order_by: Any) -> list[tuple[str, bool]]:
    """MLflow's `order_by` of registered models: name, last_updated_timestamp (timestamp), each ASC or DESC."""
    keys: list[tuple[str, bool]] = []
    for clause in order_by or []:
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
