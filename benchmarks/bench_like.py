"""LIKE / ILIKE on long values with hostile patterns (issue 23): time per match against a floor.

The floor, measured in the same run, is the simplest pattern that reads the whole value (`%b%`: one
search for a literal that is not there). Each hostile pattern is reported as microseconds per match and as a ratio to
that floor; the matcher is O(value length x pattern length), so the ratios grow with the pattern's
length, not exponentially with its number of `%`.

    .venv/bin/python benchmarks/bench_like.py [--length 5000] [--runs 200]
"""

from __future__ import annotations

import argparse
import time

from modelreg.core.likematch import like_pattern

PATTERNS = {
    "%a x22 %b": "%a" * 22 + "%b",
    "% then _ x50 then b": "%" + "_" * 50 + "b",
    "%a% x200 then b": "%" + "a%" * 200 + "b",
    "_% x60 then b": "_%" * 60 + "b",
    "%_ x50 then b%": "%" + "_" * 50 + "b%",
    "%a x22 %b%": "%a" * 22 + "%b%",
}


def per_match(pattern: str, value: str, runs: int, ignore_case: bool = False) -> float:
    matcher = like_pattern(pattern, ignore_case=ignore_case)
    start = time.perf_counter()
    for _ in range(runs):
        matcher.matches(value)
    return (time.perf_counter() - start) / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    value = "a" * args.length
    floor = per_match("%b%", value, args.runs)
    print(f"value: {args.length} characters of 'a' (no match anywhere); floor '%b%': {floor * 1e6:.1f} us/match")
    print(f"{'pattern':<24}{'LIKE us':>10}{'ratio':>9}{'ILIKE us':>11}{'ratio':>9}")
    for label, pattern in PATTERNS.items():
        like = per_match(pattern, value, args.runs)
        ilike = per_match(pattern, value, args.runs, ignore_case=True)
        print(f"{label:<24}{like * 1e6:>10.1f}{like / floor:>9.1f}{ilike * 1e6:>11.1f}{ilike / floor:>9.1f}")


if __name__ == "__main__":
    main()
