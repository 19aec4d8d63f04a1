"""Review evidence (DESIGN §6): which requests reached the main line through a merge, and whether an event
on a review-required stage is backed by one. Read-only (it may fetch history): used by verify, check-ref,
reads, requests and apply.

In a shallow clone (CI checkouts, `--repo` views) the main line stops at commits held without
their parents: such a commit proves nothing either way, so it is never taken as evidence, and
the history a check needs is fetched from the remote (a merge commit's parents are what show it
was merged); when that fails the check fails and says the history is shallow, never "not merged".
"""

from __future__ import annotations

import os
from collections.abc import Collection

from modelreg import cachefile
from modelreg.core.events import held_before
from modelreg.errors import GitError, ModelregError
from modelreg.formats import requestfile
from modelreg.git.history import Addition, additions_at, first_parent_additions, on_first_parent_line, parents_of
from modelreg.models import REQUESTS_DIR, Event, Finding, Merge
from modelreg.paths import cache_dir
from modelreg.read.context import Context

# How much deeper each fetch into a shallow clone goes (cumulative: 1, 9, 73 commits), then all of it.
# A deploy job's checkout usually ends at the request's own merge, so the first step is the one taken.
_DEEPEN_STEPS: tuple[int | None, ...] = (1, 8, 64, None)


def mainline_merges(
    ctx: Context, rev: str = "HEAD", wanted: Collection[tuple[str, str | None]] = ()
) -> tuple[dict[str, list[Merge]], list[str]]:
    """Every request that came into `rev`'s main line (first parents), newest first, by id.

    The request is read as the commit that brought it in holds it: a later edit on the main
    line changes nothing that was approved. Returns (merges by id, problems with request files).
    `wanted`: (request id, the commit that must have brought it in, or None: any). While one of
    them is not found and the history is shallow, more of it is fetched (see `_deepen`).
    """
    for step in _DEEPEN_STEPS:
        merges, problems = _merges(ctx, rev)
        missing = _not_found(ctx, merges, wanted)
        if not missing:
            return merges, problems

        _deepen(ctx, step, missing)
    merges, problems = _merges(ctx, rev)
    missing = _not_found(ctx, merges, wanted)
    if missing:
        raise GitError(f"{_shallow_problem(ctx, missing)}, and its remote sent no more of it: {_shallow_fix(ctx)}")
    return merges, problems


def _not_found(ctx: Context, merges: dict[str, list[Merge]], wanted: Collection[tuple[str, str | None]]) -> list[str]:
    """The wanted request ids whose merge this clone's shallow history may hide (none in a full clone)."""
    if not wanted or not ctx.git.shallow_commits:
        return []
    found = {
        (rid, commit): merge
        for rid, commit in wanted
        if (merge := next((m for m in merges.get(rid, []) if commit in (None, m.commit)), None)) is not None
    }
    if found:  # a merge commit's parents are what show it was merged: they must be here
        parents = parents_of(ctx.git, sorted({m.commit for m in found.values()}))
        if ctx.git.missing_objects(sorted(set(parents))):
            return [rid for rid, _ in wanted]
    return [rid for rid, commit in wanted if (rid, commit) not in found]


def _deepen(ctx: Context, step: int | None, missing: list[str]) -> None:
    """Fetch more of the main line's history into this shallow clone, or fail saying how to get it."""
    from modelreg.git.remote import deepen  # remote helpers: shallow clones alone need them

    remote, want = ("origin", "HEAD") if ctx.source else (ctx.config.remote, f"refs/heads/{ctx.config.main_branch}")
    try:
        deepen(ctx.git, remote, want, step)
    except GitError as exc:
        raise GitError(
            f"{_shallow_problem(ctx, missing)}, and fetching more of it from {remote!r} failed ({exc}): "
            + _shallow_fix(ctx)
        ) from None


def _shallow_problem(ctx: Context, missing: list[str]) -> str:
    where = f"the read-only view of {ctx.source}" if ctx.source else "this clone"
    return f"cannot check the review of request {missing[0]!r}: the history of {where} is shallow"


def _shallow_fix(ctx: Context) -> str:
    if ctx.source:
        return "try again when it is reachable, or read from a clone with full history"
    return (
        f"run `git fetch --unshallow {ctx.config.remote}`, or check out with full history "
        "(`fetch-depth: 0` in GitHub Actions)"
    )


# Per process: the merges found on a main line, by (repository, tip commit, shallow boundary).
_MERGES: dict[tuple[str, str, frozenset[str]], tuple[dict[str, list[Merge]], list[str]]] = {}


def _merges(ctx: Context, rev: str) -> tuple[dict[str, list[Merge]], list[str]]:
    shallow = ctx.git.shallow_commits  # read once per registry: no git process in a full clone
    key = (str(ctx.root), rev, shallow)
    if key not in _MERGES or not _is_commit_id(rev):
        if len(_MERGES) >= 64:  # a long-lived process sees many tips: keep memory bounded
            _MERGES.clear()
        _MERGES[key] = _read_merges(ctx, rev, shallow)
    return _MERGES[key]


def _is_commit_id(rev: str) -> bool:
    return len(rev) in (40, 64) and all(c in "0123456789abcdef" for c in rev)


def _additions(ctx: Context, rev: str, shallow: frozenset[str]) -> list[Addition]:
    """The main line's request additions; kept across processes by tip commit (a commit fixes its history)."""
    if not _is_commit_id(rev):
        return first_parent_additions(ctx.git, rev, REQUESTS_DIR)
    ident = ("additions", 1, str(ctx.root), rev, REQUESTS_DIR, sorted(shallow))
    path = os.path.join(cache_dir(), "evidence", cachefile.file_name(*map(str, ident)))
    cached = cachefile.load(path)
    if isinstance(cached, tuple) and len(cached) == 2 and cached[0] == ident:
        try:
            return [Addition(*fields) for fields in cached[1]]
        except TypeError:  # a damaged entry: read afresh
            pass
    additions = first_parent_additions(ctx.git, rev, REQUESTS_DIR)
    cachefile.dump(path, (ident, [tuple(a) for a in additions]))
    return additions


def _named_merges(ctx: Context, main: str, wanted: list[tuple[str, str | None]]) -> dict[str, list[Merge]] | None:
    """The merges `wanted` names, each read at its own commit, when every one is what `mainline_merges` would find
    there: a commit on the main line (first parents from `main`) that added that request, which parses as it.
    None when one is not (or the clone is shallow): then the whole main line is read, for the same verdict and
    its words. A commit fixes its history, so this answers as the walk would, in a few git calls however long
    the main line is."""
    if not wanted or ctx.git.shallow_commits or any(commit is None for _, commit in wanted):
        return None
    key = (str(ctx.root), main, tuple(wanted))  # commit ids all: the answer never changes
    if key not in _NAMED:
        if len(_NAMED) >= 64:
            _NAMED.clear()
        _NAMED[key] = _read_named_merges(ctx, main, wanted)
    return _NAMED[key]


_NAMED: dict[tuple[str, str, tuple[tuple[str, str | None], ...]], dict[str, list[Merge]] | None] = {}


def _read_named_merges(ctx: Context, main: str, wanted: list[tuple[str, str | None]]) -> dict[str, list[Merge]] | None:
    commits = sorted({commit for _, commit in wanted if commit is not None})
    if not on_first_parent_line(ctx.git, main, commits):
        return None
    added = {a.commit: a for a in additions_at(ctx.git, commits, REQUESTS_DIR)}
    found = []
    for rid, commit in wanted:
        addition, path = added.get(commit or ""), requestfile.request_path(rid)
        if addition is None or path not in addition.paths:
            return None
        found.append((rid, addition, path))
    merges: dict[str, list[Merge]] = {}
    texts = ctx.git.read_files([(addition.commit, path) for _, addition, path in found])
    for (rid, addition, path), text in zip(found, texts, strict=True):
        try:
            request = requestfile.from_yaml(text or "", f"{path} at {addition.commit[:12]}")
        except ModelregError:
            return None
        if text is None or request.id != rid:
            return None
        merges.setdefault(rid, []).append(
            Merge(request, addition.commit, addition.author, addition.date, len(addition.parents) > 1)
        )
    return merges


def _read_merges(ctx: Context, rev: str, shallow: frozenset[str]) -> tuple[dict[str, list[Merge]], list[str]]:
    additions = _additions(ctx, rev, shallow)
    found = [
        (index, addition, path, request_id)
        for index, addition in enumerate(additions)
        if addition.commit not in shallow  # without its parents, it seems to add every file it holds
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
    A read-only view (`--repo`) has the remote's default branch, whose config is its policy of
    record, and fetches as much of its history as the evidence needs.
    """
    if ctx.source:
        return ctx.policy_commit
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


def review_findings(
    ctx: Context, events: dict[str, list[Event]], only: str | None = None, *, named: bool = False
) -> list[Finding]:
    """A finding for every event on a review-required stage that no merged request backs.

    With `only` or `named` (a lean read's deciding events), each event's own merge is read where
    that settles it, not the whole main line."""
    relevant = [
        (e, model_events)
        for model_events in events.values()
        for e in model_events
        if e.seq is not None and needs_review(ctx, e) and (only is None or e.tag == only)
    ]
    if not relevant:
        return []
    main = main_line(ctx)
    wanted = [(e.request, e.merge_commit) for e, _ in relevant if e.request is not None]
    merges = None
    if main and (only is not None or named):
        merges = _named_merges(ctx, main, wanted)
    if merges is None:
        merges = mainline_merges(ctx, main, wanted)[0] if main else {}
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
