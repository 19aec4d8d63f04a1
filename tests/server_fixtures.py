"""Session-scoped pytest fixtures for the real object-storage servers of ``tests/servers.py``.

How to use them: import the fixtures into the test module (or into a ``conftest.py``, to offer them to a directory);
pytest registers fixtures found in a module's namespace, and the import is what puts them there::

    from tests.server_fixtures import azurite, fake_gcs, moto_s3, seaweedfs  # noqa: F401

    def test_something(seaweedfs: StoreServer, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
        url = seaweedfs.new_bucket()
        for key, value in seaweedfs.env.items():
            monkeypatch.setenv(key, value)
        fs, path = fsspec.core.url_to_fs(url, skip_instance_cache=True, **seaweedfs.options)

(ruff reports a parameter named like an imported fixture as F811, hence that second noqa.)

Each fixture starts its server once per test session (once per xdist worker) on free 127.0.0.1 ports and stops it at
the end. A server that cannot run here (binary not installed, did not start in time) skips the tests that use it,
with the reason in pytest's short summary (``-rs``; the project's ``-ra`` shows it). Set
``MODELREG_REQUIRE_SERVERS=1`` (e.g. in CI, once ``.ci/install-test-servers`` has run) to make that an error instead.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

import pytest

from tests.servers import (
    ServerUnavailable,
    StoreServer,
    start_azurite,
    start_fake_gcs,
    start_moto,
    start_seaweedfs,
)

# Read at import as well as at use: tests/conftest.py's autouse isolated_env removes MODELREG_* variables during tests.
_REQUIRE_AT_IMPORT = os.environ.get("MODELREG_REQUIRE_SERVERS", "")


def _required() -> bool:
    return any(value not in ("", "0") for value in (os.environ.get("MODELREG_REQUIRE_SERVERS", ""), _REQUIRE_AT_IMPORT))


def _serve(start: Callable[[], contextlib.AbstractContextManager[StoreServer]]) -> Iterator[StoreServer]:
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(start())
        except ServerUnavailable as exc:
            reason = str(exc)
        else:
            reason = ""
        if reason and _required():
            pytest.fail(f"{reason} (MODELREG_REQUIRE_SERVERS is set)", pytrace=False)
        if reason:
            pytest.skip(reason)
        yield server


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreServer]:
    """SeaweedFS (``weed mini``): S3 with signature checking."""
    yield from _serve(lambda: start_seaweedfs(tmp_path_factory.mktemp("seaweedfs")))


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[StoreServer]:
    """moto's S3 server: AWS's error responses, any credentials accepted."""
    yield from _serve(start_moto)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreServer]:
    """Azurite's blob service (``az://``)."""
    yield from _serve(lambda: start_azurite(tmp_path_factory.mktemp("azurite")))


@pytest.fixture(scope="session")
def fake_gcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreServer]:
    """fake-gcs-server (``gs://``)."""
    yield from _serve(lambda: start_fake_gcs(tmp_path_factory.mktemp("fake-gcs")))
