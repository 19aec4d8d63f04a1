"""Run MLflow's own registry tests against the modelreg plugin, with only their fixtures adapted.

    .venv/bin/python tests/mlflow_upstream/run_upstream.py --mlflow-src PATH/TO/mlflow [-- PYTEST-ARGS…]

PATH/TO/mlflow is a checkout of MLflow's source at the installed version (3.17.2): nothing is fetched.
The script copies `tests/tracking/test_model_registry.py` and `tests/store/model_registry/test_file_store.py`
into a scratch directory, replaces the bodies of their store-building fixtures (`client`, `store`, and
`rm_data`, which writes FileStore files) so that each builds a fresh modelreg repository and the
`modelreg://` store or an `MlflowClient` on it, leaves every test body as it is, and runs pytest there
with the checkout first on the path (for MLflow's `tests.helper_functions`). `--baseline` runs the same files
in the same harness on MLflow's own stores, for comparison. docs/mlflow.md lists the counts and the failures
with their reasons.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FILES = {
    "tests/tracking/test_model_registry.py": "test_upstream_model_registry.py",
    "tests/store/model_registry/test_file_store.py": "test_upstream_file_store.py",
}
CONFTEST = """
import os
import subprocess
from pathlib import Path

import mlflow
import pytest

from modelreg.api import Registry
from modelreg.mlflow.store import ModelregRegistryStore


@pytest.fixture(autouse=True)
def _identity(monkeypatch, tmp_path_factory, tmp_path):
    home = tmp_path_factory.mktemp("home")
    # the tracking store the test's own runs go to is the one the registry store is given
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    for key, value in {
        "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "MLflow Tests", "GIT_AUTHOR_EMAIL": "tests@example.com",
        "GIT_COMMITTER_NAME": "MLflow Tests", "GIT_COMMITTER_EMAIL": "tests@example.com",
    }.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(autouse=True)
def reset_mlflow_uri():
    # MLflow's own tests/conftest.py: the registry URI a test (or a server start) set does not outlive it
    yield
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ.pop("MLFLOW_REGISTRY_URI", None)
    mlflow.set_registry_uri(None)


@pytest.fixture
def db_uri(tmp_path):
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def modelreg_repo(tmp_path: Path) -> Path:
    # a fresh modelreg repository under tmp_path (the one already there when another fixture made it)
    repo = tmp_path / "modelreg-repo"
    if repo.exists():
        return repo
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "initial"], cwd=repo, check=True)
    Registry.init(repo)
    return repo


def registry_uri(tmp_path: Path) -> str:
    # reference-only sources on: MLflow's tests register sources that point nowhere (docs/mlflow.md)
    return f"modelreg://{modelreg_repo(tmp_path)}?sources=reference"


def modelreg_store(tmp_path: Path) -> ModelregRegistryStore:
    return ModelregRegistryStore(registry_uri(tmp_path), f"sqlite:///{tmp_path / 'mlflow.db'}")


def modelreg_rm_data(names, tmp_path: Path) -> dict:
    # the registered models rm_data wrote as FileStore files, made through the store, described as it did
    store = modelreg_store(tmp_path)
    data = {}
    for name in names:
        rm = store.create_registered_model(name)
        data[name] = {
            "name": name,
            "creation_timestamp": rm.creation_timestamp,
            "last_updated_timestamp": rm.last_updated_timestamp,
            "description": rm.description,
            "latest_versions": [],
            "tags": {},
        }
    return data
"""
# fixture name → the adapted body (the decorator and signature are kept as MLflow wrote them)
ADAPTED = {
    # MLflow's own body, but the server's registry store is the plugin's, put where initialize_backend_stores
    # looks first; passing its URI instead would also make it the process's registry URI, and the client would
    # then call the store in-process instead of over REST as in MLflow's own runs
    "client": (
        '    if request.param == "file":\n'
        '        pytest.skip("FileStore is no longer supported.")\n'
        '    backend_uri = tmp_path.joinpath("file").as_uri() if request.param == "file" else db_uri\n'
        "    handlers._tracking_store = None\n"
        "    handlers._model_registry_store = modelreg_store(tmp_path)\n"
        "    initialize_backend_stores(\n"
        '        backend_uri, default_artifact_root=tmp_path.joinpath("artifacts").as_uri()\n'
        "    )\n"
        "    with ServerThread(app, get_safe_port()) as url:\n"
        "        yield MlflowClient(url)\n"
    ),
    "store": "    return modelreg_store(tmp_path)\n",
    "rm_data": "    return modelreg_rm_data(registered_model_names, tmp_path)\n",
}
# --in-process: the server is given the store's URI, which makes it the process's registry URI, so the client calls
# the store in-process (int versions) instead of the server; not what MLflow's fixture does, kept for comparison
IN_PROCESS_CLIENT = (
    '    if request.param == "file":\n'
    '        pytest.skip("FileStore is no longer supported.")\n'
    "    handlers._tracking_store = None\n"
    "    handlers._model_registry_store = None\n"
    "    initialize_backend_stores(\n"
    "        db_uri,\n"
    "        registry_store_uri=registry_uri(tmp_path),\n"
    '        default_artifact_root=tmp_path.joinpath("artifacts").as_uri(),\n'
    "    )\n"
    "    with ServerThread(app, get_safe_port()) as url:\n"
    "        yield MlflowClient(url)\n"
)
# MLflow skips its whole file-store test module (its FileStore is no longer supported): the store here is modelreg's
MODULE_SKIP = re.compile(r"^pytestmark = pytest\.mark\.skip\(reason=\"FileStore is no longer supported\"\)\n", re.M)


def adapt(text: str, baseline: bool = False, in_process: bool = False) -> str:
    """Replace the body of each store-building fixture; nothing else changes.

    With `baseline`, no body is replaced: MLflow's own stores (its sqlite store behind the server, its FileStore)
    run in the same harness, for comparison.
    """
    helpers = "from conftest import modelreg_rm_data, modelreg_store, registry_uri\n"
    text = MODULE_SKIP.sub("", text)
    text = text.replace("\nimport pytest\n", "\nimport pytest\n" + helpers, 1)
    adapted = {} if baseline else {**ADAPTED, "client": IN_PROCESS_CLIENT} if in_process else ADAPTED
    for name, body in adapted.items():
        # the body runs to the two blank lines before the next top-level definition
        header = rf"(@pytest\.fixture[^\n]*\ndef {name}\([^)]*\)[^\n]*:\n)"
        pattern = re.compile(header + r".*?\n(?=\n\n(?:@|def |class |[A-Za-z_]))", re.S)
        text, count = pattern.subn(lambda m, b=body: m.group(1) + b, text, count=1)
        if count == 0 and f"def {name}(" in text:
            raise SystemExit(f"could not adapt the fixture {name!r}")
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mlflow-src", type=Path, required=True, help="a checkout of MLflow's source")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory and print it")
    parser.add_argument("--baseline", action="store_true", help="run MLflow's own stores instead, for comparison")
    parser.add_argument("--in-process", action="store_true", help="the client calls the store, not the server")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="modelreg-mlflow-upstream-"))
    try:
        found = 0
        for source, target in FILES.items():
            path = args.mlflow_src / source
            if path.is_file():
                text = adapt(path.read_text(encoding="utf-8"), args.baseline, args.in_process)
                (scratch / target).write_text(text, encoding="utf-8")
                found += 1
            else:
                print(f"not found, skipped: {path}", file=sys.stderr)
        if not found:
            return 2
        (scratch / "conftest.py").write_text(CONFTEST, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(args.mlflow_src), str(scratch), str(ROOT)])}
        if args.baseline:
            env["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow's FileStore refuses to start without it
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", str(scratch)]
        return subprocess.run([*command, *args.pytest_args], cwd=scratch, env=env, check=False).returncode
    finally:
        if args.keep:
            print(f"scratch directory: {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
