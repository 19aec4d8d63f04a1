"""Review evidence (DESIGN §6): which requests reached the main line through a merge, and whether an event
on a review-required stage is backed by one. Read-only: used by verify, check-ref, requests and apply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelreg import requestfile
from modelreg.errors import InvalidInputError, ModelregError
from modelreg.events import held_before
from modelreg.models import Event, Finding
from modelreg.results import REQUESTS_DIR, Merge

if TYPE_CHECKING:
    from modelreg.context import Context


def mainline_merges(ctx: Context, rev: str = "HEAD") -> tuple[dict[str, list[Merge]], list[str]]:
    """Every request that came into `rev`'s main line (first parents), newest first, by id.

    The request is read as the commit that brought it in holds it: a later edit on the main
    line changes nothing that was approved. Returns (merges by id, problems with request files).
    """
    additions = ctx.git.first_parent_additions(rev, REQUESTS_DIR)
    found = [
        (index, addition, path, request_id)
        for index, addition in enumerate(additions)
        for path in addition.paths
        if (request_id := requestfile.request_id_of(path)) is not None
    ]
    texts = ctx.git.read_files([(addition.commit, path) for _, addition, path, _ in found])
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


def main_line(ctx: Context) -> str | None:
    """The tip of the main branch, whose first-parent line is where approved requests are merged.

    The remote-tracking branch comes first: a merge that exists only in this clone approves nothing.
    A read-only view (`--repo`) has the remote's default branch, but not its history.
    """
    if ctx.source:
        raise InvalidInputError(
            "review evidence needs the main branch's history: check this tag in a clone (fetch-depth 0)"
        )
    branch = ctx.config.main_branch
    for ref in (f"refs/remotes/{ctx.config.remote}/{branch}", f"refs/heads/{branch}"):
        tip = ctx.git.resolve_commit(ref)
        if tip is not None:
            return tip
    return None


def needs_review(ctx: Context, event: Event) -> bool:
    return event.kind == "stage" and event.target in ctx.config.review_required and event.action != "unassign"


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


def review_findings(ctx: Context, events: dict[str, list[Event]], only: str | None = None) -> list[Finding]:
    """A finding for every event on a review-required stage that no merged request backs."""
    relevant = [
        (e, model_events)
        for model_events in events.values()
        for e in model_events
        if e.seq is not None and needs_review(ctx, e) and (only is None or e.tag == only)
    ]
    if not relevant:
        return []
    main = main_line(ctx)
    merges = mainline_merges(ctx, main)[0] if main else {}
    findings = []
    for event, model_events in relevant:
        problem = (
            review_problem(event, merges, model_events)
            if main
            else f"{event.tag}: cannot check its review, there is no branch {ctx.config.main_branch!r} here "
            "(main_branch in the config; `modelreg fetch` brings it)"
        )
        if problem:
            findings.append(Finding("review", event.tag, problem))
    return findings
