"""Race K writers through one remote, many rounds: every write lands once, with no gaps.

Each round makes a fresh bare remote and K clones, then
  1. K processes `register --push` the same model at once → versions 1..K, each once, every
     manifest on the remote branch, every tag at a commit that holds its manifest;
  2. K processes `promote`/`alias set --push` to K different targets at once → event seqs 1..K
     without gaps or duplicates, claim refs matching, and `verify` clean in a fresh clone.

    .venv/bin/python benchmarks/stress_races.py [--writers 8] [--rounds 20] [--transport file|git-daemon]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGE_TARGETS = [("promote", "staging"), ("promote", "production")]
ALIAS_TARGETS = ["champion", "challenger", "canary", "shadow", "blue", "green", "red", "gold", "silver", "bronze"]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def modelreg(cwd: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "modelreg", *args],
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_all(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise SystemExit(f"a writer failed: {err.strip()}")


def serve(base: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [
            "git",
            "daemon",
            "--listen=127.0.0.1",
            f"--port={port}",
            "--reuseaddr",
            f"--base-path={base}",
            "--export-all",
            "--enable=receive-pack",
            str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"git://127.0.0.1:{port}/remote.git"
    while subprocess.run(["git", "ls-remote", url], capture_output=True, check=False).returncode != 0:
        time.sleep(0.05)
    return proc, url


def one_round(work: Path, writers: int, transport: str) -> tuple[float, float]:
    bare = work / "remote.git"
    git(work, "init", "-q", "--bare", "-b", "main", str(bare))
    seed = work / "seed"
    git(work, "clone", "-q", str(bare), str(seed))
    (seed / "README.md").write_text("models\n")
    git(seed, "add", "README.md")
    git(seed, "commit", "-q", "-m", "initial")
    subprocess.run(
        [sys.executable, "-m", "modelreg", "init", "--store", str(work / "store")],
        cwd=seed,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    git(seed, "push", "-q", "origin", "main")
    daemon, url = serve(work) if transport == "git-daemon" else (None, str(bare))
    try:
        clones = []
        for index in range(writers):
            path = work / f"w{index}"
            git(work, "clone", "-q", url, str(path))
            (work / f"model-{index}.bin").write_bytes(os.urandom(1024) + bytes([index]))
            clones.append(path)
        start = time.perf_counter()
        wait_all(
            [modelreg(path, "register", "m", str(work / f"model-{i}.bin"), "--push") for i, path in enumerate(clones)]
        )
        registered = time.perf_counter() - start
        tags = sorted(git(bare, "tag", "-l", "m@v*").split(), key=lambda t: int(t.split("@v")[1]))
        assert tags == [f"m@v{v}" for v in range(1, writers + 1)], tags
        for version in range(1, writers + 1):
            commit = git(bare, "rev-parse", f"m@v{version}^{{commit}}").strip()
            git(bare, "cat-file", "-e", f"{commit}:.modelreg/models/m/v{version}.yaml")
            git(bare, "cat-file", "-e", f"main:.modelreg/models/m/v{version}.yaml")

        targets = [*STAGE_TARGETS, *(("alias", a) for a in ALIAS_TARGETS)][:writers]
        for path in clones:
            git(path, "pull", "-q", "--ff-only")
        start = time.perf_counter()
        procs = []
        for index, (path, (kind, target)) in enumerate(zip(clones, targets, strict=True)):
            version = str(index + 1)
            args = ["promote", "m", version, target] if kind == "promote" else ["alias", "set", "m", target, version]
            procs.append(modelreg(path, *args, "--push"))
        wait_all(procs)
        evented = time.perf_counter() - start
        seqs = sorted(int(t.rsplit("#", 1)[1]) for t in git(bare, "tag", "-l", "m#*").split())
        assert seqs == list(range(1, writers + 1)), seqs
        claims = git(bare, "for-each-ref", "--format=%(refname)", "refs/modelreg/events/m/").split()
        assert sorted(int(c.rsplit("/", 1)[1]) for c in claims) == seqs
        fresh = work / "fresh"
        git(work, "clone", "-q", url, str(fresh))
        for args in (("fetch",), ("verify",)):
            proc = modelreg(fresh, *args)
            out, err = proc.communicate()
            assert proc.returncode == 0, (args, out, err)
        return registered, evented
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--transport", choices=["file", "git-daemon"], default="file")
    args = parser.parse_args()
    os.environ.setdefault("GIT_AUTHOR_NAME", "Stress")
    os.environ.setdefault("GIT_AUTHOR_EMAIL", "stress@example.com")
    os.environ.setdefault("GIT_COMMITTER_NAME", "Stress")
    os.environ.setdefault("GIT_COMMITTER_EMAIL", "stress@example.com")
    times = []
    for number in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="modelreg-race-") as tmp:
            os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
            registered, evented = one_round(Path(tmp), args.writers, args.transport)
        times.append((registered, evented))
        print(
            f"round {number:2d}: {args.writers} registrations in {registered:.1f} s, "
            f"{args.writers} events in {evented:.1f} s: ok",
            flush=True,
        )
    print(
        f"{args.rounds}/{args.rounds} rounds passed ({args.transport}, {args.writers} writers): "
        f"versions and seqs 1..{args.writers} every time"
    )


if __name__ == "__main__":
    main()
