"""Commands that review and maintain: requests, apply, fetch, verify, gc."""

# No `from __future__ import annotations` here: Typer reads every command's annotations to build `--help`, and
# string annotations cost an eval each (8 ms of every `--help`, measured).

from typing import Annotated

import typer

from modelreg.cli.options import JsonOpt, PushOpt, RemoteOpt, SignOpt, app
from modelreg.cli.output import console, json_out, line, progress, say, table, terminal, warn
from modelreg.cli.registry import open_registry
from modelreg.display import plain, resultviews
from modelreg.errors import ExitCode, InvalidInputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from modelreg.results import VerifyReport  # annotations only: ~1.6 ms of `--help` (measured)


@app.command("requests")
def requests_(json_: JsonOpt = False) -> None:
    """List promotion requests and where each one stands: `modelreg requests`.

    open: on a modelreg/request/* branch, not merged yet; merged: on the main branch, waiting for
    `modelreg apply`; unreviewed: committed on the main branch without a merge commit (apply refuses
    it); applied: its event tag exists.
    """
    reg = open_registry()
    found = reg.requests()
    warn(found.warnings)
    if json_:
        json_out([resultviews.request_status_json(r) for r in found.statuses])
        return

    table(resultviews.requests_table(list(found.statuses)))


@app.command("apply")
def apply_(push: PushOpt = None, remote: RemoteOpt = None, sign: SignOpt = None, json_: JsonOpt = False) -> None:
    """Write the event of every merged request not yet applied: `modelreg apply --push` (CI, main branch).

    Each event tag records the request, the merge commit and who merged it (the approver). Safe
    to run again and from racing CI jobs: an applied request is never applied twice. With --push
    each event is pushed on its own, so tag-triggered deploy pipelines see every one.
    Exits 1 if a request could not be applied (the others still are).
    """
    results = open_registry().apply(push=push, remote=remote, sign=sign)
    if json_:
        json_out([resultviews.apply_json(r) for r in results])
    else:
        for result in results:
            if result.outcome == "applied" and result.event is not None:
                line(f"Applied {result.request.id}: {result.request.label}  [tag {result.event.tag}]")
            elif result.outcome == "failed":
                say(f"error: {result.request.id}: {result.error}")
        done = sum(r.outcome == "already-applied" for r in results)
        if not any(r.outcome == "applied" for r in results):
            line("No merged requests waiting" + (f" ({done} already applied)" if done else ""))
    if any(r.outcome == "failed" for r in results):
        raise SystemExit(ExitCode.ERROR)


@app.command("fetch")
def fetch_(remote: RemoteOpt = None, json_: JsonOpt = False) -> None:
    """Bring the registry's tags, event refs and branch up to date from the remote: `modelreg fetch`.

    Clones do not fetch refs/modelreg/* by default, and a plain `git fetch` silently keeps a local
    tag that was moved on the remote. Here every local modelreg tag and event ref is compared with
    the remote's, in one glob fetch: a claim ref that moved or a ref that vanished there is reported
    (exit 4); a moved tag is reported as a warning and not taken (its claim ref decides). Every
    other ref is fetched either way.
    """
    report = open_registry().fetch(remote)
    if json_:
        json_out(resultviews.fetch_json(report))
    else:
        warn(report.warnings)
        for problem in report.problems:
            say(f"integrity: {problem}")
        if not report.problems:
            line(f"Up to date with {report.remote}")
    if report.problems:
        raise SystemExit(ExitCode.INTEGRITY)


@app.command()
def verify(
    name: Annotated[str | None, typer.Argument(help="Only this model (default: every model).")] = None,
    blobs: Annotated[
        bool, typer.Option("--blobs", help="Also re-hash every referenced blob in the store of record.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Check the registry's tags, claim refs, manifests and (--blobs) bytes: `modelreg verify fraud-detector`.

    Also: every event on a review_required stage must come from a request merged into the checked-out
    main line, and with require_signed every event tag must carry a signature from an allowed signer.
    Exits 4 when anything does not match.
    """
    reg = open_registry()
    with progress() as bar:
        report = reg.verify(name, blobs=blobs, progress=bar)
    warn(report.warnings)
    if json_:
        json_out(resultviews.verify_json(report))
    elif terminal():
        from modelreg.display import render  # Rich: ~30 ms of start-up (measured), paid only on a terminal

        render.verify_view(console(), report)
    else:
        _verify_text(report)
    if not report.ok:
        raise SystemExit(ExitCode.INTEGRITY)


def _verify_text(report: "VerifyReport") -> None:
    checked = f"{report.models} models, {report.versions} versions, {report.events} events"
    if report.ok:
        line(f"OK: {checked}")
        return
    say(f"{len(report.findings)} problems in {checked}")
    table(plain.findings_table(report.findings, "problems"))


@app.command()
def upgrade(push: PushOpt = None, remote: RemoteOpt = None, json_: JsonOpt = False) -> None:
    """Claim the version tags an earlier modelreg wrote without claim refs: `modelreg upgrade --push`.

    Since version claim refs (refs/modelreg/versions/NAME/N) exist, reads take only claimed
    versions. This claims every unclaimed version tag whose manifest verifies (and, when the
    registry requires signatures, whose signature does); the others stay out and are listed, with
    exit code 4. Run it once, in a clone up to date with the remote, and push (--push) the claims.
    """
    result = open_registry().upgrade(push=push, remote=remote)
    if json_:
        json_out(resultviews.upgrade_json(result))
    else:
        line(
            f"claimed {len(result.claimed)} version tags" + (": " + ", ".join(result.claimed) if result.claimed else "")
        )
        for reason in result.refused:
            say(f"not claimed: {reason}")
    if result.refused:
        raise SystemExit(ExitCode.INTEGRITY)


@app.command()
def gc(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be deleted (the default).")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Delete the unreferenced blobs.")] = False,
    grace_hours: Annotated[
        float,
        typer.Option(
            "--grace-hours", help="Keep unreferenced blobs younger than this: a registration may be under way."
        ),
    ] = 24.0,
    json_: JsonOpt = False,
) -> None:
    """List (or, with --yes, delete) store blobs no manifest references: `modelreg gc --yes`.

    A blob is referenced through a version tag, so gc first fetches the registry's refs from its
    remote (when the clone has it), and refuses while the main branch or HEAD has a manifest whose
    version tag is not in this clone (a branch pulled without its tags).
    """
    if dry_run and yes:
        raise InvalidInputError("--dry-run and --yes contradict each other")
    report = open_registry().gc(delete=yes, grace_s=grace_hours * 3600)
    if json_:
        json_out(resultviews.gc_json(report))
        return

    from modelreg.display import render  # Rich: ~30 ms of start-up (measured), paid only on a terminal

    render.gc_view(console(), report)
