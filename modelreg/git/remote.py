"""Talking to remotes: read-only mirrors of a URL, fetch without clobbering, ls-remote, atomic push."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from modelreg.errors import ConflictError, GitError, InvalidInputError
from modelreg.git.lsrefs import ls_refs
from modelreg.git.process import TIMEOUT_VARIABLE, GitTimeout, network_timeout, run_git_raw
from modelreg.git.repo import GitRepo

# How a remote says another writer got there first (all seen with truly simultaneous pushes):
# a tag or claim ref that now exists, a branch that moved, a ref locked by the other push.
# A server whose refs moved between its advertisement and the update refuses the whole push as
# "atomic transaction failed"; "atomic push failed" only says some other ref of it was refused.
_RACE_REASONS = (
    "already exists",
    "fetch first",
    "non-fast-forward",
    "stale info",
    "failed to update ref",
    "cannot lock ref",
    "failed to lock",
    "atomic transaction failed",
    "incorrect old value",
)


def mirror(url: str, cache: Path, refspecs: list[str]) -> tuple[GitRepo, str]:
    """A bare, shallow, blob-less cache of `url` holding only `refspecs` (and the remote's HEAD).

    Tags and the commits they point at come without history (depth 1) and without file
    contents; the few blobs read later (config, manifests) are fetched on demand, since the
    cache is a partial clone whose promisor is the remote.
    """
    if url.startswith("-"):
        raise InvalidInputError(f"not a repository URL: {url!r}")
    import hashlib  # ~3 ms (OpenSSL) that a read of the work tree never pays

    digest = hashlib.sha256(url.encode()).hexdigest()[:24]
    root = cache / digest
    repo = GitRepo(root)
    repo.timeout = network_timeout()  # its reads may fetch objects from the remote on demand
    if not (root / "HEAD").exists():
        root.mkdir(parents=True, exist_ok=True)
        _init_partial(repo, url)
    elif (head := _mirror_head_if_current(repo, url, refspecs)) is not None:
        return repo, head
    # A mirror is a cache of what the remote holds now: every ref is force-updated and refs gone
    # there are pruned here, and the registry's rules (claim refs, policy) judge what it holds. A
    # tag seen once and then replaced on the remote never wedges it.
    forced = [spec if spec.startswith(("+", "^")) else f"+{spec}" for spec in refspecs]
    args = ["fetch", "--no-tags", "--no-write-fetch-head", "--prune", "--depth=1", "--filter=blob:none"]
    try:
        proc = fetch_telling(
            [*args, "origin", "+HEAD:refs/remotes/origin/HEAD", *forced], repo.root, timeout=repo.timeout
        )
    except GitTimeout as exc:
        shutil.rmtree(root, ignore_errors=True)  # a killed fetch may leave locks behind: start afresh next time
        raise timed_out(url, exc) from None
    if proc.returncode != 0:
        raise GitError(f"cannot read the registry at {url}: {fetch_failure(proc.stderr)}")
    head = repo.resolve_commit("refs/remotes/origin/HEAD")
    if head is None:
        raise GitError(f"cannot read the registry at {url}: it has no default branch")
    return repo, head


def _init_partial(repo: GitRepo, url: str) -> None:
    """A bare partial clone of `url` in `repo.root`: missing objects are fetched from it on demand."""
    repo.git("init", "--quiet", "--bare")
    for key, value in (
        ("remote.origin.url", url),
        ("remote.origin.promisor", "true"),
        ("remote.origin.partialclonefilter", "blob:none"),
        ("core.repositoryformatversion", "1"),
        ("extensions.partialClone", "origin"),
    ):
        repo.git("config", key, value)


def _mirror_head_if_current(repo: GitRepo, url: str, refspecs: list[str]) -> str | None:
    """The remote's HEAD commit when it and the refs matching `refspecs` are exactly the ones held here.

    One protocol v2 `ls-refs` request for just those ref prefixes (see lsrefs: `git ls-remote`'s
    patterns would have the server send every ref): a repeated read of an unchanged registry
    downloads a few refs and no objects at all.
    """
    sources = [spec.lstrip("+").split(":", 1)[0] for spec in refspecs]

    try:
        theirs = ls_refs(url, ["HEAD", *(source.rstrip("*") for source in sources)])
    except GitTimeout:
        raise  # the fetch would wait as long again
    except GitError:
        return None
    theirs = {ref: obj for ref, obj in theirs.items() if not ref.endswith("/HEAD")}
    theirs["refs/remotes/origin/HEAD"] = theirs.pop("HEAD", "")
    listing = repo.ref_ids(["refs/remotes/origin/HEAD", *sources])
    ours = dict(line.split(" ", 1) for line in listing.splitlines() if line)
    return ours["refs/remotes/origin/HEAD"] if theirs == ours else None


PROBE_REF = "refs/probe/head"


def head_entries(url: str, paths: tuple[str, ...], scratch: Path) -> tuple[str, dict[str, str | None]]:
    """The remote's HEAD commit and the object ids of `paths` in its tree, at the cost of that one commit.

    A throwaway partial repository fetches only the commit and its root tree (no history, no
    subtrees; a deeper path's trees come on demand), and has nothing to negotiate with: no
    refs to offer as "have"s, no shallow list to send. A few KiB, however large the repository.
    """
    import tempfile  # ~3 ms (shutil, random) that a read of the work tree never pays

    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="probe-", dir=scratch) as tmp:
        repo = GitRepo(Path(tmp))
        repo.timeout = network_timeout()
        _init_partial(repo, url)
        try:
            repo.git(
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                "--depth=1",
                "--filter=tree:1",
                "origin",
                f"+HEAD:{PROBE_REF}",
            )
        except GitTimeout as exc:
            raise timed_out(url, exc) from None
        except GitError as exc:
            raise GitError(f"cannot read the registry at {url}: {exc}") from None
        head = repo.resolve_commit(PROBE_REF)
        if head is None:
            raise GitError(f"cannot read the registry at {url}: it has no default branch")
        return head, {path: entry_id(repo, head, path) for path in paths}


def timed_out(url: str, exc: GitTimeout) -> GitTimeout:
    """The error for a remote that did not answer in time: which URL, and the setting that bounds the wait."""
    return GitTimeout(f"cannot read the registry at {url}: timed out ({exc}; {TIMEOUT_VARIABLE} sets the limit)")


def entry_id(repo: GitRepo, commit: str, path: str) -> str | None:
    """The object id of `path` in `commit`'s tree (None when it has no such entry)."""
    try:
        return repo.git("rev-parse", "--verify", "-q", f"{commit}:{path}").strip() or None
    except GitError:
        return None


def check_remote(repo: GitRepo, remote: str) -> None:
    try:
        repo.git("remote", "get-url", remote)
    except GitError:
        raise InvalidInputError(f"no git remote named {remote!r} (see `git remote -v`)") from None


def fetch(repo: GitRepo, remote: str, refspecs: list[str], *options: str) -> list[str]:
    """One `git fetch` of `refspecs` (globs, and `^REF` to leave a ref out), sent on stdin.

    Returns the refs git refused to update, one `NAME (why)` each: every other ref is fetched
    all the same. Any other failure raises GitError saying what went wrong (not `--quiet`:
    alone, that hides git's reasons: see fetch_telling).
    """
    args = ["fetch", "--no-tags", "--no-write-fetch-head", "--stdin", *options, remote]
    proc = fetch_telling(args, repo.root, "".join(f"{spec}\n" for spec in refspecs).encode())
    refused = refused_refs(proc.stderr)
    if proc.returncode != 0 and not refused:
        raise GitError(f"git fetch from {remote} failed: {fetch_failure(proc.stderr)}")
    return refused


def fetch_telling(
    args: list[str], cwd: Path, stdin: bytes | None = None, timeout: float | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run `git fetch ARGS` quietly; when it fails, run it again aloud, so that its report says why.

    Git's report of every updated ref costs more than the fetch itself at 100,000 refs (each name
    is shortened by looking it up among all refs) and `--quiet` also hides the refused refs and
    their reasons; the second run has only the refs that failed left to report.
    """
    proc = run_git_raw([args[0], "--quiet", *args[1:]], cwd, stdin, timeout=timeout)
    return proc if proc.returncode == 0 else run_git_raw(args, cwd, stdin, timeout=timeout)


def refused_refs(stderr: bytes) -> list[str]:
    """`NAME (why)` for each ` ! [rejected]  SRC -> DST  (why)` line of a fetch's report."""
    refused = []
    for line in stderr.decode(errors="replace").splitlines():
        if line.startswith(" ! ") and " -> " in line:
            dst = line.split(" -> ", 1)[1].strip()
            name, _, why = dst.partition(" ")
            refused.append(f"{name} {why.strip()}".strip())
    return refused


def fetch_failure(stderr: bytes) -> str:
    """What a failed fetch says went wrong: its refused refs, errors and fatal lines, not its warnings."""
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    refused = refused_refs(stderr)
    if refused:
        more = f" and {len(refused) - 3} more" if len(refused) > 3 else ""
        return f"it refused to update {', '.join(refused[:3])}{more}"
    said = [line for line in lines if line.startswith(("fatal:", "error:"))]
    if said:
        return "; ".join(dict.fromkeys(line.split(": ", 1)[1] for line in said))
    quiet = [line for line in lines if not line.startswith(("warning:", "hint:", "From "))]
    return quiet[-1] if quiet else lines[-1] if lines else "git gave no reason"


def deepen(repo: GitRepo, remote: str, want: str, by: int | None) -> frozenset[str]:
    """Fetch `by` more commits behind this shallow repository's boundary on `want`'s line (None: all of it).

    Only objects and git's `shallow` file change: no ref is updated (`--refmap=`), no tag is
    fetched. Returns the commits still held without their parents.
    """
    depth = "--unshallow" if by is None else f"--deepen={by}"
    args = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--refmap=", depth, remote, want]
    proc = run_git_raw(args, repo.root)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.decode(errors="replace").splitlines() if line.strip()]
        fatal = next((line for line in lines if line.startswith("fatal: ")), lines[-1] if lines else "")
        raise GitError(f"git fetch failed: {fatal.removeprefix('fatal: ') or f'exit {proc.returncode}'}")
    return repo.reread_shallow()


def ls_remote(repo: GitRepo, remote: str, patterns: list[str], peeled_head: bool = False) -> dict[str, str]:
    """The remote's refs matching `patterns` → object id (peeled entries left out).

    `peeled_head`: list HEAD too (`--refs` would leave it out, as a symbolic ref).
    """
    args = ["ls-remote", remote, *patterns] if peeled_head else ["ls-remote", "--refs", remote, *patterns]
    out = repo.git(*args)
    refs = {}
    for line in out.splitlines():
        sha, _, ref = line.partition("\t")
        if not ref.endswith("^{}"):
            refs[ref] = sha
    return refs


def push_atomic(repo: GitRepo, remote: str, refspecs: list[str]) -> None:
    """Push every `src:dst` or none; losing a race to another writer raises ConflictError."""
    proc = run_git_raw(["push", "--atomic", "--porcelain", "--quiet", remote, *refspecs], repo.root)
    if proc.returncode == 0:
        return
    out, err = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
    # Porcelain: "!\t<src>:<dst>\t[rejected] (reason)" or "[remote rejected] (reason)" per refused ref.
    reasons = [line.rsplit("(", 1)[-1].rstrip(")") for line in out.splitlines() if line.startswith("!")]
    refused = [r for r in reasons if "atomic push failed" not in r]
    if refused and all(any(race in r for race in _RACE_REASONS) for r in refused):
        raise ConflictError(f"another writer pushed to {remote} first")
    if not reasons and "cannot lock ref" in err:
        raise ConflictError(f"another writer pushed to {remote} first")
    lines = [line for line in err.splitlines() if line.strip()]
    detail = refused[0] if refused else lines[-1].removeprefix("fatal: ") if lines else str(proc.returncode)
    raise GitError(f"git push to {remote} was refused: {detail}")
