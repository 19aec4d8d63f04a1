"""Asking a remote for a few refs by prefix: git protocol v2's `ls-refs` with `ref-prefix` lines.

`git ls-remote URL PATTERN…` cannot do this: its patterns match the ends of ref names, so it asks
the server for every ref and filters them itself (a registry with 10,000 events sends ~1 MB).
Here the server is sent the prefixes and answers with the refs that start with them, nothing else:
over `git://` (TCP), a local path or `file://` (`git upload-pack`), and `http(s)://` through
git's own remote helper (`git remote-https`: git's credential helpers and http config apply).
Anything else (ssh, a server without protocol v2) is answered by `git ls-remote`, filtered here:
the same answer, at the old cost.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import urlsplit

from modelreg.errors import GitError, InvalidInputError
from modelreg.git.process import (
    TIMEOUT_VARIABLE,
    GitTimeout,
    failure_reason,
    git_env,
    network_settings,
    network_timeout,
    run_git_raw,
)

FLUSH, DELIM, RESPONSE_END = b"0000", b"0001", b"0002"
_AGENT = "agent=modelreg\n"


class _Reader(Protocol):
    def read(self, size: int, /) -> bytes: ...


class _Writer(Protocol):
    def write(self, data: bytes, /) -> object: ...

    def flush(self) -> object: ...


class _Wire:
    """pkt-lines over a pair of byte streams."""

    def __init__(self, reader: _Reader, writer: _Writer) -> None:
        self.reader, self.writer = reader, writer

    def send(self, *lines: str | bytes) -> None:
        out = bytearray()
        for line in lines:
            if line in (FLUSH, DELIM, RESPONSE_END):
                out += line
                continue
            data = line.encode() if isinstance(line, str) else line
            out += f"{len(data) + 4:04x}".encode() + data
        self.writer.write(bytes(out))
        self.writer.flush()

    def read(self) -> bytes | None:
        """The next packet's payload; None for a flush, b"" for a delimiter or response-end packet."""
        head = self._exactly(4)
        size = int(head, 16)
        if size == 0:
            return None
        if size in (1, 2):
            return b""
        return self._exactly(size - 4)

    def until_flush(self) -> Iterator[bytes]:
        while (packet := self.read()) is not None:
            yield packet

    def _exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.reader.read(count - len(data))
            if not chunk:
                raise GitError("the remote hung up in the middle of its answer")
            data += chunk
        return data


def ls_refs(url: str, prefixes: list[str], timeout: float | None = None) -> dict[str, str]:
    """The remote's refs that start with one of `prefixes` → object id (tags unpeeled).

    `HEAD` among the prefixes lists the remote's HEAD (the commit of its default branch).
    Raises GitError when the remote cannot be reached or refuses, GitTimeout when it does not
    answer within `timeout` seconds (default: git.process.network_timeout()).
    """
    if url.startswith("-"):
        raise InvalidInputError(f"not a repository URL: {url!r}")
    timeout = network_timeout() if timeout is None else timeout
    try:
        with _conversation(url, timeout) as conversation:
            if conversation is not None:
                wire, stateless = conversation
                return _filtered(_ask(wire, prefixes, stateless), prefixes)
    except TimeoutError:
        raise _timed_out(url, timeout) from None
    except (OSError, ValueError) as exc:
        raise GitError(f"cannot list the refs of {url}: {exc}") from None
    except _NoV2:
        pass
    return _filtered(_ls_remote(url, prefixes, timeout), prefixes)


class _NoV2(Exception):
    """The server (or the transport) does not speak protocol v2's ls-refs: ask `git ls-remote`."""


def _ask(wire: _Wire, prefixes: list[str], stateless: bool) -> dict[str, str]:
    first = wire.read()
    if first is not None and first.startswith(b"ERR "):
        raise GitError(f"the remote refused: {first[4:].decode(errors='replace').strip()}")
    if first != b"version 2\n":
        wire.send(FLUSH)  # protocol v0: we asked for nothing; the advertisement was everything
        raise _NoV2
    capabilities = [line.decode().strip() for line in wire.until_flush()]
    names = {line.split("=", 1)[0] for line in capabilities}
    if "ls-refs" not in names:
        raise _NoV2
    request: list[str | bytes] = ["command=ls-refs\n", _AGENT]
    formats = [line.split("=", 1)[1] for line in capabilities if line.startswith("object-format=")]
    if formats and formats[0] != "sha1":
        request.append(f"object-format={formats[0]}\n")
    request += [DELIM, "symrefs\n", *(f"ref-prefix {prefix}\n" for prefix in prefixes), FLUSH]
    wire.send(*request)
    refs = {}
    for packet in wire.until_flush():
        oid, _, rest = packet.decode(errors="surrogateescape").rstrip("\n").partition(" ")
        name = rest.split(" ", 1)[0]
        if name:
            refs[name] = oid
    if stateless:
        wire.read()  # the helper's response-end packet
    else:
        with contextlib.suppress(OSError):
            wire.send(FLUSH)
    return refs


@contextlib.contextmanager
def _conversation(url: str, timeout: float) -> Iterator[tuple[_Wire, bool] | None]:
    """A pkt-line channel to the remote's upload-pack speaking protocol v2 (None: no such channel here)."""
    parts = urlsplit(url)
    if parts.scheme == "git":
        with socket.create_connection((parts.hostname or "localhost", parts.port or 9418), timeout) as sock:
            stream = sock.makefile("rwb")
            wire = _Wire(stream, stream)
            host = parts.netloc.rsplit("@", 1)[-1]
            wire.send(f"git-upload-pack {parts.path}\0host={host}\0\0version=2\0".encode())
            yield wire, False
        return
    if parts.scheme in ("http", "https"):
        helper = ["git", *network_settings(timeout), "-c", "protocol.version=2", f"remote-{parts.scheme}", url, url]
        with _process(helper, timeout) as proc:
            assert proc.stdin is not None
            assert proc.stdout is not None
            proc.stdin.write(b"capabilities\n")
            proc.stdin.flush()
            capabilities = _lines_until_blank(proc.stdout)
            if "stateless-connect" not in capabilities:
                raise _NoV2
            proc.stdin.write(b"stateless-connect git-upload-pack\n")
            proc.stdin.flush()
            if proc.stdout.readline() != b"\n":
                raise _NoV2  # "fallback": the server speaks only protocol v0
            yield _Wire(proc.stdout, proc.stdin), True
        return
    path = _local_path(url)
    if path is None:
        yield None
        return
    with _process(["git", "upload-pack", "--timeout", str(int(timeout)), path], timeout) as proc:
        assert proc.stdin is not None
        assert proc.stdout is not None
        yield _Wire(proc.stdout, proc.stdin), False


def _local_path(url: str) -> str | None:
    if url.startswith("file://"):
        return urlsplit(url).path
    if "://" in url:
        return None
    before_slash = url.split("/", 1)[0]
    if ":" in before_slash:
        return None  # scp-like ssh: host:path
    return os.path.abspath(url)


def _lines_until_blank(stream: IO[bytes]) -> set[str]:
    lines = set()
    while (line := stream.readline()) not in (b"\n", b""):
        lines.add(line.decode().strip().lstrip("*"))
    return lines


def _timed_out(url: str, timeout: float) -> GitTimeout:
    return GitTimeout(
        f"cannot list the refs of {url}: no answer within {timeout:g} s (timed out; {TIMEOUT_VARIABLE} sets the limit)"
    )


@contextlib.contextmanager
def _process(args: list[str], timeout: float) -> Iterator[subprocess.Popen[bytes]]:
    """A git process to talk to over its stdin and stdout; its last stderr line names a failure.

    The whole conversation must end within `timeout`: a watchdog kills the process then (its
    stdout ends, and the read waiting on it fails), so a server that never answers cannot hold it.
    """
    proc = subprocess.Popen(
        args,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=git_env({"GIT_PROTOCOL": "version=2"}),
    )
    fired = threading.Event()

    def expire() -> None:
        fired.set()
        proc.kill()

    watchdog = threading.Timer(timeout, expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield proc
    except (GitError, OSError, ValueError) as exc:
        if fired.is_set():
            raise _timed_out(args[-1], timeout) from None
        if not isinstance(exc, GitError):
            raise
        detail = _last_line(proc, timeout)
        raise GitError(f"cannot list the refs of {args[-1]}: {detail}" if detail else str(exc)) from None
    finally:
        watchdog.cancel()
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def _last_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    try:
        _, err = proc.communicate(timeout=timeout)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        proc.kill()
        return ""
    return failure_reason(err, proc.returncode or 0) if err.strip() else ""


def _ls_remote(url: str, prefixes: list[str], timeout: float) -> dict[str, str]:
    args = ["ls-remote", url]
    if "HEAD" not in prefixes:
        args.insert(1, "--refs")
    try:
        proc = run_git_raw(args, Path.cwd(), timeout=timeout)
    except GitTimeout:
        raise _timed_out(url, timeout) from None
    if proc.returncode != 0:
        raise GitError(f"cannot list the refs of {url}: {failure_reason(proc.stderr, proc.returncode)}")
    refs = {}
    for line in proc.stdout.decode(errors="surrogateescape").splitlines():
        oid, _, name = line.partition("\t")
        if name and not name.endswith("^{}"):
            refs[name] = oid
    return refs


def _filtered(refs: dict[str, str], prefixes: list[str]) -> dict[str, str]:
    return {name: oid for name, oid in refs.items() if name.startswith(tuple(prefixes))}
