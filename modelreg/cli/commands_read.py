"""The read commands as Typer sees them: their help and options. The work is in reads.py.

`modelreg.cli.lean` answers the common forms of these commands without loading Typer; a test
holds its table of options to the ones declared here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelreg.cli import reads
from modelreg.cli.options import FetchOpt, JsonOpt, NameArg, RefArg, RemoteOpt, RepoOpt, app


@app.command("list")
def list_(fetch: FetchOpt = False, remote: RemoteOpt = None, repo: RepoOpt = None, json_: JsonOpt = False) -> None:
    """List models with their latest version, stage holders and aliases: `modelreg list`.

    In a pipe: tab-separated rows with a header, every value whole (`modelreg list | cut -f1`).
    """
    reads.list_models(fetch, remote, repo, json_)


@app.command()
def show(
    ref: RefArg, fetch: FetchOpt = False, remote: RemoteOpt = None, repo: RepoOpt = None, json_: JsonOpt = False
) -> None:
    """Show a version's manifest, stage and aliases: `modelreg show fraud-detector@champion`."""
    reads.show(ref, fetch, remote, repo, json_)


@app.command()
def history(
    name: NameArg, fetch: FetchOpt = False, remote: RemoteOpt = None, repo: RepoOpt = None, json_: JsonOpt = False
) -> None:
    """The model's registrations and stage/alias events, oldest first: `modelreg history fraud-detector`.

    Ordered by seq, never by clock; dates are ISO 8601 in UTC.

    A terminal shows the newest rows of a long history; a pipe and --json get them all.
    """
    reads.history(name, fetch, remote, repo, json_)


@app.command()
def resolve(
    ref: RefArg, fetch: FetchOpt = False, remote: RemoteOpt = None, repo: RepoOpt = None, json_: JsonOpt = False
) -> None:
    """Print the version a reference points at: `modelreg resolve fraud-detector@champion`."""
    reads.resolve(ref, fetch, remote, repo, json_)


@app.command()
def pull(
    ref: RefArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Directory to place the artifact in (default: ./NAME-vN); it must not exist or be empty.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace what is at --output (a file or a directory), atomically."),
    ] = False,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Read the blobs from this store URL instead of the store of record (the config's on main). "
            "A URL a manifest names is never contacted.",
            show_default=False,
        ),
    ] = None,
    fetch: FetchOpt = False,
    remote: RemoteOpt = None,
    repo: RepoOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Download a version's artifact, verify it and place it: `modelreg pull fraud-detector/production -o serving/`.

    The blobs come from the store of record, and every byte is hashed against the digest the
    version tag records before anything is placed.
    """
    reads.pull(ref, output, store, fetch, remote, repo, json_, force)


@app.command("check-ref")
def check_ref(
    ref: Annotated[
        str, typer.Argument(help="A tag name (NAME@vN, NAME#TARGET#SEQ) or refs/tags/….", show_default=False)
    ],
    fetch: FetchOpt = False,
    remote: RemoteOpt = None,
    repo: RepoOpt = None,
    github_output: Annotated[
        Path | None,
        typer.Option(
            "--github-output",
            help='Append the facts to this file as GitHub step outputs (pass "$GITHUB_OUTPUT").',
            show_default=False,
        ),
    ] = None,
    env: Annotated[
        bool,
        typer.Option("--env", help="Print MODELREG_KEY=value lines (for $GITHUB_ENV or a GitLab dotenv report)."),
    ] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON (the default).")] = False,
) -> None:
    """Describe a tag for a deploy job: `modelreg check-ref "fraud-detector#production#3" --env > model.env`.

    Which model, version, stage or alias, artifact. --env lines are quoted for a POSIX shell (`. ./model.env`).

    The facts: tag, model, version, ref (NAME@vN, to pull), action, kind, target, stage, alias,
    seq, digest, store, actor, date, request, approved_by, and current (whether the event is
    still in effect). Exits 4 when the tag does not verify: no claim ref, a review-required
    stage without a merged request, or a missing or unallowed signature when signing is required.
    The ref text is only parsed, never run through a shell.
    """
    reads.check_ref(ref, fetch, remote, repo, github_output, env, json_)
