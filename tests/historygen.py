"""Random registry histories written straight into real git repositories, refused events included.

A history is a list of tags (version tags and event tags) built by a small simulated writer that
mostly does what modelreg does (promotions that archive the single holder, rollbacks, unassigns,
aliases, retire and unretire) and sometimes what a broken or hostile writer would: a tag without
its claim ref, a claim taken by another tag, an event at another version's commit, an event about
a version that does not exist, an `archived` list naming anyone, a payload that is no event.
One `git fast-import` and one `update-ref --stdin` write it all.
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path
from typing import Any

from modelreg.formats import manifest as manifestmod
from modelreg.models import Artifact, ArtifactFile, Manifest

TAGGER = "Jane Doe <jane@example.com> 1767323045 +0000"
STAGES = ("staging", "production", "archived")
ALIASES = ("champion", "canary")


def _data(text: str) -> str:
    return f"data {len(text.encode())}\n{text}\n"


def _config(review: bool) -> str:
    extra = "review_required: [production]\n" if review else ""
    return (
        "modelreg: 1\nstore: .modelreg/store\nstages: [staging, production, archived]\n"
        f"single_holder: [production]\n{extra}"
    )


def build(path: Path, seed: int, steps: int = 28, name: str = "fraud") -> dict[str, Any]:
    """Write a random history of model `name` into a new repository at `path`; returns what it holds."""
    rng = random.Random(seed)
    review = rng.random() < 0.3
    stream: list[str] = []
    mark = 0

    def commit(message: str, files: dict[str, str]) -> int:
        nonlocal mark
        mark += 1
        stream.append(f"commit refs/heads/main\nmark :{mark}\ncommitter {TAGGER}\n{_data(message)}")
        if mark > 1:
            stream.append(f"from :{mark - 1}\n")
        stream.extend(f"M 100644 inline {p}\n{_data(t)}" for p, t in files.items())
        stream.append("\n")
        return mark

    tags: list[tuple[str, str]] = []  # (tag name, claim: ok | none | other)

    def tag(tag_name: str, at: int, payload: dict[str, Any] | str, claim: str = "ok") -> None:
        body = payload if isinstance(payload, str) else json.dumps({"modelreg": 1, **payload})
        message = f"subject {tag_name}\n\n{body}"
        stream.append(f"tag {tag_name}\nfrom :{at}\ntagger {TAGGER}\n{_data(message)}")
        tags.append((tag_name, claim))

    commit("init", {".modelreg/config.yaml": _config(review), ".gitignore": "/.modelreg/store/\n"})
    digest = "sha256:" + "ab" * 32
    artifact = Artifact(".modelreg/store", digest, 10, (ArtifactFile("model.bin", digest, 10),))
    marks: dict[int, int] = {}
    stage_of: dict[int, str] = {}
    seq = 0

    def claim_kind() -> str:
        roll = rng.random()
        return "none" if roll < 0.06 else "other" if roll < 0.1 else "ok"

    def event(target: str, payload: dict[str, Any], version: int) -> None:
        nonlocal seq
        seq += 1
        at = marks.get(version, marks[min(marks)])
        if rng.random() < 0.05 and len(marks) > 1:  # at another version's commit
            at = marks[rng.choice([v for v in marks if v != version] or [version])]
        if rng.random() < 0.03:
            tag(f"{name}#{target}#{seq}", at, "no payload here", claim_kind())
            return
        tag(f"{name}#{target}#{seq}", at, {**payload, "version": version}, claim_kind())
        if rng.random() < 0.04:  # a racing writer's tag on the same seq
            tag(f"{name}#{'canary' if target != 'canary' else 'champion'}#{seq}", at, {**payload, "version": version})

    for _ in range(steps):
        roll = rng.random()
        if not marks or roll < 0.25:
            version = len(marks) + 1
            manifest = Manifest(name, version, "2026-01-02T03:04:05Z", "Jane Doe <jane@example.com>", artifact)
            at = commit(
                f"register v{version}", {manifestmod.manifest_path(name, version): manifestmod.to_yaml(manifest)}
            )
            marks[version] = at
            tag(f"{name}@v{version}", at, {"action": "register", "version": version, "digest": digest}, claim_kind())
            continue
        versions = sorted(marks)
        version = rng.choice(versions)
        if rng.random() < 0.05:
            version = max(versions) + 7  # a version that was never registered
        if roll < 0.55:
            stage = rng.choice(STAGES[:2] if rng.random() < 0.9 else STAGES)
            archived = [v for v, s in stage_of.items() if s == stage and v != version] if stage == "production" else []
            if rng.random() < 0.25:  # anyone: a writer that is not modelreg
                archived = rng.sample(versions, k=min(len(versions), rng.randint(1, 2)))
            action = "rollback" if rng.random() < 0.2 else "assign"
            payload = {"action": action, "kind": "stage", "target": stage, "archived": archived}
            event(stage, payload, version)
            stage_of[version] = stage
            for old in archived:
                stage_of[old] = "archived"
        elif roll < 0.75:
            alias = rng.choice(ALIASES)
            event(
                alias,
                {"action": "rollback" if rng.random() < 0.2 else "assign", "kind": "alias", "target": alias},
                version,
            )
        elif roll < 0.87:
            kind, target = rng.choice([("stage", "staging"), ("stage", "production"), ("alias", "champion")])
            event(target, {"action": "unassign", "kind": kind, "target": target}, version)
        else:
            action = rng.choice(["retire", "unretire"])
            event(f"_{action}", {"action": action, "kind": "model", "target": f"_{action}"}, version)

    path.mkdir(parents=True)
    _git(path, "init", "-q", "-b", "main")
    _git(path, "fast-import", "--quiet", stdin="".join(stream))
    objects = dict(
        line.split(" ")
        for line in _git(path, "for-each-ref", "--format=%(refname:strip=2) %(objectname)", "refs/tags/").splitlines()
    )
    claims = []
    taken: set[str] = set()
    for tag_name, claim in tags:
        ref = _claim_ref(tag_name)
        if claim == "none" or ref in taken:
            continue
        taken.add(ref)
        target = objects[tag_name] if claim == "ok" else rng.choice(sorted(objects.values()))
        claims.append(f"create {ref} {target}\n")
    _git(path, "update-ref", "--stdin", stdin="".join(claims))
    _git(path, "checkout", "-q", "-f", "main")
    return {"versions": len(marks) + 8, "review": review, "tags": len(tags)}


def _claim_ref(tag_name: str) -> str:
    if "#" in tag_name:
        model, _, seq = tag_name.rpartition("#")
        return f"refs/modelreg/events/{model.partition('#')[0]}/{seq}"
    model, _, version = tag_name.rpartition("@v")
    return f"refs/modelreg/versions/{model}/{version}"


def _git(path: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(["git", *args], cwd=path, input=stdin, check=True, capture_output=True, text=True).stdout
