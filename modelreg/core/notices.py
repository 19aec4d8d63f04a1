"""What `modelreg notify` says about an event, and which events are new: pure, no I/O.

An event belongs to one or more of the kinds a user subscribes to (`--events`): `promote` (a
stage assigned or removed), `alias`, `rollback`, `retire` (retire and unretire) and `request` (any
change that applied a merged, reviewed request). Registrations, `describe` and `update` are never
announced. The JSON body is one flat object whose keys are stable; the chat bodies are built from
the same facts. A body is signed with HMAC-SHA256 over its exact bytes.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from modelreg.core.asof import recorded
from modelreg.core.noticekinds import Format
from modelreg.models import Event

SIGNATURE_HEADER = "X-Modelreg-Signature"
_NEVER = datetime.min.replace(tzinfo=UTC)  # an event without a date sorts first
_PRIMARY = ("rollback", "retire", "alias", "promote", "request")  # the `event` an event is announced as


def kinds_of(event: Event) -> frozenset[str]:
    """The kinds `event` is announced under (empty: never announced)."""
    found = set()
    if event.action == "rollback":
        found.add("rollback")
    elif event.action in ("retire", "unretire"):
        found.add("retire")
    elif event.action in ("assign", "unassign"):
        found.add("alias" if event.kind == "alias" else "promote")
    if found and event.request is not None:
        found.add("request")
    return frozenset(found)


def primary_kind(event: Event) -> str | None:
    kinds = kinds_of(event)
    return next((kind for kind in _PRIMARY if kind in kinds), None)


def new_events(
    candidates: Mapping[str, list[Event]], delivered: Mapping[str, int], since: Mapping[str, int] | None = None
) -> list[Event]:
    """The events not yet delivered, each model's in seq order, models interleaved by tag date.

    `candidates`: each model's admitted events (any order). `delivered`: the last seq delivered per
    model. `since`: for a model `delivered` does not list, the first seq to consider (a model absent
    from both is new from its first event; with `since` given, a model absent from it has nothing new).
    Order within a model comes from seq alone; dates (as instants: offsets differ) only interleave models.
    """
    lists = []
    for name in sorted(candidates):
        if name in delivered:
            start = delivered[name] + 1
        elif since is not None:
            if name not in since:
                continue
            start = since[name]
        else:
            start = 1
        events = sorted((e for e in candidates[name] if e.seq is not None and e.seq >= start), key=_seq)
        if events:
            lists.append(events)
    return list(heapq.merge(*lists, key=lambda e: (recorded(e) or _NEVER, e.name)))


def _seq(event: Event) -> int:
    return event.seq or 0


def payload(event: Event, digest: str | None = None, report: str | None = None) -> dict[str, Any]:
    """The facts of one event, as the JSON body carries them (keys stable across releases)."""
    return {
        "modelreg": 1,
        "event": primary_kind(event),
        "action": event.action,
        "model": event.name,
        "version": event.version,
        "kind": event.kind,
        "target": event.target,
        "seq": event.seq,
        "tag": event.tag,
        "who": event.actor,
        "when": event.date,
        "why": event.reason,
        "approver": event.approved_by,
        "request": event.request,
        "archived": list(event.archived),
        "digest": digest,
        "summary": event.subject,
        "report": report,
    }


def body(facts: Mapping[str, Any], fmt: Format) -> bytes:
    """The exact bytes to post: the JSON facts, or a Slack or Teams message made from them."""
    if fmt == "json":
        data: Any = dict(facts)
    else:
        chat = _slack if fmt == "slack" else _teams
        data = chat(headline(facts), details(facts), facts.get("report"))
    return json.dumps(data, ensure_ascii=False, sort_keys=False).encode("utf-8")


def headline(facts: Mapping[str, Any]) -> str:
    """`fraud-detector v7 → production` for an event; `fraud-detector v7 is serving … on host` for a deploy."""
    if facts.get("event") == "deploy":
        return f"{facts['model']} v{facts['version']} is now serving {facts['ref']} on {facts['host']}"
    return str(facts.get("summary") or f"{facts['model']} v{facts['version']}: {facts.get('action')}")


def details(facts: Mapping[str, Any]) -> list[str]:
    """The lines under the headline: who and when, who approved it, why, which bytes."""
    lines = []
    if facts.get("who"):
        lines.append(f"by {facts['who']}" + (f" at {facts['when']}" if facts.get("when") else ""))
    if facts.get("approver"):
        request = f" (request {facts['request']})" if facts.get("request") else ""
        lines.append(f"approved by {facts['approver']}{request}")
    if facts.get("why"):
        lines.append(f"why: {facts['why']}")
    if facts.get("tag"):
        lines.append(f"tag: {facts['tag']}")
    if facts.get("digest"):
        lines.append(f"digest: {facts['digest']}")
    return lines


def _slack(title: str, lines: list[str], report: Any) -> dict[str, Any]:
    text = "\n".join([f"*{_slack_escape(title)}*", *(_slack_escape(line) for line in lines)])
    if report:
        text += f"\n<{report}|report>"
    return {"text": title, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _teams(title: str, lines: list[str], report: Any) -> dict[str, Any]:
    """A Teams message with one Adaptive Card (what Teams' Workflows webhooks accept)."""
    items: list[dict[str, Any]] = [{"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": True}]
    items += [{"type": "TextBlock", "text": line, "wrap": True, "spacing": "None"} for line in lines]
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": items,
    }
    if report:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Report", "url": report}]
    return {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
    }


def signature(body_bytes: bytes, secret: str) -> str:
    """The `X-Modelreg-Signature` value: `sha256=<hex HMAC-SHA256 of the body with the secret>`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body_bytes, hashlib.sha256).hexdigest()


def signature_valid(body_bytes: bytes, secret: str, header: str) -> bool:
    """What a receiver checks (in constant time): the header is the body's signature with `secret`."""
    return hmac.compare_digest(signature(body_bytes, secret), header)
