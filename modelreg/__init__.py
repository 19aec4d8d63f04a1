"""modelreg: a git-native model registry.

    import modelreg
    reg = modelreg.Registry.open(".")
    reg.register("fraud-detector", "model.pkl", metrics={"auc": 0.92})
    reg.promote("fraud-detector", 1, "production")
    modelreg.pull("fraud-detector/production", "serving/")
    modelreg.sync("fraud-detector/production", "/models", repo=URL, on_change=reload, stop=event)

Names are imported on first use, so `import modelreg` (and the CLI's start-up) stays cheap.
"""

from __future__ import annotations

from modelreg.version import __version__

# Not `from typing import TYPE_CHECKING`: `import modelreg` stays free of typing's import.
TYPE_CHECKING = False

_EXPORTS = {
    "modelreg.api": ("Registry", "pull"),
    "modelreg.errors": (
        "ConfigError",
        "ConflictError",
        "ExitCode",
        "GitError",
        "IntegrityError",
        "InvalidInputError",
        "ModelregError",
        "NotFoundError",
        "StoreError",
    ),
    "modelreg.models": (
        "Artifact",
        "ArtifactFile",
        "Event",
        "Finding",
        "Manifest",
        "ModelState",
        "ModelSummary",
        "ModelVersion",
        "RefCheck",
        "Request",
        "SearchResult",
        "VersionDiff",
    ),
    "modelreg.results": (
        "ApplyResult",
        "CreatedRequest",
        "Deployed",
        "FetchReport",
        "GcReport",
        "InitResult",
        "LintReport",
        "ReportResult",
        "RequestList",
        "RequestStatus",
        "SyncResult",
        "UpdateResult",
        "VerifyReport",
    ),
    "modelreg.core.refs": ("ModelRef", "parse_ref"),
    "modelreg.serving.loop": ("sync",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = [
    "ApplyResult",
    "Artifact",
    "ArtifactFile",
    "ConfigError",
    "ConflictError",
    "CreatedRequest",
    "Deployed",
    "Event",
    "ExitCode",
    "FetchReport",
    "Finding",
    "GcReport",
    "GitError",
    "InitResult",
    "IntegrityError",
    "InvalidInputError",
    "LintReport",
    "Manifest",
    "ModelRef",
    "ModelState",
    "ModelSummary",
    "ModelVersion",
    "ModelregError",
    "NotFoundError",
    "RefCheck",
    "Registry",
    "ReportResult",
    "Request",
    "RequestList",
    "RequestStatus",
    "SearchResult",
    "StoreError",
    "SyncResult",
    "UpdateResult",
    "VerifyReport",
    "VersionDiff",
    "__version__",
    "parse_ref",
    "pull",
    "sync",
]

if TYPE_CHECKING:
    from typing import Any

    from modelreg.api import Registry, pull
    from modelreg.core.refs import ModelRef, parse_ref
    from modelreg.errors import (
        ConfigError,
        ConflictError,
        ExitCode,
        GitError,
        IntegrityError,
        InvalidInputError,
        ModelregError,
        NotFoundError,
        StoreError,
    )
    from modelreg.models import (
        Artifact,
        ArtifactFile,
        Event,
        Finding,
        Manifest,
        ModelState,
        ModelSummary,
        ModelVersion,
        RefCheck,
        Request,
        SearchResult,
        VersionDiff,
    )
    from modelreg.results import (
        ApplyResult,
        CreatedRequest,
        Deployed,
        FetchReport,
        GcReport,
        InitResult,
        LintReport,
        ReportResult,
        RequestList,
        RequestStatus,
        SyncResult,
        UpdateResult,
        VerifyReport,
    )
    from modelreg.serving.loop import sync


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'modelreg' has no attribute {name!r}")
    value = getattr(__import__(module, fromlist=[name]), name)  # the builtin: importlib costs start-up
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
