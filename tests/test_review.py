"""Reviewed promotions end to end: request on a branch, --no-ff merge, apply, verify, check-ref."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from modelreg import Registry
from tests.conftest import Result, git, repo_state, start_modelreg

BOB = {"GIT_AUTHOR_NAME": "Bob Reviewer", "GIT_AUTHOR_EMAIL": "bob@example.com"}


def git_as(repo: Path, who: dict[str, str], *args: str) -> str:
    env = {**os.environ, **who}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def require_review(repo: Path, *stages: str) -> None:
    config = repo / ".modelreg" / "config.yaml"
    text = config.read_text().replace("review_required: []", f"review_required: [{', '.join(stages)}]")
    config.write_text(text)
    git(repo, "commit", "-q", "-am", "modelreg: review production")


def payload(repo: Path, tag: str) -> dict:
    body = git(repo, "cat-file", "tag", tag).split("\n\n", 1)[1]
    return json.loads(body.splitlines()[2])


def hand_made_event(repo: Path, tag: str, version: int, extra: dict | None = None) -> None:
    """An event tag and claim ref made with plain git, the way someone bypassing review would."""
    name, target, seq = tag.split("#")
    commit = git(repo, "rev-parse", f"{name}@v{version}^{{commit}}").strip()
    body = {"modelreg": 1, "action": "assign", "kind": "stage", "target": target, "version": version}
    body.update(extra or {})
    text = (
        f"object {commit}\ntype commit\ntag {tag}\ntagger Mallory <m@example.com> 1767323045 +0000\n\n"
        f"{name} v{version} → {target}\n\n{json.dumps(body)}\n"
    )
    obj = subprocess.run(["git", "mktag"], cwd=repo, input=text, capture_output=True, text=True, check=True)
    git(repo, "update-ref", f"refs/tags/{tag}", obj.stdout.strip())
    git(repo, "update-ref", f"refs/modelreg/events/{name}/{seq}", obj.stdout.strip())


@pytest.fixture
def reviewed(repo: Path, cli: Callable[..., Result], artifact: Callable[..., Path]) -> Path:
    """A registry where production needs review, with v1 (auc 0.90) and v2 (auc 0.95) registered."""
    require_review(repo, "production")
    for version, auc in ((1, "0.90"), (2, "0.95")):
        path = artifact(f"m{version}.pkl", f"weights {version}".encode())
        assert cli("register", "fraud", path, "-m", f"auc={auc}", "-p", f"depth={version + 5}").code == 0
    return repo


def request(cli: Callable[..., Result], *args: str) -> dict:
    result = cli("promote", *args, "--request", "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_direct_promotion_of_a_review_required_stage_is_refused_and_writes_nothing(
    reviewed: Path, cli: Callable[..., Result]
) -> None:
    before = repo_state(reviewed)
    result = cli("promote", "fraud", "1", "production")
    assert result.code == 1
    assert "--request" in result.err and "Traceback" not in result.err
    assert repo_state(reviewed) == before
    assert cli("promote", "fraud", "1", "staging").code == 0  # other stages stay direct


def test_request_commits_on_a_new_branch_only_and_prints_the_pr_body(
    reviewed: Path, cli: Callable[..., Result]
) -> None:
    assert cli("promote", "fraud", "1", "staging").code == 0
    (reviewed / "notes.txt").write_text("work in progress\n")
    git(reviewed, "add", "notes.txt")
    head, index, status = (
        git(reviewed, "rev-parse", "HEAD"),
        git(reviewed, "ls-files", "--stage"),
        git(reviewed, "status", "--porcelain"),
    )
    result = cli("promote", "fraud", "2", "production", "--request", "--reason", "AUC | up <b>")
    assert result.code == 0, result.err
    assert git(reviewed, "rev-parse", "HEAD") == head
    assert git(reviewed, "ls-files", "--stage") == index
    assert git(reviewed, "status", "--porcelain") == status
    branch = next(
        line.strip() for line in git(reviewed, "branch", "--format=%(refname:short)").splitlines() if "request" in line
    )
    assert branch.startswith("modelreg/request/fraud-production-v2-")
    assert f"git push -u origin {branch}" in result.err
    body = result.out
    assert "| auc | — | 0.95 |" in body  # nobody holds production yet
    assert "AUC \\| up &lt;b&gt;" in body  # the reason cannot break the table or inject HTML
    files = git(reviewed, "show", "--name-only", "--format=", branch).split()
    assert files == [f".modelreg/requests/{branch.removeprefix('modelreg/request/')}.yaml"]
    # The commit message is the PR title and body, for `gh pr create --fill`.
    message = git(reviewed, "log", "-1", "--format=%B", branch)
    assert message.startswith("modelreg: promote fraud v2 to production\n\n## ")


def test_body_compares_the_candidate_with_the_current_holder(reviewed: Path, cli: Callable[..., Result]) -> None:
    created = request(cli, "fraud", "1", "production")
    git_as(reviewed, BOB, "merge", "-q", "--no-ff", created["branch"], "-m", "Merge request 1")
    assert cli("apply").code == 0
    body = request(cli, "fraud", "2", "production")["body"]
    assert "| v1 (current production) | v2 (candidate) |" in body
    assert "| auc | 0.9 | 0.95 | +0.05 (+5.6%) |" in body
    assert "| depth | 6 | 7 |" in body


def test_merged_request_is_applied_once_with_the_merger_as_approver(reviewed: Path, cli: Callable[..., Result]) -> None:
    created = request(cli, "fraud", "1", "production")
    request_id = created["request"]["id"]
    listed = json.loads(cli("requests", "--json").out)
    assert [(r["request"]["id"], r["state"]) for r in listed] == [(request_id, "open")]

    git_as(reviewed, BOB, "merge", "-q", "--no-ff", created["branch"], "-m", "Merge request")
    merge = git(reviewed, "rev-parse", "HEAD").strip()
    assert json.loads(cli("requests", "--json").out)[0]["state"] == "merged"

    result = cli("apply", "--json")
    assert result.code == 0, result.err
    (applied,) = json.loads(result.out)
    assert applied["outcome"] == "applied"
    tag = applied["event"]["tag"]
    assert tag == "fraud#production#1"
    facts = payload(reviewed, tag)
    assert facts["request"] == request_id
    assert facts["approved_by"] == "Bob Reviewer <bob@example.com>"
    assert facts["merge_commit"] == merge
    assert facts["requested_by"] == "Jane Doe <jane@example.com>"
    assert json.loads(cli("resolve", "fraud/production", "--json").out)["version"] == 1

    tags = git(reviewed, "tag", "-l")
    again = cli("apply", "--json")
    assert again.code == 0
    assert [r["outcome"] for r in json.loads(again.out)] == ["already-applied"]
    assert git(reviewed, "tag", "-l") == tags
    assert "No merged requests waiting (1 already applied)" in cli("apply").out

    status = json.loads(cli("requests", "--json").out)[0]
    assert (status["state"], status["event"], status["merged_by"]) == ("applied", tag, "Bob Reviewer <bob@example.com>")
    assert cli("verify").code == 0
    check = json.loads(cli("check-ref", tag).out)
    assert (check["request"], check["approved_by"], check["current"]) == (request_id, facts["approved_by"], True)
    history = json.loads(cli("history", "fraud", "--json").out)
    assert [e["approved_by"] for e in history if e["seq"] == 1] == ["Bob Reviewer <bob@example.com>"]


def test_requests_apply_in_merge_order(reviewed: Path, cli: Callable[..., Result]) -> None:
    first = request(cli, "fraud", "1", "production")
    second = request(cli, "fraud", "2", "production")
    git_as(reviewed, BOB, "merge", "-q", "--no-ff", first["branch"], "-m", "Merge first")
    git_as(reviewed, BOB, "merge", "-q", "--no-ff", second["branch"], "-m", "Merge second")
    results = json.loads(cli("apply", "--json").out)
    assert [r["request"] for r in results] == [first["request"]["id"], second["request"]["id"]]
    assert [r["event"]["seq"] for r in results] == [1, 2]
    state = json.loads(cli("resolve", "fraud/production", "--json").out)
    assert state["version"] == 2
    assert payload(reviewed, "fraud#production#2")["archived"] == [1]


def test_request_committed_on_the_main_line_is_not_applied(reviewed: Path, cli: Callable[..., Result]) -> None:
    created = request(cli, "fraud", "1", "production")
    git(reviewed, "merge", "-q", "--ff-only", created["branch"])  # no merge commit: nobody reviewed it
    result = cli("apply")
    assert result.code == 1
    assert "committed on the main line directly" in result.err
    assert "fraud#production" not in git(reviewed, "tag", "-l")
    assert json.loads(cli("requests", "--json").out)[0]["state"] == "unreviewed"


def test_a_request_merged_outside_the_main_branch_approves_nothing(reviewed: Path, cli: Callable[..., Result]) -> None:
    created = request(cli, "fraud", "1", "production")
    git(reviewed, "checkout", "-q", "-b", "side")
    git_as(reviewed, BOB, "merge", "-q", "--no-ff", created["branch"], "-m", "Merge on a side branch")
    result = cli("apply")
    assert result.code == 1 and "HEAD is not on main" in result.err
    # An event made from that merge anyway (e.g. by a hand-run apply) fails verification.
    merge = git(reviewed, "rev-parse", "HEAD").strip()
    extra = {
        "request": created["request"]["id"],
        "merge_commit": merge,
        "approved_by": "Bob Reviewer <bob@example.com>",
    }
    hand_made_event(reviewed, "fraud#production#1", 1, extra)
    git(reviewed, "checkout", "-q", "main")
    check = cli("check-ref", "fraud#production#1")
    assert check.code == 4 and "never merged into the main branch" in check.err


def test_reverting_the_merge_withdraws_the_request(reviewed: Path, cli: Callable[..., Result]) -> None:
    created = request(cli, "fraud", "1", "production")
    git_as(reviewed, BOB, "merge", "-q", "--no-ff", created["branch"], "-m", "Merge request")
    states = {r["request"]["id"]: r["state"] for r in json.loads(cli("requests", "--json").out)}
    assert states[created["request"]["id"]] == "merged"  # applicable before the revert
    git(reviewed, "revert", "--no-edit", "-m", "1", "HEAD")
    states = {r["request"]["id"]: r["state"] for r in json.loads(cli("requests", "--json").out)}
    assert states.get(created["request"]["id"]) != "merged"
    applied = cli("apply", "--json")
    assert applied.code == 0, applied.err
    assert json.loads(applied.out) == []
    assert [tag for tag in git(reviewed, "tag", "-l").split() if "#" in tag] == []  # no event tag written


def test_an_edit_after_the_merge_does_not_change_what_is_applied(reviewed: Path, cli: Callable[..., Result]) -> None:
    created = request(cli, "fraud", "1", "production")
    git_as(reviewed, BOB, "merge", "-q", "--no-ff", created["branch"], "-m", "Merge request")
    path = reviewed / ".modelreg" / "requests" / f"{created['request']['id']}.yaml"
    path.write_text(path.read_text().replace("version: 1", "version: 2"))
    git(reviewed, "commit", "-q", "-am", "sneaky edit")
    (applied,) = json.loads(cli("apply", "--json").out)
    assert applied["event"]["version"] == 1


def test_verify_and_check_ref_catch_a_direct_stage_tag(reviewed: Path, cli: Callable[..., Result]) -> None:
    hand_made_event(reviewed, "fraud#production#1", 2)
    result = cli("verify", "--json")
    assert result.code == 4
    (finding,) = json.loads(result.out)["findings"]
    assert finding["kind"] == "review" and finding["subject"] == "fraud#production#1"
    assert "without a merged request" in finding["message"]
    check = cli("check-ref", "fraud#production#1")
    assert check.code == 4
    assert "does not verify" in check.err and check.out == ""


def test_verify_catches_a_tag_that_names_a_request_it_did_not_come_from(
    reviewed: Path, cli: Callable[..., Result]
) -> None:
    created = request(cli, "fraud", "1", "production")
    git_as(reviewed, BOB, "merge", "-q", "--no-ff", created["branch"], "-m", "Merge request")
    merge = git(reviewed, "rev-parse", "HEAD").strip()
    assert cli("apply").code == 0
    forged = {"request": created["request"]["id"], "approved_by": "Bob Reviewer <bob@example.com>"}
    hand_made_event(reviewed, "fraud#production#2", 2, {**forged, "merge_commit": merge})
    messages = [f["message"] for f in json.loads(cli("verify", "--json").out)["findings"]]
    assert messages == [
        f"fraud#production#2 does something else than request {forged['request']!r} asked (fraud v1 → production)"
    ]
    hand_made_event(reviewed, "fraud#production#3", 2, {"request": "made-up-request-abc123", "merge_commit": merge})
    result = cli("check-ref", "fraud#production#3")
    assert result.code == 4 and "never merged into the main branch" in result.err


def test_rollback_returns_only_to_an_earlier_holder(reviewed: Path, cli: Callable[..., Result]) -> None:
    for version in ("1", "2"):
        created = request(cli, "fraud", version, "production")
        git_as(reviewed, BOB, "merge", "-q", "--no-ff", created["branch"], "-m", f"Merge {version}")
        assert cli("apply").code == 0
    assert cli("rollback", "fraud").code == 0  # back to v1, which held production after review
    assert cli("verify").code == 0
    assert cli("rollback", "fraud", "--to", "2").code == 0
    v3 = reviewed.parent / "v3.bin"  # a version that never held production cannot get it by rollback
    v3.write_bytes(b"three")
    assert cli("register", "fraud", v3).code == 0
    result = cli("rollback", "fraud", "--to", "3")
    assert result.code == 1 and "never held review-required stage" in result.err


def test_alias_requests_need_no_policy_but_work_the_same(reviewed: Path, cli: Callable[..., Result]) -> None:
    result = cli("alias", "set", "fraud", "champion", "2", "--request", "--json")
    assert result.code == 0, result.err
    created = json.loads(result.out)
    git_as(reviewed, BOB, "merge", "-q", "--no-ff", created["branch"], "-m", "Merge alias")
    (applied,) = json.loads(cli("apply", "--json").out)
    assert applied["event"]["tag"] == "fraud#champion#1"
    assert json.loads(cli("resolve", "fraud@champion", "--json").out)["version"] == 2


def test_request_bad_input_is_one_line_and_writes_nothing(reviewed: Path, cli: Callable[..., Result]) -> None:
    before = repo_state(reviewed)
    for args, message in (
        (("promote", "fraud", "9", "production", "--request"), "has no version 9"),
        (("promote", "fraud", "1", "nope", "--request"), "unknown stage"),
        (("promote", "fraud", "1", "production", "--request", "--branch", "bad..name"), "not a valid branch name"),
        (("promote", "fraud", "1", "production", "--branch", "x"), "--branch goes with --request"),
        (("promote", "fraud", "1", "production", "--request", "--sign"), "--sign goes with"),
        (("alias", "set", "fraud", "production", "1", "--request"), "name of a stage"),
    ):
        result = cli(*args)
        assert result.code == 1, args
        assert message in result.err and result.err.count("\n") == 1, result.err
    assert repo_state(reviewed) == before
    created = request(cli, "fraud", "1", "production")
    taken = cli("promote", "fraud", "2", "production", "--request", "--branch", created["branch"])
    assert taken.code == 1 and "already exists" in taken.err


def test_python_api_offers_the_same(reviewed: Path) -> None:
    reg = Registry.open(reviewed)
    created = reg.request("fraud", 1, "production", reason="first release")
    assert [s.state for s in reg.requests().statuses] == ["open"]
    git_as(reviewed, BOB, "merge", "-q", "--no-ff", created.branch, "-m", "Merge")
    (result,) = reg.apply()
    assert result.outcome == "applied" and result.event is not None
    assert result.event.approved_by == "Bob Reviewer <bob@example.com>"
    assert reg.check_ref(result.event.tag).approved_by == "Bob Reviewer <bob@example.com>"


def test_reviewed_promotion_through_a_shared_remote(remote: Path, clone, tmp_path: Path) -> None:
    """Requester pushes a branch, a reviewer merges it --no-ff, CI applies and pushes one tag per push."""
    from tests.conftest import run_modelreg

    setup = clone("setup")
    require_review(setup, "production")
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"weights")
    run_modelreg(setup, "register", "fraud", str(weights), "-m", "auc=0.9")
    git(setup, "push", "-q", "origin", "main", "--tags", "refs/modelreg/*:refs/modelreg/*")
    # Count the tags each push carries: GitHub starts no workflow for a push of more than three.
    log = tmp_path / "pushes.log"
    hook = remote / "hooks" / "post-receive"
    hook.write_text(f"#!/bin/sh\ngrep -c ' refs/tags/' >> '{log}' || true\n")
    hook.chmod(0o755)

    requester = clone("requester")
    out = run_modelreg(requester, "promote", "fraud", "1", "production", "--request", "--push", "--json").stdout
    branch = json.loads(out)["branch"]
    assert git(remote, "rev-parse", "--verify", f"refs/heads/{branch}")

    reviewer = clone("reviewer")
    (pending,) = json.loads(run_modelreg(reviewer, "requests", "--json").stdout)
    assert (pending["state"], pending["branch"]) == ("open", branch)  # seen on the remote-tracking branch
    git_as(reviewer, BOB, "merge", "-q", "--no-ff", f"origin/{branch}", "-m", f"Merge {branch}")
    git(reviewer, "push", "-q", "origin", "main")

    ci_a, ci_b = clone("ci-a"), clone("ci-b")
    # Distinct tagger dates: identical tag objects would make the second push a no-op, not a race.
    procs = [
        start_modelreg(
            ci,
            "apply",
            "--push",
            "--json",
            env={"GIT_COMMITTER_DATE": f"2026-01-02T03:04:0{n}+00:00"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for n, ci in enumerate((ci_a, ci_b))
    ]
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outcomes += [r["outcome"] for r in json.loads(out)]
    assert sorted(outcomes) == ["already-applied", "applied"]  # two racing CI runs, one event
    assert [t for t in git(remote, "tag", "-l").split() if "#" in t] == ["fraud#production#1"]
    assert max(int(n) for n in log.read_text().split()) <= 1

    deploy = clone("deploy")
    run_modelreg(deploy, "fetch")
    facts = json.loads(run_modelreg(deploy, "check-ref", "refs/tags/fraud#production#1").stdout)
    assert facts["approved_by"] == "Bob Reviewer <bob@example.com>" and facts["ref"] == "fraud@v1"
    assert run_modelreg(deploy, "verify", check=False).returncode == 0


def test_check_ref_writes_github_outputs_and_env_lines(
    reviewed: Path, cli: Callable[..., Result], tmp_path: Path
) -> None:
    assert cli("promote", "fraud", "2", "staging", "--reason", "line one\nline two").code == 0
    out = tmp_path / "github_output"
    out.write_text("earlier<<X\nkept\nX\n")
    result = cli("check-ref", "fraud#staging#1", "--github-output", out)
    assert result.code == 0, result.err
    assert result.out == ""
    text = out.read_text()
    assert text.startswith("earlier<<X\nkept\nX\n")  # appended, never truncated
    outputs = {}
    lines = text.splitlines()[3:]
    while lines:
        key, delimiter = lines.pop(0).split("<<")
        value = []
        while (line := lines.pop(0)) != delimiter:
            value.append(line)
        outputs[key] = "\n".join(value)
    assert outputs["model"] == "fraud" and outputs["version"] == "2" and outputs["stage"] == "staging"
    assert outputs["ref"] == "fraud@v2" and outputs["current"] == "true" and outputs["alias"] == ""
    env = cli("check-ref", "refs/tags/fraud#staging#1", "--env")
    assert "MODELREG_REF=fraud@v2\n" in env.out and "MODELREG_SEQ=1\n" in env.out
    both = cli("check-ref", "fraud#staging#1", "--env", "--json")
    assert both.code == 1 and "choose one" in both.err
    unwritable = cli("check-ref", "fraud#staging#1", "--github-output", tmp_path / "no" / "such" / "file")
    assert unwritable.code == 1 and "cannot write" in unwritable.err
    crafted = cli("check-ref", "fraud#staging#1;touch pwned")
    assert crafted.code == 1 and not (reviewed / "pwned").exists()


def test_init_records_a_main_branch_other_than_main(tmp_path: Path) -> None:
    from tests.conftest import make_repo

    path = make_repo(tmp_path / "trunk-repo")
    git(path, "branch", "-q", "-m", "trunk")
    Registry.init(path)
    assert "main_branch: trunk\n" in (path / ".modelreg" / "config.yaml").read_text()
    assert Registry.open(path).config.main_branch == "trunk"


@pytest.fixture
def pushed_reviews(
    remote: Path,
    clone: Callable[..., Path],
    cli: Callable[..., Result],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """A remote where production needs review and two reviewed promotions (v1, then v2) were applied.

    Its main branch ends with the merge of the second request, as a deploy job's checkout does.
    """
    setup = clone("setup")
    monkeypatch.chdir(setup)
    require_review(setup, "production")
    git(setup, "push", "-q", "origin", "main")
    for version in (1, 2):
        weights = tmp_path / f"w{version}.bin"
        weights.write_bytes(f"weights {version}".encode())
        assert cli("register", "fraud", weights, "-m", f"auc=0.9{version}", "--push").code == 0
    for promoted in ("1", "2"):
        created = request(cli, "fraud", promoted, "production", "--push")
        git_as(setup, BOB, "merge", "-q", "--no-ff", created["branch"], "-m", f"Merge request {promoted}")
        git(setup, "push", "-q", "origin", "main")
        assert cli("apply", "--push").code == 0
    return remote


def shallow_deploy(
    clone: Callable[..., Path], remote: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> Path:
    """What a tag-triggered CI job has: a depth-1 clone, its tags and modelreg's refs fetched."""
    deploy = clone("deploy", "--depth", "1", url=f"file://{remote}")  # file://: a local path ignores --depth
    monkeypatch.chdir(deploy)
    git(deploy, "fetch", "-q", "--force", "--tags", "origin")
    assert cli("fetch").code == 0
    assert git(deploy, "rev-parse", "--is-shallow-repository").strip() == "true"
    assert git(deploy, "log", "-1", "--format=%s").startswith("Merge request 2")
    return deploy


def test_a_shallow_clone_fetches_the_history_review_evidence_needs(
    pushed_reviews: Path, clone: Callable[..., Path], cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy = shallow_deploy(clone, pushed_reviews, cli, monkeypatch)
    main = git(deploy, "rev-parse", "refs/remotes/origin/main")
    check = cli("check-ref", "fraud#production#2")
    assert check.code == 0, check.err
    facts = json.loads(check.out)
    assert (facts["version"], facts["approved_by"], facts["current"]) == (2, "Bob Reviewer <bob@example.com>", True)
    assert cli("check-ref", "fraud#production#1").code == 0  # its merge is further back than one fetch reached
    resolved = cli("resolve", "fraud/production", "--json")
    assert resolved.code == 0, resolved.err
    assert json.loads(resolved.out)["version"] == 2 and "ignoring" not in resolved.err
    assert git(deploy, "rev-parse", "refs/remotes/origin/main") == main  # history fetched, no ref moved


def test_a_shallow_clone_that_cannot_fetch_says_so_and_how_to_fix_it(
    pushed_reviews: Path,
    clone: Callable[..., Path],
    cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    deploy = shallow_deploy(clone, pushed_reviews, cli, monkeypatch)
    git(deploy, "remote", "set-url", "origin", f"file://{tmp_path / 'gone.git'}")  # offline
    for args in (("check-ref", "fraud#production#2"), ("resolve", "fraud/production")):
        result = cli(*args)
        assert result.code == 1, (args, result.out)
        assert "shallow" in result.err and "git fetch --unshallow origin" in result.err, result.err
        assert "fetch-depth: 0" in result.err and result.err.count("\n") == 1, result.err
        assert "not merged" not in result.err and "Traceback" not in result.err
        assert result.out == ""
    git(deploy, "remote", "set-url", "origin", f"file://{pushed_reviews}")  # back online: it catches up
    assert cli("check-ref", "fraud#production#2").code == 0


def test_a_repo_url_read_fetches_the_history_review_evidence_needs(
    pushed_reviews: Path, cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"file://{pushed_reviews}"
    resolved = cli("resolve", "fraud/production", "--repo", url, "--json")
    assert resolved.code == 0, resolved.err
    assert json.loads(resolved.out)["version"] == 2 and "ignoring" not in resolved.err
    check = cli("check-ref", "fraud#production#1", "--repo", url)
    assert check.code == 0, check.err
    assert json.loads(check.out)["current"] is False


def test_apply_in_a_shallow_clone_fetches_the_merge_it_applies(
    pushed_reviews: Path,
    clone: Callable[..., Path],
    cli: Callable[..., Result],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setup = tmp_path / "setup"
    monkeypatch.chdir(setup)
    created = request(cli, "fraud", "1", "production", "--push")
    git_as(setup, BOB, "merge", "-q", "--no-ff", created["branch"], "-m", "Merge request 3")
    git(setup, "push", "-q", "origin", "main")
    ci = clone("ci", "--depth", "1", url=f"file://{pushed_reviews}")
    monkeypatch.chdir(ci)
    git(ci, "fetch", "-q", "--force", "--tags", "origin")
    result = cli("apply", "--push", "--json")
    assert result.code == 0, result.err
    assert [(r["outcome"], r["request"]) for r in json.loads(result.out)] == [("applied", created["request"]["id"])]
    assert payload(pushed_reviews, "fraud#production#3")["approved_by"] == "Bob Reviewer <bob@example.com>"


def test_fetch_indexes_the_main_lines_history_for_the_review_walk(
    pushed_reviews: Path, clone: Callable[..., Path], cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh clone has no commit-graph; `modelreg fetch` writes one for the main branch when review is required,
    so a deploy job's review check walks the main line without reading commit objects. It changes no answer."""
    deploy = clone("deploy", url=f"file://{pushed_reviews}")
    monkeypatch.chdir(deploy)
    graph = deploy / ".git" / "objects" / "info" / "commit-graphs" / "commit-graph-chain"
    assert not graph.exists()
    assert cli("fetch").code == 0
    assert graph.exists()
    git(deploy, "commit-graph", "verify")
    layers = graph.read_text()
    assert cli("fetch").code == 0
    assert graph.read_text() == layers  # nothing new: nothing written
    main = git(deploy, "rev-parse", "refs/remotes/origin/main").strip()
    indexed = git(deploy, "-c", "core.commitGraph=true", "rev-list", "--first-parent", main).split()
    assert git(deploy, "-c", "core.commitGraph=false", "rev-list", "--first-parent", main).split() == indexed
    tags = [t for t in git(deploy, "tag", "-l", "fraud#production#*").split()]
    for tag in tags:
        checked = cli("check-ref", tag, "--json")
        assert checked.code == 0 and json.loads(checked.out)["approved_by"] == "Bob Reviewer <bob@example.com>"


def test_fetch_writes_no_commit_graph_where_no_review_reads_history(
    remote: Path, clone: Callable[..., Path], cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy = clone("plain")
    monkeypatch.chdir(deploy)
    assert cli("fetch").code == 0
    assert not (deploy / ".git" / "objects" / "info" / "commit-graphs").exists()
