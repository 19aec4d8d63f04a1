"""ls-refs with ref prefixes over the transports git offers here: a path, file://, git://, and smart HTTP."""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelreg.errors import GitError
from modelreg.git.lsrefs import ls_refs
from tests.conftest import git
from tests.servers import free_ports, git_daemon


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """A bare repository with 60 tags of two models, claim refs, and a main branch."""
    work = tmp_path / "work"
    git(tmp_path, "init", "-q", "-b", "main", str(work))
    git(work, "commit", "-q", "--allow-empty", "-m", "one")
    for n in range(1, 31):
        git(work, "tag", "-a", f"m@v{n}", "-m", "x")
        git(work, "tag", "-a", f"other@v{n}", "-m", "x")
    git(work, "update-ref", "refs/modelreg/events/m/1", "HEAD")
    path = tmp_path / "served" / "registry.git"
    git(tmp_path, "clone", "-q", "--mirror", str(work), str(path))
    return path


def expected(repo: Path, *prefixes: str) -> dict[str, str]:
    out = git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
    refs = dict(line.split(" ") for line in out.splitlines())
    return {ref: oid for ref, oid in refs.items() if ref.startswith(prefixes)}


def test_only_the_refs_under_the_prefixes_come_back(bare, tmp_path, monkeypatch):
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE_PACKET", str(trace))  # the server (git upload-pack) logs what it was sent
    got = ls_refs(str(bare), ["HEAD", "refs/tags/m@v3", "refs/modelreg/events/m/"])
    head = git(bare, "rev-parse", "HEAD").strip()
    assert got == {"HEAD": head, **expected(bare, "refs/tags/m@v3", "refs/modelreg/events/m/")}
    assert set(got) == {"HEAD", "refs/tags/m@v3", "refs/tags/m@v30", "refs/modelreg/events/m/1"}
    sent = trace.read_text()
    assert "ref-prefix refs/tags/m@v3" in sent and "refs/tags/other@v1" not in sent


@pytest.mark.parametrize("form", ["path", "file"])
def test_local_forms(bare, form):
    url = str(bare) if form == "path" else f"file://{bare}"
    assert ls_refs(url, ["refs/tags/other@v1"]) == expected(bare, "refs/tags/other@v1")


def test_git_daemon(bare):
    with git_daemon(bare.parent) as prefix:
        url = f"{prefix}/{bare.name}"
        assert ls_refs(url, ["refs/tags/m@v2"]) == expected(bare, "refs/tags/m@v2")
        with pytest.raises(GitError):
            ls_refs(f"{prefix}/missing.git", ["HEAD"])
    with pytest.raises(GitError, match="cannot list the refs"):
        ls_refs(url, ["HEAD"])  # the daemon is gone


def test_a_missing_local_repository_is_a_git_error(tmp_path):
    with pytest.raises(GitError, match="does not appear to be a git repository"):
        ls_refs(str(tmp_path / "nothing-here"), ["HEAD"])


class _GitCGI(http.server.CGIHTTPRequestHandler):
    """git http-backend as CGI, passing the Git-Protocol header on (as web servers set up for git do)."""

    cgi_directories = ["/cgi-bin"]  # noqa: RUF012 - the base class declares it so
    have_fork = False  # run the script as this user (forking as root would switch to nobody)

    def log_message(self, *args: object) -> None:
        pass

    def run_cgi(self) -> None:
        os.environ["HTTP_GIT_PROTOCOL"] = self.headers.get("Git-Protocol", "")
        super().run_cgi()


@contextlib.contextmanager
def smart_http(root: Path) -> Iterator[str]:
    backend = shutil.which("git-http-backend") or str(
        Path(os.popen("git --exec-path").read().strip()) / "git-http-backend"
    )
    if not Path(backend).is_file():
        pytest.skip("git-http-backend is not installed")
    cgi = root / "cgi-bin"
    cgi.mkdir()
    script = cgi / "git"
    script.write_text(f'#!/bin/sh\nexec "{backend}"\n')
    script.chmod(0o755)
    (port,) = free_ports(1)
    handler = lambda *a: _GitCGI(*a, directory=str(root))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/cgi-bin/git"
    finally:
        server.shutdown()
        server.server_close()


def test_smart_http_through_gits_remote_helper(bare, tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_PROJECT_ROOT", str(bare.parent))
    monkeypatch.setenv("GIT_HTTP_EXPORT_ALL", "1")
    trace = tmp_path / "trace"
    with smart_http(tmp_path) as prefix:
        monkeypatch.setenv("GIT_TRACE_PACKET", str(trace))
        got = ls_refs(f"{prefix}/{bare.name}", ["HEAD", "refs/tags/m@v1"])
    assert got == {"HEAD": git(bare, "rev-parse", "HEAD").strip(), **expected(bare, "refs/tags/m@v1")}
    assert "ref-prefix refs/tags/m@v1" in trace.read_text()  # protocol v2, not ls-remote's every-ref fallback
