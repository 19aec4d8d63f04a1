"""`modelreg sync` against a real git remote (`git daemon` on 127.0.0.1) and a real S3 server (SeaweedFS).

Every wait is for an observable fact (a symlink, a log line, a directory) with a deadline; nothing
sleeps to let time pass.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import modelreg
from modelreg import Registry
from modelreg.serving.layout import Layout
from tests.conftest import git, make_repo, run_modelreg, start_modelreg
from tests.server_fixtures import seaweedfs  # noqa: F401
from tests.servers import StoreServer, free_ports, git_daemon

pytestmark = pytest.mark.slow

DEADLINE = 60.0


def wait_for(what: str, check: Callable[[], object], proc: subprocess.Popen[str] | None = None) -> object:
    """Poll `check` until it returns something truthy; fail after DEADLINE (or when `proc` exits)."""
    deadline = time.monotonic() + DEADLINE
    while True:
        value = check()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"sync exited ({proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass
class Served:
    seed: Path  # a clone that writes (registers, promotes) and pushes
    bare: Path
    base: Path  # the directory git daemon serves
    port: int
    store: str
    server: StoreServer
    env: dict[str, str]  # for sync processes: the store's credentials, their own cache
    daemon: contextlib.ExitStack  # holds the running git daemon: close() stops it

    @property
    def url(self) -> str:
        return f"git://127.0.0.1:{self.port}/{self.bare.name}"

    def register(self, content: bytes, name: str = "m") -> int:
        path = self.seed.parent / "artifacts" / hashlib.sha256(content).hexdigest()[:12] / "model.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return Registry.open(self.seed).register(name, path, push=True).version

    def promote(self, version: int, stage: str = "production") -> None:
        Registry.open(self.seed).promote("m", version, stage, push=True)

    def rollback(self) -> None:
        Registry.open(self.seed).rollback("m", push=True)


@contextlib.contextmanager
def daemon_on(base: Path, port: int) -> Iterator[None]:
    with git_daemon(base, port=port) as prefix:
        assert prefix.endswith(f":{port}")
        yield


@pytest.fixture
def served(seaweedfs: StoreServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:  # noqa: F811
    """A registry whose store is a fresh SeaweedFS bucket, its bare repository served by git daemon."""
    for key, value in seaweedfs.env.items():
        monkeypatch.setenv(key, value)
    store = seaweedfs.new_bucket()
    base = tmp_path / "git"
    base.mkdir()
    bare = base / "registry.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(bare, "config", "uploadpack.allowFilter", "true")
    seed = make_repo(tmp_path / "seed")
    git(seed, "remote", "add", "origin", str(bare))
    Registry.init(seed, store=store)
    config = seed / ".modelreg/config.yaml"
    config.write_text(config.read_text() + f"store_options: {json.dumps(seaweedfs.options)}\n")
    git(seed, "commit", "-q", "-am", "the store's endpoint")
    git(seed, "push", "-q", "origin", "main")
    git(bare, "symbolic-ref", "HEAD", "refs/heads/main")
    (port,) = free_ports(1)
    env = {**seaweedfs.env, "XDG_CACHE_HOME": str(tmp_path / "sync-cache")}
    with contextlib.ExitStack() as daemon:
        daemon.enter_context(daemon_on(base, port))
        yield Served(seed, bare, base, port, store, seaweedfs, env, daemon)


def current_version(dest: Path) -> int | None:
    facts = Layout(dest).read_facts()
    return int(facts["version"]) if facts and Layout(dest).current_name() else None


def start_sync(served: Served, dest: Path, *args: str, log: Path | None = None) -> subprocess.Popen[str]:
    out = open(log or dest.parent / "sync.log", "a")  # noqa: SIM115 - the process holds it
    args_ = ("sync", "m/production", "--dest", str(dest), "--repo", served.url, "--interval", "0.2s", "--json", *args)
    proc = start_modelreg(dest.parent, *args_, env=served.env, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    return proc


def records(log: Path) -> list[dict[str, object]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


@contextlib.contextmanager
def running(proc: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def files_of(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def no_partial_versions(dest: Path) -> None:
    """Every directory under versions/ is a complete, verified version (named after its digest)."""
    for entry in (dest / "versions").iterdir():
        assert not entry.name.startswith("."), entry
        blob = next(entry.iterdir())
        assert hashlib.sha256(blob.read_bytes()).hexdigest().startswith(entry.name.rsplit("-", 1)[1])


def test_promote_switches_current_within_an_interval_runs_the_hook_once_and_rollback_switches_back(served, tmp_path):
    served.promote(served.register(b"weights one"))
    dest = tmp_path / "serving"
    hooklog = tmp_path / "hook.log"
    script = f'echo "$MODELREG_VERSION $MODELREG_TAG $MODELREG_ACTION $(basename "$MODELREG_PATH")" >> {hooklog}'
    log = tmp_path / "sync.log"
    with running(start_sync(served, dest, "--exec", f"sh -c '{script}'", log=log)) as proc:
        wait_for("v1 to become current", lambda: current_version(dest) == 1, proc)
        assert (dest / "current").is_symlink() and not os.path.isabs(os.readlink(dest / "current"))
        pulled = dest / "current" / "model.bin"
        assert wait_for("model.bin", pulled.exists) and pulled.read_bytes() == b"weights one"

        served.promote(served.register(b"weights two"))
        wait_for("v2 to become current", lambda: current_version(dest) == 2, proc)
        assert (dest / "current" / "model.bin").read_bytes() == b"weights two"
        facts = json.loads((dest / "current.json").read_text())
        assert facts["name"] == "m" and facts["version"] == 2 and facts["tag"] == "m#production#2"
        assert facts["digest"] == "sha256:" + hashlib.sha256(b"weights two").hexdigest()
        assert facts["path"] == "model.bin" and facts["when"].endswith("Z") and "approved_by" in facts

        served.rollback()
        wait_for("the rollback to v1", lambda: current_version(dest) == 1, proc)
        wait_for("three hook runs", lambda: hooklog.exists() and len(hooklog.read_text().splitlines()) == 3, proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    assert hooklog.read_text().splitlines() == [
        "1 m#production#1 assign model.bin",
        "2 m#production#2 assign model.bin",
        "1 m#production#3 rollback model.bin",
    ]
    swaps = [r for r in records(log) if r["event"] == "swap"]
    assert [r["version"] for r in swaps] == [1, 2, 1]
    assert sorted(os.listdir(dest / "versions")) == sorted(
        f"m-v{v}-{hashlib.sha256(c).hexdigest()[:12]}" for v, c in ((1, b"weights one"), (2, b"weights two"))
    )
    no_partial_versions(dest)


def test_keep_prunes_older_versions_after_a_swap(served, tmp_path):
    dest = tmp_path / "serving"
    reload = tmp_path / "reload"  # --touch: a file a server watches (uWSGI's touch-reload)
    for n in range(1, 4):
        served.promote(served.register(f"weights {n}".encode()))
        if reload.exists():
            os.utime(reload, (0, 0))
        run_modelreg(tmp_path, "sync", "m/production", "--dest", str(dest), "--repo", served.url, "--once",
                     "--keep", "2", "--touch", str(reload), env=served.env)  # fmt: skip
        assert current_version(dest) == n
        assert reload.stat().st_mtime > 0  # created by the first swap, touched by each later one
    os.utime(reload, (0, 0))
    run_modelreg(tmp_path, "sync", "m/production", "--dest", str(dest), "--repo", served.url, "--once",
                 "--touch", str(reload), env=served.env)  # fmt: skip
    assert reload.stat().st_mtime == 0  # nothing changed: nothing touched
    assert sorted(p.name.split("-")[1] for p in (dest / "versions").iterdir()) == ["v2", "v3"]


def test_a_tampered_blob_never_becomes_current(served, tmp_path):
    served.promote(served.register(b"good weights"))
    dest = tmp_path / "serving"
    log = tmp_path / "sync.log"
    with running(start_sync(served, dest, log=log)) as proc:
        wait_for("v1", lambda: current_version(dest) == 1, proc)
        v2 = served.register(b"new weights!")
        digest = "sha256:" + hashlib.sha256(b"new weights!").hexdigest()
        reg = Registry.open(served.seed)
        store = reg.reader.store(reg.config.store)
        with store.fs.open(store.key(digest), "wb") as out:
            out.write(b"bad weights!")  # same size, other bytes
        served.promote(v2)
        refusal = wait_for(
            "the refusal", lambda: [r for r in records(log) if r["event"] == "refused" and "corrupt" in r["message"]]
        )
        assert proc.poll() is None
    assert "keeping m-v1-" in refusal[0]["message"]  # type: ignore[index]
    assert current_version(dest) == 1 and (dest / "current" / "model.bin").read_bytes() == b"good weights"
    assert [p.name for p in (dest / "versions").iterdir()] == [Layout(dest).current_name()]
    once = run_modelreg(tmp_path, "sync", "m/production", "--dest", str(dest), "--repo", served.url, "--once",
                        env=served.env, check=False)  # fmt: skip
    assert once.returncode == 4, once.stderr
    assert "corrupt" in once.stderr and "keeping m-v1-" in once.stderr
    assert current_version(dest) == 1


def test_an_unreviewed_production_event_never_becomes_current(served, tmp_path):
    v1 = served.register(b"weights one")
    served.promote(v1)
    dest = tmp_path / "serving"
    sync_once = ("sync", "m/production", "--dest", str(dest), "--repo", served.url, "--once", "--json")
    run_modelreg(tmp_path, *sync_once, env=served.env)
    assert current_version(dest) == v1
    v2 = served.register(b"unreviewed weights")
    config = served.seed / ".modelreg/config.yaml"
    config.write_text(config.read_text().replace("review_required: []", "review_required: [production]"))
    git(served.seed, "commit", "-q", "-am", "production changes need review")
    git(served.seed, "push", "-q", "origin", "main")
    # A writer whose main lacks that commit promotes directly: its tag and claim ref reach the remote.
    rogue = tmp_path / "rogue"
    git(tmp_path, "clone", "-q", str(served.bare), str(rogue))
    git(rogue, "reset", "-q", "--hard", "HEAD~1")
    git(rogue, "commit", "-q", "--allow-empty", "-m", "diverge: this clone's main is its policy")
    Registry.open(rogue).promote("m", v2, "production", push=True)
    assert "m#production#2" in git(served.bare, "tag", "-l")

    once = run_modelreg(tmp_path, *sync_once, env=served.env, check=False)
    # Today's policy leaves out both production events (neither has a merged request): refused, v1 kept.
    assert once.returncode == 4
    assert current_version(dest) == v1
    logged = [json.loads(line) for line in once.stdout.splitlines()]
    assert any(r["event"] == "ignored" and "m#production#2" in r["message"] for r in logged), logged
    assert any(r["event"] == "refused" and "keeping m-v1-" in r["message"] for r in logged), logged
    assert not any(p.name.startswith(f"m-v{v2}-") for p in (dest / "versions").iterdir())


def test_the_remote_going_away_and_coming_back_changes_nothing(served, tmp_path):
    served.promote(served.register(b"weights one"))
    dest = tmp_path / "serving"
    log = tmp_path / "sync.log"
    with running(start_sync(served, dest, log=log)) as proc:
        wait_for("v1", lambda: current_version(dest) == 1, proc)
        before = (os.readlink(dest / "current"), (dest / "current.json").read_text(), files_of(dest))
        served.daemon.close()  # the git server goes away
        wait_for("an error line", lambda: [r for r in records(log) if r["event"] == "error"], proc)
        assert (os.readlink(dest / "current"), (dest / "current.json").read_text(), files_of(dest)) == before
        errors = [r for r in records(log) if r["event"] == "error"]
        assert errors[0]["retry_in"] is not None and "keeping m-v1-" in errors[0]["message"]  # type: ignore[operator]
        assert len({r["message"] for r in errors}) == len(errors)  # one line per distinct error, not one per round
        served.daemon.enter_context(daemon_on(served.base, served.port))  # and comes back on the same port
        served.promote(served.register(b"weights two"))
        wait_for("v2 after the remote came back", lambda: current_version(dest) == 2, proc)


def test_sigkill_during_a_pull_leaves_current_whole_and_the_next_run_recovers(served, tmp_path):
    served.promote(served.register(b"small weights"))
    dest = tmp_path / "serving"
    run_modelreg(tmp_path, "sync", "m/production", "--dest", str(dest), "--repo", served.url, "--once",
                 env=served.env)  # fmt: skip
    before = files_of(dest / "current")
    big = os.urandom(1 << 20) * 96  # 96 MiB: the pull takes a while
    served.promote(served.register(big))
    with running(start_sync(served, dest)) as proc:
        incoming = wait_for("the pull's temporary directory", lambda: list(dest.glob(".incoming-*")), proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert incoming
    assert files_of(dest / "current") == before and current_version(dest) == 1
    assert [p.name.split("-")[1] for p in (dest / "versions").iterdir()] == ["v1"]  # no partial version visible
    rerun = run_modelreg(tmp_path, "sync", "m/production", "--dest", str(dest), "--repo", served.url, "--once",
                         "--json", env=served.env)  # fmt: skip
    assert current_version(dest) == 2
    assert hashlib.sha256((dest / "current" / "model.bin").read_bytes()).digest() == hashlib.sha256(big).digest()
    assert not list(dest.glob(".incoming-*")) and not list(dest.glob(".current*.tmp"))
    if list(dest.glob(".incoming-*")) or incoming:
        assert any(json.loads(line)["event"] == "cleaned" for line in rerun.stdout.splitlines())
    no_partial_versions(dest)


def test_once_exit_codes(served, tmp_path):
    dest = tmp_path / "serving"

    def once(ref: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_modelreg(tmp_path, "sync", ref, "--dest", str(dest), "--repo", url or served.url, "--once",
                            env=served.env, check=False)  # fmt: skip

    missing = once("m/production")
    assert missing.returncode == 1 and "no model named 'm'" in missing.stderr
    served.register(b"weights")
    no_holder = once("m/production")
    assert no_holder.returncode == 1 and "in stage 'production'" in no_holder.stderr
    assert current_version(dest) is None
    served.promote(1)
    assert once("m/production").returncode == 0 and current_version(dest) == 1
    assert once("m/production").returncode == 0  # already current: nothing to do, still 0
    (closed,) = free_ports(1)
    unreachable = once("m/production", f"git://127.0.0.1:{closed}/registry.git")
    assert unreachable.returncode == 1 and "keeping m-v1-" in unreachable.stderr
    bad = run_modelreg(tmp_path, "sync", "m", "--dest", str(dest), "--interval", "soon", check=False)
    assert bad.returncode == 1 and bad.stderr.startswith("error: invalid interval")
    assert current_version(dest) == 1


def test_sigterm_stops_cleanly(served, tmp_path):
    served.promote(served.register(b"weights"))
    dest = tmp_path / "serving"
    with running(start_sync(served, dest)) as proc:
        wait_for("v1", lambda: current_version(dest) == 1, proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    assert current_version(dest) == 1


def test_two_syncs_never_share_a_directory(served, tmp_path):
    served.promote(served.register(b"weights"))
    dest = tmp_path / "serving"
    with running(start_sync(served, dest)) as proc:
        wait_for("v1", lambda: current_version(dest) == 1, proc)
        second = run_modelreg(tmp_path, "sync", "m/production", "--dest", str(dest), "--repo", served.url,
                              "--once", env=served.env, check=False)  # fmt: skip
        assert second.returncode == 1 and "another `modelreg sync` is using" in second.stderr


def test_the_python_api_runs_in_a_thread_calls_back_on_change_and_stops(served, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", served.env["XDG_CACHE_HOME"])
    served.promote(served.register(b"weights one"))
    dest = tmp_path / "serving"
    changes: list[modelreg.Deployed] = []
    stop = threading.Event()
    results: list[modelreg.SyncResult] = []
    thread = threading.Thread(
        target=lambda: results.append(
            modelreg.sync("m/production", dest, repo=served.url, interval=0.2, on_change=changes.append, stop=stop)
        )
    )
    thread.start()
    try:
        wait_for("the first change", lambda: changes)
        served.promote(served.register(b"weights two"))
        wait_for("the second change", lambda: len(changes) == 2)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive()
    assert [(c.version, c.tag) for c in changes] == [(1, "m#production#1"), (2, "m#production#2")]
    assert changes[1].path == dest.absolute() / "current" / "model.bin"
    assert changes[1].path.read_bytes() == b"weights two"
    (result,) = results
    assert result.stopped and result.exit_code == 0 and result.current is not None and result.current.version == 2


def test_sync_follows_a_clone_without_a_url(tmp_path, monkeypatch, artifact):
    repo = make_repo(tmp_path / "repo")
    Registry.init(repo)
    reg = Registry.open(repo)
    reg.register("m", artifact(content=b"one"))
    reg.promote("m", 1, "staging")
    dest = tmp_path / "serving"
    result = modelreg.sync("m/staging", dest, path=repo, once=True)
    assert result.exit_code == 0 and result.current is not None and result.current.version == 1
    assert (dest / "current" / "model.pkl").read_bytes() == b"one"


def test_a_failing_hook_is_retried_next_round_and_the_swap_stays(served, tmp_path):
    served.promote(served.register(b"weights"))
    dest = tmp_path / "serving"
    attempts, ready = tmp_path / "attempts", tmp_path / "ready"
    hook = f"sh -c 'echo try >> {attempts}; test -e {ready} || {{ echo app not ready >&2; exit 3; }}'"
    log = tmp_path / "sync.log"
    with running(start_sync(served, dest, "--exec", hook, log=log)) as proc:
        wait_for("v1", lambda: current_version(dest) == 1, proc)
        wait_for("a retry", lambda: attempts.exists() and len(attempts.read_text().splitlines()) >= 2, proc)
        assert current_version(dest) == 1  # not undone
        failed = [r for r in records(log) if r["event"] == "hook-failed"]
        assert failed and "app not ready" in failed[0]["message"]  # type: ignore[operator]
        ready.touch()
        wait_for("the hook to succeed", lambda: [r for r in records(log) if r["event"] == "hook"], proc)
        tries = len(attempts.read_text().splitlines())
        served.promote(served.register(b"weights two"))  # a later change: the hook is not run again for v1
        wait_for("v2", lambda: current_version(dest) == 2, proc)
        wait_for("the hook for v2", lambda: len([r for r in records(log) if r["event"] == "hook"]) == 2, proc)
    assert len(attempts.read_text().splitlines()) == tries + 1


def test_a_round_in_which_nothing_moved_asks_one_ls_refs_and_reads_nothing_else(served, tmp_path, monkeypatch):
    """Spies on modelreg's own functions (git and the store stay real): no registry read, no store after round one."""
    from modelreg.api import Registry as RegistryClass
    from modelreg.git import lsrefs
    from modelreg.serving import loop

    monkeypatch.setenv("XDG_CACHE_HOME", served.env["XDG_CACHE_HOME"])
    served.promote(served.register(b"weights"))
    opened: list[str] = []
    asked: list[list[str]] = []
    real_open, real_ls = RegistryClass.open_url.__func__, lsrefs.ls_refs  # type: ignore[attr-defined]
    monkeypatch.setattr(
        RegistryClass, "open_url", classmethod(lambda cls, *a: opened.append(a[0]) or real_open(cls, *a))
    )
    monkeypatch.setattr(  # where sync calls it from
        loop, "ls_refs", lambda url, prefixes, *a: asked.append(prefixes) or real_ls(url, prefixes, *a)
    )
    dest = tmp_path / "serving"
    stop = threading.Event()
    thread = threading.Thread(target=modelreg.sync, args=("m/production", dest), kwargs={"repo": served.url,
                              "interval": 0.05, "stop": stop})  # fmt: skip
    thread.start()
    try:
        wait_for("v1", lambda: current_version(dest) == 1)
        wait_for("ten no-change rounds", lambda: len(asked) >= 12)
        assert len(opened) == 1  # the first round only
        # A commit to the project's code moves HEAD: one root tree fetched shows .modelreg/ is untouched.
        (served.seed / "train.py").write_text("print('train better')\n")
        git(served.seed, "commit", "-q", "-am", "code change")
        git(served.seed, "push", "-q", "origin", "main")
        rounds = len(asked)
        wait_for("ten more rounds", lambda: len(asked) >= rounds + 10)
        assert len(opened) == 1
        # A policy change is read in full.
        config = served.seed / ".modelreg/config.yaml"
        config.write_text(config.read_text().replace("review_required: []", "review_required: [staging]"))
        git(served.seed, "commit", "-q", "-am", "policy change")
        git(served.seed, "push", "-q", "origin", "main")
        wait_for("the policy change to be read", lambda: len(opened) == 2)
    finally:
        stop.set()
        thread.join(timeout=60)
    watched = asked[-1]
    assert "HEAD" in watched and len(watched) <= 12 and all(p.startswith(("HEAD", "refs/")) for p in watched)


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
def test_an_unsigned_event_where_signatures_are_required_never_becomes_current(served, tmp_path):
    key = tmp_path / "keys" / "jane"
    key.parent.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "jane", "-f", str(key)], check=True)
    seed = served.seed
    signers = seed / ".modelreg" / "allowed_signers"
    signers.write_text(f'jane@example.com namespaces="git" {key.with_suffix(".pub").read_text().strip()}\n')
    config = seed / ".modelreg" / "config.yaml"
    config.write_text(config.read_text() + "require_signed: true\nallowed_signers: .modelreg/allowed_signers\n")
    git(seed, "add", ".modelreg")
    git(seed, "commit", "-q", "-m", "require signed events")
    git(seed, "push", "-q", "origin", "main")
    git(seed, "config", "gpg.format", "ssh")
    git(seed, "config", "user.signingkey", str(key))
    served.promote(served.register(b"signed weights"))
    dest = tmp_path / "serving"
    sync_once = ("sync", "m/production", "--dest", str(dest), "--repo", served.url, "--once", "--json")
    run_modelreg(tmp_path, *sync_once, env=served.env)
    assert current_version(dest) == 1
    v2 = served.register(b"other weights")  # a signed version tag
    commit = git(seed, "rev-parse", f"m@v{v2}^{{commit}}").strip()
    payload = {"modelreg": 1, "action": "assign", "kind": "stage", "target": "production", "version": v2}
    message = f"m v{v2} → production\n\n{json.dumps({**payload, 'archived': [1]})}\n"
    subprocess.run(["git", "tag", "-a", "--cleanup=verbatim", "-F", "-", "m#production#2", commit], cwd=seed,
                   input=message, text=True, check=True)  # fmt: skip
    git(seed, "update-ref", "refs/modelreg/events/m/2", git(seed, "rev-parse", "refs/tags/m#production#2").strip())
    git(seed, "push", "-q", "--atomic", "origin", "refs/tags/m#production#2", "refs/modelreg/events/m/2")

    once = run_modelreg(tmp_path, *sync_once, env=served.env)
    assert current_version(dest) == 1  # the unsigned event is left out: production is still v1's
    logged = [json.loads(line) for line in once.stdout.splitlines()]
    ignored = [r["message"] for r in logged if r["event"] == "ignored" and "m#production#2" in r["message"]]
    assert ignored and "sign" in ignored[0], logged
    assert not any(p.name.startswith(f"m-v{v2}-") for p in (dest / "versions").iterdir())
