"""modelreg: a git-native model registry.

import modelreg
reg = modelreg.Registry.open(".")
reg.register("fraud-detector", "model.pkl", metrics={"auc": 0.92})
reg.promote("fraud-detector", 1, "production")
modelreg.pull("fraud-detector/production", "serving/")
"""

from modelreg.api import InitResult, RefCheck, Registry, VersionDiff, pull
from modelreg.errors import (
    ConfigError,
    ConflictError,
    ExitCode,
    GitError,
    IntegrityError,
    InvalidInputError,
    ModelregError,
    NotFoundError,
)
from modelreg.models import Artifact, ArtifactFile, Event, Manifest, ModelState, ModelSummary, ModelVersion
from modelreg.refs import ModelRef, parse_ref

__version__ = "0.1.0"

__all__ = [
    "Artifact",
    "ArtifactFile",
    "ConfigError",
    "ConflictError",
    "Event",
    "ExitCode",
    "GitError",
    "InitResult",
    "IntegrityError",
    "InvalidInputError",
    "Manifest",
    "ModelRef",
    "ModelState",
    "ModelSummary",
    "ModelVersion",
    "ModelregError",
    "NotFoundError",
    "RefCheck",
    "Registry",
    "VersionDiff",
    "__version__",
    "parse_ref",
    "pull",
]
