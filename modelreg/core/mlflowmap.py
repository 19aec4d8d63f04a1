"""MLflow's registry vocabulary ↔ modelreg's: stages, URIs, times, keys. Pure: no I/O, no `mlflow` import.

Shared by the MLflow plugin (`mlflow_store`) and `modelreg import mlflow` (`importers.mlflow`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlparse

from modelreg.core.values import coerce
from modelreg.errors import InvalidInputError
from modelreg.models import Scalar

SCHEME = "modelreg"
MLFLOW_STAGES = ("None", "Staging", "Production", "Archived")
_BAD_KEY_CHARS = re.compile(r"[^A-Za-z0-9_.\-/]")


SOURCES_CHOICES = ("read", "reference")


def registry_options(uri: str) -> dict[str, str]:
    """The store URI's query options: `modelreg:///repo?sources=reference` (docs/mlflow.md)."""
    options: dict[str, str] = {}
    for key, values in parse_qs(urlparse(uri).query, keep_blank_values=True).items():
        if key != "sources" or len(values) != 1 or values[0] not in SOURCES_CHOICES:
            raise InvalidInputError(
                f"{uri!r}: the only option of a modelreg registry URI is sources=read (the default) or "
                "sources=reference (a source nobody can read is registered by reference, without bytes)"
            )
        options[key] = values[0]
    return options


def registry_path(uri: str) -> str:
    """`modelreg:///abs/path/to/repo` → `/abs/path/to/repo` (its query holds options: registry_options)."""
    parsed = urlparse(uri)
    if parsed.scheme != SCHEME:
        raise InvalidInputError(f"{uri!r} is not a modelreg registry URI: write modelreg:///absolute/path/to/repo")
    if parsed.netloc not in ("", "localhost"):
        raise InvalidInputError(
            f"{uri!r}: a modelreg registry URI names a local git repository, modelreg:///absolute/path "
            "(three slashes), not a host"
        )
    path = unquote(parsed.path)
    if not path.startswith("/"):
        raise InvalidInputError(f"{uri!r}: give the repository's absolute path, modelreg:///absolute/path/to/repo")
    return path


def to_modelreg_stage(stage: str | None, configured: tuple[str, ...]) -> str | None:
    """MLflow's stage name → modelreg's (`Production` → `production`); None for MLflow's "None"."""
    if stage is None or stage.strip().lower() == "none":
        return None
    lowered = stage.strip().lower()
    if lowered not in configured:
        allowed = ", ".join(["None", *(s.capitalize() for s in configured)])
        raise InvalidInputError(f"stage {stage!r} is not configured in this registry (stages: {allowed})")
    return lowered


def to_mlflow_stage(stage: str | None) -> str:
    """modelreg's stage → the name MLflow shows (`production` → `Production`, no stage → `None`)."""
    if stage is None:
        return "None"
    return next((s for s in MLFLOW_STAGES if s.lower() == stage), stage)


def millis(iso: str) -> int:
    """A manifest's or git's ISO 8601 time → MLflow's milliseconds since the epoch."""
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return 0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def git_date(ms: int | None) -> str | None:
    """MLflow's milliseconds → a date git takes (`@<seconds> +0000`)."""
    return None if ms is None else f"@{ms // 1000} +0000"


def iso_time(ms: int | None) -> str | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def safe_key(key: str) -> str:
    """An MLflow param/metric/tag key as a manifest key: characters a manifest key may not hold become `_`."""
    fixed = _BAD_KEY_CHARS.sub("_", key)
    return fixed if fixed[:1].isalnum() or fixed[:1] == "_" else f"_{fixed}"


def params(values: Mapping[str, str]) -> dict[str, Scalar]:
    """MLflow params (always text) as `--param KEY=VALUE` would record them: numbers become numbers."""
    return {safe_key(k): coerce(v) for k, v in sorted(values.items())}


def metrics(values: Mapping[str, float]) -> dict[str, Scalar]:
    """MLflow's latest metric values; NaN and infinities (which a manifest cannot hold) become text."""
    return {safe_key(k): (v if v == v and abs(v) != float("inf") else str(v)) for k, v in sorted(values.items())}


def tags(values: Mapping[str, str]) -> dict[str, Scalar]:
    """Version tags keep MLflow's text values (a tag `"007"` stays `"007"`)."""
    return {safe_key(k): v for k, v in sorted(values.items())}


def model_name(name: str) -> str:
    """A slug for a name (`Fraud Detector` → `fraud-detector`): GTO artifacts, MLflow imports before names were kept."""
    lowered = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")
    return lowered[:100].rstrip("-") or "model"
