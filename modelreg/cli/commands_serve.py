"""`modelreg sync`: the serving side's command. The work is in modelreg.serving."""

# No `from __future__ import annotations` here: Typer reads every command's annotations to build `--help`, and
# string annotations cost an eval each (8 ms of every `--help`, measured).

import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from modelreg.cli.options import JsonOpt, RefArg, RepoOpt, app
from modelreg.display.resultviews import sync_record_json
from modelreg.errors import ExitCode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from modelreg.results import Record  # the results module: ~1.6 ms of `--help` (measured)


@app.command()
def sync(
    ref: RefArg,
    dest: Annotated[
        Path,
        typer.Option(
            "--dest", help="The serving directory: DIR/current is the version, DIR/current.json describes it."
        ),
    ],
    repo: RepoOpt = None,
    interval: Annotated[
        str, typer.Option("--interval", help="How often to ask whether anything changed (30s, 500ms, 2m).")
    ] = "30s",
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            help="One round, then exit: 0 when DIR/current holds the reference's version, 4 when the policy "
            "or verification refused it, 1 when it could not be found or the remote could not be reached.",
        ),
    ] = False,
    exec_: Annotated[
        str | None,
        typer.Option(
            "--exec",
            help="Run this command after each change (split like a shell would, never run by one), with the "
            "MODELREG_* variables of `check-ref --env` plus MODELREG_PATH and MODELREG_DIR. A failure is "
            "logged and retried next round; the change stays.",
            show_default=False,
        ),
    ] = None,
    touch: Annotated[
        Path | None,
        typer.Option(
            "--touch",
            help="Touch this file after each change (created if missing), for servers that reload on it "
            "(e.g. uWSGI's touch-reload).",
            show_default=False,
        ),
    ] = None,
    keep: Annotated[
        int, typer.Option("--keep", help="Versions to keep in DIR/versions for instant rollback (current included).")
    ] = 2,
    notify: Annotated[
        str | None,
        typer.Option(
            "--notify",
            metavar="URL",
            help="After each change, post which version this host now serves to this URL (a webhook, or a "
            "chat's with --notify-format); a failure is logged, the change stays.",
            show_default=False,
        ),
    ] = None,
    notify_format: Annotated[
        str, typer.Option("--notify-format", help="With --notify: json, slack or teams.")
    ] = "json",
    notify_secret_env: Annotated[
        str | None,
        typer.Option(
            "--notify-secret-env",
            metavar="VAR",
            help="With --notify: sign each body with the secret in this environment variable (as `notify` does).",
            show_default=False,
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Keep DIR/current on the version REF names, verified, following promotions and rollbacks.

    Each round asks the git remote only whether this model's deciding refs moved (about 1 KiB
    with --repo); on a change it resolves REF under the registry's policy (as `check-ref`
    does), pulls the version verified into DIR/versions/, and swaps the DIR/current symlink in
    one rename. Nothing that fails verification or the policy is ever swapped in: the current
    version stays, and the reason is logged. Errors back off exponentially (with jitter).
    SIGTERM stops it cleanly. One log line per change, JSON lines with --json.

    Example: `modelreg sync fraud-detector/production --dest /models --repo https://git.example.com/ml/registry.git`

    Init container: add --once. The app reads DIR/current (re-open it on change: watch
    DIR/current.json, touch a file with --touch, or signal it with --exec).
    """
    from modelreg.serving import plan  # with json, ~2 ms that `--help` never pays (measured)

    seconds = plan.parse_duration(interval)
    on_change = None
    if notify is not None:
        from modelreg.serving.announce import announcer  # deferred: hmac and hashlib, ~13 ms

        on_change = announcer(notify, notify_format, notify_secret_env)
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        from modelreg.serving.loop import (
            sync as run_sync,  # every operation: ~45 ms that `--help` and completion never pay (measured)
        )

        result = run_sync(
            ref,
            dest,
            repo=repo,
            path=Path.cwd(),
            interval=seconds,
            once=once,
            exec_=exec_,
            keep=keep,
            touch=touch,
            on_change=on_change,
            on_record=lambda record: _log(record, json_),
            stop=stop,
        )
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if result.stopped and received and received[-1] == signal.SIGINT:
        raise typer.Exit(ExitCode.INTERRUPTED)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def _log(record: "Record", json_: bool) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if json_:
        import json  # see sync

        sys.stdout.write(json.dumps(sync_record_json(record, now), ensure_ascii=False) + "\n")
        sys.stdout.flush()
        return
    retry = f" (retrying in {record.retry_in:.1f} s)" if record.retry_in is not None else ""
    stream = sys.stdout if record.kind in ("swap", "hook", "pruned", "cleaned") else sys.stderr
    stream.write(f"{now} {record.kind}: {record.message}{retry}\n")
    stream.flush()
