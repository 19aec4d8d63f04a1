"""sync's pure decisions: backoff and jitter bounds, prune planning, the watch set, durations."""

from __future__ import annotations

import pytest

from modelreg.core.refs import ModelRef
from modelreg.errors import InvalidInputError
from modelreg.models import Event, ModelState
from modelreg.serving import plan

RANDS = [0.0, 0.25, 0.5, 0.999999]


@pytest.mark.parametrize("rand", RANDS)
def test_poll_delay_stays_within_ten_percent_of_the_interval(rand):
    assert 27.0 <= plan.poll_delay(30.0, rand) <= 33.0


def test_poll_delays_spread_pods_apart():
    assert plan.poll_delay(30.0, 0.0) < plan.poll_delay(30.0, 0.5) < plan.poll_delay(30.0, 0.99)


@pytest.mark.parametrize("rand", RANDS)
@pytest.mark.parametrize("failures", [1, 2, 3, 5, 8, 20, 1000])
def test_backoff_doubles_within_equal_jitter_bounds_and_a_ceiling(failures, rand):
    interval = 30.0
    ceiling = min(300.0, interval * 2 ** (failures - 1))
    delay = plan.backoff_delay(failures, interval, rand)
    assert ceiling / 2 <= delay <= ceiling
    assert delay <= plan.max_backoff(interval) == 300.0


def test_backoff_grows_then_stops_growing():
    ceilings = [plan.backoff_delay(n, 1.0, 0.999999) for n in range(1, 12)]
    assert ceilings[:6] == pytest.approx([1, 2, 4, 8, 16, 32], rel=1e-5)
    assert ceilings[6:] == pytest.approx([32] * 5, rel=1e-5)  # 32 intervals when that is below 5 minutes


def test_backoff_of_a_long_interval_never_goes_below_it():
    assert plan.max_backoff(600.0) == 600.0
    assert 300.0 <= plan.backoff_delay(3, 600.0, 0.0) <= 600.0


def test_no_failure_means_the_ordinary_poll():
    assert plan.backoff_delay(0, 30.0, 0.5) == plan.poll_delay(30.0, 0.5)


def test_prune_keeps_the_most_recently_current_and_never_the_current_one():
    dirs = {"m-v1-a": 10.0, "m-v2-b": 20.0, "m-v3-c": 30.0, "m-v4-d": 40.0}
    assert plan.prune_plan(dirs, "m-v4-d", 2) == ["m-v1-a", "m-v2-b"]
    # A rollback made v2 current again: v2 is kept (current), v4 next (most recent), the rest go.
    assert plan.prune_plan(dirs, "m-v2-b", 2) == ["m-v1-a", "m-v3-c"]
    assert plan.prune_plan(dirs, "m-v1-a", 1) == ["m-v2-b", "m-v3-c", "m-v4-d"]
    assert plan.prune_plan(dirs, "m-v4-d", 10) == []
    assert plan.prune_plan({}, None, 2) == []


def test_prune_never_removes_the_current_one_even_when_keep_is_zero():
    assert plan.prune_plan({"a": 1.0, "b": 2.0}, "a", 0) == ["b"]


def test_version_dir_names_carry_name_version_and_a_short_digest():
    assert plan.version_dir_name("fraud", 7, "sha256:" + "ab" * 32) == "fraud-v7-abababababab"


def event(tag: str, version: int, seq: int | None = None, kind=None, target=None, action="assign") -> Event:
    return Event(name="m", action=action, version=version, tag=tag, seq=seq, kind=kind, target=target)


EVENTS = [
    event("m@v1", 1, action="register"),
    event("m@v2", 2, action="register"),
    event("m#production#1", 1, 1, "stage", "production"),
    event("m#champion#2", 2, 2, "alias", "champion"),
    event("m#production#3", 2, 3, "stage", "production"),
    event("m#champion#4", 1, 4, "alias", "champion"),
]
STATE = ModelState("m", (1, 2), {1: "archived", 2: "production"}, {1: 3, 2: 3}, {"champion": 1}, {}, 4)


def test_the_deciding_event_is_the_assignment_that_made_the_reference_point_there():
    assert plan.deciding_event(ModelRef("m", stage="production"), STATE, EVENTS, 2).tag == "m#production#3"
    assert plan.deciding_event(ModelRef("m", alias="champion"), STATE, EVENTS, 1).tag == "m#champion#4"
    assert plan.deciding_event(ModelRef("m", version=1), STATE, EVENTS, 1).tag == "m@v1"
    assert plan.deciding_event(ModelRef("m"), STATE, EVENTS, 2).tag == "m@v2"


def test_the_watch_asks_for_head_the_deciding_refs_and_the_next_claims_only():
    refs = {
        "refs/tags/m@v1": "t1",
        "refs/tags/m@v2": "t2",
        "refs/tags/m#production#3": "e3",
        "refs/tags/m#production#30": "e30",  # shares the prefix of #3: part of the expected answer
        "refs/modelreg/events/m/3": "e3",
        "refs/modelreg/events/m/30": "e30",
        "refs/modelreg/versions/m/1": "t1",
        "refs/modelreg/versions/m/2": "t2",
    }
    decisive = plan.decisive_refs("m", 2, EVENTS[4])
    assert decisive == [
        "refs/tags/m@v2",
        "refs/modelreg/versions/m/2",
        "refs/tags/m#production#3",
        "refs/modelreg/events/m/3",
    ]
    watch = plan.watch("m", decisive, refs, "head1")
    assert "HEAD" in watch.prefixes
    assert {p for p in watch.prefixes if p.startswith("refs/modelreg/events/m/") and p not in decisive} == {
        "refs/modelreg/events/m/31",
        "refs/modelreg/events/m/32",
        "refs/modelreg/events/m/33",
    }
    assert "refs/modelreg/versions/m/3" in watch.prefixes
    assert watch.expected == {
        "HEAD": "head1",
        "refs/tags/m@v2": "t2",
        "refs/modelreg/versions/m/2": "t2",
        "refs/tags/m#production#3": "e3",
        "refs/tags/m#production#30": "e30",
        "refs/modelreg/events/m/3": "e3",
        "refs/modelreg/events/m/30": "e30",
    }
    assert watch.unchanged(dict(watch.expected))
    assert not watch.unchanged({**watch.expected, "refs/modelreg/events/m/31": "e31"})  # a new event
    assert not watch.unchanged({**watch.expected, "HEAD": "head2"})  # the policy may have changed
    moved = {**watch.expected, "refs/tags/m#production#3": "other"}
    assert not watch.unchanged(moved)  # a deciding tag moved
    gone = dict(watch.expected)
    del gone["refs/modelreg/events/m/3"]
    assert not watch.unchanged(gone)


def test_only_head_moved_means_nothing_but_the_default_branch_moved():
    watch = plan.Watch(("HEAD", "refs/tags/m@v1"), {"HEAD": "h1", "refs/tags/m@v1": "t1"})
    assert watch.only_head_moved({"HEAD": "h2", "refs/tags/m@v1": "t1"})
    assert not watch.only_head_moved({"HEAD": "h1", "refs/tags/m@v1": "t1"})  # nothing moved at all
    assert not watch.only_head_moved({"HEAD": "h2", "refs/tags/m@v1": "t2"})
    assert not watch.only_head_moved({"HEAD": "h2", "refs/tags/m@v1": "t1", "refs/modelreg/events/m/2": "e"})
    assert not watch.only_head_moved({"refs/tags/m@v1": "t1"})  # HEAD gone
    assert watch.with_head("h2").unchanged({"HEAD": "h2", "refs/tags/m@v1": "t1"})


def test_the_policy_is_read_from_modelreg_and_the_signers_file():
    assert plan.policy_paths(None) == (".modelreg",)
    assert plan.policy_paths(".modelreg/allowed_signers") == (".modelreg",)
    assert plan.policy_paths(".github/allowed_signers") == (".modelreg", ".github/allowed_signers")


def test_an_unclaimed_event_tag_moves_the_next_seq_watched():
    refs = {"refs/modelreg/events/m/3": "e3", "refs/tags/m#production#5": "x"}  # seq 4 skipped, 5 unclaimed
    prefixes = plan.watch("m", [], refs, "h").prefixes
    assert "refs/modelreg/events/m/6" in prefixes and "refs/modelreg/events/m/4" not in prefixes


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30.0), ("30", 30.0), ("500ms", 0.5), ("2m", 120.0), ("1h", 3600.0), ("0.2s", 0.2)]
)
def test_durations(text, seconds):
    assert plan.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "0", "-1s", "abc", "10x", "nan", "inf", "1e999"])
def test_bad_durations_are_refused(text):
    with pytest.raises(InvalidInputError, match="invalid interval"):
        plan.parse_duration(text)
