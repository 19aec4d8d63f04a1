"""One HTTP POST of a notice, with a timeout and bounded retries (stdlib urllib; no other dependency).

Retried: a connection error, a timeout, a 5xx, and 429 (honouring a short Retry-After). Not retried:
any other 4xx (the request is wrong and will stay wrong) and a redirect, which is refused rather
than followed (urllib would turn a redirected POST into a GET without its body, a silent loss).
Delivery is at least once: a server that got the body but answered too late gets it again, with
the same `X-Modelreg-Delivery` header (the tag) to recognise it by. Messages never contain the
URL (a chat webhook's URL is its secret): they name the destination.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

from modelreg.errors import InvalidInputError, ModelregError
from modelreg.version import __version__

if TYPE_CHECKING:
    import urllib.request

BACKOFF_S = 0.5  # first wait; doubled each attempt
MAX_WAIT_S = 30.0  # no single wait (backoff or Retry-After) is longer
USER_AGENT = f"modelreg/{__version__} notify"


class DeliveryError(ModelregError):
    """A notice could not be delivered (after the retries a failure deserves); `reason` is why, without the URL."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{where(url)}: {reason}")
        self.reason = reason


class Delivered(NamedTuple):
    status: int
    attempts: int


@cache
def _opener() -> urllib.request.OpenerDirector:
    """urllib's opener, refusing redirects: a 3xx comes back as an HTTPError, reported, not followed."""
    import urllib.request  # deferred: with http.client and email, 30-40 ms that only a delivery should pay

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    return urllib.request.build_opener(NoRedirect)


def check_url(url: str) -> str:
    """An http(s) URL with a host; anything else is refused before a request is made."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError("the notify URL must be an http:// or https:// URL with a host")
    return url


def where(url: str) -> str:
    """The destination as messages name it: scheme and host, never the path or query (they may be the secret)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float = 10.0,
    retries: int = 3,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivered:
    """POST `body` until a 2xx; DeliveryError with a one-line reason when that does not happen."""
    import urllib.error  # with urllib.request: see _opener
    import urllib.request  # deferred: see _opener

    request_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
    attempt = 0
    while True:
        attempt += 1
        # check_url admits http and https only
        request = urllib.request.Request(check_url(url), data=body, headers=request_headers, method="POST")  # noqa: S310
        wait: float | None = None
        try:
            with _opener().open(request, timeout=timeout) as response:
                response.read()
                status = int(response.status)
            if 200 <= status < 300:
                return Delivered(status, attempt)
            problem = f"HTTP {status}"  # a 1xx or an odd success code: not a 2xx
        except urllib.error.HTTPError as exc:
            problem = f"HTTP {exc.code}" + (f" {exc.reason}" if exc.reason else "")
            exc.close()
            if exc.code == 429:
                wait = _retry_after(exc.headers.get("Retry-After"))
            elif exc.code < 500:
                raise DeliveryError(url, f"{problem} (not retried)") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            problem = "timed out" if isinstance(reason, TimeoutError) else f"{reason}"
        if attempt > retries:
            tries = f" after {attempt} attempts" if attempt > 1 else ""
            raise DeliveryError(url, f"{problem}{tries}")
        sleep(min(wait if wait is not None else BACKOFF_S * 2 ** (attempt - 1), MAX_WAIT_S))


def _retry_after(value: str | None) -> float | None:
    """A Retry-After in seconds (its date form is not worth a parser here: back off instead)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
