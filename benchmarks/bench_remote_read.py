"""How long a serving host takes to resolve and read one model from a big remote registry.

Builds (with one `git fast-import`) a bare repository with --tags modelreg tags (half version
tags, half stage events with their claim refs) over --commits unrelated commits of source
history, then times, median of --runs, in this run:
  - baseline: `git clone --bare` of the whole repository (what reading used to need), and
    `git ls-remote` (one round trip, the floor for asking a remote anything);
  - `modelreg resolve bench/production --repo URL`, cold (empty cache) and warm;
  - `modelreg show bench@v1 --repo URL`, warm.

    .venv/bin/python benchmarks/bench_remote_read.py [--tags 10000] [--commits 3000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from modelreg import manifest as manifestmod
from modelreg.models import Artifact, ArtifactFile, Manifest

MODELREG = str(Path(sys.executable).with_name("modelreg"))
TAGGER = "Bench <bench@example.com> 1700000000 +0000"
CONFIG = "modelreg: 1\nstore: /srv/models\nstages: [staging, production, archived]\nsingle_holder: [production]\n"


def data(text: str) -> str:
    raw = text.encode()
    return f"data {len(raw)}\n{text}\n"


def build(repo: Path, tags: int, commits: int) -> None:
    """One fast-import stream: unrelated history, then one commit and tag per version, then events."""
    models = max(1, tags // 250)
    versions = tags // 2 // models
    lines: list[str] = []
    mark = 0
    for number in range(commits):
        mark += 1
        lines += [f"commit refs/heads/main\nmark :{mark}\ncommitter {TAGGER}\n", data(f"work {number}")]
        if number:
            lines.append(f"from :{mark - 1}\n")
        body = f"# source file {number % 50}, revision {number}\n" + "x = 1\n" * 40
        lines.append(f"M 100644 inline src/module_{number % 50}.py\n{data(body)}\n")
    mark += 1
    lines += [f"commit refs/heads/main\nmark :{mark}\ncommitter {TAGGER}\n", data("modelreg: init registry")]
    lines += [f"from :{mark - 1}\n" if commits else "", f"M 100644 inline .modelreg/config.yaml\n{data(CONFIG)}\n"]
    version_marks: dict[tuple[str, int], int] = {}
    digest = "sha256:" + "ab" * 32
    artifact = Artifact("/srv/models", digest, 10, (ArtifactFile("model.bin", digest, 10),))
    for index in range(models):
        name = "bench" if index == 0 else f"model-{index}"
        for version in range(1, versions + 1):
            manifest = Manifest(
                name=name,
                version=version,
                created_at="2026-01-01T00:00:00Z",
                created_by="Bench <bench@example.com>",
                artifact=artifact,
                metrics={"auc": 0.9},
            )
            mark += 1
            lines += [
                f"commit refs/heads/main\nmark :{mark}\ncommitter {TAGGER}\n",
                data(f"modelreg: register {name} v{version}"),
                f"from :{mark - 1}\n",
                f"M 100644 inline {manifestmod.manifest_path(name, version)}\n{data(manifestmod.to_yaml(manifest))}\n",
            ]
            version_marks[(name, version)] = mark
            payload = f'{{"modelreg": 1, "action": "register", "version": {version}, "digest": "{digest}"}}'
            lines += [
                f"tag {name}@v{version}\nfrom :{mark}\ntagger {TAGGER}\n",
                data(f"{name} v{version}: registered\n\n{payload}"),
            ]
    for (name, version), version_mark in version_marks.items():
        stage = "production" if version == versions else "staging"
        payload = (
            f'{{"modelreg": 1, "action": "assign", "kind": "stage", "target": "{stage}", '
            f'"version": {version}, "archived": [], "reason": null, "request": null}}'
        )
        lines += [
            f"tag {name}#{stage}#{version}\nfrom :{version_mark}\ntagger {TAGGER}\n",
            data(f"{name} v{version} → {stage}\n\n{payload}"),
        ]
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(repo)], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input="".join(lines).encode(), check=True)
    out = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname:strip=2) %(objectname)", "refs/tags/"],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    claims = []
    for line in out.splitlines():
        tag, obj = line.split(" ")
        if tag.count("#") == 2:
            name, _, seq = tag.split("#")
            claims.append(f"create refs/modelreg/events/{name}/{seq} {obj}\n")
    subprocess.run(["git", "update-ref", "--stdin"], cwd=repo, input="".join(claims).encode(), check=True)
    subprocess.run(["git", "gc", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "config", "uploadpack.allowFilter", "true"], cwd=repo, check=True)


def timed(args: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(args, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=int, default=10_000)
    parser.add_argument("--commits", type=int, default=3_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="modelreg-remote-") as tmp:
        work = Path(tmp)
        repo = work / "registry.git"
        start = time.perf_counter()
        build(repo, args.tags, args.commits)
        built = time.perf_counter() - start
        count = len(subprocess.run(["git", "tag", "-l"], cwd=repo, capture_output=True, text=True).stdout.split())
        url = f"file://{repo}"
        env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}
        rows: list[tuple[str, float]] = []

        def median(label: str, make: list[str], before: object = None) -> None:
            samples = []
            for _ in range(args.runs):
                if callable(before):
                    before()
                samples.append(timed(make, env, work))
            rows.append((label, statistics.median(samples)))

        def fresh_clone() -> None:
            shutil.rmtree(work / "clone.git", ignore_errors=True)

        def cold_cache() -> None:
            shutil.rmtree(work / "cache", ignore_errors=True)

        median("git clone --bare (whole repository)", ["git", "clone", "-q", "--bare", url, "clone.git"], fresh_clone)
        median("git ls-remote (one round trip)", ["git", "ls-remote", url, "refs/heads/main"])
        median(
            "modelreg resolve bench/production --repo, cold cache",
            [MODELREG, "resolve", "bench/production", "--repo", url],
            cold_cache,
        )
        median(
            "modelreg resolve bench/production --repo, warm cache",
            [MODELREG, "resolve", "bench/production", "--repo", url],
        )
        median("modelreg show bench@v1 --repo, warm cache", [MODELREG, "show", "bench@v1", "--repo", url, "--json"])
        size = sum(p.stat().st_size for p in (work / "cache").rglob("*") if p.is_file())
        whole = sum(p.stat().st_size for p in repo.rglob("*") if p.is_file())
    print(
        f"registry: {count} tags over {args.commits} unrelated commits (built in {built:.1f} s); median of {args.runs}"
    )
    width = max(len(label) for label, _ in rows)
    clone = rows[0][1]
    for label, seconds in rows:
        print(f"{label:<{width}}  {seconds:6.3f} s  ({seconds / clone:.2f}x clone)")
    print(f"cache after reading one model: {size / 1024:.0f} KiB; the whole repository: {whole / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
