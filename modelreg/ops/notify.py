"""`modelreg notify`: post each new event, once, in order, to a webhook or a chat channel.

Which events: those the policy of record admits (the reader's views, as `history` shows them), so
a hand-made tag without its claim ref, an unreviewed production event or an unsigned one where
signatures are required is never announced. Registrations, `describe` and `update` are not
announced either (see modelreg.core.notices for the kinds).

What is new: a state file remembers, per destination and model, the last seq handled; `since`
(a modelreg tag, a date, a revision) starts at a point instead, as `history --since` does; both
together: the state decides for the models it lists, `since` for the others. Each model's events
go out in seq order; an event is marked delivered only after a 2xx, the state file is rewritten
(atomically) after each one, and the first failure stops that destination, so a later event is
never delivered before an earlier one. A run after a failure starts again at the failed event.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TypedDict, Unpack

from modelreg.core import noticekinds, notices
from modelreg.core.asof import between
from modelreg.core.noticekinds import Format
from modelreg.errors import InvalidInputError, ModelregError, NotFoundError
from modelreg.formats.notifyconfig import NotifyTarget
from modelreg.models import Event
from modelreg.ops import delivery
from modelreg.ops.delivery import DeliveryError
from modelreg.read.reader import ModelView, Reader, registration
from modelreg.read.when import When
from modelreg.report.pages import model_page

STATE_FORMAT = 1


class NotifyArgs(TypedDict, total=False):
    """`notify`'s keywords (and `Registry.notify`'s)."""

    url: str | None  # post here; None: to the config's notify: destinations
    format: str | None  # json, slack or teams; None: json, or each destination's
    secret_env: str | None  # the environment variable whose value signs each body
    events: str | Iterable[str] | None  # kinds to announce; None: all
    since: When | None  # start here (for the models `state` does not list)
    state: str | os.PathLike[str] | None  # the JSON file that remembers what was delivered
    timeout: float  # seconds to wait for each answer (10)
    retries: int  # after a connection error, a timeout, a 5xx or a 429 (3)
    sleep: Callable[[float], None]  # how to wait between attempts (time.sleep)


class Destination(NamedTuple):
    """Where notices go, resolved: the URL and the secret taken from the environment."""

    key: str  # its entry in the state file: the config entry's name, or `url-<hash>` for --url
    label: str  # how messages name it (never the URL: it may be the secret)
    url: str
    format: Format = "json"
    secret: str | None = None
    kinds: frozenset[str] = frozenset(noticekinds.KINDS)
    report_url: str | None = None


class Sent(NamedTuple):
    destination: str  # the destination's label
    tag: str
    event: str  # the kind it was announced as: promote, rollback, alias, request, retire
    summary: str
    status: int  # the HTTP status that accepted it
    attempts: int


class NotifyResult(NamedTuple):
    """What a `notify` run did: what it sent, and how many new events were not of a wanted kind."""

    sent: tuple[Sent, ...]
    skipped: int
    state: Path | None  # the state file written, if any
    warnings: tuple[str, ...] = ()  # events the policy leaves out (never announced)


class NotifyFailed(ModelregError):
    """A destination refused or could not be reached; `result` holds what was delivered before."""

    def __init__(self, message: str, result: NotifyResult) -> None:
        super().__init__(message)
        self.result = result


def destinations(
    configured: Iterable[NotifyTarget],
    url: str | None = None,
    fmt: str | None = None,
    secret_env: str | None = None,
    events: str | Iterable[str] | None = None,
    environ: Mapping[str, str] = os.environ,
) -> list[Destination]:
    """`url` with the options given, or else every configured destination (options override theirs)."""
    secret = _secret(secret_env, environ) if secret_env is not None else None
    if url is not None:
        delivery.check_url(url)
        key = "url-" + hashlib.sha256(url.encode()).hexdigest()[:16]
        kinds = noticekinds.parse_kinds(events)
        return [Destination(key, delivery.where(url), url, noticekinds.check_format(fmt or "json"), secret, kinds)]
    found = []
    for target in configured:
        if target.url_env is not None:
            value = environ.get(target.url_env, "")
            if not value:
                raise InvalidInputError(f"notify destination {target.name!r}: ${target.url_env} is not set")
        else:
            assert target.url is not None
            value = target.url
        delivery.check_url(value)
        own_secret = _secret(target.secret_env, environ) if target.secret_env is not None else None
        kinds = noticekinds.parse_kinds(events) if events is not None else frozenset(target.events)
        fmt_ = noticekinds.check_format(fmt) if fmt is not None else target.format
        found.append(Destination(target.name, target.name, value, fmt_, secret or own_secret, kinds, target.report_url))
    if not found:
        raise InvalidInputError("nowhere to post: give --url URL, or add a notify: entry to .modelreg/config.yaml")
    return found


def _secret(name: str, environ: Mapping[str, str]) -> str:
    value = environ.get(name, "")
    if not value:
        raise InvalidInputError(f"${name} is not set (or empty): it should hold the signing secret")
    return value


def notify(reg: Reader, **args: Unpack[NotifyArgs]) -> NotifyResult:
    """Post every new admitted event to `url` (or to the config's `notify:` destinations).

    `state`: the JSON file that remembers what was delivered (created on the first run);
    `since`: where to start for models the state does not list (a modelreg tag: that event and
    later ones). One of the two is required. `secret_env` names the environment variable whose
    value signs each body (`X-Modelreg-Signature: sha256=<hex>`). Raises NotifyFailed (exit 1) at
    the first event a destination did not accept; everything before it stays delivered.
    """
    url, fmt, secret_env = args.get("url"), args.get("format"), args.get("secret_env")
    since, state = args.get("since"), args.get("state")
    timeout, retries, sleep = args.get("timeout", 10.0), args.get("retries", 3), args.get("sleep", time.sleep)
    if state is None and since is None:
        raise InvalidInputError(
            "notify needs to know what was already announced: give --state FILE (kept across runs) or --since TAG"
        )
    if timeout <= 0 or retries < 0:
        raise InvalidInputError("the timeout must be positive and retries at least 0")
    targets = destinations(reg.config.notify, url, fmt, secret_env, args.get("events"))
    state_path = Path(state) if state is not None else None
    recorded = load_state(state_path) if state_path is not None else {}
    loaded = {key: dict(models) for key, models in recorded.items()}
    views = reg.views()
    candidates = {v.state.name: list(v.events) for v in views}
    by_name = {v.state.name: v for v in views}
    starts = _starts(reg, views, since) if since is not None else None
    warnings = tuple(w for v in views for w in v.rejected)
    sent: list[Sent] = []
    skipped = 0
    failure: str | None = None
    ledger = _Ledger(state_path, recorded)
    for target in targets:
        delivered = dict(recorded.get(target.key, {}))
        pending = notices.new_events(candidates, delivered, starts)
        outcome = _deliver(reg, target, pending, by_name, delivered, ledger, (timeout, retries, sleep))
        sent += outcome.sent
        skipped += outcome.skipped
        failure = failure or outcome.failure
        recorded[target.key] = delivered
    if state_path is not None and (recorded != loaded or not state_path.exists()):
        save_state(state_path, recorded)
    result = NotifyResult(tuple(sent), skipped, state_path, warnings)
    if failure is not None:
        left = " (run again to retry it and what follows)"
        raise NotifyFailed(failure + left, result)
    return result


class _Ledger:
    """The state file's table, written again after each delivery (a crash then resends nothing delivered)."""

    def __init__(self, path: Path | None, recorded: dict[str, dict[str, int]]) -> None:
        self.path, self.recorded = path, recorded

    def save(self, key: str, delivered: Mapping[str, int]) -> None:
        self.recorded[key] = dict(delivered)
        if self.path is not None:
            save_state(self.path, self.recorded)


class _Outcome(NamedTuple):
    sent: list[Sent]
    skipped: int
    failure: str | None  # the one-line reason delivery stopped early


def _deliver(
    reg: Reader,
    target: Destination,
    pending: list[Event],
    views: Mapping[str, ModelView],
    delivered: dict[str, int],
    ledger: _Ledger,
    patience: tuple[float, int, Callable[[float], None]],
) -> _Outcome:
    """Post `pending` to `target` in order, each marked in `delivered` and saved after its 2xx; stop at a failure."""
    timeout, retries, sleep = patience
    sent: list[Sent] = []
    skipped = 0
    for event in pending:
        kind = notices.primary_kind(event)
        if kind is None or not (notices.kinds_of(event) & target.kinds):
            skipped += 1
            delivered[event.name] = event.seq or 0  # handled: not wanted here
            continue
        body = notices.body(_facts(reg, views[event.name], event, target.report_url), target.format)
        headers = {"X-Modelreg-Event": kind, "X-Modelreg-Delivery": event.tag}
        if target.secret is not None:
            headers[notices.SIGNATURE_HEADER] = notices.signature(body, target.secret)
        try:
            done = delivery.post(target.url, body, headers, timeout=timeout, retries=retries, sleep=sleep)
        except DeliveryError as exc:
            host = delivery.where(target.url)
            label = target.label if target.label == host else f"{target.label} ({host})"
            return _Outcome(sent, skipped, f"{event.tag} was not delivered to {label}: {exc.reason}")
        delivered[event.name] = event.seq or 0
        sent.append(Sent(target.label, event.tag, kind, event.subject, done.status, done.attempts))
        ledger.save(target.key, delivered)
    return _Outcome(sent, skipped, None)


def _starts(reg: Reader, views: list[ModelView], since: When) -> dict[str, int]:
    """Per model, the first seq at or after `since` (models with none there have nothing new)."""
    moment = reg.moment(since, "--since")
    starts = {}
    for view in views:
        seqs = [e.seq for e in between(view.events, moment, None) if e.seq is not None]
        if seqs:
            starts[view.state.name] = min(seqs)
    return starts


def _facts(reg: Reader, view: ModelView, event: Event, report_url: str | None) -> dict[str, Any]:
    try:
        digest = registration(view.events, event.version).digest or reg.version(view, event.version).digest
    except ModelregError:
        digest = None
    report = f"{report_url.rstrip('/')}/{model_page(event.name)}" if report_url else None
    return notices.payload(event, digest, report)


def load_state(path: Path) -> dict[str, dict[str, int]]:
    """{destination key: {model: last seq handled}}; {} when the file does not exist yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise NotFoundError(f"cannot read the notify state {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
        table = data["delivered"] if data.get("modelreg_notify") == STATE_FORMAT else None
        if not isinstance(table, dict):
            raise ValueError
        return {str(key): {str(model): int(seq) for model, seq in models.items()} for key, models in table.items()}
    except (ValueError, TypeError, AttributeError, KeyError):
        raise InvalidInputError(
            f"{path} is not a modelreg notify state file (move it away to start afresh: "
            "every admitted event would be announced again)"
        ) from None


def save_state(path: Path, recorded: Mapping[str, Mapping[str, int]]) -> None:
    """Write the state atomically: a crash leaves the old file or the new one, never half of one."""
    data = {"modelreg_notify": STATE_FORMAT, "delivered": {k: dict(sorted(v.items())) for k, v in recorded.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
