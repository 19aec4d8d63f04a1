"""Checking event signatures with git (DESIGN §3): `git verify-tag`, judged by signatures.py.

One `git verify-tag` (and ssh-keygen under it) per tag costs milliseconds, so reads remember
what git said, keyed by what its answer depends on: the tag object id (its bytes, signature
included) and the bytes of the allowed-signers file it was checked against. A different file,
a replaced tag, anything else is checked afresh. Only SSH signatures checked against the
configured file are remembered (a GPG keyring is state no key names); `verify` never reads them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from modelreg.models import Event, Finding

if TYPE_CHECKING:
    from modelreg.context import Context


def signature_findings(
    ctx: Context, events: dict[str, list[Event]], only: str | None = None, *, remembered: bool = True
) -> list[Finding]:
    """When the registry requires signed events: every version or event tag whose signature git or the signers
    list refuse. A version tag may be signed by any allowed signer; an event tag by one allowed for its target.
    `remembered`: take git's earlier answers for the same tag and signers file (see above)."""
    if not ctx.config.require_signed:
        return []
    todo = [e for model in events.values() for e in model if only is None or e.tag == only]
    if not todo:
        return []
    with _allowed_signers(ctx) as allowed:
        if isinstance(allowed, str):
            return [Finding("signature", ctx.config.allowed_signers or "", allowed)]
        reports = _reports(ctx, [e.object for e in todo], allowed, remembered)
    from modelreg.signatures import signature_problem

    findings = []
    for event, (verified, report) in zip(todo, reports, strict=True):
        target = event.target or ""
        problem = signature_problem(event.tag, verified, report, ctx.config.signers.get(target, ()), target)
        if problem:
            findings.append(Finding("signature", event.tag, problem))
    return findings


def _reports(ctx: Context, objects: list[str], allowed: Path | None, remembered: bool) -> list[tuple[bool, str]]:
    """git's (accepted, report) for each tag object, from memory where it may be."""
    path, key = None, None
    if allowed is not None:
        from modelreg import cachefile
        from modelreg.paths import cache_dir

        key = _signers_key(ctx, allowed)
        path = os.path.join(cache_dir(), "signatures", cachefile.file_name(key))
    known: dict[str, tuple[bool, str]] = {}
    if path is not None and remembered:
        loaded = cachefile.load(path)
        if isinstance(loaded, tuple) and len(loaded) == 2 and loaded[0] == key and isinstance(loaded[1], dict):
            known = loaded[1]
    missing = sorted({obj for obj in objects if obj not in known})
    if missing:
        from concurrent.futures import ThreadPoolExecutor

        # Each check is a git process (and ssh-keygen or gpg under it): run them side by side.
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            known.update(zip(missing, pool.map(lambda obj: ctx.git.verify_tag(obj, allowed), missing), strict=True))
        if path is not None and remembered:
            cachefile.dump(path, (key, known))
    return [known[obj] for obj in objects]


def _signers_key(ctx: Context, allowed: Path) -> str:
    """What an SSH verdict depends on besides the tag: the allowed signers, and revoked keys if git has a list."""
    import hashlib

    digest = hashlib.sha256(allowed.read_bytes())
    revoked = ctx.git.config_get("gpg.ssh.revocationFile")
    if revoked:
        try:
            digest.update(b"\0revoked\0" + Path(revoked).expanduser().read_bytes())
        except OSError:
            digest.update(b"\0unreadable revocation list\0" + revoked.encode())
    return digest.hexdigest()


@contextmanager
def _allowed_signers(ctx: Context) -> Iterator[Path | str | None]:
    """The configured allowed-signers file as a path (None: git's own setting), or why it is unusable.

    The file is part of the policy of record: read as committed where the config was read (the
    main branch), never from whatever the work tree holds.
    """
    rel = ctx.config.allowed_signers
    if rel is None:
        yield None
        return
    rev = ctx.policy_commit or ("refs/remotes/origin/HEAD" if ctx.source else None)
    if rev is None:  # the policy of record is the work tree's own (a registry with no main branch yet)
        path = ctx.root / rel
        yield path if path.is_file() else f"the allowed-signers file {rel} named in the config does not exist"
        return
    import tempfile

    (text,) = ctx.git.read_files([(rev, rel)])
    if text is None:
        yield f"the allowed-signers file {rel} named in the config is not committed at {rev[:12]}"
        return
    with tempfile.TemporaryDirectory(prefix="modelreg-signers-") as tmp:
        path = Path(tmp) / "allowed_signers"
        path.write_text(text, encoding="utf-8")
        yield path
