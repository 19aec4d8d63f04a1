"""The notify recipes (examples/github/notify.yml, examples/gitlab/notify.gitlab-ci.yml, and their copies in
docs/notify.md) run as written against a real HTTP server on 127.0.0.1: each event tag announced once."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from modelreg import Registry
from tests.conftest import ROOT, git
from tests.test_ci_recipes import bash, checkout_tag, github_steps, runnable
from tests.test_notify import Hook, hook, secret  # noqa: F401 - fixtures

GITHUB = ROOT / "examples" / "github" / "notify.yml"
GITLAB = ROOT / "examples" / "gitlab" / "notify.gitlab-ci.yml"


def test_the_recipes_are_in_the_docs_verbatim() -> None:
    docs = (ROOT / "docs" / "notify.md").read_text(encoding="utf-8")
    for path in (GITHUB, GITLAB):
        assert path.read_text(encoding="utf-8") in docs, f"{path.name} differs from its copy in docs/notify.md"


def promote(writer: Path, tmp_path: Path) -> None:
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"weights")
    Registry.open(writer).register("fraud", weights, push=True)
    Registry.open(writer).promote("fraud", 1, "production", reason="first", push=True)  # fraud#production#1


def test_github_recipe_announces_each_tag_once(remote, clone, hook: Hook, tmp_path) -> None:  # noqa: F811
    workflow = yaml.safe_load(GITHUB.read_text())
    assert workflow[True]["push"] == {"tags": ["*#*#*"]} and workflow["concurrency"]["cancel-in-progress"] is False
    writer = clone("writer")
    promote(writer, tmp_path)
    Registry.open(writer).set_alias("fraud", "champion", 1, push=True)  # fraud#champion#2, pushed with it

    def run(ci: Path, tag: str) -> None:
        github_steps(workflow, ci, {}, {"github.ref_name": tag, "secrets.SLACK_WEBHOOK_URL": hook.url})

    ci = checkout_tag(clone("ci"), "fraud#production#1")
    run(ci, "fraud#production#1")  # the first run (a cache miss): this tag and what follows it
    run(ci, "fraud#champion#2")  # the second tag's run: the state (the restored cache) says it went out
    assert [r.json()["text"] for r in hook.received] == ["fraud v1 → production", "fraud@champion → v1"]
    Registry.open(writer).remove_alias("fraud", "champion", push=True)  # fraud#champion#3
    run(ci, "fraud#champion#3")
    assert len(hook.received) == 3 and "fraud#champion#3" in hook.received[2].json()["blocks"][0]["text"]["text"]


def test_gitlab_recipe_posts_to_the_configs_destinations_once(remote, clone, hook: Hook, tmp_path) -> None:  # noqa: F811
    pipeline = yaml.safe_load(GITLAB.read_text())
    job = pipeline["notify"]
    pattern = re.search(r"=~ /(.*)/$", job["rules"][0]["if"])
    assert pattern and re.fullmatch(pattern[1], "fraud#production#1") and re.fullmatch(pattern[1], "fraud#_retire#4")
    assert not re.fullmatch(pattern[1], "fraud@v1")
    writer = clone("writer")
    config = writer / ".modelreg" / "config.yaml"
    config.write_text(
        config.read_text() + "notify:\n  - name: chat\n    url_env: SLACK_WEBHOOK_URL\n    format: slack\n"
    )
    git(writer, "commit", "-q", "-am", "announce to chat")
    git(writer, "push", "-q", "origin", "main")
    promote(writer, tmp_path)
    ci = checkout_tag(clone("ci"), "fraud#production#1")
    env = {"CI_COMMIT_TAG": "fraud#production#1", "SLACK_WEBHOOK_URL": hook.url}
    for _ in range(2):  # a retried job sends nothing twice
        bash(runnable(job["script"]), ci, env)
    assert [r.json()["text"] for r in hook.received] == ["fraud v1 → production"]
