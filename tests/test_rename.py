"""`modelreg rename` / `Registry.rename`: a model with no version yet renamed as two events written together."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from modelreg.api import Registry
from modelreg.errors import AlreadyExists, InvalidInputError, NotFoundError, NotSupported
from tests.conftest import Result, git, install_hook, make_repo, repo_state
from tests.test_review import BOB, git_as, require_review
from tests.test_signing import make_key


def _tags(repo: Path) -> list[str]:
    return git(repo, "tag").split("\n")[:-1]


def test_a_model_without_versions_is_renamed_by_a_create_and_a_delete_event(
    repo: Path, cli: Callable[..., Result]
) -> None:
    reg = Registry.open(repo)
    made = reg.create("Churn Model", description="churn scoring", tags={"team": "growth"})
    reg.describe("Churn Model", description="churn scoring v2")
    renamed = Registry.open(repo).rename("Churn Model", "attrition", reason="team rename")

    assert (renamed.old, renamed.new) == ("Churn Model", "attrition")
    assert (renamed.created.tag, renamed.deleted.tag) == ("attrition#_create#1", "+churn+032+model#_delete#3")
    assert renamed.created.created_millis == made.millis and renamed.created.renamed == "Churn Model"
    assert renamed.deleted.renamed == "attrition"
    assert "attrition#_create#1" in _tags(repo) and "+churn+032+model#_delete#3" in _tags(repo)

    reg = Registry.open(repo)
    state = reg.state("attrition")
    assert (state.description, state.tags, state.versions) == ("churn scoring v2", {"team": "growth"}, ())
    assert [m.name for m in reg.models()] == ["attrition"]
    with pytest.raises(NotFoundError, match="was deleted"):
        reg.model("Churn Model")
    # what the events record, read back from the tags
    (create,) = reg.history("attrition")
    assert (create.action, create.renamed, create.created_millis) == ("create", "Churn Model", made.millis)
    assert create.reason == "renamed from Churn Model (team rename)"
    gone = reg.history("Churn Model")[-1]
    assert (gone.action, gone.kind, gone.renamed, gone.reason) == (
        "delete",
        "model",
        "attrition",
        "renamed to attrition (team rename)",
    )

    # history of both names shows its side, plain and JSON; the old name no longer resolves
    old_history = cli("history", "Churn Model")
    assert old_history.code == 0, old_history.err
    assert "deleted (renamed to attrition)" in old_history.out
    assert "renamed to attrition (team rename)" in old_history.out
    new_history = cli("history", "attrition", "--json")
    assert new_history.code == 0, new_history.err
    assert [(e["action"], e.get("renamed_from"), e["description"]) for e in json.loads(new_history.out)] == [
        ("create", "Churn Model", "churn scoring v2")
    ]
    assert "created (renamed from Churn Model, team=growth, description)" in cli("history", "attrition").out
    resolved = cli("resolve", "Churn Model")
    assert resolved.code != 0 and "was deleted" in resolved.err
    verified = cli("verify", "--json")
    assert verified.code == 0, verified.out + verified.err
    assert json.loads(verified.out)["ok"] is True

    # renamed again: the first creation time goes along; the old name may be taken again
    again = Registry.open(repo).rename("attrition", "retention")
    assert again.created.created_millis == made.millis and again.created.reason == "renamed from attrition"
    assert Registry.open(repo).create("Churn Model").tag == "+churn+032+model#_create#4"
    assert cli("verify").code == 0


def test_rename_refusals_write_nothing(repo: Path, cli: Callable[..., Result], artifact: Callable[..., Path]) -> None:
    reg = Registry.open(repo)
    reg.create("churn")
    reg.create("fraud")
    reg.create("gone")
    reg.delete("gone", reason="obsolete")
    for name in ("holed", "retired", "old", "clean"):
        reg.register(name, artifact(content=name.encode()))
        reg.register(name, artifact(content=name.encode() + b"2"))
    reg.delete("holed", 1, reason="leaked labels")
    reg.retire("retired", reason="replaced")
    reg.delete("old", reason="replaced")  # its version numbers stay taken
    reg.create("old")
    before = repo_state(repo)

    cases: list[tuple[str, str, type[Exception], str]] = [
        ("churn", "fraud", AlreadyExists, "model 'fraud' already exists"),
        ("nothere", "x", NotFoundError, "no model named 'nothere'"),
        ("gone", "x", NotFoundError, "gone was deleted"),
        ("churn", "churn", InvalidInputError, "already called that"),
        ("holed", "x", NotSupported, "holed has deleted versions (v1): its numbers would not run 1..2"),
        ("retired", "x", NotSupported, "retired is retired"),
        ("holed", "old", AlreadyExists, "model 'old' already exists"),
    ]
    for old, new, error, words in cases:
        with pytest.raises(error, match=re.escape(words)):
            Registry.open(repo).rename(old, new)
    Registry.open(repo).delete("old", reason="again")
    with pytest.raises(NotSupported, match=re.escape("old's version numbers were taken by a model deleted")):
        Registry.open(repo).rename("clean", "old")
    before = repo_state(repo)
    assert cli("rename", "churn", "fraud").code == 3  # a conflict, as creating a model that exists
    refused = cli("rename", "holed", "x")
    assert refused.code == 1 and "is not supported" in refused.err and "Traceback" not in refused.err
    assert repo_state(repo) == before


def test_both_events_land_in_one_ref_transaction_or_neither(repo: Path, cli: Callable[..., Result]) -> None:
    Registry.open(repo).create("churn")
    # git's reference-transaction hook refuses any transaction that would delete-tag `churn`
    install_hook(
        repo,
        "reference-transaction",
        'test "$1" = prepared || exit 0\ngrep -q "_delete" && { echo refused >&2; exit 1; }\nexit 0\n',
    )
    before = repo_state(repo)
    failed = cli("rename", "churn", "attrition")
    assert failed.code != 0
    assert repo_state(repo) == before  # not even the new name's `_create` was written
    assert not any(t.startswith("attrition") for t in _tags(repo))
    (repo / ".git" / "hooks" / "reference-transaction").unlink()
    assert cli("rename", "churn", "attrition").code == 0
    assert [m.name for m in Registry.open(repo).models()] == ["attrition"]


def test_rename_through_a_remote_pushes_everything_atomically(
    clone: Callable[..., Path], artifact: Callable[..., Path]
) -> None:
    first, second = clone("first"), clone("second")
    Registry.open(first).create("churn", description="scoring", push=True)
    reg = Registry.open(first)
    reg.register("fraud", artifact(), push=True)
    reg.register("fraud", artifact(content=b"weights v2"), push=True)
    reg.promote("fraud", 2, "staging", push=True)
    done = Registry.open(second).rename("churn", "attrition", push=True)  # second fetches churn's events first
    assert done.created is not None and done.created.created_millis is not None
    moved = Registry.open(second).rename("fraud", "scoring", push=True)  # fetched: fraud's tags and main
    assert moved.versions == (1, 2)
    remote_tags = git(first, "ls-remote", "--tags", "origin").split()
    for tag in ("attrition#_create#1", "churn#_delete#2", "scoring@v1", "scoring@v2", "scoring#staging#1"):
        assert f"refs/tags/{tag}" in remote_tags
    Registry.open(first).fetch()
    git(first, "pull", "-q", "--ff-only")
    reg = Registry.open(first)
    assert [m.name for m in reg.models()] == ["attrition", "scoring"] and reg.state(
        "attrition"
    ).description == "scoring"
    assert reg.state("scoring").stages == {2: "staging"}
    assert reg.pull("scoring/staging", first.parent / "pulled").read_bytes() == b"weights v2"


def test_plain_history_shows_creations_and_deletions(
    repo: Path, cli: Callable[..., Result], artifact: Callable[..., Path]
) -> None:
    """`history` (plain) of a model with `create` and `delete` events: it used to stop on an unknown action."""
    reg = Registry.open(repo)
    reg.create("fraud", tags={"team": "risk"})
    reg.register("fraud", artifact())
    reg.register("fraud", artifact(content=b"weights v2"))
    reg.delete("fraud", 1, reason="leaked labels")
    shown = cli("history", "fraud")
    assert shown.code == 0, shown.err
    assert "created (team=risk)" in shown.out and "deleted" in shown.out and "leaked labels" in shown.out


def test_a_registry_that_requires_signatures_gets_every_tag_of_a_rename_signed_or_none(
    repo: Path, tmp_path: Path, cli: Callable[..., Result], artifact: Callable[..., Path]
) -> None:
    key, public = make_key(tmp_path, "jane@example.com")
    (repo / ".modelreg" / "allowed_signers").write_text(f'jane@example.com namespaces="git" {public}\n')
    config = repo / ".modelreg" / "config.yaml"
    config.write_text(config.read_text() + "require_signed: true\nallowed_signers: .modelreg/allowed_signers\n")
    git(repo, "add", ".modelreg")
    git(repo, "commit", "-q", "-m", "modelreg: require signed events")
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", str(key))
    Registry.open(repo).create("churn")

    git(repo, "config", "--unset", "user.signingkey")  # no key: refused before anything is published
    before = repo_state(repo)
    refused = cli("rename", "churn", "attrition")
    assert refused.code == 1 and "could not sign the tag attrition#_create#1" in refused.err
    assert repo_state(repo) == before

    git(repo, "config", "user.signingkey", str(key))
    assert cli("rename", "churn", "attrition").code == 0
    for tag in ("attrition#_create#1", "churn#_delete#2"):
        assert "-----BEGIN SSH SIGNATURE-----" in git(repo, "cat-file", "tag", tag)
    assert cli("register", "fraud", artifact()).code == 0
    assert cli("promote", "fraud@1", "staging").code == 0
    assert cli("rename", "fraud", "scoring").code == 0
    for tag in ("scoring@v1", "scoring#staging#1", "fraud#_delete#2"):
        assert "-----BEGIN SSH SIGNATURE-----" in git(repo, "cat-file", "tag", tag)
    verified = cli("verify")
    assert verified.code == 0, verified.out + verified.err


def test_a_model_with_versions_is_registered_again_under_the_new_name_and_the_old_one_deleted(
    repo: Path, tmp_path: Path, cli: Callable[..., Result], artifact: Callable[..., Path]
) -> None:
    reg = Registry.open(repo)
    for version in (1, 2, 3):
        path = artifact(f"m{version}.pkl", f"weights {version}".encode())
        reg.register("Fraud", path, description=f"v{version}", tags={"n": version}, run_id=f"run-{version}")
    reg.describe("Fraud", description="card fraud", tags={"team": "risk"})
    reg.promote("Fraud", 1, "staging")
    reg.promote("Fraud", 2, "production")
    reg.promote("Fraud", 3, "production")  # v2 archived
    reg.set_alias("Fraud", "champion", 3)
    reg.update("Fraud", 1, description="edited after registration")
    old_tags = git(repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/tags/+fraud*")
    before = {v: Registry.open(repo).resolve(f"Fraud@{v}").manifest for v in (1, 2, 3)}

    renamed = cli("rename", "Fraud", "scoring", "-r", "team rename", "--json")
    assert renamed.code == 0, renamed.err
    out = json.loads(renamed.out)
    assert (out["versions"], [e["tag"] for e in out["events"]]) == ([1, 2, 3], ["+fraud#_delete#7"])

    reg = Registry.open(repo)
    (summary,) = reg.models()
    assert (summary.name, summary.description, dict(summary.tags)) == ("scoring", "card fraud", {"team": "risk"})
    state = reg.state("scoring")
    assert (state.stages, state.aliases) == ({1: "staging", 2: "archived", 3: "production"}, {"champion": 3})
    for version in (1, 2, 3):
        copy = reg.resolve(f"scoring@{version}").manifest
        was = before[version]
        assert (copy.name, copy.version, copy.artifact, copy.description, copy.tags, copy.lineage) == (
            "scoring",
            version,
            was.artifact,
            was.description,
            was.tags,
            was.lineage,
        )
        assert copy.extra["origin"] == {"renamed_from": f"Fraud@v{version}"}
    assert reg.resolve("scoring/production").version == 3 and reg.resolve("scoring@champion").version == 3
    pulled = reg.pull("scoring/production", tmp_path / "pulled")
    assert pulled.read_bytes() == b"weights 3"

    # nothing of the old name was rewritten; it no longer resolves; each name's history shows the rename
    assert (
        git(repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/tags/+fraud@*")
        == "\n".join(line for line in old_tags.splitlines() if "@v" in line) + "\n"
    )
    assert cli("resolve", "Fraud@1").code != 0
    old_history = cli("history", "Fraud")
    assert "deleted (renamed to scoring)" in old_history.out and "renamed to scoring (team rename)" in old_history.out
    new_history = cli("history", "scoring")
    assert new_history.out.count("registered (renamed from Fraud@v") == 3
    assert "renamed from Fraud (team rename)" in new_history.out
    verified = cli("verify", "--blobs", "--json")
    assert verified.code == 0 and json.loads(verified.out)["ok"] is True, verified.out + verified.err
    assert cli("lint").code == 0

    # and on: registering, promoting and renaming again work under the new name
    assert reg.register("scoring", artifact("m4.pkl", b"weights 4")).version == 4
    again = Registry.open(repo).rename("scoring", "fraud-v2")
    assert again.versions == (1, 2, 3, 4) and cli("verify").code == 0


def test_a_review_required_stage_is_not_carried_by_a_rename(
    repo: Path, cli: Callable[..., Result], artifact: Callable[..., Path]
) -> None:
    require_review(repo, "production")
    assert cli("register", "fraud", artifact()).code == 0
    created = cli("promote", "fraud", "1", "production", "--request", "--json")
    assert created.code == 0, created.err
    git_as(repo, BOB, "merge", "-q", "--no-ff", json.loads(created.out)["branch"], "-m", "Merge request")
    assert cli("apply").code == 0
    assert Registry.open(repo).state("fraud").stages == {1: "production"}
    before = repo_state(repo)
    with pytest.raises(NotSupported, match="fraud v1 holds stage 'production', which requires review"):
        Registry.open(repo).rename("fraud", "scoring")
    assert repo_state(repo) == before


def test_a_git_store_registry_renames_a_model_with_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, artifact: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    path = make_repo(tmp_path / "gitstore")
    Registry.init(path)  # the git store: blobs are objects of this repository, under refs/modelreg/blobs/
    monkeypatch.chdir(path)
    reg = Registry.open(path)
    reg.register("fraud", artifact())
    reg.promote("fraud", 1, "staging")
    blob_refs = git(path, "for-each-ref", "refs/modelreg/blobs/")
    assert blob_refs and Registry.open(path).rename("fraud", "scoring").versions == (1,)
    assert git(path, "for-each-ref", "refs/modelreg/blobs/") == blob_refs
    assert Registry.open(path).pull("scoring/staging", tmp_path / "pulled").read_bytes() == b"weights v1"
    verified = cli("verify", "--blobs")
    assert verified.code == 0, verified.out + verified.err
