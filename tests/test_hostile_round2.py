"""A hostile world, round two (issue 23): planted serving entries, a planted lock, a silent server, pathological
LIKE patterns, the end of time, a policy chosen by the checkout, DVC pointers that name files, one bad GTO artifact.
Each test failed before its fix (see the notes of the change)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from modelreg.api import Registry
from modelreg.git.lsrefs import ls_refs
from modelreg.git.process import GitTimeout
from modelreg.serving.plan import version_dir_name
from tests.conftest import Result, git, make_repo, run_modelreg, start_modelreg
from tests.test_review import hand_made_event, require_review
from tests.test_signing import signed  # noqa: F401 - a fixture

# --- 5: LIKE / ILIKE on a long value ---------------------------------------------------------------


@pytest.fixture
def long_tag(repo: Path, cli: Callable[..., Result], artifact: Callable[..., Path]) -> Path:
    """`m` v1 with a 5,000-character tag `t` of a's, `m` v2 with `t` = that and a final b."""
    assert cli("register", "m", artifact("m.bin", b"1"), "--tag", "t=" + "a" * 5000).code == 0
    assert cli("register", "m", artifact("m.bin", b"2"), "--tag", "t=" + "a" * 5000 + "b").code == 0
    return repo


@pytest.mark.parametrize(
    "clause",
    [
        "tags.t LIKE '" + "%a" * 22 + "%b'",
        "tags.t ILIKE '" + "%A" * 22 + "%B'",
        "tags.t LIKE '%" + "_" * 50 + "b'",
        "tags.t ILIKE '%" + "_" * 50 + "B'",
    ],
)
def test_5_a_pathological_like_pattern_answers_through_search(long_tag, cli, clause: str) -> None:
    # before: a backtracking regular expression, minutes per record (the test hung)
    found = cli("search", clause, "--json")
    assert found.code == 0, found.err
    assert [(v["name"], v["version"]) for v in json.loads(found.out)["versions"]] == [("m", 2)]


def test_5_a_pathological_like_pattern_answers_through_mlflows_search_model_versions(long_tag) -> None:
    # before: the plugin's search ran the same backtracking regular expression
    from modelreg.mlflow.store import ModelregRegistryStore  # needs mlflow, an optional extra

    store = ModelregRegistryStore(f"modelreg://{long_tag}")
    found = store.search_model_versions("tags.t LIKE '" + "%a" * 22 + "%b'")
    assert [(mv.name, mv.version) for mv in found] == [("m", 2)]
    found = store.search_model_versions("name = 'm' AND tags.t ILIKE '%" + "_" * 50 + "B'")
    assert [(mv.name, mv.version) for mv in found] == [("m", 2)]


# --- 6: the end of time ----------------------------------------------------------------------------


@pytest.fixture
def one_version(repo: Path, cli: Callable[..., Result], artifact: Callable[..., Path]) -> Path:
    assert cli("register", "m", artifact("m.bin", b"1")).code == 0
    assert cli("promote", "m", "1", "production").code == 0
    return repo


def one_line(result: Result) -> str:
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    return result.err.strip()


@pytest.mark.parametrize("when", ["9999-12-31", "9999-12-31+05:00", "9999-12-31-05:00", "9999-12-31T23:59:59Z"])
def test_6_at_the_end_of_time_is_now(one_version, cli, when: str) -> None:
    # before: "internal error: OverflowError" from every one of these
    resolved = cli("resolve", "m/production", "--at", when)
    assert resolved.code == 0, resolved.err
    assert resolved.out.startswith("m@v1 ")
    shown = cli("show", "m/production", "--at", when, "--json")
    assert shown.code == 0, shown.err
    assert json.loads(shown.out)["stage"] == "production"
    listed = cli("list", "--at", when, "--json")
    assert listed.code == 0, listed.err
    assert [(m["name"], m["stages"]) for m in json.loads(listed.out)] == [("m", {"production": 1})]
    found = cli("search", "stage = 'production'", "--at", when, "--json")
    assert found.code == 0, found.err
    assert [v["version"] for v in json.loads(found.out)["versions"]] == [1]


def test_6_history_since_and_until_the_end_of_time(one_version, cli) -> None:
    since = cli("history", "m", "--since", "9999-12-31", "--json")
    assert since.code == 0, since.err
    assert json.loads(since.out) == []
    until = cli("history", "m", "--until", "9999-12-31", "--json")
    assert until.code == 0, until.err
    assert [(e["action"], e["kind"], e["target"]) for e in json.loads(until.out)] == [
        ("register", None, None),
        ("assign", "stage", "production"),
    ]
    early = cli("history", "m", "--until", "0001-01-01-05:00", "--json")
    assert early.code == 0, early.err
    assert json.loads(early.out) == []


@pytest.mark.parametrize("when", ["10000-01-01", "9999-12-32", "+9999-12-31"])
def test_6_a_date_past_the_end_of_time_is_one_line(one_version, cli, when: str) -> None:
    result = cli("resolve", "m/production", "--at", when)
    assert result.code == 1
    assert "--at" in one_line(result)


@pytest.mark.parametrize("millis", ["1e30", "-1e30", "253402300800000"])  # the last: 10000-01-01
def test_6_a_creation_time_out_of_range_is_one_line(one_version, cli, millis: str) -> None:
    # before: "internal error: OverflowError"
    result = cli("search", f"creation_timestamp > {millis}")
    assert result.code == 1
    message = f"error: filter: created: {millis} ms is not a time a version can have at column 22: {millis}"
    assert one_line(result) == message


# --- 1 and 2: planted serving entries and a planted lock -----------------------------------------------


@pytest.fixture
def served(repo: Path, cli: Callable[..., Result], artifact: Callable[..., Path]) -> str:
    """`m` v1 (b"weights") in production; the name of its version directory under DIR/versions."""
    assert cli("register", "m", artifact("model.bin", b"weights")).code == 0
    assert cli("promote", "m", "1", "production").code == 0
    digest = json.loads(cli("show", "m@1", "--json").out)["artifact"]["digest"]
    return version_dir_name("m", 1, digest)


def sync_once(cli: Callable[..., Result], dest: Path) -> Result:
    return cli("sync", "m/production", "--dest", dest, "--once")


def attacker_copy(tmp_path: Path, content: bytes = b"weights") -> Path:
    """A directory holding the right bytes today, somewhere another user controls."""
    theirs = tmp_path / "attacker" / "copy"
    theirs.mkdir(parents=True)
    (theirs / "model.bin").write_bytes(content)
    return theirs


def assert_served_from_our_own_copy(dest: Path, name: str, result: Result) -> None:
    assert result.code == 0, result.err
    entry = dest / "versions" / name
    assert not entry.is_symlink()
    assert Path(os.path.realpath(dest / "current")) == entry.resolve()
    assert entry.resolve().parent == (dest / "versions").resolve()
    for path in [entry, *entry.rglob("*")]:
        info = path.lstat()
        assert not stat.S_ISLNK(info.st_mode)
        assert info.st_uid == os.geteuid()
        assert not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH), path
    assert (dest / "current" / "model.bin").read_bytes() == b"weights"
    assert "quarantined" in result.err and f"versions/{name}" in result.err


def test_1_a_planted_symlink_entry_never_becomes_current(served, cli, tmp_path) -> None:
    # before: sync exited 0 with `current` resolving through the symlink, and served the rewritten file
    dest = tmp_path / "serving"
    theirs = attacker_copy(tmp_path)
    (dest / "versions").mkdir(parents=True)
    (dest / "versions" / served).symlink_to(theirs)
    result = sync_once(cli, dest)
    assert_served_from_our_own_copy(dest, served, result)
    (theirs / "model.bin").write_bytes(b"evil")
    assert (dest / "current" / "model.bin").read_bytes() == b"weights"
    assert (theirs / "model.bin").read_bytes() == b"evil"  # moved aside, theirs left alone
    (quarantined,) = (dest / ".quarantine").iterdir()
    assert quarantined.is_symlink()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another uid takes root")
def test_1_a_planted_directory_of_another_owner_never_becomes_current(served, cli, tmp_path) -> None:
    # before: served as is (the other uid could rewrite the file at any time)
    dest = tmp_path / "serving"
    planted = dest / "versions" / served
    planted.mkdir(parents=True)
    (planted / "model.bin").write_bytes(b"weights")
    for path in (planted, planted / "model.bin"):
        os.chown(path, 4242, 4242)
    result = sync_once(cli, dest)
    assert_served_from_our_own_copy(dest, served, result)
    assert "belongs to uid 4242" in result.err


def test_1_an_entry_others_can_write_is_pulled_afresh(served, cli, tmp_path) -> None:
    # before: served as is (anyone could rewrite the file at any time)
    dest = tmp_path / "serving"
    planted = dest / "versions" / served
    planted.mkdir(parents=True)
    (planted / "model.bin").write_bytes(b"weights")
    (planted / "model.bin").chmod(0o666)
    result = sync_once(cli, dest)
    assert_served_from_our_own_copy(dest, served, result)
    assert "model.bin, which is writable by other users" in result.err


def test_1_a_current_entry_replaced_by_a_symlink_is_caught_on_the_next_start(served, cli, tmp_path) -> None:
    # before: `current` and current.json already named it, so sync did nothing and exited 0
    dest = tmp_path / "serving"
    assert sync_once(cli, dest).code == 0
    theirs = attacker_copy(tmp_path)
    entry = dest / "versions" / served
    shutil.rmtree(entry)
    entry.symlink_to(theirs)
    result = sync_once(cli, dest)
    assert_served_from_our_own_copy(dest, served, result)


def test_1_a_versions_directory_of_someone_else_is_refused(served, cli, tmp_path) -> None:
    # before: followed (the symlink) and served through it
    dest = tmp_path / "serving"
    dest.mkdir()
    theirs = tmp_path / "attacker" / "versions"
    theirs.mkdir(parents=True)
    (dest / "versions").symlink_to(theirs)
    result = sync_once(cli, dest)
    assert result.code == 1
    assert "versions is not a directory but a symbolic link" in one_line(result)
    assert list(theirs.iterdir()) == [] and not (dest / "current").exists()


def test_2_a_planted_lock_symlink_is_not_followed(served, cli, tmp_path) -> None:
    # before: sync created the file the symlink named, and went on
    dest = tmp_path / "serving"
    dest.mkdir()
    victim = tmp_path / "elsewhere" / "created-by-sync"
    victim.parent.mkdir()
    (dest / ".sync.lock").symlink_to(victim)
    result = sync_once(cli, dest)
    assert result.code == 1
    assert ".sync.lock is a symbolic link: refusing to follow it" in one_line(result)
    assert not victim.exists() and not (dest / "current").exists()


def test_2_a_planted_current_json_temporary_file_is_not_followed(served, cli, tmp_path) -> None:
    # before: the facts were written through the symlink into the file it named
    dest = tmp_path / "serving"
    dest.mkdir()
    victim = tmp_path / "elsewhere" / "kept"
    victim.parent.mkdir()
    victim.write_text("untouched\n")
    (dest / f".current.json.{os.getpid()}.tmp").symlink_to(victim)
    (dest / f".current.{os.getpid()}.tmp").symlink_to(victim)
    result = sync_once(cli, dest)
    assert result.code == 0, result.err
    assert victim.read_text() == "untouched\n"
    assert json.loads((dest / "current.json").read_text())["version"] == 1


# --- 4: a server that accepts and never answers --------------------------------------------------------


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that accepts every connection and never sends a byte."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def run_bounded(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`modelreg ARGS` with a 2 s network bound; a run still going after 120 s is the failure itself."""
    proc = start_modelreg(
        cwd, *args, env={"MODELREG_NETWORK_TIMEOUT": "2"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"modelreg {' '.join(args)} was still waiting on a silent server after 120 s")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize("scheme", ["git", "http"])
def test_4_sync_once_against_a_silent_server_stops_and_says_so(silent_server, tmp_path, scheme: str) -> None:
    # before: still waiting after 90 s (git://); no bound at all on the mirror's fetch
    url = f"{scheme}://127.0.0.1:{silent_server}/models.git"
    result = run_bounded(tmp_path, "sync", "m/production", "--dest", str(tmp_path / "serving"), "--repo", url, "--once")
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert url in line and "timed out" in line and "MODELREG_NETWORK_TIMEOUT" in line
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("scheme", ["git", "http"])
def test_4_a_read_with_repo_against_a_silent_server_stops_and_says_so(silent_server, tmp_path, scheme: str) -> None:
    url = f"{scheme}://127.0.0.1:{silent_server}/models.git"
    result = run_bounded(tmp_path, "resolve", "m/production", "--repo", url)
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert url in line and "timed out" in line


@pytest.mark.parametrize("scheme", ["git", "http"])
def test_4_ls_refs_against_a_silent_server_raises_a_timeout(silent_server, scheme: str) -> None:
    url = f"{scheme}://127.0.0.1:{silent_server}/models.git"
    with pytest.raises(GitTimeout, match=r"no answer within 1 s \(timed out"):
        ls_refs(url, ["refs/tags/"], timeout=1)


def test_4_a_nonsense_network_timeout_is_one_line(tmp_path, monkeypatch) -> None:
    result = run_modelreg(
        tmp_path,
        "resolve",
        "m",
        "--repo",
        "git://127.0.0.1:1/x.git",
        check=False,
        env={"MODELREG_NETWORK_TIMEOUT": "soon"},
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "error: MODELREG_NETWORK_TIMEOUT='soon': expected a positive number of seconds"


# --- 7: the checkout does not choose the policy of record ----------------------------------------------


@pytest.fixture
def reviewed_main(repo: Path, cli: Callable[..., Result], artifact: Callable[..., Path]) -> Path:
    """production needs review on main; fraud v1 registered (no production holder)."""
    require_review(repo, "production")
    assert cli("register", "fraud", artifact("m1", b"weights 1")).code == 0
    return repo


def test_7_a_branch_whose_config_names_itself_main_sets_no_policy(reviewed_main, cli, tmp_path) -> None:
    # before: on `evil`, main_branch: evil made evil's config the policy, and the unreviewed promote was served
    repo = reviewed_main
    git(repo, "checkout", "-q", "-b", "evil")
    config = repo / ".modelreg" / "config.yaml"
    text = config.read_text().replace("review_required: [production]", "review_required: []")
    config.write_text(text + "main_branch: evil\n")
    git(repo, "commit", "-qam", "relax")
    hand_made_event(repo, "fraud#production#1", 1)
    main_tip = git(repo, "rev-parse", "main").strip()
    assert cli("check-ref", "fraud#production#1").code == 4
    resolved = cli("resolve", "fraud/production")
    assert resolved.code == 1 and "ignoring fraud#production#1" in resolved.err
    assert json.loads(cli("show", "fraud@1", "--json").out)["policy"] == main_tip
    sync = cli("sync", "fraud/production", "--dest", tmp_path / "serving", "--once")
    assert sync.code != 0 and not (tmp_path / "serving" / "current").exists()


def test_7_an_uncommitted_edit_naming_a_missing_branch_is_refused(signed, repo, cli) -> None:  # noqa: F811
    # before: the missing branch made reads fall back to the work tree's config, which dropped require_signed
    config = repo / ".modelreg" / "config.yaml"
    config.write_text(config.read_text().replace("require_signed: true\n", "") + "main_branch: nowhere\n")
    hand_made_event(repo, "fraud#production#1", 1)  # not signed
    assert cli("check-ref", "fraud#production#1").code == 4
    resolved = cli("resolve", "fraud/production")
    assert resolved.code == 1 and "ignoring fraud#production#1" in resolved.err


def test_7_the_main_branch_named_on_main_itself_is_followed_when_renamed(repo, cli, artifact) -> None:
    # a reviewed rename: main's committed config says trunk, and trunk's says trunk
    config = repo / ".modelreg" / "config.yaml"
    config.write_text(config.read_text() + "main_branch: trunk\n")
    git(repo, "commit", "-qam", "the main branch is trunk now")
    git(repo, "branch", "trunk")
    assert cli("register", "fraud", artifact("m1", b"weights 1")).code == 0
    trunk = git(repo, "rev-parse", "trunk").strip()
    assert json.loads(cli("show", "fraud@1", "--json").out)["policy"] == trunk
    git(repo, "branch", "-D", "trunk")  # renamed away: nothing names the policy any more
    gone = cli("show", "fraud@1")
    assert gone.code == 1
    assert "trunk" in one_line(gone) and "not" in one_line(gone)


def test_7_a_remote_head_names_the_main_branch(clone, cli, artifact, monkeypatch) -> None:
    work = clone("work")
    monkeypatch.chdir(work)
    assert cli("register", "fraud", artifact("m1", b"weights 1")).code == 0
    git(work, "checkout", "-q", "-b", "evil")
    config = work / ".modelreg" / "config.yaml"
    config.write_text(config.read_text() + "main_branch: evil\n")
    git(work, "commit", "-qam", "evil")
    assert json.loads(cli("show", "fraud@1", "--json").out)["policy"] == git(work, "rev-parse", "main").strip()


def test_7_an_orphan_branch_with_a_registry_of_its_own_is_refused(reviewed_main, cli) -> None:
    repo = reviewed_main
    config = (repo / ".modelreg" / "config.yaml").read_text()
    git(repo, "checkout", "-q", "--orphan", "evil")
    git(repo, "rm", "-rq", "--cached", ".")
    (repo / ".modelreg" / "config.yaml").write_text(
        config.replace("review_required: [production]", "review_required: []") + "main_branch: evil\n"
    )
    git(repo, "add", ".modelreg/config.yaml")
    git(repo, "commit", "-qm", "a registry of my own")
    hand_made_event(repo, "fraud#production#1", 1)
    result = cli("resolve", "fraud/production")
    assert result.code == 1
    assert "first committed on more than one branch (evil, main)" in one_line(result)


def test_7_a_fresh_registry_reads_its_work_tree(tmp_path, cli, monkeypatch) -> None:
    path = make_repo(tmp_path / "fresh")
    monkeypatch.chdir(path)
    Registry.init(path)
    git(path, "reset", "-q", "HEAD~1")  # the config is in the work tree only: never committed anywhere
    listed = cli("list", "--json")
    assert listed.code == 0, listed.err
    assert json.loads(listed.out) == []


# --- 8 and 9: a GTO repository with a hostile pointer and a bad artifact -------------------------------


def gto_source(tmp_path: Path, artifacts: dict[str, str], files: dict[str, bytes]) -> Path:
    """A GTO repository made with plain git: artifacts.yaml (name → path), `files`, `NAME@v0.0.1` for each."""
    path = make_repo(tmp_path / "gto")
    (path / "artifacts.yaml").write_text("".join(f"{n}:\n  type: model\n  path: {p!r}\n" for n, p in artifacts.items()))
    for name, content in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(content)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "models")
    for name in artifacts:
        git(path, "tag", "-a", f"{name}@v0.0.1", "-m", f"Registering artifact {name} version v0.0.1")
    return path


def escaping_md5(gto: Path, target: Path) -> str:
    """A 32-character "md5" that, joined as DVC 3's cache path (cache/md5[:2]/md5[2:]), names `target`."""
    cache = gto / ".dvc" / "cache" / "files" / "md5"
    up = os.path.relpath(target, cache / "..")
    md5 = "..." + "/" * (32 - 3 - len(up)) + up  # "..", then "./" and slashes: still a path to `target`
    assert len(md5) == 32, md5  # the length the old check wanted
    assert (cache / md5[:2] / md5[2:]).resolve() == target.resolve()  # what the old code would have read
    return md5


def test_8_a_dvc_md5_that_is_a_path_is_refused_and_the_file_never_read(repo, cli, tmp_path) -> None:
    # before: the secret was copied into the store as thief v1, and `pull` served it
    secret = tmp_path / "s.txt"
    secret.write_bytes(b"the secret")
    gto = gto_source(tmp_path, {"good": "models/good.bin", "thief": "models/x.bin"}, {"models/good.bin": b"good"})
    md5 = escaping_md5(gto, secret)
    (gto / "models" / "x.bin.dvc").write_text(f"outs:\n- md5: {md5}\n  size: 10\n  path: x.bin\n")
    git(gto, "add", "-A")
    git(gto, "commit", "-q", "-m", "pointer")
    git(gto, "tag", "-f", "-a", "thief@v0.0.1", "-m", "Registering artifact thief version v0.0.1")
    result = cli("import", "gto", "--repo", gto)
    assert result.code == 0, result.err
    assert (
        "thief@v0.0.1: not imported: models/x.bin has a .dvc file whose md5 is not 32 hex digits"
        in result.out + result.err
    )
    assert cli("show", "thief").code == 1
    pulled = cli("pull", "good", "-o", tmp_path / "good")
    assert pulled.code == 0, pulled.err
    assert (tmp_path / "good" / "good.bin").read_bytes() == b"good"
    store = repo / ".modelreg" / "store"
    assert all(p.read_bytes() != b"the secret" for p in store.rglob("*") if p.is_file())
    objects = subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"], cwd=repo, capture_output=True)
    assert b"the secret" not in objects.stdout


@pytest.mark.parametrize("bad", ["../outside.bin", "/etc/hostname", "models/../../outside.bin"])
def test_9_one_bad_artifact_is_reported_alone_and_the_rest_imports(repo, cli, tmp_path, bad: str) -> None:
    # before: the whole import stopped on "git ls-tree failed: … outside repository"
    (tmp_path / "outside.bin").write_bytes(b"outside")
    gto = gto_source(tmp_path, {"good": "models/good.bin", "bad": bad}, {"models/good.bin": b"good"})
    result = cli("import", "gto", "--repo", gto)
    assert result.code == 0, result.err
    said = result.out + result.err
    assert f"bad@v0.0.1: not imported: its path {bad!r} in artifacts.yaml is outside the repository" in said
    assert "ls-tree" not in said and "fatal" not in said
    assert json.loads(cli("show", "good", "--json").out)["version"] == 1
    assert cli("show", "bad").code == 1
