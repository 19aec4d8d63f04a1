"""Event tags → Events, and their replay into state (DESIGN §3): modelreg.core.events."""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import pytest

from modelreg.core.events import (
    event_from_tag,
    event_message,
    history_order,
    replay,
    rollback_version,
    to_archive,
)
from modelreg.errors import InvalidInputError, MalformedEvent, NotFoundError
from modelreg.models import Event, ModelState, TagRecord

SAME_DATE = "2026-01-02T03:04:05+00:00"
COMMIT = "c" * 40
TAGGER = "Jane Doe <jane@example.com>"


def record(
    tag: str, payload: Any, *, annotated: bool = True, date: str = SAME_DATE, body: str | None = None
) -> TagRecord:
    """A TagRecord as `git for-each-ref` would report it for a tag whose message is event_message()."""
    text = body if body is not None else json.dumps(payload)
    return TagRecord(
        tag=tag,
        object="0" * 40 if annotated else COMMIT,
        commit=COMMIT,
        annotated=annotated,
        tagger=TAGGER if annotated else "",
        date=date,
        subject=f"subject of {tag}",
        body=text,
    )


def decode(tag: str, payload: Any, **kwargs: Any) -> Event:
    event = event_from_tag(record(tag, payload, **kwargs))
    assert event is not None
    return event


def reg(version: int, name: str = "m", date: str = SAME_DATE) -> Event:
    return decode(f"{name}@v{version}", {"modelreg": 1, "action": "register", "version": version}, date=date)


def change(
    seq: int,
    target: str,
    version: int,
    *,
    action: str = "assign",
    kind: str = "stage",
    archived: tuple[int, ...] = (),
    date: str = SAME_DATE,
    name: str = "m",
) -> Event:
    payload = {
        "modelreg": 1,
        "action": action,
        "kind": kind,
        "target": target,
        "version": version,
        "archived": list(archived),
        "reason": None,
        "request": None,
    }
    return decode(f"{name}#{target}#{seq}", payload, date=date)


# --- event_message ------------------------------------------------------------------------------


def test_event_message_is_subject_blank_line_json() -> None:
    message = event_message("Promote m v7 to production", {"action": "assign", "version": 7})
    subject, blank, body = message.split("\n", 2)
    assert subject == "Promote m v7 to production"
    assert blank == ""
    assert json.loads(body) == {"modelreg": 1, "action": "assign", "version": 7}
    assert body.endswith("}\n")


def test_event_message_body_decodes_back() -> None:
    payload = {"action": "assign", "kind": "alias", "target": "champion", "version": 3, "reason": "AUC +1%"}
    body = event_message("subject", payload).split("\n\n", 1)[1]
    event = event_from_tag(record("m#champion#5", None, body=body))
    assert event is not None
    assert (event.action, event.kind, event.target, event.version, event.seq) == ("assign", "alias", "champion", 3, 5)
    assert event.reason == "AUC +1%"


# --- event_from_tag: well-formed ----------------------------------------------------------------


def test_register_tag() -> None:
    payload = {"modelreg": 1, "action": "register", "version": 7, "reason": "first", "request": None}
    event = decode("fraud-detector@v7", payload, date="2026-11-23T10:00:00+00:00")
    assert event == Event(
        name="fraud-detector",
        action="register",
        version=7,
        tag="fraud-detector@v7",
        seq=None,
        kind=None,
        target=None,
        archived=(),
        reason="first",
        request=None,
        actor=TAGGER,
        date="2026-11-23T10:00:00+00:00",
        commit=COMMIT,
        subject="subject of fraud-detector@v7",
        object="0" * 40,
    )


def test_assign_tag_with_archived_and_request() -> None:
    payload = {
        "modelreg": 1,
        "action": "assign",
        "kind": "stage",
        "target": "production",
        "version": 7,
        "archived": [6, 5],
        "reason": "AUC +1.2%",
        "request": 42,
    }
    event = decode("fraud#production#12", payload)
    assert event.action == "assign"
    assert event.kind == "stage"
    assert event.target == "production"
    assert event.version == 7
    assert event.seq == 12
    assert event.archived == (6, 5)
    assert event.reason == "AUC +1.2%"
    assert event.request == "42"  # request ids are carried as strings
    assert event.name == "fraud"


@pytest.mark.parametrize(("action", "kind"), [("unassign", "alias"), ("unassign", "stage"), ("rollback", "stage")])
def test_unassign_and_rollback_tags(action: str, kind: str) -> None:
    target = "champion" if kind == "alias" else "production"
    payload = {"modelreg": 1, "action": action, "kind": kind, "target": target, "version": 3}
    event = decode(f"m#{target}#4", payload)
    assert (event.action, event.kind, event.target, event.version, event.seq) == (action, kind, target, 3, 4)
    assert event.archived == ()  # absent 'archived' means none
    assert event.reason is None
    assert event.request is None


def test_body_with_surrounding_whitespace_is_accepted() -> None:
    body = "\n  " + json.dumps({"modelreg": 1, "action": "register", "version": 2}) + "\n\n"
    event = event_from_tag(record("m@v2", None, body=body))
    assert event is not None
    assert event.version == 2


@pytest.mark.parametrize("tag", ["v1.0.0", "release", "x@v1.0", "A@v1", "x#y", "x@v0"])
@pytest.mark.parametrize("annotated", [True, False])
def test_tags_that_are_not_ours_are_ignored(tag: str, annotated: bool) -> None:
    assert event_from_tag(record(tag, None, annotated=annotated, body="not json at all")) is None


# --- event_from_tag: malformed ------------------------------------------------------------------

ASSIGN = {"modelreg": 1, "action": "assign", "kind": "stage", "target": "production", "version": 3}


def test_lightweight_tag_is_malformed() -> None:
    with pytest.raises(MalformedEvent, match=r"^m@v1: a lightweight tag"):
        event_from_tag(record("m@v1", {"modelreg": 1, "action": "register", "version": 1}, annotated=False))


@pytest.mark.parametrize("body", ["Promote m v3", "{not json", "modelreg: 1\naction: register"])
def test_message_without_json_is_malformed(body: str) -> None:
    with pytest.raises(MalformedEvent, match=r"^m#production#1: the tag message holds no JSON payload$"):
        event_from_tag(record("m#production#1", None, body=body))


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [1, 2],
        "register",
        {**ASSIGN, "modelreg": 2},
        {**ASSIGN, "modelreg": 0},
        {**ASSIGN, "modelreg": "1"},
        {key: value for key, value in ASSIGN.items() if key != "modelreg"},
    ],
)
def test_wrong_modelreg_version_is_malformed(payload: Any) -> None:
    with pytest.raises(MalformedEvent, match="is not a modelreg 1 payload"):
        event_from_tag(record("m#production#1", payload))


NESTED = "the payload nests deeper than 64 levels"
NOT_JSON = "the tag message holds no JSON payload"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[" * 100_000, NESTED),
        ("[" * 65 + "]" * 65, NESTED),
        (json.dumps(ASSIGN)[:-1] + ', "reason": ' + "[" * 65 + "]" * 65 + "}", NESTED),
        (json.dumps(ASSIGN).replace('"version": 3', '"version": ' + "9" * 5000), NOT_JSON),
        (json.dumps(ASSIGN)[:-1] + ', "reason": "\\"' + "[" * 100, NOT_JSON),  # an unterminated string
    ],
)
def test_payloads_json_cannot_take_safely_are_malformed(body: str, message: str) -> None:
    with pytest.raises(MalformedEvent, match=f"^m#production#1: {message}$"):
        event_from_tag(record("m#production#1", None, body=body))


def test_nesting_up_to_the_limit_and_brackets_in_strings_are_fine() -> None:
    deep = json.dumps({**ASSIGN, "x": json.loads("[" * 63 + "]" * 63)})
    assert event_from_tag(record("m#production#1", None, body=deep)) is not None
    brackets = {**ASSIGN, "reason": '[{"\\' * 100}
    assert decode("m#production#1", brackets).reason == brackets["reason"]


@pytest.mark.parametrize("key", ["reason", "request", "approved_by", "merge_commit"])
def test_a_lone_surrogate_in_a_text_field_is_malformed(key: str) -> None:
    with pytest.raises(MalformedEvent, match=f"^m#production#1: '{key}' in the payload is not Unicode text$"):
        event_from_tag(record("m#production#1", {**ASSIGN, key: "ok \udcff"}))
    with pytest.raises(MalformedEvent, match="'digest' in the payload is not Unicode text"):
        event_from_tag(record("m@v1", {"modelreg": 1, "action": "register", "version": 1, "digest": "\ud800"}))


def test_a_tagger_and_subject_that_are_not_utf8_are_shown_with_replacement_characters() -> None:
    """git's output is decoded with surrogateescape: bytes that are not UTF-8 come as lone surrogates."""
    tagged = record("m#production#1", ASSIGN)._replace(tagger="Mal\udcffory <m@x>", subject="caf\udce9")
    event = event_from_tag(tagged)
    assert event is not None and (event.actor, event.subject) == ("Mal\ufffdory <m@x>", "caf\ufffd")


@pytest.mark.parametrize("version", [2**63, 10**38])
def test_versions_beyond_64_bits_are_malformed(version: int) -> None:
    with pytest.raises(MalformedEvent, match="bad 'version'"):
        event_from_tag(record("m#production#1", {**ASSIGN, "version": version}))
    with pytest.raises(MalformedEvent, match="'archived' must be a list of versions"):
        event_from_tag(record("m#production#1", {**ASSIGN, "archived": [version]}))
    assert decode("m#production#1", {**ASSIGN, "version": 2**63 - 1}).version == 2**63 - 1


def test_empty_message_is_malformed() -> None:
    with pytest.raises(MalformedEvent, match="is not a modelreg 1 payload"):
        event_from_tag(record("m#production#1", None, body="  \n"))


def test_modelreg_true_is_not_format_1() -> None:
    with pytest.raises(MalformedEvent):
        event_from_tag(record("m#production#1", {**ASSIGN, "modelreg": True}))


@pytest.mark.parametrize("action", ["promote", None, "ASSIGN", 1])
def test_unknown_action_is_malformed(action: Any) -> None:
    with pytest.raises(MalformedEvent, match="unknown action"):
        event_from_tag(record("m#production#1", {**ASSIGN, "action": action}))


@pytest.mark.parametrize("version", [0, -1, "3", True, None, 3.0, [3]])
def test_bad_version_is_malformed(version: Any) -> None:
    with pytest.raises(MalformedEvent, match="bad 'version' in the payload"):
        event_from_tag(record("m#production#1", {**ASSIGN, "version": version}))


def test_version_tag_with_another_version_in_the_payload_is_malformed() -> None:
    with pytest.raises(MalformedEvent, match=r"^m@v7: a version tag must record the registration of that version$"):
        event_from_tag(record("m@v7", {"modelreg": 1, "action": "register", "version": 6}))


def test_version_tag_with_a_non_register_action_is_malformed() -> None:
    with pytest.raises(MalformedEvent, match="a version tag must record the registration"):
        event_from_tag(record("m@v3", ASSIGN))


@pytest.mark.parametrize(
    "payload",
    [
        {**ASSIGN, "target": "staging"},
        {key: value for key, value in ASSIGN.items() if key != "target"},
        {**ASSIGN, "kind": "label"},
        {key: value for key, value in ASSIGN.items() if key != "kind"},
        {**ASSIGN, "action": "register"},
    ],
)
def test_event_payload_that_disagrees_with_the_tag_name_is_malformed(payload: dict[str, Any]) -> None:
    with pytest.raises(MalformedEvent, match=r"^m#production#1: 'action', 'kind' or 'target' disagree"):
        event_from_tag(record("m#production#1", payload))


@pytest.mark.parametrize("archived", ["6", 6, [0], [-1], [True], ["6"], [6.0], [[6]], {"6": 1}, [6, None]])
def test_bad_archived_is_malformed(archived: Any) -> None:
    with pytest.raises(MalformedEvent, match="'archived' must be a list of versions"):
        event_from_tag(record("m#production#1", {**ASSIGN, "archived": archived}))


@pytest.mark.parametrize("archived", [False, 0, "", {}])
def test_falsy_archived_that_is_not_a_list_is_malformed(archived: Any) -> None:
    with pytest.raises(MalformedEvent):
        event_from_tag(record("m#production#1", {**ASSIGN, "archived": archived}))


# --- replay -------------------------------------------------------------------------------------


def promotions() -> list[Event]:
    """v1, v2, v3 registered; production given to 1, then 2, then 3 (single holder: previous archived)."""
    return [
        reg(1),
        reg(2),
        reg(3),
        change(1, "production", 1),
        change(2, "production", 2, archived=(1,)),
        change(3, "production", 3, archived=(2,)),
    ]


def test_replay_of_nothing() -> None:
    state = replay("m", [])
    assert state == ModelState("m", (), {}, {}, {}, {}, 0)
    assert state.latest is None
    assert state.stage_holder("production") is None


def test_replay_single_holder_archives() -> None:
    state = replay("m", promotions())
    assert state.name == "m"
    assert state.versions == (1, 2, 3)
    assert state.latest == 3
    assert state.stages == {1: "archived", 2: "archived", 3: "production"}
    assert state.stage_since == {1: 2, 2: 3, 3: 3}
    assert state.stage_holder("production") == 3
    assert state.stage_holders("archived") == (1, 2)
    assert state.holders == {"production": (1, 2, 3)}
    assert state.last_seq == 3


def test_replay_follows_seq_whatever_the_input_order() -> None:
    events = promotions()
    expected = replay("m", events)
    for permutation in itertools.permutations(events):
        assert replay("m", permutation) == expected


def test_replay_ignores_dates_going_backwards() -> None:
    # seq 1 is dated last, seq 3 first: a clock-based reader would think v1 holds production.
    events = [
        reg(1, date="2026-03-01T00:00:00+00:00"),
        reg(2, date="2026-02-01T00:00:00+00:00"),
        change(1, "production", 1, date="2026-01-03T00:00:00+00:00"),
        change(2, "production", 2, archived=(1,), date="2026-01-02T00:00:00+00:00"),
        change(3, "champion", 1, kind="alias", date="2026-01-01T00:00:00+00:00"),
    ]
    rng = random.Random(7)
    for _ in range(20):
        rng.shuffle(events)
        state = replay("m", events)
        assert state.stage_holder("production") == 2
        assert state.stages == {1: "archived", 2: "production"}
        assert state.aliases == {"champion": 1}
        assert state.last_seq == 3


def test_aliases_set_moved_removed() -> None:
    events = [reg(1), reg(2), change(1, "champion", 1, kind="alias")]
    assert replay("m", events).aliases == {"champion": 1}

    events.append(change(2, "champion", 2, kind="alias"))
    state = replay("m", events)
    assert state.aliases == {"champion": 2}
    assert state.aliases_of(1) == ()
    assert state.aliases_of(2) == ("champion",)
    assert state.stages == {}  # aliases are not stages

    events.append(change(3, "champion", 1, kind="alias", action="unassign"))  # v1 does not hold it: no-op
    assert replay("m", events).aliases == {"champion": 2}

    events.append(change(4, "champion", 2, kind="alias", action="unassign"))
    state = replay("m", events)
    assert state.aliases == {}
    assert state.last_seq == 4


def test_several_aliases_on_one_version() -> None:
    events = [reg(1), change(1, "challenger", 1, kind="alias"), change(2, "champion", 1, kind="alias")]
    state = replay("m", events)
    assert state.aliases_of(1) == ("challenger", "champion")
    assert state.info(1).aliases == ("challenger", "champion")


def test_stage_unassign() -> None:
    events = [reg(1), reg(2), change(1, "staging", 1), change(2, "staging", 2)]
    events.append(change(3, "staging", 1, action="unassign"))
    state = replay("m", events)
    assert state.stages == {2: "staging"}
    assert state.info(1).stage is None

    events.append(change(4, "production", 2, action="unassign"))  # v2 is not in production: no-op
    assert replay("m", events).stages == {2: "staging"}


def test_stage_holder_is_the_most_recent_assignment_not_the_highest_version() -> None:
    events = [reg(1), reg(2), reg(3), change(1, "staging", 3), change(2, "staging", 1), change(3, "staging", 2)]
    state = replay("m", events)
    assert state.stage_holders("staging") == (1, 2, 3)
    assert state.stage_holder("staging") == 2

    events.append(change(4, "staging", 3))
    assert replay("m", events).stage_holder("staging") == 3

    events.append(change(5, "production", 3))  # v3 moves on: staging falls back to the next most recent
    state = replay("m", events)
    assert state.stage_holder("staging") == 2
    assert state.stage_holder("production") == 3
    assert state.info(3).stage == "production"


def test_equal_seqs_break_ties_on_the_tag_name_whatever_the_input_order() -> None:
    # A race verify reports: two writers took seq 3. Every reader must still agree.
    a = change(3, "production", 1)
    b = change(3, "staging", 1)
    assert replay("m", [reg(1), a, b]) == replay("m", [b, reg(1), a])
    assert replay("m", [a, b]).stages == {1: "staging"}  # "m#production#3" < "m#staging#3"


# --- rollback_version ---------------------------------------------------------------------------


def test_rollback_defaults_to_the_previous_holder() -> None:
    assert rollback_version(replay("m", promotions()), "stage", "production") == 2


def test_two_rollbacks_walk_further_back() -> None:
    events = promotions()
    events.append(change(4, "production", 2, action="rollback", archived=(3,)))
    state = replay("m", events)
    assert state.stage_holder("production") == 2
    assert state.stages == {1: "archived", 2: "production", 3: "archived"}
    assert rollback_version(state, "stage", "production") == 1  # not back to 3

    events.append(change(5, "production", 1, action="rollback", archived=(2,)))
    state = replay("m", events)
    assert state.stage_holder("production") == 1
    with pytest.raises(NotFoundError, match=r"^m: no version held stage 'production' before v1$"):
        rollback_version(state, "stage", "production")


def test_rollback_to_a_given_version() -> None:
    state = replay("m", promotions())
    assert rollback_version(state, "stage", "production", to=1) == 1
    with pytest.raises(InvalidInputError, match=r"^m v3 already holds stage 'production'$"):
        rollback_version(state, "stage", "production", to=3)


def test_rollback_with_nothing_holding_the_target() -> None:
    state = replay("m", promotions())
    with pytest.raises(NotFoundError, match=r"^m: no version holds stage 'staging', nothing to roll back$"):
        rollback_version(state, "stage", "staging")
    with pytest.raises(NotFoundError, match="no version holds alias 'champion'"):
        rollback_version(state, "alias", "champion", to=1)


def test_rollback_with_no_earlier_holder() -> None:
    state = replay("m", [reg(1), change(1, "production", 1)])
    with pytest.raises(NotFoundError, match="no version held stage 'production' before v1"):
        rollback_version(state, "stage", "production")


def test_alias_rollback() -> None:
    events = [reg(1), reg(2), change(1, "champion", 1, kind="alias"), change(2, "champion", 2, kind="alias")]
    state = replay("m", events)
    assert rollback_version(state, "alias", "champion") == 1
    events.append(change(3, "champion", 1, kind="alias", action="rollback"))
    state = replay("m", events)
    assert state.aliases == {"champion": 1}
    with pytest.raises(NotFoundError, match="no version held alias 'champion' before v1"):
        rollback_version(state, "alias", "champion")


def test_rollback_after_a_plain_reassignment_returns_to_the_one_in_between() -> None:
    events = [reg(1), reg(2)]
    events += [change(1, "champion", 1, kind="alias"), change(2, "champion", 2, kind="alias")]
    events.append(change(3, "champion", 1, kind="alias"))  # an assign, not a rollback
    state = replay("m", events)
    assert state.holders["champion"] == (1, 2, 1)
    assert rollback_version(state, "alias", "champion") == 2


def test_rollback_skips_repeated_assignments_of_the_current_holder() -> None:
    events = [reg(1), reg(2)] + [change(seq, "champion", v, kind="alias") for seq, v in ((1, 1), (2, 2), (3, 2))]
    state = replay("m", events)
    assert state.holders["champion"] == (1, 2, 2)
    assert rollback_version(state, "alias", "champion") == 1


# --- to_archive ---------------------------------------------------------------------------------


def test_to_archive() -> None:
    # Two versions in production (e.g. written before single_holder was configured).
    state = replay("m", [reg(1), reg(2), reg(3), change(1, "production", 1), change(2, "production", 2)])
    assert to_archive(state, 3, "production", single_holder=True) == (1, 2)
    assert to_archive(state, 2, "production", single_holder=True) == (1,)
    assert to_archive(state, 3, "production", single_holder=False) == ()
    assert to_archive(state, 3, "staging", single_holder=True) == ()


# --- history_order ------------------------------------------------------------------------------


def test_history_order_places_registrations_before_the_first_change_that_concerns_them() -> None:
    r1, r2, r3, r4 = reg(1), reg(2), reg(3), reg(4)
    c1 = change(1, "staging", 1)
    c2 = change(2, "production", 3)
    c3 = change(3, "champion", 2, kind="alias")
    expected = [r1, c1, r2, r3, c2, c3, r4]
    rng = random.Random(3)
    events = list(expected)
    for _ in range(30):
        rng.shuffle(events)
        assert history_order(events) == expected


def test_history_order_counts_archived_versions_as_concerned() -> None:
    r1, r2 = reg(1), reg(2)
    back = change(1, "production", 1, action="rollback", archived=(2,))
    assert history_order([back, r2, r1]) == [r1, r2, back]


def test_history_order_ignores_dates() -> None:
    r1 = reg(1, date="2026-12-31T23:59:59+00:00")
    c1 = change(1, "production", 1, date="2020-01-01T00:00:00+00:00")
    c2 = change(2, "champion", 1, kind="alias", date="2019-01-01T00:00:00+00:00")
    assert history_order([c2, c1, r1]) == [r1, c1, c2]


def test_history_order_of_registrations_only() -> None:
    regs = [reg(3), reg(1), reg(2)]
    assert [e.version for e in history_order(regs)] == [1, 2, 3]
    assert history_order([]) == []


def test_history_order_places_a_registration_after_the_last_seq_its_writer_saw() -> None:
    r1, r2, r3 = reg(1)._replace(after=0), reg(2)._replace(after=0), reg(3)._replace(after=2)
    c1, c2, c3 = change(1, "production", 1), change(2, "champion", 1, kind="alias"), change(3, "production", 2)
    assert history_order([c3, r3, c2, r2, c1, r1]) == [r1, r2, c1, c2, r3, c3]


def test_history_order_never_lets_after_place_a_version_behind_what_concerns_it() -> None:
    """A forged or stale `after` cannot move a registration past the first change about its version."""
    r1, r2 = reg(1)._replace(after=0), reg(2)._replace(after=9)
    c1, c2 = change(1, "production", 2), change(2, "champion", 1, kind="alias")
    assert history_order([c2, c1, r2, r1]) == [r1, r2, c1, c2]


def test_the_register_payload_records_after() -> None:
    event = decode("m@v2", {"modelreg": 1, "action": "register", "version": 2, "after": 7})
    assert event is not None and event.after == 7
    for bad in (-1, "7", True, 2**64):
        odd = decode("m@v2", {"modelreg": 1, "action": "register", "version": 2, "after": bad})
        assert odd is not None and odd.after is None  # a hint, not a rule: ignored when it is not a seq


def _history_order_by_definition(events: list[Event]) -> list[Event]:
    """The rule, spelled out the slow way: each registration's limit, then older versions never after newer."""
    regs = sorted((e for e in events if e.action == "register"), key=lambda e: e.version)
    changes = sorted((e for e in events if e.action != "register"), key=lambda e: (e.seq or 0, e.tag))
    limits = []
    for r in regs:
        about = [c.seq or 0 for c in changes if max((c.version, *c.archived)) >= r.version]
        limit = min(about, default=float("inf"))
        limits.append(min(limit, r.after + 1) if r.after is not None else limit)
    limits = [min(limits[i:]) for i in range(len(limits))]
    ordered: list[Event] = []
    pending = list(zip(regs, limits, strict=True))
    for c in changes:
        while pending and pending[0][1] <= (c.seq or 0):
            ordered.append(pending.pop(0)[0])
        ordered.append(c)
    return ordered + [r for r, _ in pending]


def test_history_order_matches_its_definition_on_random_histories() -> None:
    rng = random.Random(11)
    for _ in range(300):
        versions = rng.randint(1, 8)
        regs = [reg(v)._replace(after=rng.choice([None, rng.randint(0, 10)])) for v in range(1, versions + 1)]
        changes = [change(seq, rng.choice(["production", "staging"]), rng.randint(1, versions)) for seq in range(1, 11)]
        events = regs + changes
        rng.shuffle(events)
        assert history_order(events) == _history_order_by_definition(events)
