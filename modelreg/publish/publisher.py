"""The publisher: where a write goes, what it builds on, its tag objects, and making it visible (DESIGN §3, §7).

Every write is built from objects first (a commit, tag objects), then published all at once
(see push): in this repository, or through the remote, redone on top of other writers' work
when they win a race. Operations (modelreg/ops/) decide *what* to write; the publisher decides
*how*: the target, the commit base, signing, seqs and claim refs, retries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple, TypeVar

from modelreg.core.events import event_message
from modelreg.core.refs import NO_VERSION, claim_ref, event_tag, is_claim_ref
from modelreg.errors import InvalidInputError, NotFoundError
from modelreg.formats.config import CONFIG_PATH
from modelreg.git.reffiles import branch_tip
from modelreg.git.remote import check_remote
from modelreg.models import Action, Event, TagRecord, TargetKind
from modelreg.paths import cache_dir
from modelreg.publish.fetching import fetch_for_write
from modelreg.publish.options import WriteOptions
from modelreg.publish.push import BranchMove, Target, publish, with_retries
from modelreg.read import seeded, snapshot
from modelreg.read.reader import ModelView, Reader, registration
from modelreg.read.sigverify import signature_findings

T = TypeVar("T")


class EventDraft(NamedTuple):
    """What an operation wants recorded; the publisher adds seq, tag, who and when."""

    action: Action
    kind: TargetKind
    target: str
    version: int
    subject: str
    reason: str | None = None
    archived: tuple[int, ...] = ()
    extra: dict[str, Any] | None = None
    request: str | None = None


class Publisher:
    """Writes to the registry that `reader` reads."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.git = reader.git
        self.config = reader.config
        # Version tags this publisher has published → the `millis` their payload records: what a caller that
        # describes the version it just registered would otherwise read back from the tag.
        self.registered: dict[str, int] = {}
        self.made: dict[str, TagRecord] = {}  # tag object → its record (read.seeded), until published (`seed`)

    def target(self, options: WriteOptions, branch: str | None = None, commits: bool = False) -> Target:
        """Where a write goes; for writes that commit, the branch (the checked-out one by default).

        Tags are signed when asked, and by default when the registry requires signed events.
        """
        if self.reader.source:
            raise InvalidInputError(f"{self.reader.source} is open read-only: clone it to write")
        pushing = self.config.push if options.push is None else options.push
        remote_name = (options.remote or self.config.remote) if pushing else None
        if remote_name is not None:
            check_remote(self.git, remote_name)
        branch_ref = None
        if commits:
            if branch is not None:
                branch_ref = self.git.branch_ref(branch)
            else:
                branch_ref = self.git.branch()
                if branch_ref is None:
                    raise InvalidInputError(
                        "HEAD is detached: check out a branch, or name the one to commit to with --branch"
                    )
        sign = self.config.require_signed if options.sign is None else options.sign
        return Target(remote_name, branch_ref, sign)

    def retry(self, target: Target, name: str | None, attempt: Callable[[], T]) -> T:
        """Run `attempt` once, or, through a remote, fetch-then-attempt until the remote takes it."""
        return with_retries(target, lambda: fetch_for_write(self.reader, target, name), attempt)

    def commit_base(self, target: Target) -> tuple[str | None, str | None]:
        """(parent of the new commit, the remote branch tip it must move from when pushing)."""
        assert target.branch is not None
        local = branch_tip(self.git.root, target.branch, self.git.resolve_commit)  # read as git reads it, no process
        if target.remote is None:
            if local is None and target.branch != self.git.branch():
                raise NotFoundError(f"there is no branch {target.branch.removeprefix('refs/heads/')!r} here")
            return local, local
        remote_tip = self.git.resolve_commit(target.tracking or "")
        if remote_tip is None:
            return local, None
        if local is None or self.git.is_ancestor(local, remote_tip):
            return remote_tip, remote_tip
        short = target.branch.removeprefix("refs/heads/")
        raise InvalidInputError(
            f"branch {short} has commits that {target.remote} does not: push or rebase them first "
            f"(modelreg pushes only what it writes)"
        )

    def publish_commit(
        self,
        target: Target,
        move_from: str | None,
        commit: str,
        files: dict[str, tuple[str, str]],
        refs: list[tuple[str, str]],
        reason: str,
    ) -> tuple[str, ...]:
        """Publish the commit (and `refs`); `files` (path → (text, blob)) are what it changed.

        Returns warnings for the user.
        """
        assert target.branch is not None
        checked_out = target.branch == self.git.branch()
        followed = publish(
            self.git, target, refs, reason, BranchMove(target.branch, commit, move_from), checked_out=checked_out
        )
        if target.remote is None and checked_out:
            for rel, (text, blob) in files.items():
                self.git.write_worktree_file(rel, text, blob)
        elif not followed:
            return (
                f"pushed, but your checkout could not fast-forward to it (local changes in the way): "
                f"run `git pull --ff-only` to bring in {', '.join(files)}",
            )
        return ()

    def write_event(self, target: Target, view: ModelView, draft: EventDraft) -> Event:
        """Tag the version's commit with the event and claim its seq: both refs land together or neither."""
        refs, event = self.make_event(target, view, draft)
        publish(self.git, target, refs, f"modelreg: {event.tag}")
        self.seed(view.state.name, refs)
        return event

    def seed(self, name: str, refs: list[tuple[str, str]]) -> None:
        """After `refs` of model `name` were published: their tags, as made here, go into the kept parse of the
        model's refs (read.snapshot.seed), when every tag among them has a record git has been seen to agree
        with (read.seeded); else the next read asks git for them."""
        tags = [self.made.pop(obj, None) for ref, obj in refs if ref.startswith("refs/tags/")]
        if tags and None not in tags:
            claims = {ref: obj for ref, obj in refs if is_claim_ref(ref)}
            snapshot.seed(self.git, name, [tag for tag in tags if tag is not None], claims, cache_dir())

    def make_event(self, target: Target, view: ModelView, draft: EventDraft) -> tuple[list[tuple[str, str]], Event]:
        """The event's tag object (signed as `target` asks) and the refs that publish it: its tag and claim ref."""
        who, epoch, offset = self.git.identity()
        state = view.state
        seq = max(state.last_seq, *view.snap.taken_seqs.get(state.name, {0})) + 1
        versionless = draft.version == NO_VERSION
        commit = self.versionless_commit() if versionless else registration(view.events, draft.version).commit
        tag = event_tag(state.name, draft.target, seq)
        payload = {
            "action": draft.action,
            "kind": draft.kind,
            "target": draft.target,
            "version": draft.version,
            "archived": list(draft.archived),
            "reason": draft.reason,
            "request": draft.request,
            "millis": stamp_millis(epoch),
            **(draft.extra or {}),
        }
        message = event_message(draft.subject, payload)
        tag_object = self.tag_object(target, tag, commit, message, draft.target, ident=f"{who} {epoch} {offset}")
        event = Event(
            name=state.name,
            action=draft.action,
            version=draft.version,
            tag=tag,
            seq=seq,
            kind=draft.kind,
            target=draft.target,
            archived=draft.archived,
            reason=draft.reason,
            request=draft.request,
            approved_by=payload.get("approved_by"),
            merge_commit=payload.get("merge_commit"),
            actor=who,
            date=git_date(epoch, offset),
            commit=commit,
            subject=draft.subject,
            object=tag_object,
            millis=payload["millis"],
        )
        return [(f"refs/tags/{tag}", tag_object), (claim_ref(state.name, seq), tag_object)], event

    def versionless_commit(self) -> str:
        """What an event written before the model's first version tags: the commit of the policy of record."""
        commit = self.reader.context.policy_commit or self.git.resolve_commit("HEAD")
        if commit is None:
            raise InvalidInputError("the repository has no commit yet: commit the registry's config first")
        return commit

    def tag_object(
        self, target: Target, tag: str, commit: str, message: str, event_target: str, *, ident: str | None = None
    ) -> str:
        """The tag object, signed as `target` asks; refused, before anything is published, when the registry
        requires signatures and `verify` would not accept this one. `event_target` is "" for a version tag;
        `ident` the tagger and date the write recorded (`GitRepo.identity`), when it read them already."""
        if self.config.require_signed and not target.sign:
            raise InvalidInputError(
                f"this registry requires signed events (require_signed in {CONFIG_PATH}): "
                "drop --no-sign, and set up a signing key (git config user.signingkey)"
            )
        tag_object = self.git.make_tag(tag, commit, message, sign=target.sign, ident=ident)
        if not target.sign and ident is not None:  # as the next read of the refs will describe it (`seed`)
            who, epoch, offset = ident.rsplit(" ", 2)
            made = seeded.record_of(tag, tag_object, commit, who, git_date(int(epoch), offset), offset, message)
            if made is not None:
                self.made[tag_object] = made
        if not self.config.require_signed:
            return tag_object
        seq = 1 if event_target else None
        probe = Event(
            name="", action="assign", version=1, tag=tag, seq=seq, target=event_target or None, object=tag_object
        )
        findings = signature_findings(self.reader.context, {"": [probe]})
        if findings:
            signers = self.config.allowed_signers or "git's allowed signers"
            may = f"that may sign {event_target!r} events" if event_target else "allowed to sign"
            raise InvalidInputError(
                f"{findings[0].message}; nothing was written (sign with a key in {signers} {may}: "
                "git config user.signingkey)"
            )
        return tag_object


def stamp_millis(epoch: int) -> int:
    """An event's time in milliseconds (a payload's `millis`; its tag's date has whole seconds, MLflow's times
    are milliseconds): this clock's, when git dated the tag by it (within the second git took to answer),
    else that date's second (a date given through GIT_COMMITTER_DATE)."""
    now = time.time_ns() // 1_000_000
    return now if abs(now // 1000 - epoch) <= 1 else epoch * 1000


def git_date(epoch: int, offset: str) -> str:
    """The form `git for-each-ref --format=%(taggerdate:iso-strict)` gives, so events read back alike."""
    sign = -1 if offset.startswith("-") else 1
    zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
    return datetime.fromtimestamp(epoch, zone).isoformat()
