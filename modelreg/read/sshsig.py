"""SSH signatures of tags checked in process: the SSHSIG format over the tag payload (pure, no I/O).

`git verify-tag` runs ssh-keygen twice per tag (find-principals, then verify): milliseconds each,
which a read of thousands of signed events cannot afford. This module checks the same thing with
the `cryptography` library: the signature (PROTOCOL.sshsig, namespace `git`) over the tag object up
to its signature, by a key that exactly one line of the allowed-signers file names, for one plain
principal, with that line's `namespaces`, `valid-after` and `valid-before` (at the tagger's time,
as git asks ssh-keygen) allowing it, and the key not in the revocation list.

It only ever says yes. Anything it does not fully understand or that does not pass (another
signature format, certificates, security keys, principal patterns, a key on several lines, a
revocation list that is not plain keys, any failure) returns None: git is asked, and git's
answer, with git's words, is the verdict.
"""

from __future__ import annotations

import base64
import calendar
import functools
import hashlib
import re
import time
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

_BEGIN = b"-----BEGIN SSH SIGNATURE-----"
_END = b"-----END SSH SIGNATURE-----"
# Every armour git recognises as the start of a signature (gpg-interface.c): the first one found is the one.
_ANY_BEGIN = re.compile(rb"^-----BEGIN (?:PGP SIGNATURE|PGP MESSAGE|SIGNED MESSAGE|SSH SIGNATURE)-----$", re.MULTILINE)
_TAGGER_TIME = re.compile(rb"^tagger [^\n]*> (\d+) [+-]\d{4}$", re.MULTILINE)
_KEY_NAMES = {
    "ssh-ed25519": "ED25519",
    "ssh-rsa": "RSA",
    "ecdsa-sha2-nistp256": "ECDSA",
    "ecdsa-sha2-nistp384": "ECDSA",
    "ecdsa-sha2-nistp521": "ECDSA",
}
_CURVES: dict[str, tuple[ec.EllipticCurve, hashes.HashAlgorithm]] = {
    "nistp256": (ec.SECP256R1(), hashes.SHA256()),
    "nistp384": (ec.SECP384R1(), hashes.SHA384()),
    "nistp521": (ec.SECP521R1(), hashes.SHA512()),
}
_OPTION = re.compile(r'([a-z-]+)(?:="([^"]*)"|=([^",\s]*))?(?:,|$)')
_PLAIN_PRINCIPAL = re.compile(r"[^*?!,\s\"]+")


class Signer(NamedTuple):
    principal: str
    namespaces: str | None
    valid_after: float | None
    valid_before: float | None


class Signers(NamedTuple):
    """An allowed-signers file as far as it is understood here: key blob → the lines naming it."""

    by_key: dict[bytes, list[Signer | None]]  # None: a line naming the key that this module does not handle
    revoked: frozenset[bytes]


def parse_signers(text: str, revoked: str | None = None) -> Signers | None:
    """The allowed-signers file (and a revocation list of public keys); None when either is beyond this module."""
    by_key: dict[bytes, list[Signer | None]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) < 3:
            return None
        principals, rest = fields[0], line[len(fields[0]) :].strip()
        options = ""
        if rest.split()[0] not in _KEY_NAMES:
            options, _, rest = _split_options(rest)
        parts = rest.split()
        if len(parts) < 2 or parts[0] not in _KEY_NAMES:
            return None
        try:
            blob = base64.b64decode(parts[1], validate=True)
        except ValueError:
            return None
        by_key.setdefault(blob, []).append(_signer(principals, options))
    keys: set[bytes] = set()
    for raw in (revoked or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 2 or parts[0] not in _KEY_NAMES:
            return None  # a key revocation list (KRL) or anything else: git reads it
        try:
            keys.add(base64.b64decode(parts[1], validate=True))
        except ValueError:
            return None
    return Signers(by_key, frozenset(keys))


def _split_options(rest: str) -> tuple[str, str, str]:
    """(options, "", what follows) where options may hold quoted spaces."""
    quoted = False
    for index, char in enumerate(rest):
        if char == '"':
            quoted = not quoted
        elif char.isspace() and not quoted:
            return rest[:index], "", rest[index:].strip()
    return rest, "", ""


def _signer(principals: str, options: str) -> Signer | None:
    if not _PLAIN_PRINCIPAL.fullmatch(principals):
        return None
    found: dict[str, str] = {}
    position = 0
    while position < len(options):
        match = _OPTION.match(options, position)
        if match is None or match.end() == position:
            return None
        found[match[1]] = match[2] if match[2] is not None else (match[3] or "")
        position = match.end()
    if set(found) - {"namespaces", "valid-after", "valid-before"}:
        return None  # cert-authority and anything newer: git decides
    after = _when(found["valid-after"]) if "valid-after" in found else None
    before = _when(found["valid-before"]) if "valid-before" in found else None
    if (after is not None and after < 0) or (before is not None and before < 0):
        return None
    return Signer(principals, found.get("namespaces"), after, before)


def _when(text: str) -> float:
    """ssh-keygen's YYYYMMDD[HHMM[SS]][Z] (local time without Z); -1 when it is none of those."""
    utc = text.endswith("Z")
    digits = text[:-1] if utc else text
    if not digits.isdigit() or len(digits) not in (8, 12, 14):
        return -1
    digits = digits.ljust(14, "0")
    fields = (int(digits[0:4]), int(digits[4:6]), int(digits[6:8]), int(digits[8:10]), int(digits[10:12]))
    try:
        moment = time.struct_time((*fields, int(digits[12:14]), 0, 0, -1))
        return float(calendar.timegm(moment)) if utc else time.mktime(moment)
    except (OverflowError, ValueError):
        return -1


def good_report(tag_object: bytes, signers: Signers) -> str | None:
    """`Good "git" signature for P with T key SHA256:…` when the tag's SSH signature certainly verifies."""
    begins = list(_ANY_BEGIN.finditer(tag_object))
    if len(begins) != 1 or begins[0].group() != _BEGIN:
        return None
    payload, armour = tag_object[: begins[0].start()], tag_object[begins[0].start() :]
    lines = armour.strip().split(b"\n")
    if lines[-1] != _END:
        return None
    try:
        blob = base64.b64decode(b"".join(lines[1:-1]), validate=True)
        return _check(blob, payload, signers)
    except (ValueError, IndexError):
        return None


def _check(blob: bytes, payload: bytes, signers: Signers) -> str | None:
    reader = _Reader(blob)
    if reader.raw(6) != b"SSHSIG" or reader.uint32() != 1:
        return None
    public, namespace, reserved, hash_name, signature = (reader.string() for _ in range(5))
    if not reader.done() or namespace != b"git" or reserved or hash_name not in (b"sha256", b"sha512"):
        return None
    lines = signers.by_key.get(public, [])
    if len(lines) != 1 or lines[0] is None or public in signers.revoked:
        return None
    signer = lines[0]
    tagged = _TAGGER_TIME.search(payload)
    if tagged is None or not _allows(signer, float(tagged[1])):
        return None
    digest = hashlib.new(hash_name.decode(), payload).digest()
    signed = b"SSHSIG" + b"".join(_string(x) for x in (namespace, reserved, hash_name, digest))
    if not _verify(public, signature, signed):
        return None
    return f'Good "git" signature for {signer.principal} with {_key_label(public)}'


def _allows(signer: Signer, when: float) -> bool:
    if signer.namespaces is not None and "git" not in signer.namespaces.split(","):
        return False
    if signer.valid_after is not None and when < signer.valid_after:
        return False
    return not (signer.valid_before is not None and when > signer.valid_before)


def _verify(public: bytes, signature: bytes, signed: bytes) -> bool:
    key = _Reader(public)
    key_type = key.string().decode()
    sig = _Reader(signature)
    sig_type = sig.string().decode()
    raw = sig.string()
    try:
        if key_type == "ssh-ed25519" and sig_type == key_type:
            _ed25519_key(key.string()).verify(raw, signed)
        elif key_type == "ssh-rsa" and sig_type in ("rsa-sha2-256", "rsa-sha2-512"):
            exponent, modulus = key.mpint(), key.mpint()
            chosen: hashes.HashAlgorithm = hashes.SHA256() if sig_type == "rsa-sha2-256" else hashes.SHA512()
            rsa_key = rsa.RSAPublicNumbers(exponent, modulus).public_key()
            rsa_key.verify(raw, signed, padding.PKCS1v15(), chosen)
        elif key_type.startswith("ecdsa-sha2-") and sig_type == key_type:
            curve, chosen = _CURVES[key_type.removeprefix("ecdsa-sha2-")]
            if key.string().decode() != key_type.removeprefix("ecdsa-sha2-"):
                return False
            point = ec.EllipticCurvePublicKey.from_encoded_point(curve, key.string())
            parts = _Reader(raw)
            point.verify(encode_dss_signature(parts.mpint(), parts.mpint()), signed, ec.ECDSA(chosen))
        else:
            return False
    except (InvalidSignature, ValueError, KeyError, IndexError):
        return False
    return sig.done()


@functools.lru_cache(maxsize=64)
def _ed25519_key(data: bytes) -> ed25519.Ed25519PublicKey:
    """The key object, made once per key: a registry's signatures come from a handful of keys."""
    return ed25519.Ed25519PublicKey.from_public_bytes(data)


@functools.lru_cache(maxsize=64)
def _key_label(public: bytes) -> str:
    """`ED25519 key SHA256:…`, as ssh-keygen names a key."""
    key_type = _Reader(public).string().decode()
    fingerprint = base64.b64encode(hashlib.sha256(public).digest()).decode().rstrip("=")
    return f"{_KEY_NAMES[key_type]} key SHA256:{fingerprint}"


def _string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


class _Reader:
    """The SSH wire format: uint32 lengths before strings."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def raw(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise IndexError("truncated")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def uint32(self) -> int:
        return int.from_bytes(self.raw(4), "big")

    def string(self) -> bytes:
        return self.raw(self.uint32())

    def mpint(self) -> int:
        return int.from_bytes(self.string(), "big", signed=True)

    def done(self) -> bool:
        return self.pos == len(self.data)
