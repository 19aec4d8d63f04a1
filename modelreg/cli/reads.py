"""The read commands' work, shared by the Typer commands and the lean dispatch (see modelreg.cli).

Nothing here imports Typer; Rich is imported only to draw on a terminal. In a pipe, the human
views are plain tab-separated text (modelreg.display.plain). A read needs only the Registry's reader
(`Registry.reader`), opened the way `Registry.open` opens it: the write side is never imported.
"""

from __future__ import annotations

import sys
from pathlib import Path

from modelreg.cli.output import console, json_out, json_rows_out, line, progress, say, table, terminal, warn
from modelreg.core.refs import ModelRef, parse_ref, parse_tag_name
from modelreg.display import jsonview, plain
from modelreg.display.cioutput import append_github_output, env_lines
from modelreg.errors import ExitCode, InvalidInputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from modelreg.read.reader import Reader

HISTORY_ROWS = 200  # a terminal shows the newest ones; a pipe and --json get every row


def open_reader(
    fetch: bool = False, remote: str | None = None, repo: str | None = None, name: str | None = None
) -> Reader:
    """The registry of the current directory, brought up to date first with `fetch`; or the one at `repo`."""
    # The read path (git, the policy, the readers): ~20 ms that `--help` and completion never pay (measured).
    from modelreg.read import opening
    from modelreg.read.reader import Reader

    if repo is not None:
        return Reader(*opening.open_url(repo, name))
    reader = Reader(*opening.open_path(Path.cwd(), None if fetch else name))  # a fetch moves the refs it would list
    if fetch:
        from modelreg.publish import fetching  # each command below loads only what it needs (start-up: see lean)

        fetching.fetch(reader, remote, strict=True)
    return reader


def list_models(fetch: bool, remote: str | None, repo: str | None, json_: bool, at: str | None = None) -> None:
    reg = open_reader(fetch, remote, repo)
    models = reg.models(at)
    warn(tuple(w for m in models for w in m.warnings))
    if json_:
        json_out([jsonview.summary_json(m) for m in models])
    else:
        empty = f"No model had a version at {at}." if at is not None else None
        table(plain.models_table(models, reg.config.stages, held_only=terminal(), empty=empty))


def show(ref: str, fetch: bool, remote: str | None, repo: str | None, json_: bool, at: str | None = None) -> None:
    parsed = parse_ref(ref)
    reg = open_reader(fetch, remote, repo, parsed.name)
    mv = reg.resolve(parsed, at)
    warn(mv.warnings)
    if json_:
        json_out(jsonview.version_json(mv, reg.context.policy_commit))
    elif terminal():
        from modelreg.display import render  # Rich: 100+ ms of start-up (measured), paid only on a terminal

        render.version_view(console(), mv)
    else:
        sys.stdout.write(plain.version_text(mv))


def history(
    name: str,
    fetch: bool,
    remote: str | None,
    repo: str | None,
    json_: bool,
    since: str | None = None,
    until: str | None = None,
) -> None:
    reg = open_reader(fetch, remote, repo, name)
    view = reg.history_view(name)  # a deleted model's history is still there, its tombstone last
    warn(view.rejected)
    events = reg.history_of(view, since, until)
    if json_:
        json_out([jsonview.event_json(e) for e in events])
    else:
        table(plain.history_table(name, events, HISTORY_ROWS if terminal() else None))


def search(
    filter_: str | None,
    model: str | None,
    order_by: list[str] | None,
    limit: int | None,
    fetch: bool,
    remote: str | None,
    repo: str | None,
    json_: bool,
    at: str | None = None,
) -> None:
    reg = open_reader(fetch, remote, repo, model)
    from modelreg.read.search import search as search_versions  # the filter grammar: ~30 ms, search only

    found = search_versions(reg, filter_, model=model, order_by=order_by or (), limit=limit, at=at)
    warn(found.warnings)
    if json_:
        json_rows_out(jsonview.search_json(found, reg.context.policy_commit), "versions")
    else:
        table(plain.search_table(found, repr(filter_) if filter_ else "no filter"))


def resolve(ref: str, fetch: bool, remote: str | None, repo: str | None, json_: bool, at: str | None = None) -> None:
    parsed = parse_ref(ref)
    reg = open_reader(fetch, remote, repo, parsed.name)
    mv = reg.resolve(parsed, at)  # one path, whatever the output: the manifest is checked against its tag
    warn(mv.warnings)
    if json_:
        json_out(jsonview.resolve_json(mv, reg.context.policy_commit))
    else:
        line(f"{ModelRef(mv.name, version=mv.version)} {mv.digest}")


def pull(
    ref: str,
    output: Path | None,
    store: str | None,
    fetch: bool,
    remote: str | None,
    repo: str | None,
    json_: bool,
    force: bool = False,
) -> None:
    parsed = parse_ref(ref)
    reg = open_reader(fetch, remote, repo, parsed.name)
    with progress() as bar:
        mv = reg.resolve(parsed)
        warn(mv.warnings)
        path = reg.pull(mv, output, progress=bar, store=store, force=force)
    if json_:
        facts = jsonview.resolve_json(mv, reg.context.policy_commit)
        json_out({**facts, "store": store or facts["store"], "path": str(path)})
        return
    line(str(path))


def check_ref(
    ref: str,
    fetch: bool,
    remote: str | None,
    repo: str | None,
    github_output: Path | None,
    env: bool,
    json_: bool,
) -> None:
    if sum((github_output is not None, env, json_)) > 1:
        raise InvalidInputError("choose one of --json, --github-output and --env")
    tag = parse_tag_name(ref.strip())
    from modelreg.ops.checks import check_ref as check_tag  # verify's module: other reads never load it

    facts = jsonview.check_json(check_tag(open_reader(fetch, remote, repo, tag.name if tag else None), ref))
    if github_output is not None:
        append_github_output(github_output, facts)
        say(f"{facts['tag']}: {facts['ref']} ({facts['digest']}), current: {str(facts['current']).lower()}")
    elif env:
        sys.stdout.write(env_lines(facts))
    else:
        json_out(facts)


def report(
    out: Path, names: list[str], force: bool, fetch: bool, remote: str | None, repo: str | None, json_: bool
) -> None:
    reg = open_reader(fetch, remote, repo)
    from modelreg.display import resultviews  # with the result types, ~1.7 ms a read would pay
    from modelreg.report import write_report  # the HTML report: `report` alone loads it

    result = write_report(reg, out, names or None, force=force)
    if json_:
        json_out(resultviews.report_json(result))
        return
    line(str(result.path / result.pages[0]))
    say(f"{result.models} models, {result.versions} versions, {result.events} events: {len(result.pages)} pages")


def lint(json_: bool) -> None:
    """The pre-commit check: exits 1 with one line per problem."""
    from modelreg.display import resultviews  # with the result types, ~1.7 ms a read would pay
    from modelreg.ops.lint import lint as lint_registry  # the schema checks: `lint` alone loads them

    result = lint_registry(Path.cwd())
    warn(result.warnings)
    if json_:
        json_out(resultviews.lint_json(result))
    else:
        for problem in result.problems:
            say(f"error: {problem}")
        if result.ok:
            line(f"{result.manifests} manifests and the config check out")
    if not result.ok:
        raise SystemExit(ExitCode.ERROR)
