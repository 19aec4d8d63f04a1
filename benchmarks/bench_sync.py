"""What `modelreg sync` costs a git server: bytes and time of a no-change round, and of a change round.

Builds (benchmarks/make_registry.py) a registry of --tags modelreg tags (10,000: `bench` holds a
quarter of them, the rest spread over models of 100), gives its store of record a real directory,
registers a small real artifact for `bench` and promotes it to production, and serves the
repository with `git daemon` on 127.0.0.1 behind a byte-counting TCP proxy (every byte both ways,
per connection). Then measures, in this run:
  - baselines: `git ls-remote URL` (every ref), and `git ls-remote URL` with bench's patterns (git
    matches ls-remote's patterns against the ends of ref names after the server sent every ref, so
    they save nothing on the wire);
  - a no-change round of a running `modelreg sync bench/production --repo URL --interval 1s`: bytes
    per round (one connection each; --rounds of them) and the server-side time per round;
  - a change round for a --size MB model: the whole `modelreg sync --once` process after the
    promotion (mirror fetch, pull and verify of the blob from the store, swap), and its git bytes;
  - what N pods polling every 30 s cost the git server (requests/s, bytes/s).
No network but 127.0.0.1.

    .venv/bin/python benchmarks/bench_sync.py [--tags 10000] [--size 100] [--rounds 20] [--pods 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' git daemon helper, servers.py

from benchenv import IDENTITY, installed_env, progress
from make_registry import build
from servers import git_daemon

SYNC = [sys.executable, "-m", "modelreg", "sync"]
BENCH_PATTERNS = [
    "HEAD",
    "refs/tags/bench@v*",
    "refs/tags/bench#*",
    "refs/modelreg/events/bench/*",
    "refs/modelreg/versions/bench/*",
]


class Proxy:
    """A TCP proxy on 127.0.0.1 that counts the bytes of each connection, both ways, and how long it lasted."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = upstream_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.lock = threading.Lock()
        self.connections: list[tuple[int, float]] = []  # (bytes, seconds) of each finished connection
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        with self.lock:
            self.connections.clear()

    def finished(self) -> list[tuple[int, float]]:
        with self.lock:
            return list(self.connections)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        started = time.perf_counter()
        counted = [0]
        with client, socket.create_connection(("127.0.0.1", self.upstream)) as upstream:
            pumps = [
                threading.Thread(target=self._pump, args=(client, upstream, counted)),
                threading.Thread(target=self._pump, args=(upstream, client, counted)),
            ]
            for pump in pumps:
                pump.start()
            for pump in pumps:
                pump.join()
        with self.lock:
            self.connections.append((counted[0], time.perf_counter() - started))

    def _pump(self, src: socket.socket, dst: socket.socket, counted: list[int]) -> None:
        try:
            while data := src.recv(65536):
                with self.lock:
                    counted[0] += len(data)
                dst.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **IDENTITY}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def modelreg(cwd: Path, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "modelreg", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"modelreg {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def prepare(work: Path, tags: int, env: dict[str, str]) -> tuple[Path, Path]:
    """The bare registry (with a real store and a real production holder of bench) and a clone that writes."""
    built = work / "built"
    build(built, tags, progress=progress)
    bare = work / "git" / "registry.git"
    bare.parent.mkdir()
    git(work, "clone", "-q", "--mirror", str(built), str(bare))  # bare: the writer pushes to its main
    git(bare, "config", "uploadpack.allowFilter", "true")
    writer = work / "writer"
    git(work, "clone", "-q", str(bare), str(writer))
    store = work / "store"
    store.mkdir()
    config = writer / ".modelreg/config.yaml"
    text = "\n".join(line for line in config.read_text().splitlines() if not line.startswith("store:"))
    config.write_text(f"store: {store}\n{text}\n")
    git(writer, "commit", "-q", "-am", "the store of record is shared storage")
    git(writer, "push", "-q", "origin", "HEAD:main")
    return bare, writer


def register_and_promote(writer: Path, env: dict[str, str], size_mb: int, label: str) -> int:
    artifact = writer.parent / f"artifact-{label}" / "model.bin"
    artifact.parent.mkdir(parents=True, exist_ok=True)
    with open(artifact, "wb") as out:
        block = os.urandom(1 << 20)
        for index in range(max(size_mb, 1)):
            out.write(index.to_bytes(8, "big") + block[8:])
    version = json.loads(modelreg(writer, env, "register", "bench", str(artifact), "--push", "--json"))["version"]
    modelreg(writer, env, "promote", "bench", str(version), "production", "--push")
    return int(version)


@contextlib.contextmanager
def sync_process(url: str, dest: Path, env: dict[str, str], interval: str) -> Iterator[subprocess.Popen[bytes]]:
    args = [*SYNC, "bench/production", "--dest", str(dest), "--repo", url, "--interval", interval, "--json"]
    proc = subprocess.Popen(args, cwd=dest.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def current_version(dest: Path) -> int | None:
    try:
        return int(json.loads((dest / "current.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def wait_until(what: str, check: object, deadline_s: float = 600.0) -> None:
    deadline = time.monotonic() + deadline_s
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def kib(n: float) -> str:
    return f"{n / 1024:,.1f} KiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=int, default=10_000, help="modelreg tags in the registry")
    parser.add_argument("--size", type=int, default=100, help="MB of the model of the change round")
    parser.add_argument("--rounds", type=int, default=20, help="no-change rounds to measure")
    parser.add_argument("--pods", type=int, default=1000, help="the fleet the server cost is computed for")
    parser.add_argument("--poll", type=float, default=30.0, help="the fleet's interval, seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="modelreg-sync-") as tmp:
        work = Path(tmp)
        env = installed_env(XDG_CACHE_HOME=str(work / "cache"), **IDENTITY)
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
        bare, writer = prepare(work, args.tags, env)
        first = register_and_promote(writer, env, 1, "small")
        count = len(git(bare, "for-each-ref", "refs/tags/").splitlines())
        with git_daemon(bare.parent) as prefix:
            proxy = Proxy(int(prefix.rsplit(":", 1)[1]))
            url = f"git://127.0.0.1:{proxy.port}/{bare.name}"

            progress("baselines: git ls-remote")
            proxy.reset()
            started = time.perf_counter()
            subprocess.run(["git", "ls-remote", url], check=True, capture_output=True)
            full_s = time.perf_counter() - started
            subprocess.run(["git", "ls-remote", url, *BENCH_PATTERNS], check=True, capture_output=True)
            wait_until("the proxy to count both", lambda: len(proxy.finished()) == 2, 30)
            (full_bytes, _), (patterns_bytes, _) = proxy.finished()

            progress(f"no-change rounds: sync --interval 1s, {args.rounds} rounds")
            dest = work / "serving"
            dest.mkdir()
            with sync_process(url, dest, env, "1s") as proc:
                wait_until("bench v1 to be current", lambda: current_version(dest) == first)
                time.sleep(0.5)  # let the round that swapped finish its connections
                proxy.reset()
                wait_until(f"{args.rounds} rounds", lambda: len(proxy.finished()) >= args.rounds, 120)
                rounds = proxy.finished()[: args.rounds]
                if proc.poll() is not None:
                    raise SystemExit(f"sync exited: {proc.stderr.read().decode() if proc.stderr else ''}")
                progress("a commit to the project's code: HEAD moves, .modelreg/ does not")
                (writer / "train.py").write_text("print('train')\n")
                git(writer, "add", "train.py")
                git(writer, "commit", "-q", "-m", "a code change")
                proxy.reset()
                git(writer, "push", "-q", "origin", "HEAD:main")
                pushed = len(proxy.finished())
                wait_until("the rounds after it", lambda: len(proxy.finished()) >= pushed + 4, 120)
                after_commit = proxy.finished()[pushed:]
            round_bytes = statistics.median(b for b, _ in rounds)
            round_s = statistics.median(s for _, s in rounds)
            probe_bytes = max(b for b, _ in after_commit)

            progress(f"change round: a {args.size} MB model promoted, then `sync --once`")
            version = register_and_promote(writer, env, args.size, "big")
            proxy.reset()
            started = time.perf_counter()
            subprocess.run(
                [*SYNC, "bench/production", "--dest", str(dest), "--repo", url, "--once"],
                cwd=work,
                env=env,
                check=True,
                capture_output=True,
            )
            change_s = time.perf_counter() - started
            if current_version(dest) != version:
                raise SystemExit("the change round did not make the new version current")
            time.sleep(0.2)
            change_bytes = sum(b for b, _ in proxy.finished())
            started = time.perf_counter()
            subprocess.run(
                [*SYNC, "bench/production", "--dest", str(dest), "--repo", url, "--once"],
                cwd=work,
                env=env,
                check=True,
                capture_output=True,
            )
            unchanged_once_s = time.perf_counter() - started

    rate = args.pods / args.poll
    print(f"registry: {count:,} tags (bench: a quarter of them), git daemon on 127.0.0.1 behind a byte-counting proxy")
    print(f"git ls-remote URL (every ref)                 {kib(full_bytes):>12}  {full_s:6.3f} s")
    print(
        f"git ls-remote URL <bench's patterns>          {kib(patterns_bytes):>12}  (patterns are matched client-side)"
    )
    print(
        f"sync no-change round (median of {len(rounds)})         {kib(round_bytes):>12}  {round_s:6.3f} s "
        f"(one ls-refs connection; goal ≤ 4 KiB: {'✓' if round_bytes <= 4096 else '✗'})"
    )
    print(
        f"sync round after a code commit (HEAD moved)  {kib(probe_bytes):>12}  "
        "(+ its ls-refs: the new HEAD's root tree, to see .modelreg/ unchanged)"
    )
    print(
        f"sync --once, {args.size} MB model promoted           {kib(change_bytes):>12}  {change_s:6.3f} s "
        "(whole process: mirror fetch, pull + verify from a local store, swap)"
    )
    print(f"sync --once, nothing changed (whole process)  {'':>12}  {unchanged_once_s:6.3f} s")
    print(
        f"{args.pods:,} pods polling every {args.poll:g} s: {rate:,.1f} requests/s; "
        f"{kib(rate * round_bytes)}/s with sync, {kib(rate * full_bytes)}/s if each asked for every ref"
    )


if __name__ == "__main__":
    main()
