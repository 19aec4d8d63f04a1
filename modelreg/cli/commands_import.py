"""`modelreg import mlflow` and `modelreg import gto`: bring an existing registry over."""

# No `from __future__ import annotations` here: Typer reads every command's annotations to build `--help`, and
# string annotations cost an eval each (8 ms of every `--help`, measured).

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from modelreg.cli.options import JsonOpt, app
from modelreg.cli.output import console, json_out, line, say
from modelreg.cli.registry import open_registry
from modelreg.core.values import parse_pairs
from modelreg.display import resultviews

if TYPE_CHECKING:
    from modelreg.display.render import CountProgress
    from modelreg.results import ImportReport  # annotations only: ~1.6 ms of `--help` (measured)

import_app = typer.Typer(
    help="Bring an existing registry over: MLflow's model registry, or a GTO repository.\n\n"
    "Example: `modelreg import mlflow --tracking-uri sqlite:///mlflow.db --dry-run`",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")


@contextmanager
def per_model_bar() -> "Iterator[CountProgress | None]":
    """One bar per model (versions imported of its total) on a terminal; None otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from modelreg.display.render import CountProgress  # Rich: only on a terminal

    bar = CountProgress(console(stderr=True))
    try:
        yield bar
    finally:
        bar.close()


DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="List what it would write; write nothing.")]


@import_app.command("mlflow")
def import_mlflow(
    names: Annotated[
        list[str] | None, typer.Argument(help="MLflow registered model names (default: every one).", show_default=False)
    ] = None,
    tracking_uri: Annotated[
        str | None, typer.Option("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI).")
    ] = None,
    registry_uri: Annotated[
        str | None,
        typer.Option("--registry-uri", help="MLflow registry URI, when it is not the tracking URI."),
    ] = None,
    dry_run: DryRunOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Import MLflow's registered models: versions (bytes copied into the store and verified), run params,
    metrics and git commit, descriptions, version tags, current stages and aliases.

    Each event records "imported from MLflow" with the original user and time. Running it again
    changes nothing; a later run imports only what is new.

    Example: `modelreg import mlflow --tracking-uri sqlite:///mlflow.db fraud-detector`
    """
    reg = open_registry()
    with per_model_bar() as bar:
        report = reg.import_mlflow(
            names or (), tracking_uri=tracking_uri, registry_uri=registry_uri, dry_run=dry_run, progress=bar
        )
    _report(report, json_)


@import_app.command("gto")
def import_gto(
    repo: Annotated[str, typer.Option("--repo", help="The GTO repository (a local path).")] = ".",
    stage: Annotated[
        list[str] | None,
        typer.Option("--stage", help="GTO_STAGE=STAGE: map a GTO stage onto a configured one (repeatable)."),
    ] = None,
    dry_run: DryRunOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Import a GTO repository's artifacts: NAME@vX.Y.Z registrations, NAME#STAGE#N assignments,
    unassignments, deregistrations and deprecations, in order, with their authors and dates.

    Bytes come from the path (or DVC output) artifacts.yaml gives, at the registered commit; a
    version whose bytes are not there records where they were, and `pull` says why it has none.

    Example: `modelreg import gto --repo ../models --stage prod=production`
    """
    mapping = {k: str(v) for k, v in parse_pairs(stage or [], "--stage").items()}
    reg = open_registry()
    with per_model_bar() as bar:
        report = reg.import_gto(repo, stage_map=mapping, dry_run=dry_run, progress=bar)
    _report(report, json_)


def _report(report: "ImportReport", json_: bool) -> None:
    if json_:
        json_out(resultviews.import_json(report))
        return
    verb = "would register" if report.dry_run else "registered"
    for row in report.registered:
        line(f"{verb} {row['name']} v{row['version']} ({row['from']})")
    for row in report.events:
        change = f"{row['name']} v{row['version']} {row['action']} {row['kind']} {row['target']}"
        line(
            f"{'would write' if report.dry_run else 'wrote'} {row['tag'] or change}"
            + (f" ({change})" if row["tag"] else "")
        )
    for skipped in report.skipped:
        say(f"not mapped: {skipped}")
    line(
        f"{report.source}: {len(report.registered)} version(s) and {len(report.events)} event(s) "
        f"{'to import' if report.dry_run else 'imported'}; {report.already} already here"
    )
