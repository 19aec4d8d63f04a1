"""The policy-on registry of make_registry.py (`--policy`): reviewed and signed, as modelreg leaves it.

What `modelreg promote NAME N production --request`, a reviewed merge and `modelreg apply` leave
behind, written here without running them (make_registry puts it in its fast-import streams):

  - the config of record has `review_required: [production]`, `require_signed: true` and
    `allowed_signers: .modelreg/allowed_signers` (one ed25519 key, principal bench@example.com),
    committed with the registry's first commit: the policy is on from the start;
  - for each model's production event: right after its version's registration, a request file
    `.modelreg/requests/<id>.yaml` (requestfile.to_yaml, holder none) committed off main on a branch,
    with the pull request's title and body as its message (as `promote --request` commits it), then
    merged into main with a merge commit (parents: main, the branch) by REVIEWER; the branch is
    deleted afterwards, as a merged pull request's branch usually is;
  - the event tag on the version's commit, its payload as `apply` writes it (publisher.make_event):
    the request id, `millis`, `approved_by` (the merge commit's author), `merge_commit` and
    `requested_by`; its subject names the request;
  - every tag, version and event, signed as `git tag -s` with an SSH key signs it (sign_registry.armour).
"""

from __future__ import annotations

import hashlib
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sign_registry import PRINCIPAL, armour, public_line

from modelreg.formats import requestfile
from modelreg.models import Manifest, Request

STAGE = "production"
SIGNERS_PATH = ".modelreg/allowed_signers"
CONFIG = f"review_required: [{STAGE}]\nrequire_signed: true\nallowed_signers: {SIGNERS_PATH}\n"
REQUESTER = "Bench <bench@example.com>"
REVIEWER = "Reviewer <reviewer@example.com>"
WHEN = "2023-11-14T22:13:20Z"  # the bench TAGGER's time, as modelreg writes times


def signers(key: Ed25519PrivateKey) -> str:
    """The allowed-signers file naming `key`."""
    return f'{PRINCIPAL} namespaces="git" {public_line(key)}\n'


def request(name: str, version: int) -> Request:
    """The request `promote NAME VERSION production --request` writes (nobody held production before)."""
    entropy = hashlib.sha256(f"{name}@{version}".encode()).hexdigest()
    return Request(
        id=requestfile.new_request_id(name, STAGE, version, entropy),
        name=name,
        version=version,
        kind="stage",
        target=STAGE,
        holder=None,
        requested_by=REQUESTER,
        requested_at=WHEN,
    )


def branch_message(req: Request, candidate: Manifest) -> str:
    """The request commit's message: the pull request's title and body."""
    return f"{requestfile.pr_title(req)}\n\n{requestfile.pr_body(req, candidate, None)}"


def merge_message(req: Request, number: int) -> str:
    branch = requestfile.default_branch(req.id)
    return f"Merge pull request #{number} from bench/{branch}\n\n{requestfile.pr_title(req)}"


def event_message(req: Request, merge_commit: str, epoch: int) -> str:
    """The production event's message as `apply` writes it (core.events.event_message of make_event's payload)."""
    payload = {
        "modelreg": 1,
        "action": "assign",
        "kind": "stage",
        "target": STAGE,
        "version": req.version,
        "archived": [],
        "reason": req.reason,
        "request": req.id,
        "millis": epoch * 1000,
        "approved_by": REVIEWER,
        "merge_commit": merge_commit,
        "requested_by": req.requested_by,
    }
    return f"{req.name} v{req.version} → {STAGE} (request {req.id})\n\n{json.dumps(payload)}\n"


def signed_tag(name: str, mark: int, commit: str, tagger: str, message: str, key: Ed25519PrivateKey) -> str:
    """A fast-import `tag` command whose object is what `git tag -s` with `key` writes (the armour appended).

    fast-import writes the header `object, type, tag, tagger`, a blank line and the data: the
    signed payload is exactly that header and the message, ending in a newline.
    """
    message = message if message.endswith("\n") else message + "\n"
    head = f"object {commit}\ntype commit\ntag {name}\ntagger {tagger}"
    text = message + armour(key, f"{head}\n\n{message}".encode()).decode()
    return f"tag {name}\nmark :{mark}\nfrom {commit}\ntagger {tagger}\ndata {len(text.encode())}\n{text}\n"
