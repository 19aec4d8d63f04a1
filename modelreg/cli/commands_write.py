"""Commands that write: init, register, promote, alias, rollback, update; and diff."""

# No `from __future__ import annotations` here: Typer reads every command's annotations to build `--help`, and
# string annotations cost an eval each (8 ms of every `--help`, measured).

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from modelreg.cli import completion
from modelreg.cli.grammar import alias_operands, two_versions, versioned
from modelreg.cli.options import (
    BranchOpt,
    JsonOpt,
    NameArg,
    PairsOpt,
    PushOpt,
    ReasonOpt,
    RemoteOpt,
    RequestBranchOpt,
    RequestOpt,
    SignOpt,
    VersionedArg,
    alias_app,
    app,
    write_args,
)
from modelreg.cli.output import console, event_out, json_out, line, progress, say, table, terminal, warn
from modelreg.cli.registry import open_registry
from modelreg.core.refs import parse_version
from modelreg.core.values import parse_pairs
from modelreg.display import jsonview, plain, resultviews
from modelreg.errors import InvalidInputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from modelreg.api import Registry  # see cli.registry: loaded only by commands that open one


@app.command()
def init(
    store: Annotated[
        str | None,
        typer.Option(
            help="Artifact store URL (s3://…, gs://…, az://…, a path). Default: git: (blobs under refs of this "
            "repository, pushed with the registry's refs)."
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Create .modelreg/config.yaml in this git repository and commit it: `modelreg init --store s3://bucket/reg`."""
    from modelreg.api import Registry  # every operation: ~45 ms that `--help` and completion never pay (measured)

    result = Registry.init(Path.cwd(), store)
    if json_:
        json_out(resultviews.init_json(result))
        return
    line(f"Initialised a registry in {result.root} (store: {result.store})")
    if store is None:
        say(
            "hint: blobs go into this repository's git objects and travel with `--push`; hosts cap object "
            "sizes, so move to an object store when models grow: `modelreg store migrate s3://bucket/registry`"
        )


@app.command()
def register(
    name: NameArg,
    path: Annotated[Path, typer.Argument(help="The artifact: a file or a directory.", show_default=False)],
    param: Annotated[PairsOpt, typer.Option("--param", "-p", help="KEY=VALUE training parameter (repeatable).")] = None,
    metric: Annotated[PairsOpt, typer.Option("--metric", "-m", help="KEY=VALUE metric (repeatable).")] = None,
    tag: Annotated[PairsOpt, typer.Option("--tag", "-t", help="KEY=VALUE label (repeatable).")] = None,
    description: Annotated[str, typer.Option("--description", "-d", help="What this version is.")] = "",
    dataset: Annotated[str | None, typer.Option(help="Dataset version or URI it was trained on.")] = None,
    run_id: Annotated[
        str | None, typer.Option("--run-id", help="Training run id (e.g. an experiment tracker's).")
    ] = None,
    parent: Annotated[str | None, typer.Option(help="Reference of the version it was fine-tuned from.")] = None,
    hardware: Annotated[str | None, typer.Option(help="Training hardware, e.g. '1x A100'.")] = None,
    duration_s: Annotated[float | None, typer.Option("--duration-s", help="Training time in seconds.")] = None,
    store: Annotated[str | None, typer.Option(help="Store URL for this version (default: the config's).")] = None,
    push: PushOpt = None,
    remote: RemoteOpt = None,
    branch: BranchOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Register a new version: `modelreg register fraud-detector model.pkl --metric auc=0.92`.

    Hashes and stores the artifact, commits its manifest, tags NAME@vN. Each KEY may be given once.

    Values given as KEY=VALUE become numbers or booleans when they read as one.
    Only the new manifest is committed; your other changes stay as they are.
    """
    reg = open_registry()
    params, metrics, tags = (
        parse_pairs(param or [], "--param"),
        parse_pairs(metric or [], "--metric"),
        parse_pairs(tag or [], "--tag"),
    )
    with progress() as bar:
        mv = reg.register(
            name,
            path,
            params=params,
            metrics=metrics,
            tags=tags,
            description=description,
            dataset=dataset,
            run_id=run_id,
            parent=parent,
            hardware=hardware,
            duration_s=duration_s,
            store=store,
            progress=bar,
            push=push,
            remote=remote,
            branch=branch,
        )
    warn(mv.warnings)
    if json_:
        json_out(jsonview.version_json(mv, reg.context.policy_commit))
        return
    line(f"Registered {mv.name} v{mv.version} ({mv.digest})")


PROMOTE_USAGE = "NAME@VERSION STAGE (or NAME VERSION STAGE)"


@app.command()
def promote(
    ref: VersionedArg,
    operands: Annotated[
        list[str],
        typer.Argument(
            metavar="[VERSION] STAGE",
            help="The stage to assign (e.g. staging, production; any case), after the version if NAME has none.",
            show_default=False,
            autocompletion=completion.operands,
        ),
    ],
    keep_existing: Annotated[
        bool, typer.Option("--keep-existing", help="Leave the stage's current holder in place instead of archiving it.")
    ] = False,
    reason: ReasonOpt = None,
    request: RequestOpt = False,
    branch: RequestBranchOpt = None,
    push: PushOpt = None,
    remote: RemoteOpt = None,
    sign: SignOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Assign a stage to a version (one event tag NAME#STAGE#SEQ): `modelreg promote fraud-detector@2 production`.

    For single-holder stages (production by default) the previous holder is archived.
    Stages under review_required take --request: the change is proposed on a branch, reviewed as a
    pull request, and applied by `modelreg apply` once merged.
    """
    reg = open_registry()
    name, number, (stage,) = versioned(reg, [ref, *operands], 1, PROMOTE_USAGE)
    if request:
        _no_sign_for_request(sign)
        created = reg.request(
            name,
            number,
            stage,
            keep_existing=keep_existing,
            reason=reason,
            branch=branch,
            push=push,
            remote=remote,
        )
        _report_request(reg, created, json_)
        return
    if branch is not None:
        raise InvalidInputError("--branch goes with --request (a direct promotion commits nothing)")
    event = reg.promote(name, number, stage, keep_existing=keep_existing, **write_args(reason, push, remote, sign))
    event_out(event, json_)


def _no_sign_for_request(sign: bool | None) -> None:
    if sign:
        raise InvalidInputError("--sign goes with `modelreg apply`, which writes the event once the request is merged")


def _report_request(reg: "Registry", created: Any, json_: bool) -> None:
    remote = created.pushed_to or reg.config.remote
    push_command = f"git push -u {remote} {created.branch}"
    if json_:
        json_out(resultviews.request_created_json(created, None if created.pushed_to else push_command))
        return
    say(f"Requested {created.request.label} as {created.request.id}, on branch {created.branch}")
    if created.pushed_to:
        say(f"Pushed {created.branch} to {created.pushed_to}: open a pull request from it.")
    else:
        say(f"Push it, then open a pull request with the body below:\n  {push_command}")
    sys.stdout.write(created.body)


ALIAS_USAGE = "NAME@VERSION ALIAS (or NAME VERSION ALIAS)"


@alias_app.command("set")
def alias_set(
    ref: VersionedArg,
    operands: Annotated[
        list[str],
        typer.Argument(
            metavar="[VERSION] ALIAS",
            help="The alias, e.g. champion, after the version if NAME has none (NAME ALIAS VERSION works too).",
            show_default=False,
            autocompletion=completion.operands,
        ),
    ],
    reason: ReasonOpt = None,
    request: RequestOpt = False,
    branch: RequestBranchOpt = None,
    push: PushOpt = None,
    remote: RemoteOpt = None,
    sign: SignOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Point ALIAS at a version, moving it if it points elsewhere: `modelreg alias set fraud-detector@2 champion`."""
    reg = open_registry()
    name, number, (alias,) = versioned(reg, alias_operands([ref, *operands]), 1, ALIAS_USAGE)
    if request:
        _no_sign_for_request(sign)
        created = reg.request(name, number, alias, kind="alias", reason=reason, branch=branch, push=push, remote=remote)
        _report_request(reg, created, json_)
        return
    if branch is not None:
        raise InvalidInputError("--branch goes with --request (moving an alias directly commits nothing)")
    event = reg.set_alias(name, alias, number, **write_args(reason, push, remote, sign))
    event_out(event, json_)


@alias_app.command("rm")
def alias_rm(
    name: NameArg,
    alias: Annotated[str, typer.Argument(help="Alias to remove.", show_default=False)],
    reason: ReasonOpt = None,
    push: PushOpt = None,
    remote: RemoteOpt = None,
    sign: SignOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Remove an alias: `modelreg alias rm fraud-detector champion`."""
    event_out(open_registry().remove_alias(name, alias, **write_args(reason, push, remote, sign)), json_)


@app.command()
def rollback(
    name: NameArg,
    stage: Annotated[str | None, typer.Option(help="Stage to roll back (default: production).")] = None,
    alias: Annotated[str | None, typer.Option(help="Alias to roll back instead of a stage.")] = None,
    to: Annotated[str | None, typer.Option(help="Version to return to (default: the previous holder).")] = None,
    reason: ReasonOpt = None,
    push: PushOpt = None,
    remote: RemoteOpt = None,
    sign: SignOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Give a stage (or alias) back to the version that held it before: `modelreg rollback fraud-detector`.

    Rolling back twice walks further back; the rollback is itself an event in the history.
    A review-required stage can be rolled back directly only to a version that held it before.
    """
    event = open_registry().rollback(
        name,
        stage=stage,
        alias=alias,
        to=parse_version(to) if to else None,
        **write_args(reason, push, remote, sign),
    )
    event_out(event, json_)


DIFF_USAGE = "REF REF (e.g. NAME@1 NAME/production) or NAME VERSION VERSION"


@app.command()
def diff(
    operands: Annotated[
        list[str],
        typer.Argument(
            metavar="REF REF | NAME A B",
            help="Two references to versions of one model (NAME@1 NAME/production), or NAME and two version numbers.",
            show_default=False,
            autocompletion=completion.refs,
        ),
    ],
    json_: JsonOpt = False,
) -> None:
    """Compare two versions' params, metrics and digest: `modelreg diff fraud-detector@1 fraud-detector/production`."""
    reg = open_registry()
    result = reg.diff(*two_versions(reg, operands, DIFF_USAGE))
    if json_:
        json_out(jsonview.diff_json(result))
        return
    if terminal():
        from modelreg.display import render  # Rich: ~30 ms of start-up (measured), paid only on a terminal

        render.diff_table(console(), result)
    else:
        table(plain.diff_table(result))


UPDATE_USAGE = "NAME@VERSION (or NAME VERSION)"


@app.command()
def update(
    ref: VersionedArg,
    version: Annotated[
        str | None, typer.Argument(metavar="[VERSION]", help="The version, if NAME has none.", show_default=False)
    ] = None,
    description: Annotated[str | None, typer.Option("--description", "-d", help="New description.")] = None,
    tag: Annotated[PairsOpt, typer.Option("--tag", "-t", help="KEY=VALUE label to set (repeatable).")] = None,
    remove_tag: Annotated[PairsOpt, typer.Option("--remove-tag", help="Label key to remove (repeatable).")] = None,
    reason: ReasonOpt = None,
    push: PushOpt = None,
    remote: RemoteOpt = None,
    branch: BranchOpt = None,
    sign: SignOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Edit a version's description or tags: `modelreg update fraud-detector@2 -d "Retrained on May data"`.

    They are the only fields that may change after registration. The change is one commit and one
    event, NAME#_update#SEQ, published together: `history` shows who changed what, and why.
    Example: modelreg update fraud-detector 7 -t reviewed=yes --reason "passed the fairness review"
    """
    reg = open_registry()
    name, number, _ = versioned(reg, [ref, version], 0, UPDATE_USAGE)
    result = reg.update(
        name,
        number,
        description=description,
        tags=parse_pairs(tag or [], "--tag"),
        remove_tags=tuple(remove_tag or ()),
        branch=branch,
        **write_args(reason, push, remote, sign),
    )
    warn(result.warnings)
    manifest = result.manifest
    if json_:
        json_out(jsonview.manifest_json(manifest))
        return
    if result.commit is None:
        line(f"{name} v{number} already has that description and those tags: nothing to commit")
    else:
        line(f"Updated {manifest.name} v{manifest.version}" + (f"  [tag {result.event.tag}]" if result.event else ""))
