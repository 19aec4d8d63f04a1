"""Version manifests: YAML text ↔ Manifest, schema-checked (DESIGN §2)."""

from __future__ import annotations

import re
from typing import Any

from modelreg.core import names
from modelreg.errors import ConfigError
from modelreg.formats import yamlio
from modelreg.formats.schema import Fields
from modelreg.models import Artifact, ArtifactFile, Lineage, Manifest, Training

MODELS_DIR = ".modelreg/models"
MAX_INT = 2**63 - 1  # bounds sizes and versions: what file systems, object stores and JSON readers all hold
SCHEMA = "modelreg/manifest/v1"
READABLE_SCHEMAS = (SCHEMA,)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_KNOWN_KEYS = (
    "schema",
    "name",
    "version",
    "created_at",
    "created_by",
    "description",
    "artifact",
    "params",
    "metrics",
    "lineage",
    "training",
    "tags",
)


def model_dir(name: str) -> str:
    """The directory of a model's manifests inside the repository (POSIX): its key (`core.names`)."""
    return f"{MODELS_DIR}/{names.encode(name)}"


def manifest_path(name: str, version: int) -> str:
    """The manifest's path inside the repository (POSIX)."""
    return f"{model_dir(name)}/v{version}.yaml"


def to_yaml(manifest: Manifest) -> str:
    return yamlio.dump(to_dict(manifest))


def to_dict(m: Manifest) -> dict[str, Any]:
    lineage: dict[str, Any] = {"code_commit": m.lineage.code_commit}
    if m.lineage.code_dirty:
        lineage["code_dirty"] = True
    for key in ("dataset", "run_id", "parent"):
        if (value := getattr(m.lineage, key)) is not None:
            lineage[key] = value
    training = {
        k: v for k, v in (("duration_s", m.training.duration_s), ("hardware", m.training.hardware)) if v is not None
    }
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "name": m.name,
        "version": m.version,
        "created_at": m.created_at,
        "created_by": m.created_by,
        "description": m.description,
        "artifact": {
            "store": m.artifact.store,
            "digest": m.artifact.digest,
            "size": m.artifact.size,
            "files": [yamlio.FlowMap(path=f.path, digest=f.digest, size=f.size) for f in m.artifact.files],
        },
        "params": dict(m.params),
        "metrics": dict(m.metrics),
        "lineage": lineage,
        "training": training,
        "tags": dict(m.tags),
    }
    data.update(m.extra)
    return data


def from_yaml(text: str, source: str, *, keep: bool = True) -> Manifest:
    """The manifest `text` holds; `keep=False` keeps no cache file of the parse (see yamlio.load)."""
    return from_dict(yamlio.load(text, source, keep=keep), source)


def from_dict(data: Any, source: str) -> Manifest:
    doc = Fields(data, source)
    schema = doc.required("schema", str)
    if schema not in READABLE_SCHEMAS:
        raise doc.fail("schema", f"is {schema!r}; this modelreg reads {', '.join(READABLE_SCHEMAS)}")
    name = doc.required("name", str)
    if names.model_name_problem(name) is not None:
        raise doc.fail("name", f"is not a valid model name: {name!r} ({names.RULE})")
    version = doc.required("version", int)
    if not 1 <= version <= MAX_INT:
        raise doc.fail("version", "must be a positive integer")
    lineage, training = doc.child("lineage"), doc.child("training")
    return Manifest(
        name=name,
        version=version,
        created_at=doc.required("created_at", str),
        created_by=doc.required("created_by", str),
        description=doc.optional("description", str, ""),
        artifact=_artifact(doc.child("artifact")),
        params=doc.scalar_map("params"),
        metrics=doc.scalar_map("metrics"),
        lineage=Lineage(
            code_commit=lineage.maybe("code_commit", str),
            code_dirty=lineage.optional("code_dirty", bool, False),
            dataset=lineage.maybe("dataset", str),
            run_id=lineage.maybe("run_id", str),
            parent=lineage.maybe("parent", str),
        ),
        training=Training(
            duration_s=training.maybe("duration_s", float),
            hardware=training.maybe("hardware", str),
        ),
        tags=doc.scalar_map("tags"),
        extra={k: v for k, v in doc.data.items() if k not in _KNOWN_KEYS},
    )


def _artifact(art: Fields) -> Artifact:
    files: list[ArtifactFile] = []
    paths: set[str] = set()
    raw_files = art.required("files", list)
    for index, raw in enumerate(raw_files):
        entry = Fields(raw, art.source, f"{art.key('files')}[{index}]")
        path = entry.required("path", str)
        if not is_safe_relative_path(path):
            raise entry.fail("path", f"must be a relative path inside the artifact, not {path!r}")
        if path in paths:
            raise entry.fail("path", f"lists {path!r} twice")
        paths.add(path)
        files.append(ArtifactFile(path, _digest(entry, "digest"), _size(entry)))
    if not files:
        raise art.fail("files", "must list at least one file")
    if clash := _file_and_directory(paths):
        raise art.fail("files", f"lists {clash[0]!r} as a file and as a directory (of {clash[1]!r})")
    return Artifact(
        store=art.required("store", str),
        digest=_digest(art, "digest"),
        size=_size(art),
        files=tuple(files),
    )


def _file_and_directory(paths: set[str]) -> tuple[str, str] | None:
    """(a path, a path beneath it) when one listed path is the directory of another: no pull could place both."""
    for path in sorted(paths):
        parts = path.split("/")
        for end in range(1, len(parts)):
            if (parent := "/".join(parts[:end])) in paths:
                return parent, path
    return None


def _size(fields: Fields) -> int:
    size = fields.required("size", int)
    if not 0 <= size <= MAX_INT:
        raise fields.fail("size", f"must be a number of bytes from 0 to 2**63 - 1, not {size}")
    return size


def _digest(fields: Fields, key: str) -> str:
    value = fields.required(key, str)
    algo, _, hexdigest = value.partition(":")
    if algo != "sha256" or len(hexdigest) != 64 or any(c not in "0123456789abcdef" for c in hexdigest):
        raise fields.fail(key, f"must be 'sha256:' and 64 lowercase hex digits, not {value!r}")
    return value


def is_safe_relative_path(path: str) -> bool:
    """A relative POSIX path that stays inside its directory, without control characters.

    NUL cuts a path short in the OS, a newline would break the canonical file list (DESIGN §2),
    and an escape sequence would reach the user's terminal.
    """
    parts = path.split("/")
    return (
        bool(path)
        and not path.startswith("/")
        and "\\" not in path
        and not _CONTROL.search(path)
        and all(part not in ("", ".", "..") for part in parts)
    )


def check_manifest_matches(manifest: Manifest, name: str, version: int, source: str) -> None:
    if manifest.name != name or manifest.version != version:
        raise ConfigError(f"{source}: holds {manifest.name} v{manifest.version}, expected {name} v{version}")


MUTABLE_KEYS = ("description", "tags")  # all a manifest may change after registration (DESIGN §2)


def immutable_changes(tagged: Manifest, current: Manifest) -> list[tuple[str, Any, Any]]:
    """(key, tagged value, current value) for each field outside MUTABLE_KEYS that differs.

    A mapping (params, metrics, lineage, training, artifact) is compared key by key, so a
    hand-edited metric is named as `metrics.auc`.
    """
    old, new = to_dict(tagged), to_dict(current)
    changes: list[tuple[str, Any, Any]] = []
    for key in dict.fromkeys([*old, *new]):
        if key in MUTABLE_KEYS or old.get(key) == new.get(key):
            continue
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            for inner in dict.fromkeys([*a, *b]):
                if a.get(inner) != b.get(inner):
                    changes.append((f"{key}.{inner}", a.get(inner), b.get(inner)))
        else:
            changes.append((key, a, b))
    return changes
