"""The read commands as Typer sees them: their help and options. The work is in reads.py.

`modelreg.cli.lean` answers the common forms of these commands without loading Typer; a test
holds its table of options to the ones declared here.
"""

# No `from __future__ import annotations` here: Typer reads every command's annotations to build `--help`, and
# string annotations cost an eval each (8 ms of every `--help`, measured).

from pathlib import Path
from typing import Annotated

import typer

from modelreg.cli import reads
from modelreg.cli.options import AtOpt, FetchOpt, JsonOpt, NameArg, RefArg, RemoteOpt, RepoOpt, app


@app.command("list")
def list_(
    fetch: FetchOpt = False, remote: RemoteOpt = None, repo: RepoOpt = None, json_: JsonOpt = False, at: AtOpt = None
) -> None:
    """List models with their latest version, stage holders and aliases.

    In a pipe: tab-separated rows with a header, every value whole.
    What production held on March 1: `modelreg list --at 2026-03-01`.
    """
    reads.list_models(fetch, remote, repo, json_, at)


@app.command()
def show(
    ref: RefArg,
    fetch: FetchOpt = False,
    remote: RemoteOpt = None,
    repo: RepoOpt = None,
    json_: JsonOpt = False,
    at: AtOpt = None,
) -> None:
    """Show a version's manifest, stage and aliases: `modelreg show fraud-detector@champion`.

    With --at, the reference is resolved as it was then (`show fraud-detector/production --at 2026-03-01`);
    the description and tags shown are today's.
    """
    reads.show(ref, fetch, remote, repo, json_, at)


@app.command()
def history(
    name: NameArg,
    fetch: FetchOpt = False,
    remote: RemoteOpt = None,
    repo: RepoOpt = None,
    json_: JsonOpt = False,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only entries at or after WHEN (a date, datetime, tag or revision, as --at)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Only entries at or before WHEN: those the state at WHEN replays."),
    ] = None,
) -> None:
    """The model's registrations and stage/alias events, oldest first: `modelreg history fraud-detector`.

    Ordered by seq, never by clock; dates are ISO 8601 in UTC.

    A terminal shows the newest rows of a long history; a pipe and --json get them all.
    March's entries: `modelreg history fraud-detector --since 2026-03-01 --until 2026-03-31`.
    """
    reads.history(name, fetch, remote, repo, json_, since, until)


@app.command()
def search(
    filter_: Annotated[
        str | None,
        typer.Argument(
            metavar="[FILTER]",
            help="MLflow's filter grammar: clauses joined by AND, e.g. \"metrics.auc > 0.9 AND stage = 'production'\".",
            show_default=False,
        ),
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="Search this model's versions only.")] = None,
    order_by: Annotated[
        list[str] | None,
        typer.Option(
            "--order-by",
            help="Sort key, e.g. 'metrics.auc DESC' (repeatable; default: model, then newest version first).",
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Show at most this many versions.", min=1)] = None,
    fetch: FetchOpt = False,
    remote: RemoteOpt = None,
    repo: RepoOpt = None,
    json_: JsonOpt = False,
    at: AtOpt = None,
) -> None:
    """Find versions by metric, param, tag, stage, alias, date, author, dataset or run id.

    Fields: name, version, stage, alias, created, author, dataset, run_id, metrics.KEY, params.KEY,
    tags.KEY (quote odd keys: metrics.`f1 score`). Operators: =, !=, <, <=, >, >=, LIKE, ILIKE
    (% any text, _ one character), IN (...), NOT IN (...), IS NULL, IS NOT NULL. Metrics and version
    compare with numbers, the rest with quoted strings; created with an ISO 8601 date or datetime.
    Only versions the policy admits are searched, with their current stages and aliases (with --at: those
    registered by then, with the stages and aliases of then).

    Example: `modelreg search "metrics.auc >= 0.9 and created > '2026-01-01'" --order-by "metrics.auc DESC" --limit 5`
    """
    reads.search(filter_, model, order_by, limit, fetch, remote, repo, json_, at)


@app.command()
def resolve(
    ref: RefArg,
    fetch: FetchOpt = False,
    remote: RemoteOpt = None,
    repo: RepoOpt = None,
    json_: JsonOpt = False,
    at: AtOpt = None,
) -> None:
    """Print the version a reference points at: `modelreg resolve fraud-detector@champion`.

    What served production when release v2.3 was tagged: `modelreg resolve fraud-detector/production --at v2.3`.
    """
    reads.resolve(ref, fetch, remote, repo, json_, at)


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


@app.command()
def report(
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Directory to write the site into (created, or replaced if it holds a report)."
        ),
    ],
    names: Annotated[
        list[str] | None, typer.Argument(help="Only these models (default: every model).", show_default=False)
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a non-empty directory that holds no earlier report.")
    ] = False,
    fetch: FetchOpt = False,
    remote: RemoteOpt = None,
    repo: RepoOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Write a static HTML report of the registry: `modelreg report -o site/`, then open site/index.html.

    An index of the models (current stages and aliases, last change, retired models apart) and a
    page per model: a stage timeline, metric trends across versions (production holders marked),
    the versions with params, metrics, lineage and digests, and the audit trail (who, when, why,
    who approved). Self-contained: no server, no scripts, nothing loaded from the network; it
    works from file://. It shows the state the policy of record admits, as every read does.
    The site is built beside the directory and swapped in.
    """
    reads.report(output, names or [], force, fetch, remote, repo, json_)


@app.command()
def lint(json_: JsonOpt = False) -> None:
    """Check the registry's files in this work tree: the pre-commit hook `modelreg-check`.

    The config, every manifest and request file against the schema, and every manifest against
    the copy its version tag points at: only description and tags may change after
    registration. Reads no store and no network. Exits 1 with one line per problem, naming the
    file and the field.

    Example: `modelreg lint` (or in .pre-commit-config.yaml: the hook id `modelreg-check`).
    """
    reads.lint(json_)
