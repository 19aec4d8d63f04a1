"""A repository modelreg reads and writes: refs, objects, commits built without an index, tags.

Reads go through one `git for-each-ref` call per question. Writes never touch the user's index or
work tree beyond the one file modelreg owns: commits are built from the parent's trees along the
file's path (`cat-file`, `hash-object`, `commit-tree`), and refs move in one `git update-ref --stdin`
transaction, so a branch update and the tags that go with it land together or not at all.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from modelreg.errors import ConflictError, GitError, InvalidInputError
from modelreg.git.archive import export_tree
from modelreg.git.batch import via_kept
from modelreg.git.catfile import cat_blobs, read_files
from modelreg.git.discovery import checked_out_branch, work_tree_of
from modelreg.git.ident import committer
from modelreg.git.process import failure_reason, run_git, run_git_raw
from modelreg.git.records import RECORD_FORMAT, parse_records
from modelreg.git.signing import signed_tag
from modelreg.git.trees import Trees, tree_with, trees_along
from modelreg.models import TagRecord

_LOST_RACE = ("already exists", "cannot lock ref")


class RefUpdate(NamedTuple):
    """One line of an update-ref transaction; `old=None` means the ref must not exist yet."""

    ref: str
    new: str
    old: str | None = None


class GitRepo:
    def __init__(self, root: Path) -> None:
        self.root = root
        # Identity and date the next commits and tags record, when a write replays someone else's
        # history (an import): git's own GIT_COMMITTER_* variables, applied to this repository only.
        self.acting_as: dict[str, str] = {}
        # A bound (seconds) on every git command here: set on a partial mirror, whose reads may fetch
        # missing objects from its remote (see git.process.network_timeout). None: unbounded.
        self.timeout: float | None = None
        # `refname objectname` listings taken in another command's call (history.branches), by their patterns:
        # each is good for the next read alone, so any other git command here drops them.
        self.listed_ids: dict[tuple[str, ...], str] = {}

    @classmethod
    def discover(cls, path: str | os.PathLike[str] = ".") -> GitRepo:
        start = Path(path)
        if not start.is_dir():
            raise InvalidInputError(f"{start} is not a directory")
        found = work_tree_of(os.path.realpath(start))
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
        self.listed_ids.clear()
        if self.acting_as:
            env = {**self.acting_as, **(env or {})}
        return run_git(list(args), cwd=self.root, stdin=stdin, env=env, timeout=self.timeout)

    def git_bytes(self, args: list[str], stdin: bytes | None = None) -> bytes:
        """Run git here on bytes: its stdout; GitError with git's own reason when it fails."""
        self.listed_ids.clear()
        proc = run_git_raw(args, self.root, stdin, {**self.acting_as} or None, self.timeout)
        if proc.returncode != 0:
            raise GitError(f"git {args[0]} failed: {failure_reason(proc.stderr, proc.returncode)}")
        return proc.stdout

    @contextmanager
    def as_author(self, who: str | None, date: str | None) -> Iterator[None]:
        """Commits and tags made inside record `who` ("Name <email>") and `date` (git's date formats), either
        None for git's own: imports keep the original authors and times."""
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
        """The checked-out branch's full ref (`refs/heads/main`), None when detached: from the HEAD file where git
        keeps it plainly (git.discovery), else asked of git."""
        found = checked_out_branch(str(self.root))
        if found != "?":
            return found
        try:
            return self.git("symbolic-ref", "-q", "HEAD").strip() or None
        except GitError:
            return None

    def branch_ref(self, branch: str) -> str:
        """`refs/heads/<branch>` for a branch name (with or without the prefix) git accepts; an error otherwise."""
        short = branch.removeprefix("refs/heads/")
        try:
            self.git("check-ref-format", "--branch", short)
        except GitError:
            raise InvalidInputError(f"{short!r} is not a valid branch name") from None
        return f"refs/heads/{short}"

    def remote_names(self) -> list[str]:
        """The remotes configured here (`git remote`)."""
        return self.git("remote").split()

    def resolve_commit(self, rev: str) -> str | None:
        try:
            return self.git("rev-parse", "-q", "--verify", f"{rev}^{{commit}}").strip() or None
        except GitError:
            return None

    def commit_date(self, commit: str) -> str:
        """The committer date of `commit`, ISO 8601 with its offset."""
        return self.git("show", "-s", "--format=%cI", commit, "--").strip()

    def identity(self) -> tuple[str, int, str]:
        """(`Name <email>`, unix time, `+hhmm` offset) of the committer git would use; an error if none. Kept in
        this process while nothing git makes it of changes (git.ident)."""
        return committer(str(self.root), self.git, keep=not self.acting_as)

    def is_dirty(self, ignore_prefix: str) -> bool:
        """True when a tracked file outside `ignore_prefix` differs from HEAD (staged or not).

        The pathspec keeps git from even looking at the files under `ignore_prefix`.
        """
        proc = run_git_raw(["diff", "--quiet", "HEAD", "--", f":(exclude){ignore_prefix}"], self.root)
        if proc.returncode not in (0, 1):
            raise GitError(f"git diff failed: {proc.stderr.decode(errors='replace').strip()}")
        return proc.returncode == 1

    def read_refs(self, patterns: list[str]) -> tuple[list[TagRecord], dict[str, str]]:
        """The annotated tags matching `patterns`, with their messages, and the other refs → object id.

        Refs under a prefix outside refs/tags/ (claim refs: they name tag objects too) are listed apart, by id,
        or each message would be read twice; exactly named refs go in the tags' call."""
        apart = [p for p in patterns if p.endswith("/") and not p.startswith("refs/tags/")]
        together = [p for p in patterns if p not in apart]
        tags, others = (
            parse_records(self.git("for-each-ref", f"--format={RECORD_FORMAT}", *together)) if together else ([], {})
        )
        if apart:
            for line in self.ref_ids(apart).splitlines():
                ref, _, obj = line.partition(" ")
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
        """The blob id of each (revision, path), None where there is no such blob (see object_ids)."""
        return self.object_ids([f"{rev}:{path}" for rev, path in files])

    def read_files(self, files: list[tuple[str | None, str]], *, keep: bool = False) -> list[str | None]:
        """The text of each (revision, path); revision None is the work tree's copy. None where missing.

        Every revision's file comes from one `cat-file --batch` call. With `keep`, a file at a
        commit named by its full id, which never changes (replace refs are off), is kept in a
        private cache and read from there next time (for the few files every command reads).
        """
        return read_files(self.root, files, keep, self.timeout)

    def export(self, commit: str, path: str, dest: Path) -> bool:
        """Write the file or directory `path` as committed in `commit` under `dest` (same relative path).

        False when the commit has no such path. Only regular files are written (`git archive`
        members are checked: no links, nothing outside `dest`).
        """
        return export_tree(self.root, commit, path, dest)

    def read_blobs(self, ids: list[str]) -> list[str | None]:
        """The text of each blob named by its id (one `cat-file --batch`); None where there is none."""
        return cat_blobs(self.root, ids, self.timeout) if ids else []

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
        return [oid if kind == "blob" else None for oid, _, kind in (line.partition(" ") for line in out.splitlines())]

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

    def list_paths(self, rev: str, directory: str) -> list[str]:
        """Every file path under `directory` at `rev`, recursively (empty if it does not exist)."""
        try:
            out = self.git("ls-tree", "-r", "-z", "--name-only", rev, "--", directory)
        except GitError:
            return []
        return [path for path in out.split("\x00") if path]

    def existing_paths(self, rev: str, paths: list[str]) -> set[str]:
        """Those of `paths` (files) that exist at `rev`: one `ls-tree` walk, however many are asked."""
        out = self.git("ls-tree", "-z", "--full-tree", "--name-only", rev, "--", *paths) if paths else ""
        return {path for path in out.split("\x00") if path}

    def list_dir(self, rev: str, directory: str) -> list[str]:
        """File names directly inside `directory` at `rev` (empty if it does not exist)."""
        try:
            out = self.git("ls-tree", "-z", "--name-only", f"{rev}:{directory}")
        except GitError:
            return []
        return [name for name in out.split("\x00") if name]

    # --- writing ---------------------------------------------------------------------------

    def trees_along(self, commit: str, directory: str) -> Trees:
        """The raw trees of `directory` and the directories above it at `commit` (one `cat-file`; a missing one
        is empty): look in them (`git.trees.names_in`), then hand them to `commit_files`, which needs them."""
        self.listed_ids.clear()
        return trees_along(via_kept(self.root, self.git_bytes), f"{commit}^{{tree}}", directory)

    def commit_files(
        self, parent: str | None, files: dict[str, str], message: str, trees: Trees | None = None
    ) -> tuple[str, dict[str, str]]:
        """Build a commit = `parent` + `files`, without touching the user's index or work tree.

        Only the trees on the files' paths are rebuilt (read in one `cat-file --batch`, unless `trees` holds
        them (`trees_along` of `parent`), and written by one `hash-object`: git.trees), so the cost does not
        grow with the number of manifests elsewhere in the repository.
        Returns (commit id, path → blob id).
        """
        blobs = {path: self.git("hash-object", "-w", "--stdin", stdin=text).strip() for path, text in files.items()}
        tree = tree_with(self.git_bytes, f"{parent}^{{tree}}" if parent else None, blobs, trees)
        args = ["commit-tree", tree, "-m", message]
        if parent:
            args += ["-p", parent]
        return self.git(*args).strip(), blobs

    def make_tag(self, name: str, commit: str, message: str, *, sign: bool = False, ident: str | None = None) -> str:
        """Create an annotated tag object (not yet a ref); the tagger is git's committer identity.

        `ident`: that identity as `identity()` read it (`Name <email> epoch +hhmm`), when the caller has it:
        the tag is then dated exactly as the caller recorded, and git is not asked again.
        With `sign`, git signs it with the user's own signing setup (SSH, GPG or X.509 key).
        """
        if sign:
            return signed_tag(self.root, self.acting_as, name, commit, message)
        if ident is None:
            ident = self.git("var", "GIT_COMMITTER_IDENT").strip()
        text = f"object {commit}\ntype commit\ntag {name}\ntagger {ident}\n\n{message}"
        return self.git("mktag", stdin=text).strip()

    def verify_tag(self, tag: str, allowed_signers: Path | None = None) -> tuple[bool, str]:
        """(`git verify-tag` succeeded, its raw report) for a tag name or object id."""
        config = ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers}"] if allowed_signers else []
        proc = run_git_raw([*config, "verify-tag", "--raw", tag], self.root)
        return proc.returncode == 0, proc.stderr.decode(errors="replace")

    def config_get(self, key: str) -> str | None:
        """git's effective value of a config key here (None when unset)."""
        proc = run_git_raw(["config", "--get", key], self.root)
        return proc.stdout.decode(errors="surrogateescape").strip() if proc.returncode == 0 else None

    def update_refs(self, updates: list[RefUpdate], reason: str, verify: list[tuple[str, str]] | None = None) -> None:
        """Move/create every ref in one atomic transaction; a ref that moved under us is a conflict.

        `verify`: (ref, object id) pairs that must still hold for the transaction to happen; they are not written.
        """
        if not updates:
            return
        lines = [f"verify {ref} {oid}" for ref, oid in verify or ()]
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

    def write_worktree_file(self, rel: str, text: str, blob: str) -> None:
        """Put a committed file in the work tree and the user's index, touching no other entry."""
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
        self.add_to_index(rel, blob)
