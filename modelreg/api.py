"""The Registry: every operation the CLI offers, typed, never printing.

A façade: a `Reader` answers queries (modelreg/read/), a `Publisher` makes writes visible
(modelreg/publish/), and each operation is a function of its family in modelreg/ops/, given the
reader and publisher it needs. Every method here is a one-line delegation.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Unpack

from modelreg import results
from modelreg.core.progress import Progress
from modelreg.core.refs import ModelRef
from modelreg.formats.config import Config
from modelreg.git import GitRepo
from modelreg.importers import gto, mlflow
from modelreg.models import Event, Manifest, ModelState, ModelSummary, ModelVersion, RefCheck, SearchResult, VersionDiff
from modelreg.ops import assign, checks, deletion, lifecycle, lint, reviews, upgrade
from modelreg.ops import notify as notifying
from modelreg.ops import rename as renaming
from modelreg.ops.migrate import MigrateResult, migrate_store
from modelreg.ops.register import RegisterArgs, init_registry, register
from modelreg.publish import fetching
from modelreg.publish.options import WriteArgs, WriteOptions
from modelreg.publish.publisher import Publisher
from modelreg.read import opening, search
from modelreg.read.reader import ModelView, Reader
from modelreg.read.when import When
from modelreg.report import write_report
from modelreg.results import ImportReport


class Registry:
    """A model registry in a git repository's `.modelreg/` directory."""

    def __init__(self, git: GitRepo, config: Config, source: str | None = None, policy_commit: str | None = None):
        self.reader = Reader(git, config, source, policy_commit)
        self.publisher = Publisher(self.reader)
        self.git, self.config, self.source, self.context = git, config, source, self.reader.context

    @classmethod
    def open(cls, path: str | os.PathLike[str] = ".") -> Registry:
        """The registry of the repository holding `path`, under its policy of record (see read.opening)."""
        return cls(*opening.open_path(path))

    @classmethod
    def open_url(cls, url: str, name: str | None = None) -> Registry:
        """A read-only view of the registry at a git URL (of model `name`, or all), without cloning it."""
        return cls(*opening.open_url(url, name))

    @staticmethod
    def init(path: str | os.PathLike[str] = ".", store: str | None = None) -> results.InitResult:
        """Write and commit `.modelreg/config.yaml` (and ignore the default local store)."""
        return init_registry(path, store)

    @staticmethod
    def lint(path: str | os.PathLike[str] = ".") -> results.LintReport:
        """Check the registry's files in the work tree holding `path`: no store, no network (see ops.lint)."""
        return lint.lint(path)

    # --- reads -------------------------------------------------------------------------------

    def resolve(self, ref: str | ModelRef, at: When | None = None) -> ModelVersion:
        """The version `ref` names (with `at`: named then), manifest checked against its tag."""
        return self.reader.resolve(ref, at)

    show = resolve

    def model(self, name: str, at: When | None = None) -> ModelView:
        """The model as the policy of record admits it: its state, events, and what was left out."""
        return self.reader.model(name, at)

    def state(self, name: str) -> ModelState:
        return self.reader.state(name)

    def models(self, at: When | None = None) -> list[ModelSummary]:
        """Every model that has a version, by name, with its stages, aliases and status."""
        return self.reader.models(at)

    def history(self, name: str, since: When | None = None, until: When | None = None) -> list[Event]:
        """Registrations and events in causal order; `since`/`until` bound them."""
        return self.reader.history(name, since, until)

    def problems(self, name: str | None = None) -> tuple[str, ...]:
        return self.reader.problems(name)

    def diff(self, name: str, a: int, b: int) -> VersionDiff:
        return self.reader.diff(name, a, b)

    def manifest(self, name: str, version: int) -> Manifest:
        return self.reader.manifest(name, version)

    def search(self, filter_string: str | None = None, **query: Unpack[search.SearchArgs]) -> SearchResult:
        """Versions the policy admits that match an MLflow filter string, e.g. `"metrics.auc > 0.9"`.

        `model`, `order_by` (e.g. `["created DESC"]`), `limit`, and `at` (stages and aliases as they were then).
        """
        return search.search(self.reader, filter_string, **query)

    def check_ref(self, ref: str) -> RefCheck:
        """Describe a modelreg tag for CI; IntegrityError when it does not verify (claim, review, signature)."""
        return checks.check_ref(self.reader, ref)

    def pull(
        self,
        ref: str | ModelRef | ModelVersion,
        dest: str | os.PathLike[str] | None = None,
        progress: Progress | None = None,
        store: str | None = None,
        force: bool = False,
    ) -> Path:
        """Place a verified artifact in `dest`, its blobs from the store of record (or `store`)."""
        return self.reader.pull(ref, dest, progress, store, force)

    def fetch(self, remote: str | None = None, *, strict: bool = False) -> results.FetchReport:
        """Bring the registry's refs up to date from `remote`; a moved ref is reported (raised with `strict`)."""
        return fetching.fetch(self.reader, remote, strict=strict)

    # --- writes ------------------------------------------------------------------------------

    def register(self, name: str, path: str | os.PathLike[str], **args: Unpack[RegisterArgs]) -> ModelVersion:
        """Hash and store an artifact, commit its manifest and tag it `NAME@v<N>` (see ops.register)."""
        return register(self.reader, self.publisher, name, path, args)

    def promote(
        self, name: str, version: int, stage: str, *, keep_existing: bool = False, **write: Unpack[WriteArgs]
    ) -> Event:
        """Assign `stage` to a version; a single-holder stage archives its previous holder."""
        return assign.promote(self.reader, self.publisher, name, version, stage, keep_existing, WriteOptions(**write))

    def remove_stage(self, name: str, version: int, **write: Unpack[WriteArgs]) -> Event:
        """Take a version out of its stage (an `unassign` event): MLflow's transition to stage "None"."""
        return assign.remove_stage(self.reader, self.publisher, name, version, WriteOptions(**write))

    def set_alias(self, name: str, alias: str, version: int, **write: Unpack[WriteArgs]) -> Event:
        """Point `alias` at a version (moving it if it points elsewhere)."""
        return assign.set_alias(self.reader, self.publisher, name, alias, version, WriteOptions(**write))

    def remove_alias(self, name: str, alias: str, **write: Unpack[WriteArgs]) -> Event:
        return assign.remove_alias(self.reader, self.publisher, name, alias, WriteOptions(**write))

    def rollback(
        self,
        name: str,
        *,
        stage: str | None = None,
        alias: str | None = None,
        to: int | None = None,
        **write: Unpack[WriteArgs],
    ) -> Event:
        """Re-assign the version that held a stage (default `production`) or alias before the current one."""
        return assign.rollback(self.reader, self.publisher, name, stage, alias, to, WriteOptions(**write))

    def retire(self, name: str, **write: Unpack[WriteArgs]) -> Event:
        """Retire a model (a reason is required): its stages, aliases and latest no longer resolve, `NAME@N` does."""
        return lifecycle.retire(self.reader, self.publisher, name, WriteOptions(**write))

    def unretire(self, name: str, **write: Unpack[WriteArgs]) -> Event:
        """Return a retired model to service: its stages and aliases resolve again, as they were."""
        return lifecycle.retire(self.reader, self.publisher, name, WriteOptions(**write), back=True)

    def delete(self, name: str, version: int | None = None, **write: Unpack[WriteArgs]) -> Event:
        """Delete a version (or, with no version, the model) as a tombstone event; a reason is required."""
        return deletion.delete(self.reader, self.publisher, name, version, WriteOptions(**write))

    def rename(self, old: str, new: str, **write: Unpack[WriteArgs]) -> results.RenameResult:
        """Rename a model: its versions registered again under `new`, its events given back, `old` deleted."""
        return renaming.rename(self.reader, self.publisher, old, new, WriteOptions(**write))

    def update(self, name: str, version: int, **edit: Unpack[lifecycle.EditArgs]) -> results.UpdateResult:
        """Edit a version's `description` and `tags` (the only mutable keys), `remove_tags`: a commit and an event."""
        return lifecycle.update(self.reader, self.publisher, name, version, edit)

    def create(self, name: str, **edit: Unpack[lifecycle.EditArgs]) -> Event:
        return lifecycle.create(self.reader, self.publisher, name, edit)

    def describe(self, name: str, **edit: Unpack[lifecycle.EditArgs]) -> Event:
        """Set the model's own `description` and `tags` (`ModelSummary.description`, `.tags`), as an event."""
        return lifecycle.describe(self.reader, self.publisher, name, edit)

    # --- reviews, checks, maintenance --------------------------------------------------------

    def request(
        self, name: str, version: int, target: str, **args: Unpack[reviews.RequestArgs]
    ) -> results.CreatedRequest:
        """Propose a stage (or alias) change for review: a request file committed on a new branch (see ops.reviews)."""
        return reviews.request(self.reader, self.publisher, name, version, target, args)

    def requests(self) -> results.RequestList:
        """Requests on `modelreg/request/*` branches (open), merged and waiting, and applied."""
        found, problems = reviews.statuses(self.reader)
        return results.RequestList(tuple(found), tuple(problems))

    def apply(
        self, *, push: bool | None = None, remote: str | None = None, sign: bool | None = None
    ) -> list[results.ApplyResult]:
        """Write the event of every merged, not yet applied request on the checked-out main line."""
        return reviews.apply(self.reader, self.publisher, WriteOptions(push, remote, sign))

    def verify(
        self, name: str | None = None, *, blobs: bool = False, progress: Progress | None = None
    ) -> results.VerifyReport:
        """Check tags, claim refs and manifests (and, with `blobs`, re-hash every stored blob)."""
        return checks.verify(self.reader, name, blobs=blobs, progress=progress)

    def migrate_store(
        self, url: str, *, push: bool | None = None, remote: str | None = None, progress: Progress | None = None
    ) -> MigrateResult:
        """Copy every blob to the store `url`, verify each there, then commit the config naming it (ops.migrate)."""
        return migrate_store(self.reader, self.publisher, url, WriteOptions(push, remote), progress)

    def gc(self, *, delete: bool = False, grace_s: float = 24 * 3600) -> results.GcReport:
        """Blobs that no manifest references, younger than `grace_s` kept; removed only with `delete`."""
        return checks.collect_garbage(self.reader, delete=delete, grace_s=grace_s)

    def notify(self, **args: Unpack[notifying.NotifyArgs]) -> notifying.NotifyResult:
        """Post each new admitted event once, in seq order, to a webhook or chat (see ops.notify)."""
        return notifying.notify(self.reader, **args)

    def report(
        self, out_dir: str | os.PathLike[str], names: Sequence[str] | None = None, *, force: bool = False
    ) -> results.ReportResult:
        """Write a static HTML site of the registry (or of `names`) into `out_dir`: no server, no network."""
        return write_report(self.reader, out_dir, names, force=force)

    def upgrade(self, *, push: bool | None = None, remote: str | None = None) -> results.UpgradeResult:
        """Claim the version tags an earlier modelreg wrote without claim refs, where they verify."""
        return upgrade.upgrade(self.reader, self.publisher.target(WriteOptions(push, remote)))

    def import_mlflow(self, names: Sequence[str] = (), **args: Unpack[mlflow.ImportArgs]) -> ImportReport:
        """Bring MLflow's registered models (all, or `names`) over; needs the `mlflow` extra (docs/mlflow.md)."""
        return mlflow.import_registry(self.reader, self.publisher, list(names), **args)

    def import_gto(self, repo: str | os.PathLike[str] = ".", **args: Unpack[gto.ImportArgs]) -> ImportReport:
        """Bring a GTO repository's artifact versions and stage history over (see docs/mlflow.md#gto)."""
        return gto.import_repo(self.reader, self.publisher, str(repo), **args)


def pull(
    ref: str,
    dest: str | os.PathLike[str] | None = None,
    repo: str | os.PathLike[str] = ".",
    store: str | None = None,
    force: bool = False,
) -> Path:
    """Pull a verified artifact: `modelreg.pull("fraud-detector@champion", "models/")`.

    Blobs come from the store of record (the main branch's config), or from `store` when given.
    """
    return Registry.open(repo).pull(ref, dest, store=store, force=force)
