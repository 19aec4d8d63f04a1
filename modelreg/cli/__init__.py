"""The `modelreg` command line: parse, call the API, render. One error path to exit codes (DESIGN §8).

The read commands' common forms are parsed by `lean` and never load Typer; everything else runs
the Typer app (`app`).
"""

from __future__ import annotations

import os
import sys

from modelreg.errors import ExitCode, ModelregError, NotFoundError

STALE_HINT = " (this clone may be behind its remote: try again with --fetch, or run `modelreg fetch`)"


def main(argv: list[str] | None = None, *, lean: bool = True) -> int:
    """Run the CLI; returns the exit code. `lean=False` always goes through Typer (for tests)."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        code = _dispatch(args, lean)
        sys.stdout.flush()
        return code
    except ModelregError as exc:
        for warning in exc.warnings:
            sys.stderr.write(f"warning: {warning}\n")
        message = str(exc)
        if isinstance(exc, NotFoundError) and exc.maybe_stale and "--fetch" not in args:
            message += STALE_HINT
        _error(message)
        return exc.exit_code
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except OSError as exc:
        if exc.filename is None and exc.errno is not None:  # stdout went away or filled up
            _drop_stdout()
            _error(f"cannot write the output: {os.strerror(exc.errno)}")
            return ExitCode.ERROR
        return _internal(exc)
    except Exception as exc:
        return _internal(exc)


def _dispatch(args: list[str], lean: bool) -> int:
    from modelreg.cli import lean as leanmod

    call = leanmod.parse(args) if lean else None
    try:
        if call is not None:
            call()
            return ExitCode.OK
        from modelreg.cli.commands import app

        app(args=args, prog_name="modelreg")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else ExitCode.ERROR)
    return ExitCode.OK


def _error(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _internal(exc: BaseException) -> int:
    """A bug: one line, the traceback in a file to attach to a bug report (MODELREG_DEBUG=1 raises)."""
    if os.environ.get("MODELREG_DEBUG"):
        raise exc
    import tempfile
    import traceback

    detail = "".join(traceback.format_exception(exc))
    try:
        fd, path = tempfile.mkstemp(prefix="modelreg-crash-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(f"modelreg {' '.join(sys.argv[1:])}\n\n{detail}")
        where = f"; the traceback is in {path}"
    except OSError:
        where = " (set MODELREG_DEBUG=1 for the traceback)"
    _error(f"internal error: {type(exc).__name__}: {exc}{where}")
    return ExitCode.INTERNAL


def run() -> None:
    sys.exit(main())
