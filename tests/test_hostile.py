"""Hostile repositories (issue 12): tags and manifests crafted with plain git end in one clean line,
stay isolated to their model, and make pull write nothing."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelreg.formats import yamlio
from tests.conftest import Result, git
from tests.test_bad_input import assert_refused


@pytest.fixture
def two_models(repo: Path, cli: Callable[..., Result], artifact: Callable[..., Path]) -> Path:
    """`m` v1 (5 bytes) and `other` v1, registered the ordinary way."""
    assert cli("register", "m", artifact("m.bin", b"12345")).code == 0
    assert cli("register", "other", artifact("o.bin", b"other")).code == 0
    return repo


def forged_event(repo: Path, tag: str, version: int, body: bytes) -> None:
    """An event tag whose message body is `body` (any bytes), with its claim ref, made with `git mktag`."""
    name, _, seq = tag.split("#")
    commit = git(repo, "rev-parse", f"{name}@v{version}^{{commit}}").strip()
    head = f"object {commit}\ntype commit\ntag {tag}\ntagger Mallory <m@example.com> 1767323045 +0000\n\n"
    made = subprocess.run(
        ["git", "mktag"], cwd=repo, input=head.encode() + b"forged\n\n" + body + b"\n", check=True, capture_output=True
    )
    obj = made.stdout.decode().strip()
    git(repo, "update-ref", f"refs/tags/{tag}", obj)
    git(repo, "update-ref", f"refs/modelreg/events/{name}/{seq}", obj)


def forged_version(repo: Path, name: str, version: int, text: bytes) -> None:
    """Commit `text` as v`version`'s manifest and give it a claimed version tag recording v1's digest,
    as someone with push rights could."""
    path = repo / f".modelreg/models/{name}/v{version}.yaml"
    path.write_bytes(text)
    git(repo, "add", str(path))
    git(repo, "commit", "-q", "-m", f"register {name} v{version}")
    digest = json.loads(git(repo, "tag", "-l", "--format=%(contents:body)", f"{name}@v1"))["digest"]
    body = {"modelreg": 1, "action": "register", "version": version, "digest": digest}
    tag = f"{name}@v{version}"
    message = f"{name} v{version}: registered\n\n{json.dumps(body)}\n"
    subprocess.run(["git", "tag", "-a", "-F", "-", tag], cwd=repo, input=message, text=True, check=True)
    git(
        repo,
        "update-ref",
        f"refs/modelreg/versions/{name}/{version}",
        git(repo, "rev-parse", f"refs/tags/{tag}").strip(),
    )


def manifest_like_v1(repo: Path, **artifact: Any) -> dict[str, Any]:
    """m's v1 manifest as v2, with `artifact` keys replaced."""
    data = yamlio.load((repo / ".modelreg/models/m/v1.yaml").read_text(), "v1.yaml")
    data["version"] = 2
    data["artifact"].update(artifact)
    return data


def assert_others_read_fine(cli: Callable[..., Result]) -> None:
    assert json.loads(cli("show", "other", "--json").out)["version"] == 1
    assert json.loads(cli("show", "m@1", "--json").out)["version"] == 1
    listed = cli("list", "--json")
    assert listed.code == 0, listed.err
    assert {m["name"] for m in json.loads(listed.out)} == {"m", "other"}


# --- event tags --------------------------------------------------------------------------------


def payload(**changes: str) -> bytes:
    """A production assignment of v1 as JSON text, with values replaced by raw JSON text."""
    fields = {"modelreg": "1", "action": '"assign"', "kind": '"stage"', "target": '"production"', "version": "1"}
    fields.update(changes)
    return ("{" + ", ".join(f'"{key}": {value}' for key, value in fields.items()) + "}").encode(
        "utf-8", "surrogateescape"
    )


HOSTILE_BODIES = {
    "nested 100,000 deep": b"[" * 100_000,
    "nested 100,000 deep inside a payload": payload(reason="[" * 100_000 + "]" * 100_000),
    "a 5,000-digit version": payload(version="7" * 5000),
    "a lone surrogate in the reason": payload(reason='"\\ud800"'),
    "bytes that are not UTF-8 in the reason": payload(reason='"\udcff\udcfe"'),
}


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_a_hostile_event_tag_is_ignored_and_reported(two_models, cli, body):
    forged_event(two_models, "m#production#1", 1, body)

    history = cli("history", "m", "--json")
    assert history.code == 0, history.err
    assert [e["tag"] for e in json.loads(history.out)] == ["m@v1"]
    assert cli("history", "m").code == 0
    assert cli("show", "m").code == 0
    resolved = cli("resolve", "m/production")
    assert resolved.code == 1 and "Traceback" not in resolved.err
    warning, error = resolved.err.splitlines()
    assert warning.startswith("warning: ignoring m#production#1: ")  # reads say what they leave out
    assert error == "error: no version of m is in stage 'production'"
    assert_others_read_fine(cli)
    checked = cli("check-ref", "m#production#1")
    assert checked.code == 4 and checked.err.startswith("error: m#production#1: ") and checked.err.count("\n") == 1
    verified = cli("verify", "--json")
    assert verified.code == 4
    assert [f["subject"] for f in json.loads(verified.out)["findings"]] == ["m#production#1"]


def test_a_hostile_tagger_name_is_shown_with_replacement_characters(two_models, cli):
    """A well-formed event whose tagger is not UTF-8 still takes effect: only the display is repaired."""
    commit = git(two_models, "rev-parse", "m@v1^{commit}").strip()
    body = {"modelreg": 1, "action": "assign", "kind": "stage", "target": "staging", "version": 1}
    text = (
        f"object {commit}\ntype commit\ntag m#staging#1\ntagger ".encode()
        + b"Mal\xffory <m@example.com> 1767323045 +0000\n\nforged\n\n"
        + json.dumps(body).encode()
        + b"\n"
    )
    obj = subprocess.run(["git", "mktag"], cwd=two_models, input=text, check=True, capture_output=True).stdout
    git(two_models, "update-ref", "refs/tags/m#staging#1", obj.decode().strip())
    git(two_models, "update-ref", "refs/modelreg/events/m/1", obj.decode().strip())

    history = cli("history", "m")
    assert history.code == 0, history.err
    assert "Mal\ufffdory" in history.out
    assert json.loads(cli("history", "m", "--json").out)[1]["actor"].startswith("Mal\ufffdory")


# --- manifests ---------------------------------------------------------------------------------


def hostile_manifests(repo: Path, tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    """What an attacker commits as v2.yaml → a fragment of the error it must give."""
    v2 = (repo / ".modelreg/models/m/v1.yaml").read_bytes().replace(b"\nversion: 1\n", b"\nversion: 2\n")
    one_file = manifest_like_v1(repo)["artifact"]["files"][0]

    def with_artifact(**changes: Any) -> bytes:
        return yamlio.dump(manifest_like_v1(repo, **changes)).encode()

    def with_paths(*paths: str) -> bytes:
        files = [{**one_file, "path": p, "size": 5} for p in paths]
        return with_artifact(files=files, size=5 * len(paths))

    return {
        "nested 3,000 deep": (v2 + b"x: " + b"[" * 3000 + b"]" * 3000 + b"\n", "nested deeper than 64 levels"),
        "not UTF-8": (v2.replace(b"description: ''", b"description: caf\xe9"), "not UTF-8"),
        "a NUL in a path": (with_paths("model\0.bin"), "must be a relative path"),
        "a newline in a path": (with_paths("model\n.bin"), "must be a relative path"),
        "a file and a directory of one name": (with_paths("a", "a/b"), "'a' as a file and as a directory"),
        "an absolute path": (with_paths(str(tmp_path / "escaped")), "must be a relative path"),
        "a '..' component": (with_paths("../escaped"), "must be a relative path"),
        "a size of 10**38": (with_artifact(size=10**38), "'artifact.size' must be a number of bytes"),
        "a file size of 10**38": (
            with_artifact(files=[{**one_file, "size": 10**38}], size=10**38),
            "'artifact.files[0].size' must be",
        ),
    }


CASES = [
    "nested 3,000 deep",
    "not UTF-8",
    "a NUL in a path",
    "a newline in a path",
    "a file and a directory of one name",
    "an absolute path",
    "a '..' component",
    "a size of 10**38",
    "a file size of 10**38",
]


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_manifest_is_refused_in_one_line_and_pull_writes_nothing(two_models, cli, tmp_path, case):
    text, fragment = hostile_manifests(two_models, tmp_path)[case]
    forged_version(two_models, "m", 2, text)

    for command in (("show", "m@2"), ("show", "m"), ("diff", "m", "1", "2")):
        assert_refused(cli(*command), 1, ".modelreg/models/m/v2.yaml", fragment)
    out = tmp_path / "out"
    assert_refused(cli("pull", "m@2", "-o", out), 1, fragment)
    assert not out.exists() and not (tmp_path / "escaped").exists()
    assert not list(two_models.parent.glob("escaped*"))
    assert cli("history", "m").code == 0
    assert_others_read_fine(cli)
    verified = cli("verify", "--json")
    assert verified.code == 4
    assert any(f["subject"] == "m@v2" and fragment in f["message"] for f in json.loads(verified.out)["findings"])


def test_a_config_nested_3000_deep_is_a_clean_error(two_models, cli):
    config = two_models / ".modelreg/config.yaml"
    config.write_text(config.read_text() + "x: " + "[" * 3000 + "\n")
    git(two_models, "commit", "-q", "-am", "a hostile config")
    assert_refused(cli("list"), 1, ".modelreg/config.yaml", "nested deeper than 64 levels")
    assert_refused(cli("show", "other"), 1, ".modelreg/config.yaml", "nested deeper than 64 levels")


def test_a_config_that_is_not_utf8_is_a_clean_error(two_models, cli):
    config = two_models / ".modelreg/config.yaml"
    config.write_bytes(config.read_bytes() + b"# caf\xe9\n")
    assert_refused(cli("list"), 1, ".modelreg/config.yaml", "line", "not UTF-8")


def test_register_refuses_a_file_name_it_could_not_read_back(repo, cli, tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "ok.bin").write_bytes(b"weights")
    (model / "a\nb.bin").write_bytes(b"weights")
    result = cli("register", "m", model)
    assert result.code == 1 and result.err.startswith("error: ") and "cannot register a file named" in result.err
    assert git(repo, "tag", "-l") == ""


def test_verify_reports_a_work_tree_manifest_that_is_not_utf8(repo, cli, artifact):
    assert cli("register", "m", artifact()).code == 0
    path = repo / ".modelreg/models/m/v1.yaml"
    path.write_bytes(path.read_bytes().replace(b"description: ''", b"description: '\xff\xfe'"))
    result = cli("verify", "--json")
    assert result.code == 4, result.err
    (finding,) = json.loads(result.out)["findings"]
    assert finding["kind"] == "manifest" and "UTF-8" in finding["message"]


def test_plain_resolve_checks_the_manifest_against_its_tag_as_json_does(two_models, cli):
    """One resolution path: the output flag never changes the answer (a tag's digest is not taken on trust)."""
    forged_version(two_models, "m", 2, yamlio.dump(manifest_like_v1(two_models, digest="sha256:" + "ab" * 32)).encode())
    for output in ((), ("--json",)):
        result = cli("resolve", "m@2", *output)
        assert result.code == 4, (output, result.out, result.err)
        assert "its manifest names sha256:" + "ab" * 32 in result.err
        assert result.out == ""
