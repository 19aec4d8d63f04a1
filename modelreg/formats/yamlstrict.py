"""The YAML machinery behind yamlio: a strict loader and a careful dumper (imported only on a cache miss or a write).

`yaml.safe_load` keeps the last of duplicate keys, reads `no` as False and accepts alias bombs.
The loader here refuses duplicate keys and anchors/aliases, reads only true/false as booleans and
leaves dates as strings; the dumper quotes every string that a YAML reader could coerce.

Files from a repository may be hostile: the loader also refuses nesting deeper than MAX_NESTING
(PyYAML composes recursively: 3,000 levels would end in RecursionError) and escapes of lone
surrogates (`"\ud800"`, which no UTF-8 output can print). yamlio refuses text that was not UTF-8.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

from modelreg.errors import ConfigError, InvalidInputError

MAX_NESTING = 64  # manifests, config and requests nest 3 levels; PyYAML needs ~3 stack frames per level
_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_SURROGATE = re.compile("[\ud800-\udfff]")


class _StrictLoader(yaml.SafeLoader):
    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise ConstructorError(None, None, "anchors and aliases are not allowed", event.start_mark)
        if not isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            return super().compose_node(parent, index)
        if self._depth >= MAX_NESTING:
            mark: Any = event.start_mark
            raise ConstructorError(None, None, f"nested deeper than {MAX_NESTING} levels", mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_scalar(self, node: Any) -> Any:
        value = super().construct_scalar(node)
        if isinstance(value, str) and not value.isascii() and _SURROGATE.search(value):
            raise ConstructorError(None, None, "a lone surrogate escape is not Unicode text", node.start_mark)
        return value

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                raise ConstructorError(None, None, "mapping keys must be plain values", key_node.start_mark)
            if key in seen:
                raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL_TAG, _TIMESTAMP_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


_LOADER: type[_StrictLoader] = _StrictLoader
if yaml.__with_libyaml__:  # PyYAML's wheels carry libyaml
    from yaml._yaml import CParser
    from yaml.composer import Composer
    from yaml.constructor import SafeConstructor
    from yaml.resolver import Resolver

    class _FastStrictLoader(CParser, _StrictLoader):
        """`_StrictLoader` with libyaml's scanner and parser: the same composer, checks and constructor, faster.

        libyaml would compose the nodes in C too, where none of the checks above could run: the
        composing methods are the Python ones again.
        """

        check_node = Composer.check_node
        get_node = Composer.get_node
        get_single_node = Composer.get_single_node

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    _LOADER = _FastStrictLoader


class _Dumper(yaml.SafeDumper):
    pass


# Strings a YAML 1.2 reader would take for a number, boolean or null, though PyYAML (YAML 1.1)
# would not quote them: `1e999`, `0o17`, `.5e3`, `+.inf`, `NULL`.
_YAML12_SCALAR = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(inf|Inf|INF)"
    r"|\.(nan|NaN|NAN)|~|null|Null|NULL|true|True|TRUE|false|False|FALSE"
)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    if not data.isascii() and _SURROGATE.search(data):  # e.g. from bytes in argv that are not UTF-8
        raise InvalidInputError(f"{data!r} is not Unicode text: it holds a lone surrogate")
    if _YAML12_SCALAR.fullmatch(data):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="'")
    return dumper.represent_str(data)


_Dumper.add_representer(str, _represent_str)


def _represent_mapping(dumper: yaml.SafeDumper, data: dict[Any, Any]) -> yaml.Node:
    """A dict subclass that asks for it (yamlio.FlowMap) is written on one line."""
    flow = True if getattr(type(data), "yaml_flow", False) else None
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


_Dumper.add_multi_representer(dict, _represent_mapping)


def load(text: str, source: str) -> Any:
    """Parse YAML strictly; errors name `source` and the line."""
    try:
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if problem == "exceeded maximum nesting depth":  # libyaml's own limit (1,000), met before ours
            problem = f"nested deeper than {MAX_NESTING} levels"
        raise ConfigError(f"{source}: invalid YAML{where}: {problem}") from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # e.g. `!!int abc`, `!!bool maybe`
        raise ConfigError(f"{source}: invalid YAML: a value does not match its tag ({exc!r})") from None


def dump(data: Any) -> str:
    """YAML text with keys in insertion order; strings that could be coerced are quoted.

    Non-ASCII text is written as is, unless that would not read back the same (PyYAML writes
    some characters, such as U+0085, raw where a reader folds them) or holds U+FFFD (which
    yamlio.load takes for bytes that were not UTF-8): then it is escaped.
    """
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096)
    if text.isascii() or ("\ufffd" not in text and yaml.load(text, Loader=_StrictLoader) == data):  # noqa: S506
        return text
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=False, width=4096)
