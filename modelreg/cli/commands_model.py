"""Commands about a whole model: retire, unretire, describe. Each writes an event (see modelreg.ops.lifecycle)."""

from __future__ import annotations

from typing import Annotated

import typer

from modelreg.cli.options import JsonOpt, NameArg, PairsOpt, PushOpt, RemoteOpt, SignOpt, app, write_args
from modelreg.cli.output import event_out
from modelreg.cli.reads import open_registry
from modelreg.core.values import parse_pairs

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
