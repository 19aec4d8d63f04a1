"""Checking event signatures with git (DESIGN §3): `git verify-tag`, judged by signatures.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from modelreg.models import Event, Finding

if TYPE_CHECKING:
    from modelreg.context import Context


def signature_findings(ctx: Context, events: dict[str, list[Event]], only: str | None = None) -> list[Finding]:
    """When the registry requires signed events: every version or event tag whose signature git or the signers
    list refuse. A version tag may be signed by any allowed signer; an event tag by one allowed for its target."""
    if not ctx.config.require_signed:
        return []
    todo = [e for model in events.values() for e in model if only is None or e.tag == only]
    if not todo:
        return []
    from concurrent.futures import ThreadPoolExecutor

    with _allowed_signers(ctx) as allowed:
        if isinstance(allowed, str):
            return [Finding("signature", ctx.config.allowed_signers or "", allowed)]
        # Each check is a git process (and ssh-keygen or gpg under it): run them side by side.
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            reports = list(pool.map(lambda e: ctx.git.verify_tag(e.object, allowed), todo))
    from modelreg.signatures import signature_problem

    findings = []
    for event, (verified, report) in zip(todo, reports, strict=True):
        target = event.target or ""
        problem = signature_problem(event.tag, verified, report, ctx.config.signers.get(target, ()), target)
        if problem:
            findings.append(Finding("signature", event.tag, problem))
    return findings


@contextmanager
def _allowed_signers(ctx: Context) -> Iterator[Path | str | None]:
    """The configured allowed-signers file as a path (None: git's own setting), or why it is unusable."""
    rel = ctx.config.allowed_signers
    if rel is None:
        yield None
        return
    if not ctx.source:
        path = ctx.root / rel
        yield path if path.is_file() else f"the allowed-signers file {rel} named in the config does not exist"
        return
    import tempfile

    (text,) = ctx.git.read_files([("refs/remotes/origin/HEAD", rel)])
    if text is None:
        yield f"the allowed-signers file {rel} named in the config does not exist"
        return
    with tempfile.TemporaryDirectory(prefix="modelreg-signers-") as tmp:
        path = Path(tmp) / "allowed_signers"
        path.write_text(text, encoding="utf-8")
        yield path
