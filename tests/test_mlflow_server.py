"""The plugin behind MLflow's own tracking server, over REST, as `mlflow server --registry-store-uri modelreg://…`.

A real server on 127.0.0.1 (MLflow's FastAPI app under uvicorn, in a thread) and MLflow's REST client; the
client's registry URI is the server's URL, never the store's, so every call goes over HTTP.
"""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
import uvicorn
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.server import handlers
from mlflow.server.fastapi_app import app
from mlflow.tracking._model_registry import utils as registry_utils

from modelreg.mlflow.store import ModelregRegistryStore
from tests.servers import free_ports

pytestmark = pytest.mark.slow


@pytest.fixture
def server(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """MLflow's server with the plugin as its registry store (put where `initialize_backend_stores` looks first)."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # an answer the client would retry fails at once
    # a registry URI another test set would send MlflowClient(url) to that store instead of the server
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    monkeypatch.setattr(registry_utils, "_registry_uri", None)
    db = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setattr(handlers, "_tracking_store", None)
    monkeypatch.setattr(
        handlers, "_model_registry_store", ModelregRegistryStore(f"modelreg://{repo}?sources=reference", db)
    )
    handlers.initialize_backend_stores(db, default_artifact_root=(tmp_path / "artifacts").as_uri())
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", ws="none")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1)
                break
            except OSError:
                threading.Event().wait(0.1)
        else:
            raise RuntimeError(f"MLflow's server at {url} did not start")
        yield url
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        mlflow.set_tracking_uri(None)  # initialize_backend_stores made the sqlite file the process's tracking URI


def test_versions_and_refusals_over_mlflow_rest_api(repo: Path, server: str) -> None:
    client = MlflowClient(server)
    assert client._get_registry_client().store.__class__.__name__ == "RestStore"
    client.create_registered_model("churn")
    made = client.create_model_version("churn", "runs:/run-1/model", "run-1")
    assert (made.version, made.source, made.run_id) == ("1", "runs:/run-1/model", "run-1")  # REST's string
    assert [mv.version for mv in client.search_model_versions("source_path = 'runs:/run-1/model'")] == ["1"]
    client.delete_model_version("churn", "1")
    client.create_model_version("churn", "runs:/run-2/model", "run-2")
    with pytest.raises(MlflowException) as caught:  # refused with an answer, not a 500 the client retries
        client.rename_registered_model("churn", "attrition")
    assert caught.value.error_code == "NOT_IMPLEMENTED" and "churn has deleted versions (v1)" in caught.value.message
    assert client.get_registered_model("churn").name == "churn"
    client.create_registered_model("scored")
    client.create_model_version("scored", "runs:/run-3/model", "run-3")
    client.rename_registered_model("scored", "rated")  # its version registered again under the new name
    assert [(mv.version, mv.source) for mv in client.search_model_versions("name = 'rated'")] == [
        ("1", "runs:/run-3/model")
    ]
    # a model with no version yet is renamed (events), over REST as in-process
    created = client.create_registered_model("empty", description="not yet trained")
    client.rename_registered_model("empty", "still empty")
    renamed = client.get_registered_model("still empty")
    assert (renamed.description, renamed.creation_timestamp) == ("not yet trained", created.creation_timestamp)
    with pytest.raises(MlflowException) as caught:
        client.get_registered_model("empty")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
