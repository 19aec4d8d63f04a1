"""Cold reads decide from the events that can matter (DESIGN §10), and answer exactly as the full replay does.

Histories are random (fixed seeds) and written straight into real repositories (tests/historygen.py):
promotions that archive, rollbacks, unassigns, aliases, retire/unretire, racing tags, and events the
policy refuses (no claim, a claim taken by another tag, another version's commit, an unregistered
version, a payload that is no event, a missing review).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from modelreg.api import Registry
from modelreg.core.refs import ModelRef
from modelreg.errors import ModelregError
from modelreg.read import admission, lean
from modelreg.read.reader import Reader
from tests.historygen import ALIASES, STAGES, build


def _full(reg: Reader, ref: ModelRef) -> tuple[Any, ...]:
    """What the full replay answers: the model's every event admitted and replayed."""
    try:
        view = reg.model(ref.name)
        mv = reg.version(view, reg.select(view.state, ref))
    except ModelregError as exc:
        return ("error", type(exc).__name__, str(exc))
    return ("ok", mv.version, mv.stage, mv.aliases, mv.digest, mv.commit)


def _lean(reg: Reader, ref: ModelRef) -> tuple[Any, ...]:
    try:
        mv = reg.resolve(ref)
    except ModelregError as exc:
        return ("error", type(exc).__name__, str(exc))
    return ("ok", mv.version, mv.stage, mv.aliases, mv.digest, mv.commit)


def _refs(versions: int) -> list[ModelRef]:
    return [
        ModelRef("fraud"),
        *(ModelRef("fraud", version=v) for v in range(1, versions + 1)),
        *(ModelRef("fraud", stage=s) for s in STAGES),
        *(ModelRef("fraud", alias=a) for a in ALIASES),
    ]


@pytest.mark.parametrize("seed", range(40))
def test_lean_answers_as_the_full_replay(tmp_path: Path, seed: int) -> None:
    held = build(tmp_path / "repo", seed)
    reg = Registry.open(tmp_path / "repo")
    decided = 0
    for ref in _refs(held["versions"]):
        full = _full(reg, ref)
        assert _lean(reg, ref) == full, (seed, str(ref))
        located = None
        try:
            found = reg.locate(ref)
            located = ("ok", found.version, found.digest)
        except ModelregError as exc:
            located = ("error", type(exc).__name__, str(exc))
        expected = (*full[:2], full[4]) if full[0] == "ok" else full
        assert located == expected, (seed, str(ref))
        for full_answer in (True, False):
            answer = lean.decide(reg.context, ref, full_answer)
            if answer is not None:
                decided += 1
                # What the lean read warns about, the full read warns about too.
                assert set(answer.warnings) <= set(reg.model("fraud").rejected), (seed, str(ref))
    assert decided > 0


def test_the_generated_histories_hold_what_they_should(tmp_path: Path) -> None:
    """The equivalence above means something: refusals, archives and fallbacks all occur in the seeds."""
    rejected: set[str] = set()
    stages: set[str | None] = set()
    errors = 0
    for seed in range(40):
        path = tmp_path / str(seed)
        held = build(path, seed)
        reg = Registry.open(path)
        try:
            rejected |= {w.split(": ", 1)[1].split(" ", 1)[-1][:20] for w in reg.model("fraud").rejected}
        except ModelregError:
            errors += 1
        for ref in _refs(held["versions"]):
            answer = _full(reg, ref)
            if answer[0] == "ok":
                stages.add(answer[2])
            else:
                errors += 1
    assert {"staging", "production", "archived", None} <= stages
    assert errors > 0
    assert len(rejected) >= 4, rejected


def test_a_lean_read_opens_only_the_tags_it_needs(tmp_path: Path) -> None:
    """Resolving the production holder of a long history reads a handful of tags, not all of them."""
    build(tmp_path / "repo", seed=7, steps=1)  # a model with one version
    repo = tmp_path / "repo"
    stream = []
    for seq in range(2, 302):
        stream.append(f"create refs/tags/fraud#_describe#{seq} {_describe_tag(repo, seq)}\n")
    subprocess.run(["git", "update-ref", "--stdin"], cwd=repo, input="".join(stream), text=True, check=True)
    reg = Registry.open(repo)
    listing = admission.list_refs(reg.context, "fraud")
    judge = admission.Judge(reg.context, "fraud", listing)
    answer = lean._Query(judge).decide(ModelRef("fraud"), full=True)
    assert answer.state.versions == (1,)
    assert len(judge.events) <= 2, sorted(judge.events)
    assert len(listing.targets["_describe"]) == 300


def _describe_tag(repo: Path, seq: int) -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "refs/tags/fraud@v1^{commit}"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()
    payload = {"modelreg": 1, "action": "describe", "kind": "model", "target": "_describe", "version": 1}
    message = f"describe\n\n{json.dumps({**payload, 'description': f'd{seq}'})}\n"
    tagger = "Jane Doe <jane@example.com> 1767323045 +0000"
    text = f"object {commit}\ntype commit\ntag fraud#_describe#{seq}\ntagger {tagger}\n\n{message}"
    return subprocess.run(
        ["git", "mktag"], cwd=repo, input=text, check=True, capture_output=True, text=True
    ).stdout.strip()
