"""Build a synthetic registry fast: one `git fast-import` stream plus one `update-ref --stdin`.

    python benchmarks/make_registry.py DEST --events N [--format modelreg|gto] [--commits C]

DEST becomes a new git repository holding N tags in all (version tags and stage/alias events,
half each). The model `bench` gets a quarter of them and ends with a production holder; the rest
spread over models of 100 tags each. `--format gto` builds the same shape with GTO's own tag
conventions (`name@v0.0.N`, `name#prod#N`), so both tools can be timed on equal repositories.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modelreg.formats import manifest as manifestmod
from modelreg.models import Artifact, ArtifactFile, Manifest

TAGGER = "Bench <bench@example.com> 1700000000 +0000"
CONFIG = "modelreg: 1\nstore: .modelreg/store\nstages: [staging, production, archived]\nsingle_holder: [production]\n"
DIGEST = "sha256:" + "ab" * 32


def layout(events: int, single: bool = False) -> list[tuple[str, int]]:
    """(model, versions): `bench` holds a quarter of the tags, the others 100 each (50 + 50).

    `single`: one model holds them all (GTO's worst case: one model with many versions).
    """
    if single:
        return [("bench", max(2, events // 2))]
    bench = max(2, events // 8)
    rest = max(0, events - 2 * bench)
    models = [("bench", bench)]
    index = 1
    while rest >= 4:
        versions = min(50, rest // 2)
        models.append((f"model-{index:04d}", versions))
        rest -= 2 * versions
        index += 1
    return models


_NAME, _VERSION = "placeholder-name", "987654321"


def _manifest_template() -> str:
    """One manifest rendered by modelreg itself, with placeholders for name and version.

    Rendering each of 50,000 manifests through the YAML writer took most of a 100,000-event build;
    the placeholders are plain scalars, so substituting them yields exactly what the writer gives.
    """
    artifact = Artifact(".modelreg/store", DIGEST, 10, (ArtifactFile("model.bin", DIGEST, 10),))
    manifest = Manifest(
        name=_NAME,
        version=int(_VERSION),
        created_at="2023-11-14T22:13:20Z",
        created_by="Bench <bench@example.com>",
        artifact=artifact,
        metrics={"auc": 0.9},
    )
    text = manifestmod.to_yaml(manifest)
    assert text.count(_NAME) == 1, text
    assert text.count(_VERSION) == 1, text
    check = manifest._replace(name="model-0001", version=7)
    assert text.replace(_NAME, "model-0001").replace(_VERSION, "7") == manifestmod.to_yaml(check)
    return text


def _data(text: str) -> str:
    return f"data {len(text.encode())}\n{text}\n"


def _event(version: int, versions: int) -> tuple[str, str, str]:
    """(target, kind, subject word) of the event after registering `version`."""
    if version == versions:
        return "production", "stage", "production"
    if version % 2:
        return "staging", "stage", "staging"
    return "champion", "alias", "@champion"


def build(
    dest: Path,
    events: int,
    fmt: str = "modelreg",
    commits: int = 0,
    single: bool = False,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Create the repository; returns the number of tags written. `progress` is told each step as it starts."""
    started = time.perf_counter()

    def step(what: str) -> None:
        if progress is not None:
            progress(f"{dest.name}: {what} ({time.perf_counter() - started:.1f} s)")

    step(f"writing the fast-import stream of {events:,} events")
    subprocess.run(["git", "init", "-q", "-b", "main", str(dest)], check=True)
    out: list[str] = []
    mark = 0
    previous = [0]  # the mark of the last commit

    def commit(message: str, files: dict[str, str]) -> int:
        nonlocal mark
        mark += 1
        out.append(f"commit refs/heads/main\nmark :{mark}\ncommitter {TAGGER}\n{_data(message)}")
        if previous[0]:
            out.append(f"from :{previous[0]}\n")
        previous[0] = mark
        out.extend(f"M 100644 inline {path}\n{_data(text)}" for path, text in files.items())
        out.append("\n")
        return mark

    tags: list[tuple[str, int, int]] = []  # (name, the tag's mark, its commit's mark)

    def tag(name: str, target: int, message: str) -> None:
        nonlocal mark
        mark += 1
        tags.append((name, mark, target))
        out.append(f"tag {name}\nmark :{mark}\nfrom :{target}\ntagger {TAGGER}\n{_data(message)}")

    for number in range(commits):
        commit(f"work {number}", {f"src/module_{number % 50}.py": f"# revision {number}\n" + "x = 1\n" * 40})
    commit("init", {".modelreg/config.yaml": CONFIG, ".gitignore": "/.modelreg/store/\n"})
    count = 0
    manifest_text = _manifest_template()
    for name, versions in layout(events, single):
        for version in range(1, versions + 1):
            if fmt == "modelreg":
                text = manifest_text.replace(_NAME, name).replace(_VERSION, str(version))
                at = commit(f"modelreg: register {name} v{version}", {manifestmod.manifest_path(name, version): text})
                # `after`: the last seq its writer had seen, as modelreg records it (the event of the version before)
                payload = {
                    "modelreg": 1,
                    "action": "register",
                    "version": version,
                    "digest": DIGEST,
                    "after": version - 1,
                }
                tag(f"{name}@v{version}", at, f"{name} v{version}: registered\n\n{json.dumps(payload)}")
                target, kind, word = _event(version, versions)
                payload = {
                    "modelreg": 1,
                    "action": "assign",
                    "kind": kind,
                    "target": target,
                    "version": version,
                    "archived": [],
                    "reason": None,
                    "request": None,
                }
                tag(f"{name}#{target}#{version}", at, f"{name} v{version} → {word}\n\n{json.dumps(payload)}")
            else:
                at = commit(f"train {name} {version}", {f"models/{name}.txt": f"{name} {version}\n"})
                tag(f"{name}@v0.0.{version}", at, f"Registering artifact {name} version v0.0.{version}")
                stage = "prod" if version == versions else "dev"
                tag(
                    f"{name}#{stage}#{version}",
                    at,
                    f"Assigning stage {stage} to artifact {name} version v0.0.{version}",
                )
            count += 2
    step(f"git fast-import of {count:,} tags")
    marks_file = dest / ".git" / "bench-marks"
    fast_import = ["git", "fast-import", "--quiet", f"--export-marks={marks_file}"]
    subprocess.run(fast_import, cwd=dest, input="".join(out).encode(), check=True)
    step("writing packed-refs")
    marks = dict(line.split(" ") for line in marks_file.read_text().splitlines())
    marks_file.unlink()
    # As a fresh clone has them: every tag and claim ref packed, none loose. fast-import wrote
    # each tag as a loose ref; packed-refs is written here, whole, instead of `pack-refs` taking
    # a lock per ref to delete each one (minutes for 100,000 on a slow disk).
    shutil.rmtree(dest / ".git" / "refs" / "tags")
    (dest / ".git" / "refs" / "tags").mkdir()
    _write_packed_refs(dest / ".git" / "packed-refs", marks, tags, claims=fmt == "modelreg")
    step("checkout")
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=dest, check=True)
    step("built")
    return count


_PACKED_HEADER = "# pack-refs with: peeled fully-peeled sorted "


def _claim(name: str) -> str | None:
    """The claim ref of a modelreg tag name (DESIGN §3)."""
    if name.count("#") == 2:
        model, _, seq = name.split("#")
        return f"refs/modelreg/events/{model}/{seq}"
    if "@v" in name:
        model, _, version = name.rpartition("@v")
        return f"refs/modelreg/versions/{model}/{version}"
    return None


def _write_packed_refs(packed: Path, marks: dict[str, str], tags: list[tuple[str, int, int]], claims: bool) -> None:
    """packed-refs holding every tag (peeled) and, with `claims`, its claim ref (the same tag object)."""
    entries = []
    for name, tag_mark, commit_mark in tags:
        obj, commit = marks[f":{tag_mark}"], marks[f":{commit_mark}"]
        refs = [f"refs/tags/{name}"]
        if claims and (claim := _claim(name)) is not None:
            refs.append(claim)
        entries += [(ref, f"{obj} {ref}\n^{commit}\n") for ref in refs]
    entries.sort(key=lambda entry: entry[0].encode())
    packed.write_text(_PACKED_HEADER + "\n" + "".join(text for _, text in entries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--events", type=int, required=True, help="tags in all (versions and events)")
    parser.add_argument("--format", choices=["modelreg", "gto"], default="modelreg")
    parser.add_argument("--commits", type=int, default=0, help="unrelated commits of history underneath")
    parser.add_argument("--single", action="store_true", help="one model holds every tag")
    args = parser.parse_args()
    if args.dest.exists():
        raise SystemExit(f"{args.dest} exists already")
    count = build(
        args.dest, args.events, args.format, args.commits, args.single, lambda msg: print(msg, file=sys.stderr)
    )
    print(f"{args.dest}: {count} tags ({args.format} format)")


if __name__ == "__main__":
    main()
