"""`modelreg verify` and `modelreg gc` on real repositories and a local store."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import modelreg
from tests.conftest import git, start_modelreg


def blob_file(repo: Path, digest: str) -> Path:
    hexdigest = digest.removeprefix("sha256:")
    return repo / ".modelreg/store/blobs/sha256" / hexdigest[:2] / hexdigest


def findings(cli, *args):
    result = cli("verify", *args, "--json")
    return result.code, json.loads(result.out)


def test_a_clean_registry_verifies(repo, cli, artifact):
    cli("register", "m", artifact())
    cli("promote", "m", "1", "production")
    code, report = findings(cli, "--blobs")
    assert code == 0
    assert report == {"ok": True, "models": 1, "versions": 1, "events": 1, "blobs": 1, "findings": [], "warnings": []}
    assert cli("verify").out.startswith("OK: 1 models, 1 versions, 1 events")


def test_a_tampered_blob_fails_verify_blobs(repo, cli, artifact):
    cli("register", "m", artifact(content=b"original bytes"))
    digest = json.loads(cli("resolve", "m", "--json").out)["digest"]
    blob = blob_file(repo, digest)
    os.chmod(blob, 0o644)
    blob.write_bytes(b"tampered bytes")
    assert findings(cli)[0] == 0  # without --blobs the bytes are not read
    code, report = findings(cli, "--blobs")
    assert code == 4
    assert [f["kind"] for f in report["findings"]] == ["blob"]
    assert digest in report["findings"][0]["message"] and "hashes to" in report["findings"][0]["message"]


def test_a_missing_blob_fails_verify_blobs(repo, cli, artifact):
    cli("register", "m", artifact())
    digest = json.loads(cli("resolve", "m", "--json").out)["digest"]
    blob_file(repo, digest).unlink()
    code, report = findings(cli, "m", "--blobs")
    assert code == 4
    assert "missing from store .modelreg/store" in report["findings"][0]["message"]


def test_register_replaces_a_truncated_blob(repo, cli, artifact):
    path = artifact(content=b"x" * 1000)
    cli("register", "m", path)
    digest = json.loads(cli("resolve", "m", "--json").out)["digest"]
    blob = blob_file(repo, digest)
    os.chmod(blob, 0o644)
    blob.write_bytes(b"x" * 10)
    assert cli("register", "m", path).code == 0
    assert blob.read_bytes() == b"x" * 1000
    assert findings(cli, "--blobs")[0] == 0


def test_verify_reports_broken_history(repo, cli, artifact):
    cli("register", "m", artifact())
    cli("promote", "m", "1", "staging")
    # a tag without its claim ref, a second tag on seq 1, and a malformed tag with our name
    commit = git(repo, "rev-parse", "m@v1^{commit}").strip()
    payload = json.dumps(
        {
            "modelreg": 1,
            "action": "assign",
            "kind": "alias",
            "target": "champion",
            "version": 1,
            "archived": [],
            "reason": None,
            "request": None,
        }
    )
    git(repo, "tag", "-a", "-m", f"forged\n\n{payload}", "m#champion#1", commit)
    git(repo, "tag", "m#production#7", commit)
    code, report = findings(cli)
    assert code == 4
    messages = "\n".join(f["message"] for f in report["findings"])
    assert "m#champion#1 has no claim ref refs/modelreg/events/m/1" not in messages  # the claim exists…
    assert "claims another tag object than m#champion#1" in messages  # …but for the other tag
    assert "seq 1 is taken by more than one tag: m#champion#1, m#staging#1" in messages
    assert "m#production#7: a lightweight tag" in messages


def test_verify_reports_a_changed_manifest(repo, cli, artifact):
    cli("register", "m", artifact())
    path = repo / ".modelreg/models/m/v1.yaml"
    path.write_text(path.read_text().replace("description: ''", "description: edited"))
    assert findings(cli)[0] == 0  # description may change
    path.write_text(path.read_text().replace("schema:", "extra: 1\nschema:"))
    code, report = findings(cli)
    assert code == 4
    assert "differs from m@v1 in extra" in report["findings"][0]["message"]


def test_gc_lists_then_deletes_only_unreferenced_old_blobs(repo, cli, artifact):
    cli("register", "m", artifact(content=b"kept"))
    store = repo / ".modelreg/store/blobs/sha256"
    orphan = store / "ab" / ("ab" + "0" * 62)
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"nobody references me")
    young = store / "cd" / ("cd" + "0" * 62)
    young.parent.mkdir(parents=True)
    young.write_bytes(b"just uploaded")
    old = time.time() - 3 * 24 * 3600
    os.utime(orphan, (old, old))

    listed = json.loads(cli("gc", "--json").out)
    assert [b["digest"] for b in listed["unreferenced"]] == ["sha256:ab" + "0" * 62]
    assert (listed["referenced"], listed["young"], listed["deleted"]) == (1, 1, False)
    assert orphan.exists()
    assert "Run again with --yes" in cli("gc").out

    assert cli("gc", "--yes").code == 0
    assert not orphan.exists() and young.exists()
    assert findings(cli, "--blobs")[0] == 0
    assert cli("gc", "--yes", "--dry-run").code == 1


def test_a_register_killed_mid_copy_leaves_no_blob_and_the_next_one_succeeds(repo, cli, tmp_path):
    big = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with open(big, "wb") as handle:
        for _ in range(64):
            chunk = os.urandom(4 << 20)  # 256 MiB: long enough to be caught mid-way
            handle.write(chunk)
            digest.update(chunk)
    final_key = repo / ".modelreg/store/blobs/sha256" / digest.hexdigest()[:2] / digest.hexdigest()
    proc = start_modelreg(repo, "register", "m", str(big), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial = repo / ".modelreg/store/tmp"
    deadline = time.monotonic() + 60
    while not (partial.is_dir() and any(partial.iterdir())):
        assert proc.poll() is None, "register finished before a partial copy was seen: nothing was tested"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    # The kill came mid-copy: the blob is not visible under its final key, and no version was tagged.
    assert not final_key.exists()
    assert git(repo, "tag", "-l") == ""
    result = cli("register", "m", big, "--json")
    assert result.code == 0, result.err
    assert final_key.stat().st_size == big.stat().st_size
    assert findings(cli, "--blobs")[0] == 0


def test_a_negative_grace_period_is_refused_by_the_api_and_the_cli(repo, cli):
    with pytest.raises(modelreg.InvalidInputError, match="grace period must not be negative"):
        modelreg.Registry.open(repo).gc(grace_s=-1)
    result = cli("gc", "--grace-hours", "-1")
    assert result.code == 1 and result.err == "error: the grace period must not be negative\n"


def shared_blob(remote: Path, digest: str) -> Path:
    hexdigest = digest.removeprefix("sha256:")
    return remote.parent / "shared-store/blobs/sha256" / hexdigest[:2] / hexdigest


def test_gc_in_a_clone_without_the_tags_fetches_them_and_deletes_no_pushed_blob(clone, remote, cli, monkeypatch):
    a = clone("a")
    (a.parent / "pushed.bin").write_bytes(b"pushed weights")
    digest = modelreg.Registry.open(a).register("m", a.parent / "pushed.bin", push=True).digest
    b = clone("b", "--no-tags")
    assert git(b, "tag", "-l") == "" and (b / ".modelreg/models/m/v1.yaml").is_file()
    monkeypatch.chdir(b)
    result = cli("gc", "--yes", "--grace-hours", "0", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert (report["referenced"], report["unreferenced"]) == (1, [])
    assert shared_blob(remote, digest).read_bytes() == b"pushed weights"
    assert git(b, "tag", "-l").split() == ["m@v1"]


def test_gc_refuses_while_a_manifest_on_the_branch_has_no_version_tag_here(clone, remote, cli, monkeypatch):
    a = clone("a")
    (a.parent / "local.bin").write_bytes(b"registered without --push")
    digest = modelreg.Registry.open(a).register("m", a.parent / "local.bin", push=False).digest
    git(a, "push", "-q", "origin", "main")  # the branch went to the remote, its version tag did not
    b = clone("b")
    monkeypatch.chdir(b)
    for args in (["--yes"], ["--json"]):
        result = cli("gc", "--grace-hours", "0", *args)
        assert result.code == 1 and result.out == ""
        message = json.loads(result.err)["error"] if "--json" in args else result.err.removeprefix("error: ")
        assert message.startswith("cannot tell which blobs are referenced: ")
        assert "m@v1" in message and "modelreg fetch" in message and result.err.count("\n") == 1
    assert shared_blob(remote, digest).is_file()


def test_gc_without_a_remote_refuses_when_a_version_tag_is_missing(repo, cli, artifact):
    digest = json.loads(cli("register", "m", artifact(content=b"kept"), "--json").out)["artifact"]["digest"]
    git(repo, "tag", "-d", "m@v1")
    result = cli("gc", "--yes", "--grace-hours", "0")
    assert result.code == 1 and "m@v1" in result.err and "modelreg fetch" in result.err
    assert blob_file(repo, digest).is_file()
