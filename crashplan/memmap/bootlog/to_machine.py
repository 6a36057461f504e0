"""What a boot log's facts (:class:`~crashplan.memmap.bootlog.reader.BootLog`) say about the machine.

memblock.memory is the ``Early memory node ranges`` when the log has them (exact: page-trimmed by the
kernel, NOMAP included), else the firmware map (e820, or the EFI memory map of ``efi=debug``)
page-trimmed as memblock does.  memblock.reserved, up to the crash reservation, is what the log
says was allocated before it: the ``memblock=debug`` list when there is one, the initrd,
``NODE_DATA``, the ACPI tables, the DMA CMA area and, on x86, the EFI boot-services memory.
"""

from __future__ import annotations

from collections.abc import Iterable

from crashplan.errors import InputError
from crashplan.memmap.bootlog.patterns import PAGE_SIZE
from crashplan.memmap.bootlog.reader import BootLog
from crashplan.memmap.model import Machine, MemoryMap, Span, merge_spans, subtract_spans

__all__ = ["machine_from_log"]

_RAM_TYPES = {"usable", "system ram", "ram", "reserved_kern", "reserved-kern"}
# EFI memory types the kernel adds to memblock as ordinary RAM (efi_init / is_usable_memory)
_EFI_RAM = {"Conventional", "Loader Data", "Loader Code", "Boot Data", "Boot Code", "Persistent", "Conventional Memory",
            "Boot Services Code", "Boot Services Data"}
_EFI_BOOT_SERVICES = {"Boot Data", "Boot Code", "Boot Services Code", "Boot Services Data"}
_EFI_NOMAP = {"Runtime Data", "Runtime Code", "Runtime Services Data", "Runtime Services Code", "ACPI Reclaim",
              "ACPI Mem NVS", "ACPI NVS", "Reserved", "Unusable", "PAL Code", "MMIO", "MMIO Port"}
_KERNEL_PARTS = ("kernel code", "rwdata", "rodata", "init", "bss", "data")


def _page_trim(spans: Iterable[Span]) -> tuple[Span, ...]:
    out = []
    for s in merge_spans(spans):
        a = -(-s.start // PAGE_SIZE) * PAGE_SIZE
        b = s.end // PAGE_SIZE * PAGE_SIZE
        if b > a:
            out.append(Span(a, b, s.name))
    return tuple(out)


def _memory(lg: BootLog, text: str, source: str) -> tuple[tuple[Span, ...], tuple[Span, ...]]:
    """(memblock.memory, the NOMAP part of it)."""
    e820_ram = [Span(a, b, "System RAM") for a, b, t in lg.e820 if t.strip().lower() in _RAM_TYPES]
    efi_ram = [Span(a, b, "System RAM") for a, b, t in lg.efi if t in _EFI_RAM]
    efi_nomap = [Span(a, b, t) for a, b, t in lg.efi if t in _EFI_NOMAP and t not in ("MMIO", "MMIO Port")]
    nomap: tuple[Span, ...] = ()
    if lg.node_ranges:
        # memblock.memory exactly (page-trimmed by the kernel; NOMAP included)
        memory = merge_spans(Span(a, b, "System RAM") for _, a, b in lg.node_ranges)
        if efi_nomap and lg.arch == "arm64":
            nomap = tuple(Span(s.start, s.end, "nomap") for s in merge_spans(efi_nomap)
                          if any(m.overlaps(s.start, s.end) for m in memory))
    elif e820_ram:
        memory = _page_trim(e820_ram)
    elif efi_ram:
        memory = _page_trim(efi_ram + efi_nomap if lg.arch == "arm64" else efi_ram)
        if lg.arch == "arm64":
            nomap = _page_trim([Span(s.start, s.end, "nomap") for s in efi_nomap])
    else:
        raise InputError(
            "no memory map in this log: expected the firmware map ('BIOS-e820: [mem …] usable' lines), "
            "'Early memory node ranges' with 'node 0: [mem …]' lines, or 'efi: memNN:' lines (efi=debug); "
            "pass the complete log of a boot (dmesg, journalctl -k -b)",
            path=source, line=max(1, text.count("\n") + (0 if text.endswith("\n") else 1)),
        )
    return tuple(memory), nomap


def _efi_boot_services(lg: BootLog) -> bool:
    """Whether the log lists x86's EFI boot-services memory (reserved through the crash reservation)."""
    return lg.arch == "x86_64" and bool(lg.efi)


def _reserved(lg: BootLog, ram: tuple[Span, ...]) -> tuple[Span, ...]:
    """memblock.reserved up to the crash reservation, as far as the log tells it."""
    reserved: list[Span] = []
    if lg.memblock_ops:
        state: list[Span] = []
        for op, a, b, caller in lg.memblock_ops:
            if b <= a:
                continue  # an empty or inverted memblock=debug range reserves nothing
            if op == "memblock_reserve":
                state.append(Span(a, b, "memblock: " + (caller.split("+")[0] if caller else "reserved")))
            elif op in ("memblock_phys_free", "memblock_free"):
                state = list(subtract_spans(state, [Span(a, b)]))
        reserved.extend(state)
    if lg.initrd is not None:
        reserved.append(lg.initrd)
    reserved.extend(lg.node_data)
    reserved.extend(s for s in lg.acpi if any(r.overlaps(s.start, s.end) for r in ram))
    reserved.extend(Span(s.start, s.end, "cma (DMA)") for s in lg.dma_cma)
    if _efi_boot_services(lg):
        # x86 efi_reserve_boot_services() (setup_arch, before reserve_initrd and the crash reservation)
        # keeps EFI boot-services code and data reserved until efi_free_boot_services; efi=debug lists them
        reserved.extend(merge_spans(Span(a, b, "EFI boot services (efi_reserve_boot_services)")
                                    for a, b, t in lg.efi if t in _EFI_BOOT_SERVICES))
    return tuple(sorted({s for s in reserved if s.end > s.start}))  # an empty range reserves nothing


def _kaslr(lg: BootLog) -> bool | None:
    if lg.cmdline is not None and lg.kaslr is None:
        from crashplan.cmdline import split_params

        if "nokaslr" in {p.name for p in split_params(lg.cmdline)}:
            return False
    return lg.kaslr


def _dma_limit(lg: BootLog) -> int | None:
    if lg.arch not in ("arm64", "riscv64"):
        return None
    zone = lg.zones.get("DMA") if lg.arch == "arm64" else None
    if zone is None:
        zone = lg.zones.get("DMA32")
    return None if zone is None else zone[1]


def _boot_facts(lg: BootLog) -> dict[str, object]:
    """What the log says about early allocations the simulator models (``Machine.boot_facts``)."""
    facts: dict[str, object] = {}
    if lg.memory_line is not None:
        parts = lg.memory_line[2]
        facts["kernel_image"] = sum(parts.get(k, 0) for k in _KERNEL_PARTS)
        facts["kernel_parts"] = dict(parts)
    if lg.rodata_span is not None:
        facts["kernel_rodata_span"] = lg.rodata_span
    if lg.initrd_size is not None:
        facts["initrd_size"] = lg.initrd_size
    elif lg.initrd is not None:
        facts["initrd_size"] = lg.initrd.size
    if lg.machine_model:
        facts["machine_model"] = lg.machine_model
    if lg.va52:
        facts["va_bits"] = 52
    efi_boot = lg.efi_boot
    if efi_boot is None and lg.arch == "x86_64" and lg.e820:
        # an x86 EFI boot always prints "efi: EFI vX.Y by …" (efi_systab_report_header) before the
        # crash reservation; a log that holds the firmware's e820 map and no such line was booted by BIOS
        efi_boot = False
    facts["efi"] = efi_boot
    if _efi_boot_services(lg):
        facts["efi_memmap"] = True  # the boot-services memory is known (crashplan.placement)
    return facts


def machine_from_log(lg: BootLog, text: str, source: str) -> Machine:
    """The ``Machine`` a boot log describes (``text`` only places the error of a log without a memory map)."""
    memory, nomap = _memory(lg, text, source)
    # the part of memblock.memory that is not NOMAP: RAM in the model's sense
    ram = subtract_spans(memory, nomap) if nomap else memory
    e820_other = [Span(a, b, t) for a, b, t in lg.e820 if t.strip().lower() not in _RAM_TYPES]
    notes: list[str] = list(lg.notes)
    if lg.memblock_ops:
        notes.append("memblock=debug: the reserved list is memblock's own, up to the crash reservation")
    mm = MemoryMap(ram=ram, reserved=_reserved(lg, ram), nomap=nomap,
                   other=tuple(merge_spans(e820_other)) if e820_other else (),
                   crash=tuple(lg.crash) + tuple(lg.crash_cma), source=source)
    return Machine(
        memmap=mm,
        name=source,
        provenance=f"kernel boot log {source}",
        arch=lg.arch,
        kernel=lg.release,
        cmdline=lg.cmdline,
        system_ram=sum(s.size for s in memory),
        swiotlb_size=lg.swiotlb_adjusted or lg.swiotlb_size,
        mem_encrypt=lg.mem_encrypt,
        kaslr=_kaslr(lg),
        dma_limit=_dma_limit(lg),
        crash_cma_ranges=tuple(lg.crash_cma),
        notes=tuple(notes),
        boot_facts=_boot_facts(lg),
    )
