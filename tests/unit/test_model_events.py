"""Model-level events (retire, unretire, describe) and version updates: tag names, payloads, replay."""

from __future__ import annotations

from typing import Any

import pytest

from modelreg.core.events import replay
from modelreg.core.refs import TagName, check_name, event_tag, parse_tag_name
from modelreg.errors import MalformedEvent
from tests.unit.test_events import change, decode, reg


def model_event(seq: int, action: str, version: int = 1, **extra: Any) -> Any:
    kind = "version" if action == "update" else "model"
    payload = {"modelreg": 1, "action": action, "kind": kind, "target": f"_{action}", "version": version, **extra}
    return decode(f"m#_{action}#{seq}", payload)


@pytest.mark.parametrize("target", ["_retire", "_unretire", "_describe", "_update"])
def test_model_targets_parse_and_cannot_be_stage_or_alias_names(target: str) -> None:
    assert parse_tag_name(event_tag("m", target, 4)) == TagName("m", target=target, seq=4)
    with pytest.raises(Exception, match="invalid"):
        check_name(target, "stage")


@pytest.mark.parametrize("tag", ["m#_other#1", "m#_#1", "m#__retire#1", "m#_Retire#1"])
def test_other_underscore_targets_are_not_ours(tag: str) -> None:
    assert parse_tag_name(tag) is None


def test_retire_and_unretire_replay() -> None:
    events = [reg(1), reg(2), change(1, "production", 2), change(2, "champion", 1, kind="alias")]
    retired = replay("m", [*events, model_event(3, "retire", 2, reason="replaced")])
    assert retired.retired == "m#_retire#3"
    assert retired.stage_holder("production") == 2  # kept, for unretire: reads refuse to resolve it
    back = replay("m", [*events, model_event(3, "retire", 2), model_event(4, "unretire", 2)])
    assert back.retired is None
    assert (back.stage_holder("production"), back.aliases) == (2, {"champion": 1})
    assert back.last_seq == 4


def test_describe_replays_in_seq_order() -> None:
    first = model_event(1, "describe", description="Fraud scoring", tags={"owner": "risk", "tier": 1})
    second = model_event(2, "describe", tags={"owner": "ml"}, removed_tags=["tier"])
    assert (first.description, first.set_tags) == ("Fraud scoring", (("owner", "risk"), ("tier", 1)))
    state = replay("m", [second, reg(1), first])
    assert (state.description, dict(state.tags)) == ("Fraud scoring", {"owner": "ml"})


def test_update_is_recorded_and_changes_no_state() -> None:
    update = model_event(2, "update", 1, description="retrained", tags={"x": True}, reason="audit")
    assert (update.kind, update.target, update.reason) == ("version", "_update", "audit")
    base = [reg(1), change(1, "production", 1)]
    assert replay("m", [*base, update])._replace(last_seq=1) == replay("m", base)


@pytest.mark.parametrize(
    ("tag", "payload"),
    [
        ("m#_retire#1", {"action": "unretire", "kind": "model", "target": "_retire"}),
        ("m#_retire#1", {"action": "retire", "kind": "stage", "target": "_retire"}),
        ("m#_update#1", {"action": "update", "kind": "model", "target": "_update"}),
        ("m#production#1", {"action": "retire", "kind": "model", "target": "production"}),
        ("m#_describe#1", {"action": "describe", "kind": "model", "target": "_describe", "description": 3}),
        ("m#_describe#1", {"action": "describe", "kind": "model", "target": "_describe", "tags": {"a": [1]}}),
        ("m#_describe#1", {"action": "describe", "kind": "model", "target": "_describe", "removed_tags": "a"}),
    ],
)
def test_malformed_model_events(tag: str, payload: dict[str, Any]) -> None:
    with pytest.raises(MalformedEvent):
        decode(tag, {"modelreg": 1, "version": 1, **payload})


def _deleted(seq: int, version: int, kind: str) -> Any:
    payload = {"modelreg": 1, "action": "delete", "kind": kind, "target": "_delete", "version": version}
    return decode(f"m#_delete#{seq}", payload)


def test_a_deleted_version_leaves_the_state_with_its_stage_and_alias() -> None:
    events = [reg(1), reg(2), reg(3), change(1, "production", 2), change(2, "champion", 2, kind="alias")]
    state = replay("m", [*events, _deleted(3, 2, "version")])
    assert (state.versions, state.stages, state.aliases) == ((1, 3), {}, {})
    assert state.holders["production"] == ()
    assert replay("m", events).versions == (1, 2, 3)


def test_a_deleted_model_keeps_only_versions_registered_after_it() -> None:
    events = [reg(1), reg(2), model_event(1, "describe", 2, description="old"), _deleted(2, 2, "model"), reg(3)]
    state = replay("m", events)
    assert (state.versions, state.description) == ((3,), "")


def test_a_delete_event_of_another_kind_is_malformed() -> None:
    payload = {"modelreg": 1, "action": "delete", "kind": "stage", "target": "_delete", "version": 1}
    with pytest.raises(MalformedEvent):
        decode("m#_delete#1", payload)
