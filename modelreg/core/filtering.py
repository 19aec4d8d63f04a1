"""MLflow's filter-string grammar over the fields a version has; pure, no I/O.

    metrics.auc > 0.9 AND params.model = 'xgboost' AND tags.`team name` LIKE 'risk%' AND stage = 'production'

A filter is clauses joined by AND (no OR, as in MLflow). A clause is a field, an operator and a value:

- fields: `name`, `version`, `stage`, `alias`, `created`, `author`, `dataset`, `run_id`, and `metrics.KEY`,
  `params.KEY`, `tags.KEY` (a KEY with other characters is quoted: metrics.`f1 score` or params."model-type").
  MLflow's spellings are accepted too: `metric.`/`param.`/`tag.`, `attributes.name`, `version_number`,
  `creation_timestamp` (milliseconds since the epoch, as MLflow records it).
- metrics and `version` compare with numbers (`=`, `!=`, `<`, `<=`, `>`, `>=`, `IN`, `NOT IN`); params, tags and
  the other text fields with quoted strings (`=`, `!=`, `LIKE`, `ILIKE`, `IN`, `NOT IN`), as MLflow does: params
  are compared as the text MLflow would have logged (`str(value)`). `created` compares with an ISO 8601 date or
  datetime in quotes (a date is the whole day) or with epoch milliseconds.
- `IS NULL` / `IS NOT NULL` on any field. As in SQL, a field without a value matches nothing else, not even
  `!=` or `NOT IN`. `stage` and `alias` hold a set: `alias = 'a'` matches when any alias is `a`, `alias != 'a'`
  when the version has aliases and none is `a`.
- LIKE patterns: `%` any run of characters, `_` one character; LIKE is case-sensitive, ILIKE is not.

`parse_filter(text, fields=...)` checks the whole filter up front and raises `InvalidInputError` naming the
column of the first mistake; `Filter.matches(record)` then costs a few comparisons per record. Callers with
fewer fields (an MLflow registered-model search) pass the set of fields they allow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

from modelreg.core.filterfields import (
    ALL_FIELDS,
    BUILTIN,
    DEFAULT_ORDER,
    FAMILIES,
    Kind,
    OrderKey,
    SearchRecord,
    clause_test,
    field_value,
    sort_key,
)
from modelreg.core.instants import parse_span
from modelreg.core.likematch import LikePattern, like_pattern
from modelreg.errors import InvalidInputError

__all__ = [  # the fields, records and LIKE matching live in filterfields and likematch; imported from here too
    "ALL_FIELDS",
    "DEFAULT_ORDER",
    "Clause",
    "Filter",
    "LikePattern",
    "OrderKey",
    "SearchRecord",
    "field_value",
    "like_pattern",
    "parse_filter",
    "parse_order_by",
    "sort_key",
]


_FAMILY_SPELLINGS = {
    "metric": "metrics",
    "metrics": "metrics",
    "param": "params",
    "params": "params",
    "parameter": "params",
    "parameters": "params",
    "tag": "tags",
    "tags": "tags",
}
_ATTRIBUTE_SPELLINGS = frozenset({"attribute", "attributes", "attr"})
_BUILTIN_SPELLINGS = {"version_number": "version", "creation_timestamp": "created", "run": "run_id"}

_TEXT_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL")
_NUMBER_OPS = ("=", "!=", "<", "<=", ">", ">=", "IN", "NOT IN", "IS NULL", "IS NOT NULL")
_TIME_OPS = ("=", "!=", "<", "<=", ">", ">=", "IS NULL", "IS NOT NULL")
_OPS: Mapping[Kind, tuple[str, ...]] = {"text": _TEXT_OPS, "texts": _TEXT_OPS, "number": _NUMBER_OPS, "time": _TIME_OPS}


class Clause(NamedTuple):
    field: str  # a BUILTIN name or a FAMILIES name
    key: str | None  # the KEY of metrics.KEY, params.KEY, tags.KEY
    op: str  # one of _OPS, upper case
    value: Any  # str, float, a tuple of those, a Span, a LikePattern or None
    column: int  # where the clause starts, 1-based
    test: Callable[[Any], bool]  # the operator applied to a record's value (never None)

    @property
    def label(self) -> str:
        return f"{self.field}.{self.key}" if self.key is not None else self.field

    def matches(self, record: SearchRecord) -> bool:
        value = field_value(record, self.field, self.key)
        if self.op == "IS NULL":
            return value is None
        if self.op == "IS NOT NULL":
            return value is not None
        return value is not None and self.test(value)


class Filter(NamedTuple):
    text: str
    clauses: tuple[Clause, ...]

    def matches(self, record: SearchRecord) -> bool:
        return all(clause.matches(record) for clause in self.clauses)


# --- parsing ---------------------------------------------------------------------------------------

_Tok = Literal["word", "ident", "string", "number", "op", "(", ")", ",", "end"]


class _Token(NamedTuple):
    kind: _Tok
    text: str  # a word as written, an operator, or the family of an ident
    value: Any  # a string's text, a number's float, an ident's key
    column: int


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![A-Za-z0-9_.])")
_OPERATORS = ("!=", "<>", "<=", ">=", "==", "=", "<", ">")


class _Parser:
    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.what = what

    def fail(self, message: str, column: int) -> InvalidInputError:
        rest = self.text[column - 1 :].replace("\n", " ").strip()
        near = (rest[:40] + "…" if len(rest) > 40 else rest) if rest else "end of " + self.what
        return InvalidInputError(f"{self.what}: {message} at column {column}: {near}")

    def tokens(self) -> list[_Token]:
        text, i, out = self.text, 0, []
        while i < len(text):
            char = text[i]
            column = i + 1
            if char.isspace():
                i += 1
            elif char in "(),":
                out.append(_Token(char, char, None, column))  # type: ignore[arg-type]
                i += 1
            elif char in "'\"":
                value, i = self._quoted(i)
                out.append(_Token("string", text[column - 1 : i], value, column))
            elif (number := _NUMBER.match(text, i)) and not (char in "+-" and out and out[-1].kind == "ident"):
                out.append(_Token("number", number.group(), float(number.group()), column))
                i = number.end()
            elif op := next((o for o in _OPERATORS if text.startswith(o, i)), None):
                out.append(_Token("op", {"<>": "!=", "==": "="}.get(op, op), None, column))
                i += len(op)
            elif word := _WORD.match(text, i):
                i = word.end()
                if i < len(text) and text[i] == ".":
                    key, i = self._key(i + 1)
                    out.append(_Token("ident", word.group(), key, column))
                else:
                    out.append(_Token("word", word.group(), None, column))
            elif char == "`":
                raise self.fail("a quoted key must follow a field type, as in metrics.`my key`", column)
            else:
                raise self.fail(f"unexpected character {char!r}", column)
        out.append(_Token("end", "", None, len(text) + 1))
        return out

    def _quoted(self, start: int) -> tuple[str, int]:
        """The text of the string, backquoted key or double-quoted key at `start`, and the index after it."""
        quote, text, i, chars = self.text[start], self.text, start + 1, []
        while i < len(text):
            char = text[i]
            if char == "\\" and i + 1 < len(text) and text[i + 1] in (quote, "\\"):
                chars.append(text[i + 1])
                i += 2
            elif char == quote and text.startswith(quote * 2, i):
                chars.append(quote)
                i += 2
            elif char == quote:
                return "".join(chars), i + 1
            else:
                chars.append(char)
                i += 1
        kind = "key" if quote == "`" else "string"
        raise self.fail(f"unterminated {kind} (no closing {quote})", start + 1)

    def _key(self, i: int) -> tuple[str, int]:
        if i < len(self.text) and self.text[i] in '`"':
            key, end = self._quoted(i)
            if not key:
                raise self.fail("expected a key, not an empty one", i + 1)
            return key, end
        bare = _BARE_KEY.match(self.text, i)
        if not bare:
            raise self.fail("expected a key after the dot (quote it with backquotes if it has other characters)", i + 1)
        return bare.group(), bare.end()


def _resolve_field(parser: _Parser, token: _Token, fields: Collection[str]) -> tuple[str, str | None, Kind]:
    """The field a word or ident token names, checked against `fields`."""
    if token.kind == "word":
        name = _BUILTIN_SPELLINGS.get(token.text.lower(), token.text.lower())
        field, key = name, None
    elif token.kind == "ident":
        prefix = token.text.lower()
        if prefix in _ATTRIBUTE_SPELLINGS:
            field, key = _BUILTIN_SPELLINGS.get(token.value, token.value), None
        else:
            field, key = _FAMILY_SPELLINGS.get(prefix, prefix), token.value
            if field not in FAMILIES:
                raise parser.fail(f"unknown field type {token.text!r} (use metrics., params. or tags.)", token.column)
    else:
        raise parser.fail(f"expected a field ({_field_list(fields)})", token.column)
    if (key is None and field not in BUILTIN) or field not in fields:
        shown = token.text if token.kind == "word" else f"{token.text}.{token.value}"
        raise parser.fail(f"unknown field {shown!r} (fields: {_field_list(fields)})", token.column)
    return field, key, FAMILIES[field] if key is not None else BUILTIN[field]


def _field_list(fields: Collection[str]) -> str:
    return ", ".join(f"{f}.KEY" if f in FAMILIES else f for f in sorted(fields, key=_field_order))


def _field_order(field: str) -> int:
    order = (*BUILTIN, *FAMILIES)
    return order.index(field) if field in order else len(order)


def parse_filter(text: str | None, *, fields: Collection[str] = ALL_FIELDS) -> Filter:
    """The filter `text` describes (None or blank: everything); InvalidInputError names the column at fault."""
    text = text or ""
    parser = _Parser(text, "filter")
    tokens = parser.tokens()
    clauses: list[Clause] = []
    at = 0
    if tokens[0].kind == "end":
        return Filter(text, ())
    while True:
        clause, at = _clause(parser, tokens, at, fields)
        clauses.append(clause)
        token = tokens[at]
        if token.kind == "end":
            return Filter(text, tuple(clauses))
        if token.kind == "word" and token.text.upper() == "AND":
            at += 1
        elif token.kind == "word" and token.text.upper() == "OR":
            raise parser.fail("OR is not supported (MLflow filters join clauses with AND only)", token.column)
        else:
            raise parser.fail("expected AND or the end of the filter", token.column)


def _clause(parser: _Parser, tokens: Sequence[_Token], at: int, fields: Collection[str]) -> tuple[Clause, int]:
    start = tokens[at]
    field, key, kind = _resolve_field(parser, start, fields)
    label = f"{field}.{key}" if key is not None else field
    op, at = _operator(parser, tokens, at + 1)
    op_token = tokens[at - 1]
    if op not in _OPS[kind]:
        allowed = ", ".join(_OPS[kind])
        raise parser.fail(f"{label} cannot be compared with {op} (use {allowed})", op_token.column)
    if op in ("IS NULL", "IS NOT NULL"):
        return Clause(field, key, op, None, start.column, bool), at
    if op in ("IN", "NOT IN"):
        values, at = _value_list(parser, tokens, at, label, kind)
        return Clause(field, key, op, values, start.column, clause_test(kind, op, values)), at
    value = _value(parser, tokens[at], label, kind, op)
    return Clause(field, key, op, value, start.column, clause_test(kind, op, value)), at + 1


def _operator(parser: _Parser, tokens: Sequence[_Token], at: int) -> tuple[str, int]:
    token = tokens[at]
    if token.kind == "op":
        return token.text, at + 1
    word = token.text.upper() if token.kind == "word" else ""
    if word in ("LIKE", "ILIKE", "IN"):
        return word, at + 1
    if word == "NOT":
        following = tokens[at + 1]
        if following.kind == "word" and following.text.upper() == "IN":
            return "NOT IN", at + 2
        raise parser.fail("expected IN after NOT", following.column)
    if word == "IS":
        following = tokens[at + 1]
        negated = following.kind == "word" and following.text.upper() == "NOT"
        null = tokens[at + 2 if negated else at + 1]
        if null.kind == "word" and null.text.upper() == "NULL":
            return ("IS NOT NULL" if negated else "IS NULL"), at + (3 if negated else 2)
        raise parser.fail("expected NULL after IS" + ("" if negated else " (or IS NOT)"), null.column)
    raise parser.fail("expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL)", token.column)


def _value_list(
    parser: _Parser, tokens: Sequence[_Token], at: int, label: str, kind: Kind
) -> tuple[tuple[Any, ...], int]:
    if tokens[at].kind != "(":
        raise parser.fail("expected ( after IN", tokens[at].column)
    values = []
    at += 1
    while True:
        values.append(_value(parser, tokens[at], label, kind, "IN"))
        separator = tokens[at + 1]
        at += 2
        if separator.kind == ")":
            return tuple(values), at
        if separator.kind != ",":
            raise parser.fail("expected , or ) in the IN list", separator.column)


def _value(parser: _Parser, token: _Token, label: str, kind: Kind, op: str) -> Any:
    if token.kind not in ("string", "number"):
        wanted = "a number" if kind == "number" else "a quoted string"
        raise parser.fail(f"expected {wanted} to compare {label} with", token.column)
    if kind == "number":
        if token.kind == "number":
            return token.value
        if label == "version":  # MLflow's registry passes version numbers as strings
            try:
                return float(int(token.value))
            except ValueError:
                pass
        raise parser.fail(f"{label} compares with a number, not a string", token.column)
    if kind == "time":
        if token.kind == "number":
            try:
                return datetime.fromtimestamp(token.value / 1000, UTC)
            except (OverflowError, OSError, ValueError):
                raise parser.fail(f"{label}: {token.text} ms is not a time a version can have", token.column) from None
        span = parse_span(token.value)
        if span is None:
            raise parser.fail(f"{label} compares with an ISO 8601 date or datetime, e.g. '2026-03-01'", token.column)
        return span
    if token.kind == "number":
        raise parser.fail(f"{label} compares with a quoted string (write '{token.text}')", token.column)
    if op in ("LIKE", "ILIKE"):
        return like_pattern(token.value, ignore_case=op == "ILIKE")
    return token.value


# --- ordering --------------------------------------------------------------------------------------


def parse_order_by(items: Iterable[str] | None, *, fields: Collection[str] = ALL_FIELDS) -> tuple[OrderKey, ...]:
    """`["metrics.auc DESC", "name"]` as order keys; InvalidInputError names the column at fault."""
    keys = []
    for item in items or ():
        parser = _Parser(item, "order_by")
        tokens = parser.tokens()
        field, key, _kind = _resolve_field(parser, tokens[0], fields)
        direction = tokens[1]
        descending = False
        if direction.kind == "word" and direction.text.upper() in ("ASC", "DESC"):
            descending = direction.text.upper() == "DESC"
            direction = tokens[2]
        if direction.kind != "end":
            raise parser.fail("expected ASC, DESC or the end", direction.column)
        keys.append(OrderKey(field, key, descending))
    return tuple(keys)
