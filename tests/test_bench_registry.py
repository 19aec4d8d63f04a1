"""The benchmarks' policy-on registry (make_registry --policy) is what modelreg itself would leave, and the
policy it turns on is enforced: verify passes it clean, and a production event without a merged request, or
without a valid signature, is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelreg.formats import requestfile
from tests.conftest import ROOT, Result, git

sys.path.insert(0, str(ROOT / "benchmarks"))

import make_registry
import policy_registry
from sign_registry import armour

EVENTS = 200  # bench: 25 versions, production at v25; model-0001: 50; model-0002: 25
BENCH = dict(make_registry.layout(EVENTS))["bench"]


def payload(repo: Path, tag: str) -> dict:
    """The JSON facts of a tag's message (the line after the subject), signature or not."""
    body = git(repo, "cat-file", "tag", tag).split("\n\n", 1)[1]
    return json.loads(body.splitlines()[2])


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def built(tmp_path: Path, key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A policy-on registry of 200 events; the current directory."""
    repo = tmp_path / "registry"
    assert make_registry.build(repo, EVENTS, policy=True, key=key) == EVENTS
    monkeypatch.chdir(repo)
    return repo


def signed_event(repo: Path, key: Ed25519PrivateKey, tag: str, version: int, facts: dict) -> None:
    """An event tag (and its claim ref) signed with the registry's own key, as `git tag -s` writes it."""
    name, _, seq = tag.split("#")
    commit = git(repo, "rev-parse", f"{name}@v{version}^{{commit}}").strip()
    head = f"object {commit}\ntype commit\ntag {tag}\ntagger Bench <bench@example.com> 1700000100 +0000"
    message = f"{name} v{version} → production\n\n{json.dumps({'modelreg': 1, **facts})}\n"
    text = message + armour(key, f"{head}\n\n{message}".encode()).decode()
    obj = subprocess.run(
        ["git", "mktag"], cwd=repo, input=f"{head}\n\n{text}", capture_output=True, text=True, check=True
    ).stdout.strip()
    git(repo, "update-ref", f"refs/tags/{tag}", obj)
    git(repo, "update-ref", f"refs/modelreg/events/{name}/{seq}", obj)


def test_policy_registry_passes_verify_and_reads_without_warnings(built: Path, cli: Callable[..., Result]) -> None:
    config = (built / ".modelreg" / "config.yaml").read_text()
    assert "review_required: [production]" in config and "require_signed: true" in config
    result = cli("verify", "--json")
    assert result.code == 0, result.out + result.err
    report = json.loads(result.out)
    assert (report["ok"], report["findings"], report["warnings"]) == (True, [], [])
    assert report["events"] == EVENTS // 2
    checked = cli("check-ref", f"bench#production#{BENCH}", "--json")
    assert checked.code == 0 and checked.err == "", checked.err
    facts = json.loads(checked.out)
    assert facts["request"].startswith(f"bench-production-v{BENCH}-")
    assert facts["approved_by"] == policy_registry.REVIEWER
    for args in (["resolve", "bench/production"], ["list", "--json"], ["history", "bench", "--json"]):
        read = cli(*args)
        assert read.code == 0 and read.err == "", (args, read.err)
    assert cli("resolve", "bench/production").out.startswith(f"bench@v{BENCH} ")
    # Each production event came in through its own merge commit, from a branch off the version's commit.
    tag = f"bench#production#{BENCH}"
    merge = payload(built, tag)["merge_commit"]
    parents = git(built, "rev-parse", f"{merge}^1", f"{merge}^2^").split()
    assert parents == [git(built, "rev-parse", f"{tag}^{{commit}}").strip()] * 2
    assert git(built, "for-each-ref", "refs/heads/", "refs/bench/").split("\n")[:-1] == [
        f"{git(built, 'rev-parse', 'main').strip()} commit\trefs/heads/main"
    ]


def test_a_production_event_whose_request_was_never_merged_is_refused(
    built: Path, key: Ed25519PrivateKey, cli: Callable[..., Result]
) -> None:
    """Signed with the right key and naming a request committed on a branch, but that branch was never merged."""
    request = policy_registry.request("bench", BENCH - 1)
    git(built, "checkout", "-q", "-b", "modelreg/request/" + request.id)
    (built / request.path).parent.mkdir(parents=True, exist_ok=True)
    (built / request.path).write_text(requestfile.to_yaml(request))
    git(built, "add", request.path)
    git(built, "commit", "-q", "-m", requestfile.pr_title(request))
    branch = git(built, "rev-parse", "HEAD").strip()
    git(built, "checkout", "-q", "main")
    seq = BENCH + 1
    facts = {
        "action": "assign",
        "kind": "stage",
        "target": "production",
        "version": BENCH - 1,
        "archived": [BENCH],
        "reason": None,
        "request": request.id,
        "approved_by": policy_registry.REVIEWER,
        "merge_commit": branch,
        "requested_by": request.requested_by,
    }
    signed_event(built, key, f"bench#production#{seq}", BENCH - 1, facts)
    result = cli("verify")
    assert result.code == 4
    assert f"bench#production#{seq} names request {request.id!r}, which was never merged" in result.out + result.err
    assert cli("check-ref", f"bench#production#{seq}").code != 0
    resolved = cli("resolve", "bench/production")
    assert resolved.out.startswith(f"bench@v{BENCH} ")  # the refused event never takes effect
    assert f"bench#production#{seq}" in resolved.err


def test_an_unsigned_production_event_is_refused(built: Path, cli: Callable[..., Result]) -> None:
    """The same event as built, its signature stripped: require_signed refuses it, review or not."""
    tag = f"bench#production#{BENCH}"
    raw = git(built, "cat-file", "tag", tag)
    assert "-----BEGIN SSH SIGNATURE-----" in raw
    stripped = raw.split("-----BEGIN SSH SIGNATURE-----")[0]
    obj = subprocess.run(["git", "mktag"], cwd=built, input=stripped, capture_output=True, text=True, check=True)
    git(built, "update-ref", f"refs/tags/{tag}", obj.stdout.strip())
    git(built, "update-ref", f"refs/modelreg/events/bench/{BENCH}", obj.stdout.strip())
    assert cli("verify").code == 4
    assert cli("check-ref", tag).code != 0
    resolved = cli("resolve", "bench/production")
    assert resolved.code != 0 and tag in resolved.err  # nobody else ever held production


def test_the_built_request_and_event_are_what_promote_request_merge_and_apply_write(
    repo: Path, cli: Callable[..., Result], artifact: Callable[..., Path], tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    """Field for field (names and order), beside a real `promote --request`, `git merge --no-ff` and `apply`."""
    config = repo / ".modelreg" / "config.yaml"
    config.write_text(config.read_text().replace("review_required: []", "review_required: [production]"))
    git(repo, "commit", "-q", "-am", "review production")
    assert cli("register", "fraud", artifact("m.pkl", b"w")).code == 0
    created = cli("promote", "fraud", "1", "production", "--request", "--json")
    assert created.code == 0, created.err
    branch = json.loads(created.out)["branch"]
    git(repo, "merge", "-q", "--no-ff", branch, "-m", "Merge request")
    assert cli("apply").code == 0
    real_tag = "fraud#production#1"
    real_merge = payload(repo, real_tag)["merge_commit"]
    real_request = git(repo, "show", f"{real_merge}^2", "--name-only", "--format=%B")

    synthetic = tmp_path / "synthetic"
    make_registry.build(synthetic, EVENTS, policy=True, key=key)
    tag = f"bench#production#{BENCH}"
    assert list(payload(synthetic, tag)) == list(payload(repo, real_tag))
    merge = payload(synthetic, tag)["merge_commit"]
    built_request = git(synthetic, "show", f"{merge}^2", "--name-only", "--format=%B")
    # The request commit: the PR title and body as its message, the request file its only change.
    assert real_request.splitlines()[0] == "modelreg: promote fraud v1 to production"
    assert built_request.splitlines()[0] == f"modelreg: promote bench v{BENCH} to production"
    assert "\n## Promote fraud v1 to production\n" in real_request
    assert f"\n## Promote bench v{BENCH} to production\n" in built_request
    for text in (real_request, built_request):
        (path,) = [line for line in text.splitlines() if line.startswith(".modelreg/")]
        assert path.startswith(".modelreg/requests/") and path.endswith(".yaml")
    real_file = git(repo, "show", f"{real_merge}:{real_request.splitlines()[-1]}")
    built_file = git(synthetic, "show", f"{merge}:{built_request.splitlines()[-1]}")
    keys = [[line.split(":")[0] for line in text.splitlines()] for text in (real_file, built_file)]
    assert keys[0] == keys[1]
    for where, commit in ((repo, real_merge), (synthetic, merge)):
        assert len(git(where, "rev-parse", f"{commit}^@").split()) == 2  # a merge commit, on the main line
        assert git(where, "merge-base", "--is-ancestor", commit, "main") == ""


def test_peak_rss_gives_the_process_own_peak_and_each_git_process(built: Path, tmp_path: Path) -> None:
    """Started by a process that holds 300 MiB, the modelreg process still reports its own peak, not its
    parent's (getrusage's ru_maxrss would carry the parent's over fork and exec), and every git it ran is counted."""
    from peak_rss import git_shim, peaks

    ballast = b"x" * (300 << 20)  # written, so resident: the parent's high-water mark
    out = tmp_path / "rss"
    shim = git_shim(tmp_path / "shim", out)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    script = ROOT / "benchmarks" / "peak_rss.py"
    proc = subprocess.run([sys.executable, script, out, "list", "--json"], cwd=built, env=env, capture_output=True)
    assert proc.returncode == 0, proc.stderr
    own, git_peak, count = peaks(out)
    assert len(ballast) and 5 < own < 200  # MiB: python with modelreg imported, far below the parent's 300
    assert count >= 1 and 0 < git_peak < 200
    traced = subprocess.run(
        [sys.executable, "-m", "modelreg", "list", "--json"],
        cwd=built,
        env={**env, "PATH": os.environ["PATH"], "GIT_TRACE": str(tmp_path / "trace"), "XDG_CACHE_HOME": str(tmp_path)},
        capture_output=True,
        check=True,
    )
    assert traced.stdout == proc.stdout
    started = [line for line in (tmp_path / "trace").read_text().splitlines() if "trace: built-in: git " in line]
    assert count == len(started)  # the same first call (each with an empty cache) started as many


def test_one_events_review_read_at_its_merge_answers_as_the_main_line_walk(
    built: Path, key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lean read checks one production event's review at its own merge commit (`evidence._named_merges`), not by
    walking the main line: the verdict and its words are the walk's, for a good event and for hostile ones."""
    from modelreg.api import Registry
    from modelreg.read import evidence

    real = next(e for e in Registry.open(built).reader.snapshot("bench").events["bench"] if e.target == "production")
    facts = {"action": "assign", "kind": "stage", "target": "production", "version": BENCH - 1}
    facts |= {"archived": [BENCH], "reason": None, "requested_by": "Bench <bench@example.com>"}
    # a request merged into a side branch, which main then merged: its merge is no main-line commit
    request = policy_registry.request("bench", BENCH - 1)
    git(built, "checkout", "-q", "-b", "side")
    git(built, "checkout", "-q", "-b", "modelreg/request/" + request.id)
    (built / request.path).write_text(requestfile.to_yaml(request))
    git(built, "add", request.path)
    git(built, "commit", "-q", "-m", requestfile.pr_title(request))
    git(built, "checkout", "-q", "side")
    git(built, "merge", "-q", "--no-ff", "-m", "merge on the side", "modelreg/request/" + request.id)
    side_merge = git(built, "rev-parse", "HEAD").strip()
    git(built, "checkout", "-q", "main")
    git(built, "merge", "-q", "--no-ff", "-m", "main merges the side", "side")
    seq = BENCH + 1
    hostile = {
        f"bench#production#{seq}": {
            **facts,
            "request": request.id,
            "approved_by": "Bench <bench@example.com>",
            "merge_commit": side_merge,
        },
        f"bench#production#{seq + 1}": {
            **facts,
            "version": real.version,
            "archived": [],
            "request": real.request,
            "approved_by": "Mallory <m@example.com>",
            "merge_commit": real.merge_commit,
        },
    }
    for tag, payload_ in hostile.items():
        signed_event(built, key, tag, payload_["version"], payload_)
    reader = Registry.open(built).reader
    events = reader.snapshot("bench").events["bench"]
    named: list[bool] = []
    targeted = evidence._named_merges

    def spy(*args: object) -> object:
        found = targeted(*args)  # type: ignore[arg-type]
        named.append(found is not None)
        return found

    for tag in [real.tag, *hostile]:
        monkeypatch.setattr(evidence, "_named_merges", spy)
        at_merge = evidence.review_findings(reader.context, {"bench": events}, only=tag)
        monkeypatch.setattr(evidence, "_named_merges", lambda *args: None)
        walked = evidence.review_findings(reader.context, {"bench": events}, only=tag)
        assert at_merge == walked, tag
    assert named == [True, False, True]  # the side merge is left to the walk; the rest read at their merges
    verdicts = {tag: evidence.review_findings(reader.context, {"bench": events}, only=tag) for tag in hostile}
    assert "not the commit that merged it" in verdicts[f"bench#production#{seq}"][0].message
    assert "as approver" in verdicts[f"bench#production#{seq + 1}"][0].message
