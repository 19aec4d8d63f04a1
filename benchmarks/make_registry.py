"""Build a synthetic registry fast: one `git fast-import` stream plus one `update-ref --stdin`.

    python benchmarks/make_registry.py DEST --events N [--format modelreg|gto] [--commits C] [--policy]

DEST becomes a new git repository holding N tags in all (version tags and stage/alias events,
half each). The model `bench` gets a quarter of them and ends with a production holder; the rest
spread over models of 100 tags each. `--format gto` builds the same shape with GTO's own tag
conventions (`name@v0.0.N`, `name#prod#N`), so both tools can be timed on equal repositories.

`--policy` builds the same registry with the policy on (see policy_registry.py): production is
review-required and every production event comes from a request merged into main, every tag is
signed and `require_signed` is on. Two fast-import streams then (the commits, then the tags, whose
messages name the merge commits), still about a minute at 100,000 events.
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

import policy_registry
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelreg.formats import manifest as manifestmod
from modelreg.formats import requestfile
from modelreg.models import Artifact, ArtifactFile, Manifest, Request

EPOCH = 1700000000
TAGGER = f"Bench <bench@example.com> {EPOCH} +0000"
SIDE = "refs/bench/request"  # the request branch while it is written (deleted once merged)
SIGNERS = policy_registry.SIGNERS_PATH
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


def _manifest(name: str, version: int) -> Manifest:
    artifact = Artifact(".modelreg/store", DIGEST, 10, (ArtifactFile("model.bin", DIGEST, 10),))
    return Manifest(
        name=name,
        version=version,
        created_at="2023-11-14T22:13:20Z",
        created_by="Bench <bench@example.com>",
        artifact=artifact,
        metrics={"auc": 0.9},
    )


def _manifest_template() -> str:
    """One manifest rendered by modelreg itself, with placeholders for name and version.

    Rendering each of 50,000 manifests through the YAML writer took most of a 100,000-event build;
    the placeholders are plain scalars, so substituting them yields exactly what the writer gives.
    """
    manifest = _manifest(_NAME, int(_VERSION))
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
    policy: bool = False,
    key: Ed25519PrivateKey | None = None,
) -> int:
    """Create the repository; returns the number of tags written. `progress` is told each step as it starts.

    `policy`: reviewed and signed (policy_registry.py), with `key` (a new one when not given).
    """
    if policy and fmt != "modelreg":
        raise ValueError("--policy builds modelreg registries only")
    dest = dest.resolve()  # git runs in it, and is given paths inside it
    started = time.perf_counter()
    signer = (key or Ed25519PrivateKey.generate()) if policy else None

    def step(what: str) -> None:
        if progress is not None:
            progress(f"{dest.name}: {what} ({time.perf_counter() - started:.1f} s)")

    step(f"writing the fast-import stream of {events:,} events" + (", policy on" if policy else ""))
    subprocess.run(["git", "init", "-q", "-b", "main", str(dest)], check=True)
    out: list[str] = []
    mark = 0
    previous = [0]  # the mark of main's last commit

    def commit(
        message: str,
        files: dict[str, str],
        ref: str = "refs/heads/main",
        merge: int = 0,
        who: str = TAGGER,
    ) -> int:
        """A commit on main (or on `ref`, off main's tip); `merge`: the mark of its second parent."""
        nonlocal mark
        mark += 1
        author = f"author {who}\n" if who != TAGGER else ""
        out.append(f"commit {ref}\nmark :{mark}\n{author}committer {who}\n{_data(message)}")
        if previous[0]:
            out.append(f"from :{previous[0]}\n")
        if merge:
            out.append(f"merge :{merge}\n")
        if ref == "refs/heads/main":
            previous[0] = mark
        out.extend(f"M 100644 inline {path}\n{_data(text)}" for path, text in files.items())
        out.append("\n")
        return mark

    tags: list[tuple[str, int, int]] = []  # (name, the tag's mark, its commit's mark)
    # With the policy on, tags are written in a second stream: (name, commit mark, message, merge mark, request)
    later: list[tuple[str, int, str, int, Request | None]] = []

    def tag(name: str, target: int, message: str, merge: int = 0, req: Request | None = None) -> None:
        nonlocal mark
        mark += 1
        tags.append((name, mark, target))
        if policy:
            later.append((name, target, message, merge, req))
        else:
            out.append(f"tag {name}\nmark :{mark}\nfrom :{target}\ntagger {TAGGER}\n{_data(message)}")

    for number in range(commits):
        commit(f"work {number}", {f"src/module_{number % 50}.py": f"# revision {number}\n" + "x = 1\n" * 40})
    first = {".modelreg/config.yaml": CONFIG, ".gitignore": "/.modelreg/store/\n"}
    if signer is not None:
        first[".modelreg/config.yaml"] = CONFIG + policy_registry.CONFIG
        first[SIGNERS] = policy_registry.signers(signer)
    commit("init", first)
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
                if policy and target == policy_registry.STAGE:
                    req = policy_registry.request(name, version)
                    files = {req.path: requestfile.to_yaml(req)}
                    side = commit(policy_registry.branch_message(req, _manifest(name, version)), files, SIDE)
                    merged = commit(
                        policy_registry.merge_message(req, side), files, merge=side, who=_who(policy_registry.REVIEWER)
                    )
                    tag(f"{name}#{target}#{version}", at, "", merged, req)
                    count += 2
                    continue
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
    step(f"git fast-import of {count:,} tags" if not policy else f"git fast-import of {mark - len(tags):,} commits")
    marks_file = dest / ".git" / "bench-marks"
    fast_import = ["git", "fast-import", "--quiet", f"--export-marks={marks_file}"]
    subprocess.run(fast_import, cwd=dest, input="".join(out).encode(), check=True)
    marks = dict(line.split(" ") for line in marks_file.read_text().splitlines())
    if signer is not None:
        step(f"signing {count:,} tags, git fast-import of them")
        stream = []
        for (tag_name, on, message, merge_mark, asked), (_, tag_mark, _) in zip(later, tags, strict=True):
            if asked is not None:
                message = policy_registry.event_message(asked, marks[f":{merge_mark}"], EPOCH)
            stream.append(policy_registry.signed_tag(tag_name, tag_mark, marks[f":{on}"], TAGGER, message, signer))
        subprocess.run(fast_import, cwd=dest, input="".join(stream).encode(), check=True)
        marks.update(dict(line.split(" ") for line in marks_file.read_text().splitlines()))
        subprocess.run(["git", "update-ref", "-d", SIDE], cwd=dest, check=True)
    step("writing packed-refs")
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


def _who(ident: str) -> str:
    """A fast-import identity line's value: `Name <email> <when>`."""
    return f"{ident} {TAGGER.split('> ', 1)[1]}"


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
    parser.add_argument("--policy", action="store_true", help="reviewed and signed (see policy_registry.py)")
    args = parser.parse_args()
    if args.dest.exists():
        raise SystemExit(f"{args.dest} exists already")
    count = build(
        args.dest,
        args.events,
        args.format,
        args.commits,
        args.single,
        lambda msg: print(msg, file=sys.stderr),
        policy=args.policy,
    )
    print(f"{args.dest}: {count} tags ({args.format} format{', policy on' if args.policy else ''})")


if __name__ == "__main__":
    main()
