"""Writing a :class:`~crashplan.memmap.model.Machine` as a machine file (deterministic; it loads back
to an equal Machine).  Plain text out: yaml is not needed to write one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crashplan.memmap.machine.schema import KDUMP_KEYS, MEMORY_KINDS, SCHEMA
from crashplan.memmap.model import Machine, Span
from crashplan.units import format_kernel_size

__all__ = ["dump_machine"]


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
        for kind in MEMORY_KINDS:
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
