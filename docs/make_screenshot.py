"""Make docs/report.png: the report of a demo registry, shot in headless Chromium.

    .venv/bin/python docs/make_screenshot.py [--keep DIR]

Builds the registry of examples/demo.sh, a little longer (six versions over six weeks, with
promotions, an alias and a rollback, each event at its own date through git's dates), writes its
report, and shoots the model's page at 1280 px: the stage timeline and the first metric charts.
Needs Debian's chromium and the playwright package (both installed by the test setup).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELREG = [sys.executable, "-m", "modelreg"]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
VERSIONS = [  # auc, latency_ms, depth, description
    (0.912, 41.0, 6, "Baseline gradient boosting"),
    (0.931, 38.5, 8, "Sharded ensemble"),
    (0.925, 35.2, 8, "Pruned ensemble for latency"),
    (0.944, 44.8, 10, "Deeper trees, new features"),
    (0.951, 39.6, 10, "Retrained on October data"),
    (0.947, 33.1, 9, "Distilled student model"),
]
# (day, command words): promotions, an alias and a rollback, each on its own day
EVENTS = [
    (2, ["promote", "fraud-detector", "1", "production", "--reason", "first release"]),
    (8, ["promote", "fraud-detector", "2", "staging", "--reason", "canary"]),
    (10, ["promote", "fraud-detector", "2", "production", "--reason", "AUC +1.9 points"]),
    (15, ["promote", "fraud-detector", "3", "staging", "--reason", "latency work"]),
    (22, ["promote", "fraud-detector", "4", "staging", "--reason", "new features"]),
    (24, ["promote", "fraud-detector", "4", "production", "--reason", "AUC +1.3 points"]),
    (25, ["rollback", "fraud-detector", "--reason", "p99 latency regression in canary"]),
    (29, ["alias", "set", "fraud-detector", "challenger", "5", "--reason", "shadow traffic"]),
    (33, ["promote", "fraud-detector", "5", "production", "--reason", "AUC +2.0 points, latency fixed"]),
    (36, ["alias", "set", "fraud-detector", "challenger", "6", "--reason", "distilled candidate"]),
    (38, ["promote", "fraud-detector", "6", "staging", "--reason", "canary at 5%"]),
]
REGISTER_DAYS = [0, 7, 14, 21, 28, 35]


def run(repo: Path, day: int, *words: str) -> None:
    when = datetime(2026, 10, 1, tzinfo=UTC) + timedelta(days=day, hours=9 + day % 8, minutes=day * 7 % 60)
    date = when.isoformat()
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date, "PYTHONPATH": str(ROOT)}
    subprocess.run(words if words[0] == "git" else [*MODELREG, *words], cwd=repo, env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def build(work: Path) -> Path:
    repo = work / "demo-repo"
    repo.mkdir()
    run(repo, 0, "git", "init", "-q", "-b", "main")
    run(repo, 0, "git", "config", "user.name", "Jane Doe")
    run(repo, 0, "git", "config", "user.email", "jane@example.com")
    (repo / "README.md").write_text("# fraud detection\n")
    run(repo, 0, "git", "add", "README.md")
    run(repo, 0, "git", "commit", "-q", "-m", "initial")
    run(repo, 0, "init")
    steps = [(day, ("register", n)) for n, day in enumerate(REGISTER_DAYS)] + [(d, ("event", w)) for d, w in EVENTS]
    for day, (kind, what) in sorted(steps, key=lambda s: (s[0], s[1][0] == "event")):
        if kind == "register":
            auc, latency, depth, description = VERSIONS[what]  # type: ignore[index]
            weights = work / f"model-{what + 1}.bin"
            weights.write_bytes(os.urandom(200_000 + 50_000 * what))  # type: ignore[operator]
            run(repo, day, "register", "fraud-detector", str(weights), "--metric", f"auc={auc}",
                "--metric", f"latency_ms={latency}", "--param", f"depth={depth}", "--param", "lr=0.05",
                "--description", description, "--dataset", f"s3://data/fraud@v{3 + what // 2}")  # type: ignore[operator]  # fmt: skip
        else:
            run(repo, day, *what)  # type: ignore[misc]
    churn = work / "churn.bin"
    churn.write_bytes(os.urandom(100_000))
    run(repo, 30, "register", "churn", str(churn), "--metric", "f1=0.71", "--description", "Churn classifier")
    run(repo, 31, "promote", "churn", "1", "staging", "--reason", "pilot")
    return repo


def shoot(site: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route(
            "**/*", lambda route: route.continue_() if route.request.url.startswith("file://") else route.abort()
        )
        page.goto((site / "models" / "fraud-detector.html").as_uri())
        bottom = page.locator("section#metrics").bounding_box()
        assert bottom is not None
        page.screenshot(
            path=str(out), clip={"x": 0, "y": 0, "width": 1280, "height": bottom["y"] + bottom["height"] + 8}
        )
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build the registry and report here, and keep them")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="modelreg-shot-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        repo = build(work)
        run(repo, 40, "report", "-o", str(work / "site"))
        shoot(work / "site", args.out)
    print(f"{args.out}: {args.out.stat().st_size / 1000:.0f} KB")


if __name__ == "__main__":
    main()
