"""Request files, PR bodies, signature reports and CI output formats: pure, no git."""

from __future__ import annotations

import pytest

from modelreg.core import signatures
from modelreg.core.events import held_before
from modelreg.display import cioutput
from modelreg.errors import ConfigError, InvalidInputError
from modelreg.formats import requestfile
from modelreg.formats.config import from_yaml as config_from_yaml
from modelreg.formats.requestfile import Request
from modelreg.models import Artifact, ArtifactFile, Event, Lineage, Manifest


def make_request(**changes) -> Request:
    values = {
        "id": "fraud-production-v7-3f9a1c",
        "name": "fraud",
        "version": 7,
        "kind": "stage",
        "target": "production",
        "requested_by": "Jane Doe <jane@example.com>",
        "requested_at": "2026-11-24T10:00:00Z",
        "holder": 6,
    }
    return Request(**{**values, **changes})


def make_manifest(version: int, metrics: dict, params: dict, digest: str = "a") -> Manifest:
    blob = ArtifactFile("model.pkl", f"sha256:{digest * 64}", 10)
    return Manifest(
        name="fraud",
        version=version,
        created_at="2026-11-23T10:00:00Z",
        created_by="Jane Doe <jane@example.com>",
        description="",
        artifact=Artifact("s3://bucket/reg", blob.digest, 10, (blob,)),
        params=params,
        metrics=metrics,
        lineage=Lineage(code_commit="c" * 40, dataset="s3://data@v3"),
    )


# --- request files ------------------------------------------------------------------------------


def test_request_round_trips_through_yaml() -> None:
    request = make_request(reason="AUC +1.2%\nsecond line", keep_existing=True)
    text = requestfile.to_yaml(request)
    assert text.startswith("schema: modelreg/request/v1\n")
    assert requestfile.from_yaml(text, "r.yaml") == request


def test_new_request_id_is_readable_and_checked() -> None:
    assert requestfile.new_request_id("fraud", "production", 7, "3F9A1C77") == "fraud-production-v7-3f9a1c"
    with pytest.raises(ValueError, match="six hex digits"):
        requestfile.new_request_id("fraud", "production", 7, "xyz")
    with pytest.raises(InvalidInputError):
        requestfile.check_request_id("../escape")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".modelreg/requests/abc-1.yaml", "abc-1"),
        (".modelreg/requests/ABC.yaml", None),
        (".modelreg/requests/sub/abc.yaml", None),
        (".modelreg/requests/abc.yml", None),
        (".modelreg/models/abc.yaml", None),
    ],
)
def test_request_id_of_a_path(path: str, expected: str | None) -> None:
    assert requestfile.request_id_of(path) == expected


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("schema: modelreg/request/v1", "schema: modelreg/request/v9"), "request format v1"),
        (("kind: stage", "kind: tag"), "'stage' or 'alias'"),
        (("version: 7", "version: 0"), "positive version"),
        (("version: 7", "version: seven"), "must be an integer"),
        (("name: fraud", "name: a:b"), "invalid model name"),
        (("target: production", "target: ../x"), "invalid stage name"),
        (("id: fraud-production-v7-3f9a1c", "id: Bad Id"), "invalid request id"),
    ],
)
def test_bad_request_files_are_one_line_errors(edit: tuple[str, str], message: str) -> None:
    text = requestfile.to_yaml(make_request()).replace(*edit)
    with pytest.raises(ConfigError, match=message) as info:
        requestfile.from_yaml(text, ".modelreg/requests/x.yaml")
    assert "\n" not in str(info.value)


# --- the pull request body ----------------------------------------------------------------------


def test_body_shows_metric_deltas_changed_params_and_digests() -> None:
    current = make_manifest(6, {"auc": 0.9, "loss": 0.3}, {"lr": 0.1, "depth": 6}, "a")
    candidate = make_manifest(7, {"auc": 0.92, "f1": 0.5}, {"lr": 0.1, "depth": 8}, "b")
    body = requestfile.pr_body(make_request(), candidate, current)
    assert body.startswith("## Promote fraud v7 to production\n")
    assert "| auc | 0.9 | 0.92 | +0.02 (+2.2%) |" in body
    assert "| f1 | — | 0.5 | changed |" in body
    assert "| loss | 0.3 | — | changed |" in body
    assert "| depth | 6 | 8 |" in body
    assert "| lr |" not in body  # unchanged params are left out
    assert f"`sha256:{'a' * 64}` | `sha256:{'b' * 64}`" in body


def test_body_escapes_what_users_wrote() -> None:
    candidate = make_manifest(7, {"a|b": "<script>"}, {})
    body = requestfile.pr_body(make_request(holder=None, reason="ok\n| x | y |"), candidate, None)
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "a\\|b" in body
    assert "> \\| x \\| y \\|" in body
    assert "no current stage holder" in body


def test_alias_request_title() -> None:
    request = make_request(kind="alias", target="champion")
    assert requestfile.pr_title(request) == "modelreg: point fraud@champion at v7"
    assert request.label == "fraud@champion → v7"


# --- signatures ---------------------------------------------------------------------------------

SSH_GOOD = 'Good "git" signature for alice@example.com with ED25519 key SHA256:abc123\n'
GPG_GOOD = (
    "[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG 0123456789ABCDEF Alice Example <alice@example.com>\n"
    "[GNUPG:] VALIDSIG 4A3B2C1D0E9F8A7B6C5D4E3F2A1B0C9D8E7F6A5B 2026-11-24 1795514136 0 4 0 22 10 00 4A3B\n"
)


def test_signer_ids_from_ssh_and_gpg_reports() -> None:
    assert signatures.signer_ids(SSH_GOOD) == ("alice@example.com", "SHA256:abc123")
    ids = signatures.signer_ids(GPG_GOOD)
    assert ids[0] == "alice@example.com"
    assert "4A3B2C1D0E9F8A7B6C5D4E3F2A1B0C9D8E7F6A5B" in ids and "0123456789ABCDEF" in ids


def test_signature_problems() -> None:
    problem = signatures.signature_problem
    assert problem("t", True, SSH_GOOD, (), "production") is None
    assert problem("t", True, SSH_GOOD, ("alice@example.com",), "production") is None
    assert problem("t", True, GPG_GOOD, ("4A3B2C1D0E9F8A7B6C5D4E3F2A1B0C9D8E7F6A5B",), "production") is None
    assert problem("t", True, SSH_GOOD, ("bob@example.com",), "production") == (
        "t is signed by alice@example.com, who is not among the signers allowed for 'production'"
    )
    assert problem("t", False, "error: no signature found\n", (), "x") == "t is not signed"
    not_allowed = 'Good "git" signature with ED25519 key SHA256:zzz\nNo principal matched.\n'
    assert problem("t", False, not_allowed, (), "x") == "t: git does not accept its signature (No principal matched.)"
    # Exit status 0 alone is not enough: a report naming nobody is a failure.
    assert problem("t", True, "", (), "x") == "t: git accepted the signature but named no signer"


def test_a_good_signature_line_without_exit_status_0_is_not_trusted() -> None:
    assert signatures.signature_problem("t", False, SSH_GOOD, (), "x") is not None


# --- CI outputs ---------------------------------------------------------------------------------


def test_github_output_uses_the_delimiter_form() -> None:
    block = cioutput.github_output({"model": "fraud", "current": True, "alias": None}, "EOF123")
    assert block == "model<<EOF123\nfraud\nEOF123\ncurrent<<EOF123\ntrue\nEOF123\nalias<<EOF123\n\nEOF123\n"


def test_github_output_refuses_a_value_that_holds_the_delimiter() -> None:
    with pytest.raises(InvalidInputError):
        cioutput.github_output({"actor": "x\nEOF123\nversion=666"}, "EOF123")


def test_env_lines_refuse_line_breaks() -> None:
    assert cioutput.env_lines({"model": "fraud", "seq": 3}) == "MODELREG_MODEL=fraud\nMODELREG_SEQ=3\n"
    with pytest.raises(InvalidInputError, match="line break"):
        cioutput.env_lines({"actor": "a\nMODELREG_VERSION=9"})


# --- events and config --------------------------------------------------------------------------


def test_held_before_looks_only_at_earlier_assignments() -> None:
    events = [
        Event("m", "assign", 1, "m#production#1", seq=1, kind="stage", target="production"),
        Event("m", "assign", 2, "m#production#2", seq=2, kind="stage", target="production"),
        Event("m", "assign", 3, "m#staging#3", seq=3, kind="stage", target="staging"),
    ]
    assert held_before(events, "stage", "production", 1)
    assert not held_before(events, "stage", "production", 2, before_seq=2)
    assert not held_before(events, "stage", "production", 3)


def test_config_reads_signing_policy() -> None:
    config = config_from_yaml(
        "modelreg: 1\nrequire_signed: true\nallowed_signers: .modelreg/allowed_signers\n"
        "signers: {production: [alice@example.com, bot@example.com]}\n"
    )
    assert config.require_signed and config.allowed_signers == ".modelreg/allowed_signers"
    assert config.signers == {"production": ("alice@example.com", "bot@example.com")}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("allowed_signers: /etc/keys", "inside the repository"),
        ("allowed_signers: ../keys", "inside the repository"),
        ("signers: {production: []}", "must list the principals"),
        ("signers: {Prod!: [a]}", "not a stage or alias name"),
        ("require_signed: yes please", "true or false"),
    ],
)
def test_bad_signing_config(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from_yaml(f"modelreg: 1\n{text}\n")


def test_main_branch_defaults_to_main_and_is_checked() -> None:
    assert config_from_yaml("modelreg: 1\n").main_branch == "main"
    assert config_from_yaml("modelreg: 1\nmain_branch: refs/heads/trunk\n").main_branch == "trunk"
    with pytest.raises(ConfigError, match="not a branch name"):
        config_from_yaml("modelreg: 1\nmain_branch: 'a b'\n")
