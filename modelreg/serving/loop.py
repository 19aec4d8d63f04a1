"""`modelreg sync`: keep DIR/current on the version a reference names, verified, following every change.

Each round asks whether anything that decides the answer moved; only then is the registry read,
under the policy of record (the same reads as `resolve` and `check-ref`), and only a different
version is pulled. With a git URL a no-change round is one `ls-refs` request for a handful of
ref prefixes (see plan.watch): no objects are fetched and the store is not contacted.
"""

from __future__ import annotations

import os
import random
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from modelreg.api import Registry
from modelreg.core.refs import ModelRef, claim_prefixes, parse_ref, tag_patterns
from modelreg.display import jsonview
from modelreg.display.cioutput import text_of
from modelreg.errors import ExitCode, IntegrityError, InvalidInputError, ModelregError, NotFoundError
from modelreg.git.lsrefs import ls_refs
from modelreg.git.remote import entry_id, head_entries
from modelreg.models import Artifact, ModelVersion, RefCheck
from modelreg.paths import cache_home
from modelreg.results import Deployed, Record, SyncResult
from modelreg.serving import plan
from modelreg.serving.layout import Layout

HOOK_TIMEOUT_S = 300.0  # a hook that hangs is stopped and counted as failed (run again next round)


def sync(
    ref: str,
    dest: str | os.PathLike[str],
    *,
    repo: str | None = None,
    path: str | os.PathLike[str] = ".",
    interval: float = 30.0,
    once: bool = False,
    exec_: str | None = None,
    keep: int = 2,
    on_change: Callable[[Deployed], None] | None = None,
    on_record: Callable[[Record], None] | None = None,
    stop: threading.Event | None = None,
    touch: str | os.PathLike[str] | None = None,
) -> SyncResult:
    """Keep `dest`/current on the version `ref` names; returns when `stop` is set (or after one round with `once`).

    `repo`: a git URL read without a clone (else the clone holding `path`, as it is: keep it
    fetched). `on_change` is called after each swap, in this thread; `on_record` gets every log
    record. Run it in a thread with a `threading.Event` as `stop`. `touch`: a file whose modification
    time is set after each swap (created if missing), for servers that reload when a file is touched.
    """
    parsed = parse_ref(ref)
    if interval <= 0:
        raise InvalidInputError("the interval must be positive")
    if keep < 1:
        raise InvalidInputError("--keep must be at least 1: the current version is always kept")
    if exec_ is not None and not shlex.split(exec_):
        raise InvalidInputError("--exec is empty")
    syncer = _Syncer(parsed, ref, Layout(Path(dest)), repo, Path(path), exec_, keep, on_change, on_record)
    syncer.touch = Path(touch) if touch is not None else None
    stop = stop or threading.Event()
    with syncer.layout.locked():
        cleaned = syncer.layout.clean_leftovers()
        if cleaned:
            syncer.emit(Record("cleaned", f"removed what an interrupted run left: {', '.join(cleaned)}"))
        failures = 0
        while True:
            code = syncer.round()
            if once:
                syncer.flush(None)
                return SyncResult(syncer.current(), code, False)
            failures = failures + 1 if code else 0
            delay = plan.backoff_delay(failures, interval, random.random())  # noqa: S311 - jitter, not a secret
            syncer.flush(delay)
            if stop.wait(delay):
                return SyncResult(syncer.current(), ExitCode.OK, True)


class _Syncer:
    def __init__(
        self,
        parsed: ModelRef,
        ref: str,
        layout: Layout,
        repo: str | None,
        path: Path,
        exec_: str | None,
        keep: int,
        on_change: Callable[[Deployed], None] | None,
        on_record: Callable[[Record], None] | None,
    ) -> None:
        self.parsed, self.ref, self.layout, self.repo, self.path = parsed, ref, layout, repo, path
        self.exec, self.keep, self.on_change, self.on_record = exec_, keep, on_change, on_record
        self.watch: plan.Watch | None = None
        self.hook_due: Deployed | None = None
        self.touch: Path | None = None
        self.told: set[str] = set()  # warnings already logged
        self.last_problem: str | None = None
        self.pending: Record | None = None
        self.hook_env: dict[str, str] = {}
        self.policy: dict[str, str | None] = {}  # path → its id in the last full read's policy commit
        self.verified: set[str] = set()  # version directories this process hashed (or pulled) itself

    def emit(self, record: Record) -> None:
        if self.on_record is not None:
            self.on_record(record)

    def flush(self, delay: float | None) -> None:
        """Log the round's problem (once per distinct message), with the wait before the next try."""
        if self.pending is not None:
            self.emit(self.pending._replace(retry_in=None if delay is None else round(delay, 2)))
            self.pending = None

    def current(self) -> Deployed | None:
        facts = self.layout.read_facts()
        name = self.layout.current_name()
        if facts is None or name is None:
            return None
        try:
            target = self.layout.current / str(facts.get("path", "."))
            return Deployed(
                str(facts["name"]),
                int(facts["version"]),
                str(facts["digest"]),
                str(facts.get("ref", self.ref)),
                str(facts.get("tag", "")),
                facts.get("approved_by"),
                str(facts.get("when", "")),
                target if facts.get("path", ".") != "." else self.layout.current,
            )
        except (KeyError, TypeError, ValueError):
            return None

    def round(self) -> int:
        """One round; the exit code `--once` would give now (0: current holds the reference's version)."""
        try:
            unchanged = self._unchanged()
        except ModelregError as exc:  # the remote is unreachable: ask the same cheap question next round
            return self._problem(exc, reread=False)
        if unchanged:
            self.last_problem = None
            self._run_due_hook()
            return ExitCode.OK
        try:
            self._evaluate()
        except ModelregError as exc:
            return self._problem(exc)
        except OSError as exc:
            return self._problem(ModelregError(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")))
        self.last_problem = None
        self._run_due_hook()
        return ExitCode.OK

    def _problem(self, exc: ModelregError, reread: bool = True) -> int:
        if reread:
            self.watch = None  # read everything again next round
        for warning in exc.warnings:
            self._tell(warning)
        refused = isinstance(exc, IntegrityError) or (isinstance(exc, NotFoundError) and bool(exc.warnings))
        code = ExitCode.INTEGRITY if refused else exc.exit_code
        message = str(exc)
        if message != self.last_problem:
            kept = self.layout.current_name()
            suffix = f"; keeping {kept}" if kept else "; nothing is current yet"
            self.pending = Record("refused" if refused else "error", message + suffix, exit_code=code)
        self.last_problem = message
        return code

    def _tell(self, warning: str) -> None:
        if warning not in self.told:
            self.told.add(warning)
            self.emit(Record("ignored", warning))

    def _unchanged(self) -> bool:
        """With a URL: one ls-refs for the watched prefixes, compared with the last full read's answer."""
        if self.repo is None or self.watch is None or self.layout.current_name() is None:
            return False

        seen = ls_refs(self.repo, list(self.watch.prefixes))
        if self.watch.unchanged(seen):
            return True
        if self.policy and self.watch.only_head_moved(seen) and self._policy_untouched(seen["HEAD"]):
            self.watch = self.watch.with_head(seen["HEAD"])
            return True
        return False

    def _policy_untouched(self, head: str) -> bool:
        """Whether the default branch's new commit holds the same `.modelreg/` (and signers file) as the last read's.

        A commit to the code of the repository the registry lives in moves HEAD; that one commit's
        root tree (a few KiB) tells whether the policy could have changed, instead of reading every
        ref of the model again.
        """
        assert self.repo is not None
        try:
            fetched, entries = head_entries(self.repo, tuple(self.policy), cache_home() / "repos")
        except ModelregError:
            return False
        return fetched == head and entries == self.policy

    def _open(self) -> Registry:
        if self.repo is not None:
            return Registry.open_url(self.repo, self.parsed.name)
        return Registry.open(self.path)

    def _evaluate(self) -> None:
        reg = self._open()
        view = reg.reader.deciding(self.parsed)  # the events that can decide it, not the model's past
        for warning in view.rejected:
            self._tell(warning)
        try:
            version = reg.reader.select(view.state, self.parsed)
            resolved = reg.reader.version(view, version)
        except ModelregError as exc:
            exc.warnings = view.rejected
            raise
        event = plan.deciding_event(self.parsed, view.state, view.events, version)
        if event is None:
            raise NotFoundError(f"{self.parsed.name} v{version} has no version tag")
        check = reg.check_ref(event.tag)  # the same audit as `modelreg check-ref`: claim, review, signature
        name = plan.version_dir_name(resolved.name, resolved.version, resolved.digest)
        artifact = resolved.manifest.artifact
        if self.layout.current_name() != name or self.current() is None or not self._trusted(name, artifact):
            self._deploy(reg, resolved, name, check)
        if self.repo is not None:
            listing = reg.git.ref_ids([*tag_patterns(self.parsed.name), *claim_prefixes(self.parsed.name)])
            refs = dict(line.split(" ", 1) for line in listing.splitlines() if line)
            decisive = plan.decisive_refs(self.parsed.name, version, event)
            self.watch = plan.watch(self.parsed.name, decisive, refs, reg.context.policy_commit or "")

            head = reg.context.policy_commit or ""
            self.policy = {p: entry_id(reg.git, head, p) for p in plan.policy_paths(reg.config.allowed_signers)}

    def _trusted(self, name: str, artifact: Artifact) -> bool:
        """Whether the version directory `current` already names may stay: ours all through, and hashed once."""
        if self._set_aside(name):
            return False
        if name not in self.verified and self.layout.holds(name, artifact):
            self.verified.add(name)
        return name in self.verified

    def _set_aside(self, name: str) -> bool:
        """Quarantine versions/`name` if another user could have planted or changed it; whether it did."""
        problem = self.layout.planted(name)
        if problem is None:
            return False
        moved = self.layout.quarantine(name)
        self.verified.discard(name)
        where = moved.relative_to(self.layout.dest)
        self.emit(Record("quarantined", f"versions/{name} {problem}: moved to {where}, never served; pulled afresh"))
        return True

    def _deploy(self, reg: Registry, resolved: ModelVersion, name: str, check: RefCheck) -> None:
        artifact = resolved.manifest.artifact
        self._set_aside(name)
        if not self.layout.holds(name, artifact):
            incoming = self.layout.incoming()
            try:
                reg.pull(resolved, incoming / name)
                self.layout.install(incoming / name, name)
            finally:
                shutil.rmtree(incoming, ignore_errors=True)
        self.verified.add(name)
        before = self.layout.current_name()
        when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        target = self.layout.current / artifact.files[0].path if artifact.is_single_file else self.layout.current
        deployed = Deployed(
            resolved.name, resolved.version, resolved.digest, self.ref, check.tag, check.approved_by, when, target
        )
        self.layout.swap(name, deployed.facts())
        self.emit(Record("swap", f"{self.ref}: {before or 'nothing'} -> {name} ({check.tag})", deployed=deployed))
        self.hook_due = deployed
        self.hook_env = {f"MODELREG_{k.upper()}": text_of(v) for k, v in jsonview.check_json(check).items()}
        self._prune(name)
        if self.touch is not None:
            try:
                self.touch.touch()
                os.utime(self.touch)  # touch() leaves an existing file's time alone on some systems
            except OSError as exc:
                self.emit(Record("hook-failed", f"could not touch {self.touch}: {exc.strerror}", deployed))
        if self.on_change is not None:
            try:
                self.on_change(deployed)
            except Exception as exc:  # the app's own code: reported like a failing hook; the swap stays
                self.emit(Record("hook-failed", f"on_change raised {type(exc).__name__}: {exc}", deployed))

    def _prune(self, current: str) -> None:
        doomed = plan.prune_plan(self.layout.version_dirs(), current, self.keep)
        for name in doomed:
            self.layout.remove_version(name)
        if doomed:
            self.emit(Record("pruned", f"removed {', '.join(doomed)} (--keep {self.keep})"))

    def _run_due_hook(self) -> None:
        deployed = self.hook_due
        if deployed is None or self.exec is None:
            self.hook_due = None
            return
        env = {
            **os.environ,
            **self.hook_env,
            "MODELREG_DIR": str(self.layout.dest),
            "MODELREG_PATH": str(deployed.path),
        }
        started = time.monotonic()
        try:
            proc = subprocess.run(
                shlex.split(self.exec), env=env, capture_output=True, text=True, check=False, timeout=HOOK_TIMEOUT_S
            )
            failure = "" if proc.returncode == 0 else _last_line(proc.stderr) or f"exit {proc.returncode}"
        except subprocess.TimeoutExpired:
            failure = f"still running after {HOOK_TIMEOUT_S:.0f} s: stopped"
        except OSError as exc:
            failure = exc.strerror or str(exc)
        took = time.monotonic() - started
        if failure:
            self.emit(Record("hook-failed", f"--exec failed ({failure}); retried next round", deployed=deployed))
            return
        self.hook_due = None
        self.emit(Record("hook", f"--exec ran for {deployed.name} v{deployed.version} ({took:.2f} s)", deployed))


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""
