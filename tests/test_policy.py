"""Reads enforce the policy of record (DESIGN §9): what `verify` rejects never reaches serving."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

import modelreg
from tests.conftest import Result, git
from tests.test_review import hand_made_event, require_review


@pytest.fixture
def guarded(repo: Path, cli: Callable[..., Result], artifact: Callable[..., Path]) -> Path:
    """production needs review; fraud v1 holds it through a merged request; v2 is registered; so is `other`."""
    require_review(repo, "production")
    for version in (1, 2):
        assert cli("register", "fraud", artifact(f"m{version}", f"weights {version}".encode())).code == 0
    assert cli("register", "other", artifact("o", b"other")).code == 0
    created = json.loads(cli("promote", "fraud", "1", "production", "--request", "--json").out)
    git(repo, "merge", "-q", "--no-ff", created["branch"], "-m", "Merge request")
    assert cli("apply").code == 0
    return repo


def tag_without_claim(repo: Path, tag: str, version: int) -> None:
    """A well-formed event tag with no claim ref: `git tag` by hand."""
    name, target, _ = tag.split("#")
    body = {"modelreg": 1, "action": "assign", "kind": "stage", "target": target, "version": version, "archived": []}
    message = f"{name} v{version} → {target}\n\n{json.dumps(body)}\n"
    commit = git(repo, "rev-parse", f"{name}@v{version}^{{commit}}").strip()
    subprocess.run(["git", "tag", "-a", "-F", "-", tag, commit], cwd=repo, input=message, text=True, check=True)


@pytest.mark.parametrize("forge", ["no claim ref", "no merged request"])
def test_a_rogue_production_tag_is_never_served(guarded, cli, tmp_path, forge):
    if forge == "no claim ref":
        tag_without_claim(guarded, "fraud#production#2", 2)
    else:
        hand_made_event(guarded, "fraud#production#2", 2)
    assert cli("check-ref", "fraud#production#2").code == 4
    assert cli("verify").code == 4

    resolved = cli("resolve", "fraud/production")
    assert resolved.out == f"fraud@v1 {json.loads(cli('show', 'fraud@1', '--json').out)['artifact']['digest']}\n"
    assert resolved.err.startswith("warning: ignoring fraud#production#2: ")
    assert resolved.err.count("\n") == 1
    as_json = json.loads(cli("resolve", "models:/fraud/Production", "--json").out)
    assert as_json["version"] == 1 and as_json["warnings"][0].startswith("ignoring fraud#production#2")
    pulled = cli("pull", "fraud/production", "-o", tmp_path / "serve")
    assert Path(pulled.out.strip()).read_bytes() == b"weights 1"
    path = modelreg.pull("models:/fraud/Production", tmp_path / "api", repo=guarded)
    assert path.read_bytes() == b"weights 1"
    # the rogue tag isolates itself: other models and the listing read as before
    assert json.loads(cli("resolve", "other", "--json").out)["warnings"] == []
    listed = {m["name"]: m for m in json.loads(cli("list", "--json").out)}
    assert listed["fraud"]["stages"]["production"] == 1 and listed["other"]["warnings"] == []
    tags = [e["tag"] for e in json.loads(cli("history", "fraud", "--json").out)]
    assert "fraud#production#1" in tags and "fraud#production#2" not in tags


def test_a_deploy_job_on_an_old_checkout_is_judged_by_the_main_branchs_policy(repo, cli, artifact):
    """The tag's own commit predates `review_required`; main's config requires review now."""
    assert cli("register", "fraud", artifact()).code == 0
    assert cli("promote", "fraud", "1", "production").code == 0  # no review needed yet
    assert cli("check-ref", "fraud#production#1").code == 0
    require_review(repo, "production")
    main_tip = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "--detach", "fraud#production#1")  # as the deploy recipes do
    assert "review_required: []" in (repo / ".modelreg" / "config.yaml").read_text()
    check = cli("check-ref", "fraud#production#1")
    assert check.code == 4 and "without a merged request" in check.err
    resolved = cli("resolve", "fraud/production", "--json")
    assert resolved.code == 1 and "ignoring fraud#production#1" in resolved.err
    assert json.loads(cli("show", "fraud@1", "--json").out)["policy"] == main_tip


def test_check_ref_names_the_policy_commit(guarded, cli):
    facts = json.loads(cli("check-ref", "fraud#production#1").out)
    assert facts["policy"] == git(guarded, "rev-parse", "main").strip()


def test_a_local_main_behind_its_remote_tracking_branch_yields_to_it(repo, cli, artifact, tmp_path):
    assert cli("register", "fraud", artifact()).code == 0
    assert cli("promote", "fraud", "1", "production").code == 0
    old = git(repo, "rev-parse", "main").strip()
    require_review(repo, "production")
    new = git(repo, "rev-parse", "main").strip()
    git(repo, "update-ref", "refs/remotes/origin/main", new)
    git(repo, "checkout", "-q", "--detach", old)
    git(repo, "update-ref", "refs/heads/main", old)  # the local main is behind origin/main
    git(repo, "remote", "add", "origin", str(tmp_path / "nowhere.git"))
    assert json.loads(cli("check-ref", "fraud@v1").out)["policy"] == new
    assert cli("check-ref", "fraud#production#1").code == 4
