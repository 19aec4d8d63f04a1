"""The decisions of `sync` that need no I/O: what to watch, when to poll again, what to prune.

Everything here is a pure function of its arguments (randomness is passed in), so the rules are
unit-tested directly: tests/unit/test_serving_plan.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from modelreg.core import names
from modelreg.core.refs import (
    CLAIMS_PREFIX,
    TAGS_PREFIX,
    VERSION_CLAIMS_PREFIX,
    ModelRef,
    claim_ref,
    version_claim_ref,
    version_tag,
)
from modelreg.errors import InvalidInputError
from modelreg.models import Event, ModelState

MAX_BACKOFF_S = 300.0
POLL_JITTER = 0.1  # each wait is the interval ± 10%: pods started together drift apart
LOOKAHEAD = 3  # new claim refs are watched for the next 3 seqs (and version numbers) after the highest seen


def version_dir_name(name: str, version: int, digest: str) -> str:
    """`fraud-v7-3f2a9c0d1e4b`: the name, the version and the first 12 hex digits of the digest."""
    return f"{names.encode(name)}-v{version}-{digest.removeprefix('sha256:')[:12]}"


def poll_delay(interval: float, rand: float) -> float:
    """The wait before the next round when all is well; `rand` is uniform in [0, 1)."""
    return interval * (1 - POLL_JITTER + 2 * POLL_JITTER * rand)


def max_backoff(interval: float) -> float:
    """The longest wait after failures: 32 intervals, at most 5 minutes (never below one interval)."""
    return max(interval, min(MAX_BACKOFF_S, 32 * interval))


def backoff_delay(failures: int, interval: float, rand: float) -> float:
    """The wait after `failures` rounds in a row that could not reach the remote or the store.

    Doubles from one interval up to `max_backoff`; "equal jitter": the wait is uniform in
    [d/2, d), so a fleet that lost its git server together does not come back in one burst.
    """
    if failures <= 0:
        return poll_delay(interval, rand)
    ceiling = min(max_backoff(interval), interval * (1 << min(failures - 1, 32)))
    return ceiling / 2 + ceiling / 2 * rand


def prune_plan(versions: Mapping[str, float], current: str | None, keep: int) -> list[str]:
    """The version directories to remove: all but the `keep` most recently current ones.

    `versions` maps each directory name to when it last became current (its mtime); the current
    one is never removed and counts towards `keep`.
    """
    ranked = sorted(versions, key=lambda name: (name != current, -versions[name], name))
    return sorted(ranked[max(keep, 1) :])


class Watch(NamedTuple):
    """What a no-change round asks the remote for: a few ref prefixes, and the answer that means no change."""

    prefixes: tuple[str, ...]
    expected: dict[str, str]  # ref → object id; HEAD → the default branch's commit

    def unchanged(self, seen: Mapping[str, str]) -> bool:
        return dict(seen) == self.expected

    def only_head_moved(self, seen: Mapping[str, str]) -> bool:
        """The default branch moved and nothing else did: a commit that may not touch the policy at all."""
        others = {ref: oid for ref, oid in seen.items() if ref != "HEAD"}
        expected = {ref: oid for ref, oid in self.expected.items() if ref != "HEAD"}
        return others == expected and seen.get("HEAD") not in (None, self.expected.get("HEAD"))

    def with_head(self, head: str) -> Watch:
        return self._replace(expected={**self.expected, "HEAD": head})


def policy_paths(allowed_signers: str | None) -> tuple[str, ...]:
    """The paths of the default branch the policy is read from: `.modelreg/` (config, requests) and the signers file."""
    paths = [".modelreg"]
    if allowed_signers and not allowed_signers.startswith(".modelreg/"):
        paths.append(allowed_signers)
    return tuple(paths)


def watch(name: str, decisive: Iterable[str], refs: Mapping[str, str], head: str) -> Watch:
    """The prefixes that tell whether anything that decides `name`'s answer moved, and their answer now.

    `refs` is every ref of the model as the last full read saw them (tags and claim refs), `head`
    the default branch's commit it read the policy from. A new event or version can only take
    effect with a claim ref for a seq (version number) above the highest taken: the next few are
    watched; so are the refs that decide the current answer (`decisive`) and HEAD (policy,
    review evidence).
    """
    last_seq = _highest(refs, f"{CLAIMS_PREFIX}{name}/")
    last_version = _highest(refs, f"{VERSION_CLAIMS_PREFIX}{name}/")
    for ref in refs:
        tag = ref.removeprefix(TAGS_PREFIX)
        if tag.startswith(f"{name}#") and tag.rpartition("#")[2].isdigit():
            last_seq = max(last_seq, int(tag.rpartition("#")[2]))
        elif tag.startswith(f"{name}@v") and tag.rpartition("@v")[2].isdigit():
            last_version = max(last_version, int(tag.rpartition("@v")[2]))
    prefixes = ["HEAD", *sorted(set(decisive))]
    prefixes += [claim_ref(name, last_seq + step) for step in range(1, LOOKAHEAD + 1)]
    prefixes += [version_claim_ref(name, last_version + step) for step in range(1, LOOKAHEAD + 1)]
    expected = {ref: oid for ref, oid in refs.items() if ref.startswith(tuple(prefixes))}
    expected["HEAD"] = head
    return Watch(tuple(prefixes), expected)


def _highest(refs: Iterable[str], prefix: str) -> int:
    numbers = (ref[len(prefix) :] for ref in refs if ref.startswith(prefix))
    return max((int(n) for n in numbers if n.isdigit() and len(n) < 20), default=0)


def decisive_refs(name: str, version: int, event: Event | None) -> list[str]:
    """The refs that make the reference name `version`: its version tag and claim, the deciding event's."""
    found = [TAGS_PREFIX + version_tag(name, version), version_claim_ref(name, version)]
    if event is not None and event.seq is not None:
        found += [TAGS_PREFIX + event.tag, claim_ref(name, event.seq)]
    return found


def deciding_event(ref: ModelRef, state: ModelState, events: list[Event], version: int) -> Event | None:
    """The admitted event whose facts the hook is given: the stage or alias assignment, else the registration."""
    seq: int | None = None
    if ref.stage is not None:
        seq = state.stage_since.get(version)
    elif ref.alias is not None:
        seq = max((e.seq for e in events if e.kind == "alias" and e.target == ref.alias and e.seq), default=None)
    for event in events:
        if seq is not None and event.seq == seq:
            return event
    return next((e for e in events if e.action == "register" and e.version == version), None)


_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """`30s`, `500ms`, `2m`, `1h` or a plain number of seconds → seconds (positive)."""
    raw = text.strip().lower()
    number, unit = raw, "s"
    for suffix in sorted(_UNITS, key=len, reverse=True):
        if raw.endswith(suffix):
            number, unit = raw[: -len(suffix)], suffix
            break
    try:
        seconds = float(number) * _UNITS[unit]
    except ValueError:
        seconds = -1.0
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise InvalidInputError(f"invalid interval {text!r}: write e.g. 30s, 500ms, 2m or 1h")
    return seconds
