"""`modelreg lint`: check the registry's files in a work tree, for a pre-commit hook.

Reads only the work tree and the local repository (never the store, never the network): the
config and every manifest against the schema, each manifest against the copy its version tag
points at (only `description` and `tags` may change), and the request files. git is asked twice,
whatever the registry's size: one `for-each-ref` for the version tags, one `cat-file --batch`
for their manifests; only a manifest whose text differs from its tagged copy is compared field by field.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from modelreg import config as configmod
from modelreg import manifest as manifestmod
from modelreg import requestfile
from modelreg.config import CONFIG_PATH
from modelreg.errors import ModelregError
from modelreg.git import GitRepo
from modelreg.models import Manifest
from modelreg.refs import NAME_RE, version_tag
from modelreg.results import REQUESTS_DIR, LintReport

_MANIFEST_FILE = re.compile(r"v([1-9][0-9]*)\.yaml")


def lint(path: str | os.PathLike[str] = ".") -> LintReport:
    git = GitRepo.discover(path)
    root = git.root
    problems: list[str] = []
    warnings: list[str] = []
    text = _read(root / CONFIG_PATH)
    if text is None:
        problems.append(f"{CONFIG_PATH}: missing (run `modelreg init`)")
    else:
        _check(problems, lambda: configmod.from_yaml(text, CONFIG_PATH))
    found = _manifest_files(root, problems)
    parsed: dict[str, tuple[str, Manifest]] = {}  # tag → (path, manifest)
    for rel, name, version, content in found:
        try:
            manifest = manifestmod.from_yaml(content, rel)
            manifestmod.check_manifest_matches(manifest, name, version, rel)
        except ModelregError as exc:
            problems.append(str(exc))
            continue
        parsed[version_tag(name, version)] = (rel, manifest)
    tags = git.tag_commits(["refs/tags/*@v*"])
    texts = {rel: content for rel, _, _, content in found}
    asked = [(tag, rel, tags[tag]) for tag, (rel, _) in sorted(parsed.items()) if tag in tags]
    tagged_texts = git.read_files([(commit, rel) for _, rel, commit in asked])
    for (tag, rel, _), tagged_text in zip(asked, tagged_texts, strict=True):
        if tagged_text is None:
            warnings.append(f"{rel}: its version tag {tag} points at a commit without it (run `modelreg verify`)")
        elif tagged_text != texts[rel]:
            problems += _edits(rel, tag, tagged_text, parsed[tag][1])
    for tag, (rel, _) in sorted(parsed.items()):
        if tag not in tags:
            warnings.append(f"{rel}: no version tag {tag} in this clone, so its edits cannot be checked")
    problems += _requests(root)
    return LintReport(len(found), tuple(problems), tuple(warnings))


def _edits(rel: str, tag: str, tagged_text: str, current: Manifest) -> list[str]:
    """One line per field of the work tree's manifest that differs from the tagged copy and may not."""
    try:
        tagged = manifestmod.from_yaml(tagged_text, f"{rel} at {tag}")
    except ModelregError as exc:
        return [f"{exc} (the tagged copy; run `modelreg verify`)"]
    return [
        f"{rel}: '{key}' is {_show(now)}, but {tag} registered {_show(was)}: only "
        f"{' and '.join(repr(k) for k in manifestmod.MUTABLE_KEYS)} may change after registration"
        for key, was, now in manifestmod.immutable_changes(tagged, current)
    ]


def _show(value: Any) -> str:
    text = "nothing" if value is None else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _manifest_files(root: Path, problems: list[str]) -> list[tuple[str, str, int, str]]:
    """(path, model name, version, text) of every manifest in the work tree, sorted by path."""
    found = []
    models = root / manifestmod.MODELS_DIR
    for model in _entries(models):
        rel_dir = f"{manifestmod.MODELS_DIR}/{model.name}"
        if not model.is_dir():
            problems.append(f"{rel_dir}: not a model directory (expected {manifestmod.MODELS_DIR}/NAME/vN.yaml)")
            continue
        if not NAME_RE.fullmatch(model.name):
            problems.append(f"{rel_dir}: {model.name!r} is not a valid model name")
            continue
        for entry in _entries(Path(model.path)):
            rel = f"{rel_dir}/{entry.name}"
            match = _MANIFEST_FILE.fullmatch(entry.name)
            if match is None or not entry.is_file():
                problems.append(f"{rel}: not a manifest (expected vN.yaml, as `modelreg register` writes)")
                continue
            content = _read(Path(entry.path))
            if content is not None:
                found.append((rel, model.name, int(match[1]), content))
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
        content = _read(Path(entry.path))
        if content is not None:
            _check(problems, lambda content=content, rel=rel: requestfile.from_yaml(content, rel))
    return problems


def _check(problems: list[str], parse: Any) -> None:
    try:
        parse()
    except ModelregError as exc:
        problems.append(str(exc))


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
