"""Why modelreg runs git's plumbing itself rather than GitPython: the read path, timed both ways.

Builds (make_registry.py) a registry of --events tags, then times, median of --runs whole processes
with this interpreter, in this run:
  - `python -c pass` and `python -c "import git"` (GitPython's import, before any work);
  - reading the bench model's tags with their messages through GitPython (`repo.tags`, then each
    tag object's message: what a GitPython read path must do), against
  - `git for-each-ref` printing the same tags with their messages, and `modelreg history bench --json`.
GitPython is not a modelreg dependency: install it into the venv first (`pip install GitPython`).

    .venv/bin/python benchmarks/bench_gitpython.py [--events 2000] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchenv import CONTENTS, IDENTITY, MODELREG, PYTHON, compile_package, installed_env, median_time, progress
from make_registry import build

GITPYTHON_READ = """import sys, git
repo = git.Repo(".")
messages = [t.tag.message for t in repo.tags if t.name.startswith("bench") and t.tag is not None]
assert messages, "no bench tags"
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    try:
        import git  # noqa: F401
    except ImportError:
        raise SystemExit("GitPython is not installed here: .venv/bin/pip install GitPython") from None
    compile_package()
    with tempfile.TemporaryDirectory(prefix="modelreg-gitpython-") as tmp:
        repo = Path(tmp) / "repo"
        progress(f"building a registry of {args.events:,} events")
        build(repo, args.events, progress=progress)
        env = installed_env(**IDENTITY, XDG_CACHE_HOME=str(Path(tmp) / "cache"))
        rows = []
        for label, command in (
            ("python -c pass", [PYTHON, "-c", "pass"]),
            ("python -c 'import git' (GitPython)", [PYTHON, "-c", "import git"]),
            ("git for-each-ref, bench's tags with messages", ["git", "for-each-ref", CONTENTS, "refs/tags/bench*"]),
            ("modelreg history bench --json", [MODELREG, "history", "bench", "--json"]),
            ("GitPython: bench's tags with messages", [PYTHON, "-c", GITPYTHON_READ]),
        ):
            progress(f"timing {label}")
            rows.append((label, median_time(command, repo, args.runs, env)))
    floor = rows[2][1]
    width = max(len(label) for label, _ in rows)
    print(f"{args.events:,} events (bench holds a quarter), median of {args.runs} whole processes")
    for label, seconds in rows:
        print(f"{label:<{width}}  {seconds:8.3f} s  {seconds / floor:8.1f}x for-each-ref")


if __name__ == "__main__":
    main()
