"""The MLflow plugin's checks and errors: MLflow's names, versions, tag keys, order keys and error codes."""

from __future__ import annotations

import atexit
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


@contextmanager
def mlflow_errors() -> Iterator[None]:
    """modelreg's errors as MlflowException, with the same one-line message the CLI prints."""
    try:
        yield
    except ModelregError as exc:
        code = next((code for kind, code in _CODES if isinstance(exc, kind)), INTERNAL_ERROR)
        raise MlflowException(f"modelreg: {exc}", error_code=code) from None


def lost_race(exc: ModelregError) -> bool:
    """A write git refused because another writer moved a ref first: nothing of it was written."""
    return isinstance(exc, LostRace) or (isinstance(exc, ConflictError) and LOCAL_RACE in str(exc))


def unsupported(what: str, instead: str) -> MlflowException:
    return MlflowException(f"modelreg: {what} is not supported: {instead}", error_code=INVALID_STATE)


def model_name(name: Any) -> str:
    """MLflow's model-name rule, the one `core.names` keeps for the CLI, the API and lint."""
    if name is None or (isinstance(name, str) and not name.strip()):
        raise MlflowException("Registered model name cannot be empty.", error_code=INVALID_PARAMETER_VALUE)
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


def tag_key(key: Any) -> str:
    if key is None or not str(key).strip():
        raise MlflowException("Tag name cannot be None or empty", error_code=INVALID_PARAMETER_VALUE)
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
