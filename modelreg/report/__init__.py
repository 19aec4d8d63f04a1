"""`modelreg report`: a static, self-contained HTML site of the registry (no server, no network).

The work is split so that the HTML never sees the repository: `gather` reads typed records
through the public reader (the state the policy of record admits), `timeline` and `charts` are
pure, `render` turns records into HTML strings, and `site` writes the pages atomically.
"""

from modelreg.report.site import write_report

__all__ = ["write_report"]
