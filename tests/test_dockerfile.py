"""The Dockerfile builds what examples/kubernetes runs and docs/serving.md tells you to build (no docker daemon)."""

from __future__ import annotations

import re
import tomllib

import yaml

from tests.conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
BUILD = re.compile(r"docker build -t (\S+) \.")


def built_image() -> str:
    (image,) = set(BUILD.findall(DOCKERFILE))
    return image


def modelreg_containers() -> list[dict[str, object]]:
    docs = list(yaml.safe_load_all((ROOT / "examples" / "kubernetes" / "deployment.yaml").read_text()))
    pods = [d["spec"]["template"]["spec"] for d in docs if d and d.get("kind") == "Deployment"]
    found = []
    for pod in pods:
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            if container.get("args", [""])[0] == "sync":
                found.append({**container, "pod": pod})
    return found


def test_the_kubernetes_example_runs_the_image_the_dockerfile_builds():
    image = built_image()
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert image.endswith(f"/modelreg:{version}")
    containers = modelreg_containers()
    assert len(containers) == 2
    assert {c["image"] for c in containers} == {image}
    for container in containers:
        assert container["pod"]["securityContext"]["runAsUser"] == 10001  # type: ignore[index]
        if any(str(a).startswith("--exec=curl") for a in container["args"]):  # type: ignore[attr-defined]
            assert re.search(r"apt-get install[^\n]*\bcurl\b", DOCKERFILE)


def test_the_serving_page_gives_the_build_line():
    assert f"docker build -t {built_image()} ." in (ROOT / "docs" / "serving.md").read_text(encoding="utf-8")


def test_the_dockerfile_is_slim_non_root_with_git_and_modelreg_as_entrypoint():
    assert re.search(r"^FROM python:3\.\d+-slim$", DOCKERFILE, re.MULTILINE)
    assert re.search(r"apt-get install -y --no-install-recommends [^\n]*\bgit\b", DOCKERFILE)
    users = re.findall(r"^USER (\S+)$", DOCKERFILE, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert users[-1].split(":")[0] == "10001"
    assert 'ENTRYPOINT ["modelreg"]' in DOCKERFILE
    ignored = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if not line.startswith("#")]
    for source in re.findall(r"^COPY (.+) /src/?\S*$", DOCKERFILE, re.MULTILINE):
        for path in source.split():
            assert (ROOT / path).exists() and path not in ignored, path
