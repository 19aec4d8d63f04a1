"""examples/kubernetes/ validated against Kubernetes' own JSON schemas (kubernetes-validate, offline), strictly."""

from __future__ import annotations

import copy
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelreg.cli.commands import app

kubernetes_validate = pytest.importorskip(
    "kubernetes_validate", reason="kubernetes-validate is not installed (it comes with the project's test extra)"
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "kubernetes"


def documents() -> list[dict[str, Any]]:
    found = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        found += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def validate(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


def test_every_example_is_a_valid_resource():
    docs = documents()
    assert {d["kind"] for d in docs} == {"Deployment", "Secret"}
    for doc in docs:
        validate(doc)


def test_the_validator_rejects_a_broken_deployment():
    (deployment,) = [d for d in documents() if d["kind"] == "Deployment"]
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["initContainers"][0]["volumeMount"] = []  # misspelt: strict rejects it
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(broken)


def sync_args(container: dict[str, Any]) -> list[str]:
    assert container["args"][0] == "sync"
    return [str(a) for a in container["args"]]


def test_the_init_container_pulls_once_and_the_sidecar_follows_on_a_shared_volume():
    (deployment,) = [d for d in documents() if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (init,) = pod["initContainers"]
    sidecar = next(c for c in pod["containers"] if c["name"] == "modelreg-sync")
    assert "--once" in sync_args(init) and "--once" not in sync_args(sidecar)
    volumes = {v["name"]: v for v in pod["volumes"]}
    for container in (init, sidecar):
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert "emptyDir" in volumes["models"] and mounts["models"] == "/models"
        assert any(a == "--dest=/models" for a in sync_args(container))
        assert container["envFrom"] == [{"secretRef": {"name": "modelreg-credentials"}}]
    app_container = next(c for c in pod["containers"] if c["name"] == "server")
    assert app_container["volumeMounts"][0]["readOnly"] is True


def test_the_examples_use_only_options_sync_has():
    """Every --option in the manifests exists on `modelreg sync` (a renamed option breaks this test, not a pod)."""
    import typer.main

    command = typer.main.get_command(app).commands["sync"]  # type: ignore[attr-defined]
    known = {opt for param in command.params for opt in param.opts}
    (deployment,) = [d for d in documents() if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    for container in [*pod["initContainers"], pod["containers"][1]]:
        for arg in sync_args(container)[2:]:
            assert arg.split("=", 1)[0] in known, arg
    hook = next(a for a in sync_args(pod["containers"][1]) if a.startswith("--exec="))
    assert shlex.split(hook.removeprefix("--exec="))[0] == "curl"  # run without a shell: split like one


def test_the_secret_holds_placeholders_only():
    (secret,) = [d for d in documents() if d["kind"] == "Secret"]
    values = secret["stringData"]
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "GIT_CONFIG_VALUE_0"} <= set(values)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "GIT_CONFIG_VALUE_0"):
        assert "REPLACE-WITH" in values[key]
