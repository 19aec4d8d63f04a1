"""Reviewed promotions (DESIGN §6): requests on branches, merged through pull requests, applied by CI.

The evidence of a review is git's own: the request file came into the main line through a merge
commit, and that commit's author is who merged it. `apply` copies that evidence into the event
tag; `verify` and `check-ref` check the tag against the main line again, so a hand-made tag that
names a request it did not come from is caught.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, NamedTuple

from modelreg import requestfile
from modelreg.errors import InvalidInputError, ModelregError, NotFoundError
from modelreg.events import current_holder, held_before, to_archive
from modelreg.gitrepo import RefUpdate
from modelreg.models import Event, Finding, TargetKind
from modelreg.publish import Target, with_retries
from modelreg.refs import ModelRef, check_alias
from modelreg.requestfile import REQUESTS_DIR, Request

if TYPE_CHECKING:
    from modelreg.api import Registry


class Merge(NamedTuple):
    """How a request reached the main line."""

    request: Request  # as the commit that brought it in holds it: what was reviewed
    commit: str
    merged_by: str  # that commit's author: for a merge commit, who merged
    merged_at: str
    via_merge: bool  # False: committed on the main line directly, so nobody reviewed it
    newer: int = 0  # how many main-line commits that added requests came after this one


class CreatedRequest(NamedTuple):
    request: Request
    branch: str  # short name, e.g. modelreg/request/fraud-detector-production-v7-3f9a1c
    commit: str
    title: str
    body: str  # Markdown for the pull request
    pushed_to: str | None  # the remote it was pushed to, if it was


RequestState = Literal["open", "merged", "applied", "unreviewed"]


class RequestStatus(NamedTuple):
    request: Request
    state: RequestState  # open: on a branch; merged: waiting for apply; unreviewed: committed without a merge
    branch: str | None = None
    merge: Merge | None = None
    event: Event | None = None  # the event that applied it


class ApplyResult(NamedTuple):
    request: Request
    outcome: Literal["applied", "already-applied", "failed"]
    event: Event | None = None
    error: str | None = None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def create(
    reg: Registry,
    dest: Target,
    name: str,
    version: int,
    kind: TargetKind,
    target: str,
    *,
    keep_existing: bool = False,
    reason: str | None = None,
    branch: str | None = None,
) -> CreatedRequest:
    """Commit `.modelreg/requests/<id>.yaml` on a new branch, off the checked-out commit.

    Nothing else moves: not the checked-out branch, not the index, not the work tree. With a
    remote in `dest`, the branch is pushed there first.
    """
    if kind == "stage":
        reg.config.check_stage(target)
    else:
        check_alias(target, reg.config.stages)
    state, events, _ = reg._model(name)
    reg._select(state, ModelRef(name, version=version))
    holder = current_holder(state, kind, target)
    if holder == version and (kind == "alias" or state.stages.get(version) == target):
        raise InvalidInputError(f"{name} v{version} already holds {kind} {target!r}: nothing to request")
    who, _, _ = reg.git.identity()
    request = Request(
        id=requestfile.new_request_id(name, target, version, secrets.token_hex(3)),
        name=name,
        version=version,
        kind=kind,
        target=target,
        holder=holder,
        keep_existing=keep_existing,
        reason=reason,
        requested_by=who,
        requested_at=_now(),
    )
    short = (branch or requestfile.default_branch(request.id)).removeprefix("refs/heads/")
    reg.git.git("check-ref-format", "--branch", short)
    if reg.git.resolve_commit(f"refs/heads/{short}") is not None:
        raise InvalidInputError(f"branch {short!r} already exists: choose another with --branch")
    candidate = reg._version(state, events, version).manifest
    current = reg._version(state, events, holder).manifest if holder is not None else None
    title = requestfile.pr_title(request)
    body = requestfile.pr_body(request, candidate, current)
    base = reg.git.resolve_commit("HEAD")
    # The commit message is the PR's title and body: `gh pr create --fill` and GitLab take them from it.
    commit, _ = reg.git.commit_files(base, {request.path: requestfile.to_yaml(request)}, f"{title}\n\n{body}")
    if dest.remote is not None:
        reg.git.push_atomic(dest.remote, [f"{commit}:refs/heads/{short}"])
    reg.git.update_refs([RefUpdate(f"refs/heads/{short}", commit)], f"modelreg: request {request.id}")
    return CreatedRequest(request, short, commit, title, body, dest.remote)


def mainline_merges(reg: Registry, rev: str = "HEAD") -> tuple[dict[str, list[Merge]], list[str]]:
    """Every request that came into `rev`'s main line (first parents), newest first, by id.

    The request is read as the commit that brought it in holds it: a later edit on the main
    line changes nothing that was approved. Returns (merges by id, problems with request files).
    """
    additions = reg.git.first_parent_additions(rev, REQUESTS_DIR)
    found = [
        (index, addition, path, request_id)
        for index, addition in enumerate(additions)
        for path in addition.paths
        if (request_id := requestfile.request_id_of(path)) is not None
    ]
    texts = reg.git.read_blobs([f"{addition.commit}:{path}" for _, addition, path, _ in found])
    merges: dict[str, list[Merge]] = {}
    problems: list[str] = []
    for (index, addition, path, request_id), text in zip(found, texts, strict=True):
        if text is None:
            continue
        try:
            request = requestfile.from_yaml(text, f"{path} at {addition.commit[:12]}")
        except ModelregError as exc:
            problems.append(str(exc))
            continue
        if request.id != request_id:
            problems.append(f"{path} at {addition.commit[:12]}: its id is {request.id!r}, not its file name")
            continue
        via_merge = len(addition.parents) > 1
        merges.setdefault(request_id, []).append(
            Merge(request, addition.commit, addition.author, addition.date, via_merge, index)
        )
    return merges, problems


def main_line(reg: Registry) -> str | None:
    """The tip of the main branch, whose first-parent line is where approved requests are merged.

    The remote-tracking branch comes first: a merge that exists only in this clone approves nothing.
    A read-only view (`--repo`) has the remote's default branch, but not its history.
    """
    if reg.source:
        raise InvalidInputError(
            "review evidence needs the main branch's history: check this tag in a clone (fetch-depth 0)"
        )
    branch = reg.config.main_branch
    for ref in (f"refs/remotes/{reg.config.remote}/{branch}", f"refs/heads/{branch}"):
        tip = reg.git.resolve_commit(ref)
        if tip is not None:
            return tip
    return None


def _present(reg: Registry, rev: str) -> set[str]:
    """Ids of the request files in `rev`'s tree (a reverted merge removes its request)."""
    names = reg.git.list_dir(rev, REQUESTS_DIR)
    return {rid for n in names if (rid := requestfile.request_id_of(f"{REQUESTS_DIR}/{n}")) is not None}


def _applied(events: dict[str, list[Event]]) -> dict[str, Event]:
    return {e.request: e for model in events.values() for e in model if e.request is not None}


def statuses(reg: Registry) -> tuple[list[RequestStatus], list[str]]:
    """Open requests (on `modelreg/request/*` branches), merged ones, and those already applied."""
    head = main_line(reg) or reg.git.resolve_commit("HEAD")
    merges, problems = mainline_merges(reg, head) if head else ({}, [])
    present = _present(reg, head) if head else set()
    applied = _applied(reg._snapshot(None).events)
    result: list[RequestStatus] = []
    for request_id, found in merges.items():
        latest = found[0]
        if request_id in applied:
            result.append(RequestStatus(latest.request, "applied", merge=latest, event=applied[request_id]))
        elif request_id in present:
            result.append(RequestStatus(latest.request, "merged" if latest.via_merge else "unreviewed", merge=latest))
    branches = reg.git.ref_ids([f"refs/heads/{requestfile.BRANCH_PREFIX}", "refs/remotes/"]).splitlines()
    candidates = []
    for line in branches:
        ref = line.split(" ", 1)[0]
        short = ref.removeprefix("refs/heads/")
        if ref.startswith("refs/remotes/"):
            short = ref.removeprefix("refs/remotes/").split("/", 1)[-1]
        request_id = short.removeprefix(requestfile.BRANCH_PREFIX)
        if short.startswith(requestfile.BRANCH_PREFIX) and request_id not in merges:
            candidates.append((ref, short, request_id))
    texts = reg.git.read_blobs([f"{ref}:{requestfile.request_path(rid)}" for ref, _, rid in candidates])
    seen: set[str] = set()
    for (_, short, request_id), text in zip(candidates, texts, strict=True):
        if text is None or request_id in seen:
            continue
        seen.add(request_id)
        try:
            request = requestfile.from_yaml(text, f"{requestfile.request_path(request_id)} on {short}")
        except ModelregError as exc:
            problems.append(str(exc))
            continue
        if request.id == request_id:
            result.append(RequestStatus(request, "open", branch=short, event=applied.get(request_id)))
    order = {"open": 0, "merged": 1, "unreviewed": 2, "applied": 3}
    result.sort(key=lambda s: (order[s.state], s.request.requested_at, s.request.id))
    return result, problems


def apply(
    reg: Registry, *, push: bool | None = None, remote: str | None = None, sign: bool | None = None
) -> list[ApplyResult]:
    """Turn each merged, not yet applied request on the checked-out main line into its event tag.

    Oldest merge first. Idempotent: a request whose event exists (here, or on the remote once
    fetched) is reported as already applied, so two CI runs racing each other write it once.
    Each event is its own push (CI systems ignore a push that carries many tags at once).
    """
    target = reg._target(push, remote, sign=sign)
    head = reg.git.resolve_commit("HEAD")
    if head is None:
        raise NotFoundError("HEAD has no commit: nothing to apply")
    main = main_line(reg)
    branch = reg.config.main_branch
    if main is None:
        raise NotFoundError(
            f"there is no branch {branch!r} here (main_branch in the config): fetch it, or check it out"
        )
    if not reg.git.is_ancestor(head, main):
        raise InvalidInputError(
            f"HEAD is not on {branch}: apply runs on the main branch, where reviewed requests are merged"
        )
    merges, problems = mainline_merges(reg, head)
    if problems:
        raise InvalidInputError(problems[0])
    present = _present(reg, head)
    pending = sorted(
        (found[0] for request_id, found in merges.items() if request_id in present),
        key=lambda m: -m.newer,  # the oldest merge first
    )
    results = []
    for merge in pending:
        if not merge.via_merge:
            results.append(
                ApplyResult(
                    merge.request,
                    "failed",
                    error=f"request {merge.request.id} was committed on the main line directly "
                    f"({merge.commit[:12]}), not merged from a reviewed branch",
                )
            )
            continue
        try:
            results.append(_apply_one(reg, target, merge))
        except ModelregError as exc:
            results.append(ApplyResult(merge.request, "failed", error=str(exc)))
    return results


def _apply_one(reg: Registry, target: Target, merge: Merge) -> ApplyResult:
    request = merge.request

    def attempt() -> ApplyResult:
        state, events, snap = reg._model(request.name)
        done = next((e for e in events if e.request == request.id), None)
        if done is not None:
            return ApplyResult(request, "already-applied", done)
        reg._select(state, ModelRef(request.name, version=request.version))
        extra = {"approved_by": merge.merged_by, "merge_commit": merge.commit, "requested_by": request.requested_by}
        if request.kind == "stage":
            reg.config.check_stage(request.target)
            archived = (
                ()
                if request.keep_existing
                else to_archive(state, request.version, request.target, request.target in reg.config.single_holder)
            )
            subject = f"{request.name} v{request.version} → {request.target} (request {request.id})"
        else:
            check_alias(request.target, reg.config.stages)
            archived = ()
            subject = f"{request.name}@{request.target} → v{request.version} (request {request.id})"
        event = reg._write_event(
            target,
            state,
            events,
            snap,
            "assign",
            request.kind,
            request.target,
            request.version,
            subject,
            request.reason,
            archived,
            extra=extra,
            request=request.id,
        )
        return ApplyResult(request, "applied", event)

    return with_retries(target, lambda: reg._fetch_for(target, request.name), attempt)


# --- checking events against the main line ---------------------------------------------------


def needs_review(reg: Registry, event: Event) -> bool:
    return event.kind == "stage" and event.target in reg.config.review_required and event.action != "unassign"


def review_problem(event: Event, merges: dict[str, list[Merge]], events: list[Event]) -> str | None:
    """Why `event`, on a review-required stage, does not come from a merged request (None if it does).

    A rollback without a request is accepted when it returns the stage to a version that held
    it before: that version was reviewed when it first took the stage.
    """
    if event.request is None:
        if event.action == "rollback" and held_before(events, "stage", event.target or "", event.version, event.seq):
            return None
        return f"{event.tag} changes review-required stage {event.target!r} without a merged request"
    found = merges.get(event.request, [])
    if not found:
        return f"{event.tag} names request {event.request!r}, which was never merged into the main branch"
    merge = next((m for m in found if m.commit == event.merge_commit), None)
    if merge is None:
        return f"{event.tag} names request {event.request!r}, but not the commit that merged it"
    if not merge.via_merge:
        return f"{event.tag}: request {event.request!r} was committed on the main line directly, not merged"
    asked = merge.request
    if (asked.name, asked.version, asked.kind, asked.target) != (event.name, event.version, event.kind, event.target):
        return f"{event.tag} does something else than request {event.request!r} asked ({asked.label})"
    if event.approved_by != merge.merged_by:
        return f"{event.tag} names {event.approved_by!r} as approver, but {merge.merged_by!r} merged the request"
    return None


def review_findings(reg: Registry, events: dict[str, list[Event]], only: str | None = None) -> list[Finding]:
    """A finding for every event on a review-required stage that no merged request backs."""
    relevant = [
        (e, model_events)
        for model_events in events.values()
        for e in model_events
        if e.seq is not None and needs_review(reg, e) and (only is None or e.tag == only)
    ]
    if not relevant:
        return []
    main = main_line(reg)
    merges = mainline_merges(reg, main)[0] if main else {}
    findings = []
    for event, model_events in relevant:
        problem = (
            review_problem(event, merges, model_events)
            if main
            else f"{event.tag}: cannot check its review, there is no branch {reg.config.main_branch!r} here "
            "(main_branch in the config; `modelreg fetch` brings it)"
        )
        if problem:
            findings.append(Finding("review", event.tag, problem))
    return findings
