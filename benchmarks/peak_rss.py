"""Run `modelreg ARGS` as its console script does, and record the peak memory of it and of each git process it runs.

    .venv/bin/python benchmarks/peak_rss.py OUT ARGS...

OUT gets one line per process, in KiB: `modelreg <peak>` for this process, at exit (any exit code),
and `git <peak>` for each git process, written by a `git` on PATH that runs the real one under
`/usr/bin/time -f %M` (see `git_shim`).

Why not `getrusage`: on Linux a process's `ru_maxrss` keeps its parent's high-water mark across
fork and exec (a child of a 400 MiB benchmark process reports 400 MiB), and RUSAGE_CHILDREN is the
largest of them, not theirs alone. VmHWM in /proc/self/status is this process's own address space
since exec; `time` is a small process, so what it reports of the git it starts is git's own.
"""

from __future__ import annotations

import atexit
import shutil
import sys
from pathlib import Path

from modelreg.cli import run


def own_peak_kib() -> int:
    """VmHWM: the peak resident set of this process since its exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/self/status (peak_rss.py needs Linux)")


def git_shim(directory: Path, out: Path) -> Path:
    """A `git` in `directory` that runs the real git under `/usr/bin/time`, appending `git <KiB>` to `out`."""
    real, timer = shutil.which("git"), Path("/usr/bin/time")
    if real is None or not timer.exists():
        raise SystemExit("peak_rss.py needs git and /usr/bin/time (GNU time)")
    directory.mkdir(parents=True, exist_ok=True)
    shim = directory / "git"
    shim.write_text(f'#!/bin/sh\nexec {timer} -a -o "{out}" -f "git %M" {real} "$@"\n')
    shim.chmod(0o755)
    return directory


def peaks(out: Path) -> tuple[float, float, int]:
    """(modelreg's own peak, the largest git process's peak, in MiB; how many git processes ran) from OUT."""
    own, gits = 0, []
    for line in out.read_text().splitlines():
        what, _, kib = line.rpartition(" ")
        if what == "modelreg":
            own = int(kib)
        elif what == "git":
            gits.append(int(kib))
    return own / 1024, max(gits, default=0) / 1024, len(gits)


def _write(out: Path) -> None:
    with out.open("a") as file:
        file.write(f"modelreg {own_peak_kib()}\n")


def main() -> None:
    out = Path(sys.argv[1])
    sys.argv = ["modelreg", *sys.argv[2:]]
    atexit.register(_write, out)
    run()


if __name__ == "__main__":
    main()
