"""Model names ↔ keys (core.names): any name MLflow accepts round-trips through refs and paths."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelreg.core import names
from modelreg.core.refs import (
    ModelRef,
    TagName,
    claim_ref,
    event_tag,
    parse_ref,
    parse_tag_name,
    tag_patterns,
    version_tag,
)
from modelreg.errors import InvalidInputError
from modelreg.formats.manifest import manifest_path

MLFLOW_NAMES = [
    "ElasticnetWineModel",
    "sk-learn-random-forest-reg-model",
    "SetRegisteredModelTag_TestMod 2",
    "RM001",
    "CreateRMTest",
    "Fraud",
    "fraud",
    "a..b",
    "-lead",
    "trail.",
    ".hidden",
    "x.lock",
    "ünïcode ☃",
    "a+b%c",
    "at@sign#hash",
    '"quoted"',
]
KEY_CHARS = re.compile(r"^[a-z0-9._+-]+$")


@pytest.mark.parametrize("name", ["fraud-detector", "sk-learn-random-forest-reg-model", "bert.base_v2-final", "a"])
def test_a_lowercase_slug_is_its_own_key_so_existing_registries_keep_their_refs(name: str) -> None:
    assert names.encode(name) == name
    assert version_tag(name, 3) == f"{name}@v3"
    assert manifest_path(name, 3) == f".modelreg/models/{name}/v3.yaml"


@pytest.mark.parametrize("name", MLFLOW_NAMES)
def test_mlflow_names_round_trip_through_every_ref_and_path(name: str) -> None:
    key = names.encode(name)
    assert KEY_CHARS.fullmatch(key), key
    assert names.decode(key) == name
    assert parse_tag_name(version_tag(name, 7)) == TagName(name, version=7)
    assert parse_tag_name("refs/tags/" + event_tag(name, "production", 12)) == TagName(
        name, target="production", seq=12
    )
    assert claim_ref(name, 3) == f"refs/modelreg/events/{key}/3"
    assert tag_patterns(name)[0] == f"refs/tags/{key}@v*"


def test_names_differing_only_in_case_never_share_a_key_even_folded() -> None:
    keys = {names.encode(n).lower() for n in ["Fraud", "fraud", "FRAUD", "fRaUd"]}
    assert len(keys) == 4
    assert names.encode("ElasticnetWineModel") == "+elasticnet+wine+model"


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(min_size=1, max_size=40))
def test_any_accepted_name_round_trips_and_keys_are_injective_case_insensitively(text: str) -> None:
    if names.model_name_problem(text) is not None:
        return
    key = names.encode(text)
    assert KEY_CHARS.fullmatch(key)
    assert key == key.lower()
    assert names.decode(key) == text


@pytest.mark.parametrize("key", ["Fraud", "+F", "+999", "+256", "a b", "+0", "+195", "+102raud"])
def test_a_key_that_is_not_canonical_names_no_model(key: str) -> None:
    assert names.decode(key) is None
    assert parse_tag_name(f"{key}@v1") is None


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "model name is empty"),
        ("   ", "model name is empty"),
        ("a/b", "cannot contain '/' or ':'"),
        ("models:x", "cannot contain '/' or ':'"),
        ("..", "invalid model name '..'"),
        ("a\nb", "invalid model name"),
        ("A" * 100, "too long for git refs"),
        ("a" * 257, "longer than 256 characters"),
    ],
)
def test_names_mlflow_refuses_or_refs_cannot_hold_are_refused(name: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        names.check_model_name(name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ElasticnetWineModel@1", ModelRef("ElasticnetWineModel", version=1)),
        ("SetRegisteredModelTag_TestMod 2@v2", ModelRef("SetRegisteredModelTag_TestMod 2", version=2)),
        ("models:/ElasticnetWineModel/Production", ModelRef("ElasticnetWineModel", stage="production")),
        ('"at@sign"@champion', ModelRef("at@sign", alias="champion")),
        ('"say ""hi"""/staging', ModelRef('say "hi"', stage="staging")),
        ('" padded "', ModelRef(" padded ")),
    ],
)
def test_references_address_any_name_plain_or_quoted(text: str, expected: ModelRef) -> None:
    assert parse_ref(text) == expected
    assert parse_ref(str(expected)) == expected
