"""The importers' pure mapping: MLflow and GTO vocabulary, plans, what still needs writing."""

from __future__ import annotations

import pytest
from mlflow.exceptions import MlflowException

from modelreg.core import mlflowmap, names
from modelreg.core.events import replay
from modelreg.core.filtering import parse_filter
from modelreg.errors import InvalidInputError
from modelreg.importers import gto_plan, mlflow_plan
from modelreg.importers.plan import EventStep, ModelStep, describe_needed, needed
from modelreg.mlflow.search import PROMPT_TAG, matching, model_record, models, names_wanted, versions
from modelreg.models import Event, ModelState, ModelSummary

STAGES = ("staging", "production", "archived")


def test_registry_uri() -> None:
    assert mlflowmap.registry_path("modelreg:///srv/models%20repo") == "/srv/models repo"
    for bad in ("file:///srv/x", "modelreg://host/srv/x", "modelreg:relative"):
        with pytest.raises(InvalidInputError):
            mlflowmap.registry_path(bad)


def test_stage_names_both_ways() -> None:
    assert mlflowmap.to_modelreg_stage("Production", STAGES) == "production"
    assert mlflowmap.to_modelreg_stage("None", STAGES) is None
    with pytest.raises(InvalidInputError, match="stages: None, Staging, Production, Archived"):
        mlflowmap.to_modelreg_stage("Shadow", STAGES)
    assert [mlflowmap.to_mlflow_stage(s) for s in (None, "staging", "canary")] == ["None", "Staging", "canary"]


def test_values_keys_and_times() -> None:
    assert mlflowmap.params({"lr": "0.1", "depth": "6", "name": "xgb", "odd key": "x"}) == {
        "depth": 6,
        "lr": 0.1,
        "name": "xgb",
        "odd_key": "x",
    }
    assert mlflowmap.metrics({"auc": 0.9, "nan": float("nan")}) == {"auc": 0.9, "nan": "nan"}
    assert mlflowmap.tags({"id": "007"}) == {"id": "007"}
    assert mlflowmap.model_name("Churn Model (EU)") == "churn-model-eu"
    assert mlflowmap.millis("2026-01-02T03:04:05Z") == 1767323045000
    assert mlflowmap.git_date(1767323045123) == "@1767323045 +0000"
    assert mlflowmap.iso_time(1767323045123) == "2026-01-02T03:04:05Z"


def _mv(version: int, stage: str, updated: int, run: str | None = None) -> mlflow_plan.MlflowVersion:
    return mlflow_plan.MlflowVersion("Churn", version, 1000 * version, updated, "ann", stage, "", "src", run, {})


def _churn(name: str = "Churn", aliases: dict[str, int] | None = None) -> mlflow_plan.MlflowModel:
    versions = (_mv(1, "Archived", 5000, "r1"), _mv(2, "Production", 4000), _mv(3, "None", 3000))
    return mlflow_plan.MlflowModel(
        name,
        "about churn",
        {"team": "risk"},
        {"champion": 2, "v9": 1} if aliases is None else aliases,
        9000,
        tuple(v._replace(name=name) for v in versions),
    )


def test_mlflow_plan_orders_stages_by_last_update_and_maps_aliases() -> None:
    facts = {"r1": mlflow_plan.RunFacts({"C": "1.5"}, {"auc": 0.5}, "c" * 40, "7")}
    plan = mlflow_plan.plan([_churn()], facts, STAGES, "sqlite:///m.db")
    assert [v.key for v in plan.versions] == ["MLflow:Churn:1", "MLflow:Churn:2", "MLflow:Churn:3"]
    first = plan.versions[0]
    assert (first.name, dict(first.params), first.code_commit, first.imported["experiment_id"]) == (
        "Churn",  # MLflow's name, exactly: the plugin finds it by that name
        {"C": 1.5},
        "c" * 40,
        "7",
    )
    assert [(e.name, e.action, e.target, e.version_key) for e in plan.events] == [
        ("Churn", "unassign", "", "MLflow:Churn:3"),
        ("Churn", "assign", "production", "MLflow:Churn:2"),
        ("Churn", "assign", "archived", "MLflow:Churn:1"),
        ("Churn", "assign", "champion", "MLflow:Churn:2"),
    ]
    assert plan.models == (ModelStep("Churn", "about churn", {"team": "risk"}),)  # the model's own: a describe
    assert any("v9" in line for line in plan.skipped)  # an alias that looks like a version


def test_mlflow_plan_keeps_names_and_aliases_exactly_and_skips_what_the_plugin_refuses() -> None:
    models = [
        _churn("Churn Model (EU)", {"Champion": 2, "champion": 1}),
        _churn("churn-model-eu", {}),  # the slug of the first: a model of its own, never merged into it
        _churn("x" * 40 + "É" * 20, {}),  # its key (each É escaped as +195+137) is too long for git refs
    ]
    plan = mlflow_plan.plan(models, {}, STAGES, None)
    assert sorted({v.name for v in plan.versions}) == ["Churn Model (EU)", "churn-model-eu"]
    aliases = [(e.name, e.target, e.version_key) for e in plan.events if e.kind == "alias"]
    assert aliases == [("Churn Model (EU)", "champion", "MLflow:Churn Model (EU):1")]  # not `Champion`'s v2
    assert plan.skipped == [
        "MLflow Churn Model (EU)@Champion: invalid alias name 'Champion': use lowercase letters and digits, "
        "separated by single '.', '_' or '-'",
        f"MLflow model {models[2].name!r}: {names.model_name_problem(models[2].name)}",
    ]
    assert "too long for git refs" in plan.skipped[1]


def test_mlflow_plan_keeps_a_model_imported_earlier_under_its_slug_there() -> None:
    """Imports before names were kept exactly wrote `Churn Model` as `churn-model`, aliases lowercased."""
    models = [
        _churn("Churn Model", {"Champion": 2}),
        _churn("churn-model", {}),  # the old import skipped it (its slug was taken): it still is
        _churn("team/churn", {}),  # a name the rule refuses today, imported earlier under its slug: it stays
        _churn("Fraud", {}),  # nothing imported earlier: its exact name
    ]
    earlier = {"churn-model": {"Churn Model"}, "team-churn": {"team/churn"}, "Churn Model": set()}
    plan = mlflow_plan.plan(models, {}, STAGES, None, earlier)
    assert [(v.name, v.key) for v in plan.versions if v.key.endswith(":1")] == [
        ("churn-model", "MLflow:Churn Model:1"),
        ("team-churn", "MLflow:team/churn:1"),
        ("Fraud", "MLflow:Fraud:1"),
    ]
    assert {e.name for e in plan.events} == {"churn-model", "team-churn", "Fraud"}
    assert [(e.name, e.target) for e in plan.events if e.kind == "alias"] == [("churn-model", "champion")]
    assert plan.skipped == [
        "MLflow model 'churn-model': its modelreg name 'churn-model' is taken by MLflow's 'Churn Model'"
    ]
    # Only the versions' keys say where a model went: a version key of another source is not MLflow's.
    assert [mlflow_plan.key_name(k) for k in ("MLflow:Churn Model:3", "GTO:churn@v1", "MLflow:x")] == [
        "Churn Model",
        None,
        None,
    ]
    # A model already imported under its exact name stays there, even if its slug holds it too.
    both = {"Churn Model": {"Churn Model"}, "churn-model": {"Churn Model"}}
    assert {v.name for v in mlflow_plan.plan(models[:1], {}, STAGES, None, both).versions} == {"Churn Model"}


def _state(*events: Event) -> object:
    return replay("m", [Event("m", "register", v, f"m@v{v}") for v in (1, 2)] + list(events))


def test_state_events_are_needed_only_when_the_state_differs() -> None:
    promote = EventStep("m", "k", "assign", "stage", "production", "state")
    leave = EventStep("m", "k", "unassign", "stage", "", "state")
    state = _state(Event("m", "assign", 1, "m#production#1", 1, "stage", "production"))
    assert not needed(promote, state, 1, set())  # type: ignore[arg-type]
    assert needed(promote, state, 2, set())  # type: ignore[arg-type]
    assert needed(leave, state, 1, set()) and not needed(leave, state, 2, set())  # type: ignore[arg-type]
    history = promote._replace(mode="history", key="GTO:m#prod#1")
    assert needed(history, state, 1, set()) and not needed(history, state, 1, {"GTO:m#prod#1"})  # type: ignore[arg-type]


def test_a_models_own_description_and_tags_are_described_only_when_they_differ() -> None:
    state = ModelState("m", (1,), {}, {}, {}, {}, 1, description="old", tags={"team": "risk", "tier": 1})
    assert not describe_needed(ModelStep("m", "old", {"team": "risk"}), state)  # modelreg's extra tags may stay
    assert describe_needed(ModelStep("m", "new", {}), state)
    assert describe_needed(ModelStep("m", "old", {"team": "growth"}), state)
    assert describe_needed(ModelStep("m", "old", {"owner": "jane"}), state)


def test_gto_tag_grammar() -> None:
    assert gto_plan.parse("churn@v1.2.3") == gto_plan.Parsed("churn", "register", "v1.2.3", None, 0)
    assert gto_plan.parse("churn@v1.2.3!#4") == gto_plan.Parsed("churn", "deregister", "v1.2.3", None, 4)
    assert gto_plan.parse("nlp=bert#prod#12") == gto_plan.Parsed("nlp:bert", "assign", None, "prod", 12)
    assert gto_plan.parse("churn#dev!#5") == gto_plan.Parsed("churn", "unassign", None, "dev", 5)
    assert gto_plan.parse("churn@deprecated#6") == gto_plan.Parsed("churn", "deprecate", None, None, 6)
    assert gto_plan.parse("churn#prod") == gto_plan.Parsed("churn", "assign", None, "prod", 0)
    for other in ("v1.0.0", "release-2", "churn@1.0"):
        assert gto_plan.parse(other) is None
    assert gto_plan.map_stage("prod", {}, STAGES) == "production"
    assert gto_plan.map_stage("dev", {"dev": "staging"}, STAGES) == "staging"
    assert gto_plan.map_stage("dev", {}, STAGES) is None


def _tag(name: str, commit: str, second: int) -> gto_plan.GtoTag:
    return gto_plan.GtoTag(name, commit, "Ann <ann@example.com>", f"2026-03-04T05:06:{second:02d}+00:00", name)


def test_gto_plan_follows_tag_order_and_explains_what_does_not_map() -> None:
    tags = [
        _tag("churn#prod#3", "c2", 5),
        _tag("churn@v0.1.0", "c2", 2),
        _tag("churn@v0.0.1", "c1", 1),
        _tag("churn#dev#1", "c1", 3),
        _tag("churn#prod#2", "c1", 3),  # same second as #1: the counter orders them
        _tag("churn#dev!#4", "c1", 4),  # v0.0.1 no longer holds dev: modelreg moved it to production
        _tag("churn@v0.0.1!#5", "c1", 6),
        _tag("churn#qa#6", "c2", 7),
    ]
    index = {"c1": {"churn": {"path": "m.pkl", "description": "d"}}, "c2": {}}
    plan = gto_plan.plan(tags, index, {"dev": "staging"}, STAGES)
    assert [(v.key, v.location, v.missing is None) for v in plan.versions] == [
        ("GTO:churn@v0.0.1", "c1:m.pkl", True),
        ("GTO:churn@v0.1.0", None, False),
    ]
    stages = [e for e in plan.events if e.kind == "stage"]
    assert [(e.key, e.action, e.target, e.version_key) for e in plan.events if e.kind == "alias"] == [
        ("GTO:churn@v0.0.1:alias", "assign", "v0.0.1", "GTO:churn@v0.0.1"),  # GTO's version name resolves
        ("GTO:churn@v0.1.0:alias", "assign", "v0.1.0", "GTO:churn@v0.1.0"),
        ("GTO:churn@v0.0.1!#5:alias", "unassign", "v0.0.1", "GTO:churn@v0.0.1"),  # and leaves on deregister
    ]
    assert [(e.key, e.action, e.target, e.version_key) for e in stages] == [
        ("GTO:churn#dev#1", "assign", "staging", "GTO:churn@v0.0.1"),
        ("GTO:churn#prod#2", "assign", "production", "GTO:churn@v0.0.1"),
        ("GTO:churn#prod#3", "assign", "production", "GTO:churn@v0.1.0"),
        ("churn@v0.0.1!#5:GTO:churn@v0.0.1", "unassign", "production", "GTO:churn@v0.0.1"),
    ]
    assert stages[0].imported["tag"] == "churn#dev#1" and stages[0].who == "Ann <ann@example.com>"
    assert any(line.startswith("churn#dev!#4:") for line in plan.skipped)
    assert any(line.startswith("churn#qa#6: GTO stage 'qa'") for line in plan.skipped)


def test_search_pins_names_and_drops_mlflows_prompt_clause() -> None:
    assert names_wanted(parse_filter("name = 'a' AND version > 2")) == {"a"}
    assert names_wanted(parse_filter("name IN ('a', 'b') AND name = 'b'")) == {"b"}
    assert names_wanted(parse_filter("name LIKE 'a%'")) is None
    # MLflow's client leaves prompts out with this clause: a model that is no prompt has the prompt tag 'false'
    filter_, _ = models("name = 'a' AND tags.`mlflow.prompt.is_prompt` != 'true'", None)
    plain, prompt = ModelSummary("a", 1, 1, {}, {}), ModelSummary("a", 1, 1, {}, {}, tags={PROMPT_TAG: "true"})
    assert matching([plain, prompt], filter_, None, model_record) == [plain]
    filter_, order = versions("run_id = 'r'", ["version_number DESC"])
    assert len(filter_.clauses) == 1 and order[0].descending
    with pytest.raises(MlflowException, match="Invalid entity type 'params'"):  # refused in MLflow's own words
        models("params.C = '1'", None)
