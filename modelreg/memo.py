"""Memoized read commands: `resolve`, `show`, `history` and `list` answer from their last full run.

A serving start-up or a CI step asks the same question again and again, and between two asks
the answer changes only when something it was computed from changes. So a full run of a
memoized command keeps, beside its exact output, every input it read:

- the output of each git command whose answer can change (`rev-parse --show-toplevel`, the
  `for-each-ref` of ref names and ids); tag objects and commits are named by their content, so
  everything read through them (messages, manifests as tagged) is fixed by that ref list;
- the bytes of each work-tree file read (the config, the version's manifest), or their absence;
- the stamp (mtime, size, inode) of each module of modelreg, and of each library, that ran.

A later run with the same command line, directory, environment and terminal asks those
questions again and, when every answer is the same, prints the recorded output. That costs the
git calls and a few file reads, with nothing imported beyond `os`, `sys`, `marshal` and
BLAKE2, instead of Typer, YAML and the registry code. On anything else, or any doubt, the full
command runs and records afresh. `MODELREG_NO_MEMO=1` turns both off.
"""

from __future__ import annotations

import os
import sys

from modelreg import cachefile
from modelreg.paths import cache_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TextIO

    Probe = tuple[Any, ...]

FORMAT = 1
KEEP = 512
# The read commands, with how many operands they take: they read only refs, the config and
# manifests, through the calls that record them (gitrepo's probes, read_file).
COMMANDS = {"resolve": 1, "show": 1, "history": 1, "list": 0}
# Variables that can change what git reads or how the output is encoded and drawn (Rich reads
# the terminal ones): a run under different ones is a different question.
_ENV_PREFIXES = ("GIT_", "MODELREG_", "XDG_", "LC_", "PYTHON")
_ENV_NAMES = frozenset(
    {"PATH", "HOME", "LANG", "TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"}
    | {"COLUMNS", "LINES", "JUPYTER_COLUMNS", "JUPYTER_LINES"}
)


class Recording:
    """The inputs one full run read, in the order it read them."""

    def __init__(self) -> None:
        self.probes: list[Probe] = []


_recording: Recording | None = None


def note_run(argv: list[str], cwd: str, unset: tuple[str, ...], env: dict[str, str], stdout: bytes | None) -> None:
    """A command this run's answer depends on printed `stdout`, or failed (None).

    It ran in `cwd` with `env` laid over os.environ minus `unset`; a replay runs it the same way.
    """
    if _recording is not None:
        digest = None if stdout is None else _digest(stdout)
        _recording.probes.append(("run", tuple(argv), os.path.abspath(cwd), unset, env, digest))


def read_file(path: str) -> bytes | None:
    """The bytes of the regular file at `path`, or None when there is none; an input when recording."""
    data = _read(path)
    if _recording is not None:
        _recording.probes.append(("file", os.path.abspath(path), None if data is None else _digest(data)))
    return data


def entry_file(argv: list[str]) -> str | None:
    """Where the recording of this command line is kept, or None when it is not memoized.

    Memoized: `resolve REF`, `show REF`, `history NAME` and `list`, each with or without
    `--json`, and nothing else on the line: an option such as `--fetch` or `--repo` makes the
    run depend on a remote.
    """
    if os.environ.get("MODELREG_NO_MEMO") or not argv or argv[0] not in COMMANDS:
        return None
    operands = [arg for arg in argv[1:] if arg != "--json"]
    if len(operands) != COMMANDS[argv[0]] or any(arg.startswith("-") for arg in operands):
        return None
    if len(argv) - len(operands) > 2:  # --json twice
        return None
    env = sorted((k, v) for k, v in os.environ.items() if k in _ENV_NAMES or k.startswith(_ENV_PREFIXES))
    drawn = argv[0] != "resolve" and "--json" not in argv  # Rich draws it for the terminal at hand
    terminal = _terminal() if drawn else None
    question = (FORMAT, sys.version, sys.executable, os.getcwd(), tuple(argv), tuple(env), terminal)
    # repr, not marshal: marshal's bytes depend on object identity, repr's only on the values.
    digest = _digest(repr(question).encode("utf-8", "surrogateescape"))[:40]
    return os.path.join(cache_dir(), "memo", f"{digest}.bin")


def replay(argv: list[str]) -> bool:
    """Print the recorded output of `argv` if every input it was computed from is unchanged."""
    if not hasattr(os, "posix_spawnp"):
        return False
    try:
        path = entry_file(argv)
        if path is None:
            return False
        entry: Any = cachefile.load(path)
        if entry is None or entry["format"] != FORMAT or not all(_holds(probe) for probe in entry["probes"]):
            return False
        output: str = entry["stdout"]
    except Exception:  # a missing, stale or unreadable recording is a miss, never an error
        return False
    sys.stdout.write(output)
    sys.stdout.flush()
    return True


def record(argv: list[str], command: Callable[[], int]) -> int:
    """Run `command` (the full CLI on `argv`); keep its output and inputs if it is memoized and succeeds.

    Only a clean success is kept: exit 0 and nothing on stderr (no warning, no error).
    """
    global _recording
    path = entry_file(argv)
    if path is None:
        return command()
    recording = _recording = Recording()
    out, err = _Tee(sys.stdout), _Tee(sys.stderr)
    sys.stdout, sys.stderr = out, err
    try:
        code = command()
    finally:
        sys.stdout, sys.stderr = out.inner, err.inner
        _recording = None
    if code == 0 and not err.parts:
        # Cheap probes first, so a stale recording is found out before any git call.
        probes = sorted([*recording.probes, *_code_stamps()], key=lambda probe: probe[0] == "run")
        _prune(os.path.dirname(path))
        cachefile.dump(path, {"format": FORMAT, "probes": probes, "stdout": "".join(out.parts)})
    return code


def _holds(probe: Probe) -> bool:
    kind, *rest = probe
    if kind == "run":
        argv, cwd, unset, env, digest = rest
        stdout = _run(list(argv), cwd, {**{k: v for k, v in os.environ.items() if k not in unset}, **env})
        return bool((None if stdout is None else _digest(stdout)) == digest)
    if kind == "file":
        path, digest = rest
        data = _read(path)
        return bool((None if data is None else _digest(data)) == digest)
    if kind == "stamp":
        path, stamp = rest
        return bool(_stamp(path) == stamp)
    return False


def _run(argv: list[str], cwd: str, env: dict[str, str]) -> bytes | None:
    """stdout of `argv` run in `cwd`, or None if it failed; without the subprocess module (a 10 ms import)."""
    read_end, write_end = os.pipe()
    pipe = os.fdopen(read_end, "rb")
    devnull = os.open(os.devnull, os.O_RDWR)
    here = os.getcwd()
    try:
        os.chdir(cwd)  # posix_spawn has no working-directory action in Python 3.11
        pid = os.posix_spawnp(
            argv[0],
            argv,
            env,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, devnull, 0),
                (os.POSIX_SPAWN_DUP2, write_end, 1),
                (os.POSIX_SPAWN_DUP2, devnull, 2),
                (os.POSIX_SPAWN_CLOSE, read_end),
            ],
        )
    except BaseException:
        pipe.close()
        raise
    finally:
        os.chdir(here)
        os.close(write_end)
        os.close(devnull)
    chunks = []
    with pipe:
        while chunk := pipe.read(1 << 16):
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    return b"".join(chunks) if os.waitstatus_to_exitcode(status) == 0 else None


def _read(path: str) -> bytes | None:
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as file:
        return file.read()


def _digest(data: bytes) -> str:
    try:
        # BLAKE2 built into CPython: `import hashlib` loads OpenSSL, 4 ms of a 30 ms replay.
        from _blake2 import blake2b
    except ImportError:
        from hashlib import blake2b
    return blake2b(data, digest_size=32).hexdigest()


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _code_stamps() -> list[Probe]:
    """Every modelreg module that ran, and the root module of every library: an upgrade or an edit is a miss.

    A reinstalled library rewrites its files, so its root module's stamp changes with it;
    modelreg's own modules are stamped one by one, since an editable install is edited in place.
    """
    stamps: list[Probe] = []
    for name, module in list(sys.modules.items()):
        top = name.partition(".")[0]
        if top in sys.stdlib_module_names or top.startswith("_") or (top != "modelreg" and name != top):
            continue
        path = getattr(module, "__file__", None)
        if path:
            stamps.append(("stamp", path, _stamp(path)))
    return stamps


def _terminal() -> tuple[bool, tuple[int, int] | None]:
    """Whether stdout is a terminal, and the size Rich would draw for (it asks stdin, stdout, stderr in turn)."""
    try:
        tty = sys.stdout.isatty()
    except (AttributeError, ValueError):
        tty = False
    for fd in (0, 1, 2):
        try:
            size = os.get_terminal_size(fd)
        except (OSError, ValueError):
            continue
        return tty, (size.columns, size.lines)
    return tty, None


def _prune(directory: str) -> None:
    """Past KEEP recordings (a new terminal size or directory makes a new one), drop the older half."""
    import contextlib

    try:
        entries = [(e.stat().st_mtime_ns, e.path) for e in os.scandir(directory) if e.name.endswith(".bin")]
    except OSError:
        return
    if len(entries) < KEEP:
        return
    for _, old in sorted(entries)[: len(entries) // 2]:
        with contextlib.suppress(OSError):
            os.unlink(old)


class _Tee:
    """A text stream that passes writes through and keeps a copy of them."""

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return self.inner.write(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        isatty = getattr(self.inner, "isatty", None)
        return bool(isatty and isatty())

    def fileno(self) -> int:
        return self.inner.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:
        return self.inner.encoding

    @property
    def errors(self) -> str | None:
        return self.inner.errors
