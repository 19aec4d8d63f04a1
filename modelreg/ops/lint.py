"""`modelreg lint`: check the registry's files in a work tree, for a pre-commit hook.

Reads only the work tree and the local repository (never the store, never the network): the
config and every manifest against the schema, each manifest against the copy its version tag
points at (only `description` and `tags` may change), and the request files.

It runs on every commit, so it does little work: git is asked twice whatever the registry's size
(one `for-each-ref` for the version tags, one `cat-file --batch-check` for their manifests' blob
ids), and a manifest is compared field by field only when its bytes differ from the tagged
blob. Whether a manifest's bytes pass the schema is kept in a private cache keyed by the path
and the bytes' git blob id (a hash of the content): the same bytes always get the same answer.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

from modelreg import cachefile
from modelreg.core import names
from modelreg.core.refs import version_tag
from modelreg.errors import ModelregError
from modelreg.formats import config as configmod
from modelreg.formats import manifest as manifestmod
from modelreg.formats import requestfile
from modelreg.formats.config import CONFIG_PATH
from modelreg.git import GitRepo
from modelreg.models import REQUESTS_DIR, Manifest
from modelreg.paths import cache_dir
from modelreg.results import LintReport
from modelreg.version import __version__

_MANIFEST_FILE = re.compile(r"v([1-9][0-9]*)\.yaml")
_FORMAT = "1"  # of the verdict cache: change it when the checks change


class _File:
    """A manifest in the work tree."""

    def __init__(self, rel: str, name: str, version: int, data: bytes) -> None:
        self.rel, self.name, self.version, self.data = rel, name, version, data
        self.tag = version_tag(name, version)
        self.blob = hashlib.sha1(b"blob %d\0%s" % (len(data), data), usedforsecurity=False).hexdigest()

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")

    def parse(self) -> Manifest:
        manifest = manifestmod.from_yaml(self.text, self.rel)
        manifestmod.check_manifest_matches(manifest, self.name, self.version, self.rel)
        return manifest


def lint(path: str | os.PathLike[str] = ".") -> LintReport:
    git = GitRepo.discover(path)
    root = git.root
    problems: list[str] = []
    warnings: list[str] = []
    text = _read(root / CONFIG_PATH)
    if text is None:
        problems.append(f"{CONFIG_PATH}: missing (run `modelreg init`)")
    else:
        _check(problems, lambda: configmod.from_yaml(text.decode("utf-8", errors="replace"), CONFIG_PATH))
    files = _manifest_files(root, problems)
    valid = _schema_problems(root, files, problems)
    tags = git.tag_commits(["refs/tags/*@v*"])
    tagged = [f for f in valid if f.tag in tags]
    warnings += [
        f"{f.rel}: no version tag {f.tag} in this clone, so its edits cannot be checked"
        for f in valid
        if f.tag not in tags
    ]
    ids = git.blob_ids([(tags[f.tag], f.rel) for f in tagged])
    for file, blob in zip(tagged, ids, strict=True):
        if blob is None:
            warnings.append(
                f"{file.rel}: its version tag {file.tag} points at a commit without it (run `modelreg verify`)"
            )
    edited = [(f, tags[f.tag]) for f, blob in zip(tagged, ids, strict=True) if blob is not None and blob != f.blob]
    texts = git.read_files([(commit, f.rel) for f, commit in edited])
    for (file, _), tagged_text in zip(edited, texts, strict=True):
        problems += _edits(file, tagged_text or "")
    problems += _requests(root)
    return LintReport(len(files), tuple(problems), tuple(warnings))


def _schema_problems(root: Path, files: list[_File], problems: list[str]) -> list[_File]:
    """The files that pass the schema; a problem for each other one. Verdicts come from the cache when known."""
    path = os.path.join(cache_dir(), "lint", cachefile.file_name(_FORMAT, __version__, str(root)))
    ident = (_FORMAT, __version__, manifestmod.SCHEMA, str(root))
    cached = cachefile.load(path)
    known: dict[tuple[str, str], str] = cached[1] if isinstance(cached, tuple) and cached[0] == ident else {}
    verdicts: dict[tuple[str, str], str] = {}  # (path, blob id) → "" when it passes, else the problem
    valid = []
    for file in files:
        key = (file.rel, file.blob)
        verdict = known.get(key)
        if not isinstance(verdict, str):
            try:
                file.parse()
                verdict = ""
            except ModelregError as exc:
                verdict = str(exc)
        verdicts[key] = verdict
        if verdict:
            problems.append(verdict)
        else:
            valid.append(file)
    if verdicts != known:
        cachefile.dump(path, (ident, verdicts))
    return valid


def _edits(file: _File, tagged_text: str) -> list[str]:
    """One line per field of the work tree's manifest that differs from the tagged copy and may not."""
    try:
        tagged = manifestmod.from_yaml(tagged_text, f"{file.rel} at {file.tag}")
    except ModelregError as exc:
        return [f"{exc} (the tagged copy; run `modelreg verify`)"]
    return [
        f"{file.rel}: '{key}' is {_show(now)}, but {file.tag} registered {_show(was)}: only "
        f"{' and '.join(repr(k) for k in manifestmod.MUTABLE_KEYS)} may change after registration"
        for key, was, now in manifestmod.immutable_changes(tagged, file.parse())
    ]


def _show(value: Any) -> str:
    text = "nothing" if value is None else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _manifest_files(root: Path, problems: list[str]) -> list[_File]:
    """Every manifest in the work tree, sorted by path; a problem for anything else in the models' directories."""
    found = []
    for model in _entries(root / manifestmod.MODELS_DIR):
        rel_dir = f"{manifestmod.MODELS_DIR}/{model.name}"
        if not model.is_dir():
            problems.append(f"{rel_dir}: not a model directory (expected {manifestmod.MODELS_DIR}/NAME/vN.yaml)")
            continue
        name = names.decode(model.name)
        if name is None:
            problems.append(
                f"{rel_dir}: {model.name!r} is not a model's directory name (a model name's key: {names.RULE}; "
                "uppercase letters and other characters escaped as `modelreg` writes them)"
            )
            continue
        for entry in _entries(Path(model.path)):
            rel = f"{rel_dir}/{entry.name}"
            match = _MANIFEST_FILE.fullmatch(entry.name)
            if match is None or not entry.is_file():
                problems.append(f"{rel}: not a manifest (expected vN.yaml, as `modelreg register` writes)")
                continue
            data = _read(Path(entry.path))
            if data is not None:
                found.append(_File(rel, name, int(match[1]), data))
    return found


def _entries(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as listing:
            return sorted(listing, key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _requests(root: Path) -> list[str]:
    problems: list[str] = []
    for entry in _entries(root / REQUESTS_DIR):
        rel = f"{REQUESTS_DIR}/{entry.name}"
        if not entry.name.endswith(".yaml") or not entry.is_file():
            continue
        data = _read(Path(entry.path))
        if data is not None:
            text = data.decode("utf-8", errors="replace")
            _check(problems, lambda text=text, rel=rel: requestfile.from_yaml(text, rel))
    return problems


def _check(problems: list[str], parse: Any) -> None:
    try:
        parse()
    except ModelregError as exc:
        problems.append(str(exc))


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
