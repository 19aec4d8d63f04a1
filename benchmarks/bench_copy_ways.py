"""The ways a local store could take in a file, timed in process (no start-up, no git), interleaved.

- one pass: read once, hash on one thread and write the same buffers from user space on another
  (`transfer.copy_and_hash`, what register did before, and what a download into the cache does);
- hash, then copy: `hashlib` pass, then `filecopy.copy_durable` (copy_file_range in 32 MiB windows,
  writeback started after each, fsync);
- hash, then copy, no early writeback: the same with one window as large as the file.

Every way ends with its copy fsynced. The floor is a `hashlib` pass + `cp` + `sync` of the copy.
Sources: `warm` (in the page cache), `cold` (dropped with posix_fadvise(DONTNEED) before each way),
`tmpfs` (on /dev/shm, another file system). New random bytes each round; median of the rounds.

    .venv/bin/python benchmarks/bench_copy_ways.py [--size-mib 1024] [--runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from modelreg.store import filecopy
from modelreg.store.hashing import sha256_file
from modelreg.store.transfer import copy_and_hash


def one_pass(source: Path, target: Path) -> None:
    with open(source, "rb") as reader:
        copy_and_hash(reader, target)


def hash_then_copy(source: Path, target: Path) -> None:
    sha256_file(source)
    filecopy.copy_durable(source, target)


def hash_then_copy_one_window(source: Path, target: Path) -> None:
    window = filecopy.WRITEBACK_WINDOW
    filecopy.WRITEBACK_WINDOW = 1 << 62
    try:
        hash_then_copy(source, target)
    finally:
        filecopy.WRITEBACK_WINDOW = window


def floor(source: Path, target: Path) -> None:
    with open(source, "rb") as handle:
        hashlib.file_digest(handle, "sha256")
    subprocess.run(["cp", str(source), str(target)], check=True)
    subprocess.run(["sync", str(target)], check=True)


WAYS: dict[str, Callable[[Path, Path], None]] = {
    "floor (hashlib + cp + sync)": floor,
    "one pass (user-space write)": one_pass,
    "hash, then copy_durable": hash_then_copy,
    "hash, then copy, no early writeback": hash_then_copy_one_window,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sources", default="warm,cold,tmpfs")
    args = parser.parse_args()
    size = args.size_mib << 20
    with tempfile.TemporaryDirectory(prefix="modelreg-ways-", dir=os.environ.get("BENCH_DIR")) as tmp:
        work = Path(tmp)
        for kind in args.sources.split(","):
            times: dict[str, list[float]] = {name: [] for name in WAYS}
            for run in range(args.runs):
                where = Path(tempfile.mkdtemp(dir="/dev/shm")) if kind == "tmpfs" else work
                source = where / "source.bin"
                with open(source, "wb") as handle:
                    for _ in range(size // (16 << 20)):
                        handle.write(os.urandom(16 << 20))
                names = list(WAYS)
                for index in range(len(names)):
                    name = names[(index + run) % len(names)]
                    target = work / "target.bin"
                    os.sync()
                    if kind == "cold":
                        fd = os.open(source, os.O_RDONLY)
                        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                        os.close(fd)
                    start = time.perf_counter()
                    WAYS[name](source, target)
                    times[name].append(time.perf_counter() - start)
                    target.unlink()
                if kind == "tmpfs":
                    shutil.rmtree(where)
            base = statistics.median(times[next(iter(WAYS))])
            print(f"{args.size_mib} MiB, {kind} source, median of {args.runs}, load {os.getloadavg()[0]:.2f}")
            for name, values in times.items():
                median = statistics.median(values)
                print(
                    f"  {name:<38} {median:.2f} s  ({min(values):.2f}–{max(values):.2f})  = {median / base:.2f}x floor"
                )


if __name__ == "__main__":
    main()
