"""The `modelreg` command line: parse, call the API, render. One error path to exit codes."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelreg import jsonview
from modelreg.errors import ExitCode, IntegrityError, InvalidInputError, ModelregError
from modelreg.refs import parse_ref, parse_tag_name, parse_version
from modelreg.values import parse_pairs

if TYPE_CHECKING:
    from rich.console import Console

    from modelreg.api import Registry
    from modelreg.render import BarProgress

app = typer.Typer(
    name="modelreg",
    help="A git-native model registry: versions, stages and aliases as git tags, artifacts by content hash.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
alias_app = typer.Typer(help="Point an alias such as champion at a version, or remove it.", no_args_is_help=True)
app.add_typer(alias_app, name="alias")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
ReasonOpt = Annotated[str | None, typer.Option("--reason", "-r", help="Why: recorded in the event tag.")]
NameArg = Annotated[str, typer.Argument(help="Model name, e.g. fraud-detector.", show_default=False)]
RefArg = Annotated[
    str,
    typer.Argument(
        help="Reference: NAME, NAME@7, NAME@champion, NAME/production, models:/NAME/Production.", show_default=False
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
FetchOpt = Annotated[
    bool, typer.Option("--fetch", help="First bring the registry's tags up to date from the remote (see `fetch`).")
]


def _registry(
    fetch: bool = False, remote: str | None = None, repo: str | None = None, name: str | None = None
) -> Registry:
    from modelreg.api import Registry

    if repo is not None:
        return Registry.open_url(repo, name)
    reg = Registry.open(Path.cwd())
    if fetch:
        report = reg.fetch(remote)
        if report.problems:
            raise IntegrityError(f"{report.problems[0]} (run `modelreg fetch` for the full list)")
    else:
        reg.stale_hint = True
    return reg


def _model_of(ref: str) -> str:
    return parse_ref(ref).name


def _warn(reg: Registry) -> None:
    for warning in reg.warnings:
        _say(f"warning: {warning}")


# Rich is imported only by commands that draw a table or a progress bar: start-up time matters
# in CI steps and serving start-ups, and plain lines and JSON need none of it.
@cache
def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=True)


def _line(text: str) -> None:
    sys.stdout.write(text + "\n")


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")


def _render() -> Any:
    from modelreg import render

    return render


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@contextmanager
def _progress() -> Iterator[BarProgress | None]:
    """A progress bar on stderr when it is a terminal; None (no Rich import) otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from modelreg.render import BarProgress

    bar = BarProgress(_console(stderr=True))
    try:
        yield bar
    finally:
        bar.close()


@app.command()
def init(
    store: Annotated[
        str | None,
        typer.Option(
            help="Artifact store URL (s3://…, gs://…, az://…, a path). Default: .modelreg/store, ignored by git."
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Create .modelreg/config.yaml in this git repository and commit it."""
    from modelreg.api import Registry

    result = Registry.init(Path.cwd(), store)
    if json_:
        _json(jsonview.init_json(result))
        return
    _line(f"Initialised a registry in {result.root} (store: {result.store})")
    if store is None:
        _say(
            "hint: the default store is local to this clone; point a team at shared storage with "
            "`store:` in .modelreg/config.yaml (e.g. s3://bucket/registry)"
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
    """Register a new version: hash and store the artifact, commit its manifest, tag NAME@vN.

    Values given as KEY=VALUE become numbers or booleans when they read as one.
    Only the new manifest is committed; your other changes stay as they are.
    """
    reg = _registry()
    params, metrics, tags = (
        parse_pairs(param or [], "--param"),
        parse_pairs(metric or [], "--metric"),
        parse_pairs(tag or [], "--tag"),
    )
    with _progress() as bar:
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
    _warn(reg)
    if json_:
        _json(jsonview.version_json(mv))
        return
    _line(f"Registered {mv.name} v{mv.version} ({mv.digest})")


@app.command()
def promote(
    name: NameArg,
    version: VersionArg,
    stage: Annotated[str, typer.Argument(help="Stage to assign, e.g. staging or production.", show_default=False)],
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
    """Assign a stage to a version (one event tag NAME#STAGE#SEQ).

    For single-holder stages (production by default) the previous holder is archived.
    Stages under review_required take --request: the change is proposed on a branch, reviewed as a
    pull request, and applied by `modelreg apply` once merged.
    """
    reg = _registry()
    number = parse_version(version)
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
    event = reg.promote(
        name, number, stage, keep_existing=keep_existing, reason=reason, push=push, remote=remote, sign=sign
    )
    _report_event(event, json_)


def _no_sign_for_request(sign: bool | None) -> None:
    if sign:
        raise InvalidInputError("--sign goes with `modelreg apply`, which writes the event once the request is merged")


def _report_request(reg: Registry, created: Any, json_: bool) -> None:
    remote = created.pushed_to or reg.config.remote
    push_command = f"git push -u {remote} {created.branch}"
    if json_:
        _json(jsonview.request_created_json(created, None if created.pushed_to else push_command))
        return
    _say(f"Requested {created.request.label} as {created.request.id}, on branch {created.branch}")
    if created.pushed_to:
        _say(f"Pushed {created.branch} to {created.pushed_to}: open a pull request from it.")
    else:
        _say(f"Push it, then open a pull request with the body below:\n  {push_command}")
    sys.stdout.write(created.body)


@alias_app.command("set")
def alias_set(
    name: NameArg,
    alias: Annotated[str, typer.Argument(help="Alias, e.g. champion.", show_default=False)],
    version: VersionArg,
    reason: ReasonOpt = None,
    request: RequestOpt = False,
    branch: RequestBranchOpt = None,
    push: PushOpt = None,
    remote: RemoteOpt = None,
    sign: SignOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Point ALIAS at VERSION (moving it if it points elsewhere)."""
    reg = _registry()
    number = parse_version(version)
    if request:
        _no_sign_for_request(sign)
        created = reg.request(name, number, alias, kind="alias", reason=reason, branch=branch, push=push, remote=remote)
        _report_request(reg, created, json_)
        return
    if branch is not None:
        raise InvalidInputError("--branch goes with --request (moving an alias directly commits nothing)")
    event = reg.set_alias(name, alias, number, reason=reason, push=push, remote=remote, sign=sign)
    _report_event(event, json_)


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
    """Remove an alias."""
    _report_event(_registry().remove_alias(name, alias, reason=reason, push=push, remote=remote, sign=sign), json_)


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
    """Give a stage (or alias) back to the version that held it before the current one.

    Rolling back twice walks further back; the rollback is itself an event in the history.
    A review-required stage can be rolled back directly only to a version that held it before.
    """
    event = _registry().rollback(
        name,
        stage=stage,
        alias=alias,
        to=parse_version(to) if to else None,
        reason=reason,
        push=push,
        remote=remote,
        sign=sign,
    )
    _report_event(event, json_)


def _report_event(event: Any, json_: bool) -> None:
    if json_:
        _json(jsonview.event_json(event))
        return
    _line(f"{event.subject}  [tag {event.tag}]")


@app.command("list")
def list_(fetch: FetchOpt = False, remote: RemoteOpt = None, repo: RepoOpt = None, json_: JsonOpt = False) -> None:
    """List models with their latest version, stage holders and aliases."""
    reg = _registry(fetch, remote, repo)
    models = reg.models()
    if json_:
        _json([jsonview.summary_json(m) for m in models])
        return
    _render().models_table(_console(), models, reg.config.stages)


@app.command()
def show(
    ref: RefArg, fetch: FetchOpt = False, remote: RemoteOpt = None, repo: RepoOpt = None, json_: JsonOpt = False
) -> None:
    """Show a version's manifest, stage and aliases."""
    mv = _registry(fetch, remote, repo, _model_of(ref)).show(ref)
    if json_:
        _json(jsonview.version_json(mv))
        return
    _render().version_view(_console(), mv)


@app.command()
def history(
    name: NameArg, fetch: FetchOpt = False, remote: RemoteOpt = None, repo: RepoOpt = None, json_: JsonOpt = False
) -> None:
    """The model's registrations and stage/alias events, oldest first (ordered by seq, never by clock)."""
    events = _registry(fetch, remote, repo, name).history(name)
    if json_:
        _json([jsonview.event_json(e) for e in events])
        return
    _render().history_table(_console(), name, events)


@app.command()
def resolve(
    ref: RefArg, fetch: FetchOpt = False, remote: RemoteOpt = None, repo: RepoOpt = None, json_: JsonOpt = False
) -> None:
    """Print the version a reference points at: `modelreg resolve fraud-detector@champion`."""
    mv = _registry(fetch, remote, repo, _model_of(ref)).resolve(ref)
    if json_:
        _json(jsonview.resolve_json(mv))
        return
    _line(f"{mv.name}@v{mv.version} {mv.digest}")


@app.command()
def pull(
    ref: RefArg,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Directory to place the artifact in (default: ./NAME-vN).")
    ] = None,
    fetch: FetchOpt = False,
    remote: RemoteOpt = None,
    repo: RepoOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Download a version's artifact, verify every byte, and place it (atomically) in a directory."""
    reg = _registry(fetch, remote, repo, _model_of(ref))
    with _progress() as bar:
        mv = reg.resolve(ref)
        path = reg.pull(mv, output, progress=bar)
    if json_:
        _json({**jsonview.resolve_json(mv), "path": str(path)})
        return
    _line(str(path))


@app.command()
def diff(name: NameArg, a: VersionArg, b: VersionArg, json_: JsonOpt = False) -> None:
    """Compare two versions' params, metrics and artifact digest side by side."""
    result = _registry().diff(name, parse_version(a), parse_version(b))
    if json_:
        _json(jsonview.diff_json(result))
        return
    _render().diff_table(_console(), result)


@app.command()
def update(
    name: NameArg,
    version: VersionArg,
    description: Annotated[str | None, typer.Option("--description", "-d", help="New description.")] = None,
    tag: Annotated[PairsOpt, typer.Option("--tag", "-t", help="KEY=VALUE label to set (repeatable).")] = None,
    remove_tag: Annotated[PairsOpt, typer.Option("--remove-tag", help="Label key to remove (repeatable).")] = None,
    push: PushOpt = None,
    remote: RemoteOpt = None,
    branch: BranchOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Edit a version's description or tags.

    They are the only fields that may change after registration; the change is one commit.
    """
    reg = _registry()
    number = parse_version(version)
    result = reg.update(
        name,
        number,
        description=description,
        tags=parse_pairs(tag or [], "--tag"),
        remove_tags=tuple(remove_tag or ()),
        push=push,
        remote=remote,
        branch=branch,
    )
    _warn(reg)
    manifest = result.manifest
    if json_:
        from modelreg.manifest import to_dict

        _json(to_dict(manifest))
        return
    if result.commit is None:
        _line(f"{name} v{number} already has that description and those tags: nothing to commit")
    else:
        _line(f"Updated {manifest.name} v{manifest.version}")


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
    """Describe a tag for a deploy job: which model, version, stage or alias, artifact.

    The facts: tag, model, version, ref (NAME@vN, to pull), action, kind, target, stage, alias,
    seq, digest, store, actor, date, request, approved_by, and current (whether the event is
    still in effect). Exits 4 when the tag does not verify: no claim ref, a review-required
    stage without a merged request, or a missing or unallowed signature when signing is required.
    The ref text is only parsed, never run through a shell.
    """
    if sum((github_output is not None, env, json_)) > 1:
        raise InvalidInputError("choose one of --json, --github-output and --env")
    tag = parse_tag_name(ref.strip())
    facts = jsonview.check_json(_registry(fetch, remote, repo, tag.name if tag else None).check_ref(ref))
    if github_output is not None:
        import secrets

        from modelreg.cioutput import github_output as github_block

        block = github_block(facts, f"ghadelimiter_{secrets.token_hex(16)}")
        try:
            with github_output.open("a", encoding="utf-8") as out:
                out.write(block)
        except OSError as exc:
            raise InvalidInputError(f"cannot write {github_output}: {exc.strerror}") from None
        _say(f"{facts['tag']}: {facts['ref']} ({facts['digest']}), current: {str(facts['current']).lower()}")
    elif env:
        from modelreg.cioutput import env_lines

        sys.stdout.write(env_lines(facts))
    else:
        _json(facts)


@app.command("requests")
def requests_(json_: JsonOpt = False) -> None:
    """List promotion requests and where each one stands.

    open: on a modelreg/request/* branch, not merged yet; merged: on the main branch, waiting for
    `modelreg apply`; unreviewed: committed on the main branch without a merge commit (apply refuses
    it); applied: its event tag exists.
    """
    reg = _registry()
    found = reg.requests()
    _warn(reg)
    if json_:
        _json([jsonview.request_status_json(r) for r in found])
        return
    _render().requests_table(_console(), found)


@app.command("apply")
def apply_(push: PushOpt = None, remote: RemoteOpt = None, sign: SignOpt = None, json_: JsonOpt = False) -> None:
    """Write the event of every merged request not yet applied (run by CI on the main branch).

    Each event tag records the request, the merge commit and who merged it (the approver). Safe
    to run again and from racing CI jobs: an applied request is never applied twice. With --push
    each event is pushed on its own, so tag-triggered deploy pipelines see every one.
    Exits 1 if a request could not be applied (the others still are).
    """
    results = _registry().apply(push=push, remote=remote, sign=sign)
    if json_:
        _json([jsonview.apply_json(r) for r in results])
    else:
        for result in results:
            if result.outcome == "applied" and result.event is not None:
                _line(f"Applied {result.request.id}: {result.request.label}  [tag {result.event.tag}]")
            elif result.outcome == "failed":
                _say(f"error: {result.request.id}: {result.error}")
        done = sum(r.outcome == "already-applied" for r in results)
        if not any(r.outcome == "applied" for r in results):
            _line("No merged requests waiting" + (f" ({done} already applied)" if done else ""))
    if any(r.outcome == "failed" for r in results):
        raise SystemExit(ExitCode.ERROR)


@app.command("fetch")
def fetch_(remote: RemoteOpt = None, json_: JsonOpt = False) -> None:
    """Bring the registry's tags, event refs and branch up to date from the remote.

    Clones do not fetch refs/modelreg/* by default, and a plain `git fetch` silently keeps a local
    tag that was moved on the remote. Here every local modelreg tag and event ref is compared with
    the remote's first; any that moved or vanished there is reported (exit 4) instead of fetched.
    """
    report = _registry().fetch(remote)
    if json_:
        _json({"remote": report.remote, "fetched": report.fetched, "problems": list(report.problems)})
    elif report.problems:
        for problem in report.problems:
            _say(f"integrity: {problem}")
    else:
        _line(f"Up to date with {report.remote}")
    if report.problems:
        raise SystemExit(ExitCode.INTEGRITY)


@app.command()
def verify(
    name: Annotated[str | None, typer.Argument(help="Only this model (default: every model).")] = None,
    blobs: Annotated[bool, typer.Option("--blobs", help="Also re-hash every referenced blob in its store.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Check the registry: tags, claim refs, manifests against their tags, and (--blobs) stored bytes.

    Also: every event on a review_required stage must come from a request merged into the checked-out
    main line, and with require_signed every event tag must carry a signature from an allowed signer.
    Exits 4 when anything does not match.
    """
    reg = _registry()
    with _progress() as bar:
        report = reg.verify(name, blobs=blobs, progress=bar)
    if json_:
        _json(jsonview.verify_json(report))
    else:
        _render().verify_view(_console(), report)
    if not report.ok:
        raise SystemExit(ExitCode.INTEGRITY)


@app.command()
def gc(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be deleted (the default).")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Delete the unreferenced blobs.")] = False,
    grace_hours: Annotated[
        float,
        typer.Option(
            "--grace-hours", help="Keep unreferenced blobs younger than this: a registration may be under way."
        ),
    ] = 24.0,
    json_: JsonOpt = False,
) -> None:
    """List (or, with --yes, delete) store blobs that no version's manifest references."""
    if dry_run and yes:
        raise InvalidInputError("--dry-run and --yes contradict each other")
    if grace_hours < 0:
        raise InvalidInputError("--grace-hours must not be negative")
    report = _registry().gc(delete=yes, grace_s=grace_hours * 3600)
    if json_:
        _json(jsonview.gc_json(report))
        return
    _render().gc_view(_console(), report)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (DESIGN §8)."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        app(args=args, prog_name="modelreg")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else ExitCode.ERROR)
    except ModelregError as exc:
        _say(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception as exc:  # a bug: one line, and the traceback on request
        if os.environ.get("MODELREG_DEBUG"):
            raise
        _say(f"error: internal error: {type(exc).__name__}: {exc} (set MODELREG_DEBUG=1 for the traceback)")
        return ExitCode.ERROR
    return ExitCode.OK


def run() -> None:
    sys.exit(main())
