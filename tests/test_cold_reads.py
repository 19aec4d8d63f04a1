"""Cold reads decide from the events that can matter (DESIGN §10), and answer exactly as the full replay does.

Histories are random (fixed seeds) and written straight into real repositories (tests/historygen.py):
promotions that archive, rollbacks, unassigns, aliases, retire/unretire, racing tags, and events the
policy refuses (no claim, a claim taken by another tag, another version's commit, an unregistered
version, a payload that is no event, a missing review).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelreg.api import Registry
from modelreg.core.refs import ModelRef
from modelreg.core.signatures import signer_ids
from modelreg.errors import ModelregError
from modelreg.git import GitRepo
from modelreg.git.peeled import raw_objects
from modelreg.models import ModelVersion
from modelreg.ops import checks
from modelreg.read import admission, lean, listing, refcheck, search, searchlean, snapshot
from modelreg.read.reader import ModelView, Reader
from modelreg.read.sshsig import good_report, parse_signers
from modelreg.serving import plan
from tests.conftest import Result, git, run_modelreg
from tests.historygen import ALIASES, STAGES, build
from tests.test_signing import make_key, signed_by_hand


def _full(reg: Reader, ref: ModelRef) -> tuple[Any, ...]:
    """What the full replay answers: the model's every event admitted and replayed."""
    return _answer(reg, ref, lambda: reg.model(ref.name))


def _lean(reg: Reader, ref: ModelRef) -> tuple[Any, ...]:
    """What `resolve` and `sync` answer from the events that can decide `ref` (read lean when `always_lean`)."""
    return _answer(reg, ref, lambda: reg.deciding(ref))


def _answer(reg: Reader, ref: ModelRef, view_of: Callable[[], ModelView]) -> tuple[Any, ...]:
    """The version, its stage, aliases, digest and commit, and the event `sync` hands its hook."""
    try:
        view = view_of()
        version = reg.select(view.state, ref)
        mv = reg.version(view, version)
    except ModelregError as exc:
        return ("error", type(exc).__name__, str(exc))
    deciding = plan.deciding_event(ref, view.state, view.events, version)
    return ("ok", mv.version, mv.stage, mv.aliases, mv.digest, mv.commit, deciding.tag if deciding else None)


def _refs(versions: int) -> list[ModelRef]:
    return [
        ModelRef("fraud"),
        *(ModelRef("fraud", version=v) for v in range(1, versions + 1)),
        *(ModelRef("fraud", stage=s) for s in STAGES),
        *(ModelRef("fraud", alias=a) for a in ALIASES),
    ]


@pytest.fixture
def always_lean(monkeypatch: pytest.MonkeyPatch) -> None:
    """`Reader.resolve` reads lean whatever the model's size (a small model is otherwise read in full)."""
    monkeypatch.setattr(lean, "FULL_READ_BELOW", 0)
    monkeypatch.setattr(snapshot, "kept_small", lambda git, name, cache_dir: False)


@pytest.mark.parametrize("seed", range(40))
def test_lean_answers_as_the_full_replay(tmp_path: Path, seed: int, always_lean: None) -> None:
    held = build(tmp_path / "repo", seed)
    reg = Registry.open(tmp_path / "repo").reader
    rejected = reg.model("fraud").rejected
    decided = 0
    for ref in _refs(held["versions"]):
        full = _full(reg, ref)
        assert _lean(reg, ref) == full, (seed, str(ref))
        for full_answer in (True, False):
            answer = lean.decide(reg.context, ref, full_answer)
            if answer is not None:
                decided += 1
                # What the lean read warns about, the full read warns about too.
                assert _covered(answer.warnings, rejected), (seed, str(ref))
    assert decided > 0 or _moved_version_tags(tmp_path / "repo")  # a moved tag sends reads to the full replay


@pytest.mark.parametrize("seed", range(0, 40, 2))
def test_lean_check_ref_answers_as_the_full_read(tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    build(tmp_path / "repo", seed)
    reg = Registry.open(tmp_path / "repo").reader
    tags = git(tmp_path / "repo", "for-each-ref", "--format=%(refname:strip=2)", "refs/tags/").split()

    def check(tag: str) -> tuple[Any, ...]:
        try:
            return ("ok", checks.check_ref(reg, tag))
        except ModelregError as exc:
            return ("error", type(exc).__name__, str(exc))

    lean_answers = {tag: check(tag) for tag in tags}
    decided = sum(refcheck.lean_ref_check(reg, tag) is not None for tag in tags)
    monkeypatch.setattr(checks, "lean_ref_check", lambda reader, tag: None)
    for tag in tags:
        assert lean_answers[tag] == check(tag), (seed, tag)
    assert decided > 0 or _moved_version_tags(tmp_path / "repo")


def test_list_rows_checked_at_their_deciding_events_are_the_full_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`list` under a policy checks only what decides each row (read.listing): the rows are the full replay's."""
    decided = []
    row = listing._row
    monkeypatch.setattr(listing, "worth_it", lambda ctx: True)
    monkeypatch.setattr(listing, "_row", lambda *args: (answer := row(*args), decided.append(answer))[0])
    for seed in range(40):
        build(tmp_path / str(seed), seed)
        reg = Registry.open(tmp_path / str(seed)).reader
        full = [listing.row(view.state, view.rejected, reg.config.stages) for view in reg.views()]
        rows = reg.models()
        assert [r._replace(warnings=()) for r in rows] == [f._replace(warnings=()) for f in full], seed
        for got, want in zip(rows, full, strict=True):
            assert _covered(got.warnings, want.warnings), seed
    assert sum(answer is not None for answer in decided) >= 20  # most rows were decided lean, not by the fallback


SEARCHES = [
    (None, (), None),
    (None, (), 2),
    ("version >= 3", (), 1),
    ("version <= 4", ("version ASC",), 3),
    ("name = 'fraud'", ("version DESC",), None),
    ("stage = 'production'", (), None),  # reads stages: always the full replay
]


def test_searches_checked_at_what_they_show_are_the_full_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`search` under a policy checks only the versions it shows (read.searchlean): it answers as the full replay."""
    lean_runs = []
    candidates = searchlean.candidates
    monkeypatch.setattr(searchlean, "candidates", lambda *a: (found := candidates(*a), lean_runs.append(found))[0])
    for seed in range(40):
        build(tmp_path / str(seed), seed)
        reg = Registry.open(tmp_path / str(seed)).reader
        for text, order, limit in SEARCHES:
            monkeypatch.setattr(listing, "worth_it", lambda ctx: False)
            full = search.search(reg, text, order_by=order, limit=limit)
            monkeypatch.setattr(listing, "worth_it", lambda ctx: True)
            lean_answer = search.search(reg, text, order_by=order, limit=limit)
            assert [_shown(v) for v in lean_answer.versions] == [_shown(v) for v in full.versions], (seed, text)
            assert _covered(lean_answer.warnings, full.warnings), (seed, text)
    assert sum(found is not None for found in lean_runs) >= 100  # most searches ran lean, not by the fallback


def _shown(mv: ModelVersion) -> tuple[Any, ...]:
    return (mv.name, mv.version, mv.stage, mv.aliases, mv.digest, mv.commit)


def test_the_generated_histories_hold_what_they_should(tmp_path: Path) -> None:
    """The equivalence above means something: refusals, archives and fallbacks all occur in the seeds."""
    rejected: set[str] = set()
    stages: set[str | None] = set()
    errors = 0
    for seed in range(40):
        path = tmp_path / str(seed)
        held = build(path, seed)
        reg = Registry.open(path).reader
        try:
            rejected |= {w.split(": ", 1)[1].split(" ", 1)[-1][:20] for w in reg.model("fraud").rejected}
        except ModelregError:
            errors += 1
        for ref in _refs(held["versions"]):
            answer = _full(reg, ref)
            if answer[0] == "ok":
                stages.add(answer[2])
            else:
                errors += 1
    assert {"staging", "production", "archived", None} <= stages
    assert errors > 0
    assert len(rejected) >= 4, rejected


def test_a_lean_read_opens_only_the_tags_it_needs(tmp_path: Path) -> None:
    """Resolving the production holder of a long history reads a handful of tags, not all of them."""
    build(tmp_path / "repo", seed=7, steps=1)  # a model with one version
    repo = tmp_path / "repo"
    stream = []
    for seq in range(2, 302):
        stream.append(f"create refs/tags/fraud#_describe#{seq} {_describe_tag(repo, seq)}\n")
    subprocess.run(["git", "update-ref", "--stdin"], cwd=repo, input="".join(stream), text=True, check=True)
    reg = Registry.open(repo)
    listing = admission.list_refs(reg.context, "fraud")
    judge = admission.Judge(reg.context, "fraud", listing)
    answer = lean.Query(judge).decide(ModelRef("fraud"), full=True)
    assert answer.state.versions == (1,)
    assert len(judge.events) <= 2, sorted(judge.events)
    assert len(listing.targets["_describe"]) == 300


def _describe_tag(repo: Path, seq: int) -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "refs/tags/fraud@v1^{commit}"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()
    payload = {"modelreg": 1, "action": "describe", "kind": "model", "target": "_describe", "version": 1}
    message = f"describe\n\n{json.dumps({**payload, 'description': f'd{seq}'})}\n"
    tagger = "Jane Doe <jane@example.com> 1767323045 +0000"
    text = f"object {commit}\ntype commit\ntag fraud#_describe#{seq}\ntagger {tagger}\n\n{message}"
    return subprocess.run(
        ["git", "mktag"], cwd=repo, input=text, check=True, capture_output=True, text=True
    ).stdout.strip()


# --- signatures checked in process, against git's own verdicts ------------------------------------


def _key(directory: Path, who: str, kind: str) -> tuple[Path, str]:
    key = directory / who
    args = ["-t", kind] + (["-b", "2048"] if kind == "rsa" else [])
    subprocess.run(["ssh-keygen", "-q", *args, "-N", "", "-C", who, "-f", str(key)], check=True)
    return key, key.with_suffix(".pub").read_text().strip()


def _sign(repo: Path, key: Path, tag: str) -> str:
    subprocess.run(
        ["git", "-c", "gpg.format=ssh", "-c", f"user.signingkey={key}", "tag", "-s", "-m", f"event {tag}", tag],
        cwd=repo,
        check=True,
    )
    return _rev(repo, f"refs/tags/{tag}")


def _rev(repo: Path, rev: str) -> str:
    return subprocess.run(
        ["git", "rev-parse", rev], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
def test_in_process_ssh_verdicts_agree_with_git(tmp_path: Path) -> None:
    """Every tag the in-process check accepts, git accepts with the same signer; the rest are git's to judge."""
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "init"], cwd=repo, check=True)
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    people = {
        "alice": ("ed25519", 'namespaces="git"'),
        "bob": ("ecdsa", ""),
        "carol": ("rsa", 'valid-after="20250101"'),
        "dave": ("ed25519", 'valid-before="20200101"'),  # expired long before it signed
        "erin": ("ed25519", 'valid-after="20990101Z"'),  # not valid yet
        "frank": ("ed25519", 'namespaces="file"'),  # not for git
        "grace": ("ed25519", ""),  # revoked
        "heidi": ("ed25519", 'valid-before="20260601Z"'),  # valid when it signed (the tagger's time), not today
    }
    keys: dict[str, Path] = {}
    lines = []
    for who, (kind, options) in people.items():
        keys[who], public = _key(keys_dir, who, kind)
        lines.append(f"{who}@example.com {options} {public}".replace("  ", " "))
    keys["mallory"], _ = _key(keys_dir, "mallory", "ed25519")  # in nobody's file
    allowed = tmp_path / "allowed_signers"
    allowed.write_text("\n".join(lines) + "\n")
    revoked = tmp_path / "revoked"
    revoked.write_text(keys["grace"].with_suffix(".pub").read_text())
    subprocess.run(["git", "config", "gpg.ssh.revocationFile", str(revoked)], cwd=repo, check=True)

    objects = {who: _sign(repo, key, f"t-{who}") for who, key in keys.items()}
    good = subprocess.run(["git", "cat-file", "tag", objects["alice"]], cwd=repo, capture_output=True, check=True)
    tampered = good.stdout.replace(b"event t-alice", b"event t-alicf")
    objects["tampered"] = (
        subprocess.run(["git", "mktag"], cwd=repo, input=tampered, capture_output=True, check=True)
        .stdout.decode()
        .strip()
    )
    subprocess.run(["git", "tag", "-a", "-m", "unsigned", "t-unsigned"], cwd=repo, check=True)
    objects["unsigned"] = _rev(repo, "refs/tags/t-unsigned")

    git = GitRepo(repo)
    signers = parse_signers(allowed.read_text(), revoked.read_text())
    assert signers is not None
    raws = dict(zip(objects, raw_objects(git, list(objects.values())), strict=True))
    verdicts = {}
    for who, obj in objects.items():
        accepted, report = git.verify_tag(obj, allowed)
        raw = raws[who]
        assert raw is not None
        mine = good_report(raw, signers)
        verdicts[who] = (accepted, mine is not None)
        if mine is not None:
            assert accepted, (who, report)
            assert signer_ids(mine) == signer_ids(report)[: len(signer_ids(mine))], (who, mine, report)
    assert {who for who, (_, mine) in verdicts.items() if mine} == {"alice", "bob", "carol", "heidi"}, verdicts
    assert {who for who, (git_ok, _) in verdicts.items() if git_ok} == {"alice", "bob", "carol", "heidi"}, verdicts


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
def test_signed_reads_ask_ssh_keygen_only_about_what_the_in_process_check_refuses(
    repo: Path, tmp_path: Path, cli: Callable[..., Result], artifact: Callable[..., Path]
) -> None:
    """ssh-keygen (git's program for SSH signatures, wrapped to count its runs) is asked only about the
    tag an unlisted key signed; the read falls back past it to the holder before."""
    (jane, mallory), _ = _require_signatures(repo, tmp_path, allowed=("jane",))
    log = tmp_path / "ssh-keygen.log"
    wrapper = tmp_path / "ssh-keygen-counted"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {shutil.which("ssh-keygen")} "$@"\n')
    wrapper.chmod(0o755)
    for key, value in (("gpg.format", "ssh"), ("user.signingkey", str(jane)), ("gpg.ssh.program", str(wrapper))):
        git(repo, "config", key, value)
    for version in (1, 2):
        assert cli("register", "fraud", artifact(f"m{version}", f"w{version}".encode())).code == 0
    assert cli("promote", "fraud", "1", "production").code == 0
    assert cli("alias", "set", "fraud", "champion", "2").code == 0

    def verifications() -> list[str]:
        runs = log.read_text().splitlines() if log.exists() else []
        log.unlink(missing_ok=True)
        return [run for run in runs if "-Y verify" in run or "-Y find-principals" in run]

    verifications()
    shutil.rmtree(Path(os.environ["XDG_CACHE_HOME"]), ignore_errors=True)  # a cold read
    assert cli("resolve", "fraud@champion").out.split()[0] == "fraud@v2"
    assert verifications() == []
    signed_by_hand(repo, mallory, "fraud#production#3", 2)
    shutil.rmtree(Path(os.environ["XDG_CACHE_HOME"]), ignore_errors=True)
    result = cli("resolve", "fraud/production")
    assert result.out.split()[0] == "fraud@v1", result.err
    assert "fraud#production#3" in result.err
    asked = verifications()
    assert asked and all(run.count("-s") for run in asked)
    shutil.rmtree(Path(os.environ["XDG_CACHE_HOME"]), ignore_errors=True)
    assert cli("verify").code != 0  # mallory's event
    assert 0 < len(verifications()) <= 2  # find-principals for mallory's tag only
    # What git said is written once, when the process ends: the next process asks it nothing.
    shutil.rmtree(Path(os.environ["XDG_CACHE_HOME"]), ignore_errors=True)
    run_modelreg(repo, "list")
    assert verifications()
    assert "fraud#production#3" in run_modelreg(repo, "list").stderr
    assert verifications() == []


_UNCLAIMED = re.compile(r"^ignoring (\d+ tags of \S+ \(.*\): this clone has no claim refs|\S+: has no claim ref )")


def _require_signatures(repo: Path, tmp_path: Path, allowed: tuple[str, ...]) -> tuple[tuple[Path, Path], list[str]]:
    """Keys for jane and mallory; the registry requires signatures by those `allowed` (committed). Returns
    (their private keys, the allowed-signers lines)."""
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    keys = {who: make_key(keys_dir, f"{who}@example.com") for who in ("jane", "mallory")}
    lines = [f'{who}@example.com namespaces="git" {keys[who][1]}\n' for who in allowed]
    (repo / ".modelreg" / "allowed_signers").write_text("".join(lines))
    config = repo / ".modelreg" / "config.yaml"
    config.write_text(config.read_text() + "require_signed: true\nallowed_signers: .modelreg/allowed_signers\n")
    git(repo, "add", ".modelreg")
    git(repo, "commit", "-q", "-m", "modelreg: require signed events")
    return (keys["jane"][0], keys["mallory"][0]), lines


def _covered(lean_warnings: tuple[str, ...], full_warnings: tuple[str, ...]) -> bool:
    """What the lean read warns about, the full read warns about too; both word a clone's missing claim
    refs as one line, each over the tags it read, so those lines need only both be there."""
    full = set(full_warnings)
    full_unclaimed = any(_UNCLAIMED.match(w) for w in full)
    return all(w in full or (_UNCLAIMED.match(w) is not None and full_unclaimed) for w in lean_warnings)


def _moved_version_tags(repo: Path) -> list[str]:
    """Version tags that are not the tag object their claim ref names (the full read lets the claim decide)."""
    tags = dict(
        line.split(" ", 1)[::-1]
        for line in git(repo, "for-each-ref", "--format=%(objectname) %(refname:strip=2)", "refs/tags/").split("\n")
        if "@v" in line
    )
    claims = git(repo, "for-each-ref", "--format=%(objectname) %(refname)", "refs/modelreg/versions/").split("\n")
    moved = []
    for line in claims:
        if not line:
            continue
        obj, ref = line.split(" ")
        name, version = ref.split("/")[-2:]
        tag = f"{name}@v{version}"
        if tag in tags and tags[tag] != obj:
            moved.append(tag)
    return moved


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
def test_signed_list_and_search_check_what_they_show_and_fall_back_past_refused_tags(
    repo: Path, tmp_path: Path, cli: Callable[..., Result], artifact: Callable[..., Path]
) -> None:
    """Under `require_signed`, `list` and `search` check the tags that decide what they show, in one batch; a
    version and an event signed by a key the allowed-signers file does not hold are left out, as the full read
    leaves them out, and said."""
    (jane, mallory), lines = _require_signatures(repo, tmp_path, allowed=("jane", "mallory"))
    signers = repo / ".modelreg" / "allowed_signers"
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", str(mallory))
    assert cli("register", "fraud", artifact("m0", b"w0")).code == 0  # fraud@v1, signed by mallory
    git(repo, "config", "user.signingkey", str(jane))
    for version in (2, 3, 4):
        assert cli("register", "fraud", artifact(f"m{version}", f"w{version}".encode())).code == 0
        assert cli("register", "churn", artifact(f"c{version}", f"c{version}".encode())).code == 0
    assert cli("promote", "fraud", "2", "production").code == 0
    assert cli("alias", "set", "fraud", "champion", "3").code == 0
    assert cli("describe", "fraud", "-d", "Card fraud", "-t", "team=risk", "-r", "handover").code == 0
    assert cli("describe", "fraud", "-t", "tier=1", "-r", "tiering").code == 0
    git(repo, "config", "user.signingkey", str(mallory))
    assert cli("register", "fraud", artifact("m5", b"w5")).code == 0  # fraud@v5, signed by mallory
    assert cli("register", "churn", artifact("c5", b"c5")).code == 0  # churn@v4, signed by mallory
    mallorys_event = json.loads(cli("promote", "fraud", "3", "production", "--json").out)["tag"]  # signed by mallory
    signers.write_text(lines[0])  # mallory's key is withdrawn
    git(repo, "commit", "-q", "-am", "modelreg: mallory no longer signs")
    reg = Registry.open(repo).reader
    full = [listing.row(view.state, view.rejected, reg.config.stages) for view in reg.views()]
    rows = reg.models()
    assert [r._replace(warnings=(), versions=0) for r in rows] == [f._replace(warnings=(), versions=0) for f in full]
    fraud = {r.name: r for r in rows}["fraud"]
    assert (fraud.latest, fraud.stages, fraud.aliases) == (4, {"production": 2}, {"champion": 3})
    assert (fraud.description, dict(fraud.tags)) == ("Card fraud", {"team": "risk", "tier": 1})
    assert fraud.versions == 4  # the claimed versions, less v5 whose signature decided `latest`; v1's is not read
    assert any(mallorys_event in w for w in fraud.warnings) and any("fraud@v5" in w for w in fraud.warnings)
    found = search.search(reg, None, model="fraud")
    shown = [(v.version, v.stage, v.aliases) for v in found.versions]
    assert shown == [(4, None, ()), (3, None, ("champion",)), (2, "production", ())]  # the full read's answer
    assert any("fraud@v5" in w for w in found.warnings)
    newest = search.search(reg, "version <= 3", limit=1, model="fraud").versions
    assert [(v.version, v.stage, v.aliases) for v in newest] == [(3, None, ("champion",))]  # checked, and shown
    assert [v.version for v in search.search(reg, None, model="churn").versions] == [3, 2, 1]
    assert {r.name: r for r in rows}["churn"].latest == 3
