"""Strict YAML in and careful YAML out, for manifests, config and requests.

`yaml.safe_load` keeps the last of duplicate keys, reads `no` as False and accepts alias bombs.
The loader (yamlstrict) refuses duplicate keys and anchors/aliases, reads only true/false as
booleans and leaves dates as strings; the dumper quotes every string that a YAML reader could coerce.

Parsing YAML costs PyYAML's import (15 ms) and a parse (libyaml scans, Python composes and checks), on
every read of the config and of a manifest. So a parse is kept in a private cache file keyed by the text itself (which
the file also holds and is compared whole): the same bytes always parse to the same data.

Text containing U+FFFD is refused: git's bytes reach us decoded with U+FFFD in place of any that
are not UTF-8, and guessing what they meant could read another path or value than the file holds.
dump escapes a U+FFFD of its own, so everything modelreg writes reads back.
"""

from __future__ import annotations

import os
from typing import Any

from modelreg import cachefile
from modelreg.errors import ConfigError
from modelreg.paths import cache_dir

_LOADER = "2"  # part of the cache key: change it when the loader refuses text it once took (2: hostile input)


class FlowMap(dict[str, "Any"]):
    """A mapping written on one line: `{path: model.pkl, digest: …, size: 1}`."""

    yaml_flow = True


def load(text: str, source: str, *, keep: bool = True) -> Any:
    """Parse YAML strictly; errors name `source` and the line.

    `keep=False`: for a caller that keeps the parse itself (many manifests at once): no cache file a text.
    """
    if "\ufffd" in text:
        line = text.count("\n", 0, text.index("\ufffd")) + 1
        raise ConfigError(f"{source}: invalid YAML (line {line}): not UTF-8 text (or a raw U+FFFD character)")
    if not keep:
        from modelreg.formats import yamlstrict  # PyYAML: ~25 ms of start-up (measured), paid only on a cache miss

        return yamlstrict.load(text, source)
    path = os.path.join(cache_dir(), "yaml", cachefile.file_name(_LOADER, text))
    cached = cachefile.load(path)
    if isinstance(cached, tuple) and len(cached) == 3 and cached[:2] == (_LOADER, text):
        return cached[2]
    from modelreg.formats import yamlstrict  # PyYAML: ~25 ms of start-up (measured), paid only on a cache miss

    data = yamlstrict.load(text, source)
    cachefile.dump(path, (_LOADER, text, data))
    return data


def dump(data: Any) -> str:
    """YAML text with keys in insertion order; strings that could be coerced are quoted."""
    from modelreg.formats import yamlstrict  # PyYAML: ~25 ms of start-up (measured), paid only by writes

    return yamlstrict.dump(data)
