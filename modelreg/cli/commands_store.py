"""`modelreg store …`: the artifact store of record (move it with a verified migration)."""

# No `from __future__ import annotations` here: Typer reads every command's annotations to build `--help`, and
# string annotations cost an eval each (8 ms of every `--help`, measured).

from typing import Annotated

import typer

from modelreg.cli.options import JsonOpt, PushOpt, RemoteOpt, app
from modelreg.cli.output import json_out, line, progress, warn
from modelreg.cli.registry import open_registry
from modelreg.core.sizes import size

store_app = typer.Typer(
    help="The artifact store: move every blob to another with `modelreg store migrate s3://bucket/registry`.",
    no_args_is_help=True,
)
app.add_typer(store_app, name="store")


@store_app.command("migrate")
def migrate(
    url: Annotated[str, typer.Argument(help="The new store: s3://…, gs://…, az://…, git:, a path.", metavar="URL")],
    push: PushOpt = None,
    remote: RemoteOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Copy every blob to URL, verify each copy there, then commit the config naming it: `modelreg store migrate s3://b/r`."""
    with progress() as bar:
        result = open_registry().migrate_store(url, push=push, remote=remote, progress=bar)
    warn(result.warnings)
    if json_:
        json_out(
            {
                "from": result.source,
                "store": result.store,
                "blobs": result.blobs,
                "copied": result.copied,
                "bytes": result.bytes,
                "commit": result.commit,
                "warnings": list(result.warnings),
            }
        )
        return
    commit = (result.commit or "")[:12]
    line(
        f"Copied {result.copied} of {result.blobs} blobs ({size(result.bytes)}) from {result.source} to "
        f"{result.store}, each verified there; commit {commit} names {result.store} in .modelreg/config.yaml"
    )
