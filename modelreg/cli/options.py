"""The Typer app and the argument and option types its commands share."""

# No `from __future__ import annotations` here: Typer reads every command's annotations to build `--help`, and
# string annotations cost an eval each (8 ms of every `--help`, measured).

from typing import Annotated

import typer

from modelreg.cli import completion
from modelreg.cli.helporder import HelpOrderGroup
from modelreg.publish.options import WriteArgs
from modelreg.version import __version__

app = typer.Typer(
    name="modelreg",
    help="A git-native model registry: versions, stages and aliases as git tags, artifacts by content hash.\n\n"
    "Versions are named one way everywhere: NAME@7 or NAME 7, NAME@champion, NAME/production "
    "(stages in any case), e.g. `modelreg promote fraud-detector@2 production`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=HelpOrderGroup,
)
alias_app = typer.Typer(
    help="Point an alias such as champion at a version, or remove it: `modelreg alias set fraud-detector@2 champion`.",
    no_args_is_help=True,
)
app.add_typer(alias_app, name="alias")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"modelreg {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print modelreg's version and exit.", is_eager=True, callback=_version),
    ] = False,
) -> None:
    pass


JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
ReasonOpt = Annotated[str | None, typer.Option("--reason", "-r", help="Why: recorded in the event tag.")]
NameArg = Annotated[
    str, typer.Argument(help="Model name, e.g. fraud-detector.", show_default=False, autocompletion=completion.names)
]
RefArg = Annotated[
    str,
    typer.Argument(
        help="Reference: NAME, NAME@7, NAME@champion, NAME/production, models:/NAME/Production.",
        show_default=False,
        autocompletion=completion.refs,
    ),
]
VersionedArg = Annotated[
    str,
    typer.Argument(
        metavar="NAME[@VERSION]",
        help="The model, with its version as NAME@7 (or give the version next: NAME 7); "
        "NAME@champion and NAME/staging name a version too.",
        show_default=False,
        autocompletion=completion.refs,
    ),
]
VersionArg = Annotated[str, typer.Argument(help="Version number, e.g. 7 or v7.", show_default=False)]
PairsOpt = list[str] | None
PushOpt = Annotated[
    bool | None,
    typer.Option(
        "--push/--no-push",
        help="Push the write to the remote in one atomic push, redone on top of "
        "other writers' work if they got there first (default: the config's `push`).",
    ),
]
RemoteOpt = Annotated[
    str | None, typer.Option("--remote", help="Git remote to use (default: the config's, or origin).")
]
BranchOpt = Annotated[
    str | None,
    typer.Option(
        "--branch",
        help="Commit the manifest to this branch instead of the checked-out one "
        "(for CI on a detached HEAD; with --push it need not exist locally).",
    ),
]
RepoOpt = Annotated[
    str | None,
    typer.Option(
        "--repo",
        help="Read the registry at this git URL without cloning it: only the model's tags "
        "and manifests are fetched, into a cache.",
    ),
]
SignOpt = Annotated[
    bool | None,
    typer.Option(
        "--sign/--no-sign",
        help="Sign the event tag with your git signing key (SSH or GPG; default: the config's require_signed).",
    ),
]
RequestOpt = Annotated[
    bool,
    typer.Option(
        "--request",
        help="Do not change it now: commit a request for review on a new branch and print the pull request's body.",
    ),
]
RequestBranchOpt = Annotated[
    str | None,
    typer.Option("--branch", help="With --request: the new branch (default: modelreg/request/<id>)."),
]
AtOpt = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="As the registry was then: an ISO 8601 date (the end of that day, UTC) or datetime, a modelreg tag "
        "(just after that event) or a git revision (its commit date). Decided by event order, not clocks.",
        show_default=False,
    ),
]
FetchOpt = Annotated[
    bool, typer.Option("--fetch", help="First bring the registry's tags up to date from the remote (see `fetch`).")
]


def write_args(reason: str | None, push: bool | None, remote: str | None, sign: bool | None) -> WriteArgs:
    """The options every write command takes, as the Registry's write methods take them (`**write_args(...)`)."""
    return {"reason": reason, "push": push, "remote": remote, "sign": sign}
