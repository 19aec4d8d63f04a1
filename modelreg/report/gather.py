"""The report's records, read through the public reader: the state the policy of record admits.

Nothing here parses tags or replays events by itself: the history, the state and the versions
are the reader's (`Reader.model`, `ModelView.history`, `Reader.versions`); only the spans of the
timeline are folded from that history (timeline.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from modelreg.core.refs import check_name
from modelreg.read.reader import ModelView, Reader
from modelreg.report.records import ModelRecord, SiteRecord
from modelreg.report.timeline import spans

HIGHLIGHT = "production"


def gather(reader: Reader, names: Sequence[str] | None = None) -> SiteRecord:
    """The records of `names` (every model the policy admits, when None or empty)."""
    if names:
        wanted = list(dict.fromkeys(check_name(name) for name in names))
    else:
        wanted = [summary.name for summary in reader.models()]
    stages = reader.config.stages
    highlight = HIGHLIGHT if HIGHLIGHT in stages else next(iter(reader.config.single_holder), None)
    models = tuple(model_record(reader, name) for name in wanted)
    source = reader.source or reader.root.name
    return SiteRecord(models, stages, highlight, source, reader.context.policy_commit)


def model_record(reader: Reader, name: str) -> ModelRecord:
    view = reader.model(name)
    history = tuple(view.history())
    state = view.state
    stages = {s: state.stage_holders(s) for s in reader.config.stages if state.stage_holders(s)}
    retired, description, tags = model_facts(view)
    return ModelRecord(
        name=name,
        versions=tuple(reader.versions(view)),
        history=history,
        spans=spans(history),
        stages=stages,
        aliases=dict(state.aliases),
        warnings=view.rejected,
        retired=retired,
        description=description,
        tags=tags,
    )


def model_facts(view: ModelView) -> tuple[bool, str | None, Mapping[str, Any]]:
    """(retired, description, tags) of the model itself, as its policy-admitted events left them."""
    state = view.state
    return state.retired is not None, state.description or None, state.tags
