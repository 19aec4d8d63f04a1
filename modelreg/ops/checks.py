"""`verify` and `gc`: read the whole registry once and compare it with what is stored."""

from __future__ import annotations

import math
import re
from collections import defaultdict

from modelreg.core import names
from modelreg.core.progress import Progress
from modelreg.core.refs import NO_VERSION, parse_tag_name, version_tag
from modelreg.errors import IntegrityError, InvalidInputError, ModelregError
from modelreg.formats import manifest as manifestmod
from modelreg.models import ArtifactFile, Event, Finding, Manifest, ModelState, RefCheck
from modelreg.publish.fetching import fetch
from modelreg.read.deleted import collectable
from modelreg.read.evidence import review_findings
from modelreg.read.policy import claim_problem
from modelreg.read.reader import Reader
from modelreg.read.refcheck import lean_ref_check, ref_check
from modelreg.read.sigverify import signature_findings
from modelreg.results import GcReport, VerifyReport
from modelreg.store.blobs import older_than

_MANIFEST_PATH = re.compile(re.escape(manifestmod.MODELS_DIR) + r"/([^/]+)/v([1-9][0-9]*)\.yaml")


def tagged_manifests(reg: Reader, events: dict[str, list[Event]]) -> tuple[dict[str, Manifest], list[Finding]]:
    """Every version's manifest as its tag's commit holds it (one `cat-file --batch`), by tag name."""
    registrations = [e for model in events.values() for e in model if e.action == "register"]
    texts = reg.git.read_files([(e.commit, manifestmod.manifest_path(e.name, e.version)) for e in registrations])
    manifests: dict[str, Manifest] = {}
    findings: list[Finding] = []
    for event, text in zip(registrations, texts, strict=True):
        path = manifestmod.manifest_path(event.name, event.version)
        if text is None:
            findings.append(Finding("manifest", event.tag, f"{event.tag} points at a commit without {path}"))
            continue
        try:
            manifest = manifestmod.from_yaml(text, f"{path} at {event.tag}")
            manifestmod.check_manifest_matches(manifest, event.name, event.version, f"{path} at {event.tag}")
        except ModelregError as exc:
            findings.append(Finding("manifest", event.tag, str(exc)))
            continue
        manifests[event.tag] = manifest
    return manifests, findings


def verify(
    reg: Reader, name: str | None = None, *, blobs: bool = False, progress: Progress | None = None
) -> VerifyReport:
    """Check tags, claim refs and manifests (and, with `blobs`, re-hash every stored blob)."""
    if name is not None:
        reg.model(name)  # an unknown model is an error, not an empty report
    snap = reg.snapshot(name)
    findings = [Finding("event", p.split(":", 1)[0], p) for p in snap.problems]
    for model, model_events in sorted(snap.events.items()):
        findings += _event_findings(model, model_events, snap.claims)

    findings += review_findings(reg.context, snap.events)

    findings += signature_findings(reg.context, snap.events, remembered=False)  # verify asks git every time
    manifests, manifest_findings = tagged_manifests(reg, snap.events)
    findings += manifest_findings
    for tag, manifest in sorted(manifests.items()):
        findings += _worktree_findings(reg, tag, manifest)
    checked = 0
    if blobs:
        unique: dict[str, ArtifactFile] = {}
        deleted = collectable(reg, snap, -math.inf)  # every deleted version: `gc` may have taken its blobs
        for manifest in manifests.values():
            if (manifest.name, manifest.version) in deleted:
                continue
            for blob in manifest.artifact.files:
                unique.setdefault(blob.digest, blob)
        if progress is not None:
            progress.start("verifying blobs", sum(b.size for b in unique.values()))
        store = reg.store(reg.config.store)  # the store of record: never a URL a manifest names
        for _, blob in sorted(unique.items()):
            problem = store.verify(blob)
            checked += 1
            if progress is not None:
                progress.advance(blob.size)
            if problem:
                findings.append(Finding("blob", blob.digest, problem))
    events = sum(1 for model in snap.events.values() for e in model if e.seq is not None)

    return VerifyReport(
        models=sum(1 for model in snap.events.values() if any(e.action in ("register", "create") for e in model)),
        versions=sum(1 for model in snap.events.values() for e in model if e.action == "register"),
        events=events,
        blobs=checked,
        findings=tuple(findings),
        warnings=tuple(
            f"{tag}: its manifest names the store {m.artifact.store!r}, not the store of record {reg.config.store!r}"
            + (" (its blobs were checked there)" if blobs else "")
            for tag, m in sorted(manifests.items())
            if not reg.config.is_store_of_record(m.artifact.store)
        )
        + tuple(f"{tag}: holds no model bytes, {why}" for tag, m in sorted(manifests.items()) if (why := _no_bytes(m))),
    )


def _no_bytes(manifest: Manifest) -> str | None:
    """Why a version holds no model bytes (reference-only, or imported without them); not a corruption."""
    origin = manifest.extra.get("origin")
    missing = origin.get("missing") if isinstance(origin, dict) else None
    return missing if isinstance(missing, str) else None


def audit_event(reg: Reader, event: Event, events: list[Event], claims: dict[str, str]) -> list[Finding]:
    """What `verify` would report about this one event (for `check-ref`)."""
    # The registrations (its version's commit) and the events that share its seq are all it is judged with.
    near = [e for e in events if e.action == "register" or e is event or (e.seq is not None and e.seq == event.seq)]
    findings = [f for f in _event_findings(event.name, near, claims) if event.tag in f.subject.split(", ")]
    if event.seq is not None and reg.config.review_required:
        findings += review_findings(reg.context, {event.name: events}, only=event.tag)
    if reg.config.require_signed:
        findings += signature_findings(reg.context, {event.name: events}, only=event.tag)
    return findings


def _event_findings(name: str, events: list[Event], claims: dict[str, str]) -> list[Finding]:
    findings: list[Finding] = []
    commits = {e.version: e.commit for e in events if e.action == "register"}
    by_seq: dict[int, list[Event]] = defaultdict(list)
    for event in events:
        if (problem := claim_problem(event, claims)) is not None:
            findings.append(Finding("claim", event.tag, problem))
        if event.seq is None:
            continue
        by_seq[event.seq].append(event)
        if event.version == NO_VERSION and event.kind == "model":
            continue  # written before the model's first version (a `create` and what followed it): no version tag
        for version in (event.version, *event.archived):
            if version not in commits:
                findings.append(
                    Finding(
                        "event",
                        event.tag,
                        f"{event.tag} concerns v{version}, which has no version tag {version_tag(name, version)}",
                    )
                )
        if event.version in commits and event.commit != commits[event.version]:
            findings.append(
                Finding(
                    "event", event.tag, f"{event.tag} points at another commit than {version_tag(name, event.version)}"
                )
            )
    for seq, sharing in sorted(by_seq.items()):
        if len(sharing) > 1:
            tags = ", ".join(sorted(e.tag for e in sharing))
            findings.append(Finding("event", tags, f"{name}: seq {seq} is taken by more than one tag: {tags}"))
    return findings


def _worktree_findings(reg: Reader, tag: str, tagged: Manifest) -> list[Finding]:
    """The work tree's copy may differ from the tagged one in description and tags only."""
    path = manifestmod.manifest_path(tagged.name, tagged.version)
    local = reg.root / path
    if not local.is_file():
        return []
    try:
        current = manifestmod.from_yaml(local.read_bytes().decode("utf-8", errors="replace"), path)
    except ModelregError as exc:
        return [Finding("manifest", path, str(exc))]
    if current._replace(description=tagged.description, tags=tagged.tags) != tagged:
        changed = list(dict.fromkeys(key.split(".")[0] for key, _, _ in manifestmod.immutable_changes(tagged, current)))
        return [
            Finding(
                "manifest",
                path,
                f"{path} differs from {tag} in {', '.join(changed)}: only "
                "'description' and 'tags' may change after registration",
            )
        ]
    return []


def collect_garbage(reg: Reader, *, delete: bool = False, grace_s: float = 24 * 3600) -> GcReport:
    """Blobs of the configured store that no manifest references; deleted only when asked.

    Blobs younger than `grace_s` seconds are kept: a registration may be uploading them. A blob
    is referenced through a version tag, so when the registry's remote exists its refs are
    fetched first (a ref moved or deleted there is an IntegrityError), and gc refuses while the
    main branch or HEAD has a manifest whose version tag is not here.
    """
    if grace_s < 0:
        raise InvalidInputError("the grace period must not be negative")
    if reg.source is None and reg.config.remote in reg.git.remote_names():
        fetch(reg, strict=True)

    snap = reg.snapshot(None)
    manifests, findings = tagged_manifests(reg, snap.events)
    if findings:
        # A version whose manifest cannot be read might reference anything: deleting is unsafe.
        raise ModelregError(f"cannot tell which blobs are referenced: {findings[0].message}")
    untagged = _untagged_manifest(reg, snap.events)
    if untagged is not None:
        # Blobs count as referenced through version tags: a clone that has a version's manifest but not
        # its tag (a branch pulled without tags) would take that version's blobs for garbage.
        path, rev, tag = untagged
        raise ModelregError(
            f"cannot tell which blobs are referenced: {path} is on {rev} but its version tag {tag} is not "
            "in this clone: run `modelreg fetch` (or push the tag from the clone that registered it); "
            "nothing was deleted"
        )
    gone = collectable(reg, snap, grace_s)  # versions deleted longer ago than the grace period
    referenced = {b.digest for m in manifests.values() if (m.name, m.version) not in gone for b in m.artifact.files}
    store = reg.store(reg.config.store)
    unreferenced, young = [], 0
    for blob in store.list_blobs():
        if blob.digest in referenced:
            continue
        if older_than(blob.modified, grace_s):
            unreferenced.append(blob)
        else:
            young += 1
    leftovers = tuple(path for path, modified in store.list_temps() if older_than(modified, grace_s))
    if delete:
        for blob in unreferenced:
            store.remove(blob.digest)
        for path in leftovers:
            store.remove_path(path)

    return GcReport(
        reg.config.store, len(referenced), tuple(sorted(unreferenced, key=lambda b: b.digest)), young, leftovers, delete
    )


def _untagged_manifest(reg: Reader, events: dict[str, list[Event]]) -> tuple[str, str, str] | None:
    """(path, branch, tag) of a manifest on HEAD or the main branch whose version tag this clone lacks."""
    tagged = {
        manifestmod.manifest_path(e.name, e.version)
        for model in events.values()
        for e in model
        if e.action == "register"
    }
    main, remote = reg.config.main_branch, reg.config.remote
    seen: set[str] = set()
    for rev, label in (
        (f"refs/heads/{main}", main),
        (f"refs/remotes/{remote}/{main}", f"{remote}/{main}"),
        ("HEAD", "HEAD"),
    ):
        commit = reg.git.resolve_commit(rev)
        if commit is None or commit in seen:
            continue
        seen.add(commit)
        for path in sorted(reg.git.list_paths(commit, manifestmod.MODELS_DIR)):
            found = _MANIFEST_PATH.fullmatch(path)
            if found is not None and path not in tagged:
                name = names.decode(found[1])
                if name is not None:
                    return path, label, version_tag(name, int(found[2]))
    return None


def check_ref(reader: Reader, ref: str) -> RefCheck:
    """Describe a modelreg tag (`name@v7`, `name#production#12`, or `refs/tags/…`) for CI.

    Raises IntegrityError when the tag does not verify: its claim ref, the merged request a
    review-required stage needs, its signature when the registry requires them.
    """
    parsed = parse_tag_name(ref.strip())
    if parsed is None:
        raise InvalidInputError(f"{ref[:200]!r} is not a modelreg tag (NAME@vN or NAME#TARGET#SEQ)")
    tag = ref.strip().removeprefix("refs/tags/")
    if (lean := lean_ref_check(reader, tag)) is not None:  # from the events that decide it (DESIGN §10)
        return lean
    view = reader.model(parsed.name)
    state, snap = view.state, view.snap
    events = snap.events.get(parsed.name, [])  # every event, admitted or not: this one is judged here
    event = next((e for e in events if e.tag == tag), None)
    bad = next((p for p in snap.problems if p.startswith(f"{tag}:")), None)
    if bad is not None:  # malformed, or moved after it was claimed (the tag a CI job was started by is not taken)
        raise IntegrityError(f"{bad}")
    if event is None:
        raise reader.not_found(f"tag {tag} does not exist here")
    findings = audit_event(reader, event, events, snap.claims)
    if findings:
        raise IntegrityError(f"{tag} does not verify: {findings[0].message}")
    manifest = reader.version(view, event.version).manifest
    # Nothing of a retired model is current: a deploy job acting on its stage or alias tags must not deploy.
    retired_answer = state.retired is not None and event.kind in ("stage", "alias")
    current = _still_in_effect(event, view.events, state) and not retired_answer
    return ref_check(reader, tag, event, manifest.artifact.digest, current, state.retired)


def _still_in_effect(event: Event, events: list[Event], state: ModelState) -> bool:
    """Whether nothing after `event` undid it: what a deploy job needs before acting on a tag."""
    if event.action == "register" or event.seq is None:
        return event.version in state.versions
    if event.kind == "stage":
        return state.stages.get(event.version) == event.target and state.stage_since.get(event.version) == event.seq
    if event.action in ("retire", "unretire"):
        return state.retired == event.tag if event.action == "retire" else state.retired is None
    later = any(e.seq is not None and e.seq > event.seq and e.target == event.target for e in events)
    if event.kind == "version":  # update: until the next update of that version
        return not any(
            e.seq is not None and e.seq > event.seq and e.target == event.target and e.version == event.version
            for e in events
        )
    if event.kind == "model":  # describe: until the next one
        return not later
    if event.action == "unassign":
        return not later and event.target not in state.aliases
    return not later and state.aliases.get(event.target or "") == event.version
