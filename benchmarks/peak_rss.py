"""Run `modelreg ARGS` as its console script does, then write the peak memory of the process tree.

    .venv/bin/python benchmarks/peak_rss.py OUT ARGS...

On exit (any exit code), OUT gets two numbers in KiB: the peak resident set size of this process
(modelreg itself: `getrusage(RUSAGE_SELF).ru_maxrss`) and that of its largest child (the git
processes it ran and waited for: `RUSAGE_CHILDREN`, a maximum over them, not a sum).
"""

from __future__ import annotations

import atexit
import resource
import sys
from pathlib import Path

from modelreg.cli import run


def _write(out: Path) -> None:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out.write_text(f"{own} {child}\n")


def main() -> None:
    out = Path(sys.argv[1])
    sys.argv = ["modelreg", *sys.argv[2:]]
    atexit.register(_write, out)
    run()


if __name__ == "__main__":
    main()
