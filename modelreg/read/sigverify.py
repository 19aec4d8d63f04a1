"""Checking event signatures (DESIGN §3, §10): in process where that is certain, else `git verify-tag`.

SSH signatures checked against the allowed-signers file of record are verified in process
(sshsig), at the cost of a hash; whatever sshsig does not accept with certainty (GPG, X.509,
certificates, a failure of any kind) goes to git, whose verdict and words stand. Either way the
report is judged by signatures.py.

One `git verify-tag` (and ssh-keygen under it) per tag costs milliseconds, so reads remember
what git said, keyed by what its answer depends on: the tag object id (its bytes, signature
included) and the bytes of the allowed-signers file it was checked against. A different file,
a replaced tag, anything else is checked afresh. Only SSH signatures checked against the
configured file are remembered (a GPG keyring is state no key names); `verify` never reads them.
"""

from __future__ import annotations

import atexit
import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from modelreg import cachefile
from modelreg.core.signatures import signature_problem
from modelreg.git import GitRepo
from modelreg.git.peeled import raw_objects
from modelreg.models import Event, Finding
from modelreg.paths import cache_dir
from modelreg.read.context import Context

if TYPE_CHECKING:
    from modelreg.read.sshsig import Signers


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
    allowed = _allowed_signers(ctx)
    if isinstance(allowed, str):
        return [Finding("signature", ctx.config.allowed_signers or "", allowed)]
    reports = _reports(ctx, [e.object for e in todo], allowed, remembered)

    findings = []
    for event, (verified, report) in zip(todo, reports, strict=True):
        target = event.target or ""
        problem = signature_problem(event.tag, verified, report, ctx.config.signers.get(target, ()), target)
        if problem:
            findings.append(Finding("signature", event.tag, problem))
    return findings


# Per process: git's verdicts by signers key (content), and each repository's revocation list setting.
_VERDICTS: dict[str, dict[str, tuple[bool, str]]] = {}
# Verdicts not yet written, by signers key → the cache file: written once, when the process ends (`list` checks
# model after model, and writing the growing file after each one cost 22 s at 100,000 signed events).
_UNSAVED: dict[str, str] = {}
_REVOKED: weakref.WeakKeyDictionary[GitRepo, str | None] = weakref.WeakKeyDictionary()


def _reports(ctx: Context, objects: list[str], allowed: Path | None, remembered: bool) -> list[tuple[bool, str]]:
    """git's (accepted, report) for each tag object, from memory where it may be."""
    if allowed is None:
        return _ask_git(ctx, objects, allowed)
    if not remembered:
        return _judge(ctx, objects, allowed)

    key = _signers_key(ctx, allowed)
    path = os.path.join(cache_dir(), "signatures", cachefile.file_name(key))
    known = _VERDICTS.get(key)
    if known is None:
        loaded = cachefile.load(path)
        valid = isinstance(loaded, tuple) and len(loaded) == 2 and loaded[0] == key and isinstance(loaded[1], dict)
        known = _VERDICTS[key] = loaded[1] if valid else {}
    missing = sorted({obj for obj in objects if obj not in known})
    if missing:
        known.update(zip(missing, _judge(ctx, missing, allowed), strict=True))
        if not _UNSAVED:
            atexit.register(_save)
        _UNSAVED[key] = path
    return [known[obj] for obj in objects]


def _save() -> None:
    """Write the verdicts this process learnt (see _UNSAVED)."""
    for key, path in _UNSAVED.items():
        cachefile.dump(path, (key, _VERDICTS[key]))
    _UNSAVED.clear()


def _judge(ctx: Context, objects: list[str], allowed: Path) -> list[tuple[bool, str]]:
    """(accepted, report) of each tag: checked in process where that is certain (see sshsig), else by git."""
    # Deferred: sshsig imports `cryptography` (25-75 ms measured), paid only where a signature is checked.
    from modelreg.read.sigbatch import good_reports

    signers = _signers(ctx, allowed)
    good: dict[str, str] = {}
    if signers is not None:
        reports = good_reports(raw_objects(ctx.git, objects), signers)
        good = {obj: report for obj, report in zip(objects, reports, strict=True) if report}
    rest = [obj for obj in objects if obj not in good]
    asked = dict(zip(rest, _ask_git(ctx, rest, allowed), strict=True)) if rest else {}
    return [(True, good[obj]) if obj in good else asked[obj] for obj in objects]


def _signers(ctx: Context, allowed: Path) -> Signers | None:
    from modelreg.read.sshsig import parse_signers  # deferred: see _judge

    """The allowed-signers file (and git's revocation list) as sshsig reads them; None: leave it all to git."""
    if ctx.git not in _REVOKED:
        _REVOKED[ctx.git] = ctx.git.config_get("gpg.ssh.revocationFile")
    revoked_path = _REVOKED[ctx.git]
    try:
        text = allowed.read_text(encoding="utf-8")
        revoked = Path(revoked_path).expanduser().read_text(encoding="utf-8") if revoked_path else None
    except (OSError, UnicodeDecodeError):
        return None
    return parse_signers(text, revoked)


def _ask_git(ctx: Context, objects: list[str], allowed: Path | None) -> list[tuple[bool, str]]:
    from concurrent.futures import ThreadPoolExecutor  # ~5 ms (logging) that an unsigned registry never pays

    # Each check is a git process (and ssh-keygen or gpg under it): run them side by side.
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda obj: ctx.git.verify_tag(obj, allowed), objects))


def _signers_key(ctx: Context, allowed: Path) -> str:
    """What an SSH verdict depends on besides the tag: the allowed signers, and revoked keys if git has a list."""
    import hashlib  # ~3 ms (OpenSSL) that an unsigned registry never pays

    if ctx.git not in _REVOKED:
        _REVOKED[ctx.git] = ctx.git.config_get("gpg.ssh.revocationFile")
    digest = hashlib.sha256(allowed.read_bytes())
    if revoked := _REVOKED[ctx.git]:
        try:
            digest.update(b"\0revoked\0" + Path(revoked).expanduser().read_bytes())
        except OSError:
            digest.update(b"\0unreadable revocation list\0" + revoked.encode())
    return digest.hexdigest()


def _allowed_signers(ctx: Context) -> Path | str | None:
    """The configured allowed-signers file as a path (None: git's own setting), or why it is unusable.

    The file is part of the policy of record: read as committed where the config was read (the
    main branch), never from whatever the work tree holds. Its text is written once to a private
    cache file named by its digest, which git then reads.
    """
    rel = ctx.config.allowed_signers
    if rel is None:
        return None
    rev = ctx.policy_commit or ("refs/remotes/origin/HEAD" if ctx.source else None)
    if rev is None:  # the policy of record is the work tree's own (a registry with no main branch yet)
        path = ctx.root / rel
        return path if path.is_file() else f"the allowed-signers file {rel} named in the config does not exist"
    (text,) = ctx.git.read_files([(rev, rel)], keep=True)
    if text is None:
        return f"the allowed-signers file {rel} named in the config is not committed at {rev[:12]}"
    return _content_file(text)


def _content_file(text: str) -> Path:
    """A private file holding `text`, named by its digest (so made once, and never changed after)."""
    import hashlib  # see _signers_key

    data = text.encode("utf-8", errors="surrogateescape")
    directory = os.path.join(cache_dir(), "signers")
    path = Path(directory) / hashlib.sha256(data).hexdigest()
    if not cachefile.private_dir(directory):
        import atexit  # with tempfile: ~3 ms, only when git must judge a signature
        import tempfile

        handle, name = tempfile.mkstemp(prefix="modelreg-signers-")
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        atexit.register(os.unlink, name)
        return Path(name)
    try:
        if path.read_bytes() == data and cachefile.private(path.stat()):
            return path
    except OSError:
        pass
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as file:
        file.write(data)
    os.replace(tmp, path)
    return path
