"""The bytes and run facts behind `create_model_version(source=…)`: any source MLflow itself can download.

- a local path or `file://` URI, `runs:/RUN/PATH`, an artifact-store URI, `models:/m-…` (a logged model):
  through MLflow's own `download_artifacts`;
- `models:/NAME/VERSION|STAGE`, `models:/NAME@ALIAS` of this registry (what `copy_model_version` hands
  in): pulled and verified from the registry itself.

A source nobody can read is an INVALID_PARAMETER_VALUE that names it; an unknown run is kept as the
version's `run_id` with no params or metrics (MLflow's stores do not check it either).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from modelreg.api import Registry
from modelreg.core.refs import parse_ref
from modelreg.errors import ModelregError, NotFoundError
from modelreg.importers.mlflow import RunFacts, download, logged_model_run, run_facts


def logged_model_id(source: str) -> str | None:
    """`models:/m-<id>` → `m-<id>`: MLflow 3 registers logged models by that URI."""
    rest = source.removeprefix("models:/") if source.startswith("models:/") else ""
    return rest if rest.startswith("m-") and "/" not in rest else None


class Unreadable(MlflowException):
    """A source nobody can read: INVALID_PARAMETER_VALUE naming it (or, with `sources=reference`, a reference)."""

    def __init__(self, source: object, why: str) -> None:
        super().__init__(
            f"modelreg: cannot read the model version's source {source!r}: {why}", error_code=INVALID_PARAMETER_VALUE
        )
        self.why = why


def unreadable(source: object, why: str) -> Unreadable:
    return Unreadable(source, why)


def reference_origin(source: str, why: str) -> dict[str, str]:
    """What a reference-only version's manifest records under `origin`: `pull` and serving refuse it (`missing`)."""
    return {
        "reference": source,
        "missing": f"reference-only: its source {source!r} could not be read when it was registered ({why})",
    }


def reference_note(name: str, source: str, why: str, scratch: Path) -> Path:
    """The one file a reference-only version holds: a note saying where its model was, never the model."""
    path = scratch / "REFERENCE-ONLY.txt"
    path.write_text(
        f"{name}: a reference-only version, registered through MLflow without its bytes.\n"
        f"Its source: {source}\nIt could not be read: {why}\n",
        encoding="utf-8",
    )
    return path


def fetch(reg: Registry, source: str, scratch: Path, tracking_uri: str | None, local_path: str | None) -> Path:
    """A local file or directory holding the source's bytes."""
    if not isinstance(source, str) or not source.strip():
        raise unreadable(source, "no source given")
    if local_path is not None and Path(local_path).exists():
        return Path(local_path)
    local = _local(source)
    if local is not None and local.exists():
        return local  # read in place: registering only reads (hashes and copies into the store)
    if source.startswith("models:/") and logged_model_id(source) is None:
        try:
            mv = reg.resolve(parse_ref(source))
            return reg.pull(mv, scratch / "model")
        except ModelregError as exc:
            raise unreadable(source, str(exc)) from None
    try:
        return download(source, scratch, tracking_uri)
    except ModelregError as exc:
        raise unreadable(source, str(exc).removeprefix(f"MLflow could not download {source}: ")) from None


def _local(source: str) -> Path | None:
    """The local path of a plain path or `file://` URI source (None for any other scheme)."""
    parsed = urlparse(source)
    if parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
        return Path(unquote(parsed.path))
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and source[1:2] == ":"):
        return Path(source)
    return None


def run_of(run_id: str | None, model_id: str | None, source: str, tracking_uri: str | None) -> str | None:
    """The run behind a version: given, or the run that logged the logged model it comes from."""
    return run_id or logged_model_run(model_id or logged_model_id(source), tracking_uri)


def facts(run_id: str | None, tracking_uri: str | None) -> RunFacts:
    """The run's params, metrics and commit; none for a run the tracking server does not know."""
    if not run_id:
        return RunFacts()
    try:
        return run_facts(run_id, tracking_uri)
    except NotFoundError:
        return RunFacts()
