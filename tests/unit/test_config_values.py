"""`.modelreg/config.yaml` (DESIGN §2, modelreg.formats.config) and KEY=VALUE options (modelreg.core.values)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from modelreg.core import values
from modelreg.errors import ConfigError, InvalidInputError
from modelreg.formats import config
from modelreg.formats.config import Config, check_store_url

SOURCE = ".modelreg/config.yaml"


def refused(text: str, message: str) -> None:
    """from_yaml refuses `text` with exactly `SOURCE: message`."""
    with pytest.raises(ConfigError, match=f"^{re.escape(f'{SOURCE}: {message}')}$"):
        config.from_yaml(text)


# --- from_yaml ----------------------------------------------------------------------------------


def test_defaults() -> None:
    loaded = config.from_yaml("modelreg: 1\n")
    assert loaded == Config(
        store=".modelreg/store",
        stages=("staging", "production", "archived"),
        single_holder=("production",),
        review_required=(),
        store_options={},
    )
    assert loaded == Config()


def test_explicit_nulls_mean_defaults() -> None:
    text = "modelreg: 1\nstore:\nstages:\nsingle_holder:\nreview_required:\nstore_options:\n"
    assert config.from_yaml(text) == Config()


def test_full_config() -> None:
    text = """\
modelreg: 1
store: s3://ml-models/registry     # a comment
stages: [dev, qa, production, archived]
single_holder: [production, qa]
review_required: [production]
store_options: {anon: false, endpoint_url: 'http://localhost:9000'}
"""
    assert config.from_yaml(text) == Config(
        store="s3://ml-models/registry",
        stages=("dev", "qa", "production", "archived"),
        single_holder=("production", "qa"),
        review_required=("production",),
        store_options={"anon": False, "endpoint_url": "http://localhost:9000"},
    )


def test_no_production_stage_means_no_default_single_holder() -> None:
    loaded = config.from_yaml("modelreg: 1\nstages: [dev, live]\n")
    assert loaded.stages == ("dev", "live")
    assert loaded.single_holder == ()


def test_stage_called_no_is_just_a_name() -> None:
    # Strict YAML: `no` is the string "no", a valid stage name, not False.
    assert config.from_yaml("modelreg: 1\nstages: [staging, no]\n").stages == ("staging", "no")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("store: x\n", "key 'modelreg' is missing"),
        ("modelreg: 2\n", "key 'modelreg' must be 1 (this modelreg reads config format 1)"),
        ("modelreg: true\n", "key 'modelreg' must be an integer, not True"),
        ("modelreg: '1'\n", "key 'modelreg' must be an integer, not '1'"),
        # bools where lists belong
        ("modelreg: 1\nsingle_holder: no\n", "key 'single_holder' must be a list, not 'no'"),
        ("modelreg: 1\nreview_required: false\n", "key 'review_required' must be a list, not False"),
        ("modelreg: 1\nstages: true\n", "key 'stages' must be a list, not True"),
        ("modelreg: 1\nstages: [staging, false]\n", "key 'stages' must list strings, not False"),
        ("modelreg: 1\nreview_required: [true]\n", "key 'review_required' must list strings, not True"),
        ("modelreg: 1\nstages: [staging, 12]\n", "key 'stages' must list strings, not 12"),
        ("modelreg: 1\nstages: staging\n", "key 'stages' must be a list, not 'staging'"),
        # stage names
        ("modelreg: 1\nstages: []\n", "key 'stages' must list at least one stage"),
        ("modelreg: 1\nstages: [v1, archived]\n", "key 'stages' has 'v1', which reads as a version"),
        ("modelreg: 1\nstages: ['12', archived]\n", "key 'stages' has '12', which reads as a version"),
        ("modelreg: 1\nstages: [latest, archived]\n", "key 'stages' has 'latest', which reads as a version"),
        ("modelreg: 1\nstages: [qa, qa, archived]\n", "key 'stages' lists a stage twice"),
        ("modelreg: 1\nsingle_holder: [production, production]\n", "key 'single_holder' lists a stage twice"),
        # subsets of the stages
        ("modelreg: 1\nsingle_holder: [qa]\n", "key 'single_holder' names stages that are not in 'stages': qa"),
        (
            "modelreg: 1\nreview_required: [qa, production, live]\n",
            "key 'review_required' names stages that are not in 'stages': qa, live",
        ),
        (
            "modelreg: 1\nstages: [staging, production]\n",
            "key 'stages' must include 'archived' when 'single_holder' is set",
        ),
        # store
        ("modelreg: 1\nstore: 12\n", "key 'store' must be a string, not 12"),
        ("modelreg: 1\nstore: ''\n", "the store URL is empty"),
        ("modelreg: 1\nstore_options: [1]\n", "key 'store_options' must be a mapping, not [1]"),
        ("- modelreg\n", "the document must be a mapping"),
    ],
)
def test_invalid_config_names_the_file_and_key(text: str, message: str) -> None:
    refused(text, message)


def test_archived_is_not_required_without_single_holder() -> None:
    loaded = config.from_yaml("modelreg: 1\nstages: [staging, production]\nsingle_holder: []\n")
    assert loaded.single_holder == ()
    assert loaded.stages == ("staging", "production")


@pytest.mark.parametrize("stage", ["Prod", "pre prod", "$(id)", "a/b"])
def test_invalid_stage_names_are_refused(stage: str) -> None:
    with pytest.raises(ConfigError, match=f"^{re.escape(f'{SOURCE}: invalid stage name {stage!r}')}"):
        config.from_yaml(f"modelreg: 1\nstages: [{stage!r}, archived]\n")


def test_yaml_strictness_applies_to_config() -> None:
    with pytest.raises(ConfigError, match=r"^cfg\.yaml: invalid YAML \(line 3\): duplicate key 'store'$"):
        config.from_yaml("modelreg: 1\nstore: a\nstore: b\n", "cfg.yaml")


def test_credentials_in_the_store_are_refused_with_the_file_name() -> None:
    with pytest.raises(ConfigError, match=f"^{re.escape(SOURCE)}: the store URL contains credentials"):
        config.from_yaml("modelreg: 1\nstore: 's3://KEY:SECRET@bucket/x'\n")


def test_check_stage() -> None:
    cfg = Config()
    assert cfg.check_stage("production") == "production"
    with pytest.raises(InvalidInputError, match=r"^unknown stage 'qa': the configured stages are staging, production"):
        cfg.check_stage("qa")
    with pytest.raises(InvalidInputError, match="invalid stage name 'Production'"):
        cfg.check_stage("Production")


# --- to_yaml ↔ from_yaml ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cfg",
    [
        Config(),
        Config(store="s3://ml-models/registry", review_required=("production",)),
        Config(stages=("dev", "live"), single_holder=()),
        Config(
            store="../shared store/with spaces",
            stages=("no", "yes", "on", "archived"),
            single_holder=("yes",),
            review_required=("no", "on"),
            store_options={"anon": False, "endpoint_url": "http://localhost:9000", "version_aware": "true"},
        ),
    ],
)
def test_round_trip(cfg: Config) -> None:
    assert config.from_yaml(config.to_yaml(cfg)) == cfg


def test_to_yaml_text() -> None:
    assert config.to_yaml(Config()) == (
        "modelreg: 1\n"
        "store: .modelreg/store\n"
        "stages:\n- staging\n- production\n- archived\n"
        "single_holder:\n- production\n"
        "review_required: []\n"
    )


# --- check_store_url ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "s3://KEY:SECRET@bucket/x",
        "s3://KEY@bucket/x",
        "https://u:p@host/x",
        "gs://token@bucket/path",
        "sftp://user:pw@host:22/store",
    ],
)
def test_store_url_with_credentials_is_refused(url: str) -> None:
    with pytest.raises(InvalidInputError, match=r"^the store URL contains credentials \(user:secret@\)"):
        check_store_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "az://c/x?sig=abc",
        "az://c/x?sv=2022-11-02&SIG=abc",
        "https://host/x?X-Amz-Signature=abc&X-Amz-Credential=k",
        "https://host/x?token=t",
        "s3://b/x?access_token=t",
        "abfs://c/x?account_key=k",
    ],
)
def test_store_url_with_a_secret_in_the_query_is_refused(url: str) -> None:
    with pytest.raises(InvalidInputError, match=r"^the store URL carries a secret in its query string"):
        check_store_url(url)


def test_store_url_with_a_slash_in_the_secret_is_refused() -> None:
    # AWS secret access keys are base64-like and often contain '/'.
    with pytest.raises(InvalidInputError):
        check_store_url("s3://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY@bucket/registry")


@pytest.mark.parametrize(
    "url",
    [
        "s3://ml-models/registry",
        "gs://bucket/path/to/store",
        "az://container/registry",
        "https://example.com/store",
        "https://example.com/store?versionId=3",
        "file:///srv/modelreg/store",
        "memory://store",
        ".modelreg/store",
        "../shared/store",
        "/srv/modelreg/store",
        "store@v2",  # an '@' in a relative path is not a credential
    ],
)
def test_plain_store_urls_and_paths_are_accepted(url: str) -> None:
    assert check_store_url(url) == url


@pytest.mark.parametrize("url", ["", "   "])
def test_empty_store_url_is_refused(url: str) -> None:
    with pytest.raises(InvalidInputError, match=r"^the store URL is empty$"):
        check_store_url(url)


# --- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", 7),
        ("-3", -3),
        ("0", 0),
        ("007", "007"),
        ("0.5", 0.5),
        ("1.10", 1.1),
        ("1e3", 1000.0),
        ("-2.5e-3", -0.0025),
        ("true", True),
        ("True", True),
        ("FALSE", False),
        ("false", False),
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("nan", "nan"),
        ("NaN", "NaN"),
        ("inf", "inf"),
        ("-inf", "-inf"),
        ("Infinity", "Infinity"),
        ("1e400", "1e400"),
        ("", ""),
        ("adam", "adam"),
        ("0x10", "0x10"),
        ("2026-01-01", "2026-01-01"),
        ("1.2.3", "1.2.3"),
        ("null", "null"),
        ("v7", "v7"),
    ],
)
def test_coerce(text: str, expected: Any) -> None:
    result = values.coerce(text)
    assert result == expected
    assert type(result) is type(expected)


def test_parse_pairs() -> None:
    pairs = ["lr=0.01", "depth=6", "early_stop=true", "solver=adam", "expr=a=b=c", "empty=", " spaced = 2"]
    assert values.parse_pairs(pairs, "--param") == {
        "lr": 0.01,
        "depth": 6,
        "early_stop": True,
        "solver": "adam",
        "expr": "a=b=c",
        "empty": "",
        "spaced": 2,
    }


@pytest.mark.parametrize("option", ["--param", "--metric", "--tag"])
def test_parse_pairs_refuses_a_key_given_twice(option: str) -> None:
    with pytest.raises(InvalidInputError, match=rf"{option} auc is given twice"):
        values.parse_pairs(["auc=0.9", "b=2", " auc =0.95"], option)


@pytest.mark.parametrize("key", ["a", "A_b", "_x", "0", "model.lr", "layer/0/dropout", "x-y", "a.b-c/d_e"])
def test_parse_pairs_accepts_keys(key: str) -> None:
    assert values.parse_pairs([f"{key}=1"], "--param") == {key: 1}


KEY_PROBLEM = "the key must be letters, digits, '_', '.', '-' or '/'"


@pytest.mark.parametrize(
    ("pair", "problem"),
    [
        ("lr", "expected KEY=VALUE"),
        ("", "expected KEY=VALUE"),
        ("=1", KEY_PROBLEM),
        ("  =1", KEY_PROBLEM),
        ("a b=1", KEY_PROBLEM),
        ("-x=1", KEY_PROBLEM),
        (".x=1", KEY_PROBLEM),
        ("$(id)=1", KEY_PROBLEM),
        ("a;b=1", KEY_PROBLEM),
        ("é=1", KEY_PROBLEM),
    ],
)
def test_parse_pairs_refuses(pair: str, problem: str) -> None:
    with pytest.raises(InvalidInputError, match=f"^{re.escape(f'--param {pair!r}: {problem}')}$"):
        values.parse_pairs([pair], "--param")


def test_parse_pairs_names_the_option() -> None:
    with pytest.raises(InvalidInputError, match=r"^--metric 'auc': expected KEY=VALUE$"):
        values.parse_pairs(["auc=0.9", "auc"], "--metric")
