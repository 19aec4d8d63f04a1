"""The CI files in examples/ (and docs/ci.md) parse, and their modelreg steps work in a real repository.

A merged request is applied by the apply job, which pushes the event tag; the deploy job then
checks that tag and pulls the artifact. Steps that install modelreg or deploy (the user's own
script) are not run; every other step runs as written, in bash, with the variables the CI
system would set.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelreg import Registry
from tests.conftest import ROOT, git

EXAMPLES = ROOT / "examples"
GITHUB_APPLY = EXAMPLES / "github" / "modelreg-apply.yml"
GITHUB_DEPLOY = EXAMPLES / "github" / "modelreg-deploy.yml"
GITHUB_REPORT = EXAMPLES / "github" / "report-pages.yml"
GITLAB = EXAMPLES / "gitlab" / ".gitlab-ci.yml"
NOT_RUN = re.compile(r"^(pip install|\./deploy\.sh)")  # installing modelreg; the user's own deploy script
BOB = {"GIT_AUTHOR_NAME": "Bob Reviewer", "GIT_AUTHOR_EMAIL": "bob@example.com"}


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    full_env = {**os.environ, "PATH": path, "PYTHONPATH": str(ROOT), **env}
    proc = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script], cwd=cwd, env=full_env, capture_output=True, text=True
    )
    assert proc.returncode == 0, f"{script}\n{proc.stdout}\n{proc.stderr}"
    return proc


def runnable(lines: list[str]) -> str:
    return "\n".join(line for line in lines if not NOT_RUN.match(line.strip()))


@pytest.fixture
def merged_request(remote: Path, clone, tmp_path: Path) -> Path:
    """A remote where production needs review, v1 is registered, and Bob merged a request for it."""
    work = clone("work")
    config = work / ".modelreg" / "config.yaml"
    config.write_text(config.read_text().replace("review_required: []", "review_required: [production]"))
    git(work, "commit", "-q", "-am", "review production")
    git(work, "push", "-q", "origin", "main")
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"production weights")
    Registry.open(work).register("fraud", weights, push=True)
    created = Registry.open(work).request("fraud", 1, "production", push=True)
    git(work, "fetch", "-q", "origin")
    subprocess.run(
        ["git", "merge", "-q", "--no-ff", f"origin/{created.branch}", "-m", "Merge request"],
        cwd=work,
        env={**os.environ, **BOB},
        check=True,
    )
    git(work, "push", "-q", "origin", "main")
    return remote


def checkout_tag(repo: Path, tag: str) -> Path:
    """What a tag pipeline starts from: HEAD detached at the tagged commit (the version's, not main's tip),
    and no local main branch."""
    git(repo, "checkout", "-q", "--detach", f"refs/tags/{tag}")
    git(repo, "branch", "-q", "-D", "main")
    git(repo, "update-ref", "-d", "refs/remotes/origin/main")
    git(repo, "update-ref", "-d", "refs/remotes/origin/HEAD")
    return repo


def test_the_examples_are_in_docs_verbatim() -> None:
    docs = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    for path in (GITHUB_APPLY, GITHUB_DEPLOY, GITLAB):
        assert path.read_text(encoding="utf-8") in docs, f"{path.name} differs from its copy in docs/ci.md"


def test_github_triggers() -> None:
    apply, deploy = (yaml.safe_load(p.read_text()) for p in (GITHUB_APPLY, GITHUB_DEPLOY))
    # PyYAML reads the key `on` as True (YAML 1.1); GitHub reads it as "on".
    assert apply[True]["push"] == {"branches": ["main"], "paths": [".modelreg/requests/**"]}
    assert deploy[True]["push"] == {"tags": ["*#production#*"]}
    for workflow in (apply, deploy):
        (job,) = workflow["jobs"].values()
        checkout = job["steps"][0]
        assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0
    assert "secrets." in apply["jobs"]["apply"]["steps"][0]["with"]["token"]  # not the default GITHUB_TOKEN


def github_steps(workflow: dict[str, Any], cwd: Path, env: dict[str, str], expressions: dict[str, str]) -> None:
    """Run a job's `run` steps in order: `${{ }}` from `expressions` or step outputs, `if:` on outputs."""
    (job,) = workflow["jobs"].values()
    outputs_file = cwd.parent / f"github-output-{cwd.name}"
    outputs_file.write_text("")
    outputs: dict[str, dict[str, str]] = {}

    def value(expression: str) -> str:
        expression = expression.strip()
        if match := re.fullmatch(r"steps\.(\w+)\.outputs\.(\w+)", expression):
            return outputs.get(match[1], {}).get(match[2], "")
        return expressions.get(expression, "")

    for step in job["steps"]:
        if "run" not in step or step.get("name") in ("Install modelreg", "Deploy"):
            continue
        if condition := step.get("if"):
            left, right = (part.strip() for part in condition.split("=="))
            if value(left) != right.strip("'"):
                continue
        step_env = {
            k: re.sub(r"\$\{\{(.*?)\}\}", lambda m: value(m[1]), str(v)) for k, v in step.get("env", {}).items()
        }
        size = outputs_file.stat().st_size
        bash(runnable(step["run"].splitlines()), cwd, {**env, **step_env, "GITHUB_OUTPUT": str(outputs_file)})
        if "id" in step:
            outputs[step["id"]] = parse_github_output(outputs_file.read_text()[size:])


def parse_github_output(text: str) -> dict[str, str]:
    result, lines = {}, text.splitlines()
    while lines:
        key, delimiter = lines.pop(0).split("<<", 1)
        value = []
        while (line := lines.pop(0)) != delimiter:
            value.append(line)
        result[key] = "\n".join(value)
    return result


def test_github_workflows_apply_then_deploy(merged_request: Path, clone) -> None:
    ci = clone("github-apply")
    github_steps(yaml.safe_load(GITHUB_APPLY.read_text()), ci, {}, {})
    tags = git(merged_request, "tag", "-l", "fraud#*").split()
    assert tags == ["fraud#production#1"]
    body = git(merged_request, "cat-file", "tag", tags[0])
    assert '"approved_by": "Bob Reviewer <bob@example.com>"' in body

    deploy = checkout_tag(clone("github-deploy"), "fraud#production#1")
    github_steps(
        yaml.safe_load(GITHUB_DEPLOY.read_text()),
        deploy,
        {},
        {"github.ref": "refs/tags/fraud#production#1"},
    )
    assert (deploy / "serving" / "model" / "model.bin").read_bytes() == b"production weights"


def test_github_deploy_fails_on_a_tag_that_does_not_verify(merged_request: Path, clone) -> None:
    ci = clone("github-apply")
    github_steps(yaml.safe_load(GITHUB_APPLY.read_text()), ci, {}, {})
    # Someone pushes a production tag by hand, bypassing review.
    rogue = clone("rogue")
    git(rogue, "fetch", "-q", "origin", "+refs/modelreg/*:refs/modelreg/*")
    commit = git(rogue, "rev-parse", "fraud@v1^{commit}").strip()
    message = '{"modelreg": 1, "action": "assign", "kind": "stage", "target": "production", "version": 1}'
    git(rogue, "tag", "-a", "fraud#production#2", commit, "-m", "sneak", "-m", message)
    obj = git(rogue, "rev-parse", "refs/tags/fraud#production#2").strip()
    git(rogue, "update-ref", "refs/modelreg/events/fraud/2", obj)
    git(rogue, "push", "-q", "--atomic", "origin", "refs/tags/fraud#production#2", "refs/modelreg/events/fraud/2")
    deploy = checkout_tag(clone("github-deploy"), "fraud#production#2")
    with pytest.raises(AssertionError, match="without a merged request"):
        github_steps(
            yaml.safe_load(GITHUB_DEPLOY.read_text()),
            deploy,
            {},
            {"github.ref": "refs/tags/fraud#production#2"},
        )
    assert not (deploy / "serving").exists()


def test_github_deploy_of_an_old_tag_is_judged_by_todays_policy(remote: Path, clone, tmp_path: Path) -> None:
    """A promotion made before production needed review: its tag's own commit says no review is needed,
    main says it is. The deploy job checks out the tag's commit, and must still refuse it."""
    work = clone("work")
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"unreviewed weights")
    reg = Registry.open(work)
    reg.register("fraud", weights, push=True)
    reg.promote("fraud", 1, "production", push=True)
    config = work / ".modelreg" / "config.yaml"
    config.write_text(config.read_text().replace("review_required: []", "review_required: [production]"))
    git(work, "commit", "-q", "-am", "review production from now on")
    git(work, "push", "-q", "origin", "main")

    deploy = checkout_tag(clone("github-deploy"), "fraud#production#1")
    assert "review_required: []" in (deploy / ".modelreg" / "config.yaml").read_text()
    with pytest.raises(AssertionError, match="without a merged request"):
        github_steps(
            yaml.safe_load(GITHUB_DEPLOY.read_text()),
            deploy,
            {},
            {"github.ref": "refs/tags/fraud#production#1"},
        )
    assert not (deploy / "serving").exists()


def test_gitlab_pipeline_apply_then_deploy(merged_request: Path, clone) -> None:
    pipeline = yaml.safe_load(GITLAB.read_text())
    assert pipeline["stages"] == ["apply", "deploy"] and pipeline["variables"]["GIT_DEPTH"] == 0
    tag_rule = pipeline["deploy"]["rules"][0]["if"]
    pattern = re.search(r"=~ /(.*)/$", tag_rule)
    assert pattern and re.fullmatch(pattern[1], "fraud#production#1")
    assert not re.fullmatch(pattern[1], "fraud#staging#1") and not re.fullmatch(pattern[1], "fraud@v1")
    before = pipeline[".modelreg"]["before_script"]

    def job(name: str, cwd: Path, env: dict[str, str]) -> None:
        lines = [*before, *pipeline[name]["script"]]
        lines = [line for line in lines if not line.startswith("git remote set-url")]  # the test's remote is local
        bash(runnable(lines), cwd, env)

    ci = clone("gitlab-apply")
    job("apply", ci, {"MODELREG_PUSH_TOKEN": "unused"})
    assert git(merged_request, "tag", "-l", "fraud#*").split() == ["fraud#production#1"]
    deploy = checkout_tag(clone("gitlab-deploy"), "fraud#production#1")
    job("deploy", deploy, {"CI_COMMIT_TAG": "fraud#production#1"})
    sourced = bash('. ./model.env && printf \'%s|%s\' "$MODELREG_APPROVED_BY" "$MODELREG_VERSION"', deploy, {})
    assert sourced.stdout == "Bob Reviewer <bob@example.com>|1"
    assert (deploy / "serving" / "model" / "model.bin").read_bytes() == b"production weights"


def test_github_report_recipe_builds_the_pages_it_uploads(remote: Path, clone, tmp_path: Path) -> None:
    workflow = yaml.safe_load(GITHUB_REPORT.read_text())
    assert GITHUB_REPORT.read_text(encoding="utf-8") in (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    assert workflow[True]["push"] == {"tags": ["*#*#*", "*@v*"]}
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    (job,) = workflow["jobs"].values()
    uses = [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]
    assert uses == ["actions/checkout", "actions/setup-python", "actions/upload-pages-artifact", "actions/deploy-pages"]
    assert job["steps"][0]["with"]["fetch-depth"] == 0
    upload = next(step for step in job["steps"] if step.get("uses", "").startswith("actions/upload-pages-artifact"))

    work = clone("work")
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"weights")
    reg = Registry.open(work)
    reg.register("fraud", weights, push=True)
    reg.promote("fraud", 1, "production", push=True)
    ci = clone("github-report")
    github_steps(workflow, ci, {}, {})
    site = ci / upload["with"]["path"]
    assert (site / "index.html").is_file() and (site / "models" / "fraud.html").is_file()
    assert "fraud#production#1" in (site / "models" / "fraud.html").read_text()
