"""arm64: ``arch/arm64/mm/init.c``, ``arch/arm64/kernel/setup.c`` and ``asm/crash_reserve.h``.

Timeline (release — change — source; switches in ``crashplan.kernel.versions.SWITCHES`` and
``crashplan.simulate.model.SIM_SWITCHES``):

* 4.14 — ``reserve_crashkernel`` from ``arm64_memblock_init``, below the 32-bit window, before the
  page tables and the sparse memmap exist; an ``@offset`` is checked with ``memblock_is_region_memory``,
  ``memblock_is_region_reserved`` and ``IS_ALIGNED(SZ_2M)``, each with its own message.
* 5.10 — reserved from ``bootmem_init`` below ``arm64_dma_phys_limit`` (DT ``dma-ranges``/IORT)
  (``arm64_dma_zone_limit``; mainline 5.11 0a30c53573b0, 8424ecdde7df, in 5.10.y; read in 5.10.262).
* 5.15 — ``@offset`` reserved with ``memblock_phys_alloc_range`` (``arm64_fixed_alloc``, a7259df76702,
  inferred); /proc/iomem shows the allocations at the top of RAM packed (``arm64_iomem_packed_top``,
  inferred: 5.10.223 and 6.1+ booted).
* 5.19 — ``crashkernel=,high`` and ``,low`` read (``arm64_high_low``, inferred); no default low region.
* 6.2 — a plain size falls back above the DMA limit with a 128 MiB low region (``arm64_fallback``).
* 6.7 — ``reserve_crashkernel_generic`` (``generic_x86_arm64_riscv``; ``crashplan.simulate.generic``).
* 7.0 — ``sparse_init`` runs after the crash reservation (``arm64_sparse_after_crash``: 6.1/6.12 before,
  7.0.13/7.2.13/7.3.4 after, qemu boots).
* 7.3 — ``crashkernel=,cma`` reserved from CMA (``cma_arm64_riscv``, a 7.3.4 boot).

Which flow runs is ``crashplan.kernel.flow_for``: ``plain`` up to 5.18, ``arm64-legacy`` 5.19–6.6,
``generic`` from 6.7.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crashplan.kernel.versions import KernelRelease
from crashplan.memmap.model import Machine, Span
from crashplan.severity import Severity
from crashplan.simulate.generic import (
    FixedMessages,
    reserve_fixed_checked,
    reserve_generic,
    reserve_generic_flow,
    reserve_low,
)
from crashplan.simulate.memblock import Memblock
from crashplan.simulate.model import (
    IO_TLB_DEFAULT_SIZE,
    SZ_1M,
    SZ_2M,
    SZ_4G,
    SZ_128M,
    Region,
    Replay,
    fact_int,
    ram_span_of,
    round_up,
    size_text,
    switch_on,
)

__all__ = ["DMA_CMA_DEFAULT", "early", "limits", "memblock", "reserve", "sections_present"]

ARM64_IMAGE_SLOP = 0x50000  # arm64 _end − _stext beyond the Memory: line's parts (see early)
_PACK_GAP = 4 * SZ_1M  # wider than any gap top-down allocations leave between them (2 MiB alignments)
DMA_CMA_DEFAULT = 64 * SZ_1M  # CONFIG_CMA_SIZE_MBYTES of Debian's arm64 kernels (6.1 … 7.3)


def limits(run: Replay) -> tuple[int, int, int]:
    """(CRASH_ALIGN, CRASH_ADDR_LOW_MAX, CRASH_ADDR_HIGH_MAX): 2 MiB; the DMA limit (5.10+, when known)
    or the 32-bit window; the physical address space."""
    mb, machine = run.mb, run.machine
    end = mb.end_of_dram()
    if machine.dma_limit and run.on("arm64_dma_zone_limit"):
        low = machine.dma_limit
    else:
        start = mb.start_of_dram()
        low = end if start > 0xFFFFFFFF else min(SZ_4G, end)
    facts = machine.boot_facts or {}
    pa_bits = 52 if facts.get("va_bits") == 52 else 48
    return SZ_2M, low, 1 << pa_bits


# ---------------------------------------------------------------------------------------------
# What memblock holds before the crash reservation
# ---------------------------------------------------------------------------------------------


def early(machine: Machine, release: KernelRelease, memory: tuple[Span, ...], reserved: tuple[Span, ...], *,
          have_kernel: bool, node_data: bool, top_known: bool, out: list[Span], notes: list[str]) -> None:
    """arm64 ``bootmem_init``: page tables and ``NODE_DATA`` at the top of RAM (5.10+); qemu ``virt``
    loads the image at RAM + 2 MiB and the initrd at RAM + min(RAM/2, 128 MiB), the DTB after it."""
    facts = machine.boot_facts or {}
    image = fact_int(facts, "kernel_image")
    start, end = memory[0].start, memory[-1].end
    qemu = facts.get("machine_model") == "linux,dummy-virt" and facts.get("efi") is not True
    if not have_kernel:
        if qemu:  # loaded by qemu at RAM + 2 MiB; without EFI KASLR moves only the virtual mapping
            # memblock_reserve(_stext, _end - _stext) (arm64_memblock_init): the Memory: line's parts
            # plus the 64 KiB segment padding and the page directories inside the image — 160 …
            # 300 KiB on Debian 6.1 … 7.3 (/proc/iomem Kernel code … Kernel data); 320 KiB is taken
            size = round_up(image + ARM64_IMAGE_SLOP, 0x10000) if image else 40 * SZ_1M
            out.append(Span(start + SZ_2M, start + SZ_2M + size, "kernel image (qemu virt, size estimated)"))
        else:
            notes.append("the kernel image's place is unknown: it is not taken into account")
    if qemu and not any(s.name == "initrd" for s in reserved):
        ram = sum(s.size for s in memory)
        initrd_start = start + min(ram // 2, SZ_128M)
        isize = round_up(fact_int(facts, "initrd_size"), 4096)
        if isize:
            out.append(Span(initrd_start, initrd_start + isize, "initrd (qemu virt placement, assumed)"))
        dtb = round_up(initrd_start + isize, SZ_2M)
        out.append(Span(dtb, dtb + SZ_1M, "device tree (qemu virt placement, assumed)"))
    if not node_data and not top_known and switch_on("arm64_dma_zone_limit", release):
        top = ram_span_of(memory, end - 1)
        if top is not None:
            ram = sum(s.size for s in memory)
            size = round_up(ram // 512 + 0x4000, 4096)  # PTE-level linear map (rodata=full) + NODE_DATA
            out.append(Span(max(top.start, end - size), end, "page tables and NODE_DATA (modelled)"))
            notes.append("page tables and NODE_DATA are modelled at the top of RAM (the source does not show them)")


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
    """What ``_memblock_dump`` made of a /proc/iomem memblock dump."""

    reserved: tuple[Span, ...]
    top_known: bool  # the top-of-RAM allocations before the reservation are in ``reserved``
    model_dma_cma: bool  # the DMA CMA area is not in ``reserved`` and must be modelled
    notes: tuple[str, ...]


class _DumpSplit:
    """The state of ``_memblock_dump``: the dump's pieces, those dropped, and the notes."""

    def __init__(self, machine: Machine, release: KernelRelease, memory: tuple[Span, ...],
                 dump: list[Span]) -> None:
        self.machine, self.release, self.memory = machine, release, memory
        self.crash = [Span(s.start, s.end, "Crash kernel") for s in machine.memmap.crash
                      if s.name.startswith("Crash kernel")]
        start, self.end = memory[0].start, memory[-1].end
        self.dma = machine.dma_limit or (self.end if start > 0xFFFFFFFF else min(SZ_4G, self.end))
        # split at the DMA limit: memblock merges touching regions, and 4 GiB often is one
        self.pieces: list[Span] = []
        for s in dump:
            if s.start < self.dma < s.end:
                self.pieces += [Span(s.start, self.dma, s.name), Span(self.dma, s.end, s.name)]
            else:
                self.pieces.append(s)
        self.notes: list[str] = [
            ("/proc/iomem lists memblock as it was after boot: the allocations made after the crash reservation "
             "were told apart by their place (top-down order)")]
        self.drop: set[Span] = set()
        # 5.10: /proc/iomem shows a hole of about 12 MiB between the allocations at the top of RAM and the
        # memmap buffer below them (freed after the crash reservation; 5.10.223 qemu boots), which a 4 MiB
        # gap would take for the end of the run
        self.gap = _PACK_GAP if switch_on("arm64_iomem_packed_top", release) else 16 * SZ_1M

    def crash_cma(self) -> None:
        """The crash CMA ranges of that boot (``cma_alloc_mem`` bottom-up from 4 GiB): the run packed
        upwards from 4 GiB."""
        if not (switch_on("cma_arm64_riscv", self.release) and self.dma <= SZ_4G < self.end):
            return
        edge = SZ_4G
        for s in sorted(self.pieces):
            if s.start >= SZ_4G and s.start - edge < _PACK_GAP:
                self.drop.add(s)
                edge = max(edge, s.end)
        if self.drop:
            self.notes.append("reserved memory from 4 GiB up is taken for that boot's crash CMA ranges")

    def settle(self, top: int) -> tuple[bool, list[Span]]:
        """The run packed below ``top``; with a crash region in it, what lies below that came after."""
        run = _packed_down([p for p in self.pieces if p not in self.drop] + self.crash, top, self.gap)
        inside = [s for s in run if s.name == "Crash kernel"]
        if inside:
            c = max(inside, key=lambda s: s.start)
            for s in run:
                if s.name != "Crash kernel" and s.end <= c.start:
                    self.drop.add(s)
            return True, run
        return False, run

    def memmap_buffer(self, run: list[Span]) -> bool:
        """Before 7.0: keep the run down to ``sparse_init``'s memmap buffer, the lowest allocation made
        before the crash reservation.  False when the run shows no such buffer."""
        size = sections_present(self.memory, 27) * SZ_2M
        buf = next((s for s in run if s.end % SZ_2M == 0 and s.size >= size), None)
        if buf is None:
            return False
        for s in run:
            if s.end <= buf.end - size:
                self.drop.add(s)
            elif s.start < buf.end - size:
                self.drop.add(s)
                self.pieces.append(Span(buf.end - size, s.end, s.name))
        return True

    def swiotlb(self, run: list[Span]) -> None:
        """Below the DMA limit without a crash region: the lowest swiotlb bytes came after."""
        swiotlb = self.machine.swiotlb_size or IO_TLB_DEFAULT_SIZE
        low = min((s.start for s in run), default=self.dma)
        for s in run:
            if s.start < low + swiotlb:
                self.drop.add(s)
                if s.end > low + swiotlb:
                    self.pieces.append(Span(low + swiotlb, s.end, s.name))
        self.notes.append(f"the lowest {swiotlb >> 20} MiB below the DMA limit are taken for swiotlb "
                          "(allocated later)")


def _memblock_dump(machine: Machine, release: KernelRelease, memory: tuple[Span, ...],
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
      otherwise the run goes and the model of ``early`` takes its place.

    The crash CMA ranges (7.3+: ``cma_alloc_mem`` bottom-up from 4 GiB) are the run packed upwards
    from 4 GiB.  Entries elsewhere (the kernel image, qemu's initrd and DTB, firmware carve-outs) are
    fixed reservations and stay.
    """
    dump = [s for s in reserved if s.name == "reserved"]
    if not dump or not memory:
        return None
    rest = [s for s in reserved if s.name != "reserved"]
    d = _DumpSplit(machine, release, memory, dump)
    d.crash_cma()
    top_known, run = d.settle(d.end)
    by_crash = top_known
    if not top_known and not switch_on("arm64_sparse_after_crash", release):
        top_known = d.memmap_buffer(run)
    if not top_known:
        d.drop.update(s for s in run if s.name != "Crash kernel")
        d.notes.append("the allocations at the top of RAM are modelled")
    model_dma_cma = False
    if d.dma < d.end:
        known, run = d.settle(d.dma)
        if not known:
            d.swiotlb(run)
    elif not by_crash:  # one run: the DMA CMA area came after sparse_init, below the memmap buffer
        model_dma_cma = True
        d.notes.append("the DMA CMA area is modelled (CONFIG_CMA_SIZE_MBYTES=64 assumed)")
    kept = [p for p in d.pieces if p not in d.drop]
    return _Dump(tuple(sorted(rest + kept)), top_known, model_dma_cma, tuple(d.notes))


def sections_present(memory: Iterable[Span], section_bits: int) -> int:
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


def _sparse(mb: Memblock, machine: Machine) -> None:
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


def memblock(machine: Machine, release: KernelRelease, memory: tuple[Span, ...],
             reserved: tuple[Span, ...]) -> tuple[Memblock, list[Span], list[str]]:
    """memblock as ``arch_reserve_crashkernel`` finds it: (memblock, the spans modelled, notes).

    A /proc/iomem memblock dump is split first (``_memblock_dump``); before 5.10
    (``arm64_dma_zone_limit``) the reservation runs from ``arm64_memblock_init()``, before
    ``paging_init()`` and ``sparse_init()``: nothing is allocated at the top of RAM yet.
    """
    from crashplan.simulate.early import early_allocations

    dump = _memblock_dump(machine, release, memory, reserved)
    if dump is not None:
        reserved = dump.reserved
    top_known = dump is not None and dump.top_known
    spans, notes = early_allocations(machine, "arm64", release, memory, reserved, top_known=top_known)
    if dump is not None:
        notes = list(dump.notes) + notes
    mb = Memblock(memory, reserved + tuple(spans), machine.memmap.nomap, page_size=machine.page_size)
    modelled = list(spans)
    late = switch_on("arm64_dma_zone_limit", release)
    if late and not switch_on("arm64_sparse_after_crash", release) and not top_known and not any(
            s.name.startswith("memblock:") for s in reserved):
        n = len(mb.reserved)
        _sparse(mb, machine)
        modelled.extend(mb.reserved[n:])
    if dump is not None and dump.model_dma_cma:
        # dma_contiguous_reserve(arm64_dma_phys_limit) → cma_declare_contiguous: top-down, one pageblock aligned
        n = len(mb.reserved)
        mb.alloc(DMA_CMA_DEFAULT, SZ_2M, 0, machine.dma_limit or min(SZ_4G, mb.end_of_dram()),
                 "DMA CMA area (dma_contiguous_reserve, 64 MiB assumed)")
        modelled.extend(mb.reserved[n:])
    return mb, modelled, notes


# ---------------------------------------------------------------------------------------------
# The reservation
# ---------------------------------------------------------------------------------------------


def reserve(run: Replay, flow: str) -> None:
    """``flow`` is ``crashplan.kernel.flow_for("arm64", release)``."""
    if flow == "generic":
        reserve_generic_flow(run, limits(run))
        return
    _, low_max, high_max = limits(run)
    if flow == "arm64-legacy" and run.on("arm64_fallback"):
        # 6.2 … 6.6: the generic shape, searching from 4 GiB up for ,high, no guard, page-aligned size
        o = run.outcome
        reserve_generic(run, o.crash_size, o.crash_base, o.low_size or 0, bool(o.high), align=SZ_2M,
                        low_max=low_max, high_max=high_max, high_search_base=SZ_4G, guard=False, page_align=True)
    elif flow in ("arm64-legacy", "plain"):
        _reserve_61(run, low_max, high_max)


# read in 5.10.262 arch/arm64/mm/init.c
_FIXED_MESSAGES = FixedMessages(
    "cannot reserve crashkernel: region is not memory",
    "cannot reserve crashkernel: region overlaps reserved memory",
    "cannot reserve crashkernel: base address is not 2MB aligned",
    "crashkernel reserved: 0x{base:016x} - 0x{end:016x} ({mib} MB)")


def _reserve_61(run: Replay, low_max: int, high_max: int) -> None:
    """arch/arm64/mm/init.c ``reserve_crashkernel``, 4.14 … 6.1: no fallback, no default low."""
    o, mb = run.outcome, run.mb
    size = round_up(o.crash_size, 4096)
    base = o.crash_base
    crash_max = high_max if o.high else low_max
    if base:
        crash_max = base + size
    if base and not run.on("arm64_fixed_alloc"):
        # User specifies base address explicitly.
        reserve_fixed_checked(run, base, size, _FIXED_MESSAGES)
        return
    got = mb.alloc(size, SZ_2M, base, crash_max, "Crash kernel")
    if not got:
        run.warn(f"cannot allocate crashkernel (size:0x{size:x})")
        if base:
            run.problem("CK302", Severity.ERROR,
                        f"the fixed window 0x{base:x}-0x{base + size:x} {run.describe_conflict(base, base + size)}"
                        + (" (and @offset must be 2 MiB-aligned)" if base % SZ_2M else ""),
                        "drop the @offset and let the kernel choose")
        else:
            run.problem("CK301", Severity.ERROR,
                        f"no free {size_text(size)} block (2 MiB-aligned) below 0x{crash_max:x}; before 6.2 arm64 "
                        "does not fall back above the DMA limit",
                        "ask for less memory, or use crashkernel=SIZE,high crashkernel=SIZE,low")
        return
    low = o.low_size or 0
    if got >= low_max and low and not reserve_low(run, low, SZ_2M, low_max):
        mb.free(got, size)
        return
    if o.high and not low:
        run.problem("CK306", Severity.WARNING, "crashkernel=…,high without ,low reserves no low memory on this kernel: "
                    "the kdump kernel may have no memory for 32-bit DMA", "add crashkernel=128M,low")
    run.info(f"crashkernel reserved: 0x{got:016x} - 0x{got + size:016x} ({size >> 20} MB)")
    run.regions.insert(0, Region("crashkernel", got, got + size, size))
