"""The YAML side of a machine file: what could hang or crash the parser is refused before it runs,
and composed nodes are read one by one with a typed accessor whose every failure is an ``InputError``
at the node (file, line, column).  yaml itself is passed in: importing this module does not import it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from crashplan.errors import InputError
from crashplan.memmap.machine.schema import MAX_DEPTH, MAX_DOCUMENT_CHARS
from crashplan.units import parse_size

# YAML 1.1 printable set (PyYAML's Reader), plus the surrogates Python uses for undecodable bytes
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp"))
_PLAIN_AS_TEXT = frozenset(f"tag:yaml.org,2002:{t}" for t in ("int", "float", "bool", "timestamp"))


# ---------------------------------------------------------------------------------------------
# the node walker


class Doc:
    """Typed access to composed YAML nodes, every failure an InputError at the node."""

    def __init__(self, source: str, yaml_mod: Any) -> None:
        self.source = source
        self.yaml = yaml_mod
        self._constructor = yaml_mod.constructor.SafeConstructor()

    def error(self, node: Any, message: str) -> InputError:
        mark = getattr(node, "start_mark", None)
        if mark is None:
            return InputError(message, path=self.source)
        return InputError(message, path=self.source, line=mark.line + 1, column=mark.column + 1)

    # scalars ---------------------------------------------------------------------------------

    def scalar(self, node: Any, what: str) -> Any:
        if not isinstance(node, self.yaml.ScalarNode):
            raise self.error(node, f"expected {what}, found a {node_kind(node, self.yaml)}")
        if node.tag not in _SCALAR_TAGS:
            raise self.error(node, f"unsupported YAML tag {node.tag!r}: expected {what}")
        try:
            return self._constructor.construct_object(node, deep=True)
        except (self.yaml.YAMLError, ValueError, TypeError, OverflowError) as e:
            raise self.error(node, f"expected {what}: {e}") from None

    def is_null(self, node: Any) -> bool:
        return isinstance(node, self.yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"

    def string(self, node: Any, what: str = "a string", *, nullable: bool = False) -> str | None:
        if nullable and self.is_null(node):
            return None
        if not isinstance(node, self.yaml.ScalarNode):
            raise self.error(node, f"expected {what}, found a {node_kind(node, self.yaml)}")
        if node.style in (None, "") and node.tag in _PLAIN_AS_TEXT:
            # a plain scalar that YAML would read as a number, a boolean or a date (kernel: 6.12): keep the text
            return str(node.value)
        value = self.scalar(node, what)
        if not isinstance(value, str):
            raise self.error(node, f"expected {what}, found {value!r}")
        return value

    def boolean(self, node: Any, what: str = "true or false", *, nullable: bool = False) -> bool | None:
        if nullable and self.is_null(node):
            return None
        value = self.scalar(node, what)
        if not isinstance(value, bool):
            raise self.error(node, f"expected {what}, found {show_value(node)}")
        return value

    def integer(self, node: Any, what: str, *, minimum: int = 0, maximum: int | None = None) -> int:
        value = self.scalar(node, what)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(node, f"expected {what}, found {show_value(node)}")
        if value < minimum or (maximum is not None and value > maximum):
            hi = f" and {maximum}" if maximum is not None else ""
            raise self.error(node, f"expected {what} between {minimum}{hi}, found {value}")
        return value

    def size(self, node: Any, what: str = "a size", *, nullable: bool = False,
             positive: bool = False) -> int | None:
        """An int, a hex int, or a string with a binary unit (``16G``); at most 2**64."""
        if nullable and self.is_null(node):
            return None
        value = self.scalar(node, what)
        if isinstance(value, str):
            try:
                value = parse_size(value)
            except ValueError as e:
                raise self.error(node, f"expected {what}: {e}") from None
        elif isinstance(value, bool) or not isinstance(value, int):
            raise self.error(node, f"expected {what} (bytes, hex, or a number with K/M/G/T), found "
                                   f"{show_value(node)}")
        if value < 0 or value > 1 << 64:
            raise self.error(node, f"expected {what} between 0 and 2^64, found {value}")
        if positive and value == 0:
            raise self.error(node, f"expected {what} above zero, found 0")
        return value

    # collections -----------------------------------------------------------------------------

    def mapping(self, node: Any, what: str, keys: Mapping[str, Any] | None = None) -> dict[str, tuple[Any, Any]]:
        """``{key: (key_node, value_node)}``; duplicate and (with ``keys``) unknown keys refused."""
        if not isinstance(node, self.yaml.MappingNode):
            raise self.error(node, f"expected {what} (a mapping), found a {node_kind(node, self.yaml)}")
        out: dict[str, tuple[Any, Any]] = {}
        for knode, vnode in node.value:
            if not isinstance(knode, self.yaml.ScalarNode):
                raise self.error(knode, f"expected a key of {what}, found a {node_kind(knode, self.yaml)}")
            key = str(knode.value)
            if key in out:
                first = out[key][0].start_mark.line + 1
                raise self.error(knode, f"duplicate key {key!r} in {what} (first at line {first})")
            if keys is not None and key not in keys:
                raise self.error(knode, f"unknown key {key!r} in {what} (expected one of: {', '.join(keys)})")
            out[key] = (knode, vnode)
        return out

    def sequence(self, node: Any, what: str) -> list[Any]:
        if self.is_null(node):
            return []
        if not isinstance(node, self.yaml.SequenceNode):
            raise self.error(node, f"expected {what} (a list), found a {node_kind(node, self.yaml)}")
        return list(node.value)


def node_kind(node: Any, yaml_mod: Any) -> str:
    if isinstance(node, yaml_mod.MappingNode):
        return "mapping"
    if isinstance(node, yaml_mod.SequenceNode):
        return "list"
    return f"scalar {show_value(node)}"


def show_value(node: Any) -> str:
    text = str(getattr(node, "value", ""))
    return ascii(text[:40]) + ("..." if len(text) > 40 else "")


# ---------------------------------------------------------------------------------------------
# loading


def loader(yaml_mod: Any) -> Any:
    return getattr(yaml_mod, "CSafeLoader", None) or yaml_mod.SafeLoader


def line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def precheck(text: str, source: str, yaml_mod: Any) -> None:
    """Refuse what could hang or crash the parser: size, aliases, nesting, unreadable characters."""
    if len(text) > MAX_DOCUMENT_CHARS:
        raise InputError(f"document too large ({len(text)} characters; a machine file is at most "
                         f"{MAX_DOCUMENT_CHARS >> 20} MiB)", path=source,
                         line=text.count("\n", 0, MAX_DOCUMENT_CHARS) + 1)
    bad = _NON_PRINTABLE.search(text)
    if bad is not None:
        ch = bad.group()
        line, col = line_col(text, bad.start())
        what = "a byte that is not UTF-8" if "\ud800" <= ch <= "\udfff" else f"the character {ch!a}"
        raise InputError(f"{what}: machine files are UTF-8 text without control characters",
                         path=source, line=line, column=col)
    depth = 0
    opens = (yaml_mod.BlockMappingStartToken, yaml_mod.BlockSequenceStartToken,
             yaml_mod.FlowMappingStartToken, yaml_mod.FlowSequenceStartToken)
    closes = (yaml_mod.BlockEndToken, yaml_mod.FlowMappingEndToken, yaml_mod.FlowSequenceEndToken)
    try:
        for token in yaml_mod.scan(text, Loader=loader(yaml_mod)):
            if isinstance(token, opens):
                depth += 1
                if depth > MAX_DEPTH:
                    m = token.start_mark
                    raise InputError(f"nested more than {MAX_DEPTH} levels deep", path=source,
                                     line=m.line + 1, column=m.column + 1)
            elif isinstance(token, closes):
                depth -= 1
            elif isinstance(token, (yaml_mod.AliasToken, yaml_mod.AnchorToken)):
                m = token.start_mark
                kind = "alias" if isinstance(token, yaml_mod.AliasToken) else "anchor"
                raise InputError(f"YAML {kind}s (&name, *name) are not allowed in machine files: write "
                                 "each value out", path=source, line=m.line + 1, column=m.column + 1)
    except yaml_mod.YAMLError as e:
        raise yaml_error(e, text, source) from None


def yaml_error(e: Any, text: str, source: str) -> InputError:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    problem = getattr(e, "problem", None)
    context = getattr(e, "context", None)
    if problem:
        message = f"invalid YAML: {context + ': ' if context else ''}{problem}"
    else:
        message = f"invalid YAML: {getattr(e, 'reason', None) or e}"
    if mark is not None:
        # at the end of the document the scanner's mark can sit one line past the text: name the last line
        last = text.count("\n") + 1  # the line after a final newline is where an editor's cursor ends
        line = mark.line + 1
        if line > last:
            return InputError(f"{message} (at the end of the document)", path=source, line=last)
        return InputError(message, path=source, line=line, column=mark.column + 1)
    position = getattr(e, "position", None)
    if isinstance(position, int) and 0 <= position <= len(text):
        line, col = line_col(text, position)
        return InputError(message, path=source, line=line, column=col)
    return InputError(message, path=source)
