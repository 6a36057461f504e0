"""Read ``/proc/iomem`` into a :class:`~crashplan.memmap.model.MemoryMap`.

The format is the kernel's ``r_show()`` (``kernel/resource.c``, unchanged 6.1 → 7.2)::

    "%*s%0*llx-%0*llx : %s\\n"   indent = 2 × depth, width = 8 for the memory tree

so each line is ``<2×depth spaces><start>-<end> : <name>``, with lowercase hex addresses zero-padded
to at least eight digits and an **inclusive** end.  Readers without ``CAP_SYS_ADMIN`` in the initial
user namespace see every address as zero (``r_show``: ``file_ns_capable(…, CAP_SYS_ADMIN)``).

What each entry means for the crash reservation (kernel-semantics §4.5, §5, §7.1):

=============================================  ==========================================================
top-level ``System RAM``                       memblock.memory → ``ram``; x86 builds it from the E820
                                               RAM entries (``e820__reserve_resources``), arm64/riscv
                                               from memblock (``request_standard_resources``,
                                               ``init_resources``)
top-level ``reserved`` with ``arch="arm64"``   a NOMAP memblock.memory region
                                               (``arch/arm64/kernel/setup.c``), counted in
                                               ``memblock_phys_mem_size()`` → ``nomap``
nested ``Kernel code/rodata/data/bss``         the kernel image, part of memblock.reserved → ``reserved``
nested ``reserved`` (arm64, riscv)             memblock.reserved as ``reserve_memblock_reserved_regions``
                                               saw it (late: it includes allocations made after the
                                               crash reservation, e.g. swiotlb) → ``reserved``
other entries nested inside ``System RAM``     claimed by a driver or firmware → ``reserved`` (named)
``Crash kernel`` at any depth                  the reservation of the boot that wrote this file → ``crash``;
                                               s390 shows it top-level, outside ``System RAM``
                                               (``setup_resources``), so there it is also RAM
``System RAM`` nested inside ``System RAM``    crash memory released through ``kexec_crash_size``,
                                               already counted → ignored
everything else top-level                      PCI windows, ACPI, E820 reserved, ``RAM buffer``,
                                               ``System RAM (kmem)`` … → ``other`` (for the picture)
=============================================  ==========================================================

memblock keeps page-aligned regions only: x86 trims the merged E820 RAM regions inwards to page
boundaries (``e820__memblock_setup``: ``memblock_trim_memory(PAGE_SIZE)``), the device-tree path
aligns them the same way (``early_init_dt_add_memory_arch``).  So touching ``System RAM`` entries
are merged first (E820 splits RAM around ``setup_data``), then trimmed to ``page_size``; the sum of
``ram`` (plus ``nomap`` on arm64) is then ``memblock_phys_mem_size()`` exactly, as the qemu boots
of the shared oracle vectors confirm against the kernel's own ``Memory: …K/…K`` line.

Only the syntax is strict.  Real files break the tree rules now and then (children outside their
parent, unset ``00000000-00000000`` resources), so nesting is taken from the indentation and never
checked against the addresses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from crashplan.errors import InputError
from crashplan.memmap.model import MemoryMap, Span, merge_spans, paused_gc
from crashplan.records import NamedTuple

__all__ = ["NOT_ROOT_MESSAGE", "IomemEntry", "addresses_hidden", "iter_iomem", "parse_iomem"]

NOT_ROOT_MESSAGE = (
    "all addresses are zero: this copy was read without root (CAP_SYS_ADMIN); read /proc/iomem as root"
)

_HEX = re.compile(r"[0-9a-fA-F]+")
# a well-formed line (at most 16 significant hex digits per address); anything else takes the slow path
_LINE = re.compile(r"( *)0*([0-9a-fA-F]{1,16})-0*([0-9a-fA-F]{1,16}) :(?: (.*))?\Z")
_U64_MAX = (1 << 64) - 1
# C0 controls other than TAB, DEL, and the surrogates Python uses for undecodable bytes (compiled on first
# use, by re's cache: only a text that may have one reaches the per-line search; compiling the class with
# the surrogate range costs about 2 ms, a tenth of a whole check's own time)
_BAD_CHAR = r"[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]"
# the same controls, newlines allowed: a text that is ASCII and holds none of them has no bad character
_CONTROLS = tuple(map(chr, (*range(0x09), *range(0x0B, 0x20), 0x7F)))
_EXAMPLE = "'00100000-bfffffff : System RAM'"


def _may_hold_bad_char(text: str) -> bool:
    return not text.isascii() or any(c in text for c in _CONTROLS)


class IomemEntry(NamedTuple):
    """One line of ``/proc/iomem``: ``end`` is exclusive here (the file's end + 1).

    A NamedTuple, not a dataclass: building a dataclass costs about half a millisecond of every start."""

    depth: int
    start: int
    end: int
    name: str
    line: int


def _show(text: str, limit: int = 40) -> str:
    """A short, printable (ASCII) quotation of input text for error messages."""
    cut = text[:limit]
    return ascii(cut) + ("..." if len(text) > limit else "")


def iter_iomem(text: str, *, source: str = "/proc/iomem") -> Iterator[IomemEntry]:
    """Yield the entries of an iomem text in file order; raise :class:`InputError` on bad syntax.

    Blank lines and a trailing ``\\r`` are tolerated (captures pasted through other systems).
    """

    def fail(message: str, line: int, column: int | None = None) -> InputError:
        return InputError(message, path=source, line=line, column=column)

    check_chars = _may_hold_bad_char(text)  # else skip the per-line search (the common case)
    prev_depth = -1
    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip(" \t\r")
        if not line:
            continue
        if check_chars:
            bad = re.search(_BAD_CHAR, line)
            if bad is not None:
                ch = bad.group()
                what = (
                    "a byte that is not UTF-8" if "\ud800" <= ch <= "\udfff"
                    else f"the control character {ch!a}"
                )
                raise fail(f"{what}: expected text lines like {_EXAMPLE} (is this a binary file?)", lineno,
                           bad.start() + 1)
        fast = _LINE.match(line)
        if fast is not None:
            indent = len(fast.group(1))
            depth = indent >> 1
            if not indent & 1 and depth <= prev_depth + 1:
                start = int(fast.group(2), 16)
                end = int(fast.group(3), 16)
                if start <= end:
                    prev_depth = depth
                    yield IomemEntry(depth, start, end + 1, fast.group(4) or "", lineno)
                    continue
        # the slow path: find what is wrong, and where
        indent = len(line) - len(line.lstrip(" "))
        if line[indent] == "\t" or line[indent].isspace():
            raise fail("indentation must be spaces (two per nesting level), found a tab or other blank",
                       lineno, indent + 1)
        if indent % 2:
            raise fail(f"odd indentation ({indent} spaces): nested entries are indented by two spaces per level",
                       lineno, 1)
        depth = indent // 2
        if depth > prev_depth + 1:
            if prev_depth < 0:
                raise fail(f"the first entry is indented ({indent} spaces): expected a top-level line like "
                           f"{_EXAMPLE}", lineno, 1)
            raise fail(f"indented {depth - prev_depth} levels deeper than the entry above: nested entries go "
                       "one level (two spaces) at a time", lineno, 1)
        pos = indent
        m = _HEX.match(line, pos)
        if m is None:
            raise fail(f"expected a hexadecimal start address, found {_show(line[pos:])} "
                       f"(lines look like {_EXAMPLE})", lineno, pos + 1)
        start = _parse_hex(m.group(), fail, lineno, pos)
        pos = m.end()
        if line[pos:pos + 1] != "-":
            found = _show(line[pos:]) if pos < len(line) else "the end of the line"
            raise fail(f"expected '-' after the start address, found {found}", lineno, pos + 1)
        pos += 1
        m = _HEX.match(line, pos)
        if m is None:
            found = _show(line[pos:]) if pos < len(line) else "the end of the line"
            raise fail(f"expected a hexadecimal end address after '-', found {found}", lineno, pos + 1)
        end = _parse_hex(m.group(), fail, lineno, pos)
        if start > end:
            raise fail(f"the start address {start:#x} is above the end address {end:#x} (the end is inclusive)",
                       lineno, pos + 1)
        pos = m.end()
        rest = line[pos:]
        if rest == " :":
            name = ""
        elif rest.startswith(" : "):
            name = rest[3:]
        else:
            found = _show(rest) if rest else "the end of the line (truncated?)"
            raise fail(f"expected ' : ' and a name after the end address, found {found}", lineno, pos + 1)
        prev_depth = depth
        yield IomemEntry(depth, start, end + 1, name, lineno)


def _parse_hex(digits: str, fail: Callable[[str, int, int], InputError], lineno: int, pos: int) -> int:
    significant = digits.lstrip("0")
    if len(significant) > 16:
        raise fail(f"address {_show(digits, 24)} does not fit in 64 bits", lineno, pos + 1)
    return int(significant or "0", 16)


def addresses_hidden(text: str) -> bool:
    """True when every entry reads ``00000000-00000000``: the file was read without root.

    Lines that do not parse are skipped here; :func:`parse_iomem` reports them.
    """
    seen = False
    for raw in text.split("\n"):
        line = raw.strip(" \t\r")
        if not line:
            continue
        head = line.split(" ", 1)[0]
        a, sep, b = head.partition("-")
        if not sep or not _HEX.fullmatch(a) or not _HEX.fullmatch(b):
            continue
        if a.strip("0") or b.strip("0"):
            return False
        seen = True
    return seen


def parse_iomem(
    text: str,
    *,
    source: str = "/proc/iomem",
    arch: str | None = None,
    page_size: int = 4096,
) -> MemoryMap:
    """Parse a ``/proc/iomem`` text.

    ``arch`` (any name :func:`crashplan.kernel.arch.normalize_arch` accepts) matters for arm64 only:
    there top-level ``reserved`` entries are NOMAP memory and go to ``nomap``; for every other
    architecture (or ``None``) they are firmware ranges and go to ``other``.  ``page_size`` is the
    granule memblock trims RAM to.

    Raises :class:`InputError` (never anything else) naming ``source``, the line and the column.
    """
    with paused_gc():
        return _parse_iomem(text, source=source, arch=arch, page_size=page_size)


def _parse_iomem(text: str, *, source: str, arch: str | None, page_size: int) -> MemoryMap:
    canonical = _canonical_arch(arch, source)
    if page_size <= 0 or page_size & (page_size - 1):
        raise InputError(f"page size {page_size} is not a power of two", path=source)
    if not text.strip():
        raise InputError(f"empty input: expected /proc/iomem lines like {_EXAMPLE}", path=source, line=1)

    entries = list(iter_iomem(text, source=source))
    if not entries:
        raise InputError(f"no entries: expected /proc/iomem lines like {_EXAMPLE}", path=source, line=1)
    if all(e.start == 0 and e.end == 1 for e in entries):
        raise InputError(NOT_ROOT_MESSAGE, path=source, line=1)

    ram: list[Span] = []
    reserved: list[Span] = []
    nomap: list[Span] = []
    other: list[Span] = []
    crash: list[Span] = []
    top_kind = ""  # kind of the current top-level entry: "ram", "nomap", "crash" or "other"
    for e in entries:
        span = Span(e.start, e.end, e.name)
        is_crash = e.name.startswith("Crash kernel")
        if e.depth == 0:
            if e.name == "System RAM":
                top_kind = "ram"
                ram.append(span)
            elif is_crash:  # s390: outside System RAM, but memory all the same
                top_kind = "crash"
                crash.append(span)
                ram.append(Span(e.start, e.end, "System RAM"))
            elif canonical == "arm64" and e.name.lower() == "reserved":
                top_kind = "nomap"
                nomap.append(span)
            else:
                top_kind = "other"
                other.append(span)
            continue
        if is_crash:
            crash.append(span)
        elif top_kind in ("ram", "crash") and e.name != "System RAM":
            reserved.append(span)

    if not ram:
        first = entries[0]
        raise InputError(
            "no top-level 'System RAM' entry: expected the memory map of /proc/iomem (not /proc/ioports "
            f"or a filtered copy), with lines like {_EXAMPLE}",
            path=source, line=first.line,
        )
    trimmed = []
    for s in merge_spans(ram, "System RAM"):
        lo = -(-s.start // page_size) * page_size
        hi = s.end // page_size * page_size
        if hi > lo:
            trimmed.append(Span(lo, hi, s.name))
    return MemoryMap(
        ram=tuple(trimmed),
        reserved=tuple(sorted(reserved)),
        nomap=tuple(sorted(nomap)),
        other=tuple(sorted(other)),
        crash=tuple(sorted(crash)),
        source=source,
    )


def _canonical_arch(arch: str | None, source: str) -> str | None:
    if arch is None:
        return None
    from crashplan.kernel.arch import normalize_arch

    try:
        return normalize_arch(arch)
    except ValueError as e:
        raise InputError(str(e), path=source) from None
