"""What notify announces and in which order, and the bodies it posts: modelreg.core.notices."""

from __future__ import annotations

import json

import pytest

from modelreg.core import noticekinds, notices
from modelreg.errors import InvalidInputError
from modelreg.models import Event


def change(name: str, seq: int, date: str, action: str = "assign", kind: str = "stage", **extra: object) -> Event:
    target = "champion" if kind == "alias" else "production"
    return Event(name, action, 1, f"{name}#{target}#{seq}", seq=seq, kind=kind, target=target, date=date, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("event", "kinds"),
    [
        (change("m", 1, ""), {"promote"}),
        (change("m", 1, "", action="unassign"), {"promote"}),
        (change("m", 1, "", kind="alias"), {"alias"}),
        (change("m", 1, "", action="rollback"), {"rollback"}),
        (change("m", 1, "", action="retire", kind="model"), {"retire"}),
        (change("m", 1, "", action="unretire", kind="model"), {"retire"}),
        (change("m", 1, "", request="r-1", approved_by="Rita"), {"promote", "request"}),
        (change("m", 1, "", action="describe", kind="model"), set()),
        (change("m", 1, "", action="update", kind="version", request="r-1"), set()),
        (Event("m", "register", 1, "m@v1"), set()),
    ],
)
def test_kinds(event: Event, kinds: set[str]) -> None:
    assert notices.kinds_of(event) == kinds


def test_each_model_in_seq_order_even_when_its_clock_ran_backwards_models_interleaved_by_instant() -> None:
    a = [change("a", 2, "2026-02-28T09:00:00+00:00"), change("a", 1, "2026-03-01T09:00:00+00:00")]
    # 10:00+02:00 is 08:00Z: before a's seq 1 (09:00Z), although the text sorts after it
    b = [change("b", 1, "2026-03-01T10:00:00+02:00"), change("b", 2, "2026-03-04T00:00:00+00:00")]
    order = [e.tag for e in notices.new_events({"a": a, "b": b}, {})]
    assert order == ["b#production#1", "a#production#1", "a#production#2", "b#production#2"]
    assert [e.tag for e in notices.new_events({"a": a, "b": b}, {"a": 1})] == [
        "a#production#2",
        "b#production#1",
        "b#production#2",
    ]
    # since: the first seq of the models the state does not list; a model in neither has nothing new
    assert [e.tag for e in notices.new_events({"a": a, "b": b}, {"a": 2}, {"b": 2})] == ["b#production#2"]
    assert notices.new_events({"a": a, "b": b}, {}, {}) == []


def test_registrations_are_never_new_events() -> None:
    assert notices.new_events({"m": [Event("m", "register", 1, "m@v1")]}, {}) == []


def test_parse_kinds() -> None:
    assert noticekinds.parse_kinds(None) == set(noticekinds.KINDS)
    assert noticekinds.parse_kinds(" promote, rollback ") == {"promote", "rollback"}
    assert noticekinds.parse_kinds(["alias"]) == {"alias"}
    with pytest.raises(InvalidInputError, match="unknown event kind 'deploy': choose from promote, rollback"):
        noticekinds.parse_kinds("promote,deploy")
    with pytest.raises(InvalidInputError, match="unknown format 'xml'"):
        noticekinds.check_format("xml")


def test_the_json_body_is_the_facts_and_the_signature_is_hmac_sha256_of_its_bytes() -> None:
    event = change("m", 3, "2026-03-01T09:00:00+00:00", reason="better", actor="Jane", subject="m v1 → production")
    facts = notices.payload(event, "sha256:ab", "https://r.example/models/m.html")
    body = notices.body(facts, "json")
    assert json.loads(body) == facts and facts["event"] == "promote" and facts["seq"] == 3
    # RFC 4231-style known answer: HMAC-SHA256(key="key", "The quick brown fox jumps over the lazy dog")
    fox = b"The quick brown fox jumps over the lazy dog"
    known = "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    assert notices.signature(fox, "key") == known
    assert notices.signature_valid(fox, "key", known) and not notices.signature_valid(fox + b" ", "key", known)


def test_chat_bodies_carry_the_headline_and_details() -> None:
    event = change("m", 3, "2026-03-01", reason="a <b>", actor="Jane", subject="m v1 → production")
    facts = notices.payload(event._replace(approved_by="Rita", request="r-7"), None, None)
    slack = json.loads(notices.body(facts, "slack"))
    text = slack["blocks"][0]["text"]["text"]
    assert slack["text"] == "m v1 → production" and "approved by Rita (request r-7)" in text and "a &lt;b&gt;" in text
    teams = json.loads(notices.body(facts, "teams"))
    lines = [b["text"] for b in teams["attachments"][0]["content"]["body"]]
    assert lines[0] == "m v1 → production" and "why: a <b>" in lines and "actions" not in teams


def test_config_notify_entries_round_trip_and_refuse_what_they_must() -> None:
    from modelreg.errors import ConfigError
    from modelreg.formats import config

    text = (
        "modelreg: 1\nnotify:\n  - name: chat\n    url_env: SLACK_WEBHOOK_URL\n    format: slack\n"
        "    events: [rollback, promote]\n  - name: deployer\n    url: https://deploy.example.com/hook\n"
        "    secret_env: HOOK_SECRET\n"
    )
    parsed = config.from_yaml(text)
    chat, deployer = parsed.notify
    assert (chat.url_env, chat.format, chat.events) == ("SLACK_WEBHOOK_URL", "slack", ("promote", "rollback"))
    assert (deployer.url, deployer.secret_env, deployer.events) == (
        "https://deploy.example.com/hook",
        "HOOK_SECRET",
        noticekinds.KINDS,
    )
    assert config.from_yaml(config.to_yaml(parsed)) == parsed
    for entry, why in (
        ("url_env: X", "needs a name"),
        ("name: a\n    url_env: X\n    url: https://e.example/h", "exactly one of url_env"),
        ("name: a\n    url_env: 'no such'", "must name an environment variable"),
        ("name: a\n    url_env: X\n    colour: red", "unknown key 'colour'"),
        ("name: a\n    url_env: X\n    events: [deploy]", "events must list some of"),
        ("name: a\n    url_env: X\n    format: xml", "unknown format"),
        ("name: a\n    url: https://x.webhook.office.com/abc", "is itself the secret"),
    ):
        with pytest.raises(ConfigError, match=why):
            config.from_yaml(f"modelreg: 1\nnotify:\n  - {entry}\n")
    with pytest.raises(ConfigError, match="names a destination twice"):
        config.from_yaml("modelreg: 1\nnotify:\n  - {name: a, url_env: X}\n  - {name: a, url_env: Y}\n")
