"""`modelreg import gto` on a repository made by the real `gto` CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from modelreg.api import Registry
from modelreg.errors import NotFoundError
from modelreg.importers.gto_dvcyaml import entries, inside
from tests.conftest import git

pytestmark = pytest.mark.slow

GTO = Path(sys.executable).parent / "gto"
AUTHOR = {"GIT_COMMITTER_NAME": "Ann Author", "GIT_COMMITTER_EMAIL": "ann@example.com"}


class Gto:
    """Runs `gto` in a repository as Ann (GTO dates its tags by the clock, whatever git's variables say)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def env(self) -> dict[str, str]:
        return {**os.environ, **AUTHOR}

    def __call__(self, *args: str) -> str:
        proc = subprocess.run([str(GTO), *args], cwd=self.path, env=self.env(), capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def commit(self, message: str) -> None:
        subprocess.run(["git", "add", "-A"], cwd=self.path, check=True, env=self.env())
        subprocess.run(["git", "commit", "-q", "-m", message], cwd=self.path, check=True, env=self.env())

    def show(self) -> Any:
        return json.loads(self("show", "--json"))


@pytest.fixture
def gto_repo(tmp_path: Path) -> Path:
    path = tmp_path / "gto-models"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    gto = Gto(path)
    (path / "artifacts.yaml").write_text(
        "churn:\n  type: model\n  path: models/churn.pkl\n  description: churn model\n"
        "fraud:\n  type: model\n  path: models/fraud.onnx\n  labels: [risk]\n"
    )
    (path / "models").mkdir()
    (path / "models" / "churn.pkl").write_bytes(b"churn weights 1")
    (path / ".gitignore").write_text("models/fraud.onnx\n")
    gto.commit("first models")
    gto("register", "churn")
    gto("register", "fraud")
    (path / "models" / "churn.pkl").write_bytes(b"churn weights 2")
    gto.commit("retrain churn")
    gto("register", "churn", "--bump-minor")
    gto("assign", "churn", "--version", "v0.0.1", "--stage", "dev")
    gto("assign", "churn", "--version", "v0.0.1", "--stage", "prod")
    gto("assign", "churn", "--version", "v0.1.0", "--stage", "dev")
    gto("assign", "fraud", "--version", "v0.0.1", "--stage", "prod")
    gto("deprecate", "fraud", "v0.0.1", "prod")
    return path


def stages_as_gto(reg: Registry, name: str, back: dict[str, str]) -> dict[str, str]:
    """modelreg's stage holders in GTO's words: {"prod": "v0.0.1", …}."""
    state = reg.state(name)
    found = {}
    for stage in reg.config.stages:
        holder = state.stage_holder(stage)
        if holder is not None:
            found[back[stage]] = reg.resolve(f"{name}@{holder}").manifest.tags["gto_version"]
    return found


def test_import_gto_matches_gto_show(repo: Path, gto_repo: Path, tmp_path: Path) -> None:
    shown = Gto(gto_repo).show()
    assert shown["churn"]["stage"] == {"dev": "v0.1.0", "prod": "v0.0.1"}

    report = Registry.open(repo).import_gto(gto_repo, stage_map={"dev": "staging"})
    assert [(r["name"], r["version"], r["from"]) for r in report.registered] == [
        ("churn", 1, "GTO churn@v0.0.1"),
        ("churn", 2, "GTO churn@v0.1.0"),
        ("fraud", 1, "GTO fraud@v0.0.1"),
    ]
    reg = Registry.open(repo)
    back = {"staging": "dev", "production": "prod", "archived": "archived"}
    for name, facts in shown.items():
        assert stages_as_gto(reg, name, back) == {k: v for k, v in facts["stage"].items() if v}
        latest = reg.resolve(name).manifest.tags["gto_version"]
        assert latest == facts["version"]

    # Authors, dates and GTO's tag names come along.
    fmt = "--format=%(taggername) <%(taggeremail:trim)> %(taggerdate:iso-strict)"
    original = git(gto_repo, "tag", "-l", fmt, "churn#prod#2").strip()
    assert original.startswith("Ann Author <ann@example.com> ")
    assert git(repo, "tag", "-l", fmt, "churn#production#*").strip() == original
    body = git(repo, "tag", "-l", "--format=%(contents:body)", "churn#production#*")
    assert json.loads(body)["imported"]["tag"] == "churn#prod#2"

    # Bytes committed in the GTO repository are registered; missing ones are explained on pull.
    pulled = reg.pull("churn/production", tmp_path / "out")
    assert pulled.read_bytes() == b"churn weights 1"
    with pytest.raises(NotFoundError, match=r"fraud v1 has no model bytes: .*models/fraud.onnx was not committed"):
        reg.pull("fraud@1", tmp_path / "out2")
    assert reg.resolve("fraud@1").manifest.tags["gto_labels"] == "risk"

    refs = git(repo, "for-each-ref")
    again = Registry.open(repo).import_gto(gto_repo, stage_map={"dev": "staging"})
    assert (again.registered, again.events) == ([], [])
    assert git(repo, "for-each-ref") == refs

    # New GTO tags come over on the next run.
    Gto(gto_repo)("assign", "churn", "--version", "v0.1.0", "--stage", "prod")
    later = Registry.open(repo).import_gto(gto_repo, stage_map={"dev": "staging"})
    assert [(e["version"], e["target"]) for e in later.events] == [(2, "production")]
    assert stages_as_gto(Registry.open(repo), "churn", back) == {"prod": "v0.1.0"}


def test_import_gto_cli_names_unmapped_stages(repo: Path, gto_repo: Path, cli: Any) -> None:
    result = cli("import", "gto", "--repo", gto_repo, "--dry-run")
    assert result.code == 0, result.err
    assert "GTO stage 'dev' maps to no configured stage (map it with --stage dev=STAGE" in result.err
    assert git(repo, "tag") == ""
    bad = cli("import", "gto", "--repo", gto_repo, "--stage", "dev=qa")
    assert bad.code == 1 and bad.err == "error: --stage dev=qa: 'qa' is not a configured stage\n"


@pytest.fixture
def example_gto(tmp_path: Path) -> Path:
    """iterative/example-gto's layout: artifacts declared in dvc.yaml (GTO >= 1.0), churn.pkl committed, two in S3."""
    path = tmp_path / "example-gto"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    gto = Gto(path)
    (path / "dvc.yaml").write_text(
        "artifacts:\n"
        "  churn:\n    type: model\n    path: models/churn.pkl\n"
        "    desc: predicts churn\n    labels: [tabular, churn]\n"
        "  segment:\n    type: model\n    path: s3://mycorp/proj-ml/segm-model-2022-04-15.pt\n"
        "  cv-class:\n    type: model\n    path: s3://mycorp/proj-ml/classif-v2.pt\n"
    )
    (path / "models").mkdir()
    (path / "models" / "churn.pkl").write_bytes(b"churn 3.0.0")
    gto.commit("Create models")
    gto("register", "churn", "--version", "v3.0.0")
    gto("register", "segment", "--version", "v0.4.1")
    gto("register", "cv-class", "--version", "v0.1.13")
    gto("assign", "churn", "--version", "v3.0.0", "--stage", "dev")
    gto("assign", "churn", "--version", "v3.0.0", "--stage", "prod")
    (path / "models" / "churn.pkl").write_bytes(b"churn 3.1.0")
    gto.commit("Update model")
    gto("register", "churn", "--version", "v3.1.0")
    gto("assign", "churn", "--version", "v3.1.0", "--stage", "staging")
    return path


def test_import_gto_reads_dvc_yaml_artifacts_and_gto_version_names_resolve(
    repo: Path, example_gto: Path, tmp_path: Path, cli: Any
) -> None:
    assert Gto(example_gto).show()["churn"]["version"] == "v3.1.0"
    report = Registry.open(repo).import_gto(example_gto, stage_map={"dev": "staging"})
    assert {(r["name"], r["version"]) for r in report.registered} == {
        ("churn", 1),
        ("churn", 2),
        ("segment", 1),
        ("cv-class", 1),
    }
    reg = Registry.open(repo)
    old = reg.resolve("churn@v3.0.0")  # GTO's version name, as an alias
    assert old.version == 1
    assert dict(old.manifest.tags) == {"gto_version": "v3.0.0", "gto_type": "model", "gto_labels": "tabular,churn"}
    assert old.manifest.description == "predicts churn"
    assert reg.resolve("churn@v3.1.0").version == 2
    assert reg.pull("churn@v3.0.0", tmp_path / "a").read_bytes() == b"churn 3.0.0"
    assert reg.pull("churn/staging", tmp_path / "b").read_bytes() == b"churn 3.1.0"
    assert reg.pull("churn/production", tmp_path / "c").read_bytes() == b"churn 3.0.0"
    with pytest.raises(NotFoundError, match=r"s3://mycorp/proj-ml/segm-model-2022-04-15.pt.*outside the repository"):
        reg.pull("segment@v0.4.1", tmp_path / "d")
    shown = cli("show", "churn@v3.1.0", "--json")
    assert shown.code == 0 and json.loads(shown.out)["version"] == 2


@pytest.mark.parametrize("path", ["../secret.pkl", "/etc/passwd", "models/../../x", "s3://b/k", "C:/x"])
def test_a_declared_path_outside_the_repository_is_never_read(path: str) -> None:
    assert inside(path) is None
    found = entries(f"artifacts:\n  m:\n    path: '{path}'\n", "dvc.yaml at abc", "artifacts")
    assert "path" not in found["m"] and found["m"]["outside"] == path
