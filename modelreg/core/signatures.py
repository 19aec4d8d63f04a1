"""Judging a tag's signature from `git verify-tag --raw`: pure functions, no I/O.

Git decides whether the signature is good and made by a key it trusts (its exit status, with
`gpg.ssh.allowedSignersFile` for SSH keys or the keyring for GPG). What modelreg adds is who: the
signer's principal must be one allowed for the stage or alias the event changes.
"""

from __future__ import annotations

import re

# ssh-keygen, as git relays it: Good "git" signature for alice@example.com with ED25519 key SHA256:…
_SSH_SIGNER = re.compile(r'^Good "git" signature for (?P<principal>.+?) with \S+ key (?P<key>\S+)$', re.M)
# gpg --status-fd: [GNUPG:] GOODSIG <long key id> <user id>, [GNUPG:] VALIDSIG <fingerprint> …
_GPG_GOOD = re.compile(r"^\[GNUPG:\] GOODSIG (?P<keyid>\S+) (?P<uid>.*)$", re.M)
_GPG_VALID = re.compile(r"^\[GNUPG:\] VALIDSIG (?P<fingerprint>[0-9A-Fa-f]+)", re.M)
_EMAIL = re.compile(r"<([^<>\s]+)>")


def signer_ids(report: str) -> tuple[str, ...]:
    """Every name the signer goes by in a verify-tag report: principal, email, key id, fingerprint."""
    ids: list[str] = []
    for match in _SSH_SIGNER.finditer(report):
        ids += [match["principal"], match["key"]]
    for match in _GPG_GOOD.finditer(report):
        ids += [*_EMAIL.findall(match["uid"]), match["uid"].strip(), match["keyid"]]
    ids += [m["fingerprint"] for m in _GPG_VALID.finditer(report)]
    return tuple(dict.fromkeys(i for i in ids if i))


def signature_problem(tag: str, verified: bool, report: str, allowed: tuple[str, ...], target: str) -> str | None:
    """Why the signature of `tag` does not count (None when it does).

    `verified` is git verify-tag's exit status; `allowed` the principals that may sign events on
    `target` (empty: any signer git trusts).
    """
    if not verified:
        lines = [line.strip() for line in report.splitlines() if line.strip() and not line.startswith("[GNUPG:]")]
        if "no signature found" in report or not report.strip():
            return f"{tag} is not signed"
        return f"{tag}: git does not accept its signature ({lines[-1] if lines else 'no reason given'})"
    ids = signer_ids(report)
    if not ids:
        return f"{tag}: git accepted the signature but named no signer"
    if allowed and not set(ids) & set(allowed):
        return f"{tag} is signed by {ids[0]}, who is not among the signers allowed for {target!r}"
    return None
