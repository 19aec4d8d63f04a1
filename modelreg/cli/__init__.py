"""The `modelreg` command line: parse, call the API, render. One error path to exit codes (DESIGN §8).

The read commands' common forms are parsed by `lean` and never load Typer; everything else runs
the Typer app (`app`).
"""

from __future__ import annotations

import os
import sys

from modelreg.cli import lean as leanmod
from modelreg.errors import ExitCode, ModelregError, NotFoundError
from modelreg.version import __version__

STALE_HINT = " (this clone may be behind its remote: try again with --fetch, or run `modelreg fetch`)"


def main(argv: list[str] | None = None, *, lean: bool = True) -> int:
    """Run the CLI; returns the exit code. `lean=False` always goes through Typer (for tests)."""
    args = sys.argv[1:] if argv is None else list(argv)
    as_json = "--json" in args
    try:
        code = _dispatch(args, lean, as_json)
        sys.stdout.flush()
        return code
    except ModelregError as exc:
        message = str(exc)
        if isinstance(exc, NotFoundError) and exc.maybe_stale and "--fetch" not in args:
            message += STALE_HINT
        return fail(message, exc.exit_code, as_json, exc.warnings)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except OSError as exc:
        if exc.filename is None and exc.errno is not None:  # stdout went away or filled up
            _drop_stdout()
            return fail(f"cannot write the output: {os.strerror(exc.errno)}", ExitCode.ERROR, as_json)
        return _internal(exc, as_json)
    except Exception as exc:
        return _internal(exc, as_json)


def _dispatch(args: list[str], lean: bool, as_json: bool) -> int:
    if args == ["--version"]:
        sys.stdout.write(f"modelreg {__version__}\n")
        return ExitCode.OK
    call = leanmod.parse(args) if lean else None
    try:
        if call is not None:
            call()
            return ExitCode.OK
        from modelreg.cli.commands import app  # Typer and the command tree: ~100 ms the lean path never pays

        # Under --json, Click's usage errors come back here to be reported as JSON like every other error.
        result = app(args=args, prog_name="modelreg", standalone_mode=not as_json)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else ExitCode.ERROR)
    except Exception as exc:
        if not as_json or not hasattr(exc, "format_message"):  # a Click usage error has both
            raise
        return fail(exc.format_message(), getattr(exc, "exit_code", ExitCode.USAGE), as_json)
    return result if isinstance(result, int) else ExitCode.OK


def fail(message: str, code: int, as_json: bool = False, warnings: tuple[str, ...] = ()) -> int:
    """The one error path: `error: …` on stderr, or under --json `{"error": …, "exit_code": …}`; returns `code`."""
    if as_json:
        import json  # ~1 ms that a plain error never pays

        report: dict[str, object] = {"error": message, "exit_code": int(code)}
        if warnings:
            report["warnings"] = list(warnings)
        sys.stderr.write(json.dumps(report, ensure_ascii=False) + "\n")
    else:
        for warning in warnings:
            sys.stderr.write(f"warning: {warning}\n")
        _error(message)
    return code


def _error(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _internal(exc: BaseException, as_json: bool = False) -> int:
    """A bug: one line, the traceback in a file to attach to a bug report (MODELREG_DEBUG=1 raises)."""
    if os.environ.get("MODELREG_DEBUG"):
        raise exc
    import tempfile  # with traceback, ~5 ms that only a crash pays
    import traceback

    detail = "".join(traceback.format_exception(exc))
    try:
        fd, path = tempfile.mkstemp(prefix="modelreg-crash-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(f"modelreg {' '.join(sys.argv[1:])}\n\n{detail}")
        where = f"; the traceback is in {path}"
    except OSError:
        where = " (set MODELREG_DEBUG=1 for the traceback)"
    return fail(f"internal error: {type(exc).__name__}: {exc}{where}", ExitCode.INTERNAL, as_json)


def run() -> None:
    sys.exit(main())
