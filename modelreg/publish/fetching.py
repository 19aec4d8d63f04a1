"""Bringing a clone's modelreg refs up to date with its remote: one glob fetch, never a moved ref silently.

One `git ls-remote` of the registry's ref prefixes and one `for-each-ref` here say which refs
differ; one `git fetch` of glob refspecs then brings everything else, leaving out (`^REF`)
exactly the refs that differ. Time is linear in the number of refs: git matches each fetched
ref against a handful of globs, never against one explicit refspec per ref.

What a difference means is the registry's rule, not git's refusal to move a tag (DESIGN §10):
the claim ref is the version. A version or event tag moved on the remote, or disagreeing with
its claim here, is reported and not taken, but blocks nothing: readers serve the tag object
its claim names. A claim ref that moved, or a ref deleted on the remote, is a problem.
"""

from __future__ import annotations

from typing import NamedTuple

from modelreg.core.refs import claim_prefixes, claim_ref, is_claim_ref, parse_tag_name, version_claim_ref
from modelreg.errors import IntegrityError, InvalidInputError
from modelreg.git import history
from modelreg.git import remote as gitremote
from modelreg.publish.push import Target
from modelreg.read.reader import Reader
from modelreg.results import FetchReport


class Comparison(NamedTuple):
    """What one fetch found, besides the refs it brought."""

    problems: list[str]  # claim refs moved on the remote, refs only here, refs git refused
    moved_tags: list[str]  # tags moved on the remote or not the tag their claim names: the claim decides
    only_here: list[str]  # the subset of problems about refs deleted on the remote, or never pushed


def fetch(reader: Reader, remote: str | None = None, *, strict: bool = False) -> FetchReport:
    """Bring the registry's tags, claim refs and branch up to date from `remote`.

    With `strict`, the first ref that moved or vanished on the remote is raised as an
    IntegrityError (what a read with `--fetch` wants) instead of reported.

    A plain `git fetch` keeps a stale local tag when the remote's moved, and a stale clone can
    resurrect a tag deleted remotely; here every local modelreg ref is compared with the
    remote's, and each difference is reported (see the module's note) while the rest is fetched.
    """
    name = remote or reader.config.remote
    gitremote.check_remote(reader.git, name)
    branches = {reader.git.branch(), f"refs/heads/{reader.config.main_branch}"} - {None}
    found = compare_and_fetch(reader, name, None, sorted(b for b in branches if b))
    if reader.config.review_required:
        # Review evidence walks the main line from its tip (read.evidence). A fresh clone has no commit-graph, so
        # the walk reads every commit object on the way; with one it reads none (0.2 s -> 25 ms at 50,000 commits).
        tip = reader.git.resolve_commit(f"refs/remotes/{name}/{reader.config.main_branch}")
        if tip is not None:
            history.index_commits(reader.git, tip)
    if strict and found.problems:
        raise IntegrityError(f"{found.problems[0]} (run `modelreg fetch` for the full list)")
    return FetchReport(name, True, tuple(found.problems), tuple(found.moved_tags))


def fetch_for_write(reader: Reader, target: Target, name: str | None) -> None:
    """Before a pushed write: the remote's refs for this model, or a clear refusal."""
    assert target.remote is not None
    found = compare_and_fetch(reader, target.remote, name, [target.branch] if target.branch else [])
    if found.only_here:
        raise InvalidInputError(
            f"{found.only_here[0]}: modelreg pushes only what it writes; push that ref yourself "
            f"(git push {target.remote} <ref>) or delete it here, then try again"
        )
    if found.problems:
        raise IntegrityError(f"{found.problems[0]} (`modelreg fetch` lists every such ref)")


def compare_and_fetch(reader: Reader, remote: str, model: str | None, branches: list[str]) -> Comparison:
    """Compare this clone's modelreg refs with the remote's, then fetch all the others in one `git fetch`.

    Only modelreg's own refs are compared and reported: a moved `nightly` tag of the project is
    none of its business (it is left as it is here).
    """
    git = reader.git
    claims = claim_prefixes(model)
    tag_globs = [f"refs/tags/{model}@v*", f"refs/tags/{model}#*"] if model else ["refs/tags/*"]
    claim_globs = [f"{prefix}*" for prefix in claims]
    theirs_all = gitremote.ls_remote(git, remote, [*tag_globs, *claim_globs, *branches])
    ours_text = git.ref_ids([*tag_globs, *claims])
    ours = dict(line.split(" ", 1) for line in ours_text.splitlines() if line)

    def ours_to_check(ref: str) -> bool:
        if is_claim_ref(ref):
            return ref.startswith(tuple(claims))
        parsed = parse_tag_name(ref)
        return parsed is not None and (model is None or parsed.name == model)

    problems: list[str] = []
    only_here: list[str] = []
    moved_tags: list[str] = []
    left_out: list[str] = []  # `^REF`: refs the fetch must not touch
    for ref, obj in sorted(ours.items(), key=lambda item: (is_claim_ref(item[0]), item[0])):
        theirs = theirs_all.get(ref)
        if theirs == obj or not ours_to_check(ref):
            continue
        short = ref.removeprefix("refs/tags/")
        if theirs is None:
            only_here.append(f"{short} is here but not on {remote}: deleted there, or never pushed")
            continue
        left_out.append(ref)
        said = f"{short} points at {theirs[:12]} on {remote} but at {obj[:12]} here: it was moved"
        if is_claim_ref(ref):
            problems.append(said)
        else:
            moved_tags.append(f"{said}; its claim ref decides, the moved tag is not taken")
    # The project's own tags are not modelreg's to judge: one that differs here is left as it is (new
    # ones arrive, as with `git fetch --tags`). Leaving out only the few that differ keeps git's
    # matching linear: it checks each ref against every `^REF`.
    left_out += [
        ref
        for ref, obj in ours.items()
        if ref.startswith("refs/tags/") and not ours_to_check(ref) and theirs_all.get(ref, obj) != obj
    ]
    after = {**{ref: obj for ref, obj in theirs_all.items() if ours_to_check(ref)}, **ours}
    moved_tags += _unclaimed_here(after, set(left_out))
    refspecs = [f"{glob}:{glob}" for glob in (*tag_globs, *claim_globs)] + [f"^{ref}" for ref in left_out]
    for branch in branches:
        if branch in theirs_all:
            refspecs.append(f"+{branch}:refs/remotes/{remote}/{branch.removeprefix('refs/heads/')}")
    skipped = set(left_out)
    wanted = [ref for ref, obj in theirs_all.items() if ours.get(ref) != obj and ref not in skipped]
    if wanted:
        refused = gitremote.fetch(git, remote, refspecs)
        problems += [f"{ref}: {remote} changed it during the fetch, so it was not taken" for ref in refused]
    return Comparison([*problems, *only_here], moved_tags, only_here)


def _unclaimed_here(refs: dict[str, str], skip: set[str]) -> list[str]:
    """The tags among `refs` (those already reported in `skip` aside) that are not the object their claim names."""
    found = []
    tag_of = {obj: ref for ref, obj in refs.items() if ref.startswith("refs/tags/")}
    for ref, obj in sorted(refs.items()):
        parsed = parse_tag_name(ref) if ref.startswith("refs/tags/") and ref not in skip else None
        if parsed is None:
            continue
        if parsed.seq is None:
            assert parsed.version is not None
            claim = version_claim_ref(parsed.name, parsed.version)
        else:
            claim = claim_ref(parsed.name, parsed.seq)
        claimed = refs.get(claim)
        # A claim naming another tag here is two writers on one seq (verify's finding), not a move.
        if claimed is not None and claimed != obj and tag_of.get(claimed) is None:
            found.append(
                f"{ref.removeprefix('refs/tags/')} is not the tag object {claim} names ({claimed[:12]}): "
                "it was moved after it was claimed; the claim decides, the moved tag is not taken"
            )
    return found
