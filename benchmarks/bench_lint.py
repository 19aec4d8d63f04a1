"""Time `modelreg lint` (the pre-commit hook) and `modelreg report` on a registry of 1,000 versions.

    .venv/bin/python benchmarks/bench_lint.py [--versions 1000] [--runs 5]

The registry comes from make_registry (each version with a manifest, its tag and one event).
Beside the commands, the floors measured in the same run: starting Python, and the two git reads
lint makes (the version tags, and their manifests in one `cat-file --batch`). "cold" runs start
with an empty modelreg cache (YAML parses are cached by text), as the first commit after a clone
does; "warm" is every commit after that.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchenv import MODELREG, PYTHON, compile_package, installed_env, median_time, progress
from make_registry import build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    compile_package()
    with tempfile.TemporaryDirectory(prefix="bench-lint-") as tmp:
        work = Path(tmp)
        repo = work / "repo"
        build(repo, 2 * args.versions, progress=progress)
        cache = work / "cache"
        env = installed_env(XDG_CACHE_HOME=str(cache))
        listing = subprocess.run(
            ["git", "for-each-ref", "--format=%(*objectname):.modelreg/models/%(refname:lstrip=2)", "refs/tags/*@v*"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        specs = "".join(
            f"{line.split(':', 1)[0]}:.modelreg/models/{name}/v{version}.yaml\n"
            for line in listing.splitlines()
            for name, _, version in [line.split(":.modelreg/models/", 1)[1].rpartition("@v")]
        )

        def clear(_: int) -> None:
            shutil.rmtree(cache, ignore_errors=True)

        rows = [
            ("python -c pass", median_time([PYTHON, "-c", "pass"], repo, args.runs, env)),
            (
                "git for-each-ref of the version tags",
                median_time(["git", "for-each-ref", "refs/tags/*@v*"], repo, args.runs, env),
            ),
        ]
        start = subprocess.run(
            ["bash", "-c", f"time (git cat-file --batch >/dev/null <<'EOF'\n{specs}EOF\n)"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        )
        real = next(line for line in start.stderr.splitlines() if line.startswith("real"))
        rows.append(("git cat-file --batch of every manifest (bash `time`)", _seconds(real.split()[1])))
        rows.append(("modelreg lint, cold cache", median_time([MODELREG, "lint"], repo, args.runs, env, clear)))
        rows.append(("modelreg lint, warm cache", median_time([MODELREG, "lint"], repo, args.runs, env)))
        site = str(work / "site")
        rows.append(
            ("modelreg report -o SITE, warm cache", median_time([MODELREG, "report", "-o", site], repo, args.runs, env))
        )
        size = sum(p.stat().st_size for p in Path(site).rglob("*.html"))
        print(
            f"\nregistry: {args.versions:,} versions, {2 * args.versions:,} tags; report: {size / 1e6:.1f} MB of HTML"
        )
        print(f"median of {args.runs} runs, seconds\n")
        for label, seconds in rows:
            print(f"{seconds:8.3f}  {label}")


def _seconds(text: str) -> float:
    minutes, _, rest = text.partition("m")
    return int(minutes) * 60 + float(rest.rstrip("s"))


if __name__ == "__main__":
    main()
