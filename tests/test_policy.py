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


def version_tag_by_hand(
    repo: Path, name: str, version: int, like: int, *, claim: bool, sign: Path | None = None, digest: str | None = None
) -> None:
    """Commit vN's manifest as a copy of v`like`'s (same artifact) and tag it with plain git, as an attacker
    with push rights could (recording `digest` instead of the manifest's when given); with `claim`, point the
    version claim ref at the new tag too."""
    text = (repo / f".modelreg/models/{name}/v{like}.yaml").read_text()
    (repo / f".modelreg/models/{name}/v{version}.yaml").write_text(
        text.replace(f"version: {like}\n", f"version: {version}\n")
    )
    git(repo, "add", ".modelreg")
    git(repo, "commit", "-q", "-m", f"register {name} v{version}")
    digest = digest or json.loads(git(repo, "tag", "-l", "--format=%(contents:body)", f"{name}@v{like}"))["digest"]
    body = {"modelreg": 1, "action": "register", "version": version, "digest": digest}
    how = ["-c", f"user.signingkey={sign}", "tag", "-f", "-s"] if sign else ["tag", "-f", "-a"]
    message = f"{name} v{version}: registered\n\n{json.dumps(body)}\n"
    tag = f"{name}@v{version}"
    subprocess.run(["git", *how, "--cleanup=verbatim", "-F", "-", tag], cwd=repo, input=message, text=True, check=True)
    if claim:
        tag_object = git(repo, "rev-parse", f"refs/tags/{tag}").strip()
        git(repo, "update-ref", f"refs/modelreg/versions/{name}/{version}", tag_object)


def test_register_claims_its_version(repo, cli, artifact):
    assert cli("register", "m", artifact()).code == 0
    assert git(repo, "rev-parse", "refs/modelreg/versions/m/1") == git(repo, "rev-parse", "refs/tags/m@v1") != ""


def test_a_version_tag_pointed_at_other_bytes_is_never_served(repo, cli, artifact, tmp_path):
    """`git tag -f -a m@v3` on a commit whose v3.yaml names v2's artifact: the claim ref is the version (§10)."""
    for n in (1, 2, 3):
        assert cli("register", "m", artifact(content=f"weights {n}".encode())).code == 0
    assert cli("promote", "m", "3", "production").code == 0
    claimed = json.loads(cli("resolve", "m@3", "--json").out)["digest"]
    version_tag_by_hand(repo, "m", 3, like=2, claim=False)  # re-points m@v3; its claim still names the old tag

    resolved = cli("resolve", "m@3", "--json")
    assert resolved.code == 0 and json.loads(resolved.out)["digest"] == claimed  # the claimed bytes, not v2's
    assert "ignoring m@v3: moved after refs/modelreg/versions/m/3 claimed it" in resolved.err
    pulled = cli("pull", "m/production", "-o", tmp_path / "out")
    assert pulled.code == 0 and (tmp_path / "out" / "model.pkl").read_bytes() == b"weights 3"
    assert modelreg.pull("m@3", tmp_path / "api", repo=repo).read_bytes() == b"weights 3"
    assert cli("check-ref", "m@v3").code == 4  # the moved tag itself is not taken
    verified = cli("verify", "--blobs", "--json")
    assert verified.code == 4
    assert any(f["subject"] == "m@v3" and "moved" in f["message"] for f in json.loads(verified.out)["findings"])
    latest = json.loads(cli("resolve", "m", "--json").out)
    assert latest["version"] == 3 and any("m@v3" in w for w in latest["warnings"])


def test_a_version_tag_nobody_claimed_is_not_a_version(repo, cli, artifact, tmp_path):
    assert cli("register", "m", artifact(content=b"weights 1")).code == 0
    version_tag_by_hand(repo, "m", 2, like=1, claim=False)
    resolved = cli("resolve", "m", "--json")
    assert json.loads(resolved.out)["version"] == 1
    assert "ignoring m@v2: has no claim ref refs/modelreg/versions/m/2" in resolved.err
    assert cli("pull", "m@2", "-o", tmp_path / "out").code == 1 and not (tmp_path / "out").exists()
    assert cli("verify").code == 4
    assert cli("promote", "m", "2", "staging").code == 1  # writes judge versions as reads do


def test_upgrade_claims_the_version_tags_an_earlier_modelreg_left_unclaimed(clone, remote, cli, artifact, monkeypatch):
    """A registry from before version claim refs: versions that verify are claimed (and pushed); a forged one is not."""
    repo = clone("old")
    monkeypatch.chdir(repo)
    for n in (1, 2):
        assert cli("register", "m", artifact(content=f"weights {n}".encode()), "--push").code == 0
    other = json.loads(cli("resolve", "m@2", "--json").out)["digest"]
    version_tag_by_hand(repo, "m", 3, like=1, claim=False, digest=other)  # its tag and manifest disagree
    version_tag_by_hand(repo, "m", 4, like=2, claim=False)
    git(repo, "push", "-q", "origin", "main", "m@v3", "m@v4")
    for ref in ("refs/modelreg/versions/m/1", "refs/modelreg/versions/m/2"):  # as an earlier modelreg left them
        git(repo, "update-ref", "-d", ref)
        git(remote, "update-ref", "-d", ref)
    assert cli("resolve", "m").code == 1  # no claimed version at all
    upgraded = cli("upgrade", "--push", "--json")
    assert upgraded.code == 4, upgraded.err
    report = json.loads(upgraded.out)
    assert report["claimed"] == ["m@v1", "m@v2", "m@v4"]
    assert len(report["refused"]) == 1 and "m@v3" in report["refused"][0]
    assert json.loads(cli("resolve", "m", "--json").out)["version"] == 4
    on_remote = git(remote, "for-each-ref", "--format=%(refname)", "refs/modelreg/versions/")
    assert on_remote.split() == [f"refs/modelreg/versions/m/{n}" for n in (1, 2, 4)]
    again = cli("upgrade", "--json")
    assert json.loads(again.out)["claimed"] == []
