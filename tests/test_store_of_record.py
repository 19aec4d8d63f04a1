"""Blobs come from the store of record (the main branch's config), never from a URL a manifest names."""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

import modelreg
from tests.conftest import git


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]]

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_error(404)

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def lure() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 that records every request: the store a forged manifest names."""
    seen: list[str] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/their-bucket", seen
    finally:
        server.shutdown()
        server.server_close()


def forge_version(repo: Path, name: str, version: int, like: int, store: str) -> None:
    """Commit a manifest for `version` copied from `like` but naming `store`, and tag it as modelreg would."""
    text = (repo / f".modelreg/models/{name}/v{like}.yaml").read_text()
    forged = text.replace(f"version: {like}\n", f"version: {version}\n").replace(
        "store: .modelreg/store\n", f"store: {store}\n"
    )
    assert forged.count(store) == 1
    (repo / f".modelreg/models/{name}/v{version}.yaml").write_text(forged)
    git(repo, "add", ".modelreg")
    git(repo, "commit", "-q", "-m", f"register {name} v{version}")
    digest = next(line.split()[1] for line in forged.splitlines() if line.strip().startswith("digest:"))
    body = {"modelreg": 1, "action": "register", "version": version, "digest": digest}
    message = f"{name} v{version}: registered\n\n{json.dumps(body)}\n"
    tag = f"{name}@v{version}"
    subprocess.run(["git", "tag", "-a", "-F", "-", tag], cwd=repo, input=message, text=True, check=True)
    tag_id = git(repo, "rev-parse", f"refs/tags/{name}@v{version}").strip()
    git(repo, "update-ref", f"refs/modelreg/versions/{name}/{version}", tag_id)


def test_a_manifest_naming_another_store_is_never_contacted(repo, cli, artifact, lure, tmp_path):
    url, seen = lure
    assert cli("register", "m", artifact(content=b"the real weights")).code == 0
    forge_version(repo, "m", 2, like=1, store=url)
    pulled = cli("pull", "m@2", "-o", tmp_path / "out", "--json")
    assert seen == []  # not one request reached the store the manifest names
    if pulled.code == 0:  # the blob is in the store of record: served from there, and the difference said
        assert Path(json.loads(pulled.out)["path"]).read_bytes() == b"the real weights"
        assert json.loads(pulled.out)["store"] == ".modelreg/store"
        assert f"its manifest names the store {url!r}" in pulled.err
    else:
        assert pulled.err.splitlines()[-1].startswith("error: ")
    modelreg.pull("m@2", tmp_path / "api", repo=repo)
    shown = json.loads(cli("resolve", "m@2", "--json").out)
    assert shown["store"] == ".modelreg/store" and any(url in w for w in shown["warnings"])
    verified = cli("verify", "--blobs", "--json")
    assert seen == []
    assert any(url in w for w in json.loads(verified.out)["warnings"]) and f"names the store {url!r}" in verified.err


def test_pull_reads_another_store_only_when_asked(repo, cli, artifact, tmp_path):
    """A store moved in config: old manifests still name the old one; --store reads it on purpose."""
    old = tmp_path / "old-store"
    config = repo / ".modelreg/config.yaml"
    config.write_text(config.read_text().replace("store: .modelreg/store", f"store: {old}"))
    git(repo, "commit", "-qam", "store: old")
    assert cli("register", "m", artifact(content=b"weights in the old store")).code == 0
    config.write_text(config.read_text().replace(f"store: {old}", f"store: {tmp_path / 'new-store'}"))
    git(repo, "commit", "-qam", "store: new")
    moved = cli("pull", "m@1", "-o", tmp_path / "a")
    assert moved.code == 1 and "missing from store" in moved.err and str(tmp_path / "new-store") in moved.err
    assert not (tmp_path / "a").exists()
    asked = cli("pull", "m@1", "-o", tmp_path / "b", "--store", str(old), "--json")
    assert asked.code == 0, asked.err
    assert json.loads(asked.out)["store"] == str(old)
    assert Path(json.loads(asked.out)["path"]).read_bytes() == b"weights in the old store"
