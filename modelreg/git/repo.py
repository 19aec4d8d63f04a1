"""A repository modelreg reads and writes: refs, objects, commits built without an index, tags.

Reads go through one `git for-each-ref` call per question. Writes never touch the user's index or
work tree beyond the one file modelreg owns: commits are built from the parent's trees along the
file's path (`ls-tree`, `mktree`, `commit-tree`), and refs move in one `git update-ref --stdin`
transaction, so a branch update and the tags that go with it land together or not at all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from modelreg import cachefile
from modelreg.errors import ConflictError, GitError, InvalidInputError
from modelreg.git.process import run_git, run_git_raw
from modelreg.models import TagRecord
from modelreg.paths import cache_dir

_FIELDS = (
    "%(refname)",
    "%(objecttype)",
    "%(objectname)",
    "%(*objectname)",
    "%(taggername) %(taggeremail)",
    "%(taggerdate:iso-strict)",
    "%(contents:subject)",
    "%(contents:body)",
)
_FORMAT = "%00".join(_FIELDS) + "%00%1e"
_RECORD_END = "\x00\x1e"
_SIGNATURE_ENDS = ("-----END SSH SIGNATURE-----", "-----END PGP SIGNATURE-----", "-----END SIGNED MESSAGE-----")
_LOST_RACE = ("already exists", "cannot lock ref")


_FULL_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _object_file(rev: str, path: str) -> str:
    return os.path.join(cache_dir(), "files", cachefile.file_name(rev, path))


def _work_tree_of(start: str) -> str | None:
    """The work tree holding `start`, found as git finds it, in the common case only (else None).

    Saves a `git rev-parse` process per command. Anything unusual (a `.git` that is neither a
    repository directory nor a `gitdir:` file, or discovery limits in the environment) is left
    to git itself.
    """
    if any(var in os.environ for var in ("GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM")):
        return None
    current = start
    while True:
        dot_git = os.path.join(current, ".git")
        if os.path.isdir(dot_git):
            return current if os.path.isfile(os.path.join(dot_git, "HEAD")) else None
        if os.path.isfile(dot_git):
            try:
                with open(dot_git, "rb") as file:
                    return current if file.read(8) == b"gitdir: " else None
            except OSError:
                return None
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


class RefUpdate(NamedTuple):
    """One line of an update-ref transaction; `old=None` means the ref must not exist yet."""

    ref: str
    new: str
    old: str | None = None


class Addition(NamedTuple):
    """A main-line commit and the files it added (see `first_parent_additions`)."""

    commit: str
    parents: tuple[str, ...]
    author: str  # "Name <email>"; for a merge commit, who merged
    date: str
    paths: tuple[str, ...]


class GitRepo:
    def __init__(self, root: Path) -> None:
        self.root = root
        # Identity and date the next commits and tags record, when a write replays someone else's
        # history (an import): git's own GIT_COMMITTER_* variables, applied to this repository only.
        self.acting_as: dict[str, str] = {}
        # A bound (seconds) on every git command here: set on a partial mirror, whose reads may fetch
        # missing objects from its remote (see git.process.network_timeout). None: unbounded.
        self.timeout: float | None = None

    @classmethod
    def discover(cls, path: str | os.PathLike[str] = ".") -> GitRepo:
        start = Path(path)
        if not start.is_dir():
            raise InvalidInputError(f"{start} is not a directory")
        found = _work_tree_of(os.path.realpath(start))
        if found is not None:
            return cls(Path(found))
        try:
            top = run_git(["rev-parse", "--show-toplevel"], cwd=start).strip()
        except GitError:
            raise InvalidInputError(
                f"{start.resolve()} is not inside a git repository (run `git init` first)"
            ) from None
        if not top:
            raise InvalidInputError(f"{start.resolve()} is a bare git repository; modelreg needs a work tree")
        return cls(Path(top))

    def git(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
        if self.acting_as:
            env = {**self.acting_as, **(env or {})}
        return run_git(list(args), cwd=self.root, stdin=stdin, env=env, timeout=self.timeout)

    @contextmanager
    def as_author(self, who: str | None, date: str | None) -> Iterator[None]:
        """Commits and tags made inside record `who` ("Name <email>") and `date` (git's date formats).

        Either may be None to keep git's own. For imports that keep the original authors and times.
        """
        env: dict[str, str] = {}
        if who is not None:
            name, _, email = who.partition("<")
            env["GIT_COMMITTER_NAME"] = env["GIT_AUTHOR_NAME"] = name.strip() or "unknown"
            env["GIT_COMMITTER_EMAIL"] = env["GIT_AUTHOR_EMAIL"] = email.rstrip(">").strip()
        if date is not None:
            env["GIT_COMMITTER_DATE"] = env["GIT_AUTHOR_DATE"] = date
        saved, self.acting_as = self.acting_as, {**self.acting_as, **env}
        try:
            yield
        finally:
            self.acting_as = saved

    # --- reading ---------------------------------------------------------------------------

    def branch(self) -> str | None:
        """The full ref of the checked-out branch (`refs/heads/main`), or None when detached."""
        try:
            return self.git("symbolic-ref", "-q", "HEAD").strip() or None
        except GitError:
            return None

    def branch_tip(self, branch: str, remote: str) -> str | None:
        """The newer of `branch` and its remote-tracking branch: the local one unless it is missing or behind."""
        listing = self.ref_ids([f"refs/heads/{branch}", f"refs/remotes/{remote}/{branch}"])
        ids = dict(line.split(" ", 1) for line in listing.splitlines() if line)
        local, tracking = ids.get(f"refs/heads/{branch}"), ids.get(f"refs/remotes/{remote}/{branch}")
        if local is not None and tracking is not None and local != tracking and self.is_ancestor(local, tracking):
            return tracking
        return local or tracking

    def resolve_commit(self, rev: str) -> str | None:
        try:
            return self.git("rev-parse", "-q", "--verify", f"{rev}^{{commit}}").strip() or None
        except GitError:
            return None

    def commit_date(self, commit: str) -> str:
        """The committer date of `commit`, ISO 8601 with its offset."""
        return self.git("show", "-s", "--format=%cI", commit, "--").strip()

    def identity(self) -> tuple[str, int, str]:
        """(`Name <email>`, unix time, `+hhmm` offset) of the committer git would use; an error if none."""
        try:
            ident = self.git("var", "GIT_COMMITTER_IDENT").strip()
        except GitError:
            raise InvalidInputError(
                "git has no identity to record: set it with "
                "`git config user.name 'Your Name'` and `git config user.email you@example.com`"
            ) from None
        who, epoch, offset = ident.rsplit(" ", 2)
        return who, int(epoch), offset

    def is_dirty(self, ignore_prefix: str) -> bool:
        """True when a tracked file outside `ignore_prefix` differs from HEAD (staged or not).

        The pathspec keeps git from even looking at the files under `ignore_prefix`.
        """
        proc = run_git_raw(["diff", "--quiet", "HEAD", "--", f":(exclude){ignore_prefix}"], self.root)
        if proc.returncode not in (0, 1):
            raise GitError(f"git diff failed: {proc.stderr.decode(errors='replace').strip()}")
        return proc.returncode == 1

    def read_refs(self, patterns: list[str]) -> tuple[list[TagRecord], dict[str, str]]:
        """One `for-each-ref` call: the annotated tags matching `patterns`, and other refs → object id."""
        out = self.git("for-each-ref", f"--format={_FORMAT}", *patterns)
        tags: list[TagRecord] = []
        others: dict[str, str] = {}
        for record in out.split(_RECORD_END):
            record = record.lstrip("\n")
            if not record:
                continue
            ref, objtype, obj, peeled, tagger, date, subject, body = record.split("\x00", 7)
            if ref.startswith("refs/tags/"):
                annotated = objtype == "tag"
                tags.append(
                    TagRecord(
                        tag=ref.removeprefix("refs/tags/"),
                        object=obj,
                        commit=peeled if annotated else obj,
                        annotated=annotated,
                        tagger=tagger.strip() if annotated else "",
                        date=date,
                        subject=subject,
                        body=body,
                    )
                )
            else:
                others[ref] = obj
        return tags, others

    def ref_ids(self, patterns: list[str]) -> str:
        """`refname objectname` lines for `patterns`: cheap, no tag object is opened."""
        return self.git("for-each-ref", "--format=%(refname) %(objectname)", *patterns)

    def tag_commits(self, patterns: list[str]) -> dict[str, str]:
        """Short tag name → the commit it points at (peeled), for the tags matching `patterns`: one call."""
        out = self.git("for-each-ref", "--format=%(refname:strip=2) %(objectname) %(*objectname)", *patterns)
        found = {}
        for line in out.splitlines():
            name, obj, *peeled = line.split(" ")
            found[name] = peeled[0] if peeled and peeled[0] else obj
        return found

    def blob_ids(self, files: list[tuple[str, str]]) -> list[str | None]:
        """The blob id of each (revision, path), None where there is no such blob: one `cat-file --batch-check`."""
        if not files:
            return []
        out = self.git(
            "cat-file", "--batch-check=%(objecttype) %(objectname)", stdin="".join(f"{r}:{p}\n" for r, p in files)
        )
        ids: list[str | None] = []
        for line in out.splitlines():
            kind, _, oid = line.partition(" ")
            ids.append(oid if kind == "blob" else None)
        return ids

    def read_files(self, files: list[tuple[str | None, str]], *, keep: bool = False) -> list[str | None]:
        """The text of each (revision, path); revision None is the work tree's copy. None where missing.

        Every revision's file comes from one `cat-file --batch` call. With `keep`, a file at a
        commit named by its full id, which never changes (replace refs are off), is kept in a
        private cache and read from there next time (for the few files every command reads).
        """
        known: dict[tuple[str, str], str | None] = {}
        for rev, path in files:
            if keep and rev is not None and _FULL_ID.fullmatch(rev):
                cached = cachefile.load(_object_file(rev, path))
                if isinstance(cached, tuple) and cached[:2] == (rev, path):
                    known[rev, path] = cached[2]
        asked = [(rev, path) for rev, path in files if rev is not None and (rev, path) not in known]
        texts = self._cat_blobs([f"{r}:{p}" for r, p in asked]) if asked else []
        for (rev, path), text in zip(asked, texts, strict=True):
            known[rev, path] = text
            if keep and _FULL_ID.fullmatch(rev):
                cachefile.dump(_object_file(rev, path), (rev, path, text))
        return [known[rev, path] if rev is not None else self._worktree_text(path) for rev, path in files]

    def export(self, commit: str, path: str, dest: Path) -> bool:
        """Write the file or directory `path` as committed in `commit` under `dest` (same relative path).

        False when the commit has no such path. Only regular files are written (`git archive`
        members are checked: no links, nothing outside `dest`).
        """
        import io
        import tarfile

        proc = run_git_raw(["archive", "--format=tar", commit, "--", path], self.root)
        if proc.returncode != 0:
            return False
        with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as archive:
            members = [m for m in archive.getmembers() if m.isfile() or m.isdir()]
            archive.extractall(dest, members=members, filter="data")
        return any(m.isfile() for m in members)

    def read_blobs(self, ids: list[str]) -> list[str | None]:
        """The text of each blob named by its id (one `cat-file --batch`); None where there is none."""
        return self._cat_blobs(ids) if ids else []

    def _worktree_text(self, path: str) -> str | None:
        try:
            return (self.root / path).read_bytes().decode("utf-8", errors="replace")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def _cat_blobs(self, specs: list[str]) -> list[str | None]:
        specs_text = "".join(f"{spec}\n" for spec in specs).encode()
        raw = run_git_raw(["cat-file", "--batch"], self.root, specs_text, timeout=self.timeout)
        if raw.returncode != 0:
            raise GitError(f"git cat-file failed: {raw.stderr.decode(errors='replace').strip()}")
        data, pos = raw.stdout, 0
        result: list[str | None] = []
        for _ in specs:
            end = data.index(b"\n", pos)
            header = data[pos:end].decode().split(" ")
            pos = end + 1
            if len(header) == 3 and header[1] == "blob":
                size = int(header[2])
                result.append(data[pos : pos + size].decode("utf-8", errors="replace"))
                pos += size + 1
            elif len(header) == 3:  # a tree or commit: skip its content
                pos += int(header[2]) + 1
                result.append(None)
            else:
                result.append(None)
        return result

    def first_parent_additions(self, rev: str, directory: str) -> list[Addition]:
        """Commits on `rev`'s first-parent line (the main line) that added files under `directory`.

        Newest first. A merge commit is listed with the files it brought in from the merged
        branch; a commit made on the main line itself with the files it added.
        """
        out = self.git(
            "log",
            "--first-parent",
            "--diff-filter=A",
            "--name-only",
            "-z",
            "--format=%x1e%H%x00%P%x00%an <%ae>%x00%aI",
            rev,
            "--",
            f"{directory}/",
        )
        additions = []
        for record in out.split("\x1e"):
            if not record.strip("\x00\n"):
                continue
            commit, parents, author, date, *paths = (part.strip("\n") for part in record.split("\x00"))
            additions.append(Addition(commit, tuple(parents.split()), author, date, tuple(p for p in paths if p)))
        return additions

    @cached_property
    def shallow_commits(self) -> frozenset[str]:
        """The commits held here without their parents (a `git clone --depth` boundary); empty in a full clone.

        Read once per repository object from git's `shallow` file, found without a git process in a
        plain or bare repository; `reread_shallow` after a fetch that deepens.
        """
        dot_git = self.root / ".git"
        if dot_git.is_dir():
            path = dot_git / "shallow"
        elif not dot_git.exists() and (self.root / "HEAD").is_file() and (self.root / "objects").is_dir():
            path = self.root / "shallow"  # a bare repository (the read-only views of a URL)
        else:
            path = Path(self.git("rev-parse", "--path-format=absolute", "--git-path", "shallow").strip())
        try:
            return frozenset(path.read_text(encoding="ascii").split())
        except FileNotFoundError:
            return frozenset()

    def reread_shallow(self) -> frozenset[str]:
        self.__dict__.pop("shallow_commits", None)
        return self.shallow_commits

    def missing_objects(self, ids: list[str]) -> set[str]:
        """The object ids in `ids` this repository does not have (one `cat-file --batch-check`)."""
        if not ids:
            return set()
        out = self.git("cat-file", "--batch-check=%(objectname)", stdin="".join(f"{oid}\n" for oid in ids))
        return {line.split(" ", 1)[0] for line in out.splitlines() if line.endswith(" missing")}

    def object_ids(self, specs: list[str]) -> list[str | None]:
        """The blob id each `rev:path` names (one `cat-file --batch-check`); None where it names no blob."""
        if not specs:
            return []
        out = self.git("cat-file", "--batch-check=%(objectname) %(objecttype)", stdin="".join(f"{s}\n" for s in specs))
        ids: list[str | None] = []
        for line in out.splitlines():
            oid, _, kind = line.partition(" ")
            ids.append(oid if kind == "blob" else None)
        return ids

    def file_ids(self, rev: str | None, directory: str) -> dict[str, str | None]:
        """path → blob id of each file under `directory` at `rev`, or in the work tree when `rev` is None.

        A work-tree file that differs from the index, or is not in it, maps to None: read it from disk.
        """
        if rev is not None:
            try:
                out = self.git("ls-tree", "-r", "-z", "--full-tree", rev, "--", directory)
            except GitError:
                return {}
            entries = (entry.split("\t", 1) for entry in out.split("\x00") if entry)
            return {path: head.split(" ")[2] for head, path in entries if head.split(" ")[1] == "blob"}
        import threading  # not concurrent.futures: it imports logging, 10 ms of start-up

        outcome: dict[str, str | BaseException] = {}

        def changes() -> None:
            try:
                outcome["changed"] = self.git("ls-files", "-m", "-o", "-z", "--", directory)
            except BaseException as exc:  # re-raised below, in the caller's thread
                outcome["changed"] = exc

        worker = threading.Thread(target=changes)  # two git processes side by side: each mostly waits
        worker.start()
        try:
            staged = self.git("ls-files", "-s", "-z", "--", directory)
        finally:
            worker.join()
        changed = outcome["changed"]
        if isinstance(changed, BaseException):
            raise changed
        found: dict[str, str | None] = {}
        for entry in staged.split("\x00"):
            if entry:
                head, path = entry.split("\t", 1)
                found[path] = head.split(" ")[1]
        found.update(dict.fromkeys((path for path in changed.split("\x00") if path), None))
        return found

    def list_dir(self, rev: str, directory: str) -> list[str]:
        """File names directly inside `directory` at `rev` (empty if it does not exist)."""
        try:
            out = self.git("ls-tree", "-z", "--name-only", f"{rev}:{directory}")
        except GitError:
            return []
        return [name for name in out.split("\x00") if name]

    # --- writing ---------------------------------------------------------------------------

    def commit_files(self, parent: str | None, files: dict[str, str], message: str) -> tuple[str, dict[str, str]]:
        """Build a commit = `parent` + `files`, without touching the user's index or work tree.

        Only the trees on the files' paths are rebuilt (`ls-tree` and `mktree` per level), so the
        cost does not grow with the number of manifests elsewhere in the repository.
        Returns (commit id, path → blob id).
        """
        blobs = {path: self.git("hash-object", "-w", "--stdin", stdin=text).strip() for path, text in files.items()}
        tree = self._tree_with(f"{parent}^{{tree}}" if parent else None, blobs)
        args = ["commit-tree", tree, "-m", message]
        if parent:
            args += ["-p", parent]
        return self.git(*args).strip(), blobs

    def _tree_with(self, base: str | None, blobs: dict[str, str]) -> str:
        """The tree `base` (None: empty) with each path in `blobs` set to that blob."""
        entries: dict[str, str] = {}  # name → "mode type id"
        if base is not None:
            for line in self.git("ls-tree", "-z", "--full-tree", base).split("\x00"):
                if line:
                    info, _, name = line.partition("\t")
                    entries[name] = info
        nested: dict[str, dict[str, str]] = {}
        for path, blob in blobs.items():
            head, _, rest = path.partition("/")
            if rest:
                nested.setdefault(head, {})[rest] = blob
            else:
                entries[head] = f"100644 blob {blob}"
        for head, inner in nested.items():
            _mode, kind, oid = entries.get(head, "- - -").split(" ")
            entries[head] = f"040000 tree {self._tree_with(oid if kind == 'tree' else None, inner)}"
        listing = "".join(f"{info}\t{name}\x00" for name, info in entries.items())
        return self.git("mktree", "-z", stdin=listing).strip()

    def make_tag(self, name: str, commit: str, message: str, *, sign: bool = False) -> str:
        """Create an annotated tag object (not yet a ref); the tagger is git's committer identity.

        With `sign`, git signs it with the user's own signing setup (SSH, GPG or X.509 key).
        """
        if sign:
            return self._signed_tag(name, commit, message)
        ident = self.git("var", "GIT_COMMITTER_IDENT").strip()
        text = f"object {commit}\ntype commit\ntag {name}\ntagger {ident}\n\n{message}"
        return self.git("mktag", stdin=text).strip()

    def _signed_tag(self, name: str, commit: str, message: str) -> str:
        """`git tag -s`, without creating the ref: the tag object is published like any other.

        Only `git tag` knows every signing setup, and it always creates the ref. So it runs against a
        scratch repository that writes objects into this one's object store, given this repository's
        effective `user.*` and `gpg.*` settings (`includeIf` sections of the user's config
        resolve here, not in the scratch repository). The ref dies with the scratch repository.
        """
        import tempfile

        # Exit 1 means "no such settings": git's defaults then apply in the scratch repository too.
        settings = run_git_raw(["config", "-z", "--get-regexp", r"^(user|gpg)\."], self.root).stdout.decode()
        overrides: list[str] = []
        for entry in settings.split("\x00"):
            key, _, value = entry.partition("\n")
            if key:
                overrides += ["-c", f"{key}={value}"]
        objects = Path(self.git("rev-parse", "--git-path", "objects").strip())
        objects = objects if objects.is_absolute() else self.root / objects
        with tempfile.TemporaryDirectory(prefix="modelreg-sign-") as scratch:
            run_git(["init", "--quiet", "--bare", scratch], cwd=self.root)
            env = {**self.acting_as, "GIT_DIR": scratch, "GIT_OBJECT_DIRECTORY": str(objects)}
            proc = run_git_raw(
                [*overrides, "tag", "-s", "--cleanup=verbatim", "-F", "-", name, commit],
                self.root,
                message.encode(),
                env,
            )
            if proc.returncode != 0:
                lines = [line for line in proc.stderr.decode(errors="replace").splitlines() if line.strip()]
                detail = "; ".join(line.removeprefix("error: ").removeprefix("fatal: ") for line in lines[-2:])
                raise InvalidInputError(f"git could not sign the tag {name}: {detail or 'no reason given'}")
            obj = run_git(["rev-parse", f"refs/tags/{name}"], self.root, env=env).strip()
        # git 2.39 exits 0 and makes an unsigned tag when the SSH key file is missing.
        if not self.git("cat-file", "tag", obj).rstrip().endswith(_SIGNATURE_ENDS):
            raise InvalidInputError(
                f"git made {name} without a signature (is user.signingkey set, and is the key there?); "
                "nothing was written"
            )
        return obj

    def verify_tag(self, tag: str, allowed_signers: Path | None = None) -> tuple[bool, str]:
        """(`git verify-tag` succeeded, its raw report) for a tag name or object id."""
        config = ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers}"] if allowed_signers else []
        proc = run_git_raw([*config, "verify-tag", "--raw", tag], self.root)
        return proc.returncode == 0, proc.stderr.decode(errors="replace")

    def config_get(self, key: str) -> str | None:
        """git's effective value of a config key here (None when unset)."""
        proc = run_git_raw(["config", "--get", key], self.root)
        return proc.stdout.decode(errors="surrogateescape").strip() if proc.returncode == 0 else None

    def update_refs(self, updates: list[RefUpdate], reason: str) -> None:
        """Move/create every ref in one atomic transaction; a ref that moved under us is a conflict."""
        if not updates:
            return
        lines = []
        for u in updates:
            lines.append(f"create {u.ref} {u.new}" if u.old is None else f"update {u.ref} {u.new} {u.old}")
        try:
            self.git("update-ref", "-m", reason, "--stdin", stdin="\n".join(lines) + "\n")
        except GitError as exc:
            if any(marker in str(exc) for marker in _LOST_RACE):
                raise ConflictError(f"another writer changed the repository at the same time ({exc})") from None
            raise

    def is_ancestor(self, older: str, newer: str) -> bool:
        return run_git_raw(["merge-base", "--is-ancestor", older, newer], self.root).returncode == 0

    def fast_forward_checkout(self, commit: str) -> bool:
        """Move the checked-out branch to `commit` like `git merge --ff-only` (keeps local changes)."""
        try:
            self.git("merge", "--ff-only", "--quiet", commit)
        except GitError:
            return False
        return True

    def add_to_index(self, path: str, blob: str) -> None:
        """Record `path` as `blob` in the user's index, leaving every other entry as it was."""
        self.git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
