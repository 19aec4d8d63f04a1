"""`.modelreg/config.yaml` → a frozen Config (DESIGN §2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from modelreg.core.events import ARCHIVED
from modelreg.core.refs import LATEST, check_name, is_event_target, looks_like_version
from modelreg.errors import ConfigError, InvalidInputError
from modelreg.formats import yamlio
from modelreg.formats.schema import Fields
from modelreg.models import NO_VALUES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from modelreg.formats.notifyconfig import NotifyTarget  # the module itself loads only for a notify: section

CONFIG_PATH = ".modelreg/config.yaml"
DEFAULT_STORE = ".modelreg/store"  # a registry whose config names no store (the default before `git:`)
INIT_STORE = "git:"  # what `init` writes: blobs under refs of the repository itself (store/gitstore.py)
DEFAULT_STAGES = ("staging", "production", ARCHIVED)
_SECRET_QUERY_KEYS = {
    "sig",
    "signature",
    "token",
    "password",
    "secret",
    "key",
    "account_key",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "access_token",
}

_SECRET_OPTION_WORDS = (
    "secret",
    "password",
    "token",
    "credential",
    "connection_string",
    "account_key",
    "sas",
    "key_id",
    "access_key",
    "private",
)
_SECRET_OPTION_NAMES = {"key", "sig"}  # s3fs's `key=`, a SAS `sig`
# gcsfs's token="anon" (or "google_default", …) names a way to authenticate, not a secret.
_HARMLESS_TOKENS = {"anon", "google_default", "cloud", "browser", "cache"}


class Config(NamedTuple):
    store: str = DEFAULT_STORE
    stages: tuple[str, ...] = DEFAULT_STAGES
    single_holder: tuple[str, ...] = ("production",)
    review_required: tuple[str, ...] = ()
    store_options: Mapping[str, Any] = NO_VALUES
    push: bool = False  # writing commands push to `remote` unless told --no-push
    remote: str = "origin"
    main_branch: str = "main"  # where reviewed requests are merged: its first-parent line is the evidence
    require_signed: bool = False  # every stage/alias event must carry a signature verify accepts
    allowed_signers: str | None = None  # repo-relative SSH allowed-signers file (else git's gpg.ssh.allowedSignersFile)
    signers: Mapping[str, tuple[str, ...]] = NO_VALUES  # target → principals allowed to sign its events
    notify: tuple[NotifyTarget, ...] = ()  # where `modelreg notify` posts by default
    former_stores: tuple[str, ...] = ()  # stores `modelreg store migrate` copied every blob from (manifests name them)

    def is_store_of_record(self, url: str) -> bool:
        """True for the configured store, and for a store it replaced by a verified migration."""
        return url == self.store or url in self.former_stores

    def check_stage(self, stage: str) -> str:
        check_name(stage, "stage")
        if stage not in self.stages:
            raise InvalidInputError(f"unknown stage {stage!r}: the configured stages are {', '.join(self.stages)}")
        return stage


def check_store_url(url: str) -> str:
    """Refuse a store URL that carries credentials: it would end up in manifests and git history."""
    if not url.strip():
        raise InvalidInputError("the store URL is empty")
    parts = urlsplit(url)
    authority = url.split("://", 1)[1].split("/", 1)[0] if "://" in url else ""
    userinfo, at, _host = authority.rpartition("@")
    # `user:secret@host`, `KEY@bucket`, or, when the secret holds a '/', a bare `KEY:SECRET`
    # before the first '/'. Azure's usual `container@account` (no ':') is the one '@' allowed.
    port = authority.rsplit(":", 1)[1] if ":" in authority else ""
    azure = parts.scheme in ("az", "abfs", "abfss", "adl")
    if (at and (":" in userinfo or not azure)) or (not at and port and not port.isdigit()):
        raise InvalidInputError(
            "the store URL contains credentials (user:secret@); give them through the environment "
            "or the storage library's own configuration instead"
        )
    if any(key.lower() in _SECRET_QUERY_KEYS for key, _ in parse_qsl(parts.query)):
        raise InvalidInputError("the store URL carries a secret in its query string; use the environment instead")
    return url


def check_store_options(options: dict[str, Any], source: str) -> dict[str, Any]:
    """Refuse options that look like credentials: they belong in the environment, not in git."""

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                name = str(key).lower()
                inner_path = f"{path}.{key}" if path else str(key)
                harmless = name == "token" and str(inner) in _HARMLESS_TOKENS
                secret = name in _SECRET_OPTION_NAMES or any(word in name for word in _SECRET_OPTION_WORDS)
                if secret and not harmless:
                    raise ConfigError(
                        f"{source}: store option '{inner_path}' looks like a credential; "
                        "give credentials through the environment or the storage library's own configuration"
                    )
                walk(inner, inner_path)

    walk(options, "")
    return options


def to_yaml(config: Config) -> str:
    data: dict[str, Any] = {
        "modelreg": 1,
        "store": config.store,
        "stages": list(config.stages),
        "single_holder": list(config.single_holder),
        "review_required": list(config.review_required),
    }
    if config.store_options:
        data["store_options"] = dict(config.store_options)
    if config.push:
        data["push"] = True
    if config.remote != "origin":
        data["remote"] = config.remote
    if config.main_branch != "main":
        data["main_branch"] = config.main_branch
    if config.require_signed:
        data["require_signed"] = True
    if config.allowed_signers:
        data["allowed_signers"] = config.allowed_signers
    if config.former_stores:
        data["former_stores"] = list(config.former_stores)
    if config.signers:
        data["signers"] = {target: list(principals) for target, principals in config.signers.items()}
    if config.notify:
        from modelreg.formats import notifyconfig  # see _notify

        data["notify"] = notifyconfig.to_data(config.notify)
    return yamlio.dump(data)


def from_yaml(text: str, source: str = CONFIG_PATH) -> Config:
    doc = Fields(yamlio.load(text, source), source)
    if doc.required("modelreg", int) != 1:
        raise doc.fail("modelreg", "must be 1 (this modelreg reads config format 1)")
    store = doc.optional("store", str, DEFAULT_STORE)
    try:
        check_store_url(store)
        stages = tuple(_names(doc, "stages", list(DEFAULT_STAGES)))
        if not stages:
            raise doc.fail("stages", "must list at least one stage")
        for stage in stages:
            if looks_like_version(stage) or stage == LATEST:
                raise doc.fail("stages", f"has {stage!r}, which reads as a version")
        single = tuple(_names(doc, "single_holder", ["production"] if "production" in stages else []))
        review = tuple(_names(doc, "review_required", []))
    except InvalidInputError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    for key, subset in (("single_holder", single), ("review_required", review)):
        unknown = [s for s in subset if s not in stages]
        if unknown:
            raise doc.fail(key, f"names stages that are not in 'stages': {', '.join(unknown)}")
    if single and ARCHIVED not in stages:
        raise doc.fail("stages", f"must include {ARCHIVED!r} when 'single_holder' is set")
    former = tuple(doc.str_list("former_stores", []))
    try:
        for url in former:
            check_store_url(url)
    except InvalidInputError as exc:
        raise ConfigError(f"{source}: former_stores: {exc}") from None
    options = check_store_options(doc.optional("store_options", dict, {}), source)
    remote = doc.optional("remote", str, "origin")
    if not remote or remote.startswith("-") or any(c.isspace() for c in remote):
        raise doc.fail("remote", f"is not a git remote name: {remote!r}")
    allowed_signers = doc.maybe("allowed_signers", str)
    if allowed_signers is not None and (
        not allowed_signers or allowed_signers.startswith("/") or ".." in allowed_signers.split("/")
    ):
        raise doc.fail("allowed_signers", "must be a path inside the repository, e.g. .modelreg/allowed_signers")
    main_branch = doc.optional("main_branch", str, "main").removeprefix("refs/heads/")
    if not main_branch or main_branch.startswith("-") or any(c.isspace() or c in "~^:?*[\\" for c in main_branch):
        raise doc.fail("main_branch", f"is not a branch name: {main_branch!r}")
    return Config(
        main_branch=main_branch,
        push=doc.optional("push", bool, False),
        require_signed=doc.optional("require_signed", bool, False),
        allowed_signers=allowed_signers,
        signers=_signers(doc),
        remote=remote,
        store=store,
        stages=stages,
        single_holder=single,
        review_required=review,
        store_options=options,
        notify=_notify(doc, source),
        former_stores=former,
    )


def _names(doc: Fields, key: str, default: list[str]) -> list[str]:
    names = doc.str_list(key, default)
    for name in names:
        check_name(name, "stage")
    if len(set(names)) != len(names):
        raise doc.fail(key, "lists a stage twice")
    return names


def _signers(doc: Fields) -> dict[str, tuple[str, ...]]:
    """`signers: {production: [alice@example.com]}`: whose signatures count for a stage or alias."""
    table = doc.optional("signers", dict, {})
    result = {}
    for target, principals in table.items():
        if not isinstance(target, str) or not is_event_target(target):
            raise doc.fail("signers", f"has {target!r}, which is not a stage or alias name, or _retire, _unretire, …")
        if not isinstance(principals, list) or not principals or not all(isinstance(p, str) and p for p in principals):
            raise doc.fail(f"signers.{target}", "must list the principals (as in the allowed-signers file)")
        result[target] = tuple(principals)
    return result


def _notify(doc: Fields, source: str) -> tuple[NotifyTarget, ...]:
    """The `notify:` destinations (see notifyconfig)."""
    if doc.data.get("notify") is None:
        return ()
    from modelreg.formats import notifyconfig  # deferred: ~2 ms, paid only by a config that has notify: entries

    return notifyconfig.parse(doc.data["notify"], source)
