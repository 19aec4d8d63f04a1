"""Names, references and tag names (DESIGN §1, §3, §4): modelreg.core.refs."""

from __future__ import annotations

import re

import pytest

from modelreg.core.refs import (
    ModelRef,
    TagName,
    check_alias,
    check_name,
    claim_ref,
    event_tag,
    parse_ref,
    parse_tag_name,
    parse_version,
    tag_patterns,
    version_tag,
    versioned_operands,
)
from modelreg.errors import InvalidInputError

STAGES = ("staging", "production", "archived")


# --- check_name --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "0", "fraud-detector", "bert.base_v2-final", "x" * 100, "a1.b2_c3-d4"])
def test_check_name_accepts_valid_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "Fraud",
        "A B",
        "a b",
        "-a",
        "a-",
        ".a",
        "a.",
        "_a",
        "a..b",
        "a--b",
        "a._b",
        "../x",
        "a/b",
        "a@b",
        "a#b",
        "a:b",
        "é",
        "ｆｒａｕｄ",  # fullwidth letters: look lowercase, are not ASCII
        " a",
        "a\tb",
    ],
)
def test_check_name_refuses_malformed_stage_names(name: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(f"invalid stage name {name!r}")):
        check_name(name, "stage")


@pytest.mark.parametrize("name", ["../x", "a/b", "a:b", ".", "..", "a\tb", "a\nb", "fraud\n"])
def test_check_name_refuses_what_mlflow_refuses_or_control_characters(name: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(f"invalid model name {name!r}")):
        check_name(name)


@pytest.mark.parametrize(
    "name",
    ["$(id)", "a;rm -rf ~", "`id`", "'x'", '"x"', "a|b", "a&b", "a>b", "~x", "x*", "$HOME", "a\\b", "a\nb"],
)
def test_check_name_refuses_stage_names_a_shell_would_interpret(name: str) -> None:
    with pytest.raises(InvalidInputError, match="use lowercase letters and digits"):
        check_name(name, "stage")


def test_check_name_refuses_a_trailing_newline() -> None:
    with pytest.raises(InvalidInputError):
        check_name("fraud\n")


def test_check_name_refuses_empty_and_says_which_kind() -> None:
    with pytest.raises(InvalidInputError, match=r"^alias name is empty$"):
        check_name("", "alias")
    with pytest.raises(InvalidInputError, match=r"^model name is empty$"):
        check_name("")


def test_check_name_length_limit_is_100() -> None:
    assert check_name("a" * 100) == "a" * 100
    with pytest.raises(InvalidInputError, match="stage name is longer than 100 characters"):
        check_name("a" * 101, "stage")


def test_check_name_error_names_the_kind() -> None:
    with pytest.raises(InvalidInputError, match=r"^invalid stage name 'Prod': "):
        check_name("Prod", "stage")


# --- check_alias --------------------------------------------------------------------------------


@pytest.mark.parametrize("alias", ["champion", "challenger", "v", "v1a", "best-12"])
def test_check_alias_accepts(alias: str) -> None:
    assert check_alias(alias, STAGES) == alias


@pytest.mark.parametrize("alias", ["v12", "12", "v1", "0"])
def test_check_alias_refuses_version_lookalikes(alias: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(f"invalid alias {alias!r}: it looks like a version number")):
        check_alias(alias, STAGES)


def test_check_alias_refuses_a_configured_stage() -> None:
    with pytest.raises(InvalidInputError, match="invalid alias 'production': it is the name of a stage"):
        check_alias("production", STAGES)
    # …but only the stages that are configured.
    assert check_alias("production", ("qa", "archived")) == "production"


def test_check_alias_refuses_latest() -> None:
    with pytest.raises(InvalidInputError, match="'latest': it is reserved"):
        check_alias("latest", STAGES)


def test_check_alias_checks_the_name_first() -> None:
    with pytest.raises(InvalidInputError, match="invalid alias name 'Champion'"):
        check_alias("Champion", STAGES)


# --- parse_version ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [("7", 7), ("v7", 7), (" 12 ", 12), ("v007", 7), ("1", 1)])
def test_parse_version(text: str, expected: int) -> None:
    assert parse_version(text) == expected


@pytest.mark.parametrize("text", ["0", "v0", "-1", "v", "", "7.0", "V7", "vv7", "seven", "7a", "1e3"])
def test_parse_version_refuses(text: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(f"invalid version {text!r}: expected a positive number")):
        parse_version(text)


# --- parse_ref ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fraud", ModelRef("fraud")),
        ("fraud@7", ModelRef("fraud", version=7)),
        ("fraud@v7", ModelRef("fraud", version=7)),
        ("fraud@champion", ModelRef("fraud", alias="champion")),
        ("fraud@latest", ModelRef("fraud")),
        ("fraud/production", ModelRef("fraud", stage="production")),
        ("fraud/7", ModelRef("fraud", version=7)),
        ("fraud/v7", ModelRef("fraud", version=7)),
        ("fraud/latest", ModelRef("fraud")),
        ("models:/fraud/7", ModelRef("fraud", version=7)),
        ("models:/fraud/Production", ModelRef("fraud", stage="production")),
        ("models:/fraud/PRODUCTION", ModelRef("fraud", stage="production")),
        ("models:/fraud/production", ModelRef("fraud", stage="production")),
        ("models:/fraud/latest", ModelRef("fraud")),
        ("models:/fraud/Latest", ModelRef("fraud")),
        ("models:/fraud@champion", ModelRef("fraud", alias="champion")),
        ("models:/fraud@7", ModelRef("fraud", version=7)),
        ("  fraud-detector.v2@v12  ", ModelRef("fraud-detector.v2", version=12)),
    ],
)
def test_parse_ref_forms(text: str, expected: ModelRef) -> None:
    assert parse_ref(text) == expected


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("fraud", "fraud"),
        ("fraud@7", "fraud@v7"),
        ("fraud@champion", "fraud@champion"),
        ("models:/fraud/Production", "fraud/production"),
    ],
)
def test_model_ref_str_is_the_canonical_form(text: str, shown: str) -> None:
    assert str(parse_ref(text)) == shown
    assert parse_ref(shown) == parse_ref(text)


@pytest.mark.parametrize("text", ["fraud/Production", "fraud/PRODUCTION", " fraud/production"])
def test_stage_names_are_case_insensitive_in_every_form(text: str) -> None:
    assert parse_ref(text) == ModelRef("fraud", stage="production")


USAGE = "NAME@VERSION STAGE (or NAME VERSION STAGE)"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["fraud@2", "production"], (ModelRef("fraud", version=2), ["production"])),
        (["fraud", "2", "production"], (ModelRef("fraud", version=2), ["production"])),
        (["fraud", "v2", "production"], (ModelRef("fraud", version=2), ["production"])),
        (["fraud@champion", "production"], (ModelRef("fraud", alias="champion"), ["production"])),
        (["fraud/Staging", "production"], (ModelRef("fraud", stage="staging"), ["production"])),
        (["fraud@2", None], (ModelRef("fraud", version=2), [])),
    ],
)
def test_versioned_operands_take_name_at_n_and_name_n_alike(words, expected) -> None:
    following = 0 if words[-1] is None else 1
    assert versioned_operands(words, following, USAGE) == expected


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["fraud", "production"], "which version of fraud?"),
        (["fraud@2"], "expected NAME@VERSION STAGE"),
        (["fraud@2", "2", "production"], "expected NAME@VERSION STAGE"),
        (["fraud", "two", "production"], "invalid version 'two': expected NAME@VERSION STAGE"),
        (["a:b@2", "production"], "invalid model name 'a:b'"),
    ],
)
def test_versioned_operands_refuse_what_names_no_version(words, message) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        versioned_operands(words, 1, USAGE)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty model reference"),
        ("   ", "empty model reference"),
        ("../x", "invalid reference '../x': invalid model name '..'"),
        ("a:b", "invalid reference 'a:b': invalid model name 'a:b'"),
        ("x@y@z", "invalid reference 'x@y@z': invalid alias name 'y@z'"),
        ("name@", "invalid reference 'name@': nothing after '@'"),
        ("name/", "invalid reference 'name/': nothing after '/'"),
        ("models:/name/", "nothing after '/'"),
        ("@7", "invalid reference '@7': model name is empty"),
        ("/production", "model name is empty"),
        ("name@0", "invalid version '0'"),
        ("name/production/x", "invalid stage name 'production/x'"),
        ("name@champion/x", "invalid alias name 'champion/x'"),
        ("name@Champion", "invalid alias name 'Champion'"),
        ("models:/name", "invalid reference 'models:/name': expected models:/NAME/VERSION"),
        ("models:/", "expected models:/NAME/VERSION, models:/NAME/STAGE or models:/NAME@ALIAS"),
        ("a" * 257, "model name is longer than 256 characters"),
        ("fraud@" + "a" * 101, "alias name is longer than 100 characters"),
        ("a\x01b", "invalid model name 'a\\x01b'"),
        ("fraud@$(id)", "invalid alias name '$(id)'"),
        ("fraud/`id`", "invalid stage name '`id`'"),
        ('"unclosed@1', "no closing"),
        ("fraud@'x'", "invalid alias name"),
        ('fraud/"x"', "invalid stage name"),
    ],
)
def test_parse_ref_refuses_with_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        parse_ref(text)


def test_parse_ref_accepts_a_name_of_exactly_100_characters() -> None:
    assert parse_ref("a" * 100 + "@3") == ModelRef("a" * 100, version=3)


# --- tag names ----------------------------------------------------------------------------------


def test_version_and_event_tag_format() -> None:
    assert version_tag("fraud", 7) == "fraud@v7"
    assert event_tag("fraud", "production", 12) == "fraud#production#12"
    assert claim_ref("fraud", 12) == "refs/modelreg/events/fraud/12"


@pytest.mark.parametrize(("name", "version"), [("fraud", 1), ("fraud-detector.v2", 7), ("a" * 100, 123456)])
def test_version_tag_round_trip(name: str, version: int) -> None:
    tag = version_tag(name, version)
    assert parse_tag_name(tag) == TagName(name, version=version)
    assert parse_tag_name("refs/tags/" + tag) == TagName(name, version=version)


@pytest.mark.parametrize(
    ("name", "target", "seq"), [("fraud", "production", 1), ("fraud", "champion", 42), ("m.x", "a-b", 999)]
)
def test_event_tag_round_trip(name: str, target: str, seq: int) -> None:
    tag = event_tag(name, target, seq)
    assert parse_tag_name(tag) == TagName(name, target=target, seq=seq)
    assert parse_tag_name("refs/tags/" + tag) == TagName(name, target=target, seq=seq)


@pytest.mark.parametrize(
    "text",
    [
        "v1.0.0",
        "x@v1.0",
        "A@v1",
        "x#y",
        "x@7",
        "x@v0",
        "x@v07",
        "x@vv1",
        "x@v",
        "@v1",
        "x#production#0",
        "x#production#01",
        "x#Production#1",
        "X#production#1",
        "x#production#1#2",
        "x#production#",
        "x#a b#1",
        "release-2026",
        "refs/heads/x@v1",
        "refs/tags/refs/tags/x@v1",
        "a/b@v1",
        "a@b@v1",
        "$(id)@v1",
        "",
    ],
)
def test_parse_tag_name_returns_none_for_tags_that_are_not_ours(text: str) -> None:
    assert parse_tag_name(text) is None


def test_tag_patterns() -> None:
    assert tag_patterns("fraud") == ["refs/tags/fraud@v*", "refs/tags/fraud#*#*"]
    assert tag_patterns(None) == ["refs/tags/*@v*", "refs/tags/*#*#*"]
