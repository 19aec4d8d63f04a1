"""Bringing a clone's modelreg refs up to date with its remote, never taking a moved ref silently."""

from __future__ import annotations

from modelreg.core.refs import claim_prefixes, is_claim_ref, parse_tag_name, tag_patterns
from modelreg.errors import IntegrityError, InvalidInputError
from modelreg.git import remote as gitremote
from modelreg.publish.push import Target
from modelreg.read.reader import Reader
from modelreg.results import FetchReport


def fetch(reader: Reader, remote: str | None = None, *, strict: bool = False) -> FetchReport:
    """Bring the registry's tags, claim refs and branch up to date from `remote`.

    With `strict`, the first ref that moved or vanished on the remote is raised as an
    IntegrityError (what a read with `--fetch` wants) instead of reported.

    A plain `git fetch` keeps a stale local tag when the remote's moved, and a stale clone can
    resurrect a tag deleted remotely; here every local modelreg ref is first compared with
    the remote's (`git ls-remote`), and any difference is reported instead of fetched.
    """
    name = remote or reader.config.remote
    gitremote.check_remote(reader.git, name)
    branches = {reader.git.branch(), f"refs/heads/{reader.config.main_branch}"} - {None}
    moved, only_here = compare_and_fetch(reader, name, None, sorted(b for b in branches if b))
    problems = [*moved, *only_here]
    if strict and problems:
        raise IntegrityError(f"{problems[0]} (run `modelreg fetch` for the full list)")
    return FetchReport(name, not problems, tuple(problems))


def fetch_for_write(reader: Reader, target: Target, name: str | None) -> None:
    """Before a pushed write: the remote's refs for this model, or a clear refusal."""
    assert target.remote is not None
    moved, only_here = compare_and_fetch(reader, target.remote, name, [target.branch] if target.branch else [])
    if moved:
        raise IntegrityError(f"{moved[0]} (`modelreg fetch` lists every such ref)")
    if only_here:
        raise InvalidInputError(
            f"{only_here[0]}: modelreg pushes only what it writes; push that ref yourself "
            f"(git push {target.remote} <ref>) or delete it here, then try again"
        )


def compare_and_fetch(
    reader: Reader, remote: str, model: str | None, branches: list[str]
) -> tuple[list[str], list[str]]:
    """Compare this clone's modelreg refs with the remote's, then fetch the remote's.

    Returns (refs moved on the remote, refs only here); nothing is fetched unless both are
    empty. Only modelreg's own refs are compared and fetched: a moved `nightly` tag of the
    project is none of its business.
    """
    git = reader.git
    claims = claim_prefixes(model)
    tag_globs = [f"refs/tags/{model}@v*", f"refs/tags/{model}#*"] if model else ["refs/tags/*"]
    theirs_all = gitremote.ls_remote(git, remote, [*tag_globs, *(f"{prefix}*" for prefix in claims), *branches])
    ours_text = git.ref_ids([*tag_patterns(model), *claims])
    ours = dict(line.split(" ", 1) for line in ours_text.splitlines() if line)

    def ours_to_check(ref: str) -> bool:
        if is_claim_ref(ref):
            return ref.startswith(tuple(claims))
        parsed = parse_tag_name(ref)
        return parsed is not None and (model is None or parsed.name == model)

    theirs = {ref: obj for ref, obj in theirs_all.items() if ours_to_check(ref)}
    moved, only_here = [], []
    for ref, obj in sorted(ours.items(), key=lambda item: (is_claim_ref(item[0]), item[0])):
        if not ours_to_check(ref):
            continue
        short = ref.removeprefix("refs/tags/")
        if ref not in theirs:
            only_here.append(f"{short} is here but not on {remote}: deleted there, or never pushed")
        elif theirs[ref] != obj:
            moved.append(f"{short} points at {theirs[ref][:12]} on {remote} but at {obj[:12]} here: it was moved")
    if moved or only_here:
        return moved, only_here
    refspecs = [f"{ref}:{ref}" for ref in sorted(theirs) if theirs[ref] != ours.get(ref)]
    for branch in branches:
        if branch in theirs_all:
            refspecs.append(f"+{branch}:refs/remotes/{remote}/{branch.removeprefix('refs/heads/')}")
    if refspecs:
        gitremote.fetch(git, remote, refspecs)
    return [], []
