"""The README's "Use" block and the getting-started page, run as written in a fresh repository.

Every `$ ` line of their console blocks runs in bash (`set -eo pipefail`), in order, with a `modelreg`
on PATH that is this checkout; a command that fails fails the test, naming the line. So the docs
cannot drift from the product.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, git

_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks(markdown: str, kind: str) -> list[str]:
    return [body for lang, body in _BLOCK.findall(markdown) if lang == kind]


def commands(block: str) -> list[str]:
    """The `$ ` lines of a console block, a line ending in `\\` joined with the next."""
    found: list[str] = []
    continuing = False
    for line in block.splitlines():
        if continuing:
            found[-1] = found[-1][:-1] + " " + line.strip()
        elif line.startswith("$ "):
            found.append(line[2:])
        continuing = bool(found) and found[-1].endswith("\\") and (continuing or line.startswith("$ "))
    return found


def section(markdown: str, heading: str) -> str:
    start = markdown.index(f"\n{heading}\n")
    end = markdown.find("\n## ", start + len(heading) + 2)
    return markdown[start : end if end != -1 else None]


@pytest.fixture
def shell(tmp_path: Path) -> dict[str, str]:
    """The environment: `modelreg` on PATH runs this checkout."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "modelreg"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m modelreg "$@"\n')
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}


def run_all(lines: list[str], cwd: Path, env: dict[str, str], subst: dict[str, str] | None = None) -> None:
    for line in lines:
        for old, new in (subst or {}).items():
            line = line.replace(old, new)
        proc = subprocess.run(
            ["bash", "-c", f"set -eo pipefail\n{line}"], cwd=cwd, env=env, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, f"`{line}` failed ({proc.returncode}): {proc.stderr.strip()[-600:]}"


def fresh_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    (path / "train.py").write_text("print('train')\n")
    git(path, "add", "train.py")
    git(path, "commit", "-q", "-m", "initial commit")
    return path


def test_the_readme_use_block_runs_as_written(tmp_path, shell):
    use = section((ROOT / "README.md").read_text(encoding="utf-8"), "## Use")
    (console,) = blocks(use, "console")
    lines = commands(console)
    assert lines[0].startswith("modelreg init") and any(line.startswith("modelreg rollback") for line in lines)
    repo = fresh_repo(tmp_path / "project")
    (repo / "model.pkl").write_bytes(b"weights one")
    (repo / "model-v2.pkl").write_bytes(b"weights two")
    run_all(lines, repo, shell)
    assert (repo / "site" / "index.html").is_file()

    (python,) = blocks(use, "python")
    second = fresh_repo(tmp_path / "python")
    (second / "model.pkl").write_bytes(b"weights one")
    run_all(["modelreg init"], second, shell)
    proc = subprocess.run(
        [sys.executable, "-c", python], cwd=second, env=shell, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr[-600:]
    assert (second / "serving" / "model.pkl").read_bytes() == b"weights one"


def test_getting_started_runs_as_written(tmp_path, shell):
    page = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    install = section(page, "## Install")
    lines = [line for block in blocks(page, "console") if block not in install for line in commands(block)]
    assert lines[0].startswith("git init") and "modelreg init" in lines
    cwd = tmp_path
    subst = {"/path/to/": f"{tmp_path}/"}
    for line in lines:
        build = cwd / "build"
        if line.startswith("modelreg register fraud-detector build/model.pkl"):
            # "Say training wrote a single file": the page's training runs, played by the test.
            build.mkdir(exist_ok=True)
            previous = (build / "model.pkl").read_bytes() if (build / "model.pkl").exists() else b""
            (build / "model.pkl").write_bytes(b"gradient boosting " + str(len(previous)).encode())
        if line.startswith("find build/model-v2"):
            (build / "model-v2" / "shards").mkdir(parents=True)
            (build / "model-v2" / "config.json").write_text('{"shards": 2}\n')
            (build / "model-v2" / "shards" / "0.bin").write_bytes(b"shard zero")
            (build / "model-v2" / "shards" / "1.bin").write_bytes(b"shard one")
        run_all([line], cwd, shell, subst)
        moved = re.search(r"&& cd (\S+)$", line)
        if moved:
            cwd = cwd / moved[1]
    assert (cwd / "serving").is_dir()


def test_the_signing_walkthrough_runs_as_written(tmp_path, shell):
    """One shell for the whole page: it exports the CI job's environment and unsets it again."""
    page = (ROOT / "docs" / "signing.md").read_text(encoding="utf-8")
    lines = [line for block in blocks(page, "console") for line in commands(block)]
    assert any("ssh-keygen" in line for line in lines) and any("valid-before" in line for line in lines)
    script = "set -euo pipefail\n" + "".join(f"echo '>>> step {n}'\n{line}\n" for n, line in enumerate(lines))
    proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=shell, capture_output=True, text=True, check=False)
    steps = re.findall(r">>> step (\d+)", proc.stdout)
    failed = lines[int(steps[-1])] if steps else "(before the first step)"
    assert proc.returncode == 0, f"`{failed}` failed: {proc.stderr.strip()[-800:]}"
    assert "verify exited with 4" in proc.stdout
    assert proc.stdout.rstrip().splitlines()[-1].startswith("fraud-detector@v1 sha256:")


def test_the_docs_index_and_the_site_nav_list_every_page():
    docs = ROOT / "docs"
    pages = {p.name for p in docs.glob("*.md")} - {"index.md"}
    index = (docs / "index.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([\w-]+\.md)\)", index))
    assert pages - linked == set(), f"docs/index.md does not list {sorted(pages - linked)}"
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert {p for p in pages if f": {p}" not in nav} == set()
