"""Sign every modelreg tag of a registry built by make_registry.py, in seconds rather than hours.

    python benchmarks/sign_registry.py REPO

Each tag is rewritten as git's `tag -s` with an SSH key would write it (the SSHSIG armour appended
to the message, signed over the tag object up to it), here signed in process with `cryptography`
(one ssh-keygen per tag would take 10 ms each). The claim refs are moved to the new tags, and a
commit on main turns `require_signed` on with an allowed-signers file naming the key.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PRINCIPAL = "bench@example.com"


def _string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def armour(key: Ed25519PrivateKey, payload: bytes) -> bytes:
    """The `-----BEGIN SSH SIGNATURE-----` block ssh-keygen -Y sign -n git writes for `payload`."""
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    public_blob = _string(b"ssh-ed25519") + _string(public)
    digest = hashlib.sha512(payload).digest()
    signed = b"SSHSIG" + _string(b"git") + _string(b"") + _string(b"sha512") + _string(digest)
    signature = _string(b"ssh-ed25519") + _string(key.sign(signed))
    blob = (
        b"SSHSIG"
        + (1).to_bytes(4, "big")
        + b"".join(_string(x) for x in (public_blob, b"git", b"", b"sha512", signature))
    )
    text = base64.b64encode(blob)
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    return b"-----BEGIN SSH SIGNATURE-----\n" + b"\n".join(lines) + b"\n-----END SSH SIGNATURE-----\n"


def public_line(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()


def sign(repo: Path) -> int:
    key = Ed25519PrivateKey.generate()
    refs = _git(repo, "for-each-ref", "--format=%(objectname) %(refname)", "refs/tags/").decode().splitlines()
    ids = [line.split(" ")[0] for line in refs]
    raw = _git(repo, "cat-file", "--batch", stdin="".join(f"{i}\n" for i in ids).encode())
    pos, stream, claims = 0, [], []
    for line in refs:
        _, ref = line.split(" ")
        end = raw.index(b"\n", pos)
        size = int(raw[pos:end].split(b" ")[2])
        body = raw[end + 1 : end + 1 + size]
        pos = end + 2 + size
        head, _, message = body.partition(b"\n\n")
        fields = dict(h.split(b" ", 1) for h in head.split(b"\n"))
        message = message if message.endswith(b"\n") else message + b"\n"  # as `git tag -s` makes it
        signed = message + armour(key, head + b"\n\n" + message)
        name = ref.removeprefix("refs/tags/")
        stream.append(
            b"tag %s\nfrom %s\ntagger %s\ndata %d\n%s\n"
            % (name.encode(), fields[b"object"], fields[b"tagger"], len(signed), signed)
        )
    _git(repo, "fast-import", "--quiet", "--force", stdin=b"".join(stream))
    for line in (
        _git(repo, "for-each-ref", "--format=%(objectname) %(refname:strip=2)", "refs/tags/").decode().splitlines()
    ):
        obj, name = line.split(" ")
        if name.count("#") == 2:
            model, _, seq = name.split("#")
            claims.append(f"update refs/modelreg/events/{model}/{seq} {obj}\n")
        elif "@v" in name:
            model, _, version = name.rpartition("@v")
            claims.append(f"update refs/modelreg/versions/{model}/{version} {obj}\n")
    _git(repo, "update-ref", "--stdin", stdin="".join(claims).encode())
    config = repo / ".modelreg" / "config.yaml"
    config.write_text(config.read_text() + "require_signed: true\nallowed_signers: .modelreg/allowed_signers\n")
    (repo / ".modelreg" / "allowed_signers").write_text(f'{PRINCIPAL} namespaces="git" {public_line(key)}\n')
    _git(repo, "add", ".modelreg/config.yaml", ".modelreg/allowed_signers")
    _git(repo, "-c", "user.name=Bench", "-c", f"user.email={PRINCIPAL}", "commit", "-q", "-m", "require signed")
    _git(repo, "pack-refs", "--all")
    with tempfile.TemporaryDirectory() as scratch:  # check one tag with git itself
        allowed = Path(scratch) / "allowed"
        allowed.write_text(f"{PRINCIPAL} {public_line(key)}\n")
        first = refs[0].split(" ")[1]
        _git(repo, "-c", f"gpg.ssh.allowedSignersFile={allowed}", "verify-tag", first)
    return len(refs)


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True, check=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    args = parser.parse_args()
    print(f"{args.repo}: signed {sign(args.repo)} tags", file=sys.stderr)


if __name__ == "__main__":
    main()
