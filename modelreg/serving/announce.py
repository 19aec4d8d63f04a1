"""`sync --notify`: after a swap, tell a webhook or a chat channel which version this host now serves.

Given to `sync` as its `on_change` callback, so the loop itself does not change: a delivery that
fails (after its retries) is logged by the loop as a failed hook, and the swap stays.

    modelreg.sync("fraud/production", "/models", on_change=announcer("https://hooks.example.com/x"))
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

from modelreg.core import noticekinds, notices
from modelreg.errors import InvalidInputError
from modelreg.ops import delivery
from modelreg.results import Deployed


def deploy_facts(deployed: Deployed, host: str) -> dict[str, object]:
    """The JSON body of a deploy notice (the same keys as an event's where they mean the same)."""
    return {
        "modelreg": 1,
        "event": "deploy",
        "model": deployed.name,
        "version": deployed.version,
        "ref": deployed.ref,
        "tag": deployed.tag,
        "approver": deployed.approved_by,
        "when": deployed.when,
        "digest": deployed.digest,
        "host": host,
    }


def announcer(
    url: str,
    fmt: str = "json",
    secret_env: str | None = None,
    *,
    timeout: float = 10.0,
    retries: int = 3,
    host: str | None = None,
) -> Callable[[Deployed], None]:
    """An `on_change` callback that posts each swap to `url` (signed with $`secret_env` when given).

    The URL, format and secret are checked now, so a mistake stops `sync` before its first round.
    """
    delivery.check_url(url)
    chosen = noticekinds.check_format(fmt)
    secret = None
    if secret_env is not None:
        secret = os.environ.get(secret_env, "")
        if not secret:
            raise InvalidInputError(f"${secret_env} is not set (or empty): it should hold the signing secret")
    name = host or socket.gethostname()

    def announce(deployed: Deployed) -> None:
        body = notices.body(deploy_facts(deployed, name), chosen)
        headers = {"X-Modelreg-Event": "deploy", "X-Modelreg-Delivery": f"{name}:{deployed.tag}"}
        if secret is not None:
            headers[notices.SIGNATURE_HEADER] = notices.signature(body, secret)
        delivery.post(url, body, headers, timeout=timeout, retries=retries)

    return announce
