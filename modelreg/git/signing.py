"""Signed tags: made by `git tag -s` (the only tool that knows every signing setup), checked by `git verify-tag`."""

from __future__ import annotations

from pathlib import Path

from modelreg.errors import InvalidInputError
from modelreg.git.process import run_git, run_git_raw

_SIGNATURE_ENDS = ("-----END SSH SIGNATURE-----", "-----END PGP SIGNATURE-----", "-----END SIGNED MESSAGE-----")


def signed_tag(root: Path, env: dict[str, str], name: str, commit: str, message: str) -> str:
    """`git tag -s`, without creating the ref: the tag object is published like any other.

    Only `git tag` knows every signing setup, and it always creates the ref. So it runs against a
    scratch repository that writes objects into this one's object store, given this repository's
    effective `user.*` and `gpg.*` settings (`includeIf` sections of the user's config
    resolve here, not in the scratch repository). The ref dies with the scratch repository.
    """
    # Exit 1 means "no such settings": git's defaults then apply in the scratch repository too.
    settings = run_git_raw(["config", "-z", "--get-regexp", r"^(user|gpg)\."], root).stdout.decode()
    overrides: list[str] = []
    for entry in settings.split("\x00"):
        key, _, value = entry.partition("\n")
        if key:
            overrides += ["-c", f"{key}={value}"]
    import tempfile  # with shutil, bz2, lzma and random: ~5 ms every read would pay for a write's scratch dir

    objects = Path(run_git(["rev-parse", "--git-path", "objects"], root, env=env).strip())
    objects = objects if objects.is_absolute() else root / objects
    with tempfile.TemporaryDirectory(prefix="modelreg-sign-") as scratch:
        run_git(["init", "--quiet", "--bare", scratch], cwd=root)
        scratch_env = {**env, "GIT_DIR": scratch, "GIT_OBJECT_DIRECTORY": str(objects)}
        proc = run_git_raw(
            [*overrides, "tag", "-s", "--cleanup=verbatim", "-F", "-", name, commit],
            root,
            message.encode(),
            scratch_env,
        )
        if proc.returncode != 0:
            lines = [line for line in proc.stderr.decode(errors="replace").splitlines() if line.strip()]
            detail = "; ".join(line.removeprefix("error: ").removeprefix("fatal: ") for line in lines[-2:])
            raise InvalidInputError(f"git could not sign the tag {name}: {detail or 'no reason given'}")
        obj = run_git(["rev-parse", f"refs/tags/{name}"], root, env=scratch_env).strip()
    # git 2.39 exits 0 and makes an unsigned tag when the SSH key file is missing.
    if not run_git(["cat-file", "tag", obj], root, env=env).rstrip().endswith(_SIGNATURE_ENDS):
        raise InvalidInputError(
            f"git made {name} without a signature (is user.signingkey set, and is the key there?); nothing was written"
        )
    return obj
