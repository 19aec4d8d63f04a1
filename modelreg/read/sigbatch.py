"""Checking many SSH signatures at once, side by side where the machine has cores to spare.

An ed25519 verification costs about 100 µs (OpenSSL, through `cryptography`): `history` of a
model with 25,000 signed tags, or `verify` of a registry, spends seconds on them alone. Past a
few thousand tags, and only in a process with no other thread (a fork copies one thread, and a
lock another held would stay held in the copy), the tags are split among forked processes, each
checking its share against the same signers with the same function (sshsig.good_report): the
verdicts are those of a check in one process, computed side by side.
"""

from __future__ import annotations

import os
import threading

from modelreg.read.sshsig import Signers, good_report

PARALLEL_FROM = 4000  # below this many tags, starting processes costs more than it saves
_SHARE = 2000  # the fewest tags worth a process of their own

# What the forked processes check (set before the fork: they inherit it, nothing is sent to them).
_WORK: tuple[list[bytes | None], Signers] | None = None


def good_reports(objects: list[bytes | None], signers: Signers) -> list[str | None]:
    """`good_report` of each raw tag object (None where it is missing), in order."""
    workers = min(_cores(), 8, len(objects) // _SHARE)
    if len(objects) < PARALLEL_FROM or workers < 2 or threading.active_count() > 1:
        return _check(objects, signers)
    # Deferred: multiprocessing (~15 ms) is loaded only for a batch this large.
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return _check(objects, signers)
    global _WORK
    _WORK = (objects, signers)
    bounds = [(i * len(objects) // workers, (i + 1) * len(objects) // workers) for i in range(workers)]
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_share, bounds)
    except OSError:  # no processes to be had: check them here
        return _check(objects, signers)
    finally:
        _WORK = None
    return [report for part in parts for report in part]


def _share(bounds: tuple[int, int]) -> list[str | None]:
    assert _WORK is not None
    objects, signers = _WORK
    return _check(objects[bounds[0] : bounds[1]], signers)


def _check(objects: list[bytes | None], signers: Signers) -> list[str | None]:
    return [good_report(raw, signers) if raw else None for raw in objects]


def _cores() -> int:
    """The cores this process may run on (a container's share, where the system says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every system
        return os.cpu_count() or 1
