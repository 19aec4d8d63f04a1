"""Strict YAML (modelreg.formats.yamlio) and version manifests (DESIGN §2, modelreg.formats.manifest)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from modelreg.errors import ConfigError, InvalidInputError
from modelreg.formats import manifest, yamlio, yamlstrict
from modelreg.models import Artifact, ArtifactFile, Lineage, Manifest, Training

SOURCE = ".modelreg/models/fraud/v7.yaml"

# --- strict loading -----------------------------------------------------------------------------


def test_load_plain_document() -> None:
    assert yamlio.load("a: 1\nb: [x, 2.5]\nc: {d: null}\n", "f.yaml") == {"a": 1, "b": ["x", 2.5], "c": {"d": None}}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: 1\nb: 2\na: 3\n", 3),
        ("a:\n  b: 1\n  b: 2\n", 3),
        ("a: {b: 1, b: 2}\n", 1),
        ("a: 1\n'a': 2\n", 2),
        ("- x: 1\n  y: 2\n  x: 3\n", 3),
    ],
)
def test_duplicate_keys_are_refused(text: str, line: int) -> None:
    with pytest.raises(ConfigError, match=rf"^f\.yaml: invalid YAML \(line {line}\): duplicate key '[ab x]'"):
        yamlio.load(text, "f.yaml")


ALIAS_BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


@pytest.mark.parametrize(
    "text", [ALIAS_BOMB, "a: &x 1\nb: *x\n", "a: &x 1\n", "- &x {k: v}\n", "base: &b {x: 1}\nd:\n  <<: *b\n"]
)
def test_anchors_and_aliases_are_refused(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^f\.yaml: invalid YAML \(line 1\): anchors and aliases are not allowed$"):
        yamlio.load(text, "f.yaml")


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("no", "no"),
        ("No", "No"),
        ("yes", "yes"),
        ("on", "on"),
        ("OFF", "OFF"),
        ("y", "y"),
        ("true", True),
        ("False", False),
        ("2026-01-01", "2026-01-01"),
        ("2026-11-23T10:00:00Z", "2026-11-23T10:00:00Z"),
        ("2026-11-23 10:00:00", "2026-11-23 10:00:00"),
        ("1.10", 1.1),
        ("10", 10),
        ("null", None),
        ("~", None),
        ("'no'", "no"),
        ("'1.10'", "1.10"),
    ],
)
def test_scalars_resolve_strictly(scalar: str, value: Any) -> None:
    loaded = yamlio.load(f"k: {scalar}\n", "f.yaml")["k"]
    assert loaded == value
    assert type(loaded) is type(value)


def test_syntax_error_names_the_source_and_line() -> None:
    # The wording is the parser's: PyYAML's ("here") or libyaml's ("in this context").
    wording = "mapping values are not allowed (here|in this context)"
    with pytest.raises(ConfigError, match=rf"^cfg\.yaml: invalid YAML \(line 3\): {wording}$"):
        yamlio.load("a: 1\nb: 2\nc: d: e\n", "cfg.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "? [a, b]\n: 1\n",  # TypeError: the duplicate-key check hashes an unhashable key
        "a: !!int abc\n",  # ValueError
        "a: !!bool maybe\n",  # KeyError
        "a: !!timestamp soon\n",  # AttributeError
    ],
)
def test_odd_but_parseable_yaml_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^f\.yaml: "):
        yamlio.load(text, "f.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: caf\ufffd\n", "invalid YAML (line 2): not UTF-8 text"),
        ('a: "\\ud800"\n', "invalid YAML (line 1): "),  # libyaml refuses the escape, PyYAML the surrogate
        ('? "\\udcff"\n: 1\n', "invalid YAML (line 1): "),
        ("a: " + "[" * 65 + "]" * 65 + "\n", "invalid YAML (line 1): nested deeper than 64 levels"),
        ("a: " + "[" * 3000 + "]" * 3000 + "\n", "invalid YAML (line 1): nested deeper than 64 levels"),
        ("- " * 3000 + "x\n", "invalid YAML (line 1): nested deeper than 64 levels"),
    ],
)
def test_hostile_text_is_a_config_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"^f\\.yaml: {re.escape(message)}"):
        yamlio.load(text, "f.yaml")


def test_nesting_up_to_the_limit_loads() -> None:
    assert yamlio.load("[" * 64 + "]" * 64, "f.yaml") == json.loads("[" * 64 + "]" * 64)


# --- dumping: load(dump(x)) == x ----------------------------------------------------------------

TRICKY_STRINGS = [
    *("no", "No", "NO", "yes", "Yes", "on", "ON", "off", "y", "n", "true", "True", "FALSE", "false"),
    *("null", "Null", "NULL", "~", "", " ", "=", "<<", "-", "?", ":", "|", ">", "!", "&a", "*a", "%x", "@x", "`x"),
    *("1.10", "1.0", "10", "007", "-0", "+1", ".5", "1.", "1e3", "1E-3", "0x1F", "0o17", "0b101", "1_000", "1,000"),
    *(".inf", "-.Inf", ".NaN", "nan", "inf", "1:30", "190:20:30", "12:00"),
    *("2026-01-01", "2026-11-23T10:00:00Z", "2026-11-23 10:00:00", "2026-1-1"),
    *("- a", "? x", ": x", "a: b", "#x", "x #y", "'", '"', "''", "\\", "[", "]", "{", "}", ",", "a,b", "{a: 1}"),
    *(" lead", "trail ", "\t", "a\tb", "line\nbreak", "trail\n", "\n", "\r", "a\r\nb", "\x00", "\x7f", "\x1b[0m"),
    *("é", "日本語", "😀", "\u2028", "\u2029", "\ufeff", "a\u2028\nb"),
    *("sha256:" + "0" * 64, "s3://bucket/p@v3", "Jane Doe <jane@example.com>", "word " * 2000),
]


@pytest.mark.parametrize("text", TRICKY_STRINGS)
def test_dump_load_round_trips_strings(text: str) -> None:
    for data in (text, {"k": text}, {text: "v"}, [text], {"files": [yamlio.FlowMap(path=text, size=1)]}):
        assert yamlio.load(yamlio.dump(data), "x") == data


@pytest.mark.parametrize("text", ["no", "true", "1.10", "2026-01-01", "null", "10"])
def test_dump_quotes_strings_that_could_be_coerced(text: str) -> None:
    assert yamlio.dump({"k": text}) == f"k: '{text}'\n"


def test_dump_load_round_trips_next_line_character() -> None:
    data = {"description": "first\x85second"}
    assert yamlio.load(yamlio.dump(data), "x") == data


@pytest.mark.parametrize(
    "value",
    [0, -7, 2**70, 1.1, -0.0, 1e-300, 1e300, float("inf"), True, False, None, [], {}, [1, [2, [3]]], {"a": {"b": [1]}}],
)
def test_dump_load_round_trips_other_values(value: Any) -> None:
    assert yamlio.load(yamlio.dump({"k": value}), "x") == {"k": value}


def test_dump_escapes_a_replacement_character_so_it_reads_back() -> None:
    data = {"description": "caf\ufffd é"}
    text = yamlio.dump(data)
    assert "\ufffd" not in text and yamlio.load(text, "x") == data


@pytest.mark.parametrize("value", ["\udcff", "ok \ud800", {"k\udce9": 1}])
def test_dump_refuses_a_lone_surrogate(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="is not Unicode text: it holds a lone surrogate"):
        yamlio.dump({"description": value})


def test_dump_keeps_insertion_order_and_writes_flow_maps_on_one_line() -> None:
    text = yamlio.dump({"z": 1, "a": 2, "files": [yamlio.FlowMap(path="m.pkl", size=3)]})
    assert text == "z: 1\na: 2\nfiles:\n- {path: m.pkl, size: 3}\n"


# --- manifests ----------------------------------------------------------------------------------

HEX_A, HEX_B, HEX_C = "a" * 64, "b" * 64, "0123456789abcdef" * 4


def sample_manifest(**changes: Any) -> Manifest:
    base = Manifest(
        name="fraud",
        version=7,
        created_at="2026-11-23T10:00:00Z",
        created_by="Jane Doe <jane@example.com>",
        description="Tuned with RandomizedSearchCV",
        artifact=Artifact(
            store="s3://ml-models/registry",
            digest=f"sha256:{HEX_C}",
            size=30,
            files=(
                ArtifactFile("config.json", f"sha256:{HEX_A}", 10),
                ArtifactFile("weights/model.pkl", f"sha256:{HEX_B}", 20),
            ),
        ),
        params={"lr": 0.01, "depth": 6, "solver": "no", "version": "1.10", "on": True},
        metrics={"auc": 0.923, "loss": 1e-05},
        lineage=Lineage(
            code_commit="d" * 40,
            code_dirty=True,
            dataset="s3://data/fraud@v3",
            run_id="2026-01-01",
            parent="fraud@v6",
        ),
        training=Training(duration_s=3600.5, hardware="1x A100"),
        tags={"team": "risk", "null": "null"},
        extra={"x-owner": {"team": "risk", "oncall": ["a", "b"]}, "notes": "yes"},
    )
    return base._replace(**changes)


def test_manifest_round_trip() -> None:
    original = sample_manifest()
    assert manifest.from_yaml(manifest.to_yaml(original), SOURCE) == original


def test_minimal_manifest_round_trip() -> None:
    original = Manifest(
        name="m",
        version=1,
        created_at="2026-01-01T00:00:00Z",
        created_by="ci",
        artifact=Artifact("store", f"sha256:{HEX_A}", 5, (ArtifactFile("model.bin", f"sha256:{HEX_A}", 5),)),
    )
    loaded = manifest.from_yaml(manifest.to_yaml(original), SOURCE)
    assert loaded == original
    assert loaded.artifact.is_single_file
    assert loaded.lineage == Lineage()
    assert loaded.training == Training()


def test_manifest_keys_are_written_in_design_order_with_unknown_keys_after() -> None:
    text = manifest.to_yaml(sample_manifest())
    top = [line.split(":")[0] for line in text.splitlines() if not line.startswith((" ", "-"))]
    assert top == [
        *("schema", "name", "version", "created_at", "created_by", "description", "artifact"),
        *("params", "metrics", "lineage", "training", "tags", "x-owner", "notes"),
    ]
    assert text.startswith("schema: modelreg/manifest/v1\nname: fraud\nversion: 7\n")
    assert "\ncreated_at: '2026-11-23T10:00:00Z'\n" in text
    artifact = yamlio.load(text, SOURCE)["artifact"]
    assert list(artifact) == ["store", "digest", "size", "files"]
    assert [list(f) for f in artifact["files"]] == [["path", "digest", "size"]] * 2
    assert list(yamlio.load(text, SOURCE)["lineage"]) == ["code_commit", "code_dirty", "dataset", "run_id", "parent"]


def test_unknown_keys_are_preserved_in_order() -> None:
    data = manifest.to_dict(sample_manifest(extra={}))
    data["zeta"] = 1
    data["alpha"] = {"nested": [1, 2]}
    loaded = manifest.from_yaml(yamlio.dump(data), SOURCE)
    assert list(loaded.extra.items()) == [("zeta", 1), ("alpha", {"nested": [1, 2]})]
    assert yamlio.load(manifest.to_yaml(loaded), SOURCE) == data


def test_manifest_path() -> None:
    assert manifest.manifest_path("fraud", 7) == ".modelreg/models/fraud/v7.yaml"


def manifest_text(**overrides: Any) -> str:
    """The sample manifest's YAML, with top-level keys set (or removed, when the value is ...)."""
    data = manifest.to_dict(sample_manifest())
    for key, value in overrides.items():
        if value is ...:
            del data[key]
        else:
            data[key] = value
    return yamlio.dump(data)


def artifact_with(**file_changes: Any) -> dict[str, Any]:
    entry = {"path": "model.pkl", "digest": f"sha256:{HEX_A}", "size": 3, **file_changes}
    return {"store": "s", "digest": f"sha256:{HEX_A}", "size": 3, "files": [entry]}


def refused(text: str, message: str) -> None:
    """from_yaml refuses `text` with an error that starts with the file name and then `message`."""
    with pytest.raises(ConfigError, match=f"^{re.escape(f'{SOURCE}: {message}')}"):
        manifest.from_yaml(text, SOURCE)


def test_version_1_10_is_a_float_and_refused() -> None:
    text = manifest_text().replace("\nversion: 7\n", "\nversion: 1.10\n")
    refused(text, "key 'version' must be an integer, not 1.1")


@pytest.mark.parametrize("key", ["schema", "name", "version", "created_at", "created_by"])
def test_missing_key(key: str) -> None:
    refused(manifest_text(**{key: ...}), f"key '{key}' is missing")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"version": "7"}, "key 'version' must be an integer, not '7'"),
        ({"version": True}, "key 'version' must be an integer, not True"),
        ({"version": 0}, "key 'version' must be a positive integer"),
        ({"name": 7}, "key 'name' must be a string, not 7"),
        ({"name": "fraud/detector"}, "key 'name' is not a valid model name: 'fraud/detector'"),
        ({"created_at": 20261123}, "key 'created_at' must be a string"),
        ({"description": ["a"]}, "key 'description' must be a string"),
        ({"params": [1, 2]}, "key 'params' must be a mapping, not [1, 2]"),
        ({"params": {"lr": [0.1]}}, "key 'params.lr' must be a single value"),
        ({"metrics": {"auc": {"x": 1}}}, "key 'metrics.auc' must be a single value"),
        ({"tags": {1: "x"}}, "key 'tags' must have string keys, not 1"),
        ({"lineage": {"code_dirty": "yes"}}, "key 'lineage.code_dirty' must be true or false, not 'yes'"),
        ({"lineage": {"code_commit": 123}}, "key 'lineage.code_commit' must be a string"),
        ({"training": {"duration_s": "1h"}}, "key 'training.duration_s' must be a number, not '1h'"),
        ({"lineage": "HEAD"}, "lineage must be a mapping"),
        ({"artifact": ...}, "key 'artifact.files' is missing"),
        ({"artifact": {**artifact_with(), "size": "3"}}, "key 'artifact.size' must be an integer, not '3'"),
        ({"artifact": {**artifact_with(), "files": []}}, "key 'artifact.files' must list at least one file"),
        ({"artifact": {**artifact_with(), "files": ["model.pkl"]}}, "artifact.files[0] must be a mapping"),
        ({"artifact": artifact_with(size=None)}, "key 'artifact.files[0].size' must be an integer"),
        ({"artifact": {k: v for k, v in artifact_with().items() if k != "store"}}, "key 'artifact.store' is missing"),
    ],
)
def test_invalid_values_name_the_file_and_key(overrides: dict[str, Any], message: str) -> None:
    refused(manifest_text(**overrides), message)


@pytest.mark.parametrize(
    "digest",
    [
        HEX_A,
        f"sha256:{HEX_A[:-1]}",
        f"sha256:{HEX_A}0",
        f"sha256:{HEX_A.upper()}",
        f"SHA256:{HEX_A}",
        f"md5:{HEX_A}",
        f"sha256:{'g' * 64}",
        f"sha256: {HEX_A[1:]}",
        "",
    ],
)
def test_bad_digest(digest: str) -> None:
    problem = f"must be 'sha256:' and 64 lowercase hex digits, not {digest!r}"
    refused(manifest_text(artifact={**artifact_with(), "digest": digest}), f"key 'artifact.digest' {problem}")
    refused(manifest_text(artifact=artifact_with(digest=digest)), f"key 'artifact.files[0].digest' {problem}")


@pytest.mark.parametrize(
    "path",
    [
        *("/etc/passwd", "../x", "a/../../b", "..", ".", "./a", "a/./b", "a//b", "a/", "", "a\\b", "..\\x"),
        *("a\0b", "model.pkl\0/../../x", "a\nb", "a\r", "\x1b[31mred", "a\x7f", "a\x85b", "\t"),
    ],
)
def test_unsafe_artifact_paths_are_refused(path: str) -> None:
    expected = f"key 'artifact.files[0].path' must be a relative path inside the artifact, not {path!r}"
    refused(manifest_text(artifact=artifact_with(path=path)), expected)


@pytest.mark.parametrize(
    "path", ["model.pkl", "a/b/c.bin", "..a", "a..", "dir.d/x", "weights/..hidden", " spaced name"]
)
def test_safe_artifact_paths(path: str) -> None:
    assert manifest.is_safe_relative_path(path)
    loaded = manifest.from_yaml(manifest_text(artifact=artifact_with(path=path)), SOURCE)
    assert loaded.artifact.files[0].path == path


def files_artifact(*files: tuple[str, int], size: int | None = None) -> dict[str, Any]:
    entries = [{"path": path, "digest": f"sha256:{HEX_A}", "size": n} for path, n in files]
    total = sum(n for _, n in files) if size is None else size
    return {"store": "s", "digest": f"sha256:{HEX_A}", "size": total, "files": entries}


@pytest.mark.parametrize(
    ("paths", "clash"),
    [
        (["a", "a/b"], ("a", "a/b")),
        (["a/b/c", "a/b"], ("a/b", "a/b/c")),
        (["x", "d/e", "d/e/f/g"], ("d/e", "d/e/f/g")),
    ],
)
def test_a_path_that_is_both_a_file_and_a_directory_is_refused(paths: list[str], clash: tuple[str, str]) -> None:
    artifact = files_artifact(*((p, 1) for p in paths))
    refused(manifest_text(artifact=artifact), f"key 'artifact.files' lists {clash[0]!r} as a file and as a directory")


def test_paths_that_share_a_prefix_but_not_a_directory_are_fine() -> None:
    artifact = files_artifact(("a", 1), ("ab/c", 1), ("a.d/e", 1), ("b/a", 1))
    assert len(manifest.from_yaml(manifest_text(artifact=artifact), SOURCE).artifact.files) == 4


@pytest.mark.parametrize("size", [-1, 2**63, 10**38])
def test_sizes_outside_0_to_2_63_are_refused(size: int) -> None:
    problem = f"must be a number of bytes from 0 to 2**63 - 1, not {size}"
    refused(manifest_text(artifact=files_artifact(("m", 5), size=size)), f"key 'artifact.size' {problem}")
    refused(manifest_text(artifact=files_artifact(("m", size))), f"key 'artifact.files[0].size' {problem}")


def test_the_largest_size_is_fine() -> None:
    artifact = files_artifact(("a", 2**63 - 1), ("b", 0))
    assert manifest.from_yaml(manifest_text(artifact=artifact), SOURCE).artifact.size == 2**63 - 1


@pytest.mark.parametrize("version", [2**63, 10**38])
def test_a_version_beyond_64_bits_is_refused(version: int) -> None:
    refused(manifest_text(version=version), "key 'version' must be a positive integer")


def test_a_duration_too_large_for_a_float_is_refused() -> None:
    refused(manifest_text(training={"duration_s": 10**400}), "key 'training.duration_s' is too large a number")


@pytest.mark.parametrize("schema", ["modelreg/manifest/v2", "modelreg/manifest/v0", "other"])
def test_unknown_schema(schema: str) -> None:
    refused(manifest_text(schema=schema), f"key 'schema' is {schema!r}; this modelreg reads modelreg/manifest/v1")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n"])
def test_document_that_is_not_a_mapping(text: str) -> None:
    refused(text, "the document must be a mapping")


def test_empty_document() -> None:
    refused("", "the document must be a mapping")


def test_yaml_errors_in_a_manifest_name_the_file_and_line() -> None:
    text = manifest_text() + "name: other\n"
    refused(text, f"invalid YAML (line {text.count(chr(10))}): duplicate key 'name'")


def test_check_manifest_matches() -> None:
    m = sample_manifest()
    manifest.check_manifest_matches(m, "fraud", 7, SOURCE)
    with pytest.raises(ConfigError, match=f"^{re.escape(SOURCE)}: holds fraud v7, expected fraud v8$"):
        manifest.check_manifest_matches(m, "fraud", 8, SOURCE)
    with pytest.raises(ConfigError, match="holds fraud v7, expected other v7"):
        manifest.check_manifest_matches(m, "other", 7, SOURCE)


@pytest.mark.parametrize("text", ["1e999", "0o17", "0x1F", ".5e3", "+.inf", ".NaN", "NULL", "~", "1_000"])
def test_strings_a_yaml_1_2_reader_would_coerce_are_quoted(text: str) -> None:
    dumped = yamlio.dump({"v": text})
    assert dumped in (f"v: '{text}'\n", f'v: "{text}"\n')
    assert yamlio.load(dumped, "x") == {"v": text}


LOADER_CASES = [
    "schema: modelreg/manifest/v1\nname: fraud\nversion: 3\nmetrics: {auc: 0.91, loss: 1e-3}\ntags: [a, b]\n",
    "a: no\nb: yes\nc: 2024-01-01\nd: true\ne: ~\nf: '007'\ng: 0o17\nh: .inf\n",
    "a: 1\na: 2\n",
    "a: &x 1\nb: *x\n",
    "[1, 2]: x\n",
    "a: " + "[" * 65 + "]" * 65 + "\n",
    "a: " + "[" * 64 + "]" * 64 + "\n",
    "a: !!int abc\n",
    "a: 1\n---\nb: 2\n",
    "description: |\n  two\n  lines\n",
    "a: b: c\n",
    "",
]


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml reads with the Python loader only")
@pytest.mark.parametrize("text", LOADER_CASES)
def test_libyaml_loader_reads_as_the_python_one(text: str) -> None:
    """The loader used (libyaml's scanner) takes and refuses what the pure-Python strict loader does."""

    def outcome(loader: Any) -> object:
        try:
            return ("data", yaml.load(text, Loader=loader))
        except (yaml.YAMLError, ValueError, TypeError):
            return "refused"

    assert yamlstrict._LOADER is not yamlstrict._StrictLoader
    assert outcome(yamlstrict._LOADER) == outcome(yamlstrict._StrictLoader)
