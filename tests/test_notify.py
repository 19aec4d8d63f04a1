"""`modelreg notify` against a real HTTP server on 127.0.0.1: what is sent, signed, retried, and never sent twice."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import modelreg
from modelreg.api import Registry
from modelreg.errors import ConfigError, InvalidInputError
from modelreg.ops.delivery import DeliveryError
from modelreg.ops.notify import NotifyFailed
from modelreg.serving.announce import announcer
from tests.conftest import git, make_repo, run_modelreg
from tests.test_policy import tag_without_claim
from tests.test_review import hand_made_event, require_review

SECRET = "s3cret-for-tests"


class Received(NamedTuple):
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Hook:
    """A webhook receiver: records every POST and answers from `replies` (then 200)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.replies: list[tuple[int, dict[str, str]]] = []
        self.stall = threading.Event()  # set: the handler never answers until `release` is set
        self.release = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                hook.received.append(Received(self.path, dict(self.headers.items()), body))
                if hook.stall.is_set():
                    hook.release.wait(30)
                    return
                status, headers = hook.replies.pop(0) if hook.replies else (200, {})
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/modelreg"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def tags(self) -> list[str]:
        return [r.json()["tag"] for r in self.received]


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    server.thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.server.shutdown()
        server.server.server_close()


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MODELREG_WEBHOOK_SECRET", SECRET)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    return "MODELREG_WEBHOOK_SECRET"


def signed(received: Received) -> bool:
    """The receiver's check, written here from the spec, not with modelreg's own code."""
    expected = "sha256=" + hmac.new(SECRET.encode(), received.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received.headers.get("X-Modelreg-Signature", ""))


def no_sleep(waits: list[float]) -> Callable[[float], None]:
    return waits.append


@pytest.fixture
def reg(repo: Path, artifact: Callable[..., Path]) -> Registry:
    registry = Registry.open(repo)
    registry.register("fraud", artifact(content=b"weights one"))
    registry.register("fraud", artifact(content=b"weights two"))
    return registry


def test_a_promotion_is_posted_once_with_its_facts_and_a_valid_signature(reg, hook, secret, tmp_path):
    reg.promote("fraud", 1, "production")  # seq 1
    reg.promote("fraud", 2, "production", reason="AUC +1.2%")  # seq 2
    state = tmp_path / "state.json"
    result = reg.notify(url=hook.url, secret_env=secret, state=state)
    assert [s.tag for s in result.sent] == hook.tags() == ["fraud#production#1", "fraud#production#2"]
    facts = hook.received[1].json()
    digest = reg.resolve("fraud@2").manifest.artifact.digest
    assert facts["model"] == "fraud" and facts["version"] == 2 and facts["target"] == "production"
    assert facts["archived"] == [1] and facts["summary"].startswith("fraud v2 → production")
    assert facts["event"] == "promote" and facts["why"] == "AUC +1.2%" and facts["digest"] == digest
    assert facts["who"] == "Jane Doe <jane@example.com>" and facts["when"].startswith("2026-01-02")
    assert all(signed(r) for r in hook.received)
    assert hook.received[1].headers["X-Modelreg-Delivery"] == "fraud#production#2"
    assert hook.received[1].path == "/hooks/modelreg"
    tampered = hook.received[1]._replace(body=hook.received[1].body.replace(b"AUC", b"auc"))
    assert not signed(tampered)

    again = reg.notify(url=hook.url, secret_env=secret, state=state)  # nothing new: nothing sent
    assert again.sent == () and len(hook.received) == 2
    reg.rollback("fraud", stage="production")  # seq 3
    third = reg.notify(url=hook.url, secret_env=secret, state=state)
    assert [s.event for s in third.sent] == ["rollback"] and hook.tags()[2:] == ["fraud#production#3"]
    assert hook.received[2].json()["version"] == 1


def test_without_a_secret_nothing_is_signed(reg, hook, tmp_path):
    reg.promote("fraud", 1, "staging")
    reg.notify(url=hook.url, state=tmp_path / "state.json")
    assert len(hook.received) == 1 and "X-Modelreg-Signature" not in hook.received[0].headers


def test_500s_are_retried_with_backoff_and_the_same_body(reg, hook, tmp_path):
    reg.promote("fraud", 1, "staging")
    hook.replies = [(500, {}), (503, {})]
    waits: list[float] = []
    result = reg.notify(url=hook.url, state=tmp_path / "s.json", retries=3, sleep=no_sleep(waits))
    assert [(s.tag, s.attempts, s.status) for s in result.sent] == [("fraud#staging#1", 3, 200)]
    assert len(hook.received) == 3 and len({r.body for r in hook.received}) == 1
    assert waits == [0.5, 1.0]


def test_a_429_is_retried_after_its_retry_after_and_a_400_is_not(reg, hook, tmp_path):
    reg.promote("fraud", 1, "staging")
    hook.replies = [(429, {"Retry-After": "2"})]
    waits: list[float] = []
    reg.notify(url=hook.url, state=tmp_path / "a.json", sleep=no_sleep(waits))
    assert waits == [2.0] and len(hook.received) == 2

    hook.replies = [(400, {})]
    not_retried = r"^fraud#staging#1 was not delivered to http://127.0.0.1:\d+: HTTP 400 Bad Request \(not retried\) \("
    with pytest.raises(NotifyFailed, match=not_retried):
        reg.notify(url=hook.url, state=tmp_path / "b.json", sleep=no_sleep(waits))
    assert len(hook.received) == 3 and waits == [2.0]


def test_a_redirect_is_refused_not_followed(reg, hook, tmp_path):
    reg.promote("fraud", 1, "staging")
    hook.replies = [(302, {"Location": "/elsewhere"})]
    with pytest.raises(NotifyFailed, match="HTTP 302"):
        reg.notify(url=hook.url, state=tmp_path / "s.json", sleep=no_sleep([]))
    assert [r.path for r in hook.received] == ["/hooks/modelreg"]


def test_a_failure_stops_in_order_and_the_next_run_starts_there(reg, hook, tmp_path, cli, secret):
    for version, stage in ((1, "staging"), (2, "staging"), (2, "production")):
        reg.promote("fraud", version, stage)
    state = tmp_path / "state.json"
    hook.replies = [(200, {}), (500, {})]
    failed = cli("notify", "--url", hook.url, "--state", state, "--retries", "0")
    host = hook.url.removesuffix("/hooks/modelreg")
    assert failed.code == 1 and failed.out == f"Sent fraud#staging#1 to {host}: fraud v1 → staging\n"
    assert (
        failed.err.count("\n") == 1 and "fraud#staging#2 was not delivered" in failed.err and "HTTP 500" in failed.err
    )
    assert hook.tags() == ["fraud#staging#1", "fraud#staging#2"]  # seq 3 never went out before seq 2
    assert list(json.loads(state.read_text())["delivered"].values()) == [{"fraud": 1}]

    done = cli("notify", "--url", hook.url, "--state", state, "--json")
    assert done.code == 0 and [s["tag"] for s in json.loads(done.out)["sent"]] == [
        "fraud#staging#2",
        "fraud#production#3",
    ]
    assert hook.tags() == ["fraud#staging#1", "fraud#staging#2", "fraud#staging#2", "fraud#production#3"]
    assert cli("notify", "--url", hook.url, "--state", state).out == "Nothing new to announce\n"
    assert len(hook.received) == 4


def test_a_slow_server_times_out_and_nothing_is_marked_delivered(reg, hook, tmp_path):
    reg.promote("fraud", 1, "staging")
    hook.stall.set()
    state = tmp_path / "state.json"
    with pytest.raises(NotifyFailed, match="timed out after 2 attempts"):
        reg.notify(url=hook.url, state=state, timeout=0.2, retries=1, sleep=no_sleep([]))
    assert len(hook.received) == 2
    assert all(models == {} for models in json.loads(state.read_text())["delivered"].values())


def test_a_hand_made_tag_is_never_announced(reg, hook, tmp_path, repo):
    reg.promote("fraud", 1, "production")
    tag_without_claim(repo, "fraud#production#2", 2)  # well-formed, but nobody claimed seq 2
    result = reg.notify(url=hook.url, state=tmp_path / "s.json")
    assert hook.tags() == ["fraud#production#1"]
    assert any("fraud#production#2" in w for w in result.warnings)


def test_an_unreviewed_production_event_is_not_announced_a_reviewed_one_names_its_approver(
    repo, hook, tmp_path, artifact
):
    require_review(repo, "production")
    reg = Registry.open(repo)
    reg.register("fraud", artifact(content=b"one"))
    created = reg.request("fraud", 1, "production")
    git(repo, "merge", "-q", "--no-ff", created.branch, "-m", "Merge request")
    Registry.open(repo).apply()
    hand_made_event(repo, "fraud#production#2", 1)  # claimed, but no merged request behind it
    result = Registry.open(repo).notify(url=hook.url, state=tmp_path / "s.json")
    assert hook.tags() == ["fraud#production#1"] and [s.event for s in result.sent] == ["promote"]
    assert any(w.startswith("ignoring fraud#production#2") for w in result.warnings)
    reviewed = Registry.open(repo).notify(url=hook.url, events="request", state=tmp_path / "reviewed.json")
    assert [s.tag for s in reviewed.sent] == ["fraud#production#1"]
    facts = hook.received[0].json()
    assert facts["approver"] == "Jane Doe <jane@example.com>" and facts["request"] == created.request.id


def test_events_filter_and_since(reg, hook, tmp_path):
    reg.promote("fraud", 1, "staging")  # seq 1
    reg.set_alias("fraud", "champion", 1)  # seq 2
    reg.promote("fraud", 2, "staging")  # seq 3
    reg.set_alias("fraud", "champion", 2)  # seq 4
    state = tmp_path / "s.json"
    assert [s.tag for s in reg.notify(url=hook.url, events="alias", state=state).sent] == [
        "fraud#champion#2",
        "fraud#champion#4",
    ]
    assert reg.notify(url=hook.url, events="alias,promote", state=state).sent == ()  # passed over, not owed
    assert reg.notify(url=hook.url, since="fraud#staging#3").sent[0].tag == "fraud#staging#3"
    with pytest.raises(InvalidInputError, match="unknown event kind 'deploy'"):
        reg.notify(url=hook.url, events="deploy", state=state)
    with pytest.raises(InvalidInputError, match="--state FILE"):
        reg.notify(url=hook.url)


def test_chat_formats(reg, hook, tmp_path):
    reg.promote("fraud", 2, "production", reason="better <recall>")
    reg.notify(url=hook.url, format="slack", since="fraud#production#1")
    reg.notify(url=hook.url, format="teams", since="fraud#production#1")
    slack, teams = (r.json() for r in hook.received)
    assert slack["text"] == "fraud v2 → production"
    assert "why: better &lt;recall&gt;" in slack["blocks"][0]["text"]["text"]
    card = teams["attachments"][0]["content"]
    assert teams["type"] == "message" and card["type"] == "AdaptiveCard"
    assert card["body"][0]["text"] == "fraud v2 → production"


def test_config_entries_take_the_url_from_the_environment(repo, reg, hook, tmp_path, monkeypatch, cli, secret):
    config = repo / ".modelreg" / "config.yaml"
    config.write_text(
        config.read_text()
        + "notify:\n  - name: deployer\n    url_env: DEPLOY_HOOK\n    secret_env: MODELREG_WEBHOOK_SECRET\n"
        + "    events: [promote]\n    report_url: https://ml.example.com/registry/\n"
    )
    git(repo, "commit", "-q", "-am", "notify the deployer")
    reg.promote("fraud", 1, "staging")
    reg.set_alias("fraud", "champion", 1)
    unset = cli("notify", "--state", tmp_path / "s.json")
    assert unset.code == 1 and unset.err == "error: notify destination 'deployer': $DEPLOY_HOOK is not set\n"
    monkeypatch.setenv("DEPLOY_HOOK", hook.url)
    sent = cli("notify", "--state", tmp_path / "s.json")
    assert sent.code == 0 and sent.out == "Sent fraud#staging#1 to deployer: fraud v1 → staging\n"
    assert hook.tags() == ["fraud#staging#1"] and signed(hook.received[0])
    assert hook.received[0].json()["report"] == "https://ml.example.com/registry/models/fraud.html"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://bot:hunter2@hooks.example.com/x", "credentials"),
        ("https://hooks.slack.com/services/T0/B0/XYZ", "is itself the secret"),
        ("https://example.com/hook?token=abc", "query string"),
    ],
)
def test_a_literal_url_with_a_secret_is_refused_in_the_config(repo, cli, url, why):
    config = repo / ".modelreg" / "config.yaml"
    config.write_text(config.read_text() + f"notify:\n  - name: chat\n    url: {url}\n")
    with pytest.raises(ConfigError, match=why):
        Registry.open(repo)
    assert cli("list").code == 1


def test_sync_announces_each_swap(tmp_path, artifact, hook, secret, monkeypatch):
    repo = make_repo(tmp_path / "repo")
    Registry.init(repo)
    reg = Registry.open(repo)
    reg.register("m", artifact(content=b"one"))
    reg.promote("m", 1, "staging")
    dest = tmp_path / "serving"
    on_change = announcer(hook.url, "json", secret, host="web-1")
    result = modelreg.sync("m/staging", dest, path=repo, once=True, on_change=on_change)
    assert result.exit_code == 0 and len(hook.received) == 1 and signed(hook.received[0])
    facts = hook.received[0].json()
    assert (facts["event"], facts["model"], facts["version"], facts["host"]) == ("deploy", "m", 1, "web-1")
    assert facts["tag"] == "m#staging#1" and facts["digest"] == reg.resolve("m@1").manifest.artifact.digest

    reg.register("m", artifact(content=b"two"))
    reg.promote("m", 2, "staging")
    monkeypatch.chdir(repo)
    run = run_modelreg(repo, "sync", "m/staging", "--dest", str(dest), "--once", "--notify", hook.url)
    assert run.returncode == 0 and [r.json()["version"] for r in hook.received] == [1, 2]
    with pytest.raises(InvalidInputError, match="http"):
        announcer("file:///etc/passwd")


def test_the_delivery_error_names_the_host_never_the_path(hook):
    from modelreg.ops.delivery import post

    hook.replies = [(404, {})]
    with pytest.raises(DeliveryError) as caught:
        post(hook.url + "/T0-secret", b"{}", {})
    assert "T0-secret" not in str(caught.value) and "HTTP 404" in str(caught.value)


def test_done_when_a_pushed_promotion_is_announced_once_from_another_clone(clone, hook, secret, tmp_path):
    writer, watcher = clone("writer"), clone("watcher")
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"production weights")
    Registry.open(writer).register("fraud", weights, push=True)
    Registry.open(writer).promote("fraud", 1, "production", reason="first release", push=True)
    args = ("notify", "--fetch", "--state", str(tmp_path / "notified.json"), "--url", hook.url)
    args += ("--secret-env", secret)
    first = run_modelreg(watcher, *args)
    second = run_modelreg(watcher, *args)
    assert first.stdout.startswith("Sent fraud#production#1 to http://127.0.0.1:")
    assert second.stdout == "Nothing new to announce\n"
    assert hook.tags() == ["fraud#production#1"] and signed(hook.received[0])
    assert hook.received[0].json()["why"] == "first release"

    tag_without_claim(writer, "fraud#production#2", 1)  # by hand: no claim ref
    git(writer, "push", "-q", "origin", "refs/tags/fraud#production#2")
    third = run_modelreg(watcher, *args)
    assert third.stdout == "Nothing new to announce\n" and "ignoring fraud#production#2" in third.stderr
    assert hook.tags() == ["fraud#production#1"]


def test_the_cli_refuses_a_bad_url_and_a_missing_secret_in_one_line(reg, cli, tmp_path):
    bad = cli("notify", "--url", "ftp://example.com/x", "--state", tmp_path / "s.json")
    assert bad.code == 1 and bad.err == "error: the notify URL must be an http:// or https:// URL with a host\n"
    missing = cli("notify", "--url", "http://127.0.0.1:9/x", "--secret-env", "NOPE", "--state", tmp_path / "s.json")
    assert (
        missing.code == 1 and missing.err == "error: $NOPE is not set (or empty): it should hold the signing secret\n"
    )


def test_a_damaged_state_file_is_refused_not_reset(reg, hook, tmp_path):
    state = tmp_path / "s.json"
    state.write_text("{not json")
    with pytest.raises(InvalidInputError, match="not a modelreg notify state file"):
        reg.notify(url=hook.url, state=state)
    assert hook.received == []
