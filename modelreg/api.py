"""The Registry: every operation the CLI offers, typed, never printing.

The work is layered: `Reader` (reader.py) reads state, versions and artifacts; `Writer`
(writer.py) adds registrations, event tags and manifest edits; `Registry` adds the lifecycle
operations (promote, aliases, rollback), reviews, checks and fetching, and opening a registry.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from modelreg.core.events import current_holder, held_before, rollback_version, to_archive
from modelreg.core.refs import ModelRef, check_alias, check_name, claim_prefixes, stage_name
from modelreg.errors import IntegrityError, InvalidInputError, NotFoundError, ReviewRequired
from modelreg.formats import config as configmod
from modelreg.formats.config import CONFIG_PATH, Config
from modelreg.git import GitRepo
from modelreg.models import Event, ModelState, RefCheck, Scalar, TargetKind
from modelreg.paths import cache_home
from modelreg.writer import Writer, init_registry

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from modelreg.importers.apply import ImportReport
    from modelreg.models import SearchResult
    from modelreg.ops.migrate import MigrateResult
    from modelreg.publish.push import Target
    from modelreg.read.when import When
    from modelreg.results import (
        ApplyResult,
        CreatedRequest,
        FetchReport,
        GcReport,
        InitResult,
        LintReport,
        ReportResult,
        RequestList,
        UpdateResult,
        UpgradeResult,
        VerifyReport,
    )
    from modelreg.store.hashing import Progress


class Registry(Writer):
    """A model registry in a git repository's `.modelreg/` directory."""

    @classmethod
    def open(cls, path: str | os.PathLike[str] = ".") -> Registry:
        """The registry of the repository holding `path`, under its policy of record.

        The policy of record is `.modelreg/config.yaml` as committed on the main branch (its
        remote-tracking branch when the local one is missing or behind), never the copy in the
        commit that happens to be checked out: a deploy job that checks out an old tag still
        judges it by today's policy. Without a main branch that has a config, the work tree's
        config is used.
        """
        git = GitRepo.discover(path)
        (text,) = git.read_files([(None, CONFIG_PATH)])
        local = configmod.from_yaml(text, CONFIG_PATH) if text is not None else Config()
        commit = git.branch_tip(local.main_branch, local.remote)
        committed = git.read_files([(commit, CONFIG_PATH)], keep=True)[0] if commit else None
        if committed is not None:
            config = configmod.from_yaml(committed, f"{CONFIG_PATH} on {local.main_branch}")
            return cls(git, config, policy_commit=commit)
        if text is None:
            raise NotFoundError(f"no registry in {git.root}: run `modelreg init` first")
        return cls(git, local)

    @classmethod
    def open_url(cls, url: str, name: str | None = None) -> Registry:
        """A read-only view of the registry at a git URL, without cloning it.

        Only the tags (of model `name`, or of every model), their event refs, and the commits
        they point at are fetched, shallow and blob-less, into a cache under
        `$XDG_CACHE_HOME/modelreg/repos/`; the config and the manifests read are fetched on demand.
        A serving host that needs `fraud-detector@champion` downloads a few kilobytes, not history.
        """
        if name is not None:
            check_name(name)
        tags = [f"refs/tags/{name}@v*", f"refs/tags/{name}#*"] if name is not None else ["refs/tags/*"]
        refspecs = [f"{ref}:{ref}" for ref in tags] + [f"+{ref}*:{ref}*" for ref in claim_prefixes(name)]
        from modelreg.git.remote import mirror

        git, head = mirror(url, cache_home() / "repos", refspecs)
        (text,) = git.read_files([(head, CONFIG_PATH)], keep=True)
        if text is None:
            raise NotFoundError(f"no registry at {url}: its default branch has no {CONFIG_PATH}")
        return cls(git, configmod.from_yaml(text, f"{CONFIG_PATH} at {url}"), source=url, policy_commit=head)

    @staticmethod
    def init(path: str | os.PathLike[str] = ".", store: str | None = None) -> InitResult:
        """Write and commit `.modelreg/config.yaml` (and ignore the default local store)."""
        return init_registry(path, store)

    @staticmethod
    def lint(path: str | os.PathLike[str] = ".") -> LintReport:
        """Check the registry's files in the work tree holding `path` (the pre-commit hook's check).

        The config, manifests and request files against the schema, and each manifest against its
        version tag's copy (only description and tags may change). No store, no network.
        """
        from modelreg.ops.lint import lint

        return lint(path)

    def fetch(self, remote: str | None = None, *, strict: bool = False) -> FetchReport:
        """Bring the registry's tags, claim refs and branch up to date from `remote` (see fetching).

        A ref that moved or vanished on the remote is reported, never taken; with `strict` the
        first one is raised as an IntegrityError instead (what a read with `--fetch` wants).
        """
        from modelreg.publish import fetching

        report = fetching.fetch(self, remote)
        if strict and report.problems:
            raise IntegrityError(f"{report.problems[0]} (run `modelreg fetch` for the full list)")
        return report

    show = Writer.resolve

    def search(
        self,
        filter_string: str | None = None,
        *,
        model: str | None = None,
        order_by: Sequence[str] = (),
        limit: int | None = None,
        at: When | None = None,
    ) -> SearchResult:
        """Versions matching an MLflow filter string, e.g. `reg.search("metrics.auc > 0.9", order_by=["created DESC"])`.

        Only versions the policy of record admits are searched, with their current stages and aliases
        (see modelreg.core.filtering for the grammar). InvalidInputError names the column of a malformed filter.
        With `at`, stages and aliases are as they were then, and only versions registered by then are searched.
        """
        from modelreg.read.search import search

        views = self.views(model, at) if at is not None else None
        return search(self, filter_string, model=model, order_by=order_by, limit=limit, views=views)

    def check_ref(self, ref: str) -> RefCheck:
        """Describe a modelreg tag (`name@v7`, `name#production#12`, or `refs/tags/…`) for CI.

        Raises IntegrityError when the tag does not verify: its claim ref, the merged request a
        review-required stage needs, its signature when the registry requires them.
        """
        from modelreg.ops.checks import check_ref

        return check_ref(self, ref)

    def promote(
        self,
        name: str,
        version: int,
        stage: str,
        *,
        keep_existing: bool = False,
        reason: str | None = None,
        push: bool | None = None,
        remote: str | None = None,
        sign: bool | None = None,
    ) -> Event:
        """Assign `stage` to a version; a single-holder stage archives its previous holder."""
        target, stage = self.target(push, remote, sign=sign), stage_name(stage)
        return self._event(target, name, lambda: self._promote(target, name, version, stage, keep_existing, reason))

    def remove_stage(
        self,
        name: str,
        version: int,
        *,
        reason: str | None = None,
        push: bool | None = None,
        remote: str | None = None,
        sign: bool | None = None,
    ) -> Event:
        """Take a version out of its stage (an `unassign` event): MLflow's transition to stage "None"."""
        target = self.target(push, remote, sign=sign)
        return self._event(target, name, lambda: self._remove_stage(target, name, version, reason))

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        reason: str | None = None,
        push: bool | None = None,
        remote: str | None = None,
        sign: bool | None = None,
    ) -> Event:
        """Point `alias` at a version (moving it if it points elsewhere)."""
        target = self.target(push, remote, sign=sign)
        return self._event(target, name, lambda: self._set_alias(target, name, alias, version, reason))

    def remove_alias(
        self,
        name: str,
        alias: str,
        *,
        reason: str | None = None,
        push: bool | None = None,
        remote: str | None = None,
        sign: bool | None = None,
    ) -> Event:
        target = self.target(push, remote, sign=sign)
        return self._event(target, name, lambda: self._remove_alias(target, name, alias, reason))

    def rollback(
        self,
        name: str,
        *,
        stage: str | None = None,
        alias: str | None = None,
        to: int | None = None,
        reason: str | None = None,
        push: bool | None = None,
        remote: str | None = None,
        sign: bool | None = None,
    ) -> Event:
        """Re-assign the version that held a stage (default `production`) or alias before the current one."""
        target = self.target(push, remote, sign=sign)
        stage = None if stage is None else stage_name(stage)
        return self._event(target, name, lambda: self._rollback(target, name, stage, alias, to, reason))

    def retire(
        self,
        name: str,
        *,
        reason: str,
        push: bool | None = None,
        remote: str | None = None,
        sign: bool | None = None,
    ) -> Event:
        """Retire a model: its stages, aliases and latest no longer resolve (`NAME@N` still does), as an event.

        Needs a reason; writes `NAME#_retire#SEQ` and its claim ref (see modelreg.ops.lifecycle).
        """
        from modelreg.ops.lifecycle import retire

        return retire(self, self.target(push, remote, sign=sign), name, reason)

    def unretire(
        self,
        name: str,
        *,
        reason: str,
        push: bool | None = None,
        remote: str | None = None,
        sign: bool | None = None,
    ) -> Event:
        """Return a retired model to service: its stages and aliases resolve again, as they were."""
        from modelreg.ops.lifecycle import retire

        return retire(self, self.target(push, remote, sign=sign), name, reason, back=True)

    def update(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        tags: dict[str, Scalar] | None = None,
        remove_tags: tuple[str, ...] = (),
        reason: str | None = None,
        push: bool | None = None,
        remote: str | None = None,
        branch: str | None = None,
        sign: bool | None = None,
    ) -> UpdateResult:
        """Edit a version's description and tags (the only mutable keys): a commit and an event (see lifecycle)."""
        from modelreg.ops.lifecycle import update

        target = self.target(push, remote, branch, commits=True, sign=sign)
        return update(self, target, name, version, description, tags, remove_tags, reason)

    def describe(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: dict[str, Scalar] | None = None,
        remove_tags: tuple[str, ...] = (),
        reason: str | None = None,
        push: bool | None = None,
        remote: str | None = None,
        sign: bool | None = None,
    ) -> Event:
        """Set the model's own description and tags (`ModelSummary.description`, `.tags`), as an event."""
        from modelreg.ops.lifecycle import describe

        target = self.target(push, remote, sign=sign)
        return describe(self, target, name, description, tags, remove_tags, reason)

    def _event(self, target: Target, name: str, attempt: Callable[[], Event]) -> Event:
        check_name(name)
        return self.retry(target, name, attempt)

    def _promote(
        self, dest: Target, name: str, version: int, stage: str, keep_existing: bool, reason: str | None
    ) -> Event:
        self.config.check_stage(stage)
        if stage in self.config.review_required:
            raise ReviewRequired(
                f"stage {stage!r} requires review (review_required in {CONFIG_PATH}): request it with "
                f"`modelreg promote {name}@{version} {stage} --request`, open a pull request, and CI "
                "applies it after the merge (`modelreg apply`)"
            )
        state, events, snap, _ = self.model(name)
        _in_service(state)
        self.select(state, ModelRef(name, version=version))
        if state.stages.get(version) == stage:
            raise InvalidInputError(f"{name} v{version} is already in stage {stage!r}")
        archived = () if keep_existing else to_archive(state, version, stage, stage in self.config.single_holder)
        subject = f"{name} v{version} → {stage}" + (
            f" (archived {', '.join(f'v{v}' for v in archived)})" if archived else ""
        )
        return self.write_event(dest, state, events, snap, "assign", "stage", stage, version, subject, reason, archived)

    def _remove_stage(self, dest: Target, name: str, version: int, reason: str | None) -> Event:
        state, events, snap, _ = self.model(name)
        self.select(state, ModelRef(name, version=version))
        stage = state.stages.get(version)
        if stage is None:
            raise InvalidInputError(f"{name} v{version} is in no stage")
        subject = f"{name} v{version} left {stage}"
        return self.write_event(dest, state, events, snap, "unassign", "stage", stage, version, subject, reason)

    def _set_alias(self, dest: Target, name: str, alias: str, version: int, reason: str | None) -> Event:
        check_alias(alias, self.config.stages)
        state, events, snap, _ = self.model(name)
        _in_service(state)
        self.select(state, ModelRef(name, version=version))
        if state.aliases.get(alias) == version:
            raise InvalidInputError(f"alias {alias!r} already points at {name} v{version}")
        return self.write_event(
            dest, state, events, snap, "assign", "alias", alias, version, f"{name}@{alias} → v{version}", reason
        )

    def _remove_alias(self, dest: Target, name: str, alias: str, reason: str | None) -> Event:
        check_name(alias, "alias")
        state, events, snap, _ = self.model(name)
        _in_service(state)
        if alias not in state.aliases:
            raise NotFoundError(f"{name} has no alias {alias!r}")
        version = state.aliases[alias]
        return self.write_event(
            dest,
            state,
            events,
            snap,
            "unassign",
            "alias",
            alias,
            version,
            f"{name}@{alias} removed (was v{version})",
            reason,
        )

    def _rollback(
        self, dest: Target, name: str, stage: str | None, alias: str | None, to: int | None, reason: str | None
    ) -> Event:
        if stage is not None and alias is not None:
            raise InvalidInputError("give either a stage or an alias to roll back, not both")
        kind: TargetKind = "alias" if alias is not None else "stage"
        target = alias if alias is not None else (stage or "production")
        if stage is None and alias is None and "production" not in self.config.stages:
            raise InvalidInputError(
                "no 'production' stage is configured: say what to roll back with --stage or --alias"
            )
        if kind == "stage":
            self.config.check_stage(target)
        else:
            check_name(target, "alias")
        state, events, snap, _ = self.model(name)
        _in_service(state)
        if to is not None:
            self.select(state, ModelRef(name, version=to))
        version = rollback_version(state, kind, target, to)
        if kind == "stage" and target in self.config.review_required and not held_before(events, kind, target, version):
            raise InvalidInputError(
                f"v{version} never held review-required stage {target!r}: giving it the stage needs a "
                f"reviewed request (`modelreg promote {name}@{version} {target} --request`)"
            )
        previous = current_holder(state, kind, target)
        archived = to_archive(state, version, target, target in self.config.single_holder) if kind == "stage" else ()
        label = f"{name}/{target}" if kind == "stage" else f"{name}@{target}"
        return self.write_event(
            dest,
            state,
            events,
            snap,
            "rollback",
            kind,
            target,
            version,
            f"{label} rolled back to v{version} (from v{previous})",
            reason,
            archived,
            extra={"from": previous},
        )

    def request(
        self,
        name: str,
        version: int,
        target: str,
        *,
        kind: TargetKind = "stage",
        keep_existing: bool = False,
        reason: str | None = None,
        branch: str | None = None,
        push: bool | None = None,
        remote: str | None = None,
    ) -> CreatedRequest:
        """Propose a stage (or alias) change for review: a request file committed on a new branch.

        The result carries the branch and a Markdown body for the pull request; merging it is the
        approval, and `apply` (in CI, on the main branch) then writes the event.
        """
        from modelreg.ops import reviews

        check_name(name)
        return reviews.create(
            self,
            self.target(push, remote),
            name,
            version,
            kind,
            stage_name(target) if kind == "stage" else target,
            keep_existing=keep_existing,
            reason=reason,
            branch=branch,
        )

    def requests(self) -> RequestList:
        """Requests on `modelreg/request/*` branches (open), merged and waiting, and applied."""
        from modelreg.ops import reviews

        found, problems = reviews.statuses(self)
        from modelreg.results import RequestList

        return RequestList(tuple(found), tuple(problems))

    def apply(
        self, *, push: bool | None = None, remote: str | None = None, sign: bool | None = None
    ) -> list[ApplyResult]:
        """Write the event of every merged, not yet applied request on the checked-out main line."""
        from modelreg.ops import reviews

        return reviews.apply(self, push=push, remote=remote, sign=sign)

    def verify(self, name: str | None = None, *, blobs: bool = False, progress: Progress | None = None) -> VerifyReport:
        """Check tags, claim refs and manifests (and, with `blobs`, re-hash every stored blob)."""
        from modelreg.ops.checks import verify

        if name is not None:
            self.model(name)
        return verify(self, name, blobs=blobs, progress=progress)

    def report(
        self, out_dir: str | os.PathLike[str], names: Sequence[str] | None = None, *, force: bool = False
    ) -> ReportResult:
        """Write a static HTML site of the registry (or of `names`) into `out_dir`: no server, no network.

        An index of the models and a page per model (stage timeline, metric charts, versions,
        audit trail), from the state the policy of record admits. The site is built beside
        `out_dir` and swapped in; a non-empty `out_dir` that holds no earlier report is refused
        unless `force`.
        """
        from modelreg.report import write_report

        return write_report(self, out_dir, names, force=force)

    def upgrade(self, *, push: bool | None = None, remote: str | None = None) -> UpgradeResult:
        """Claim the version tags an earlier modelreg wrote without claim refs, where they verify (see upgrade)."""
        from modelreg.ops.upgrade import upgrade

        return upgrade(self, self.target(push, remote))

    def import_mlflow(
        self,
        names: Sequence[str] = (),
        *,
        tracking_uri: str | None = None,
        registry_uri: str | None = None,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Bring MLflow's registered models (all, or `names`) over; a second run writes only what is new.

        Needs the `mlflow` extra (`pip install 'modelreg[mlflow]'`). See docs/mlflow.md.
        """
        try:
            from modelreg.importers.mlflow import import_registry
        except ImportError:
            raise InvalidInputError("importing from MLflow needs mlflow: pip install 'modelreg[mlflow]'") from None
        return import_registry(
            self, list(names), tracking_uri=tracking_uri, registry_uri=registry_uri, dry_run=dry_run, progress=progress
        )

    def import_gto(
        self,
        repo: str | os.PathLike[str] = ".",
        *,
        stage_map: Mapping[str, str] | None = None,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Bring a GTO repository's artifact versions and stage history over (see docs/mlflow.md#gto)."""
        from modelreg.importers.gto import import_repo

        return import_repo(self, str(repo), stage_map or {}, dry_run=dry_run, progress=progress)

    def migrate_store(
        self, url: str, *, push: bool | None = None, remote: str | None = None, progress: Progress | None = None
    ) -> MigrateResult:
        """Copy every blob to the store `url`, verify each there, then commit the config naming it (ops/migrate.py)."""
        from modelreg.ops.migrate import migrate_store

        return migrate_store(self, self.target(push, remote, commits=True), url, progress)

    def gc(self, *, delete: bool = False, grace_s: float = 24 * 3600) -> GcReport:
        """Blobs in the configured store that no manifest references; removed only with `delete`.

        Blobs younger than `grace_s` seconds are kept: a registration may be uploading them. A blob
        is referenced through a version tag, so when the registry's remote exists its refs are
        fetched first (`fetch`; a ref moved or deleted there is an IntegrityError), and gc refuses
        while the main branch or HEAD has a manifest whose version tag is not here.
        """
        if grace_s < 0:
            raise InvalidInputError("the grace period must not be negative")
        if self.source is None and self.config.remote in self.git.git("remote").split():
            self.fetch(strict=True)
        from modelreg.ops.checks import collect_garbage

        return collect_garbage(self, delete=delete, grace_s=grace_s)


def _in_service(state: ModelState) -> None:
    """Stages and aliases of a retired model change only after `unretire`: they would not resolve anyway."""
    if state.retired is not None:
        raise InvalidInputError(
            f"{state.name} is retired ({state.retired}): bring it back with `modelreg unretire {state.name}` first"
        )


def pull(
    ref: str,
    dest: str | os.PathLike[str] | None = None,
    repo: str | os.PathLike[str] = ".",
    store: str | None = None,
    force: bool = False,
) -> Path:
    """Pull a verified artifact: `modelreg.pull("fraud-detector@champion", "models/")`.

    Blobs come from the store of record (the main branch's config), or from `store` when given.
    `dest` must not exist or be empty; `force` replaces what is there, atomically.
    """
    return Registry.open(repo).pull(ref, dest, store=store, force=force)
