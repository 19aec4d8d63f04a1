"""SQL LIKE / ILIKE without backtracking; pure.

`%` is any run of characters, `_` exactly one (a newline too); everything else stands for itself. The
pattern is cut at each `%` into segments of fixed length. The first segment must start the value and
the last must end it; each one between is found leftmost after the previous one. Leftmost is always
right: a later place for one segment leaves less room for the next, never more. Each segment is a
regular expression with no repetition or alternation (literals and `.`), so finding it costs at most
its length per position of the value: a hostile pattern such as `%a%a…%a%b` or `%_____…b` on a long
value costs (value length times pattern length), never the exponential time a backtracking `.*` regex takes.
"""

from __future__ import annotations

import re


class LikePattern:
    """A compiled LIKE pattern; `matches(value)` tests the whole value."""

    __slots__ = ("_first", "_last", "_last_length", "_middle", "_single", "pattern")

    def __init__(self, pattern: str, *, ignore_case: bool = False) -> None:
        self.pattern = pattern
        flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
        pieces = pattern.split("%")
        segments = [re.compile(_segment(s), flags) for s in pieces]
        self._single = segments[0] if len(segments) == 1 else None
        self._first, self._last, self._middle = segments[0], segments[-1], tuple(segments[1:-1])
        self._last_length = len(pieces[-1])  # every character of a segment matches exactly one

    def matches(self, value: str) -> bool:
        if self._single is not None:
            return self._single.fullmatch(value) is not None
        head = self._first.match(value)
        if head is None:
            return False
        at = head.end()
        tail_at = len(value) - self._last_length
        if tail_at < at:
            return False
        for segment in self._middle:
            found = segment.search(value, at, tail_at)
            if found is None:
                return False
            at = found.end()
        return self._last.fullmatch(value, tail_at) is not None

    def __repr__(self) -> str:
        return f"LikePattern({self.pattern!r})"


def _segment(text: str) -> str:
    """A `%`-free piece of a pattern as a fixed-length regular expression: `_` is any one character."""
    return "".join("." if c == "_" else re.escape(c) for c in text)


def like_pattern(pattern: str, *, ignore_case: bool = False) -> LikePattern:
    """The LIKE (or, with `ignore_case`, ILIKE) pattern `pattern`, compiled."""
    return LikePattern(pattern, ignore_case=ignore_case)
