"""Properties over generated input (Hypothesis): the reference grammar, the strict YAML loader,
event payloads and replay. Hostile input ends in the project's own errors, never another exception."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelreg.core.events import MAX_NESTING, event_from_tag, replay
from modelreg.core.names import model_name_problem
from modelreg.core.refs import (
    LATEST,
    MAX_NAME_LENGTH,
    ModelRef,
    TagName,
    event_tag,
    looks_like_version,
    parse_ref,
    parse_tag_name,
    version_tag,
)
from modelreg.errors import ConfigError, InvalidInputError, MalformedEvent
from modelreg.formats import yamlio
from modelreg.formats.yamlstrict import MAX_NESTING as MAX_YAML_NESTING
from modelreg.models import Event, TagRecord

# Fast and the same on every run: a fixed seed per test, no example database on disk. The
# autouse fixture (an isolated HOME) does not change between examples, so sharing it is fine.
FAST = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- the reference grammar ---------------------------------------------------------------------

_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
names = st.builds(
    lambda first, rest: first + "".join(sep + word for sep, word in rest),
    _words,
    st.lists(st.tuples(st.sampled_from("._-"), _words), max_size=8),
).filter(lambda n: len(n) <= MAX_NAME_LENGTH)
versions = st.integers(min_value=1, max_value=2**63 - 1)
selectors = names.filter(lambda n: not looks_like_version(n) and n != LATEST)  # what config and check_alias allow


@st.composite
def refs(draw: st.DrawFn) -> ModelRef:
    name = draw(names)
    kind = draw(st.sampled_from(["latest", "version", "alias", "stage"]))
    if kind == "version":
        return ModelRef(name, version=draw(versions))
    if kind == "alias":
        return ModelRef(name, alias=draw(selectors))
    if kind == "stage":
        return ModelRef(name, stage=draw(selectors))
    return ModelRef(name)


@FAST
@given(refs())
def test_every_valid_reference_round_trips(ref: ModelRef) -> None:
    assert parse_ref(str(ref)) == ref
    assert parse_ref(f"  {ref}\n") == ref


@FAST
@given(names, versions, selectors)
def test_every_spelling_of_a_reference_parses_to_the_same_ref(name: str, version: int, selector: str) -> None:
    for text in (f"{name}@{version}", f"{name}@v{version}", f"{name}/{version}", f"models:/{name}/{version}"):
        assert parse_ref(text) == ModelRef(name, version=version)
    for text in (f"{name}/{selector}", f"models:/{name}/{selector.capitalize()}", f"models:/{name}/{selector.upper()}"):
        assert parse_ref(text) == ModelRef(name, stage=selector)
    for text in (f"{name}@{selector}", f"models:/{name}@{selector}"):
        assert parse_ref(text) == ModelRef(name, alias=selector)
    for text in (f"{name}@latest", f"models:/{name}/latest", f"models:/{name}/Latest"):
        assert parse_ref(text) == ModelRef(name)


@FAST
@given(names, versions, selectors, versions)
def test_tag_names_round_trip(name: str, version: int, target: str, seq: int) -> None:
    assert parse_tag_name(version_tag(name, version)) == TagName(name, version=version)
    assert parse_tag_name(f"refs/tags/{event_tag(name, target, seq)}") == TagName(name, target=target, seq=seq)


# Text near the grammar finds more than uniform Unicode: the separators, digits and a few letters.
ref_like_text = st.text(alphabet=st.sampled_from("mv0123456789@/:#._- \tMODELS:models:/ab\n\u0661é"), max_size=40)


@FAST
@given(st.one_of(st.text(), ref_like_text))
def test_parse_ref_refuses_anything_else_with_invalid_input(text: str) -> None:
    try:
        ref = parse_ref(text)
    except InvalidInputError:
        return
    assert model_name_problem(ref.name) is None
    assert ref.version is None or ref.version >= 1


@FAST
@given(st.one_of(st.text(), ref_like_text))
def test_parse_tag_name_gives_a_modelreg_name_or_none(text: str) -> None:
    parsed = parse_tag_name(text)
    assert parsed is None or model_name_problem(parsed.name) is None


@pytest.mark.parametrize(
    "text", ["m@" + "1" * 5000, "m/" + "1" * 5000, "models:/m/" + "1" * 5000, f"m@{2**63}", f"m@v{2**63}"]
)
def test_a_version_past_2_to_the_63_is_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_ref(text)


@pytest.mark.parametrize("tag", ["m@v" + "1" * 5000, "m#production#" + "1" * 5000, f"m@v{2**63}"])
def test_a_tag_numbered_past_2_to_the_63_is_not_ours(tag: str) -> None:
    assert parse_tag_name(tag) is None
    assert parse_tag_name(f"m@v{2**63 - 1}") == TagName("m", version=2**63 - 1)


# --- the strict YAML loader --------------------------------------------------------------------

yaml_like_text = st.text(
    alphabet=st.sampled_from("[]{}:-,?!&*#|>'\"\n \t\\ab01.~%@`\ufffd\x85\u2028é\x00"), max_size=80
)


@FAST
@given(st.one_of(st.text(), yaml_like_text))
def test_any_text_loads_or_is_a_config_error(text: str) -> None:
    error = ""
    try:
        yamlio.load(text, "f.yaml")
    except ConfigError as exc:
        error = str(exc)
    assert not error or (error.startswith("f.yaml: ") and "\n" not in error)


def nested(depth: int, form: str) -> str:
    """YAML text with `depth` collections, each inside the one before."""
    if form == "block mappings":
        return "".join(f"{'  ' * level}a:\n" for level in range(depth)) + "  " * depth + "x\n"
    opener, closer = {"flow lists": ("[", "]"), "flow mappings": ("{a: ", "}"), "block lists": ("- ", "")}[form]
    return opener * depth + "x" + closer * depth


FORMS = ["flow lists", "flow mappings", "block lists", "block mappings"]


@FAST
@given(st.integers(min_value=1, max_value=300), st.sampled_from(FORMS))
def test_nesting_up_to_the_limit_loads_and_beyond_it_is_a_config_error(depth: int, form: str) -> None:
    if depth <= MAX_YAML_NESTING:
        loaded = yamlio.load(nested(depth, form), "f.yaml")
        for _ in range(depth):  # exactly `depth` containers, then the scalar
            loaded = loaded["a"] if isinstance(loaded, dict) else loaded[0]
        assert loaded == "x"
    else:
        with pytest.raises(ConfigError, match=r"^f\.yaml: invalid YAML \(line \d+\): nested deeper than 64 levels$"):
            yamlio.load(nested(depth, form), "f.yaml")


@pytest.mark.parametrize("form", FORMS[:3])
def test_nesting_3000_deep_is_a_config_error(form: str) -> None:
    with pytest.raises(ConfigError, match="nested deeper than 64 levels"):
        yamlio.load(nested(3000, form), "f.yaml")


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(),
)
plain_data = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12,
)


@FAST
@given(st.dictionaries(st.text(max_size=10), plain_data, max_size=5))
def test_dump_then_load_gives_back_the_data(data: dict[str, Any]) -> None:
    assert yamlio.load(yamlio.dump(data), "x") == data


# --- event payloads ----------------------------------------------------------------------------

tag_names = st.sampled_from(["m@v1", "m@v7", "m#production#1", "m#champion#3", "not-ours", "m@vx"])
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=10,
)
# st.text() never yields lone surrogates, which git's surrogateescape decoding does: build them by hand.
any_chars = st.lists(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=30).map("".join)


@st.composite
def near_payloads(draw: st.DrawFn, tag: str) -> str:
    """JSON text close to a valid payload for `tag`: up to two keys dropped or given odd values,
    and free text (lone surrogates too) in the keys that hold text."""
    parsed = parse_tag_name(tag)
    if parsed is not None and parsed.seq is None:
        payload: dict[str, Any] = {"modelreg": 1, "action": "register", "version": parsed.version}
    else:
        target = parsed.target if parsed is not None else "production"
        payload = {"modelreg": 1, "action": "assign", "kind": "stage", "target": target, "version": 1, "archived": []}
    for key in draw(st.sets(st.sampled_from(sorted(payload)), max_size=2)):
        odd = draw(st.one_of(st.none(), json_values, any_chars, st.integers(min_value=2**63 - 2, max_value=2**64)))
        if odd is None:
            del payload[key]
        else:
            payload[key] = odd
    for key in draw(st.sets(st.sampled_from(["reason", "request", "approved_by", "merge_commit", "digest"]))):
        payload[key] = draw(st.one_of(any_chars, json_values))
    return json.dumps(payload)


def tag_record(tag: str, body: str, *, annotated: bool = True, tagger: str = "Jane <j@example.com>") -> TagRecord:
    return TagRecord(tag, "0" * 40, "c" * 40, annotated, tagger, "2026-01-02T03:04:05+00:00", "subject", body)


def assert_printable(event: Event) -> None:
    """Every text field can be written as UTF-8 (a lone surrogate would crash the output)."""
    for value in event:
        if isinstance(value, str):
            value.encode("utf-8")


tags_and_bodies = st.one_of(
    tag_names.flatmap(lambda tag: st.tuples(st.just(tag), near_payloads(tag))),
    st.tuples(tag_names, st.one_of(st.text(), any_chars, json_values.map(json.dumps))),
)


@FAST
@given(tags_and_bodies, st.integers(min_value=0, max_value=3), any_chars)
def test_event_from_tag_gives_an_event_none_or_malformed(tag_body: tuple[str, str], odds: int, tagger: str) -> None:
    tag, body = tag_body
    annotated = odds > 0  # one in four is a lightweight tag
    try:
        event = event_from_tag(tag_record(tag, body, annotated=annotated, tagger=tagger))
    except MalformedEvent as exc:
        error = str(exc)
        assert error.startswith(f"{tag}: "), error
        return
    assert (event is None) == (parse_tag_name(tag) is None)
    if event is not None:
        assert_printable(event)


@FAST
@given(st.integers(min_value=MAX_NESTING + 1, max_value=200_000), st.sampled_from(["[", '{"a": ']))
def test_payloads_nested_beyond_the_limit_are_malformed(depth: int, opener: str) -> None:
    body = opener * depth + "1" + ("]" if opener == "[" else "}") * depth
    with pytest.raises(MalformedEvent, match="nests deeper than 64 levels"):
        event_from_tag(tag_record("m#production#1", body))


def test_brackets_inside_strings_are_not_nesting() -> None:
    body = {"modelreg": 1, "action": "assign", "kind": "stage", "target": "s", "version": 1, "reason": "[{" * 500}
    event = event_from_tag(tag_record("m#s#1", json.dumps(body)))
    assert event is not None and event.reason == "[{" * 500


# --- replay ------------------------------------------------------------------------------------


def message(tag: str, payload: dict[str, Any]) -> TagRecord:
    return tag_record(tag, json.dumps({"modelreg": 1, **payload}))


@st.composite
def valid_histories(draw: st.DrawFn) -> list[TagRecord]:
    """Version tags 1..n and events with seqs 1..k, each on a registered version, as git would list them."""
    count = draw(st.integers(min_value=1, max_value=5))
    records = [message(f"m@v{v}", {"action": "register", "version": v}) for v in range(1, count + 1)]
    in_versions = st.integers(min_value=1, max_value=count)
    for seq in range(1, draw(st.integers(min_value=0, max_value=12)) + 1):
        kind = draw(st.sampled_from(["stage", "alias"]))
        target = draw(st.sampled_from(["staging", "production"] if kind == "stage" else ["champion", "challenger"]))
        payload = {
            "action": draw(st.sampled_from(["assign", "assign", "unassign", "rollback"])),
            "kind": kind,
            "target": target,
            "version": draw(in_versions),
            "archived": draw(st.lists(in_versions, max_size=2)) if kind == "stage" else [],
        }
        records.append(message(event_tag("m", target, seq), payload))
    return records


def decode_all(records: list[TagRecord]) -> tuple[list[Event], list[str]]:
    """What a snapshot makes of tags: the events, and one problem per malformed tag."""
    events: list[Event] = []
    problems: list[str] = []
    for record in records:
        try:
            event = event_from_tag(record)
        except MalformedEvent as exc:
            problems.append(str(exc))
            continue
        if event is not None:
            events.append(event)
    return events, problems


@FAST
@given(valid_histories(), st.randoms(use_true_random=False))
def test_replay_does_not_depend_on_the_order_of_tags(records: list[TagRecord], rnd: Any) -> None:
    events, problems = decode_all(records)
    assert not problems
    shuffled = list(events)
    rnd.shuffle(shuffled)
    assert replay("m", shuffled) == replay("m", events)


def corrupt(record: TagRecord, how: str) -> TagRecord:
    """A copy of an event tag (under a fresh seq) that is malformed in the way `how` says."""
    name, target, seq = record.tag.split("#")
    tag = f"{name}#{target}#{int(seq) + 1000}"
    payload = json.loads(record.body)
    if how == "lightweight":
        return record._replace(tag=tag, annotated=False)
    if how == "not json":
        return record._replace(tag=tag, body=record.body[:-1])
    if how == "nested":
        return record._replace(tag=tag, body="[" * 100_000)
    if how == "huge number":
        return record._replace(tag=tag, body=record.body.replace('"version": ', '"version": ' + "9" * 5000, 1))
    changes = {
        "format": {"modelreg": 2},
        "action": {"action": "promote"},
        "target": {"target": "elsewhere"},
        "version": {"version": 0},
        "archived": {"archived": "1"},
        "surrogate": {"reason": "\ud800"},
    }[how]
    return record._replace(tag=tag, body=json.dumps({**payload, **changes}))


CORRUPTIONS = ["lightweight", "not json", "nested", "huge number", "format", "action", "target", "version", "archived"]
CORRUPTIONS += ["surrogate"]


@FAST
@given(
    valid_histories().filter(lambda records: any("#" in r.tag for r in records)),
    st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(CORRUPTIONS)), min_size=1, max_size=4),
    st.randoms(use_true_random=False),
)
def test_malformed_tags_change_nothing_else(records: list[TagRecord], bad: list[tuple[int, str]], rnd: Any) -> None:
    events, _ = decode_all(records)
    changes = [r for r in records if "#" in r.tag]
    hostile = [corrupt(changes[index % len(changes)], how) for index, how in bad]
    mixed = records + hostile
    rnd.shuffle(mixed)
    mixed_events, problems = decode_all(mixed)
    assert len(problems) == len(hostile)
    assert replay("m", mixed_events) == replay("m", events)
