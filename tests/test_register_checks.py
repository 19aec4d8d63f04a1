"""register: metrics must be numbers; the same bytes again are recorded, with a word."""

from __future__ import annotations

import json

import pytest

from modelreg.api import Registry
from modelreg.errors import InvalidInputError
from tests.conftest import git


@pytest.mark.parametrize("value", ["high", "true", "'0.9'", "n/a"])
def test_a_metric_that_is_not_a_number_is_refused_in_one_line(repo, cli, artifact, value):
    result = cli("register", "m", artifact(), "--metric", f"auc={value}", "--param", "optimizer=adam")
    assert result.code == 1
    assert result.err.startswith("error: metric auc=") and "is not a number" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert git(repo, "tag") == ""  # nothing was written


def test_params_stay_free_text_and_numeric_metrics_are_kept(repo, cli, artifact):
    result = cli("register", "m", artifact(), "--metric", "auc=0.91", "--metric", "n=3", "--param", "optimizer=adam")
    assert result.code == 0, result.err
    shown = json.loads(cli("show", "m", "--json").out)
    assert shown["metrics"] == {"auc": 0.91, "n": 3} and shown["params"] == {"optimizer": "adam"}


def test_the_python_api_refuses_a_text_metric(repo, artifact):
    with pytest.raises(InvalidInputError, match="not a number"):
        Registry.open(repo).register("m", artifact(), metrics={"auc": "high"})


def test_registering_the_same_bytes_again_says_so_and_records_the_version(repo, cli, artifact, tmp_path):
    first = artifact("model.pkl", b"the weights")
    assert cli("register", "m", first).code == 0
    other = artifact("other.pkl", b"other weights")
    assert cli("register", "m", other).code == 0
    again = tmp_path / "copy" / "model.pkl"
    again.parent.mkdir()
    again.write_bytes(b"the weights")
    result = cli("register", "m", again)
    assert result.code == 0, result.err
    assert "Registered m v3" in result.out
    assert "warning: m v3: same bytes as v1 (sha256:" in result.err
    assert "v2" not in result.err
    as_json = cli("register", "m", other, "--json")
    assert "same bytes as v2" in " ".join(json.loads(as_json.out)["warnings"])
    assert cli("register", "n", first).err == ""  # another model's bytes are no concern
