"""Signed events: `--sign` with a real SSH key, `require_signed`, allowed signers per stage."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result, git, repo_state

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")


def make_key(directory: Path, principal: str) -> tuple[Path, str]:
    """A passphrase-less ed25519 key: (private key path, public key line)."""
    key = directory / principal.split("@")[0]
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", principal, "-f", str(key)], check=True)
    return key, key.with_suffix(".pub").read_text().strip()


@pytest.fixture
def signed(repo: Path, tmp_path: Path, cli: Callable[..., Result], artifact: Callable[..., Path]) -> dict[str, Path]:
    """A registry that requires signed events; jane may sign production, eve only other stages."""
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    keys = {}
    lines = []
    for who in ("jane", "eve", "mallory"):
        key, public = make_key(keys_dir, f"{who}@example.com")
        keys[who] = key
        if who != "mallory":  # mallory's key is in nobody's allowed-signers file
            lines.append(f'{who}@example.com namespaces="git" {public}')
    (repo / ".modelreg" / "allowed_signers").write_text("\n".join(lines) + "\n")
    config = repo / ".modelreg" / "config.yaml"
    config.write_text(
        config.read_text()
        + "require_signed: true\nallowed_signers: .modelreg/allowed_signers\n"
        + "signers:\n  production: [jane@example.com]\n"
    )
    git(repo, "add", ".modelreg")
    git(repo, "commit", "-q", "-m", "modelreg: require signed events")
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", str(keys["jane"]))
    for version in (1, 2):
        assert cli("register", "fraud", artifact(f"m{version}", f"w{version}".encode())).code == 0
    return keys


def findings(cli: Callable[..., Result]) -> list[str]:
    result = cli("verify", "--json")
    return [f["message"] for f in json.loads(result.out)["findings"] if f["kind"] == "signature"]


def test_events_are_signed_by_default_and_verify(signed: dict[str, Path], repo: Path, cli) -> None:
    assert cli("promote", "fraud", "1", "production").code == 0
    assert cli("alias", "set", "fraud", "champion", "1").code == 0
    assert "-----BEGIN SSH SIGNATURE-----" in git(repo, "cat-file", "tag", "fraud#production#1")
    assert cli("verify").code == 0
    check = cli("check-ref", "fraud#production#1")
    assert check.code == 0, check.err
    assert json.loads(check.out)["version"] == 1


def signed_by_hand(repo: Path, key: Path | None, tag: str, version: int) -> None:
    """An event tag and its claim ref made with plain git (signed with `key`, or not at all)."""
    name, target, seq = tag.split("#")
    commit = git(repo, "rev-parse", f"{name}@v{version}^{{commit}}").strip()
    body = {"modelreg": 1, "action": "assign", "kind": "stage", "target": target, "version": version, "archived": []}
    message = f"{name} v{version} → {target}\n\n{json.dumps(body)}\n"
    sign = ["-c", f"user.signingkey={key}", "tag", "-s"] if key else ["tag", "-a"]
    subprocess.run(
        ["git", *sign, "--cleanup=verbatim", "-F", "-", tag, commit], cwd=repo, input=message, text=True, check=True
    )
    git(repo, "update-ref", f"refs/modelreg/events/{name}/{seq}", git(repo, "rev-parse", f"refs/tags/{tag}").strip())


def test_an_unsigned_event_is_refused_and_a_hand_made_one_is_ignored(signed: dict[str, Path], repo: Path, cli) -> None:
    before = repo_state(repo)
    refused = cli("promote", "fraud", "1", "staging", "--no-sign")
    assert refused.code == 1 and "requires signed events" in refused.err and "drop --no-sign" in refused.err
    assert repo_state(repo) == before
    signed_by_hand(repo, None, "fraud#staging#1", 1)
    assert findings(cli) == ["fraud#staging#1 is not signed"]
    result = cli("check-ref", "fraud#staging#1")
    assert result.code == 4 and "is not signed" in result.err
    shown = cli("show", "fraud@1", "--json")
    assert json.loads(shown.out)["stage"] is None
    assert shown.err == "warning: ignoring fraud#staging#1: is not signed\n"
    assert cli("resolve", "fraud/staging").code == 1


def test_a_signer_not_allowed_for_the_stage_is_refused_and_never_served(
    signed: dict[str, Path], repo: Path, cli
) -> None:
    git(repo, "config", "user.signingkey", str(signed["eve"]))
    assert cli("promote", "fraud", "1", "staging").code == 0  # eve may sign staging events
    before = repo_state(repo)
    refused = cli("promote", "fraud", "1", "production")
    assert refused.code == 1 and "not among the signers allowed for 'production'" in refused.err
    assert repo_state(repo) == before
    signed_by_hand(repo, signed["eve"], "fraud#production#2", 1)
    assert findings(cli) == [
        "fraud#production#2 is signed by eve@example.com, who is not among the signers allowed for 'production'"
    ]
    assert cli("check-ref", "fraud#staging#1").code == 0
    assert cli("check-ref", "fraud#production#2").code == 4
    result = cli("resolve", "fraud/production")
    assert result.code == 1 and "warning: ignoring fraud#production#2" in result.err
    assert json.loads(cli("resolve", "fraud/staging", "--json").out)["version"] == 1


def test_a_key_outside_the_allowed_signers_is_refused_and_never_served(
    signed: dict[str, Path], repo: Path, cli
) -> None:
    git(repo, "config", "user.signingkey", str(signed["mallory"]))
    before = repo_state(repo)
    refused = cli("promote", "fraud", "2", "staging")
    assert refused.code == 1 and "git does not accept its signature" in refused.err
    assert repo_state(repo) == before
    signed_by_hand(repo, signed["mallory"], "fraud#staging#1", 2)
    (message,) = findings(cli)
    assert message.startswith("fraud#staging#1: git does not accept its signature")
    assert cli("resolve", "fraud/staging").code == 1


def test_a_missing_key_writes_nothing(signed: dict[str, Path], repo: Path, cli) -> None:
    # git 2.39 exits 0 and makes an UNSIGNED tag here; modelreg must notice and write nothing.
    git(repo, "config", "user.signingkey", str(repo.parent / "no-such-key"))
    before = repo_state(repo)
    result = cli("promote", "fraud", "1", "production", "--sign")
    assert result.code == 1
    assert "fraud#production#1" in result.err and result.err.count("\n") == 1
    assert repo_state(repo) == before


def test_a_missing_allowed_signers_file_is_a_finding(signed: dict[str, Path], repo: Path, cli) -> None:
    assert cli("promote", "fraud", "1", "staging").code == 0
    (repo / ".modelreg" / "allowed_signers").unlink()
    git(repo, "commit", "-qam", "drop the allowed signers")
    tip = git(repo, "rev-parse", "HEAD").strip()
    assert findings(cli) == [
        f"the allowed-signers file .modelreg/allowed_signers named in the config is not committed at {tip[:12]}"
    ]


def test_apply_signs_the_events_it_writes(signed: dict[str, Path], repo: Path, cli) -> None:
    created = json.loads(cli("promote", "fraud", "2", "production", "--request", "--json").out)
    git(repo, "merge", "-q", "--no-ff", created["branch"], "-m", "Merge")
    result = cli("apply", "--json")
    assert result.code == 0, result.err
    assert cli("verify").code == 0
    assert "-----BEGIN SSH SIGNATURE-----" in git(repo, "cat-file", "tag", "fraud#production#1")


def test_version_tags_are_signed_and_an_unsigned_one_is_not_a_version(
    signed: dict[str, Path], repo: Path, cli, tmp_path: Path
) -> None:
    from tests.test_policy import version_tag_by_hand

    assert "-----BEGIN SSH SIGNATURE-----" in git(repo, "cat-file", "tag", "fraud@v1")
    assert cli("check-ref", "fraud@v1").code == 0
    version_tag_by_hand(repo, "fraud", 3, like=1, claim=True)  # claimed, but not signed
    check = cli("check-ref", "fraud@v3")
    assert check.code == 4 and "fraud@v3 is not signed" in check.err
    resolved = cli("resolve", "fraud", "--json")
    assert json.loads(resolved.out)["version"] == 2 and "ignoring fraud@v3: is not signed" in resolved.err
    version_tag_by_hand(repo, "fraud", 4, like=1, claim=True, sign=signed["mallory"])  # a key nobody allows
    assert cli("check-ref", "fraud@v4").code == 4
    assert json.loads(cli("resolve", "fraud", "--json").out)["version"] == 2


def test_the_allowed_signers_are_the_main_branchs_not_the_work_trees(
    signed: dict[str, Path], repo: Path, cli, tmp_path: Path
) -> None:
    """Adding a key to the checked-out allowed-signers file (uncommitted, or on a branch) admits nobody."""
    public = signed["mallory"].with_suffix(".pub").read_text().strip()
    signers = repo / ".modelreg" / "allowed_signers"
    signers.write_text(signers.read_text() + f'mallory@example.com namespaces="git" {public}\n')
    signed_by_hand(repo, signed["mallory"], "fraud#staging#1", 2)
    assert cli("check-ref", "fraud#staging#1").code == 4
    assert cli("resolve", "fraud/staging").code == 1
    git(repo, "checkout", "-q", "-b", "mallorys-branch")
    git(repo, "commit", "-qam", "trust mallory")
    assert cli("check-ref", "fraud#staging#1").code == 4  # main's file still does not name her
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--ff-only", "mallorys-branch")
    assert cli("check-ref", "fraud#staging#1").code == 0  # once main says so, it counts


def test_reads_remember_gits_verdicts_per_tag_and_signers_file(
    signed: dict[str, Path], repo: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelreg.git import GitRepo

    assert cli("promote", "fraud", "1", "production").code == 0
    asked: list[str] = []
    real = GitRepo.verify_tag

    def counting(self: GitRepo, tag: str, allowed_signers: Path | None = None) -> tuple[bool, str]:
        asked.append(tag)
        return real(self, tag, allowed_signers)

    monkeypatch.setattr(GitRepo, "verify_tag", counting)
    assert cli("resolve", "fraud/production").code == 0
    assert asked == []  # the writes checked these tags against this signers file already
    assert cli("verify").code == 0
    assert asked == []  # verify checks every tag afresh, in process: git is asked only about what that refuses
    asked.clear()
    assert cli("resolve", "fraud/production").code == 0
    assert asked == []
    # Jane leaves the allowed signers on main: every verdict that named her file is void.
    signers = repo / ".modelreg" / "allowed_signers"
    signers.write_text("".join(line for line in signers.read_text().splitlines(True) if "jane@" not in line))
    git(repo, "commit", "-qam", "jane leaves")
    resolved = cli("resolve", "fraud/production")
    assert resolved.code == 1 and len(set(asked)) == 3  # the in-process check only says yes: git says no
    assert "ignoring fraud#production#1: git does not accept its signature" in resolved.err
