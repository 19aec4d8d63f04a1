"""`modelreg notify`: announce new events to a webhook or a chat channel. The work is in modelreg.ops.notify."""

# No `from __future__ import annotations` here: Typer reads every command's annotations to build `--help`, and
# string annotations cost an eval each (8 ms of every `--help`, measured).

from pathlib import Path
from typing import Annotated, Any

import typer

from modelreg.cli.options import FetchOpt, JsonOpt, RemoteOpt, RepoOpt, app
from modelreg.cli.output import json_out, line, warn
from modelreg.cli.registry import open_registry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from modelreg.ops.notify import NotifyResult  # loaded by the command itself (see notify)


@app.command("notify")
def notify(
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            metavar="URL",
            help='Post here (e.g. --url "$SLACK_WEBHOOK_URL"; default: every notify: entry of the config).',
            show_default=False,
        ),
    ] = None,
    format_: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="json|slack|teams",
            help="json (the facts: model, version, target, tag, who, when, why, approver, digest, report), "
            "slack or teams (a chat message). Default: json, or the config entry's.",
            show_default=False,
        ),
    ] = None,
    secret_env: Annotated[
        str | None,
        typer.Option(
            "--secret-env",
            metavar="VAR",
            help="Sign each body with the secret in this environment variable: "
            "X-Modelreg-Signature: sha256=<hex HMAC-SHA256 of the body>.",
            show_default=False,
        ),
    ] = None,
    events: Annotated[
        str | None,
        typer.Option(
            "--events",
            metavar="KINDS",
            help="Which kinds to announce, comma-separated: promote (stage changes), rollback, alias, "
            "request (changes that applied a reviewed request), retire. Default: all.",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="TAG",
            help="Start here: a modelreg tag (that event and later ones), a date or a git revision, as in "
            "`history --since`. With --state: only for models the state file does not list yet.",
            show_default=False,
        ),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            metavar="FILE",
            help="Remember what was delivered in this JSON file (created on the first run), "
            "so a run sends only what no earlier run delivered.",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for each answer.")] = 10.0,
    retries: Annotated[
        int,
        typer.Option("--retries", help="Retries (with backoff) after a connection error, a timeout, a 5xx or a 429."),
    ] = 3,
    fetch: FetchOpt = False,
    remote: RemoteOpt = None,
    repo: RepoOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Announce each new event, once and in order, to a webhook or a chat channel.

    Example: `modelreg notify --fetch --state .notify.json --url "$SLACK_WEBHOOK_URL" --format slack`

    Only events the registry's policy admits are announced (a hand-made tag, an unreviewed or
    unsigned one where the policy requires otherwise, never is): stage changes, rollbacks, alias
    changes and retirements, in seq order. An event counts as delivered once the server answered
    2xx; the first one that is not stops the run (exit 1), and the next run starts again there.
    """
    # deferred: hmac, hashlib and the report package add ~12 ms to every command's start-up

    from modelreg.ops.notify import (
        NotifyFailed,  # every operation: ~45 ms that `--help` and completion never pay (measured)
    )

    reg = open_registry(fetch, remote, repo)
    try:
        result = reg.notify(
            url=url,
            format=format_,
            secret_env=secret_env,
            events=events,
            since=since,
            state=state,
            timeout=timeout,
            retries=retries,
        )
    except NotifyFailed as exc:
        _show(exc.result, json_, failed=True)
        raise
    _show(result, json_)


def _show(result: "NotifyResult", json_: bool, failed: bool = False) -> None:
    warn(result.warnings)
    if json_:
        json_out(_json(result))
        return
    for sent in result.sent:
        line(f"Sent {sent.tag} to {sent.destination}: {sent.summary}")
    if not result.sent and not failed:
        line("Nothing new to announce")


def _json(result: "NotifyResult") -> dict[str, Any]:
    return {
        "sent": [
            {
                "destination": s.destination,
                "tag": s.tag,
                "event": s.event,
                "summary": s.summary,
                "status": s.status,
                "attempts": s.attempts,
            }
            for s in result.sent
        ],
        "skipped": result.skipped,
        "state": str(result.state) if result.state is not None else None,
        "warnings": list(result.warnings),
    }
