"""Reading a machine file into a :class:`~crashplan.memmap.model.Machine`: each section checked against
the format (:mod:`~crashplan.memmap.machine.schema`) and turned into the model's objects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import pairwise
from typing import Any

from crashplan.errors import InputError
from crashplan.memmap.machine.nodes import Doc, loader, precheck, show_value, yaml_error
from crashplan.memmap.machine.schema import (
    BOOL_OPTIONS,
    CONFIG_KEY,
    FACT_KEY,
    KDUMP_KEYS,
    MAX_DEPTH,
    MEM_ENCRYPT,
    MEMORY_KEYS,
    MEMORY_KINDS,
    NUMERIC_FACTS,
    RESERVATION_KEYS,
    SCHEMA,
    SCHEMA_RE,
    SPAN_KEYS,
    TOP_KEYS,
)
from crashplan.memmap.model import Machine, MemoryMap, Span

__all__ = ["load_machine"]


def load_machine(text: str, *, source: str) -> Machine:
    """Read a machine file.  ``source`` names it in messages (a path, ``<stdin>`` …)."""
    import yaml

    if not text.strip():
        raise InputError(f"empty document: expected a machine file starting with 'schema: {SCHEMA}'",
                         path=source, line=1)
    precheck(text, source, yaml)
    try:
        root = yaml.compose(text, Loader=loader(yaml))
    except yaml.YAMLError as e:
        raise yaml_error(e, text, source) from None
    except RecursionError:  # cannot happen after precheck; kept as the last guard
        raise InputError(f"nested more than {MAX_DEPTH} levels deep", path=source) from None
    if root is None:
        raise InputError(f"empty document: expected a machine file starting with 'schema: {SCHEMA}'",
                         path=source, line=1)
    doc = Doc(source, yaml)
    return _build(doc, root)


def _build(doc: Doc, root: Any) -> Machine:
    top = doc.mapping(root, "the machine file", TOP_KEYS)
    if "schema" not in top:
        raise doc.error(root, f"missing 'schema: {SCHEMA}' (the first line of a machine file)")
    schema_node = top["schema"][1]
    schema = doc.string(schema_node, f"'{SCHEMA}'")
    m = SCHEMA_RE.match(schema or "")
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
        res = doc.mapping(top["reservation"][1], "reservation", RESERVATION_KEYS)
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


def _page_size(doc: Doc, node: Any) -> int:
    value = doc.size(node, "a page size")
    assert value is not None
    if value < 4096 or value > 1 << 30 or value & (value - 1):
        raise doc.error(node, f"expected a page size that is a power of two (4K, 16K, 64K), found {value}")
    return value


def _spans(doc: Doc, node: Any, what: str) -> list[Span]:
    out = []
    for item in doc.sequence(node, what):
        fields = doc.mapping(item, f"a span of {what}", SPAN_KEYS)
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


def _memory(doc: Doc, entry: tuple[Any, Any] | None, page_size: int) -> MemoryMap:
    if entry is None:
        return MemoryMap(ram=(), layout_known=False)
    knode, node = entry
    fields = doc.mapping(node, "memory", MEMORY_KEYS)
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
    spans = {k: _spans(doc, fields[k][1], f"memory.{k}") if k in fields else [] for k in MEMORY_KINDS}
    if not layout_known:
        for k in MEMORY_KINDS:
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


def _kdump(doc: Doc, node: Any) -> dict[str, object]:
    return _kdump_table(doc, node, KDUMP_KEYS, "kdump")


def _kdump_table(doc: Doc, node: Any, table: Mapping[str, Any], what: str) -> dict[str, object]:
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



def _boot_facts(doc: Doc, node: Any) -> dict[str, object]:
    """Facts a boot log gave the simulator (``crashplan.memmap.bootlog``): identifiers to scalars."""
    out: dict[str, object] = {}
    for key, (knode, vnode) in doc.mapping(node, "boot_facts").items():
        if not FACT_KEY.match(key):
            raise doc.error(knode, f"expected a lower-case identifier as a boot_facts key, found {key!r}")
        value = None if doc.is_null(vnode) else doc.scalar(vnode, f"a number, string or true/false for {key}")
        if value is not None and not isinstance(value, (bool, int, str)):
            raise doc.error(vnode, f"expected a number, string or true/false for {key}, found {show_value(vnode)}")
        if key in NUMERIC_FACTS and value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                                            or value < 0):
            raise doc.error(vnode, f"expected a byte count or number for {key}, found {show_value(vnode)}")
        out[key] = value
    return out



def _kernel_config(doc: Doc, node: Any, what: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, (knode, vnode) in doc.mapping(node, what).items():
        if not CONFIG_KEY.match(key):
            raise doc.error(knode, f"expected a kernel config option like CONFIG_CMA, found {key!r}")
        if doc.is_null(vnode):
            out[key] = None
            continue
        value = doc.scalar(vnode, f"y, m, n, true, false or a value for {key}")
        if isinstance(value, str) and value in ("y", "n"):
            value = value == "y"
        if not isinstance(value, (bool, int, str)):
            raise doc.error(vnode, f"expected y, m, n, true, false or a value for {key}")
        if key in BOOL_OPTIONS and not isinstance(value, bool):
            raise doc.error(vnode, f"expected y or n (true or false) for {key}, found {value!r}")
        out[key] = value
    return out
