"""The config's `notify:` entries: where `modelreg notify` posts when no --url is given.

```yaml
notify:
  - name: chat
    url_env: SLACK_WEBHOOK_URL      # the URL comes from this environment variable
    format: slack                   # json (default), slack or teams
    events: [promote, rollback]     # default: every kind
  - name: deployer
    url: https://deploy.example.com/hooks/modelreg   # a literal URL, only when it carries no secret
    secret_env: MODELREG_WEBHOOK_SECRET              # sign bodies with this variable's value
    report_url: https://ml.example.com/registry/     # link each notice to the model's report page
```

The config is committed, so it never holds a secret: a literal URL with credentials, a secret
query parameter, or a chat webhook whose path is its secret (Slack, Teams, Discord) is refused.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from modelreg.core.noticekinds import FORMATS, KINDS, Format, check_format
from modelreg.core.refs import NAME_RE
from modelreg.errors import ConfigError, InvalidInputError

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Webhooks whose URL is the credential: anyone who reads it can post to the channel.
_SECRET_HOSTS = ("hooks.slack.com", "webhook.office.com", "discord.com", "discordapp.com", "logic.azure.com")
_SECRET_QUERY = ("sig", "signature", "token", "secret", "key", "code", "password", "access_token", "api_key")


class NotifyTarget(NamedTuple):
    """One destination of `modelreg notify`."""

    name: str
    url: str | None = None  # a literal URL (no secret in it), or
    url_env: str | None = None  # the environment variable holding the URL
    format: Format = "json"
    secret_env: str | None = None  # the environment variable holding the signing secret
    events: tuple[str, ...] = KINDS
    report_url: str | None = None  # the base URL of the published `modelreg report` site


def check_literal_url(url: str) -> str:
    """Refuse a URL that would put a secret into git (the config is committed)."""
    from urllib.parse import parse_qsl, urlsplit  # deferred, as in config.check_store_url: 2-8 ms on every read

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(f"{url!r} is not an http:// or https:// URL")
    if "@" in parts.netloc:
        raise InvalidInputError("the URL contains credentials (user:secret@); give the URL with url_env instead")
    host = parts.hostname.lower()
    if any(host == h or host.endswith("." + h) for h in _SECRET_HOSTS):
        raise InvalidInputError(f"a {host} webhook URL is itself the secret; give it with url_env instead")
    if any(key.lower() in _SECRET_QUERY for key, _ in parse_qsl(parts.query)):
        raise InvalidInputError("the URL carries a secret in its query string; give it with url_env instead")
    return url


def parse(entries: Any, source: str) -> tuple[NotifyTarget, ...]:
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: key 'notify' must be a list of destinations")
    found: list[NotifyTarget] = []
    for index, entry in enumerate(entries):
        found.append(_entry(entry, f"{source}: notify[{index}]"))
    names = [t.name for t in found]
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: key 'notify' names a destination twice")
    return tuple(found)


def _entry(entry: Any, where: str) -> NotifyTarget:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a mapping (name, url_env, format, events, ...)")
    known = set(NotifyTarget._fields)
    unknown = sorted(str(k) for k in entry if k not in known)
    if unknown:
        raise ConfigError(f"{where} has an unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    text = {k: v for k, v in entry.items() if k != "events"}
    for key, value in text.items():
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}.{key} must be a string, not {value!r}")
    try:
        name = str(entry.get("name") or "")
        if not NAME_RE.fullmatch(name):
            raise InvalidInputError("needs a name: lowercase letters and digits, separated by '.', '_' or '-'")
        url, url_env = entry.get("url"), entry.get("url_env")
        if (url is None) == (url_env is None):
            raise InvalidInputError("needs exactly one of url_env (an environment variable's name) and url")
        if url is not None:
            check_literal_url(url)
        report_url = entry.get("report_url")
        if report_url is not None:
            check_literal_url(report_url)
        for key in ("url_env", "secret_env"):
            if entry.get(key) is not None and not ENV_NAME.match(entry[key]):
                raise InvalidInputError(f"{key} must name an environment variable, e.g. SLACK_WEBHOOK_URL")
        fmt = check_format(entry.get("format") or "json")
        events = entry.get("events")
        if events is not None and (not isinstance(events, list) or not all(e in KINDS for e in events) or not events):
            raise InvalidInputError(f"events must list some of {', '.join(KINDS)}")
    except InvalidInputError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    kinds = tuple(k for k in KINDS if events is None or k in events)
    return NotifyTarget(name, url, url_env, fmt, entry.get("secret_env"), kinds, report_url)


def to_data(targets: tuple[NotifyTarget, ...]) -> list[dict[str, Any]]:
    """The entries as config.yaml holds them (defaults left out)."""
    rows = []
    for target in targets:
        row: dict[str, Any] = {"name": target.name}
        for key in ("url", "url_env", "secret_env", "report_url"):
            if getattr(target, key) is not None:
                row[key] = getattr(target, key)
        if target.format != FORMATS[0]:
            row["format"] = target.format
        if target.events != KINDS:
            row["events"] = list(target.events)
        rows.append(row)
    return rows
