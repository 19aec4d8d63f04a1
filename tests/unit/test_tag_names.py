"""parse_tag_name reads tag names with string operations (hot in cold reads: once per tag); it must read them as the
grammar says, written here as the regular expressions it was before."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from modelreg.core import names
from modelreg.core.refs import MAX_NUMBER, TagName, is_event_target, parse_tag_name

VERSION_TAG = re.compile(r"(?P<name>[^@#/]+)@v(?P<version>[1-9][0-9]{0,18})")
EVENT_TAG = re.compile(r"(?P<name>[^@#/]+)#(?P<target>[^@#/]+)#(?P<seq>[1-9][0-9]{0,18})")


def by_grammar(text: str) -> TagName | None:
    tag = text.removeprefix("refs/tags/")
    if match := VERSION_TAG.fullmatch(tag):
        name = names.decode(match["name"])
        version = int(match["version"])
        return TagName(name, version=version) if name is not None and version <= MAX_NUMBER else None
    if (match := EVENT_TAG.fullmatch(tag)) and (name := names.decode(match["name"])) is not None:
        seq = int(match["seq"])
        return (
            TagName(name, target=match["target"], seq=seq)
            if is_event_target(match["target"]) and seq <= MAX_NUMBER
            else None
        )
    return None


PIECES = [
    "a",
    "fraud",
    "+churn+032+model",
    "@",
    "#",
    "/",
    "v",
    "0",
    "1",
    "7",
    "9223372036854775808",
    "٣",
    "\n",
    " ",
    "production",
    "_retire",
    "refs/tags/",
    "é",
    "%",
    "-",
    ".",
]


@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=7).map("".join))
def test_a_tag_name_reads_as_the_grammar_says(text: str) -> None:
    assert parse_tag_name(text) == by_grammar(text)


def test_edges_of_the_grammar() -> None:
    for text in [
        "fraud@v7",
        "fraud#production#12",
        "a@v0",
        "a@v01",
        "a@v9223372036854775807",
        "a@v9223372036854775808",
        "a#b#0",
        "a#b#c#1",
        "a##1",
        "a@v1\n",
        "a@v٣",
        "a/b@v1",
        "a@@v1",
        "a#b#12345678901234567890",
        "a#_retire#3",
    ]:
        assert parse_tag_name(text) == by_grammar(text), text
    assert parse_tag_name("fraud@v7") == TagName("fraud", version=7)
    assert parse_tag_name("refs/tags/fraud#production#12") == TagName("fraud", target="production", seq=12)
