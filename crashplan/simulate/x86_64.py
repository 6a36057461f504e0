"""x86_64: ``arch/x86/kernel/setup.c`` and ``arch/x86/include/asm/crash_reserve.h``.

Timeline (release — change — source; switches in ``crashplan.kernel.versions.SWITCHES``):

* 4.14 — ``reserve_crashkernel`` below ``CRASH_ADDR_LOW_MAX`` = 896 MiB, nothing when that fails; a low
  region only above 4 GiB, parsed against the RAM below 4 GiB (``System low RAM``).
* 5.2 — low limit 4 GiB (``x86_low_4g``, 9ca5c8e632ce) and the fallback above 4 GiB with a low region
  (``x86_high_fallback``, b9ac3849af41): the x86-kdump pull for v5.2, read in its diff.
* 5.10 — ``reserve_crashkernel_low`` passes and logs ``min(RAM, 4 GiB)`` as ``low RAM limit``
  (``x86_low_ram_limit``, 6120cdc01ef6); read in Debian 11's 5.10.262.
* 5.13 — the first MiB is reserved at boot (``memblock_reserve(0, SZ_1M)``), modelled in ``early``.
* 6.7 — ``reserve_crashkernel_generic`` (``generic_x86_arm64_riscv``; ``crashplan.simulate.generic``),
  with ``DEFAULT_CRASH_KERNEL_LOW_SIZE`` = ``max(swiotlb + 8M, 256M)``.
* 6.11 — the ``,high`` → low fallback is skipped when LOW_MAX == HIGH_MAX (``high_fallback_guard``).
* 6.17 — ``crashkernel=,cma`` reserved from CMA (``cma_x86``).

Which flow runs is ``crashplan.kernel.flow_for``: ``x86-legacy`` up to 6.6, ``generic`` from 6.7.
"""

from __future__ import annotations

from collections.abc import Mapping

from crashplan.kernel import evaluate
from crashplan.memmap.model import Machine, Span
from crashplan.severity import Severity
from crashplan.simulate.generic import reserve_generic_flow
from crashplan.simulate.model import (
    IO_TLB_DEFAULT_SIZE,
    SZ_1G,
    SZ_1M,
    SZ_2M,
    SZ_4G,
    SZ_16M,
    SZ_64T,
    SZ_256M,
    Region,
    Replay,
    as_int,
    fact_int,
    ram_span_of,
    round_up,
    size_text,
)

__all__ = ["X86_BRK_ESTIMATE", "default_low_size", "early", "image_end", "limits", "reserve"]

X86_ORC_ESTIMATE = 4 * SZ_1M  # ORC unwind tables and the BUG table between _edata and __init_begin
X86_BRK_ESTIMATE = 8 * 4096  # used .brk: INIT_PGT_BUF_SIZE (6 pages) + DMI
# NODE_DATA (0x2a000 … 0x2b0c0 in Debian's 5.10 … 7.3) and the two pages of page tables above it, as
# most recorded x86 boots log it below the top of RAM
X86_NODE_DATA_ESTIMATE = 0x2D000


def limits(run: Replay) -> tuple[int, int, int]:
    """(CRASH_ALIGN, CRASH_ADDR_LOW_MAX, CRASH_ADDR_HIGH_MAX): 16 MiB, 4 GiB, 64 TiB."""
    return SZ_16M, SZ_4G, SZ_64T


# ---------------------------------------------------------------------------------------------
# What memblock holds before the crash reservation
# ---------------------------------------------------------------------------------------------


def image_end(facts: Mapping[str, object], image: int) -> int:
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
        return SZ_16M + round_up(SZ_16M + (image or 48 * SZ_1M), SZ_2M) + 4 * SZ_1M - SZ_16M
    p = {str(k): as_int(v) for k, v in parts.items()}
    span = fact_int(facts, "kernel_rodata_span")
    if span:
        data = SZ_16M + span
    else:
        rodata = round_up(SZ_16M + p["kernel code"], SZ_2M)
        data = round_up(rodata + p.get("rodata", 0), SZ_2M)
    end = data + p.get("rwdata", 0) + X86_ORC_ESTIMATE + p.get("init", 0) + p.get("bss", 0)
    return round_up(end, SZ_2M)


def early(machine: Machine, memory: tuple[Span, ...], reserved: tuple[Span, ...], *, have_kernel: bool,
          node_data: bool, out: list[Span], notes: list[str]) -> None:
    """x86 ``setup_arch``: the first MiB (``memblock_reserve(0, SZ_1M)``, 5.13+), the kernel image at
    ``CONFIG_PHYSICAL_START`` (16 MiB) when KASLR is off, and — when the source does not show
    ``NODE_DATA`` — page tables and ``NODE_DATA`` at the top of RAM, wherever the image is.

    ``setup_arch`` (``arch/x86/kernel/setup.c``) runs ``init_mem_mapping``, whose page tables come from
    ``alloc_low_pages`` top-down below ``max_pfn_mapped``, then ``initmem_init`` → ``x86_numa_init`` →
    ``numa_init``, which resets memblock to top-down (``memblock_set_bottom_up(false)``) and, for a
    machine without NUMA, fakes node 0 over all RAM (``dummy_numa_init``); ``alloc_node_data`` →
    ``memblock_phys_alloc_try_nid(nd_size, SMP_CACHE_BYTES, 0)`` then takes the highest free block
    below ``memblock.current_limit`` (``get_max_mapped()``, the end of RAM) — all before
    ``reserve_crashkernel`` (``arch_reserve_crashkernel`` from 6.7).  Read in Debian's 5.10.262 and
    6.1.192 (``alloc_node_data`` in ``arch/x86/mm/numa.c``) and 6.12.118 (``mm/numa.c``,
    ``numa_memblks_init`` in ``mm/numa_memblks.c``).  Every recorded x86 boot (5.10 … 7.3,
    ``tests/data/boots``) logs ``NODE_DATA(0)`` starting 0x2a980 … 0x1350c0 below the end of RAM,
    about 0x2d000 in most."""
    facts = machine.boot_facts or {}
    ram_top = memory[-1].end
    out.append(Span(0, SZ_1M, "first 1 MiB (x86 reserves it at boot)"))
    if not have_kernel:
        if machine.kaslr is False:
            kernel_end = image_end(facts, fact_int(facts, "kernel_image"))
            out.append(Span(SZ_16M, kernel_end, "kernel image (nokaslr; size estimated)"))
            # reserve_brk(): the used part of .brk right after it — early_alloc_pgt_buf's
            # INIT_PGT_BUF_SIZE (6 pages) and DMI copies
            out.append(Span(kernel_end, kernel_end + X86_BRK_ESTIMATE, "kernel brk (estimated)"))
        else:
            notes.append("the kernel image's place is unknown (KASLR): it is not taken into account")
    if not node_data:
        top = ram_span_of(memory, ram_top - 1)
        if top is not None:
            out.append(Span(max(top.start, ram_top - X86_NODE_DATA_ESTIMATE), ram_top,
                            "NODE_DATA(0) and page tables (modelled)"))
            notes.append("NODE_DATA is modelled at the top of RAM (the source does not show it)")
    if not any(s.name == "initrd" for s in reserved):
        # reserve_initrd() keeps it reserved through the crash reservation; only the boot log
        # (RAMDISK:) shows where the boot loader put it
        notes.append("the initrd's place is unknown (the source does not show it): it is not taken into account")


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
    nslabs = round_up(int(digits), 128)
    return nslabs << 11


def default_low_size(machine: Machine, cmdline: str | None = None) -> int:
    """``DEFAULT_CRASH_KERNEL_LOW_SIZE``: ``max(swiotlb_size_or_default() + 8M, 256M)``.

    The swiotlb size is ``swiotlb=`` when given; otherwise, in SEV/TDX guests, ``mem_encrypt_setup_arch``
    (which runs before the reservation) resizes it to ``clamp(6% of RAM, 64M, 1G)``; otherwise the size
    the source reports, or the 64 MiB default.
    """
    swiotlb = _swiotlb_param(cmdline)
    if swiotlb is None:
        if machine.mem_encrypt in ("sev", "tdx"):
            size = machine.ram_size() * 6 // 100
            size = min(max(size, IO_TLB_DEFAULT_SIZE), SZ_1G)
            size = round_up(size, 2048)
            swiotlb = round_up(size >> 11, 128) << 11
        elif machine.swiotlb_size:
            swiotlb = machine.swiotlb_size
        else:
            swiotlb = IO_TLB_DEFAULT_SIZE
    return max(swiotlb + 8 * SZ_1M, SZ_256M)


# ---------------------------------------------------------------------------------------------
# The reservation
# ---------------------------------------------------------------------------------------------


def reserve(run: Replay, flow: str) -> None:
    """``flow`` is ``crashplan.kernel.flow_for("x86_64", release)``."""
    if flow == "generic":
        reserve_generic_flow(run, limits(run))
    elif flow == "x86-legacy":
        _legacy(run)


def _legacy_place(run: Replay, low_max: int, fallback: bool) -> int:
    """The search of the legacy ``reserve_crashkernel``: the base, or 0 (the failure logged)."""
    o, mb = run.outcome, run.mb
    size, base, high = o.crash_size, o.crash_base, bool(o.high)
    if base == 0:
        got = 0
        if not high:
            got = mb.alloc(size, SZ_16M, SZ_16M, low_max, "Crash kernel")
        if not got and (high or fallback):
            got = mb.alloc(size, SZ_16M, SZ_16M, SZ_64T, "Crash kernel")
        if not got:
            run.info("crashkernel reservation failed - No suitable area found.")
            where = "anywhere in RAM" if high or fallback else f"below {size_text(low_max)}"
            run.problem("CK301", Severity.ERROR, f"no free {size_text(size)} block (16 MiB-aligned) {where}",
                        "ask for less memory" + ("" if high or fallback else ", or use crashkernel=SIZE,high"))
            return 0
        if got >= SZ_4G and not high:
            run.problem("CK305", Severity.WARNING,
                        f"{size_text(size)} did not fit below 4 GiB: it went above, with a low region",
                        "plan for both regions, or ask for a size that fits below 4 GiB")
        return got
    got = mb.alloc(size, SZ_1M, base, base + size, "Crash kernel")
    if got != base:
        run.info("crashkernel reservation failed - memory is in use.")
        if base % SZ_1M:
            run.problem("CK303", Severity.ERROR,
                        f"@0x{base:x} is not 1 MiB-aligned, so the fixed reservation always fails",
                        f"use @0x{round_up(base, SZ_1M):x} or drop the @offset")
        else:
            run.problem("CK302", Severity.ERROR,
                        f"the fixed window 0x{base:x}-0x{base + size:x} {run.describe_conflict(base, base + size)}",
                        "drop the @offset and let the kernel choose")
        return 0
    return got


def _legacy_low(run: Replay) -> bool:
    """The legacy ``reserve_crashkernel_low`` (main region above 4 GiB): False when it gave up."""
    o, mb = run.outcome, run.mb
    ram = run.machine.ram_size()
    if run.on("x86_low_ram_limit"):
        # low_mem_limit = min(memblock_phys_mem_size(), CRASH_ADDR_LOW_MAX)
        low_limit = min(ram, SZ_4G)
        label = "low RAM limit"
    else:
        # total_low_mem = memblock_mem_size(1UL << (32 - PAGE_SHIFT))
        low_limit = mb.mem_size_below(SZ_4G)
        label = "System low RAM"
    low = run.default_low
    if run.cmdline is not None:
        lo = evaluate(run.cmdline, system_ram=low_limit, kernel=run.release, arch="any",
                      variant="fn:parse_crashkernel_low")
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
            run.problem("CK304", Severity.ERROR, f"no room for the {size_text(low)} low region below 4 GiB: the kernel "
                        "gives up the whole reservation", "ask for a smaller crashkernel=SIZE,low")
            return False
        run.info(f"Reserving {low >> 20}MB of low memory at {lb >> 20}MB for crashkernel "
                 f"({label}: {low_limit >> 20}MB)")
        run.add("crashkernel-low", lb, low)
    return True


def _legacy(run: Replay) -> None:
    """arch/x86/kernel/setup.c ``reserve_crashkernel`` and ``reserve_crashkernel_low``, 4.14 … 6.6.

    Release switches (crashplan.kernel.versions.SWITCHES): before 5.2 ``CRASH_ADDR_LOW_MAX`` is
    896 MiB and a plain size that does not fit there fails (``x86_low_4g``, ``x86_high_fallback``);
    before 5.10 ``reserve_crashkernel_low()`` parses ``,low`` against ``memblock_mem_size(4G >>
    PAGE_SHIFT)`` (the RAM below 4 GiB) and logs it as ``System low RAM`` (``x86_low_ram_limit``).
    ``memblock_find_in_range`` + ``memblock_reserve`` (≤ 5.9) and ``memblock_phys_alloc_range``
    (5.10+) find the same place.
    """
    size = run.outcome.crash_size
    low_max = SZ_4G if run.on("x86_low_4g") else 896 * SZ_1M
    got = _legacy_place(run, low_max, run.on("x86_high_fallback"))
    if not got:
        return
    if got >= SZ_4G and not _legacy_low(run):
        run.mb.free(got, size)
        return
    run.info(f"Reserving {size >> 20}MB of memory at {got >> 20}MB for crashkernel "
             f"(System RAM: {run.machine.ram_size() >> 20}MB)")
    run.regions.insert(0, Region("crashkernel", got, got + size, size))
