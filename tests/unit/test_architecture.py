"""The house rules, checked on the code itself (docs/design.md, "The packages").

Each rule names the place that breaks it, so a change that breaks one says where.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import modelreg
from modelreg.api import Registry

PACKAGE = Path(modelreg.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))
GIT_RUNNERS = {"run_git", "run_git_raw"}


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every modelreg module `path` imports, at any depth (functions and TYPE_CHECKING blocks too)."""
    known = {_name(p) for p in MODULES}
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names} & known
            found |= subs
            if len(subs) < len(node.names) and node.module in known:
                found.add(node.module)
    found.discard(_name(path))
    return found


def test_no_module_is_over_400_lines() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in MODULES if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def test_at_most_25_modules_sit_in_the_package_root() -> None:
    assert len(list(PACKAGE.glob("*.py"))) <= 25


def test_the_registry_is_a_facade_without_a_base_class() -> None:
    assert Registry.__bases__ == (object,)
    assert len((PACKAGE / "api.py").read_text().splitlines()) < 255


def test_no_import_cycle_counting_every_import() -> None:
    graph = {_name(p): _imports(p) for p in MODULES}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for other in sorted(graph[module]):
            if state.get(other) == 1:
                return [*path[path.index(other) :], other] if other in path else [module, other]
            if other not in state and (cycle := visit(other, [*path, other])) is not None:
                return cycle
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            assert visit(module, [module]) is None


def _calls_git_outside(path: Path) -> list[int]:
    """Lines that call something's `.git(...)` (git argv) in a module outside modelreg/git/."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "git":
            lines.append(node.lineno)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in GIT_RUNNERS:
            lines.append(node.lineno)
    return lines


def test_git_argv_lives_only_in_the_git_package() -> None:
    outside = {
        str(p.relative_to(PACKAGE)): lines
        for p in MODULES
        if p.parent.name != "git" and (lines := _calls_git_outside(p))
    }
    assert outside == {}


def test_fsspec_is_imported_only_in_the_store_package() -> None:
    pattern = re.compile(r"^\s*(import fsspec|from fsspec)", re.M)
    outside = [
        str(p.relative_to(PACKAGE)) for p in MODULES if p.parent.name != "store" and pattern.search(p.read_text())
    ]
    assert outside == []


def test_the_core_does_no_io() -> None:
    """modelreg/core/ imports nothing of git, the store, the reader or the display."""
    for path in (PACKAGE / "core").glob("*.py"):
        allowed = ("modelreg.core", "modelreg.errors", "modelreg.models")
        reaching = {m for m in _imports(path) if not m.startswith(allowed)}
        assert reaching == set(), path.name
        source = path.read_text()
        assert not re.search(r"\b(open|subprocess|os\.(replace|remove|makedirs))\(", source), path.name


def test_display_is_used_only_by_the_cli_and_serving() -> None:
    users = {
        _name(p)
        for p in MODULES
        if any(m.startswith("modelreg.display") for m in _imports(p)) and not _name(p).startswith("modelreg.display")
    }
    assert {u for u in users if not u.startswith(("modelreg.cli", "modelreg.serving"))} == set()
