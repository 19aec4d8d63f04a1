"""Trees built from a parent's trees along the changed paths (`ls-tree`, `mktree`): no index, no work tree."""

from __future__ import annotations

from collections.abc import Callable


def tree_with(git: Callable[..., str], base: str | None, blobs: dict[str, str]) -> str:
    """The tree `base` (None: empty) with each path in `blobs` set to that blob; `git` runs git here."""
    """The tree `base` (None: empty) with each path in `blobs` set to that blob."""
    entries: dict[str, str] = {}  # name → "mode type id"
    if base is not None:
        for line in git("ls-tree", "-z", "--full-tree", base).split("\x00"):
            if line:
                info, _, name = line.partition("\t")
                entries[name] = info
    nested: dict[str, dict[str, str]] = {}
    for path, blob in blobs.items():
        head, _, rest = path.partition("/")
        if rest:
            nested.setdefault(head, {})[rest] = blob
        else:
            entries[head] = f"100644 blob {blob}"
    for head, inner in nested.items():
        _mode, kind, oid = entries.get(head, "- - -").split(" ")
        entries[head] = f"040000 tree {tree_with(git, oid if kind == 'tree' else None, inner)}"
    listing = "".join(f"{info}\t{name}\x00" for name, info in entries.items())
    return git("mktree", "-z", stdin=listing).strip()
