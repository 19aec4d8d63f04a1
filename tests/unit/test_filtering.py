"""MLflow's filter grammar over version records: modelreg.core.filtering."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelreg.core.filterfields import MLFLOW_FIELDS
from modelreg.core.filtering import (
    OrderKey,
    SearchRecord,
    like_pattern,
    parse_filter,
    parse_order_by,
    sort_key,
)
from modelreg.core.instants import parse_instant, parse_span
from modelreg.core.selecting import select
from modelreg.errors import InvalidInputError


def record(name: str = "fraud", version: int = 1, **fields: Any) -> SearchRecord:
    base: dict[str, Any] = {
        "stages": (),
        "aliases": (),
        "metrics": {},
        "params": {},
        "tags": {},
        "created": "2026-03-01T10:00:00Z",
        "author": "Jane Doe <jane@example.com>",
        "dataset": None,
        "run_id": None,
    }
    base.update(fields)
    return SearchRecord(name, version, **base)


V1 = record(
    "fraud",
    1,
    stages=("archived",),
    metrics={"auc": 0.91, "f1 score": 0.5},
    params={"lr": 0.01, "model": "xgboost", "early": True},
    tags={"team": "risk"},
    created="2026-03-01T10:00:00Z",
    dataset="s3://data/fraud@v3",
    run_id="run-1",
)
V2 = record(
    "fraud",
    2,
    stages=("production",),
    aliases=("champion", "stable"),
    metrics={"auc": 0.93},
    params={"lr": 0.02, "model": "XGBoost"},
    tags={"team": "Risk", "model-type": "tree"},
    created="2026-03-02T09:30:00+00:00",
    author="Bob <bob@example.com>",
    run_id="run-2",
)
V3 = record("churn", 1, metrics={"auc": "n/a"}, created="2026-02-28T23:59:59Z")
ALL = (V1, V2, V3)


def matching(text: str, records: tuple[SearchRecord, ...] = ALL) -> list[tuple[str, int | None]]:
    flt = parse_filter(text)
    return [(r.name, r.version) for r in records if flt.matches(r)]


# --- matching ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [("fraud", 1), ("fraud", 2), ("churn", 1)]),
        ("   ", [("fraud", 1), ("fraud", 2), ("churn", 1)]),
        ("name = 'fraud'", [("fraud", 1), ("fraud", 2)]),
        ('name = "churn"', [("churn", 1)]),
        ("name != 'fraud'", [("churn", 1)]),
        ("version = 2", [("fraud", 2)]),
        ("version = '2'", [("fraud", 2)]),
        ("version_number >= 2", [("fraud", 2)]),
        ("version IN (1, 3)", [("fraud", 1), ("churn", 1)]),
        ("version NOT IN (1)", [("fraud", 2)]),
        ("metrics.auc > 0.92", [("fraud", 2)]),
        ("metrics.auc >= 0.91 and metrics.auc < 0.93", [("fraud", 1)]),
        ("metrics.auc = 0.93", [("fraud", 2)]),
        ("metrics.auc != 0.93", [("fraud", 1)]),  # churn's auc is not a number: it has none
        ("metric.auc <= 1e0", [("fraud", 1), ("fraud", 2)]),
        ("metrics.`f1 score` > 0.1", [("fraud", 1)]),
        ('metrics."f1 score" > 0.1', [("fraud", 1)]),
        ("metrics.auc IS NULL", [("churn", 1)]),
        ("metrics.auc IS NOT NULL", [("fraud", 1), ("fraud", 2)]),
        ("params.lr = '0.01'", [("fraud", 1)]),
        ("params.early = 'True'", [("fraud", 1)]),
        ("params.model LIKE 'xg%'", [("fraud", 1)]),
        ("params.model ILIKE 'xg%'", [("fraud", 1), ("fraud", 2)]),
        ("params.model LIKE 'xgboos_'", [("fraud", 1)]),
        ("params.model LIKE 'xgboo_'", []),
        ("params.model IN ('xgboost', 'lightgbm')", [("fraud", 1)]),
        ("params.model NOT IN ('xgboost')", [("fraud", 2)]),
        ("params.model IS NULL", [("churn", 1)]),
        ("tags.team = 'risk'", [("fraud", 1)]),
        ("tags.team ILIKE 'RISK'", [("fraud", 1), ("fraud", 2)]),
        ("tags.`model-type` = 'tree'", [("fraud", 2)]),
        ("tag.team != 'risk'", [("fraud", 2)]),  # no team tag: no match, as in SQL
        ("stage = 'production'", [("fraud", 2)]),
        ("stage != 'production'", [("fraud", 1)]),
        ("stage IS NULL", [("churn", 1)]),
        ("alias = 'stable'", [("fraud", 2)]),
        ("alias LIKE 'champ%'", [("fraud", 2)]),
        ("alias != 'champion'", []),
        ("alias NOT IN ('x')", [("fraud", 2)]),
        ("alias IS NOT NULL", [("fraud", 2)]),
        ("created = '2026-03-01'", [("fraud", 1)]),
        ("created < '2026-03-01'", [("churn", 1)]),
        ("created <= '2026-03-01'", [("fraud", 1), ("churn", 1)]),
        ("created > '2026-03-01'", [("fraud", 2)]),
        ("created >= '2026-03-01T10:00:00Z'", [("fraud", 1), ("fraud", 2)]),
        ("created > '2026-03-01T10:00:00'", [("fraud", 2)]),
        ("created < '2026-03-01T02:00:00+02:00'", [("churn", 1)]),  # 2026-03-01T00:00Z
        ("created < '2026-03-01T01:00:00+02:00'", []),  # 2026-02-28T23:00Z
        ("created = '2026-03-01+12:00'", [("fraud", 1), ("churn", 1)]),  # 02-28T12:00Z to 03-01T11:59Z
        ("creation_timestamp < 1772323200000", [("churn", 1)]),  # 2026-03-01T00:00Z in ms
        ("author LIKE 'Bob%'", [("fraud", 2)]),
        ("dataset LIKE 's3://%'", [("fraud", 1)]),
        ("dataset IS NULL", [("fraud", 2), ("churn", 1)]),
        ("run_id IN ('run-1', 'run-2')", [("fraud", 1), ("fraud", 2)]),
        ("attributes.run_id = 'run-2'", [("fraud", 2)]),
        ("NAME = 'fraud' AND Metrics.auc > 0.92", [("fraud", 2)]),
        ("name = 'fraud' AND name = 'churn'", []),
        ("tags.nope = 'x'", []),
        ("metrics.auc > 2", []),
        ("name LIKE ''", []),
    ],
)
def test_filter_matches(text: str, expected: list[tuple[str, int]]) -> None:
    assert matching(text) == expected


def test_quoted_strings_keep_their_quotes_when_doubled_or_escaped() -> None:
    rec = record(tags={"note": 'it\'s "fine"'})
    assert parse_filter("tags.note = 'it''s \"fine\"'").matches(rec)
    assert parse_filter("tags.note = 'it\\'s \"fine\"'").matches(rec)
    assert parse_filter('tags.note = "it\'s ""fine"""').matches(rec)


def test_like_escapes_regex_characters() -> None:
    rec = record(tags={"expr": "a.b*c(d)"})
    assert parse_filter("tags.expr LIKE 'a.b*c(d)'").matches(rec)
    assert not parse_filter("tags.expr LIKE 'aXb*c(d)'").matches(rec)
    assert parse_filter("tags.expr LIKE 'a%(_)'").matches(rec)


def test_like_spans_lines_and_is_anchored() -> None:
    rec = record(tags={"text": "first\nsecond"})
    assert parse_filter("tags.text LIKE 'first%'").matches(rec)
    assert not parse_filter("tags.text LIKE 'second'").matches(rec)
    assert parse_filter("tags.text LIKE '%second'").matches(rec)


def test_allowed_fields_narrow_the_grammar() -> None:
    flt = parse_filter("name LIKE 'f%' AND tags.team = 'risk'", fields={"name", "tags"})
    assert flt.matches(V1)
    with pytest.raises(InvalidInputError, match=r"unknown field 'metrics.auc' \(fields: name, tags.KEY\) at column 1"):
        parse_filter("metrics.auc > 1", fields={"name", "tags"})
    with pytest.raises(InvalidInputError, match=r"unknown field 'version' .* at column 16"):
        parse_filter("name = 'x' and version = 1", fields={"name"})


def test_source_path_is_a_field_only_for_mlflow_searches() -> None:
    with pytest.raises(InvalidInputError, match="unknown field 'source_path'"):
        parse_filter("source_path = 'A/D'")  # modelreg's own searches have no version source
    flt = parse_filter("source_path = 'A/D' AND name = 'fraud'", fields=MLFLOW_FIELDS)
    assert flt.matches(record(source="A/D")) and not flt.matches(record(source="A/DD"))
    assert not flt.matches(record())  # no source: matches nothing, as any field without a value
    assert parse_filter("source_path LIKE 'A/%'", fields=MLFLOW_FIELDS).matches(record(source="A/B"))
    with pytest.raises(InvalidInputError, match="unknown field"):
        parse_order_by(["source_path"])  # MLflow orders by no source either


def test_clauses_record_what_was_asked() -> None:
    flt = parse_filter("metrics.`f1 score` >= 0.5 and alias IS NOT NULL")
    assert [(c.label, c.op, c.value, c.column) for c in flt.clauses] == [
        ("metrics.f1 score", ">=", 0.5, 1),
        ("alias", "IS NOT NULL", None, 31),
    ]


# --- malformed filters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.auc 0.9", "expected an operator .* at column 13: 0.9"),
        ("name = 'fraud' and metrics.auc 0.9", "expected an operator .* at column 32: 0.9"),
        ("name =", "expected a quoted string to compare name with at column 7: end of filter"),
        ("name = 'fraud", "unterminated string .* at column 8: 'fraud"),
        ("name = 'a' or name = 'b'", "OR is not supported .* at column 12"),
        ("name = 'a' name = 'b'", "expected AND or the end of the filter at column 12"),
        ("name = 'a' and", "expected a field .* at column 15: end of filter"),
        ("= 'a'", "expected a field .* at column 1"),
        ("colour = 'red'", "unknown field 'colour' .* at column 1"),
        ("foo.bar = 'x'", "unknown field type 'foo' .* at column 1"),
        ("metrics. > 1", "expected a key after the dot .* at column 9"),
        ("metrics.`` > 1", "expected a key, not an empty one at column 9"),
        ("metrics.`auc > 1", "unterminated key .* at column 9"),
        ("`auc` > 1", "a quoted key must follow a field type, as in metrics.`my key` at column 1"),
        ("metrics.auc > '0.9'", "metrics.auc compares with a number, not a string at column 15"),
        ("metrics.auc LIKE '0%'", "metrics.auc cannot be compared with LIKE .* at column 13"),
        ("params.lr = 0.01", "params.lr compares with a quoted string \\(write '0.01'\\) at column 13"),
        ("params.lr > '0.01'", "params.lr cannot be compared with > .* at column 11"),
        ("name IN 'a'", "expected \\( after IN at column 9"),
        ("name IN ('a' 'b')", "expected , or \\) in the IN list at column 14"),
        ("name IN ()", "expected a quoted string to compare name with at column 10"),
        ("name NOT LIKE 'a'", "expected IN after NOT at column 10"),
        ("name IS 'a'", "expected NULL after IS \\(or IS NOT\\) at column 9"),
        ("name IS NOT 'a'", "expected NULL after IS at column 13"),
        ("created > 'yesterday'", "created compares with an ISO 8601 date or datetime.* at column 11"),
        ("created > '2026-02-30'", "created compares with an ISO 8601 date .* at column 11"),
        ("created LIKE '2026%'", "created cannot be compared with LIKE .* at column 9"),
        ("name = 'a' ; drop", "unexpected character ';' at column 12"),
        ("version = 'two'", "version compares with a number, not a string at column 11"),
    ],
)
def test_malformed_filters_name_the_column(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=r"^filter: " + message):
        parse_filter(text)


def test_error_excerpt_is_short_and_on_one_line() -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_filter("metrics.auc\n" + "x" * 100)
    message = str(caught.value)
    assert "\n" not in message
    assert message.endswith("…")
    assert len(message) < 160


@given(st.text(max_size=60))
def test_any_text_parses_or_fails_cleanly(text: str) -> None:
    try:
        flt = parse_filter(text)
    except InvalidInputError as exc:
        message = str(exc)
    else:
        message = "at column 1: parsed"
        for rec in ALL:
            flt.matches(rec)
    assert re.search(r"at column \d+: ", message)


# --- properties against plain Python ------------------------------------------------------------

OPS = {"=": float.__eq__, "!=": float.__ne__, "<": float.__lt__, "<=": float.__le__, ">": float.__gt__}


@given(
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(sorted(OPS)),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
def test_metric_comparisons_are_numeric(value: float, op: str, threshold: float) -> None:
    rec = record(metrics={"m": value})
    assert parse_filter(f"metrics.m {op} {threshold!r}").matches(rec) == OPS[op](float(value), float(threshold))


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_metrics_compare_as_numbers_not_text(value: int, threshold: int) -> None:
    # '9' > '10' as text; 9 < 10 as numbers, which is what MLflow compares for metrics.
    rec = record(metrics={"m": value})
    assert parse_filter(f"metrics.m < {threshold}").matches(rec) == (value < threshold)


ALPHABET = "ab%_"


@given(st.text(alphabet="ab", max_size=6), st.text(alphabet=ALPHABET, max_size=6))
def test_like_agrees_with_a_reference_matcher(value: str, pattern: str) -> None:
    def reference(v: str, p: str) -> bool:
        if not p:
            return not v
        if p[0] == "%":
            return any(reference(v[i:], p[1:]) for i in range(len(v) + 1))
        if not v:
            return False
        return (p[0] == "_" or p[0] == v[0]) and reference(v[1:], p[1:])

    assert (like_pattern(pattern).matches(value)) == reference(value, pattern)
    rec = record(tags={"t": value})
    assert parse_filter(f"tags.t LIKE '{pattern}'").matches(rec) == reference(value, pattern)


@given(st.text(alphabet="aAbB", min_size=1, max_size=5), st.text(alphabet="aAbB", min_size=1, max_size=5))
def test_ilike_ignores_case_and_like_does_not(value: str, pattern: str) -> None:
    rec = record(params={"p": value})
    assert parse_filter(f"params.p ILIKE '{pattern}'").matches(rec) == (value.lower() == pattern.lower())
    assert parse_filter(f"params.p LIKE '{pattern}'").matches(rec) == (value == pattern)


# --- order_by -------------------------------------------------------------------------------------


def test_parse_order_by() -> None:
    assert parse_order_by(["metrics.auc DESC", "name", "tags.`team name` asc", "version_number desc"]) == (
        OrderKey("metrics", "auc", descending=True),
        OrderKey("name", None),
        OrderKey("tags", "team name"),
        OrderKey("version", None, descending=True),
    )
    assert parse_order_by(None) == ()


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("metrics.auc DOWN", "expected ASC, DESC or the end at column 13"),
        ("metrics.auc DESC x", "expected ASC, DESC or the end at column 18"),
        ("colour", "unknown field 'colour'"),
        ("", "expected a field .* at column 1: end of order_by"),
    ],
)
def test_malformed_order_by(item: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match="^order_by: " + message):
        parse_order_by([item])


def test_sort_puts_missing_values_last_in_both_directions() -> None:
    records = [V1, V2, V3]
    desc = sorted(records, key=sort_key(parse_order_by(["metrics.auc DESC"])))
    asc = sorted(records, key=sort_key(parse_order_by(["metrics.auc ASC"])))
    assert [(r.name, r.version) for r in desc] == [("fraud", 2), ("fraud", 1), ("churn", 1)]
    assert [(r.name, r.version) for r in asc] == [("fraud", 1), ("fraud", 2), ("churn", 1)]


def test_sort_mixes_directions_and_breaks_ties_by_name_then_newest() -> None:
    records = [record("b", 1, tags={"t": "x"}), record("a", 1, tags={"t": "x"}), record("a", 2, tags={"t": "y"})]
    ordered = sorted(records, key=sort_key(parse_order_by(["tags.t DESC"])))
    assert [(r.name, r.version) for r in ordered] == [("a", 2), ("a", 1), ("b", 1)]
    by_default = sorted(records, key=sort_key(()))
    assert [(r.name, r.version) for r in by_default] == [("a", 2), ("a", 1), ("b", 1)]


def test_sort_by_created_compares_instants_not_text() -> None:
    early = record("a", 1, created="2026-03-01T12:00:00+02:00")  # 10:00Z
    late = record("b", 1, created="2026-03-01T11:00:00Z")
    ordered = sorted([late, early], key=sort_key(parse_order_by(["created"])))
    assert [r.name for r in ordered] == ["a", "b"]


def test_search_filters_orders_and_limits_any_items() -> None:
    items = [("one", V1), ("two", V2), ("three", V3)]
    found = select(items, parse_filter("name = 'fraud'"), parse_order_by(["metrics.auc DESC"]), view=lambda i: i[1])
    assert [label for label, _ in found] == ["two", "one"]
    assert select(items, parse_filter(""), limit=2, view=lambda i: i[1]) == [("three", V3), ("two", V2)]
    assert select(items, parse_filter("name = 'nothing'"), view=lambda i: i[1]) == []


# --- instants -------------------------------------------------------------------------------------


def test_spans() -> None:
    day = parse_span("2026-03-01")
    assert day is not None and day.is_day
    assert day.first.isoformat() == "2026-03-01T00:00:00+00:00"
    assert day.last.isoformat() == "2026-03-01T23:59:59.999999+00:00"
    zoned = parse_span("2026-03-01-05:00")
    assert zoned is not None and zoned.first.isoformat() == "2026-03-01T00:00:00-05:00"
    moment = parse_span("2026-03-01T10:00:00Z")
    assert moment is not None and not moment.is_day and moment.first == moment.last
    assert parse_span("2026-03-01 10:00") is not None
    for bad in ("", "yesterday", "2026-13-01", "2026-03-01+25:00", "HEAD", "v1.0", "20260301x"):
        assert parse_span(bad) is None, bad
    assert parse_instant("2026-03-01T10:00:00") == parse_instant("2026-03-01T10:00:00+00:00")


_RECORDS = [
    SearchRecord(name, version, stages, aliases, {"auc": auc})
    for name, version, stages, aliases, auc in [
        ("fraud", 1, (), (), 0.70),
        ("fraud", 2, ("staging",), (), 0.91),
        ("fraud", 3, ("production",), ("champion",), 0.88),
        ("churn", 1, (), ("champion",), 0.95),
        ("churn", 2, (), (), 0.60),
        ("ads", 7, ("staging",), (), 0.99),
    ]
]


def _lazy_and_eager(filter_text: str, order_by: list[str], limit: int | None) -> tuple[list[int], list[int], int]:
    """The lazy answer (cheap view given), the eager one, and how many full views the lazy one took."""
    viewed: list[int] = []

    def view(i: int) -> SearchRecord:
        viewed.append(i)
        return _RECORDS[i]

    def cheap(i: int) -> SearchRecord:
        r = _RECORDS[i]
        return SearchRecord(r.name, r.version, r.stages, r.aliases)

    items, parsed, order = range(len(_RECORDS)), parse_filter(filter_text), parse_order_by(order_by)
    lazy = select(items, parsed, order, limit, view=view, cheap=cheap)
    eager = select(items, parsed, order, limit, view=lambda i: _RECORDS[i])
    return lazy, eager, len(viewed)


@pytest.mark.parametrize(
    ("filter_text", "order_by", "limit"),
    [
        ("metrics.auc > 0.8", [], 2),
        ("metrics.auc > 0.8", ["version DESC"], 1),
        ("metrics.auc > 0.8", ["stage"], 3),
        ("metrics.auc > 0.5", ["name DESC", "version"], 4),
        ("", ["alias"], 2),
        ("metrics.auc > 2", [], 3),
        ("metrics.auc > 0.8", [], 10),
    ],
)
def test_a_limited_search_in_a_cheap_order_answers_as_the_eager_one(
    filter_text: str, order_by: list[str], limit: int
) -> None:
    lazy, eager, _viewed = _lazy_and_eager(filter_text, order_by, limit)
    assert lazy == eager


def test_a_limited_search_views_no_more_than_it_needs() -> None:
    lazy, eager, viewed = _lazy_and_eager("metrics.auc > 0.5", [], 1)
    assert lazy == eager == [5]  # ads v7: the first name in order
    assert viewed == 1


def test_an_order_on_metrics_views_every_item() -> None:
    lazy, eager, viewed = _lazy_and_eager("metrics.auc > 0.5", ["metrics.auc DESC"], 1)
    assert lazy == eager == [5]
    assert viewed == len(_RECORDS)


def test_an_item_without_a_record_is_left_out_either_way() -> None:
    view = lambda i: None if i == 5 else _RECORDS[i]  # noqa: E731
    cheap = lambda i: _RECORDS[i]  # noqa: E731
    parsed, order = parse_filter("metrics.auc > 0.5"), parse_order_by([])
    items = range(len(_RECORDS))
    assert select(items, parsed, order, 1, view=view, cheap=cheap) == select(items, parsed, order, 1, view=view) == [4]
