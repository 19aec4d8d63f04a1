"""Commands about a whole model: retire, unretire, describe, delete, rename. Each writes events (see modelreg.ops)."""

# No `from __future__ import annotations` here: Typer reads every command's annotations to build `--help`, and
# string annotations cost an eval each (8 ms of every `--help`, measured).

from typing import Annotated

import typer

from modelreg.cli.options import JsonOpt, NameArg, PairsOpt, PushOpt, ReasonOpt, RemoteOpt, SignOpt, app, write_args
from modelreg.cli.output import event_out, json_out, line, warn
from modelreg.cli.registry import open_registry
from modelreg.core.names import reference_text
from modelreg.core.refs import parse_ref
from modelreg.core.values import parse_pairs
from modelreg.display.resultviews import rename_json
from modelreg.errors import InvalidInputError

RequiredReason = Annotated[
    str, typer.Option("--reason", "-r", help="Why (required): recorded in the event tag.", show_default=False)
]


@app.command()
def retire(
    name: NameArg,
    reason: RequiredReason,
    push: PushOpt = None,
    remote: RemoteOpt = None,
    sign: SignOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Retire a model: its stages, aliases and latest stop resolving; NAME@N still resolves, for audits.

    Written as the event tag NAME#_retire#SEQ (with its claim ref, signed when the registry requires it).
    `list` shows the model as retired; check-ref answers for its stage and alias tags are no longer current.
    Example: `modelreg retire fraud-detector --reason "replaced by fraud-detector-v2"`
    """
    event_out(open_registry().retire(name, **write_args(reason, push, remote, sign)), json_)


@app.command()
def unretire(
    name: NameArg,
    reason: RequiredReason,
    push: PushOpt = None,
    remote: RemoteOpt = None,
    sign: SignOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Return a retired model to service: its stages and aliases resolve again, as they were before.

    Written as the event tag NAME#_unretire#SEQ. Example: `modelreg unretire fraud-detector --reason "rollback"`
    """
    event_out(open_registry().unretire(name, **write_args(reason, push, remote, sign)), json_)


@app.command()
def describe(
    name: NameArg,
    reason: RequiredReason,
    description: Annotated[
        str | None, typer.Option("--description", "-d", help="The model's description.", show_default=False)
    ] = None,
    tag: Annotated[PairsOpt, typer.Option("--tag", "-t", help="KEY=VALUE model tag to set (repeatable).")] = None,
    remove_tag: Annotated[PairsOpt, typer.Option("--remove-tag", help="Model tag key to remove (repeatable).")] = None,
    push: PushOpt = None,
    remote: RemoteOpt = None,
    sign: SignOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Set the model's own description and tags (not a version's: see `update`), as an event.

    Written as NAME#_describe#SEQ; `list --json` shows them, `history` shows who changed them and why.
    Example: `modelreg describe fraud-detector -d "Card fraud scoring" -t owner=risk-team --reason "handover"`
    """
    event = open_registry().describe(
        name,
        description=description,
        tags=parse_pairs(tag or [], "--tag"),
        remove_tags=tuple(remove_tag or ()),
        **write_args(reason, push, remote, sign),
    )
    event_out(event, json_)


@app.command()
def delete(
    target: Annotated[str, typer.Argument(help="NAME@N (one version) or NAME (the whole model).", show_default=False)],
    reason: RequiredReason,
    push: PushOpt = None,
    remote: RemoteOpt = None,
    sign: SignOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Delete a version, or a whole model, as a tombstone event; history keeps what was deleted.

    Written as NAME#_delete#SEQ (who, when, why): the version (or every version of the model) no longer resolves,
    lists or holds a stage or alias; its version tag and manifest stay, `history` shows both. Numbers are never
    reused. Example: `modelreg delete fraud-detector@3 --reason "trained on leaked labels"`
    """
    ref = parse_ref(target)
    if ref.version is None and target.strip() not in (ref.name, reference_text(ref.name)):
        raise InvalidInputError(f"delete takes NAME@N (one version) or NAME (the whole model), not {target!r}")
    event = open_registry().delete(ref.name, ref.version, **write_args(reason, push, remote, sign))
    event_out(event, json_)


@app.command()
def rename(
    old: Annotated[str, typer.Argument(help="The model's name now.", show_default=False)],
    new: Annotated[str, typer.Argument(help="Its new name: no model may hold it.", show_default=False)],
    reason: ReasonOpt = None,
    push: PushOpt = None,
    remote: RemoteOpt = None,
    sign: SignOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Rename a model (MLflow's rename_registered_model): nothing is rewritten, everything is written together.

    Its versions are registered again as NEW@vN (same numbers and bytes, manifests naming NEW), its stages, aliases,
    description and tags given back as NEW's events (NEW#_create#SEQ, with OLD's creation time, for a model with no
    version yet), and OLD#_delete#SEQ says it was renamed to NEW: OLD no longer resolves or lists, `history` of
    either name shows the rename. Refused for a retired model, one with deleted versions, or one holding a
    review-required stage. Example: `modelreg rename churn attrition`
    """
    result = open_registry().rename(old, new, **write_args(reason, push, remote, sign))
    if json_:
        json_out(rename_json(result))
        return
    if result.created is not None:
        event_out(result.created, False)
    if result.versions:
        line(f"{result.new}: v{', v'.join(map(str, result.versions))} registered again (renamed from {result.old})")
    event_out(result.deleted, False)
    warn(result.warnings)
