"""s390x: ``arch/s390/kernel/setup.c`` ``reserve_crashkernel`` (pr_fmt ``"setup: "``).

Timeline: the same code for every release crashplan models (4.14 … 7.3): the region must fit in the
first memory chunk, lies above max(size, HSA size) (or at the ``@offset``), 1 MiB aligned, and is
taken out of memblock.memory (``memblock_remove``) once found.  s390 reads neither ``,high``/``,low``
nor ``,cma``.

Which flow runs is ``crashplan.kernel.flow_for``: ``plain`` throughout.
"""

from __future__ import annotations

from crashplan.severity import Severity
from crashplan.simulate.model import SZ_1M, SZ_4G, Replay, fact_int, round_up, size_text

__all__ = ["limits", "reserve"]


def limits(run: Replay) -> tuple[int, int, int]:
    """(alignment, low limit, high limit) as reported: 1 MiB, 4 GiB, the end of DRAM."""
    return SZ_1M, SZ_4G, run.mb.end_of_dram()


def reserve(run: Replay, flow: str) -> None:
    """``flow`` is ``crashplan.kernel.flow_for("s390x", release)``."""
    if flow == "plain":
        _reserve(run)


def _reserve(run: Replay) -> None:
    o, mb = run.outcome, run.mb
    base = round_up(o.crash_base, SZ_1M)
    size = round_up(o.crash_size, SZ_1M)
    if not size:
        return
    first = mb.memory[0].size if mb.memory else 0
    if first < size:
        run.info("setup: crashkernel reservation failed: first memory chunk must be at least crashkernel size")
        run.problem("CK301", Severity.ERROR,
                    f"the first memory chunk ({size_text(first)}) is smaller than {size_text(size)}",
                    "ask for less memory")
        return
    hsa = fact_int(run.machine.boot_facts or {}, "hsa_size")
    low = max(size, hsa)
    high = base + size if base else (1 << 64) - 1
    if base and base < low:
        run.info("setup: crashkernel reservation failed: crash_base too low")
        run.problem("CK302", Severity.ERROR, f"@0x{base:x} is below the minimum 0x{low:x}", "drop the @offset")
        return
    low = base or low
    got = mb.alloc(size, SZ_1M, low, high, "Crash kernel")
    if not got:
        run.info("setup: crashkernel reservation failed: no suitable area found")
        run.problem("CK301", Severity.ERROR, f"no free {size_text(size)} block (1 MiB-aligned)", "ask for less memory")
        return
    mb.free(got, size)
    mb.remove(got, size)
    run.info(f"setup: Reserving {size >> 20}MB of memory at {got >> 20}MB for crashkernel "
             f"(System RAM: {mb.phys_mem_size() >> 20}MB)")
    run.add("crashkernel", got, size)
