"""Replay the kernel's crash-memory reservation on a memory map, byte for byte.

``reserve(outcome, machine)`` takes what the parser decided (``crashplan.kernel.evaluate``) and a
``Machine`` (memory map plus the facts that matter), rebuilds memblock as it stood when the
architecture's reservation code ran, and runs that code: the same searches, alignments, fallbacks,
messages.  Pure: data in, data out.

Ports (function names are the kernel's; the releases are those read, see docs/simulator.md):

* ``memblock_phys_alloc_range`` / ``memblock_alloc_range_nid`` / ``__memblock_find_range_top_down`` and
  ``_bottom_up`` (``mm/memblock.c``): start clamped to ``PAGE_SIZE``, highest (lowest) aligned fit.
* ``reserve_crashkernel_generic`` and ``reserve_crashkernel_low`` (``kernel/crash_reserve.c``, 6.7+),
  with the per-arch constants of ``arch/*/include/asm/crash_reserve.h``.
* x86 ``reserve_crashkernel``/``reserve_crashkernel_low`` 4.14 … 6.6 (``arch/x86/kernel/setup.c``, 6.1, 5.10.262;
  the 5.2 and 5.10 changes from their commits).
* arm64 ``reserve_crashkernel`` 4.14–6.1 and 6.2–6.6 (``arch/arm64/mm/init.c``, 5.10.262 and later).
* riscv ≤ 6.5 and 6.6 (``arch/riscv/mm/init.c``), loongarch 6.3–6.7 (``arch/loongarch/kernel/setup.c``),
  powerpc fixed base (``arch/powerpc/kexec/core.c``) and fadump sizing, s390 (``arch/s390/kernel/setup.c``).
* ``reserve_crashkernel_cma`` (``kernel/crash_reserve.c``, 6.17+) over ``cma_declare_contiguous`` /
  ``cma_alloc_mem`` (``mm/cma.c``).

What memblock holds before the crash reservation is partly read (the map's ``reserved`` spans) and
partly modelled per architecture and release (``early_allocations``): the first MiB and the kernel
image on x86, the page tables above ``NODE_DATA``, arm64's sparse memmap buffer before 7.0, qemu's
initrd/DTB placement on ``linux,dummy-virt``.  Every modelled span says so in its name.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from crashplan.kernel import Message, Outcome
from crashplan.kernel.versions import KernelRelease, Switch
from crashplan.memmap.model import Machine, Span, merge_spans, paused_gc, subtract_spans

__all__ = [
    "reserve",
    "Reservation",
    "Region",
    "Problem",
    "MemblockState",
    "Memblock",
    "early_allocations",
    "default_low_size",
    "SIM_SWITCHES",
]

SZ_1M = 1 << 20
SZ_2M = 2 << 20
SZ_16M = 16 << 20
SZ_128M = 128 << 20
SZ_256M = 256 << 20
SZ_512M = 512 << 20
SZ_1G = 1 << 30
SZ_4G = 1 << 32
SZ_64T = 1 << 46
CRASHKERNEL_CMA_RANGES_MAX = 4
IO_TLB_DEFAULT_SIZE = 64 << 20

# Simulator-only behaviour switches (the parser's are crashplan.kernel.versions.SWITCHES).
SIM_SWITCHES: dict[str, Switch] = {
    s.name: s
    for s in (
        Switch("arm64_sparse_after_crash", (7, 0),
               "arm64 allocates the sparse memmap after the crash reservation (free_area_init runs later)",
               "6.1/6.12 allocate it before, 7.0.13/7.2.13/7.3.4 after (qemu boots: the crash lines precede "
               "'Zone ranges:'); 6.13-6.19 were not booted"),
        Switch("arm64_iomem_packed_top", (5, 15),
               "arm64 /proc/iomem shows the allocations at the top of RAM packed, 4 MiB apart at most",
               "5.10.223 leaves a ~12 MiB hole below them (qemu boots, 1G/2G); 6.1+ packed (qemu boots); 5.15 "
               "inferred"),
        Switch("cma_msg_node", (6, 10), "cma: 'Reserved %ld MiB at %pa on node %d'",
               "6.1 without and 6.12 with the suffix (boot vectors); 6.10 inferred"),
        Switch("cma_msg_no_node", (6, 15), "cma: the ' on node %d' suffix is gone again",
               "absent in 7.3 (boot vectors); 6.15 inferred from the multi-range CMA rework"),
    )
}


def _on(name: str, release: KernelRelease) -> bool:
    return SIM_SWITCHES[name].on(release)


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Region:
    """One reserved region: ``kind`` is ``crashkernel``, ``crashkernel-low`` or ``cma``; ``end`` exclusive."""

    kind: str
    start: int
    end: int
    size: int

    @property
    def below_4g(self) -> bool:
        return self.end <= SZ_4G


@dataclass(frozen=True, slots=True)
class Problem:
    """A placement diagnosis: ``severity`` is ``error``, ``warning`` or ``info``; ``fix`` may be None."""

    code: str
    severity: str
    text: str
    fix: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MemblockState:
    """memblock as the reservation saw it (for the picture and for explaining a placement)."""

    memory: tuple[Span, ...]
    nomap: tuple[Span, ...]
    reserved: tuple[Span, ...]  # before the crash reservation: read from the source and modelled
    modelled: tuple[Span, ...]  # the part of ``reserved`` the simulator added (names say why)
    after: tuple[Span, ...]  # after the crash reservation (crash regions included)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reservation:
    regions: tuple[Region, ...]
    messages: tuple[Message, ...]
    problems: tuple[Problem, ...]
    lost: int  # bytes production loses to the classic regions
    cma: int  # bytes of CMA production keeps using until a crash
    memblock: MemblockState | None
    arch: str
    kernel: KernelRelease
    flow: str
    low_max: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def reserved(self) -> bool:
        return bool(self.regions)

    def region(self, kind: str) -> Region | None:
        return next((r for r in self.regions if r.kind == kind), None)


# ---------------------------------------------------------------------------------------------
# memblock
# ---------------------------------------------------------------------------------------------


def _round_down(x: int, a: int) -> int:
    return x - (x % a) if a > 1 else x


def _round_up(x: int, a: int) -> int:
    return -(-x // a) * a if a > 1 else x


def _span_start(s: Span) -> int:
    return s.start


class Memblock:
    """memblock.memory, .reserved and NOMAP, with ``memblock_phys_alloc_range`` (``mm/memblock.c``)."""

    def __init__(self, memory: tuple[Span, ...], reserved: tuple[Span, ...] = (), nomap: tuple[Span, ...] = (),
                 page_size: int = 4096) -> None:
        self.memory = merge_spans(memory)
        self.nomap = merge_spans(nomap)
        self.reserved: list[Span] = list(reserved)
        self.page_size = page_size
        self._free: tuple[tuple[int, int, int], tuple[Span, ...]] | None = None

    def free_ranges(self) -> tuple[Span, ...]:
        # memblock.memory minus memblock.reserved and NOMAP; reserved only grows by appends or is replaced,
        # and memory only is replaced, so (identity, length) tells whether the cached answer still holds
        key = (id(self.reserved), len(self.reserved), id(self.memory))
        if self._free is None or self._free[0] != key:
            self._free = (key, subtract_spans(self.memory, tuple(self.reserved) + self.nomap))
        return self._free[1]

    def end_of_dram(self) -> int:
        return self.memory[-1].end if self.memory else 0

    def start_of_dram(self) -> int:
        return self.memory[0].start if self.memory else 0

    def phys_mem_size(self) -> int:
        return sum(s.size for s in self.memory)

    def find(self, size: int, align: int, start: int, end: int, *, bottom_up: bool = False) -> int:
        """``memblock_find_in_range_node``: the base, or 0."""
        if size <= 0:
            return 0
        start = max(start, self.page_size)
        end = max(start, end)
        ranges = self.free_ranges()
        if bottom_up:
            for r in ranges:
                this_start = min(max(r.start, start), end)
                this_end = min(max(r.end, start), end)
                cand = _round_up(this_start, align)
                if cand < this_end and this_end - cand >= size:
                    return cand
            return 0
        for r in reversed(ranges):
            this_start = min(max(r.start, start), end)
            this_end = min(max(r.end, start), end)
            if this_end < size:
                continue
            cand = _round_down(this_end - size, align)
            if cand >= this_start:
                return cand
        return 0

    def alloc(self, size: int, align: int, start: int, end: int, name: str, *, bottom_up: bool = False) -> int:
        """``memblock_phys_alloc_range``: find and reserve; 0 on failure."""
        base = self.find(size, align, start, end, bottom_up=bottom_up)
        if base:
            self.reserved.append(Span(base, base + size, name))
            self._carve(base, base + size)
        return base

    def _carve(self, start: int, end: int) -> None:
        # keep the cached free ranges valid after an allocation inside one of them, so that many small
        # allocations in a row (sparse_init's section arrays) cost one split each, not a full subtraction
        if self._free is None or self._free[0][0] != id(self.reserved):
            return
        ranges = self._free[1]
        i = bisect_right(ranges, start, key=_span_start) - 1
        if i < 0 or not ranges[i].contains(start, end):
            self._free = None
            return
        r = ranges[i]
        pieces = tuple(Span(a, b, r.name) for a, b in ((r.start, start), (end, r.end)) if b > a)
        key = (id(self.reserved), len(self.reserved), id(self.memory))
        self._free = (key, ranges[:i] + pieces + ranges[i + 1:])

    def is_free(self, start: int, end: int) -> bool:
        return any(r.contains(start, end) for r in self.free_ranges())

    def free(self, base: int, size: int) -> None:
        """``memblock_phys_free``."""
        self.reserved = list(subtract_spans(self.reserved, [Span(base, base + size)]))

    def remove(self, base: int, size: int) -> None:
        """``memblock_remove`` (s390 takes the crash region out of memblock.memory)."""
        self.memory = subtract_spans(self.memory, [Span(base, base + size)])

    def overlapping(self, start: int, end: int) -> list[Span]:
        return [s for s in self.reserved if s.overlaps(start, end)]


# ---------------------------------------------------------------------------------------------
# What memblock holds before the crash reservation
# ---------------------------------------------------------------------------------------------


def _is_kernel_image(s: Span) -> bool:
    n = s.name.lower()
    return ("kernel" in n and "crash" not in n) or n.startswith("memblock:")


def _ram_span_of(memory: tuple[Span, ...], addr: int) -> Span | None:
    return next((m for m in memory if m.start <= addr < m.end), None)


X86_ORC_ESTIMATE = 4 * SZ_1M  # ORC unwind tables and the BUG table between _edata and __init_begin
X86_BRK_ESTIMATE = 8 * 4096  # used .brk: INIT_PGT_BUF_SIZE (6 pages) + DMI
ARM64_IMAGE_SLOP = 0x50000  # arm64 _end − _stext beyond the Memory: line's parts (see early_allocations)


def _x86_image_end(facts: Mapping[str, object], image: int) -> int:
    """``__end_of_kernel_reserve`` (= ``__bss_stop``) of an x86_64 kernel at ``CONFIG_PHYSICAL_START``.

    ``setup_arch`` → ``early_reserve_memory`` reserves ``_text`` … ``__end_of_kernel_reserve``.  The
    layout (``arch/x86/kernel/vmlinux.lds.S``): text; ``X86_ALIGN_RODATA_BEGIN``/``_END`` (2 MiB);
    rodata; data (``rwdata``); the ORC unwind and BUG tables (not in the ``Memory:`` line: about
    4 MiB for Debian's 6.1 … 7.3 kernels); init; bss, which ends 2 MiB-aligned
    (``BSS_DECRYPTED``).  The sizes are the ``Memory:`` line's; ``Write protecting the kernel
    read-only data: Nk`` (``mark_rodata_ro``) gives ``_text`` … the 2 MiB-aligned end of rodata
    exactly.  Debian 6.1.192/6.12.117/7.2.13/7.3.4: 0x4400000, 0x3c00000, 0x4200000, 0x4400000 —
    the ``Kernel bss`` ends of ``/proc/iomem``."""
    parts = facts.get("kernel_parts")
    if not isinstance(parts, Mapping) or "kernel code" not in parts:
        return SZ_16M + _round_up(SZ_16M + (image or 48 * SZ_1M), SZ_2M) + 4 * SZ_1M - SZ_16M
    p = {k: int(v) for k, v in parts.items()}  # type: ignore[call-overload]
    span = facts.get("kernel_rodata_span")
    if span:
        data = SZ_16M + int(span)  # type: ignore[call-overload]
    else:
        rodata = _round_up(SZ_16M + p["kernel code"], SZ_2M)
        data = _round_up(rodata + p.get("rodata", 0), SZ_2M)
    end = data + p.get("rwdata", 0) + X86_ORC_ESTIMATE + p.get("init", 0) + p.get("bss", 0)
    return _round_up(end, SZ_2M)


def early_allocations(machine: Machine, arch: str, release: KernelRelease, memory: tuple[Span, ...],
                      reserved: tuple[Span, ...], *, top_known: bool = False) -> tuple[list[Span], list[str]]:
    """memblock allocations made before the crash reservation that the source does not list.

    x86 (``setup_arch``): the first MiB (``memblock_reserve(0, SZ_1M)``, 5.13+), the kernel image at
    ``CONFIG_PHYSICAL_START`` (16 MiB) when KASLR is off, page tables and ``NODE_DATA`` at the top of
    the node.  arm64 (``bootmem_init``): page tables and ``NODE_DATA`` at the top, then — before 7.0 —
    ``sparse_init()``'s ``mem_section`` roots, usemaps and the memmap buffer; qemu ``virt`` loads the
    image at RAM + 2 MiB and the initrd at RAM + min(RAM/2, 128 MiB).
    """
    facts = machine.boot_facts or {}
    notes: list[str] = []
    out: list[Span] = []
    if not memory:
        return out, notes
    exact = any(s.name.startswith("memblock:") for s in reserved)
    if exact:
        return out, notes
    have_kernel = any(_is_kernel_image(s) for s in reserved)
    node_data = [s for s in reserved if s.name.startswith("NODE_DATA")]
    image = int(facts.get("kernel_image", 0) or 0)  # type: ignore[call-overload]
    # /proc/iomem names the image's parts (Kernel code/rodata/data/bss); memblock reserves it whole,
    # gaps included: x86 _text … __end_of_kernel_reserve (early_reserve_memory), then the used .brk
    # (reserve_brk); arm64 _stext … _end (arm64_memblock_init)
    parts = [s for s in reserved if s.name.startswith("Kernel ")]
    if parts:
        lo, hi = min(s.start for s in parts), max(s.end for s in parts)
        out.append(Span(lo, hi, "kernel image (memblock_reserve of the whole image)"))
        if arch == "x86_64":
            out.append(Span(hi, hi + X86_BRK_ESTIMATE, "kernel brk (estimated)"))
    start = memory[0].start
    end = memory[-1].end

    # page tables and other top-down allocations above NODE_DATA
    for nd in node_data:
        span = _ram_span_of(memory, nd.start)
        if span is not None and nd.end < span.end:
            out.append(Span(nd.end, span.end, "page tables and early allocations above NODE_DATA"))

    if arch == "x86_64":
        out.append(Span(0, SZ_1M, "first 1 MiB (x86 reserves it at boot)"))
        if not have_kernel:
            if machine.kaslr is False:
                end = _x86_image_end(facts, image)
                out.append(Span(SZ_16M, end, "kernel image (nokaslr; size estimated)"))
                # reserve_brk(): the used part of .brk right after it — early_alloc_pgt_buf's
                # INIT_PGT_BUF_SIZE (6 pages) and DMI copies
                out.append(Span(end, end + X86_BRK_ESTIMATE, "kernel brk (estimated)"))
            else:
                notes.append("the kernel image's place is unknown (KASLR): it is not taken into account")
        if not node_data:
            top = _ram_span_of(memory, end - 1)
            if top is not None:
                out.append(Span(max(top.start, end - 0x2D000), end, "NODE_DATA(0) and page tables (modelled)"))
                notes.append("NODE_DATA is modelled at the top of RAM (the source does not show it)")
        if not any(s.name == "initrd" for s in reserved):
            # reserve_initrd() keeps it reserved through the crash reservation; only the boot log
            # (RAMDISK:) shows where the boot loader put it
            notes.append("the initrd's place is unknown (the source does not show it): it is not taken into account")
    elif arch == "arm64":
        qemu = facts.get("machine_model") == "linux,dummy-virt" and facts.get("efi") is not True
        if not have_kernel:
            if qemu:  # loaded by qemu at RAM + 2 MiB; without EFI KASLR moves only the virtual mapping
                # memblock_reserve(_stext, _end - _stext) (arm64_memblock_init): the Memory: line's parts
                # plus the 64 KiB segment padding and the page directories inside the image — 160 …
                # 300 KiB on Debian 6.1 … 7.3 (/proc/iomem Kernel code … Kernel data); 320 KiB is taken
                size = _round_up(image + ARM64_IMAGE_SLOP, 0x10000) if image else 40 * SZ_1M
                out.append(Span(start + SZ_2M, start + SZ_2M + size, "kernel image (qemu virt, size estimated)"))
            else:
                notes.append("the kernel image's place is unknown: it is not taken into account")
        if qemu and not any(s.name == "initrd" for s in reserved):
            ram = sum(s.size for s in memory)
            initrd_start = start + min(ram // 2, SZ_128M)
            isize = _round_up(int(facts.get("initrd_size", 0) or 0), 4096)  # type: ignore[call-overload]
            if isize:
                out.append(Span(initrd_start, initrd_start + isize, "initrd (qemu virt placement, assumed)"))
            dtb = _round_up(initrd_start + isize, SZ_2M)
            out.append(Span(dtb, dtb + SZ_1M, "device tree (qemu virt placement, assumed)"))
        from crashplan.kernel.versions import SWITCHES

        if not node_data and not top_known and SWITCHES["arm64_dma_zone_limit"].on(release):
            top = _ram_span_of(memory, end - 1)
            if top is not None:
                ram = sum(s.size for s in memory)
                size = _round_up(ram // 512 + 0x4000, 4096)  # PTE-level linear map (rodata=full) + NODE_DATA
                out.append(Span(max(top.start, end - size), end, "page tables and NODE_DATA (modelled)"))
                notes.append("page tables and NODE_DATA are modelled at the top of RAM (the source does not show them)")
    return out, notes


_PACK_GAP = 4 * SZ_1M  # wider than any gap top-down allocations leave between them (2 MiB alignments)
DMA_CMA_DEFAULT = 64 * SZ_1M  # CONFIG_CMA_SIZE_MBYTES of Debian's arm64 kernels (6.1 … 7.3)


def _packed_down(spans: list[Span], top: int, gap: int = _PACK_GAP) -> list[Span]:
    """The spans packed below ``top`` as top-down ``memblock_alloc`` leaves them: the highest ends
    within ``gap`` of ``top``, each next one within ``gap`` of the one above."""
    run: list[Span] = []
    edge = top
    for s in sorted((s for s in spans if s.end <= top), key=lambda s: s.end, reverse=True):
        if edge - s.end >= gap:
            break
        run.append(s)
        edge = min(edge, s.start)
    return run


@dataclass(frozen=True, slots=True)
class _Dump:
    """What ``_arm64_memblock_dump`` made of a /proc/iomem memblock dump."""

    reserved: tuple[Span, ...]
    top_known: bool  # the top-of-RAM allocations before the reservation are in ``reserved``
    model_dma_cma: bool  # the DMA CMA area is not in ``reserved`` and must be modelled
    notes: tuple[str, ...]


def _arm64_memblock_dump(machine: Machine, release: KernelRelease, memory: tuple[Span, ...],
                         reserved: tuple[Span, ...]) -> _Dump | None:
    """Split arm64's /proc/iomem ``reserved`` entries into what memblock held before the crash reservation.

    arm64 lists memblock.reserved in /proc/iomem (``reserve_memblock_reserved_regions``,
    ``arch/arm64/kernel/setup.c``, an ``arch_initcall``): by then it also holds what was allocated *after*
    ``arch_reserve_crashkernel()`` — swiotlb (``mem_init``), the percpu areas, the dentry/inode hash
    tables, the memmap from 7.0 on — and the crash CMA ranges of that boot.  memblock allocates
    top-down (``__memblock_find_range_top_down``), below the end of RAM or, for the DMA CMA area,
    swiotlb and the crash regions, below ``arm64_dma_phys_limit``; so in each run of packed entries
    below those two tops, what lies above a ``Crash kernel`` entry came before it and what lies below
    came after.  Without a crash entry in a run:

    * below the DMA limit (RAM above it): ``dma_contiguous_reserve`` came before, swiotlb
      (``IO_TLB_DEFAULT_SIZE``, 64 MiB, ``swiotlb_init`` from ``mem_init``) after: the lowest 64 MiB go;
    * below the end of RAM, before 7.0: the memmap buffer of ``sparse_init`` (2 MiB per 128 MiB
      section, PMD-aligned) is the lowest allocation made before: the run is kept down to it;
      otherwise the run goes and the model of ``early_allocations`` takes its place.

    The crash CMA ranges (7.3+: ``cma_alloc_mem`` bottom-up from 4 GiB) are the run packed upwards
    from 4 GiB.  Entries elsewhere (the kernel image, qemu's initrd and DTB, firmware carve-outs) are
    fixed reservations and stay.
    """
    dump = [s for s in reserved if s.name == "reserved"]
    if not dump or not memory:
        return None
    rest = [s for s in reserved if s.name != "reserved"]
    crash = [Span(s.start, s.end, "Crash kernel") for s in machine.memmap.crash if s.name.startswith("Crash kernel")]
    start, end = memory[0].start, memory[-1].end
    dma = machine.dma_limit or (end if start > 0xFFFFFFFF else min(SZ_4G, end))
    # split at the DMA limit: memblock merges touching regions, and 4 GiB often is one
    pieces: list[Span] = []
    for s in dump:
        if s.start < dma < s.end:
            pieces += [Span(s.start, dma, s.name), Span(dma, s.end, s.name)]
        else:
            pieces.append(s)
    notes: list[str] = ["/proc/iomem lists memblock as it was after boot: the allocations made after the crash "
                        "reservation were told apart by their place (top-down order)"]
    drop: set[Span] = set()
    if release.at_least(7, 3) and dma <= SZ_4G < end:
        edge = SZ_4G
        for s in sorted(pieces):
            if s.start >= SZ_4G and s.start - edge < _PACK_GAP:
                drop.add(s)
                edge = max(edge, s.end)
        if drop:
            notes.append("reserved memory from 4 GiB up is taken for that boot's crash CMA ranges")

    # 5.10: /proc/iomem shows a hole of about 12 MiB between the allocations at the top of RAM and the
    # memmap buffer below them (freed after the crash reservation; 5.10.223 qemu boots), which a 4 MiB
    # gap would take for the end of the run
    gap = _PACK_GAP if _on("arm64_iomem_packed_top", release) else 16 * SZ_1M

    def settle(top: int) -> tuple[bool, list[Span]]:
        run = _packed_down([p for p in pieces if p not in drop] + crash, top, gap)
        inside = [s for s in run if s.name == "Crash kernel"]
        if inside:
            c = max(inside, key=lambda s: s.start)
            for s in run:
                if s.name != "Crash kernel" and s.end <= c.start:
                    drop.add(s)
            return True, run
        return False, run

    top_known, run = settle(end)
    by_crash = top_known
    if not top_known and not release.at_least(7, 0):
        size = _sections_present(memory, 27) * SZ_2M
        buf = next((s for s in run if s.end % SZ_2M == 0 and s.size >= size), None)
        if buf is not None:
            for s in run:
                if s.end <= buf.end - size:
                    drop.add(s)
                elif s.start < buf.end - size:
                    drop.add(s)
                    pieces.append(Span(buf.end - size, s.end, s.name))
            top_known = True
    if not top_known:
        drop.update(s for s in run if s.name != "Crash kernel")
        notes.append("the allocations at the top of RAM are modelled")
    model_dma_cma = False
    if dma < end:
        known, run = settle(dma)
        if not known:
            swiotlb = machine.swiotlb_size or IO_TLB_DEFAULT_SIZE
            low = min((s.start for s in run), default=dma)
            for s in run:
                if s.start < low + swiotlb:
                    drop.add(s)
                    if s.end > low + swiotlb:
                        pieces.append(Span(low + swiotlb, s.end, s.name))
            notes.append(f"the lowest {swiotlb >> 20} MiB below the DMA limit are taken for swiotlb (allocated later)")
    elif not by_crash:  # one run: the DMA CMA area came after sparse_init, below the memmap buffer
        model_dma_cma = True
        notes.append("the DMA CMA area is modelled (CONFIG_CMA_SIZE_MBYTES=64 assumed)")
    kept = [p for p in pieces if p not in drop]
    return _Dump(tuple(sorted(rest + kept)), top_known, model_dma_cma, tuple(notes))


def _sections_present(memory: Iterable[Span], section_bits: int) -> int:
    """How many memory sections of ``1 << section_bits`` bytes the spans touch, counted per run of
    sections rather than one by one (a map may reach 2^64)."""
    count = 0
    last = -1
    for m in sorted(memory):
        if m.end <= m.start:
            continue
        first, final = max(m.start >> section_bits, last + 1), (m.end - 1) >> section_bits
        if final >= first:
            count += final - first + 1
            last = final
    return count


def _arm64_sparse(mb: Memblock, machine: Machine) -> None:
    """arm64 ``sparse_init()`` before 7.0 (``mm/sparse.c``): ``mem_section`` roots
    (``SPARSEMEM_EXTREME``: 8 bytes × NR_SECTION_ROOTS), one 4 KiB section array per root in use,
    the usemaps, then ``sparse_buffer_init``: one PMD-aligned buffer of 2 MiB of ``struct page`` per
    128 MiB section present.  ``struct mem_section`` is 32 bytes (``CONFIG_PAGE_EXTENSION``, Debian)."""
    facts = machine.boot_facts or {}
    pa_bits = 52 if facts.get("va_bits") == 52 else 48
    section_bits = 27
    per_root = 4096 // 32
    # count the present sections and the section-array pages they touch without listing them one by one
    sections = 0
    arrays: set[int] = set()
    last = -1
    for m in mb.memory:
        first, final = max(m.start >> section_bits, last + 1), (m.end - 1) >> section_bits
        if final < first:
            continue
        if final >> (pa_bits - section_bits) or (final // per_root) - (first // per_root) > 1 << 16:
            return  # beyond the physical address space: not a machine this model describes
        sections += final - first + 1
        arrays.update(range(first // per_root, final // per_root + 1))
        last = final
    if not sections:
        return
    roots = (1 << (pa_bits - section_bits)) // per_root
    limit = mb.end_of_dram()
    mb.alloc(roots * 8, 64, 0, limit, "mem_section roots (sparse_init, modelled)")
    for _ in sorted(arrays):
        mb.alloc(4096, 64, 0, limit, "mem_section array (sparse_init, modelled)")
    mb.alloc(sections * 56, 64, 0, limit, "section usemaps (sparse_init, modelled)")
    mb.alloc(sections * SZ_2M, SZ_2M, 0, limit, "memmap buffer (sparse_init, modelled)")


# ---------------------------------------------------------------------------------------------
# Sizes that depend on the machine
# ---------------------------------------------------------------------------------------------


def _swiotlb_param(cmdline: str | None) -> int | None:
    """``swiotlb=<nslabs>[,…]``: nslabs rounded up to IO_TLB_SEGSIZE (128) slabs of 2 KiB."""
    if not cmdline:
        return None
    from crashplan.cmdline import split_params

    value = None
    for p in split_params(cmdline):
        if p.name == "swiotlb" and p.value is not None:
            value = p.value
    if value is None:
        return None
    digits = ""
    for c in value:
        if not c.isdigit():
            break
        digits += c
    if not digits:
        return None
    nslabs = _round_up(int(digits), 128)
    return nslabs << 11


def default_low_size(machine: Machine, arch: str, cmdline: str | None = None) -> int:
    """``DEFAULT_CRASH_KERNEL_LOW_SIZE``: x86 ``max(swiotlb_size_or_default() + 8M, 256M)``; 128 MiB elsewhere.

    The swiotlb size is ``swiotlb=`` when given; otherwise, in SEV/TDX guests, ``mem_encrypt_setup_arch``
    (which runs before the reservation) resizes it to ``clamp(6% of RAM, 64M, 1G)``; otherwise the size
    the source reports, or the 64 MiB default.
    """
    if arch != "x86_64":
        return SZ_128M
    swiotlb = _swiotlb_param(cmdline)
    if swiotlb is None:
        if machine.mem_encrypt in ("sev", "tdx"):
            size = machine.ram_size() * 6 // 100
            size = min(max(size, IO_TLB_DEFAULT_SIZE), SZ_1G)
            size = _round_up(size, 2048)
            swiotlb = _round_up(size >> 11, 128) << 11
        elif machine.swiotlb_size:
            swiotlb = machine.swiotlb_size
        else:
            swiotlb = IO_TLB_DEFAULT_SIZE
    return max(swiotlb + 8 * SZ_1M, SZ_256M)


# ---------------------------------------------------------------------------------------------
# The simulation
# ---------------------------------------------------------------------------------------------


@dataclass
class _Run:
    machine: Machine
    outcome: Outcome
    cmdline: str | None
    mb: Memblock
    arch: str
    release: KernelRelease
    regions: list[Region] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    low_max: int | None = None
    default_low: int = 0

    def info(self, text: str) -> None:
        self.messages.append(Message("info", text))

    def warn(self, text: str) -> None:
        self.messages.append(Message("warn", text))

    def err(self, text: str) -> None:
        self.messages.append(Message("err", text))  # type: ignore[arg-type]

    def problem(self, code: str, severity: str, text: str, fix: str | None = None) -> None:
        self.problems.append(Problem(code, severity, text, fix))

    def add(self, kind: str, base: int, size: int) -> None:
        self.regions.append(Region(kind, base, base + size, size))


def _mb(n: int) -> str:
    from crashplan.units import format_size

    return format_size(n)


def _describe_conflict(run: _Run, start: int, end: int) -> str:
    names = sorted({s.name for s in run.mb.overlapping(start, end)})
    holes = not any(m.contains(start, end) for m in run.mb.memory)
    parts = []
    if names:
        parts.append("overlaps " + ", ".join(names))
    if holes:
        parts.append("is not all RAM")
    return " and ".join(parts) if parts else "is not free"


def _arch_limits(run: _Run) -> tuple[int, int, int]:
    """(CRASH_ALIGN, CRASH_ADDR_LOW_MAX, CRASH_ADDR_HIGH_MAX) of arch/*/include/asm/crash_reserve.h."""
    arch, mb, machine = run.arch, run.mb, run.machine
    end = mb.end_of_dram()
    if arch == "x86_64":
        return SZ_16M, SZ_4G, SZ_64T
    if arch == "arm64":
        if machine.dma_limit and _sw_on("arm64_dma_zone_limit", run.release):
            low = machine.dma_limit
        else:
            start = mb.start_of_dram()
            low = end if start > 0xFFFFFFFF else min(SZ_4G, end)
        facts = machine.boot_facts or {}
        pa_bits = 52 if facts.get("va_bits") == 52 else 48
        return SZ_2M, low, 1 << pa_bits
    if arch == "riscv64":
        return SZ_2M, machine.dma_limit or min(SZ_4G, end), end
    if arch == "loongarch64":
        return SZ_2M, SZ_4G, end
    if arch == "ppc64le":
        return 1 << 16 if machine.page_size == 65536 else machine.page_size, SZ_4G, end
    return SZ_1M, SZ_4G, end


def _reserve_low(run: _Run, low_size: int, align: int, low_max: int) -> bool:
    """``reserve_crashkernel_low`` (generic and arm64 ≤ 6.6): True when reserved."""
    base = run.mb.alloc(low_size, align, 0, low_max, "Crash kernel (low)")
    if not base:
        run.err(f"cannot allocate crashkernel low memory (size:0x{low_size:x}).")
        run.problem("CK304", "error",
                    f"no room for the {_mb(low_size)} low region below {_mb(low_max)}: the kernel gives up the "
                    "whole reservation", "make the main region fit below the limit, or ask for a smaller ,low size")
        return False
    run.info(f"crashkernel low memory reserved: 0x{base:08x} - 0x{base + low_size:08x} ({low_size >> 20} MB)")
    run.add("crashkernel-low", base, low_size)
    return True


def _generic(run: _Run, size: int, base: int, low_size: int, high: bool, *, align: int, low_max: int,
             high_max: int, high_search_base: int | None = None, guard: bool = True, page_align: bool = False,
             fixed_msg: str = "crashkernel reservation failed - memory is in use.") -> None:
    """``reserve_crashkernel_generic`` (kernel/crash_reserve.c, 6.7+); with ``high_search_base`` = 4G,
    ``page_align`` and no guard it is arm64's 6.2–6.6 code."""
    mb = run.mb
    if not size:
        return
    if page_align:
        size = _round_up(size, 4096)
    fixed = False
    search_base, search_end = 0, low_max
    if base:
        fixed = True
        search_base, search_end = base, base + size
    elif high:
        search_base, search_end = (low_max if high_search_base is None else high_search_base), high_max
    tried: list[tuple[int, int]] = []
    while True:
        tried.append((search_base, search_end))
        got = mb.alloc(size, align, search_base, search_end, "Crash kernel")
        if got:
            break
        if fixed:
            run.warn(fixed_msg)
            if base % align:
                run.problem("CK303", "error",
                            f"@0x{base:x} is not a multiple of the {_mb(align)} alignment this kernel needs, so the "
                            "fixed reservation always fails",
                            f"use @0x{_round_up(base, align):x} or drop the @offset")
            else:
                run.problem("CK302", "error",
                            f"the fixed window 0x{base:x}-0x{base + size:x} "
                            f"{_describe_conflict(run, base, base + size)}",
                            "drop the @offset and let the kernel choose")
            return
        if not high and search_end == low_max and search_base == 0:
            search_base, search_end = low_max, high_max
            low_size = run.default_low
            continue
        if high and search_end == high_max:
            search_base, search_end = 0, low_max
            if not guard or search_base != search_end:
                if (search_base, search_end) not in tried:
                    continue
        run.warn(f"cannot allocate crashkernel (size:0x{size:x})")
        run.problem("CK301", "error",
                    f"no free {_mb(size)} block ({_mb(align)}-aligned) in "
                    + " or ".join(f"0x{a:x}-0x{b:x}" for a, b in tried),
                    "ask for less memory" + ("" if high else ", or use crashkernel=SIZE,high"))
        return
    if got >= low_max and low_size:
        if not _reserve_low(run, low_size, align, low_max):
            mb.free(got, size)
            return
    if got >= low_max and tried[0] == (0, low_max) and not base:
        run.problem("CK305", "warning",
                    f"{_mb(size)} did not fit below {_mb(low_max)}: it went above, with "
                    + (f"an extra {_mb(low_size)} low region" if low_size else "no low region"),
                    "plan for both regions, or ask for a size that fits below the limit")
    run.info(f"crashkernel reserved: 0x{got:016x} - 0x{got + size:016x} ({size >> 20} MB)")
    run.regions.insert(0, Region("crashkernel", got, got + size, size))


def _sw_on(name: str, release: KernelRelease) -> bool:
    from crashplan.kernel.versions import SWITCHES

    return SWITCHES[name].on(release)


def _mem_size_below(mb: Memblock, limit: int) -> int:
    """``memblock_mem_size(limit >> PAGE_SHIFT)`` (mm/memblock.c, ≤ 5.9): whole pages of memblock.memory
    below ``limit``."""
    page = 4096
    total = 0
    for m in mb.memory:
        start = min(_round_up(m.start, page), limit)
        end = min(_round_down(m.end, page), limit)
        if end > start:
            total += end - start
    return total


def _x86_legacy(run: _Run) -> None:
    """arch/x86/kernel/setup.c ``reserve_crashkernel`` and ``reserve_crashkernel_low``, 4.14 … 6.6.

    Release switches (crashplan.kernel.versions.SWITCHES): before 5.2 ``CRASH_ADDR_LOW_MAX`` is
    896 MiB and a plain size that does not fit there fails (``x86_low_4g``, ``x86_high_fallback``);
    before 5.10 ``reserve_crashkernel_low()`` parses ``,low`` against ``memblock_mem_size(4G >>
    PAGE_SHIFT)`` (the RAM below 4 GiB) and logs it as ``System low RAM`` (``x86_low_ram_limit``).
    ``memblock_find_in_range`` + ``memblock_reserve`` (≤ 5.9) and ``memblock_phys_alloc_range``
    (5.10+) find the same place.
    """
    o, mb = run.outcome, run.mb
    release = run.release
    size, base, high = o.crash_size, o.crash_base, bool(o.high)
    low_max = SZ_4G if _sw_on("x86_low_4g", release) else 896 * SZ_1M
    fallback = _sw_on("x86_high_fallback", release)
    if base == 0:
        got = 0
        if not high:
            got = mb.alloc(size, SZ_16M, SZ_16M, low_max, "Crash kernel")
        if not got and (high or fallback):
            got = mb.alloc(size, SZ_16M, SZ_16M, SZ_64T, "Crash kernel")
        if not got:
            run.info("crashkernel reservation failed - No suitable area found.")
            where = "anywhere in RAM" if high or fallback else f"below {_mb(low_max)}"
            run.problem("CK301", "error", f"no free {_mb(size)} block (16 MiB-aligned) {where}",
                        "ask for less memory" + ("" if high or fallback else ", or use crashkernel=SIZE,high"))
            return
        if got >= SZ_4G and not high:
            run.problem("CK305", "warning", f"{_mb(size)} did not fit below 4 GiB: it went above, with a low region",
                        "plan for both regions, or ask for a size that fits below 4 GiB")
    else:
        got = mb.alloc(size, SZ_1M, base, base + size, "Crash kernel")
        if got != base:
            run.info("crashkernel reservation failed - memory is in use.")
            if base % SZ_1M:
                run.problem("CK303", "error", f"@0x{base:x} is not 1 MiB-aligned, so the fixed reservation always fails",
                            f"use @0x{_round_up(base, SZ_1M):x} or drop the @offset")
            else:
                run.problem("CK302", "error",
                            f"the fixed window 0x{base:x}-0x{base + size:x} {_describe_conflict(run, base, base + size)}",
                            "drop the @offset and let the kernel choose")
            return
    if got >= SZ_4G:
        ram = run.machine.ram_size()
        if _sw_on("x86_low_ram_limit", release):
            # low_mem_limit = min(memblock_phys_mem_size(), CRASH_ADDR_LOW_MAX)
            low_limit = min(ram, SZ_4G)
            label = "low RAM limit"
        else:
            # total_low_mem = memblock_mem_size(1UL << (32 - PAGE_SHIFT))
            low_limit = _mem_size_below(mb, SZ_4G)
            label = "System low RAM"
        low = run.default_low
        from crashplan.kernel import evaluate

        if run.cmdline is not None:
            lo = evaluate(run.cmdline, system_ram=low_limit, kernel=run.release, arch="any", variant="fn:parse_crashkernel_low")
            if not o.high:
                run.messages.extend(lo.messages)
            if lo.ret == 0:
                low = lo.crash_size
        elif o.high and o.low_size is not None and "low" in o.tokens:
            low = o.low_size
        if low:
            lb = mb.alloc(low, SZ_16M, 0, SZ_4G, "Crash kernel (low)")
            if not lb:
                run.err(f"Cannot reserve {low >> 20}MB crashkernel low memory, please try smaller size.")
                run.problem("CK304", "error", f"no room for the {_mb(low)} low region below 4 GiB: the kernel gives up "
                            "the whole reservation", "ask for a smaller crashkernel=SIZE,low")
                mb.free(got, size)
                return
            run.info(f"Reserving {low >> 20}MB of low memory at {lb >> 20}MB for crashkernel "
                     f"({label}: {low_limit >> 20}MB)")
            run.add("crashkernel-low", lb, low)
    run.info(f"Reserving {size >> 20}MB of memory at {got >> 20}MB for crashkernel "
             f"(System RAM: {run.machine.ram_size() >> 20}MB)")
    run.regions.insert(0, Region("crashkernel", got, got + size, size))


def _arm64_61(run: _Run, low_max: int, high_max: int) -> None:
    """arch/arm64/mm/init.c ``reserve_crashkernel``, 4.14 … 6.1: no fallback, no default low.

    Before 5.15 (``arm64_fixed_alloc``) an ``@offset`` is checked, in this order, with
    ``memblock_is_region_memory``, ``memblock_is_region_reserved`` and ``IS_ALIGNED(crash_base, SZ_2M)``,
    each with its own message, then reserved with ``memblock_reserve`` (read in 5.10.262).
    """
    o, mb = run.outcome, run.mb
    size = _round_up(o.crash_size, 4096)
    base = o.crash_base
    crash_max = high_max if o.high else low_max
    if base:
        crash_max = base + size
    if base and not _sw_on("arm64_fixed_alloc", run.release):
        # User specifies base address explicitly.
        window = f"the fixed window 0x{base:x}-0x{base + size:x}"
        if not any(m.contains(base, base + size) for m in mb.memory):
            run.warn("cannot reserve crashkernel: region is not memory")
            run.problem("CK302", "error", f"{window} is not all RAM", "drop the @offset and let the kernel choose")
            return
        if mb.overlapping(base, base + size):
            run.warn("cannot reserve crashkernel: region overlaps reserved memory")
            run.problem("CK302", "error", f"{window} {_describe_conflict(run, base, base + size)}",
                        "drop the @offset and let the kernel choose")
            return
        if base % SZ_2M:
            run.warn("cannot reserve crashkernel: base address is not 2MB aligned")
            run.problem("CK303", "error", f"@0x{base:x} is not 2 MiB-aligned, so the fixed reservation always fails",
                        f"use @0x{_round_up(base, SZ_2M):x} or drop the @offset")
            return
        mb.reserved.append(Span(base, base + size, "Crash kernel"))
        run.info(f"crashkernel reserved: 0x{base:016x} - 0x{base + size:016x} ({size >> 20} MB)")
        run.regions.insert(0, Region("crashkernel", base, base + size, size))
        return
    got = mb.alloc(size, SZ_2M, base, crash_max, "Crash kernel")
    if not got:
        run.warn(f"cannot allocate crashkernel (size:0x{size:x})")
        if base:
            run.problem("CK302", "error",
                        f"the fixed window 0x{base:x}-0x{base + size:x} {_describe_conflict(run, base, base + size)}"
                        + (" (and @offset must be 2 MiB-aligned)" if base % SZ_2M else ""),
                        "drop the @offset and let the kernel choose")
        else:
            run.problem("CK301", "error",
                        f"no free {_mb(size)} block (2 MiB-aligned) below 0x{crash_max:x}; before 6.2 arm64 does not "
                        "fall back above the DMA limit",
                        "ask for less memory, or use crashkernel=SIZE,high crashkernel=SIZE,low")
        return
    low = o.low_size or 0
    if got >= low_max and low:
        if not _reserve_low(run, low, SZ_2M, low_max):
            mb.free(got, size)
            return
    if o.high and not low:
        run.problem("CK306", "warning", "crashkernel=…,high without ,low reserves no low memory on this kernel: "
                    "the kdump kernel may have no memory for 32-bit DMA", "add crashkernel=128M,low")
    run.info(f"crashkernel reserved: 0x{got:016x} - 0x{got + size:016x} ({size >> 20} MB)")
    run.regions.insert(0, Region("crashkernel", got, got + size, size))


def _riscv_old(run: _Run) -> None:
    """arch/riscv/mm/init.c ``reserve_crashkernel``, 5.13 … 6.5.

    5.13 (e53d28180d4d) searched the whole of DRAM top-down and checked an ``@offset`` with
    ``memblock_is_region_memory``, ``memblock_is_region_reserved`` and ``IS_ALIGNED(PMD_SIZE)``, each
    with a message; 5.15 (a7259df76702, switch ``arm64_fixed_alloc``) reserves the offset with
    ``memblock_phys_alloc_range``; the try below 4 GiB first is switch ``riscv_low_first`` (both read
    in the patches as posted on the mailing lists).
    """
    o, mb = run.outcome, run.mb
    size = _round_up(o.crash_size, 4096)
    start, end = mb.start_of_dram(), mb.end_of_dram()
    base = o.crash_base
    if base and not _sw_on("arm64_fixed_alloc", run.release):
        # User specifies base address explicitly.
        window = f"the fixed window 0x{base:x}-0x{base + size:x}"
        if not any(m.contains(base, base + size) for m in mb.memory):
            run.warn("crashkernel: requested region is not memory")
            run.problem("CK302", "error", f"{window} is not all RAM", "drop the @offset and let the kernel choose")
            return
        if mb.overlapping(base, base + size):
            run.warn("crashkernel: requested region is reserved")
            run.problem("CK302", "error", f"{window} {_describe_conflict(run, base, base + size)}",
                        "drop the @offset and let the kernel choose")
            return
        if base % SZ_2M:
            run.warn("crashkernel: requested region is misaligned")
            run.problem("CK303", "error", f"@0x{base:x} is not 2 MiB-aligned, so the fixed reservation always fails",
                        f"use @0x{_round_up(base, SZ_2M):x} or drop the @offset")
            return
        mb.reserved.append(Span(base, base + size, "Crash kernel"))
        run.info(f"crashkernel: reserved 0x{base:016x} - 0x{base + size:016x} ({size >> 20} MB)")
        run.add("crashkernel", base, size)
        return
    if base:
        start, end = base, min(base + size, end)
    got = 0
    if _sw_on("riscv_low_first", run.release):
        got = mb.alloc(size, SZ_2M, start, min(end, SZ_4G), "Crash kernel")
    if not got:
        got = mb.alloc(size, SZ_2M, start, end, "Crash kernel")
        if not got:
            run.warn(f"crashkernel: couldn't allocate {size >> 10}KB")
            run.problem("CK301", "error", f"no free {_mb(size)} block (2 MiB-aligned)", "ask for less memory")
            return
    run.info(f"crashkernel: reserved 0x{got:016x} - 0x{got + size:016x} ({size >> 20} MB)")
    run.add("crashkernel", got, size)


def _loongarch_old(run: _Run) -> None:
    """arch/loongarch/kernel/setup.c ``arch_parse_crashkernel``, 6.3 … 6.7 [messages unverified]."""
    o, mb = run.outcome, run.mb
    size, base = o.crash_size, o.crash_base
    if base <= 0:
        got = mb.alloc(size, SZ_2M, SZ_2M, SZ_4G, "Crash kernel")
        if not got:
            run.warn("crashkernel reservation failed - No suitable area found.")
            run.problem("CK301", "error", f"no free {_mb(size)} block (2 MiB-aligned) below 4 GiB", "ask for less memory")
            return
    else:
        got = mb.alloc(size, SZ_2M, base, base + size, "Crash kernel")
        if not got:
            run.warn("Invalid memory region reserved for crash kernel")
            run.problem("CK302", "error",
                        f"the fixed window 0x{base:x}-0x{base + size:x} {_describe_conflict(run, base, base + size)}",
                        "drop the @offset and let the kernel choose")
            return
    run.add("crashkernel", got, size)


def _ppc_base(run: _Run) -> int:
    """The fixed base powerpc uses without @offset (``reserve_crashkernel``, arch/powerpc/kexec/core.c).

    6.1+ (``ppc_rma_cap``): ``min(ppc64_rma_size / 2, 512M)`` on an LPAR (PowerVM), ``min(rma / 2,
    128M)`` otherwise; before: ``ppc64_rma_size / 2`` on an LPAR, uncapped (7c5ed82b800d, 5.18, carried
    by the stable branches from 4.14.y on; read in 5.10.262 — earlier stable releases used
    ``min(128M, rma / 2)`` everywhere).  The RMA size is not in the source: assume it is at least 1 GiB."""
    facts = run.machine.boot_facts or {}
    lpar = bool(facts.get("lpar", True))
    rma = int(facts.get("rma_size", 0) or 0)  # type: ignore[call-overload]
    run.problem("CK313", "info",
                "powerpc places the crash kernel at a fixed base derived from the RMA size; crashplan assumes "
                + ("an LPAR with an RMA of at least 1 GiB (base 512 MiB)" if lpar else "a base of 128 MiB"))
    if lpar and not _sw_on("ppc_rma_cap", run.release):
        return rma // 2 if rma else SZ_512M
    cap = SZ_512M if lpar else SZ_128M
    return min(rma // 2, cap) if rma else cap


def _powerpc(run: _Run, generic: bool) -> None:
    """arch/powerpc/kexec/core.c: fixed base, ``reserve_crashkernel`` (≤ 6.14) or
    ``arch_reserve_crashkernel`` + ``reserve_crashkernel_generic`` (6.15+)."""
    o, mb = run.outcome, run.mb
    page = 65536 if run.machine.page_size == 65536 else run.machine.page_size
    size, base = o.crash_size, o.crash_base
    if not base:
        base = _ppc_base(run)
    aligned = _round_up(base, page)
    if aligned != base:
        run.info(f"Crash kernel base must be aligned to 0x{page:x}")
        base = aligned
    size = _round_up(size, page)
    kernel = [s for s in mb.reserved if _is_kernel_image(s)]
    if any(k.overlaps(base, base + size) for k in kernel):
        run.warn("Crash kernel can not overlap current kernel")
        run.problem("CK302", "error", f"0x{base:x}-0x{base + size:x} overlaps the running kernel",
                    "choose another @offset")
        return
    if generic:
        _generic(run, size, base, 0, False, align=page, low_max=SZ_4G, high_max=mb.end_of_dram())
        return
    ram = run.machine.ram_size()
    run.info(f"Reserving {size >> 20}MB of memory at {base >> 20}MB for crashkernel (System RAM: {ram >> 20}MB)")
    in_memory = any(m.contains(base, base + size) for m in mb.memory)
    if not in_memory:
        run.err("Failed to reserve memory for crashkernel!")
        run.problem("CK302", "error", f"0x{base:x}-0x{base + size:x} is not all RAM", "choose another @offset")
        return
    mb.reserved.append(Span(base, base + size, "Crash kernel"))
    run.add("crashkernel", base, size)


def _s390(run: _Run) -> None:
    """arch/s390/kernel/setup.c ``reserve_crashkernel`` (pr_fmt "setup: ")."""
    o, mb = run.outcome, run.mb
    base = _round_up(o.crash_base, SZ_1M)
    size = _round_up(o.crash_size, SZ_1M)
    if not size:
        return
    first = mb.memory[0].size if mb.memory else 0
    if first < size:
        run.info("setup: crashkernel reservation failed: first memory chunk must be at least crashkernel size")
        run.problem("CK301", "error", f"the first memory chunk ({_mb(first)}) is smaller than {_mb(size)}",
                    "ask for less memory")
        return
    hsa = int((run.machine.boot_facts or {}).get("hsa_size", 0) or 0)  # type: ignore[call-overload]
    low = max(size, hsa)
    high = base + size if base else (1 << 64) - 1
    if base and base < low:
        run.info("setup: crashkernel reservation failed: crash_base too low")
        run.problem("CK302", "error", f"@0x{base:x} is below the minimum 0x{low:x}", "drop the @offset")
        return
    low = base or low
    got = mb.alloc(size, SZ_1M, low, high, "Crash kernel")
    if not got:
        run.info("setup: crashkernel reservation failed: no suitable area found")
        run.problem("CK301", "error", f"no free {_mb(size)} block (1 MiB-aligned)", "ask for less memory")
        return
    mb.free(got, size)
    mb.remove(got, size)
    run.info(f"setup: Reserving {size >> 20}MB of memory at {got >> 20}MB for crashkernel "
             f"(System RAM: {mb.phys_mem_size() >> 20}MB)")
    run.add("crashkernel", got, size)


def _cma_declare(run: _Run, size: int, slots_left: list[int]) -> tuple[int, int]:
    """``cma_declare_contiguous(0, size, 0, 0, 0, false, "crashkernel")`` → (base, aligned size) or (0, size).

    ``__cma_declare_contiguous_nid``: alignment = one pageblock (``CMA_MIN_ALIGNMENT_BYTES``), size rounded
    up to it, limit = memblock_end_of_DRAM(); ``cma_alloc_mem``: bottom-up from 4 GiB when
    ``limit >= 4G + size``, else (or on failure) top-down over [0, limit).
    """
    mb = run.mb
    align = SZ_2M
    size = _round_up(size, align)
    limit = mb.end_of_dram()
    name = "crashkernel CMA"
    if size > limit:
        run.err(f"cma: Size (0x{size:016x}) of region at 0x{0:016x} exceeds limit (0x{limit:016x})")
        run.err(f"cma: Failed to reserve {size >> 20} MiB")
        return 0, size
    base = 0
    if limit >= SZ_4G + size:
        base = mb.alloc(size, align, SZ_4G, limit, name, bottom_up=True)
    if not base:
        base = mb.alloc(size, align, 0, limit, name)
    if base and slots_left[0] <= 0:
        mb.free(base, size)
        run.err("cma: Not enough slots for CMA reserved regions!")
        base = 0
    if not base:
        run.err(f"cma: Failed to reserve {size >> 20} MiB")
        return 0, size
    slots_left[0] -= 1
    suffix = " on node -1" if _on("cma_msg_node", run.release) and not _on("cma_msg_no_node", run.release) else ""
    run.info(f"cma: Reserved {size >> 20} MiB at 0x{base:016x}{suffix}")
    return base, size


def _reserve_cma(run: _Run, cma_size: int) -> None:
    """``reserve_crashkernel_cma`` (kernel/crash_reserve.c, 6.17+)."""
    if not cma_size:
        return
    page = 4096
    request = _round_up(cma_size, page)
    reserved = 0
    count = 0
    used = sum(1 for s in run.mb.reserved if s.name.lower().startswith("cma"))
    slots = [20 - used]
    failures = 0
    while cma_size > reserved and count < CRASHKERNEL_CMA_RANGES_MAX:
        base, size = _cma_declare(run, request, slots)
        if not base:
            failures += 1
            if request <= page:
                break
            request = _round_up(request // 2, page)
            continue
        run.add("cma", base, size)
        count += 1
        reserved += request
    if cma_size > reserved:
        run.warn(f"crashkernel CMA reservation failed: {cma_size >> 20} MB requested, {reserved >> 20} MB reserved "
                 f"in {count} ranges")
        run.problem("CK307", "warning" if reserved else "error",
                    f"only {_mb(reserved)} of the {_mb(cma_size)} CMA request fits (at most "
                    f"{CRASHKERNEL_CMA_RANGES_MAX} ranges, halving on failure)",
                    "ask for less CMA, or free a larger contiguous block")
    else:
        run.info(f"crashkernel CMA reserved: {reserved >> 20} MB in {count} ranges")
    if count > 1:
        run.problem("CK308", "info",
                    f"the CMA request was split into {count} ranges"
                    + (f" after {failures} failed attempt(s), which leave 'cma: Failed to reserve' lines in the log"
                       if failures else "")
                    + "; kernels 7.2/7.3 also log a harmless sysfs 'duplicate filename' warning for them")


def _fadump(run: _Run) -> None:
    o = run.outcome
    size = o.fadump_size or 0
    run.problem("CK314", "info",
                f"fadump=on: crashkernel= sizes the firmware-assisted dump's boot memory ({_mb(size)}); "
                "fadump places it itself and the kdump reservation does not run", None)


def reserve(outcome: Outcome, machine: Machine, *, cmdline: str | None = None) -> Reservation:
    """Replay the reservation stage for ``outcome`` (from ``crashplan.kernel.evaluate``) on ``machine``.

    ``cmdline`` is the command line ``outcome`` was evaluated from; it is read again where the kernel
    reads it during the reservation (x86 ≤ 6.6 parses ``,low`` only when the region lands above 4 GiB;
    ``swiotlb=``).  It defaults to ``machine.cmdline``.
    """
    with paused_gc():
        return _reserve(outcome, machine, cmdline)


def _reserve(outcome: Outcome, machine: Machine, cmdline: str | None) -> Reservation:
    arch = outcome.arch
    release = outcome.kernel
    cmdline = cmdline if cmdline is not None else machine.cmdline
    mm = machine.memmap
    memory = merge_spans(mm.ram + mm.nomap)
    reserved_in = tuple(s for s in mm.reserved)
    dump = _arm64_memblock_dump(machine, release, memory, reserved_in) if arch == "arm64" else None
    if dump is not None:
        reserved_in = dump.reserved
    top_known = dump is not None and dump.top_known
    early, notes = early_allocations(machine, arch, release, memory, reserved_in, top_known=top_known)
    if dump is not None:
        notes = list(dump.notes) + notes
    mb = Memblock(memory, reserved_in + tuple(early), mm.nomap, page_size=machine.page_size)
    modelled = list(early)
    # before 5.10 (arm64_dma_zone_limit) arm64 reserves from arm64_memblock_init(), before paging_init()
    # and sparse_init(): nothing is allocated at the top of RAM yet
    arm64_late = arch == "arm64" and _sw_on("arm64_dma_zone_limit", release)
    if arm64_late and not _on("arm64_sparse_after_crash", release) and not top_known and not any(
            s.name.startswith("memblock:") for s in reserved_in):
        n = len(mb.reserved)
        _arm64_sparse(mb, machine)
        modelled.extend(mb.reserved[n:])
    if dump is not None and dump.model_dma_cma:
        # dma_contiguous_reserve(arm64_dma_phys_limit) → cma_declare_contiguous: top-down, one pageblock aligned
        n = len(mb.reserved)
        mb.alloc(DMA_CMA_DEFAULT, SZ_2M, 0, machine.dma_limit or min(SZ_4G, mb.end_of_dram()),
                 "DMA CMA area (dma_contiguous_reserve, 64 MiB assumed)")
        modelled.extend(mb.reserved[n:])
    before = tuple(sorted(mb.reserved, key=lambda s: (s.start, s.end)))
    run = _Run(machine=machine, outcome=outcome, cmdline=cmdline, mb=mb, arch=arch, release=release, notes=notes)
    run.default_low = default_low_size(machine, arch, cmdline)

    if not mm.layout_known or not memory:
        run.problem("CK300", "error", "the memory layout is unknown (no RAM ranges in the source): nothing can be placed",
                    "read /proc/iomem as root, or give a boot log")
        return _finish(run, outcome, before, modelled)

    flow = outcome.flow
    ram = machine.ram_size()
    if outcome.crash_size and outcome.crash_size >= ram:
        run.problem("CK309", "error", f"the requested {_mb(outcome.crash_size)} is not less than the RAM "
                    f"({_mb(ram)}): " + ("the allocation must fail" if outcome.accepted
                                         else "the kernel rejects it without a message"), "ask for less memory")

    if outcome.fadump:
        _fadump(run)
        return _finish(run, outcome, before, modelled)

    align, low_max, high_max = _arch_limits(run)
    run.low_max = low_max
    if outcome.accepted:
        if flow == "generic":
            if arch == "ppc64le":
                _powerpc(run, generic=True)
            elif arch in ("x86_64", "arm64", "riscv64", "loongarch64"):
                low = outcome.low_size or 0
                if outcome.high and "low" not in outcome.tokens:
                    low = run.default_low
                _generic(run, outcome.crash_size, outcome.crash_base, low, bool(outcome.high), align=align,
                         low_max=low_max, high_max=high_max, guard=SWITCH_GUARD(release))
            else:
                _plain_other(run)
        elif flow == "x86-legacy":
            _x86_legacy(run)
        elif flow == "arm64-legacy":
            if arch == "arm64" and release.at_least(6, 2):
                low = outcome.low_size or 0
                _generic(run, outcome.crash_size, outcome.crash_base, low, bool(outcome.high), align=SZ_2M,
                         low_max=low_max, high_max=high_max, high_search_base=SZ_4G, guard=False, page_align=True)
            elif arch == "riscv64":
                low = outcome.low_size or 0
                _generic(run, outcome.crash_size, outcome.crash_base, low, bool(outcome.high), align=SZ_2M,
                         low_max=low_max, high_max=high_max, guard=False, page_align=True)
            else:
                _arm64_61(run, low_max, high_max)
        elif flow == "plain":
            if arch == "arm64":
                _arm64_61(run, low_max, high_max)
            elif arch == "riscv64":
                _riscv_old(run)
            elif arch == "loongarch64":
                _loongarch_old(run)
            elif arch == "ppc64le":
                _powerpc(run, generic=False)
            elif arch == "s390x":
                _s390(run)
            else:
                _plain_other(run)

    # crashkernel=,cma: x86 6.17+ (only when the parse succeeded), arm64/riscv 7.3+, powerpc 6.19+
    # (kdump_cma_reserve runs whatever the parse returned)
    cma_size = outcome.cma_size or 0
    if cma_size:
        if arch == "ppc64le" or outcome.accepted:
            _reserve_cma(run, cma_size)

    if machine.kaslr is not False and outcome.crash_base and arch in ("x86_64", "arm64"):
        run.problem("CK310", "warning",
                    "KASLR may put the kernel image inside the fixed window, so the reservation can fail on some boots",
                    "drop the @offset, or boot with nokaslr")
    return _finish(run, outcome, before, modelled)


def SWITCH_GUARD(release: KernelRelease) -> bool:  # noqa: N802 - mirrors SWITCHES naming
    from crashplan.kernel.versions import SWITCHES

    return SWITCHES["high_fallback_guard"].on(release)


def _plain_other(run: _Run) -> None:
    """arm, mips and other own-code arches: a plain top-down search below 4 GiB (not modelled further)."""
    o = run.outcome
    got = run.mb.alloc(o.crash_size, SZ_1M, o.crash_base, (o.crash_base + o.crash_size) if o.crash_base else SZ_4G,
                       "Crash kernel")
    if got:
        run.add("crashkernel", got, o.crash_size)
    run.notes.append(f"{run.arch}: the reservation code of this architecture is approximated")


def _finish(run: _Run, outcome: Outcome, before: tuple[Span, ...], modelled: list[Span]) -> Reservation:
    regions = tuple(run.regions)
    lost = sum(r.size for r in regions if r.kind != "cma")
    cma = sum(r.size for r in regions if r.kind == "cma")
    if regions and run.machine.ram_size():
        share = 100 * (lost + cma) / run.machine.ram_size()
        if share >= 25:
            run.problem("CK311", "warning", f"the reservation takes {share:.0f}% of RAM", None)
    state = MemblockState(
        memory=run.mb.memory,
        nomap=run.mb.nomap,
        reserved=before,
        modelled=tuple(sorted(modelled, key=lambda s: (s.start, s.end))),
        after=tuple(sorted(run.mb.reserved, key=lambda s: (s.start, s.end))),
    )
    return Reservation(
        regions=regions,
        messages=tuple(run.messages),
        problems=tuple(run.problems),
        lost=lost,
        cma=cma,
        memblock=state,
        arch=run.arch,
        kernel=run.release,
        flow=outcome.flow if not outcome.fadump else "fadump",
        low_max=run.low_max,
        notes=tuple(run.notes),
    )
