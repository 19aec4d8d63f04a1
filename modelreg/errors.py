"""One error hierarchy; each error carries the exit code of DESIGN §8."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    CONFLICT = 3
    INTEGRITY = 4
    INTERNAL = 70  # a bug in modelreg (sysexits' EX_SOFTWARE): the traceback is saved to a file
    INTERRUPTED = 130


class ModelregError(Exception):
    """Base class: a one-line message for the user and an exit code.

    `warnings`: what the user should hear about beside the error (e.g. events the policy ignored).
    """

    exit_code: ExitCode = ExitCode.ERROR
    warnings: tuple[str, ...] = ()


class InvalidInputError(ModelregError):
    """Bad input from the user: a name, a reference, a path, a key=value pair."""


class ReviewRequired(InvalidInputError):
    """A change to a `review_required` stage was asked for directly: it must come through a request."""


class NotSupported(InvalidInputError):
    """Something modelreg refuses by design (e.g. renaming a model with deleted versions): the message says why."""


class NotFoundError(ModelregError):
    """A model, version, stage holder, alias or file that does not exist.

    `maybe_stale`: it might exist on the remote this clone has not fetched from lately.
    """

    def __init__(self, message: str, *, maybe_stale: bool = False) -> None:
        super().__init__(message)
        self.maybe_stale = maybe_stale


class GitError(ModelregError):
    """git refused or failed; the message carries git's own last line."""


class ConfigError(ModelregError):
    """`.modelreg/config.yaml` or a manifest does not parse or validate."""


class ConflictError(ModelregError):
    """Another writer took the version number or event seq first."""

    exit_code = ExitCode.CONFLICT


class IntegrityError(ModelregError):
    """Bytes or history that do not match what was recorded."""

    exit_code = ExitCode.INTEGRITY


class MalformedEvent(IntegrityError):
    """A tag with a modelreg name whose message is not a valid modelreg payload."""


class AlreadyExists(ConflictError):
    """What is to be created exists already (a model created before its first version)."""


class LostRace(ConflictError):
    """Another writer took the version, the seq or the branch first; the write is redone on top."""


class StoreError(ModelregError):
    """The artifact store could not be reached or refused an operation."""
