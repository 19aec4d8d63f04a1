"""LIKE / ILIKE patterns (issue 23, case 5): the same answers as SQL, in time linear in the value for a given
pattern, however many `%` and `_` an attacker writes. A backtracking matcher would hang these tests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelreg.core.filtering import SearchRecord, like_pattern, parse_filter


def reference(v: str, p: str) -> bool:
    """SQL LIKE by its definition (exponential: small inputs only)."""
    if not p:
        return not v
    if p[0] == "%":
        return any(reference(v[i:], p[1:]) for i in range(len(v) + 1))
    if not v:
        return False
    return (p[0] == "_" or p[0] == v[0]) and reference(v[1:], p[1:])


@given(st.text(alphabet="abA\n", max_size=9), st.text(alphabet="abA%_\n", max_size=8))
def test_like_agrees_with_the_definition(value: str, pattern: str) -> None:
    assert like_pattern(pattern).matches(value) == reference(value, pattern)


@given(st.text(alphabet="abAB", max_size=9), st.text(alphabet="abAB%_", max_size=8))
def test_ilike_is_like_on_case_folded_text(value: str, pattern: str) -> None:
    assert like_pattern(pattern, ignore_case=True).matches(value) == reference(value.lower(), pattern.lower())


LONG = "a" * 5000
HOSTILE = [
    "%a" * 22 + "%b",
    "%" + "_" * 50 + "b",
    "%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%",
    "%" + "a%" * 200 + "b",
    "_%" * 60 + "b",
    "%" + "%_" * 40 + "%b%",
]


@pytest.mark.parametrize("pattern", HOSTILE)
@pytest.mark.parametrize("ignore_case", [False, True])
def test_hostile_patterns_on_a_5000_character_value_answer(pattern: str, ignore_case: bool) -> None:
    # None of these match "aaa…a" (no b) except the one without a b; a backtracking regex takes minutes on them.
    expected = "b" not in pattern
    assert like_pattern(pattern, ignore_case=ignore_case).matches(LONG) == expected
    assert like_pattern(pattern, ignore_case=ignore_case).matches(LONG + "b")
    op = "ILIKE" if ignore_case else "LIKE"
    rec = SearchRecord("m", 1, tags={"t": LONG})
    assert parse_filter(f"tags.t {op} '{pattern}'").matches(rec) == expected


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("", "", True),
        ("", "a", False),
        ("%", "", True),
        ("a%a", "a", False),  # the prefix and the suffix may not overlap
        ("a%a", "aa", True),
        ("ab%ba", "aba", False),
        ("%ab%ab%", "abab", True),
        ("%ab%ab%", "aab", False),
        ("_", "\n", True),  # `_` is any character, a newline too
        ("a.b*c(d)", "a.b*c(d)", True),
        ("a.b*c(d)", "aXb*c(d)", False),
    ],
)
def test_like_edge_cases(pattern: str, value: str, expected: bool) -> None:
    assert like_pattern(pattern).matches(value) == expected == reference(value, pattern)
