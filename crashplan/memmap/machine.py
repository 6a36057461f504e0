"""Machine files: a versioned YAML description of a machine to plan for (``schema: crashplan/machine@1``).

The format is documented in ``docs/machine-format.md``; this module is its only reader and writer:

* :func:`load_machine` reads one document into a :class:`~crashplan.memmap.model.Machine`.  It is
  strict: unknown keys, wrong types, overlapping RAM, spans outside RAM, unknown schema versions,
  YAML aliases, deep nesting and oversized documents are all :class:`InputError` naming the file,
  the line and the column of the offending node.  Nothing else is ever raised.
* :func:`dump_machine` writes a Machine back; ``load_machine(dump_machine(m)) == m`` for every
  machine ``load_machine`` returns (and for those :mod:`crashplan.memmap.iomem` and the host probe
  build).

yaml is imported inside these two functions only, so nothing else pays for it.  The loader never
constructs Python objects from the document beyond plain scalars: the document is *composed* into
nodes and walked here, which keeps the node positions for messages and makes alias bombs
impossible (aliases are refused before composition, while scanning).

Conventions (kernel-semantics uses the same ones): ranges are half-open, ``end`` is exclusive;
sizes are bytes, written as integers, hex (``0x1000``) or with a binary unit (``16G``, ``512M``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from itertools import pairwise
from typing import Any

from crashplan.errors import InputError
from crashplan.memmap.model import Machine, MemoryMap, Span
from crashplan.units import format_kernel_size, parse_size

__all__ = [
    "KDUMP_KEYS",
    "MAX_DEPTH",
    "MAX_DOCUMENT_CHARS",
    "MEM_ENCRYPT",
    "SCHEMA",
    "dump_machine",
    "load_machine",
]

SCHEMA = "crashplan/machine@1"
MAX_DOCUMENT_CHARS = 4 << 20  # a 1 TiB host with thousands of spans is a few hundred KiB
MAX_DEPTH = 32  # the format itself needs 4
MEM_ENCRYPT = ("sev", "tdx", "sme")

_SCHEMA_RE = re.compile(r"crashplan/machine@(\d+)\Z")
# YAML 1.1 printable set (PyYAML's Reader), plus the surrogates Python uses for undecodable bytes
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONFIG_KEY = re.compile(r"CONFIG_[A-Z0-9_]+\Z")
_FACT_KEY = re.compile(r"[a-z][a-z0-9_]*\Z")
_MEMORY_KINDS = ("ram", "reserved", "nomap", "other", "crash")
_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp"))
_PLAIN_AS_TEXT = frozenset(f"tag:yaml.org,2002:{t}" for t in ("int", "float", "bool", "timestamp"))


# ---------------------------------------------------------------------------------------------
# the node walker


class _Doc:
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

    def _scalar(self, node: Any, what: str) -> Any:
        if not isinstance(node, self.yaml.ScalarNode):
            raise self.error(node, f"expected {what}, found a {_kind(node, self.yaml)}")
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
            raise self.error(node, f"expected {what}, found a {_kind(node, self.yaml)}")
        if node.style in (None, "") and node.tag in _PLAIN_AS_TEXT:
            # a plain scalar that YAML would read as a number, a boolean or a date (kernel: 6.12): keep the text
            return str(node.value)
        value = self._scalar(node, what)
        if not isinstance(value, str):
            raise self.error(node, f"expected {what}, found {value!r}")
        return value

    def boolean(self, node: Any, what: str = "true or false", *, nullable: bool = False) -> bool | None:
        if nullable and self.is_null(node):
            return None
        value = self._scalar(node, what)
        if not isinstance(value, bool):
            raise self.error(node, f"expected {what}, found {_show_value(node)}")
        return value

    def integer(self, node: Any, what: str, *, minimum: int = 0, maximum: int | None = None) -> int:
        value = self._scalar(node, what)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(node, f"expected {what}, found {_show_value(node)}")
        if value < minimum or (maximum is not None and value > maximum):
            hi = f" and {maximum}" if maximum is not None else ""
            raise self.error(node, f"expected {what} between {minimum}{hi}, found {value}")
        return value

    def size(self, node: Any, what: str = "a size", *, nullable: bool = False,
             positive: bool = False) -> int | None:
        """An int, a hex int, or a string with a binary unit (``16G``); at most 2**64."""
        if nullable and self.is_null(node):
            return None
        value = self._scalar(node, what)
        if isinstance(value, str):
            try:
                value = parse_size(value)
            except ValueError as e:
                raise self.error(node, f"expected {what}: {e}") from None
        elif isinstance(value, bool) or not isinstance(value, int):
            raise self.error(node, f"expected {what} (bytes, hex, or a number with K/M/G/T), found "
                                   f"{_show_value(node)}")
        if value < 0 or value > 1 << 64:
            raise self.error(node, f"expected {what} between 0 and 2^64, found {value}")
        if positive and value == 0:
            raise self.error(node, f"expected {what} above zero, found 0")
        return value

    # collections -----------------------------------------------------------------------------

    def mapping(self, node: Any, what: str, keys: Mapping[str, Any] | None = None) -> dict[str, tuple[Any, Any]]:
        """``{key: (key_node, value_node)}``; duplicate and (with ``keys``) unknown keys refused."""
        if not isinstance(node, self.yaml.MappingNode):
            raise self.error(node, f"expected {what} (a mapping), found a {_kind(node, self.yaml)}")
        out: dict[str, tuple[Any, Any]] = {}
        for knode, vnode in node.value:
            if not isinstance(knode, self.yaml.ScalarNode):
                raise self.error(knode, f"expected a key of {what}, found a {_kind(knode, self.yaml)}")
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
            raise self.error(node, f"expected {what} (a list), found a {_kind(node, self.yaml)}")
        return list(node.value)


def _kind(node: Any, yaml_mod: Any) -> str:
    if isinstance(node, yaml_mod.MappingNode):
        return "mapping"
    if isinstance(node, yaml_mod.SequenceNode):
        return "list"
    return f"scalar {_show_value(node)}"


def _show_value(node: Any) -> str:
    text = str(getattr(node, "value", ""))
    return ascii(text[:40]) + ("..." if len(text) > 40 else "")


# ---------------------------------------------------------------------------------------------
# loading


def _loader(yaml_mod: Any) -> Any:
    return getattr(yaml_mod, "CSafeLoader", None) or yaml_mod.SafeLoader


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _precheck(text: str, source: str, yaml_mod: Any) -> None:
    """Refuse what could hang or crash the parser: size, aliases, nesting, unreadable characters."""
    if len(text) > MAX_DOCUMENT_CHARS:
        raise InputError(f"document too large ({len(text)} characters; a machine file is at most "
                         f"{MAX_DOCUMENT_CHARS >> 20} MiB)", path=source,
                         line=text.count("\n", 0, MAX_DOCUMENT_CHARS) + 1)
    bad = _NON_PRINTABLE.search(text)
    if bad is not None:
        ch = bad.group()
        line, col = _line_col(text, bad.start())
        what = "a byte that is not UTF-8" if "\ud800" <= ch <= "\udfff" else f"the character {ch!a}"
        raise InputError(f"{what}: machine files are UTF-8 text without control characters",
                         path=source, line=line, column=col)
    depth = 0
    opens = (yaml_mod.BlockMappingStartToken, yaml_mod.BlockSequenceStartToken,
             yaml_mod.FlowMappingStartToken, yaml_mod.FlowSequenceStartToken)
    closes = (yaml_mod.BlockEndToken, yaml_mod.FlowMappingEndToken, yaml_mod.FlowSequenceEndToken)
    try:
        for token in yaml_mod.scan(text, Loader=_loader(yaml_mod)):
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
        raise _yaml_error(e, text, source) from None


def _yaml_error(e: Any, text: str, source: str) -> InputError:
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
        line, col = _line_col(text, position)
        return InputError(message, path=source, line=line, column=col)
    return InputError(message, path=source)


_TOP_KEYS = {
    "schema": None, "name": None, "provenance": None, "arch": None, "kernel": None, "cmdline": None,
    "system_ram": None, "page_size": None, "cpus": None, "swiotlb_size": None, "mem_encrypt": None,
    "kaslr": None, "dma_limit": None, "fadump": None, "memory": None, "reservation": None,
    "kdump": None, "boot_facts": None, "notes": None,
}
_MEMORY_KEYS = {"source": None, "layout": None, **dict.fromkeys(_MEMORY_KINDS)}
_SPAN_KEYS = {"start": None, "end": None, "size": None, "name": None}
_RESERVATION_KEYS = {"kexec_crash_size": None, "crash_cma_ranges": None}

# kdump: section — key -> kind ("size", "int", "bool", "str", or a nested table)
KDUMP_KEYS: dict[str, Any] = {
    "kernel_image": {"path": "str", "image_size": "size", "init_size": "size"},
    "initrd": {"path": "str", "size": "size", "unpacked_size": "size"},
    "dump_level": "dump_level",
    "collector": "str",
    "kexec_file_load": "bool",
    "luks_memory": "size",
    "nr_cpus": "count",
    "kernel_config": "config",
    "platform": {"mlx5": "bool", "smmu": "bool", "page_size": "page_size"},
}


def load_machine(text: str, *, source: str) -> Machine:
    """Read a machine file.  ``source`` names it in messages (a path, ``<stdin>`` …)."""
    import yaml

    if not text.strip():
        raise InputError(f"empty document: expected a machine file starting with 'schema: {SCHEMA}'",
                         path=source, line=1)
    _precheck(text, source, yaml)
    try:
        root = yaml.compose(text, Loader=_loader(yaml))
    except yaml.YAMLError as e:
        raise _yaml_error(e, text, source) from None
    except RecursionError:  # cannot happen after _precheck; kept as the last guard
        raise InputError(f"nested more than {MAX_DEPTH} levels deep", path=source) from None
    if root is None:
        raise InputError(f"empty document: expected a machine file starting with 'schema: {SCHEMA}'",
                         path=source, line=1)
    doc = _Doc(source, yaml)
    return _build(doc, root)


def _build(doc: _Doc, root: Any) -> Machine:
    top = doc.mapping(root, "the machine file", _TOP_KEYS)
    if "schema" not in top:
        raise doc.error(root, f"missing 'schema: {SCHEMA}' (the first line of a machine file)")
    schema_node = top["schema"][1]
    schema = doc.string(schema_node, f"'{SCHEMA}'")
    m = _SCHEMA_RE.match(schema or "")
    if m is None:
        raise doc.error(schema_node, f"not a crashplan machine file: schema is {schema!r}, expected {SCHEMA!r}")
    if m.group(1) != "1":
        raise doc.error(schema_node, f"unsupported schema version {m.group(1)} (this crashplan reads {SCHEMA}); "
                                     "upgrade crashplan to read this file")

    def opt(key: str, conv: Callable[[Any], Any]) -> Any:
        return conv(top[key][1]) if key in top else None

    arch = None
    if "arch" in top:
        node = top["arch"][1]
        name = doc.string(node, "an architecture name", nullable=True)
        if name is not None:
            from crashplan.kernel.arch import normalize_arch

            try:
                arch = normalize_arch(name)
            except ValueError as e:
                raise doc.error(node, str(e)) from None

    mem_encrypt = None
    if "mem_encrypt" in top:
        node = top["mem_encrypt"][1]
        value = doc.string(node, "sev, tdx, sme or null", nullable=True)
        if value is not None and value.lower() not in ("none", "off"):
            if value.lower() not in MEM_ENCRYPT:
                raise doc.error(node, f"expected sev, tdx, sme or null, found {value!r}")
            mem_encrypt = value.lower()

    page_size = 4096
    if "page_size" in top:
        page_size = _page_size(doc, top["page_size"][1])

    system_ram = opt("system_ram", lambda n: doc.size(n, "the RAM size", nullable=True, positive=True))
    memmap = _memory(doc, top.get("memory"), page_size)
    if not memmap.layout_known and system_ram is None:
        if "memory" in top:
            raise doc.error(top["memory"][0], "layout: unknown needs system_ram (the RAM size in bytes)")
        raise doc.error(root, "no memory map: give memory.ram spans, or system_ram alone (the layout is then "
                              "unknown)")

    kexec_crash_size = None
    cma: tuple[Span, ...] = ()
    if "reservation" in top:
        res = doc.mapping(top["reservation"][1], "reservation", _RESERVATION_KEYS)
        if "kexec_crash_size" in res:
            kexec_crash_size = doc.size(res["kexec_crash_size"][1], "kexec_crash_size", nullable=True)
        if "crash_cma_ranges" in res:
            cma = tuple(sorted(_spans(doc, res["crash_cma_ranges"][1], "reservation.crash_cma_ranges")))

    notes: tuple[str, ...] = ()
    if "notes" in top:
        notes = tuple(str(doc.string(n, "a note")) for n in doc.sequence(top["notes"][1], "notes"))

    return Machine(
        memmap=memmap,
        name=opt("name", lambda n: doc.string(n, "a name", nullable=True)) or "",
        provenance=opt("provenance", lambda n: doc.string(n, "a provenance text", nullable=True)) or "",
        arch=arch,
        kernel=opt("kernel", lambda n: doc.string(n, "a kernel release", nullable=True)),
        cmdline=opt("cmdline", lambda n: doc.string(n, "a command line", nullable=True)),
        system_ram=system_ram,
        swiotlb_size=opt("swiotlb_size", lambda n: doc.size(n, "the swiotlb size", nullable=True)),
        mem_encrypt=mem_encrypt,
        kaslr=opt("kaslr", lambda n: doc.boolean(n, nullable=True)),
        cpus=opt("cpus", lambda n: None if doc.is_null(n) else doc.integer(n, "a CPU count", minimum=1,
                                                                            maximum=1 << 20)),
        page_size=page_size,
        dma_limit=opt("dma_limit", lambda n: doc.size(n, "the DMA limit", nullable=True, positive=True)),
        fadump=opt("fadump", lambda n: doc.boolean(n, nullable=True)),
        kexec_crash_size=kexec_crash_size,
        crash_cma_ranges=cma,
        notes=notes,
        kdump=_kdump(doc, top["kdump"][1]) if "kdump" in top else {},
        boot_facts=_boot_facts(doc, top["boot_facts"][1]) if "boot_facts" in top else {},
    )


def _page_size(doc: _Doc, node: Any) -> int:
    value = doc.size(node, "a page size")
    assert value is not None
    if value < 4096 or value > 1 << 30 or value & (value - 1):
        raise doc.error(node, f"expected a page size that is a power of two (4K, 16K, 64K), found {value}")
    return value


def _spans(doc: _Doc, node: Any, what: str) -> list[Span]:
    out = []
    for item in doc.sequence(node, what):
        fields = doc.mapping(item, f"a span of {what}", _SPAN_KEYS)
        if "start" not in fields:
            raise doc.error(item, f"a span of {what} needs 'start' and 'end' (exclusive) or 'size'")
        start = doc.size(fields["start"][1], "a start address")
        assert start is not None
        if "end" in fields and "size" in fields:
            raise doc.error(fields["size"][0], f"a span of {what} takes 'end' or 'size', not both")
        if "end" in fields:
            end = doc.size(fields["end"][1], "an end address (exclusive)")
            where = fields["end"][1]
        elif "size" in fields:
            size = doc.size(fields["size"][1], "a size")
            assert size is not None
            end = start + size
            where = fields["size"][1]
        else:
            raise doc.error(item, f"a span of {what} needs 'end' (exclusive) or 'size' besides 'start'")
        assert end is not None
        if end <= start:
            raise doc.error(where, f"empty or negative span: end {end:#x} is not above start {start:#x} "
                                   "(end is exclusive)")
        if end > 1 << 64:
            raise doc.error(where, f"span end {end:#x} is beyond the 64-bit address space")
        name = ""
        if "name" in fields:
            name = doc.string(fields["name"][1], "a name", nullable=True) or ""
        out.append(Span(start, end, name))
    return out


def _memory(doc: _Doc, entry: tuple[Any, Any] | None, page_size: int) -> MemoryMap:
    if entry is None:
        return MemoryMap(ram=(), layout_known=False)
    knode, node = entry
    fields = doc.mapping(node, "memory", _MEMORY_KEYS)
    source = ""
    if "source" in fields:
        source = doc.string(fields["source"][1], "a source name", nullable=True) or ""
    layout_known = True
    if "layout" in fields:
        lnode = fields["layout"][1]
        layout = doc.string(lnode, "known or unknown")
        if layout not in ("known", "unknown"):
            raise doc.error(lnode, f"expected known or unknown, found {layout!r}")
        layout_known = layout == "known"
    spans = {k: _spans(doc, fields[k][1], f"memory.{k}") if k in fields else [] for k in _MEMORY_KINDS}
    if not layout_known:
        for k in _MEMORY_KINDS:
            if spans[k]:
                raise doc.error(fields[k][0], f"memory.{k} given with layout: unknown (drop one of them)")
        return MemoryMap(ram=(), source=source, layout_known=False)
    if not spans["ram"]:
        raise doc.error(fields["ram"][1] if "ram" in fields else knode,
                        "memory.ram is empty: list the RAM spans, or write layout: unknown and system_ram")

    # RAM (and NOMAP memory) may touch but never overlap; reserved and crash spans lie inside them
    items = [(s, k, i) for k in ("ram", "nomap") for i, s in enumerate(spans[k])]
    items.sort(key=lambda t: (t[0].start, t[0].end))
    for (a, ka, _), (b, kb, ib) in pairwise(items):
        if b.start < a.end:
            item_node = doc.sequence(fields[kb][1], kb)[ib]
            raise doc.error(item_node, f"memory.{kb} span {b.start:#x}-{b.end:#x} overlaps memory.{ka} span "
                                       f"{a.start:#x}-{a.end:#x}")
    for i, s in enumerate(spans["ram"]):
        if s.start % 4096 or s.end % 4096:
            lo, hi = -(-s.start // 4096) * 4096, s.end // 4096 * 4096
            raise doc.error(doc.sequence(fields["ram"][1], "ram")[i],
                            f"memory.ram span {s.start:#x}-{s.end:#x} is not page aligned: memblock manages whole "
                            f"pages (write {lo:#x}-{hi:#x})")
    memory = [s for s, _, _ in items]
    for kind in ("reserved", "crash"):
        for i, s in enumerate(spans[kind]):
            if not _covered(s, memory):
                item_node = doc.sequence(fields[kind][1], kind)[i]
                raise doc.error(item_node, f"memory.{kind} span {s.start:#x}-{s.end:#x} is not inside memory.ram "
                                           "(or memory.nomap)")
    return MemoryMap(
        ram=tuple(sorted(spans["ram"])),
        reserved=tuple(sorted(spans["reserved"])),
        nomap=tuple(sorted(spans["nomap"])),
        other=tuple(sorted(spans["other"])),
        crash=tuple(sorted(spans["crash"])),
        source=source,
    )


def _covered(span: Span, memory: list[Span]) -> bool:
    """``span`` lies inside the union of ``memory`` (sorted, non-overlapping)."""
    cur = span.start
    for m in memory:
        if m.end <= cur:
            continue
        if m.start > cur:
            return False
        cur = m.end
        if cur >= span.end:
            return True
    return cur >= span.end


def _kdump(doc: _Doc, node: Any) -> dict[str, object]:
    return _kdump_table(doc, node, KDUMP_KEYS, "kdump")


def _kdump_table(doc: _Doc, node: Any, table: Mapping[str, Any], what: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, (_knode, vnode) in doc.mapping(node, what, table).items():
        kind = table[key]
        name = f"{what}.{key}"
        if doc.is_null(vnode):
            out[key] = None
        elif isinstance(kind, dict):
            out[key] = _kdump_table(doc, vnode, kind, name)
        elif kind == "size":
            out[key] = doc.size(vnode, name)
        elif kind == "page_size":
            out[key] = _page_size(doc, vnode)
        elif kind == "bool":
            out[key] = doc.boolean(vnode, f"true or false for {name}")
        elif kind == "str":
            out[key] = doc.string(vnode, f"a string for {name}")
        elif kind == "dump_level":
            out[key] = doc.integer(vnode, "a makedumpfile dump level", minimum=0, maximum=31)
        elif kind == "count":
            out[key] = doc.integer(vnode, f"a count for {name}", minimum=1, maximum=1 << 20)
        elif kind == "config":
            out[key] = _kernel_config(doc, vnode, name)
        else:  # pragma: no cover - the table above is closed
            raise AssertionError(kind)
    return out


# boot facts the simulator computes with (crashplan/simulate.py): they must be numbers
_NUMERIC_FACTS = frozenset({"kernel_image", "initrd_size", "va_bits", "rma_size", "kernel_rodata_span"})


def _boot_facts(doc: _Doc, node: Any) -> dict[str, object]:
    """Facts a boot log gave the simulator (``crashplan.memmap.bootlog``): identifiers to scalars."""
    out: dict[str, object] = {}
    for key, (knode, vnode) in doc.mapping(node, "boot_facts").items():
        if not _FACT_KEY.match(key):
            raise doc.error(knode, f"expected a lower-case identifier as a boot_facts key, found {key!r}")
        value = None if doc.is_null(vnode) else doc._scalar(vnode, f"a number, string or true/false for {key}")
        if value is not None and not isinstance(value, (bool, int, str)):
            raise doc.error(vnode, f"expected a number, string or true/false for {key}, found {_show_value(vnode)}")
        if key in _NUMERIC_FACTS and value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                                            or value < 0):
            raise doc.error(vnode, f"expected a byte count or number for {key}, found {_show_value(vnode)}")
        out[key] = value
    return out


# the build options crashplan decides on (crashplan.readiness, crashplan.sizing): y or n only
_BOOL_OPTIONS = frozenset({"CONFIG_CMA", "CONFIG_KEXEC", "CONFIG_KEXEC_FILE", "CONFIG_CRASH_DUMP",
                           "CONFIG_CRASH_RESERVE", "CONFIG_CRASH_CORE", "CONFIG_PROC_VMCORE"})


def _kernel_config(doc: _Doc, node: Any, what: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, (knode, vnode) in doc.mapping(node, what).items():
        if not _CONFIG_KEY.match(key):
            raise doc.error(knode, f"expected a kernel config option like CONFIG_CMA, found {key!r}")
        if doc.is_null(vnode):
            out[key] = None
            continue
        value = doc._scalar(vnode, f"y, m, n, true, false or a value for {key}")
        if isinstance(value, str) and value in ("y", "n"):
            value = value == "y"
        if not isinstance(value, (bool, int, str)):
            raise doc.error(vnode, f"expected y, m, n, true, false or a value for {key}")
        if key in _BOOL_OPTIONS and not isinstance(value, bool):
            raise doc.error(vnode, f"expected y or n (true or false) for {key}, found {value!r}")
        out[key] = value
    return out


# ---------------------------------------------------------------------------------------------
# dumping


def dump_machine(machine: Machine) -> str:
    """The machine file text for ``machine`` (deterministic; loads back to an equal Machine)."""
    w: list[str] = [
        "# crashplan machine file (docs/machine-format.md); ranges are [start, end): end is exclusive",
        f"schema: {SCHEMA}",
    ]
    if machine.name:
        w.append(f"name: {_q(machine.name)}")
    if machine.provenance:
        w.append(f"provenance: {_q(machine.provenance)}")
    if machine.arch is not None:
        w.append(f"arch: {machine.arch}")
    if machine.kernel is not None:
        w.append(f"kernel: {_q(machine.kernel)}")
    if machine.cmdline is not None:
        w.append(f"cmdline: {_q(machine.cmdline)}")
    if machine.system_ram is not None:
        w.append(f"system_ram: {_size(machine.system_ram)}")
    w.append(f"page_size: {_size(machine.page_size)}")
    if machine.cpus is not None:
        w.append(f"cpus: {machine.cpus}")
    if machine.swiotlb_size is not None:
        w.append(f"swiotlb_size: {_size(machine.swiotlb_size)}")
    if machine.mem_encrypt is not None:
        w.append(f"mem_encrypt: {machine.mem_encrypt}")
    if machine.kaslr is not None:
        w.append(f"kaslr: {_b(machine.kaslr)}")
    if machine.dma_limit is not None:
        w.append(f"dma_limit: {_size(machine.dma_limit)}")
    if machine.fadump is not None:
        w.append(f"fadump: {_b(machine.fadump)}")

    mm = machine.memmap
    w.append("memory:")
    if mm.source:
        w.append(f"  source: {_q(mm.source)}")
    if not mm.layout_known:
        w.append("  layout: unknown")
    else:
        for kind in _MEMORY_KINDS:
            spans: tuple[Span, ...] = getattr(mm, kind)
            if kind == "ram" or spans:
                w.append(f"  {kind}:")
                w.extend(f"    - {_span(s)}" for s in spans)

    if machine.kexec_crash_size is not None or machine.crash_cma_ranges:
        w.append("reservation:")
        if machine.kexec_crash_size is not None:
            w.append(f"  kexec_crash_size: {_size(machine.kexec_crash_size)}")
        if machine.crash_cma_ranges:
            w.append("  crash_cma_ranges:")
            w.extend(f"    - {_span(s)}" for s in machine.crash_cma_ranges)

    if machine.kdump:
        w.append("kdump:")
        _dump_table(w, machine.kdump, KDUMP_KEYS, 1)
    if machine.boot_facts:
        w.append("boot_facts:")
        w.extend(f"  {key}: {_scalar(machine.boot_facts[key], 'any')}" for key in sorted(machine.boot_facts))
    if machine.notes:
        w.append("notes:")
        w.extend(f"  - {_q(n)}" for n in machine.notes)
    return "\n".join(w) + "\n"


def _dump_table(w: list[str], data: Mapping[str, object], table: Mapping[str, Any], depth: int) -> None:
    pad = "  " * depth
    keys = [k for k in table if k in data] + sorted(k for k in data if k not in table)
    for key in keys:
        value = data[key]
        kind = table.get(key, "any")
        if isinstance(value, Mapping) and not value:
            w.append(f"{pad}{key}: {{}}")
        elif isinstance(kind, dict) and isinstance(value, Mapping):
            w.append(f"{pad}{key}:")
            _dump_table(w, value, kind, depth + 1)
        elif kind == "config" and isinstance(value, Mapping):
            w.append(f"{pad}{key}:")
            w.extend(f"{pad}  {ck}: {_scalar(value[ck], 'any')}" for ck in sorted(value))
        else:
            w.append(f"{pad}{key}: {_scalar(value, kind)}")


def _scalar(value: object, kind: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return _b(value)
    if isinstance(value, int):
        return _size(value) if kind in ("size", "page_size") else str(value)
    return _q(str(value))


def _b(value: bool) -> str:
    return "true" if value else "false"


def _size(n: int) -> str:
    text = format_kernel_size(n)
    return text if not text.isdigit() else str(n)


def _span(s: Span) -> str:
    text = f"{{start: {s.start:#x}, end: {s.end:#x}"
    if s.name:
        text += f", name: {_q(s.name)}"
    return text + "}"


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def _q(text: str) -> str:
    """A YAML double-quoted scalar, pure ASCII, that PyYAML reads back to ``text`` exactly."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif " " <= ch <= "~":
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'
