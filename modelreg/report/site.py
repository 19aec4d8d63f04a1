"""Writing the report: every page built in a new directory beside the target, then swapped in.

A directory that is not empty and holds no earlier report is refused unless forced, and never
one that holds the repository itself.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from modelreg.errors import InvalidInputError
from modelreg.read.reader import Reader
from modelreg.report.gather import gather
from modelreg.report.pages import INDEX, index_html, model_html, model_page
from modelreg.report.records import SiteRecord
from modelreg.results import ReportResult

MARKER = ".modelreg-report"  # marks a directory as a report that a later one may replace


def render_site(site: SiteRecord) -> dict[str, str]:
    """Every page of the report: path inside the report → HTML."""
    pages = {INDEX: index_html(site)}
    for model in site.models:
        pages[model_page(model.name)] = model_html(site, model)
    return pages


def write_report(
    reader: Reader, out_dir: str | os.PathLike[str], names: Sequence[str] | None = None, *, force: bool = False
) -> ReportResult:
    """Write the report of `names` (every model when None) into `out_dir`."""
    out = Path(os.path.abspath(out_dir))
    _check_target(out, reader.root, force)
    site = gather(reader, names)
    pages = render_site(site)
    _write(out, pages)

    return ReportResult(
        path=out,
        pages=tuple(pages),
        models=len(site.models),
        versions=sum(len(m.versions) for m in site.models),
        events=sum(len(m.history) for m in site.models),
    )


def _check_target(out: Path, root: Path, force: bool) -> None:
    real = Path(os.path.realpath(out))
    repo = Path(os.path.realpath(root))
    if real == repo or real in repo.parents or (repo / ".git") in (real, *real.parents):
        raise InvalidInputError(f"{out} holds the repository: write the report into a directory of its own")
    if not out.exists():
        return
    if not out.is_dir():
        raise InvalidInputError(f"{out} exists and is not a directory")
    if not force and not (out / MARKER).is_file() and any(out.iterdir()):
        raise InvalidInputError(
            f"{out} is not empty and holds no earlier report: choose an empty or new directory, "
            "or pass --force to replace it"
        )


def _write(out: Path, pages: dict[str, str]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    new = out.parent / f".{out.name}.new-{secrets.token_hex(6)}"
    new.mkdir()  # with the umask's permissions, as any directory the user makes: a report is meant to be read
    try:
        for rel, text in pages.items():
            path = new / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        (new / MARKER).write_text("modelreg report: `modelreg report -o` may replace this directory\n")
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rename(out, old / "report")
            os.rename(new, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(new, out)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
