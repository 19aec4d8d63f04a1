"""Reviewed promotions (DESIGN §6): requests on branches, merged through pull requests, applied by CI.

The evidence of a review is git's own: the request file came into the main line through a merge
commit, and that commit's author is who merged it. `apply` copies that evidence into the event
tag; `verify` and `check-ref` check the tag against the main line again, so a hand-made tag that
names a request it did not come from is caught.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import TypedDict

from modelreg.core.events import current_holder, to_archive
from modelreg.core.refs import ModelRef, check_alias, check_name, stage_name
from modelreg.errors import InvalidInputError, ModelregError, NotFoundError
from modelreg.formats import requestfile
from modelreg.git import RefUpdate
from modelreg.git.remote import push_atomic
from modelreg.models import REQUESTS_DIR, Event, Merge, Request, TargetKind
from modelreg.publish.fetching import fetch_for_write
from modelreg.publish.options import WriteOptions
from modelreg.publish.publisher import EventDraft, Publisher
from modelreg.publish.push import Target
from modelreg.read.evidence import main_line, mainline_merges
from modelreg.read.reader import Reader
from modelreg.results import ApplyResult, CreatedRequest, RequestStatus


class RequestArgs(TypedDict, total=False):
    """`Registry.request`'s keywords."""

    kind: TargetKind
    keep_existing: bool
    reason: str | None
    branch: str | None
    push: bool | None
    remote: str | None


def request(
    reader: Reader, publisher: Publisher, name: str, version: int, target: str, args: RequestArgs
) -> CreatedRequest:
    """Propose a stage (or alias) change for review: a request file committed on a new branch.

    The result carries the branch and a Markdown body for the pull request; merging it is the
    approval, and `apply` (in CI, on the main branch) then writes the event.
    """
    check_name(name)
    dest = publisher.target(WriteOptions(args.get("push"), args.get("remote")))
    kind = args.get("kind", "stage")
    target = stage_name(target) if kind == "stage" else target
    keep, reason, branch = args.get("keep_existing", False), args.get("reason"), args.get("branch")
    return create(reader, dest, name, version, kind, target, keep_existing=keep, reason=reason, branch=branch)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def create(
    reader: Reader,
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
        reader.config.check_stage(target)
    else:
        check_alias(target, reader.config.stages)
    if dest.remote is not None:  # judge the request against the remote's refs, as the reviewer will
        fetch_for_write(reader, dest, name)
    view = reader.model(name)
    state = view.state
    reader.select(state, ModelRef(name, version=version))
    holder = current_holder(state, kind, target)
    if holder == version and (kind == "alias" or state.stages.get(version) == target):
        raise InvalidInputError(f"{name} v{version} already holds {kind} {target!r}: nothing to request")
    who, _, _ = reader.git.identity()
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
    reader.git.branch_ref(short)
    if reader.git.resolve_commit(f"refs/heads/{short}") is not None:
        raise InvalidInputError(f"branch {short!r} already exists: choose another with --branch")
    candidate = reader.version(view, version).manifest
    current = reader.version(view, holder).manifest if holder is not None else None
    title = requestfile.pr_title(request)
    body = requestfile.pr_body(request, candidate, current)
    base = reader.git.resolve_commit("HEAD")
    # The commit message is the PR's title and body: `gh pr create --fill` and GitLab take them from it.
    commit, _ = reader.git.commit_files(base, {request.path: requestfile.to_yaml(request)}, f"{title}\n\n{body}")
    if dest.remote is not None:
        push_atomic(reader.git, dest.remote, [f"{commit}:refs/heads/{short}"])
    reader.git.update_refs([RefUpdate(f"refs/heads/{short}", commit)], f"modelreg: request {request.id}")
    return CreatedRequest(request, short, commit, title, body, dest.remote)


def _present(reader: Reader, rev: str) -> set[str]:
    """Ids of the request files in `rev`'s tree (a reverted merge removes its request)."""
    names = reader.git.list_dir(rev, REQUESTS_DIR)
    return {rid for n in names if (rid := requestfile.request_id_of(f"{REQUESTS_DIR}/{n}")) is not None}


def _applied(events: dict[str, list[Event]]) -> dict[str, Event]:
    return {e.request: e for model in events.values() for e in model if e.request is not None}


def statuses(reader: Reader) -> tuple[list[RequestStatus], list[str]]:
    """Open requests (on `modelreg/request/*` branches), merged ones, and those already applied."""
    head = main_line(reader.context) or reader.git.resolve_commit("HEAD")
    merges, problems = mainline_merges(reader.context, head) if head else ({}, [])
    present = _present(reader, head) if head else set()
    applied = _applied(reader.snapshot(None).events)
    result: list[RequestStatus] = []
    for request_id, found in merges.items():
        latest = found[0]
        if request_id in applied:
            result.append(RequestStatus(latest.request, "applied", merge=latest, event=applied[request_id]))
        elif request_id in present:
            result.append(RequestStatus(latest.request, "merged" if latest.via_merge else "unreviewed", merge=latest))
    branches = reader.git.ref_ids([f"refs/heads/{requestfile.BRANCH_PREFIX}", "refs/remotes/"]).splitlines()
    candidates = []
    for line in branches:
        ref = line.split(" ", 1)[0]
        short = ref.removeprefix("refs/heads/")
        if ref.startswith("refs/remotes/"):
            short = ref.removeprefix("refs/remotes/").split("/", 1)[-1]
        request_id = short.removeprefix(requestfile.BRANCH_PREFIX)
        if short.startswith(requestfile.BRANCH_PREFIX) and request_id not in merges:
            candidates.append((ref, short, request_id))
    texts = reader.git.read_files([(ref, requestfile.request_path(rid)) for ref, _, rid in candidates])
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


def apply(reader: Reader, publisher: Publisher, opts: WriteOptions) -> list[ApplyResult]:
    """Turn each merged, not yet applied request on the checked-out main line into its event tag.

    Oldest merge first. Idempotent: a request whose event exists (here, or on the remote once
    fetched) is reported as already applied, so two CI runs racing each other write it once.
    Each event is its own push (CI systems ignore a push that carries many tags at once).
    """
    target = publisher.target(opts)
    head = reader.git.resolve_commit("HEAD")
    if head is None:
        raise NotFoundError("HEAD has no commit: nothing to apply")
    main = main_line(reader.context)
    branch = reader.config.main_branch
    if main is None:
        raise NotFoundError(
            f"there is no branch {branch!r} here (main_branch in the config): fetch it, or check it out"
        )
    if not reader.git.is_ancestor(head, main):
        raise InvalidInputError(
            f"HEAD is not on {branch}: apply runs on the main branch, where reviewed requests are merged"
        )
    present = _present(reader, head)
    # In a shallow clone, the merges of the requests still to apply must be in the history read.
    unapplied = present - _applied(reader.snapshot(None).events).keys() if reader.git.shallow_commits else set()
    merges, problems = mainline_merges(reader.context, head, [(rid, None) for rid in sorted(unapplied)])
    if problems:
        raise InvalidInputError(problems[0])
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
            results.append(_apply_one(reader, publisher, target, merge))
        except ModelregError as exc:
            results.append(ApplyResult(merge.request, "failed", error=str(exc)))
    return results


def _apply_one(reader: Reader, publisher: Publisher, target: Target, merge: Merge) -> ApplyResult:
    request = merge.request

    def attempt() -> ApplyResult:
        view = reader.model(request.name)
        state = view.state
        done = next((e for e in view.events if e.request == request.id), None)
        if done is not None:
            return ApplyResult(request, "already-applied", done)
        reader.select(state, ModelRef(request.name, version=request.version))
        extra = {"approved_by": merge.merged_by, "merge_commit": merge.commit, "requested_by": request.requested_by}
        if request.kind == "stage":
            reader.config.check_stage(request.target)
            archived = (
                ()
                if request.keep_existing
                else to_archive(state, request.version, request.target, request.target in reader.config.single_holder)
            )
            subject = f"{request.name} v{request.version} → {request.target} (request {request.id})"
        else:
            check_alias(request.target, reader.config.stages)
            archived = ()
            subject = f"{request.name}@{request.target} → v{request.version} (request {request.id})"
        draft = EventDraft(
            "assign",
            request.kind,
            request.target,
            request.version,
            subject,
            request.reason,
            archived,
            extra,
            request.id,
        )
        event = publisher.write_event(target, view, draft)
        return ApplyResult(request, "applied", event)

    return publisher.retry(target, request.name, attempt)
