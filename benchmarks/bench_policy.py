"""What enforcing the policy costs a read: the same reads with the policy off and on, on one synthetic registry.

    .venv/bin/python benchmarks/bench_policy.py [--events 10000] [--runs 7]

One run builds a registry with `make_registry.build` (the model `bench` holds a quarter of the tags
and ends with a production holder) and times, as whole processes of the venv's `modelreg` (median
of --runs, each after one untimed warm-up call), these reads:

    resolve bench/production, show bench --json, check-ref bench#production#N,
    history bench --json, list --json

in four registries, one after the other in the same repository:

  1. off: the registry as built (no policy, unsigned tags);
  2. off, signed tags: every tag re-created signed, the production events rewritten to name the
     request whose merge approved them, the policy still off (what the bigger tags alone cost);
  3. signed: `require_signed: true` and `allowed_signers: .modelreg/allowed_signers` committed on main;
  4. signed + review: the same plus `review_required: [production]`.

In (4) each read is also timed once cold: with `$XDG_CACHE_HOME/modelreg/signatures/` emptied first,
so every tag of the model read (of every model for `list`) goes through `git verify-tag`.

How the signed registry is made, faithfully but without a process per tag:
  - an ed25519 key (ssh-keygen) whose public key is in the allowed-signers file with principal
    bench@example.com and namespaces="git";
  - review evidence: for each model's production event, a request file (`.modelreg/requests/ID.yaml`)
    committed on a side branch and merged into main with a merge commit (one `git fast-import`);
    the event's payload then names the request, the merge commit and its author as approver, as
    `modelreg apply` writes them;
  - each tag object is rebuilt as `git tag -s` would make it: the header and message (ending in a
    newline) are signed with `ssh-keygen -Y sign -n git` (many files per process, processes side by
    side), the armored signature is appended, and `git mktag` writes the object; one
    `git update-ref --stdin` repoints refs/tags/* and the claim refs, then the objects are repacked
    and the refs packed, as a fresh clone has them.
Correctness is checked once: `modelreg verify` (it asks git about every tag) and `modelreg check-ref`
must exit 0 under the full policy, and no read may warn that it ignored an event.

The floor is what benchmarks/run.py calls it: `python -c pass` plus `git for-each-ref` of bench's tags
and claim refs with their messages (list floor: of every tag and claim ref). It is measured just
before each registry's reads, and each read is compared with the floor measured beside it. The
registry as built is repacked first (`git repack -a -d`), so the unsigned and the signed registry
have their objects laid out alike.
Goal: with the policy on, warm resolve / show / check-ref stay within 2x the floor.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchenv import (
    ALL_REFS,
    BENCH_REFS,
    CONTENTS,
    IDENTITY,
    MODELREG,
    PYTHON,
    compile_package,
    installed_env,
    median_time,
    progress,
    run_checked,
)
from make_registry import CONFIG, TAGGER, build, layout

from modelreg.core.events import event_message
from modelreg.formats import requestfile
from modelreg.models import Request

STAGE = "production"  # the synthetic layout's production-like stage (single holder, the last version)
PRINCIPAL = "bench@example.com"
SIGNERS_PATH = ".modelreg/allowed_signers"
SIGNED = f"require_signed: true\nallowed_signers: {SIGNERS_PATH}\n"
REVIEWED = f"review_required: [{STAGE}]\n"
WHEN = "2023-11-14T22:13:20Z"  # TAGGER's time, as the manifests write it
WORKERS = os.cpu_count() or 1

# Read label → arguments ({N}: bench's last version, the production holder); list compares with the list floor.
READS: dict[str, list[str]] = {
    f"resolve bench/{STAGE}": ["resolve", f"bench/{STAGE}"],
    "show bench --json": ["show", "bench", "--json"],
    f"check-ref bench#{STAGE}#N": ["check-ref", f"bench#{STAGE}#{{N}}"],
    "history bench --json": ["history", "bench", "--json"],
    "list --json": ["list", "--json"],
}
GOAL_READS = (f"resolve bench/{STAGE}", "show bench --json", f"check-ref bench#{STAGE}#N")  # ≤ 2x floor, warm
LIST_READ = "list --json"


class Bench(NamedTuple):
    repo: Path
    cache: Path  # this run's XDG_CACHE_HOME
    env: dict[str, str]
    runs: int
    versions: int  # bench's versions: N

    def argv(self, args: list[str]) -> list[str]:
        return [MODELREG, *(arg.replace("{N}", str(self.versions)) for arg in args)]


def git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """stdout of a git command in `repo`; exits with its error when it fails."""
    proc = subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"`git {' '.join(args)}` failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


# -- timing -----------------------------------------------------------------------------------------------------------


def floors(bench: Bench) -> tuple[float, float]:
    """(floor, list floor): `python -c pass` plus `git for-each-ref` of bench's refs / of every ref, with messages."""
    python = median_time([PYTHON, "-c", "pass"], bench.repo, bench.runs, bench.env)
    refs = median_time(["git", "for-each-ref", CONTENTS, *BENCH_REFS], bench.repo, bench.runs, bench.env)
    every = median_time(["git", "for-each-ref", CONTENTS, *ALL_REFS], bench.repo, bench.runs, bench.env)
    return python + refs, python + every


def warm_reads(bench: Bench, policy_on: bool) -> dict[str, float]:
    """Median time of each read after one untimed call (which, with the policy on, leaves git's verdicts behind)."""
    times = {}
    for label, args in READS.items():
        warmup = run_checked(bench.argv(args), bench.repo, bench.env)
        if policy_on and b"ignoring" in warmup.stderr:  # the policy left an event out: the registry is not as meant
            raise SystemExit(f"`modelreg {' '.join(args)}` ignored events: {warmup.stderr.decode().strip()}")
        times[label] = median_time(bench.argv(args), bench.repo, bench.runs, bench.env)
    return times


def cold_reads(bench: Bench) -> dict[str, float]:
    """One run of each read with no remembered signature verdicts (the parsed-refs cache stays warm)."""
    times = {}
    for label, args in READS.items():
        shutil.rmtree(bench.cache / "modelreg" / "signatures", ignore_errors=True)
        start = time.perf_counter()
        run_checked(bench.argv(args), bench.repo, bench.env)
        times[label] = time.perf_counter() - start
    return times


# -- the signed, reviewed registry ------------------------------------------------------------------------------------


def make_key(work: Path) -> tuple[Path, str]:
    """(private key file, the allowed-signers line of its public key)."""
    key = work / "signing_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", PRINCIPAL, "-f", str(key)], check=True)
    public = key.with_name(key.name + ".pub").read_text().strip()
    return key, f'{PRINCIPAL} namespaces="git" {public}\n'


def _data(text: str) -> str:
    return f"data {len(text.encode())}\n{text}\n"


def add_review_evidence(repo: Path, work: Path, models: list[tuple[str, int]]) -> dict[str, str]:
    """Merge one request per model's production event into main (one fast-import); returns tag → new message.

    Each request is committed on a side branch off main and merged with a merge commit that adds
    the request file, as a reviewed pull request is; the side branch ref is deleted afterwards.
    """
    main = git(repo, "rev-parse", "refs/heads/main").decode().strip()
    side = "refs/bench/request"
    stream: list[str] = []
    requests: list[tuple[str, int, Request]] = []  # (model, merge mark, request)
    for index, (name, versions) in enumerate(models):
        entropy = hashlib.sha256(name.encode()).hexdigest()
        request = Request(
            id=requestfile.new_request_id(name, STAGE, versions, entropy),
            name=name,
            version=versions,
            kind="stage",
            target=STAGE,
            requested_by="Bench <bench@example.com>",
            requested_at=WHEN,
        )
        text = requestfile.to_yaml(request)
        parent = f":{2 * index}" if index else main
        stream += [
            f"commit {side}\nmark :{2 * index + 1}\ncommitter {TAGGER}\n",
            _data(f"modelreg: request {request.label}"),
            f"from {parent}\nM 100644 inline {request.path}\n{_data(text)}\n",
            f"commit refs/heads/main\nmark :{2 * index + 2}\ncommitter {TAGGER}\n",
            _data(f"Merge pull request: {requestfile.pr_title(request)}"),
            f"from {parent}\nmerge :{2 * index + 1}\nM 100644 inline {request.path}\n{_data(text)}\n",
        ]
        requests.append((name, 2 * index + 2, request))
    marks = work / "marks"
    git(repo, "fast-import", "--quiet", f"--export-marks={marks}", stdin="".join(stream).encode())
    git(repo, "update-ref", "-d", side)
    git(repo, "reset", "-q", "--hard", "refs/heads/main")  # main moved under the work tree
    commits = dict(line.split(" ") for line in marks.read_text().splitlines())
    messages = {}
    for name, mark, request in requests:
        payload = {
            "action": "assign",
            "kind": "stage",
            "target": STAGE,
            "version": request.version,
            "archived": [],
            "reason": None,
            "request": request.id,
            "approved_by": "Bench <bench@example.com>",  # the merge commit's author
            "merge_commit": commits[f":{mark}"],
            "requested_by": request.requested_by,
        }
        subject = f"{name} v{request.version} → {STAGE} (request {request.id})"
        messages[f"{name}#{STAGE}#{request.version}"] = event_message(subject, payload)
    return messages


def tag_objects(repo: Path) -> dict[str, tuple[str, bytes]]:
    """Every tag under refs/tags/: name → (object id, raw tag object), from one `cat-file --batch`."""
    listing = git(repo, "for-each-ref", "--format=%(refname:strip=2) %(objectname)", "refs/tags/").decode()
    names = dict(line.split(" ") for line in listing.splitlines())
    out = git(repo, "cat-file", "--batch", stdin="".join(f"{obj}\n" for obj in names.values()).encode())
    raw: dict[str, bytes] = {}
    position = 0
    while position < len(out):
        end = out.index(b"\n", position)
        obj, kind, size = out[position:end].decode().split(" ")
        if kind != "tag":
            raise SystemExit(f"{obj} is a {kind}, not a tag object")
        raw[obj] = out[end + 1 : end + 1 + int(size)]
        position = end + 1 + int(size) + 1
    return {name: (obj, raw[obj]) for name, obj in names.items()}


def _chunks(items: list[Path], count: int) -> Iterable[list[Path]]:
    size = max(1, -(-len(items) // count))
    return (items[i : i + size] for i in range(0, len(items), size))


def sign_tags(repo: Path, work: Path, key: Path, messages: dict[str, str]) -> int:
    """Re-create every tag signed (with `messages[name]` as its message where given); returns how many.

    The payload is what `git tag -s` signs: the tag header, a blank line and the message ending in a
    newline; the object is the payload with the armored SSH signature appended, written by `git mktag`.
    """
    tags = tag_objects(repo)
    scratch = work / "payloads"
    scratch.mkdir()
    files: dict[str, Path] = {}
    for index, (name, (_, raw)) in enumerate(sorted(tags.items())):
        header, _, message = raw.decode().partition("\n\n")
        message = messages.get(name, message)
        files[name] = scratch / f"{index:06d}"
        files[name].write_text(f"{header}\n\n{message.rstrip(chr(10))}\n", encoding="utf-8")

    def sign(batch: list[Path]) -> None:  # one ssh-keygen signs many files, writing FILE.sig beside each
        subprocess.run(
            ["ssh-keygen", "-Y", "sign", "-n", "git", "-f", str(key), *map(str, batch)], check=True, capture_output=True
        )

    def mktag(name: str) -> str:
        path = files[name]
        signed = path.read_bytes() + path.with_name(path.name + ".sig").read_bytes()
        return git(repo, "mktag", stdin=signed).decode().strip()

    batches = list(_chunks(sorted(files.values()), max(WORKERS, len(files) // 2000)))
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(sign, batches))
    with ThreadPoolExecutor(2 * WORKERS) as pool:
        new = dict(zip(files, pool.map(mktag, files), strict=True))
    replaced = {tags[name][0]: obj for name, obj in new.items()}
    refs = git(repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/tags/", "refs/modelreg/").decode()
    updates = [
        f"update {ref} {replaced[obj]} {obj}\n"
        for ref, obj in (line.split(" ") for line in refs.splitlines())
        if obj in replaced
    ]
    git(repo, "update-ref", "--stdin", stdin="".join(updates).encode())
    git(repo, "repack", "-a", "-d", "-q")  # one pack, the old tag objects gone, as a fresh clone has it
    git(repo, "pack-refs", "--all")
    shutil.rmtree(scratch)
    return len(new)


def commit_policy(repo: Path, config: str, signers: str, message: str) -> None:
    """Commit the config (and the allowed-signers file) on main, and bring the work tree along."""
    stream = (
        f"commit refs/heads/main\ncommitter {TAGGER}\n{_data(message)}from refs/heads/main^0\n"
        f"M 100644 inline .modelreg/config.yaml\n{_data(config)}M 100644 inline {SIGNERS_PATH}\n{_data(signers)}\n"
    )
    git(repo, "fast-import", "--quiet", stdin=stream.encode())
    git(repo, "reset", "-q", "--hard", "refs/heads/main")


# -- the report -------------------------------------------------------------------------------------------------------


class Phase(NamedTuple):
    """One registry's numbers: its floors, measured just before its reads (the machine's load drifts)."""

    floor: float
    list_floor: float
    reads: dict[str, float]

    def over_floor(self, label: str) -> float:
        return self.reads[label] / (self.list_floor if label == LIST_READ else self.floor)


def measure(bench: Bench, policy_on: bool) -> Phase:
    return Phase(*floors(bench), warm_reads(bench, policy_on))


def report(off: Phase, signed_off: Phase, signed: Phase, on: Phase, cold: dict[str, float]) -> str:
    lines = [
        "| read | off (s) | off, signed tags (s) | signed, warm (s) | signed + review, warm (s) "
        "| signed + review, cold (s, 1 run) | on / off | off / floor | signed / floor | on / floor (goal ≤ 2) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label in READS:
        ratio = on.over_floor(label)
        verdict = (" ✓" if ratio <= 2 else " ✗") if label in GOAL_READS else ""
        floor_note = " (list floor)" if label == LIST_READ else ""
        lines.append(
            f"| {label} | {off.reads[label]:.3f} | {signed_off.reads[label]:.3f} | {signed.reads[label]:.3f} "
            f"| {on.reads[label]:.3f} | {cold[label]:.2f} | {on.reads[label] / off.reads[label]:.2f} "
            f"| {off.over_floor(label):.2f}{floor_note} | {signed.over_floor(label):.2f}{floor_note} "
            f"| {ratio:.2f}{verdict}{floor_note} |"
        )
    phases = (off, signed_off, signed, on)
    lines += [
        "",
        "| floor, measured before each column's reads (s) | off | off, signed tags | signed | signed + review |",
        "|---|---|---|---|---|",
        "| floor: python -c pass + for-each-ref of bench's refs | "
        + " | ".join(f"{p.floor:.3f}" for p in phases)
        + " |",
        "| list floor: python -c pass + for-each-ref of every ref | "
        + " | ".join(f"{p.list_floor:.3f}" for p in phases)
        + " |",
        "",
        "on = signed + review, warm; signed = require_signed alone, warm; each over the floor measured beside it. "
        "Goal: warm reads with the policy on, resolve / show / check-ref ≤ 2x floor.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000, help="tags in all (versions and events)")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    progress(f"compiled {compile_package()}")
    models = layout(args.events)
    with tempfile.TemporaryDirectory(prefix="modelreg-bench-policy-") as tmp:
        work = Path(tmp)
        repo, cache = work / f"registry-{args.events}", work / "cache"
        started = time.perf_counter()

        def step(what: str) -> None:
            progress(f"[{time.perf_counter() - started:6.1f} s] {what}")

        build(repo, args.events, progress=progress)
        git(repo, "repack", "-a", "-d", "-q")  # packed as the signed registry will be: the same object layout
        bench = Bench(
            repo, cache, installed_env(**IDENTITY, XDG_CACHE_HOME=str(cache)), args.runs, dict(models)["bench"]
        )
        step("policy off: floor and reads")
        off = measure(bench, policy_on=False)

        step(f"review evidence: {len(models)} requests merged into main")
        messages = add_review_evidence(repo, work, models)
        step("signing every tag")
        key, signers = make_key(work)
        signing = time.perf_counter()
        count = sign_tags(repo, work, key, messages)
        signing = time.perf_counter() - signing
        step(f"signed {count:,} tags in {signing:.1f} s; policy off, signed tags: floor and reads")
        signed_off = measure(bench, policy_on=False)

        step("policy: require_signed")
        commit_policy(repo, CONFIG + SIGNED, signers, "policy: require signed events")
        signed = measure(bench, policy_on=True)
        step(f"policy: require_signed + review_required [{STAGE}]")
        commit_policy(repo, CONFIG + SIGNED + REVIEWED, signers, f"policy: review {STAGE}")
        on = measure(bench, policy_on=True)
        step("cold reads (no remembered verdicts), one run each")
        cold = cold_reads(bench)

        step("checking: modelreg verify, modelreg check-ref")
        verifying = time.perf_counter()
        run_checked([MODELREG, "verify"], repo, bench.env)
        verifying = time.perf_counter() - verifying
        run_checked(bench.argv(READS[f"check-ref bench#{STAGE}#N"]), repo, bench.env)
        step("done")

    print(
        f"\n{args.events:,} events ({count:,} tags, bench: {bench.versions:,} versions, {len(models)} models), "
        f"median of {args.runs} runs, {WORKERS} cores; signing every tag took {signing:.1f} s, "
        f"`modelreg verify` (git verify-tag for every tag) {verifying:.1f} s and exited 0.\n"
    )
    print(report(off, signed_off, signed, on, cold))


if __name__ == "__main__":
    main()
