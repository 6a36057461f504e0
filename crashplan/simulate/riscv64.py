"""riscv64: ``arch/riscv/mm/init.c`` and ``arch/riscv/include/asm/crash_reserve.h``.

Timeline (release — change — source; switches in ``crashplan.kernel.versions.SWITCHES``):

* 5.13 — kdump support (``riscv_kdump``, e53d28180d4d, inferred from the merge window): the whole of
  DRAM searched top-down; an ``@offset`` checked with ``memblock_is_region_memory``,
  ``memblock_is_region_reserved`` and ``IS_ALIGNED(PMD_SIZE)``, each with its own message.
* 5.15 — ``@offset`` reserved with ``memblock_phys_alloc_range`` (``arm64_fixed_alloc``, a7259df76702).
* 5.19 — below 4 GiB tried first (``riscv_low_first``, inferred: absent in the 5.13 and 5.15 code).
* 6.6 — own ``,high``/``,low`` (``riscv_high_low``, inferred from the pull): arm64's 6.2 shape
  without the 4 GiB search base.
* 6.7 — ``reserve_crashkernel_generic`` (``generic_x86_arm64_riscv``; ``crashplan.simulate.generic``).
* 7.3 — ``crashkernel=,cma`` reserved from CMA (``cma_arm64_riscv``, inferred from the arm64 series).

Which flow runs is ``crashplan.kernel.flow_for``: ``none`` before 5.13, ``plain`` up to 6.5,
``arm64-legacy`` in 6.6, ``generic`` from 6.7.
"""

from __future__ import annotations

from crashplan.severity import Severity
from crashplan.simulate.generic import FixedMessages, reserve_fixed_checked, reserve_generic, reserve_generic_flow
from crashplan.simulate.model import SZ_2M, SZ_4G, Replay, round_up, size_text

__all__ = ["limits", "reserve"]


def limits(run: Replay) -> tuple[int, int, int]:
    """(CRASH_ALIGN, CRASH_ADDR_LOW_MAX, CRASH_ADDR_HIGH_MAX): 2 MiB, ``dma32_phys_limit`` (else 4 GiB),
    the end of DRAM."""
    end = run.mb.end_of_dram()
    return SZ_2M, run.machine.dma_limit or min(SZ_4G, end), end


def reserve(run: Replay, flow: str) -> None:
    """``flow`` is ``crashplan.kernel.flow_for("riscv64", release)``."""
    if flow == "generic":
        reserve_generic_flow(run, limits(run))
    elif flow == "arm64-legacy":
        o = run.outcome
        _, low_max, high_max = limits(run)
        reserve_generic(run, o.crash_size, o.crash_base, o.low_size or 0, bool(o.high), align=SZ_2M,
                        low_max=low_max, high_max=high_max, guard=False, page_align=True)
    elif flow == "plain":
        _reserve_old(run)


# the three checks of e53d28180d4d (arch/riscv/mm/init.c), each with its message
_FIXED_MESSAGES = FixedMessages(
    "crashkernel: requested region is not memory",
    "crashkernel: requested region is reserved",
    "crashkernel: requested region is misaligned",
    "crashkernel: reserved 0x{base:016x} - 0x{end:016x} ({mib} MB)")


def _reserve_old(run: Replay) -> None:
    """arch/riscv/mm/init.c ``reserve_crashkernel``, 5.13 … 6.5.

    5.13 (e53d28180d4d) searched the whole of DRAM top-down and checked an ``@offset`` with
    ``memblock_is_region_memory``, ``memblock_is_region_reserved`` and ``IS_ALIGNED(PMD_SIZE)``, each
    with a message; 5.15 (a7259df76702, switch ``arm64_fixed_alloc``) reserves the offset with
    ``memblock_phys_alloc_range``; the try below 4 GiB first is switch ``riscv_low_first`` (both read
    in the patches as posted on the mailing lists).
    """
    o, mb = run.outcome, run.mb
    size = round_up(o.crash_size, 4096)
    start, end = mb.start_of_dram(), mb.end_of_dram()
    base = o.crash_base
    if base and not run.on("arm64_fixed_alloc"):
        # User specifies base address explicitly.
        reserve_fixed_checked(run, base, size, _FIXED_MESSAGES)
        return
    if base:
        start, end = base, min(base + size, end)
    got = 0
    if run.on("riscv_low_first"):
        got = mb.alloc(size, SZ_2M, start, min(end, SZ_4G), "Crash kernel")
    if not got:
        got = mb.alloc(size, SZ_2M, start, end, "Crash kernel")
        if not got:
            run.warn(f"crashkernel: couldn't allocate {size >> 10}KB")
            run.problem("CK301", Severity.ERROR, f"no free {size_text(size)} block (2 MiB-aligned)",
                        "ask for less memory")
            return
    run.info(f"crashkernel: reserved 0x{got:016x} - 0x{got + size:016x} ({size >> 20} MB)")
    run.add("crashkernel", got, size)
