"""The in-process SSH signature check: it says yes only when certain, and None (ask git) otherwise.

Signatures are made here with `cryptography` in the SSHSIG format `git tag -s` writes; the check
against git's own verdicts on real tags is in tests/test_cold_reads.py.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from modelreg.core.signatures import signer_ids
from modelreg.read.sshsig import good_report, parse_signers

TAGGED_AT = 1767323045  # 2026-01-02T03:04:05Z


def _string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _tag(key: Ed25519PrivateKey, namespace: bytes = b"git", message: str = "fraud v1 → production") -> bytes:
    payload = (
        f"object {'a' * 40}\ntype commit\ntag fraud#production#1\n"
        f"tagger Jane Doe <jane@example.com> {TAGGED_AT} +0000\n\n{message}\n"
    ).encode()
    public = _string(b"ssh-ed25519") + _string(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    signed = b"SSHSIG" + b"".join(_string(x) for x in (namespace, b"", b"sha512", hashlib.sha512(payload).digest()))
    signature = _string(b"ssh-ed25519") + _string(key.sign(signed))
    blob = (
        b"SSHSIG"
        + (1).to_bytes(4, "big")
        + b"".join(_string(x) for x in (public, namespace, b"", b"sha512", signature))
    )
    text = base64.b64encode(blob)
    armour = b"\n".join(text[i : i + 70] for i in range(0, len(text), 70))
    return payload + b"-----BEGIN SSH SIGNATURE-----\n" + armour + b"\n-----END SSH SIGNATURE-----\n"


def _line(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()


@pytest.fixture
def jane() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_a_good_signature_names_its_principal_and_key(jane: Ed25519PrivateKey) -> None:
    signers = parse_signers(f'jane@example.com namespaces="git" {_line(jane)}\n')
    assert signers is not None
    report = good_report(_tag(jane), signers)
    assert report is not None
    principal, fingerprint = signer_ids(report)
    assert principal == "jane@example.com"
    blob = base64.b64decode(_line(jane).split()[1])
    assert fingerprint == "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("options", "accepted"),
    [
        ("", True),
        ('valid-after="20250101"', True),
        ('valid-before="20270101Z"', True),
        ('valid-before="20251231Z"', False),  # expired before the tagger's time
        ('valid-after="20260102040000Z"', False),  # an hour too late
        ('namespaces="file,email"', False),
        ('namespaces="file,git"', True),
        ("cert-authority", False),  # certificates: git's to judge
        ('unknown-option="x"', False),
    ],
)
def test_line_options_decide_or_defer(jane: Ed25519PrivateKey, options: str, accepted: bool) -> None:
    signers = parse_signers(f"jane@example.com {options} {_line(jane)}\n")
    report = good_report(_tag(jane), signers) if signers is not None else None
    assert (report is not None) == accepted


def test_anything_uncertain_is_left_to_git(jane: Ed25519PrivateKey) -> None:
    other = Ed25519PrivateKey.generate()
    line = _line(jane)
    signers = parse_signers(f"jane@example.com {line}\n")
    assert signers is not None
    tag = _tag(jane)
    assert good_report(tag.replace(b"production", b"productioN", 1), signers) is None  # tampered
    assert good_report(_tag(other), signers) is None  # a key in nobody's line
    assert good_report(_tag(jane, namespace=b"file"), signers) is None  # signed for another purpose
    assert good_report(tag.replace(b"SSH SIGNATURE", b"PGP SIGNATURE"), signers) is None
    assert good_report(tag + b"-----BEGIN SSH SIGNATURE-----\n", signers) is None  # two armours
    twice = parse_signers(f"jane@example.com {line}\njane2@example.com {line}\n")
    assert twice is not None and good_report(tag, twice) is None
    pattern = parse_signers(f"*@example.com {line}\n")
    assert pattern is not None and good_report(tag, pattern) is None
    revoked = parse_signers(f"jane@example.com {line}\n", revoked=f"{line}\n")
    assert revoked is not None and good_report(tag, revoked) is None
    assert parse_signers(f"jane@example.com {line}\n", revoked="SSHKRL binary") is None
    assert parse_signers("jane@example.com ssh-ed25519 not-base64!\n") is None


def test_many_signatures_are_checked_side_by_side_with_the_same_verdicts(
    jane: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past `PARALLEL_FROM` tags, forked processes check shares of them: the verdicts are the one process's."""
    import os
    import threading

    from modelreg.read import sigbatch

    mallory = Ed25519PrivateKey.generate()
    signers = parse_signers(f"jane@example.com {_line(jane)}\n", None)
    good, other = _tag(jane), _tag(mallory)
    tampered = good.replace(b"production", b"productiom")
    objects: list[bytes | None] = [good, other, tampered, None] * 10
    alone = [good_report(o, signers) if o else None for o in objects]
    assert alone.count(None) == 30 and len({r for r in alone if r}) == 1

    monkeypatch.setattr(sigbatch, "PARALLEL_FROM", 8)
    monkeypatch.setattr(sigbatch, "_SHARE", 4)
    monkeypatch.setattr(sigbatch, "_cores", lambda: 4)
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # xdist's worker runs a thread of its own
    assert sigbatch.good_reports(objects, signers) == alone
    check = sigbatch._check
    monkeypatch.setattr(sigbatch, "_check", lambda objs, s: [f"{os.getpid()} {r}" for r in check(objs, s)])
    pids = {report.split(" ", 1)[0] for report in sigbatch.good_reports(objects, signers) if report}
    assert pids and str(os.getpid()) not in pids  # forked processes (a quick one may take two shares), not this one
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert {r.split(" ", 1)[0] for r in sigbatch.good_reports(objects, signers) if r} == {str(os.getpid())}
