"""The report's pure parts: spans from a history, SVG geometry, and escaping of every free-text field."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelreg.core.events import ARCHIVED, history_order, replay
from modelreg.models import Artifact, ArtifactFile, Event, Lineage, Manifest, ModelVersion
from modelreg.report.charts import metric_svg, timeline_svg
from modelreg.report.pages import CSP, STYLE_HASH, index_html, model_html
from modelreg.report.records import ModelRecord, SiteRecord, Span
from modelreg.report.style import STYLESHEET
from modelreg.report.timeline import lanes, spans

HOSTILE = '<img src=x onerror=alert(1)></script><script>alert("x")</script>&amp;"\''
DIGEST = "sha256:" + "ab" * 32


class Elements(HTMLParser):
    """Every start tag of a page, and whether a script or an event handler attribute appears."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.handlers: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on") or name == "style"]


def register(version: int, date: str = "2026-01-01T00:00:00Z") -> Event:
    return Event("m", "register", version, f"m@v{version}", date=date, actor="Jane <j@x>")


def stage(seq: int, version: int, target: str, archived: tuple[int, ...] = (), **kw: object) -> Event:
    return Event(
        "m",
        "assign",
        version,
        f"m#{target}#{seq}",
        seq=seq,
        kind="stage",
        target=target,
        archived=archived,
        date=f"2026-01-{seq + 1:02d}T00:00:00Z",
        **kw,  # type: ignore[arg-type]
    )


def alias(seq: int, version: int, target: str, action: str = "assign") -> Event:
    return Event("m", action, version, f"m#{target}#{seq}", seq=seq, kind="alias", target=target)  # type: ignore[arg-type]


def version(v: int, metrics: dict[str, object] | None = None, text: str = "") -> ModelVersion:
    manifest = Manifest(
        "m", v, "2026-01-01T00:00:00Z", text or "Jane <j@x>",
        Artifact("s", DIGEST, 10, (ArtifactFile("f", DIGEST, 10),)),
        description=text, params={"p": text} if text else {}, metrics=metrics or {},
        lineage=Lineage(dataset=text or None), tags={"team": text} if text else {},
    )  # fmt: skip
    return ModelVersion(manifest, None, (), "c" * 40)


def site_of(model: ModelRecord) -> SiteRecord:
    return SiteRecord((model,), ("staging", "production", ARCHIVED), "production", "repo")


def record(history: list[Event], versions: tuple[ModelVersion, ...], **kw: object) -> ModelRecord:
    ordered = tuple(history_order(history))
    state = replay("m", ordered)
    holders = {s: state.stage_holders(s) for s in ("staging", "production") if state.stage_holders(s)}
    return ModelRecord("m", versions, ordered, spans(ordered), holders, dict(state.aliases), **kw)  # type: ignore[arg-type]


# --- spans --------------------------------------------------------------------------------------


def test_spans_follow_promotions_archives_and_aliases() -> None:
    history = history_order(
        [
            register(1),
            register(2),
            stage(1, 1, "production"),
            alias(2, 1, "champion"),
            stage(3, 2, "production", archived=(1,)),
            alias(4, 2, "champion"),
            alias(5, 2, "champion", "unassign"),
        ]
    )
    got = {(s.target, s.version): (s.start, s.end) for s in spans(history)}
    at = {e.tag: i for i, e in enumerate(history)}
    assert got == {
        ("production", 1): (at["m#production#1"], at["m#production#3"]),
        ("champion", 1): (at["m#champion#2"], at["m#champion#4"]),
        ("production", 2): (at["m#production#3"], None),
        (ARCHIVED, 1): (at["m#production#3"], None),
        ("champion", 2): (at["m#champion#4"], at["m#champion#5"]),
    }


EVENT = st.tuples(
    st.sampled_from(["assign", "unassign", "rollback"]),
    st.sampled_from(["stage", "alias"]),
    st.sampled_from(["staging", "production", "champion"]),
    st.integers(1, 4),
    st.lists(st.integers(1, 4), max_size=2),
)


@settings(
    max_examples=200, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(EVENT, max_size=25))
def test_open_spans_are_the_replayed_state(steps: list[tuple[str, str, str, int, list[int]]]) -> None:
    events = [register(v) for v in range(1, 5)]
    for seq, (action, kind, target, v, archived) in enumerate(steps, start=1):
        events.append(
            Event(
                "m",
                action,
                v,
                f"m#{target}#{seq}",
                seq=seq,
                kind=kind,
                target=target,  # type: ignore[arg-type]
                archived=tuple(archived) if kind == "stage" else (),
            )
        )
    state = replay("m", events)
    found = spans(history_order(events))
    open_stages = {s.version: s.target for s in found if s.kind == "stage" and s.end is None}
    open_aliases = {s.target: s.version for s in found if s.kind == "alias" and s.end is None}
    assert open_stages == state.stages
    assert open_aliases == state.aliases
    for span in found:
        assert span.end is None or span.end > span.start


def test_lanes_keep_overlapping_spans_apart_up_to_the_limit() -> None:
    row = [
        Span("stage", "staging", v, start, end, "")
        for v, (start, end) in enumerate([(0, 5), (1, 3), (3, None), (2, 4)])
    ]
    assert lanes(row, 4) == [0, 1, 1, 2]
    assert lanes(row, 2) == [0, 1, 1, 1]


# --- SVG ----------------------------------------------------------------------------------------


def coordinates(svg: str, attr: str) -> list[float]:
    return [float(v) for v in re.findall(rf'\b{attr}="(-?[0-9.]+)"', svg)]


def test_a_chart_of_one_version_is_centred_and_finite() -> None:
    svg = metric_svg("auc", [(3, 0.5)], frozenset(), frozenset({3}), "production")
    (cx,) = coordinates(svg, "cx")
    (cy,) = coordinates(svg, "cy")
    assert 210 < cx < 230 and 20 < cy < 190  # the middle of the plot
    assert "nan" not in svg.lower() and "inf" not in svg.lower()
    assert "production v3" in svg


def test_a_chart_spans_its_values_and_marks_the_production_holders() -> None:
    svg = metric_svg("loss", [(1, 2.0), (2, 1.0), (3, 3.0)], frozenset({1, 2}), frozenset({2}), "production")
    ys = coordinates(svg, "cy")
    assert ys[2] < ys[0] < ys[1]  # higher values are drawn higher
    assert svg.count('class="point current"') == 1 and svg.count('class="point held"') == 1
    assert 'data-version="2"' in svg.split('class="point current"')[1][:30]


def test_equal_values_still_get_a_range() -> None:
    svg = metric_svg("x", [(1, 0.0), (2, 0.0)], frozenset(), frozenset(), None)
    assert len(set(coordinates(svg, "cy"))) == 1 and "nan" not in svg.lower()


def test_no_points_no_chart() -> None:
    assert metric_svg("x", [], frozenset(), frozenset(), None) == ""


def test_the_timeline_scales_spans_to_the_history() -> None:
    row = [Span("stage", "production", 1, 0, 5, "a"), Span("stage", "production", 2, 5, None, "b")]
    svg = timeline_svg([("production", row)], 10, [(0, "2026-01-01")])
    rects = re.findall(r'<rect class="([^"]*)" x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)"', svg)
    (_, track_x, track_w), (_, first_x, first_w), (last, second_x, second_w) = (
        (c, float(x), float(w)) for c, x, w in rects
    )
    assert first_x == track_x and first_w == pytest.approx(second_w) == pytest.approx(track_w / 2)
    assert second_x == pytest.approx(track_x + track_w / 2)
    assert last == "c2 open"  # v2 still holds it


# --- pages --------------------------------------------------------------------------------------


def hostile_model() -> ModelRecord:
    history = [
        register(1),
        register(2),
        stage(1, 1, "production", reason=HOSTILE, approved_by=HOSTILE, request=HOSTILE),
    ]
    versions = (version(1, {"auc": 0.9, HOSTILE: 1.0}, HOSTILE), version(2, {"auc": 0.8}, HOSTILE))
    return record(history, versions, description=HOSTILE, tags={HOSTILE: HOSTILE}, warnings=(HOSTILE,))


def test_free_text_never_becomes_markup() -> None:
    model = hostile_model()
    for page, own in ((model_html(site_of(model), model), 2), (index_html(site_of(model)), 0)):
        parsed = Elements(page)
        # Only the model page's own two: its JSON data block and its hashed script (report/compare.py).
        assert parsed.tags.count("script") == own and "img" not in parsed.tags
        assert parsed.handlers == []
        assert "<img" not in page and page.count("</script>") == own and "<script>alert" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_data_block_holds_free_text_as_data_and_the_script_is_allowed_by_its_hash() -> None:
    model = hostile_model()
    page = model_html(site_of(model), model)
    block = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.DOTALL)
    assert block is not None and "<" not in block[1]
    assert json.loads(block[1])["1"]["params"] == {"p": HOSTILE}
    script = re.search(r"<script>(.*?)</script>", page, re.DOTALL)
    assert script is not None
    digest = base64.b64encode(hashlib.sha256(script[1].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in CSP


def test_the_page_allows_only_its_own_stylesheet() -> None:
    model = hostile_model()
    page = model_html(site_of(model), model)
    assert "default-src 'none'" in CSP and f"'sha256-{STYLE_HASH}'" in CSP
    assert page.count("<style>") == 1 and f"<style>{STYLESHEET}</style>" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)


def test_one_chart_per_numeric_metric() -> None:
    versions = (version(1, {"auc": 0.9, "note": "n/a", "loss": 0.3}), version(2, {"auc": 0.95, "loss": 0.2}))
    model = record([register(1), register(2), stage(1, 2, "production")], versions)
    page = model_html(site_of(model), model)
    assert re.findall(r'<svg class="chart" data-metric="([^"]+)"', page) == ["auc", "loss"]


def test_a_model_without_metrics_or_events_still_renders() -> None:
    model = record([register(1)], (version(1),))
    page = model_html(site_of(model), model)
    assert "No version records a numeric metric." in page
    assert "No version has held a stage or alias yet." in page
    assert 'class="chart"' not in page


def test_retired_models_are_listed_apart() -> None:
    active = record([register(1)], (version(1),))
    retired = active._replace(name="old", retired=True)
    page = index_html(SiteRecord((active, retired), ("production", ARCHIVED), "production", "repo"))
    head, _, tail = page.partition('id="retired"')
    assert 'data-model="m"' in head and 'data-model="old"' in tail and 'data-model="old"' not in head
