"""``kernel/crash_reserve.c``: the reservation code shared by the architectures (6.7+).

* ``reserve_crashkernel_generic`` (6.7+; with ``high_search_base`` = 4 GiB, page alignment and no
  guard it is arm64's 6.2–6.6 ``reserve_crashkernel``, riscv's 6.6 one without the 4 GiB base);
* ``reserve_crashkernel_low`` (generic, and arm64 ≤ 6.6);
* ``reserve_crashkernel_cma`` (6.17+) over ``cma_declare_contiguous`` / ``cma_alloc_mem``
  (``mm/cma.c``): at most ``CRASHKERNEL_CMA_RANGES_MAX`` ranges, halving the request on failure.

The per-architecture constants (``CRASH_ALIGN``, ``CRASH_ADDR_LOW_MAX``, ``CRASH_ADDR_HIGH_MAX`` of
``arch/*/include/asm/crash_reserve.h``) come from each architecture's module (``limits``).
"""

from __future__ import annotations

from crashplan.memmap.model import Span
from crashplan.records import NamedTuple
from crashplan.severity import Severity
from crashplan.simulate.model import SZ_2M, SZ_4G, Region, Replay, round_up, size_text

__all__ = ["CRASHKERNEL_CMA_RANGES_MAX", "reserve_cma", "reserve_generic", "reserve_generic_flow", "reserve_low"]

CRASHKERNEL_CMA_RANGES_MAX = 4


def reserve_low(run: Replay, low_size: int, align: int, low_max: int) -> bool:
    """``reserve_crashkernel_low`` (generic and arm64 ≤ 6.6): True when reserved."""
    base = run.mb.alloc(low_size, align, 0, low_max, "Crash kernel (low)")
    if not base:
        run.err(f"cannot allocate crashkernel low memory (size:0x{low_size:x}).")
        run.problem("CK304", Severity.ERROR,
                    f"no room for the {size_text(low_size)} low region below {size_text(low_max)}: the kernel gives "
                    "up the whole reservation",
                    "make the main region fit below the limit, or ask for a smaller ,low size")
        return False
    run.info(f"crashkernel low memory reserved: 0x{base:08x} - 0x{base + low_size:08x} ({low_size >> 20} MB)")
    run.add("crashkernel-low", base, low_size)
    return True


def _fixed_failed(run: Replay, base: int, size: int, align: int, fixed_msg: str) -> None:
    run.warn(fixed_msg)
    if base % align:
        run.problem("CK303", Severity.ERROR,
                    f"@0x{base:x} is not a multiple of the {size_text(align)} alignment this kernel needs, so the "
                    "fixed reservation always fails",
                    f"use @0x{round_up(base, align):x} or drop the @offset")
    else:
        run.problem("CK302", Severity.ERROR,
                    f"the fixed window 0x{base:x}-0x{base + size:x} {run.describe_conflict(base, base + size)}",
                    "drop the @offset and let the kernel choose")


def reserve_generic(run: Replay, size: int, base: int, low_size: int, high: bool, *, align: int, low_max: int,
                    high_max: int, high_search_base: int | None = None, guard: bool = True, page_align: bool = False,
                    fixed_msg: str = "crashkernel reservation failed - memory is in use.") -> None:
    """``reserve_crashkernel_generic`` (kernel/crash_reserve.c, 6.7+); with ``high_search_base`` = 4G,
    ``page_align`` and no guard it is arm64's 6.2–6.6 code."""
    mb = run.mb
    if not size:
        return
    if page_align:
        size = round_up(size, 4096)
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
            _fixed_failed(run, base, size, align, fixed_msg)
            return
        if not high and search_end == low_max and search_base == 0:
            search_base, search_end = low_max, high_max
            low_size = run.default_low
            continue
        if high and search_end == high_max:
            search_base, search_end = 0, low_max
            if (not guard or search_base != search_end) and (search_base, search_end) not in tried:
                continue
        run.warn(f"cannot allocate crashkernel (size:0x{size:x})")
        run.problem("CK301", Severity.ERROR,
                    f"no free {size_text(size)} block ({size_text(align)}-aligned) in "
                    + " or ".join(f"0x{a:x}-0x{b:x}" for a, b in tried),
                    "ask for less memory" + ("" if high else ", or use crashkernel=SIZE,high"))
        return
    if got >= low_max and low_size and not reserve_low(run, low_size, align, low_max):
        mb.free(got, size)
        return
    if got >= low_max and tried[0] == (0, low_max) and not base:
        run.problem("CK305", Severity.WARNING,
                    f"{size_text(size)} did not fit below {size_text(low_max)}: it went above, with "
                    + (f"an extra {size_text(low_size)} low region" if low_size else "no low region"),
                    "plan for both regions, or ask for a size that fits below the limit")
    run.info(f"crashkernel reserved: 0x{got:016x} - 0x{got + size:016x} ({size >> 20} MB)")
    run.regions.insert(0, Region("crashkernel", got, got + size, size))


def _cma_declare(run: Replay, size: int, slots_left: list[int]) -> tuple[int, int]:
    """``cma_declare_contiguous(0, size, 0, 0, 0, false, "crashkernel")`` → (base, aligned size) or (0, size).

    ``__cma_declare_contiguous_nid``: alignment = one pageblock (``CMA_MIN_ALIGNMENT_BYTES``), size rounded
    up to it, limit = memblock_end_of_DRAM(); ``cma_alloc_mem``: bottom-up from 4 GiB when
    ``limit >= 4G + size``, else (or on failure) top-down over [0, limit).
    """
    mb = run.mb
    align = SZ_2M
    size = round_up(size, align)
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
    suffix = " on node -1" if run.on("cma_msg_node") and not run.on("cma_msg_no_node") else ""
    run.info(f"cma: Reserved {size >> 20} MiB at 0x{base:016x}{suffix}")
    return base, size


def reserve_cma(run: Replay, cma_size: int) -> None:
    """``reserve_crashkernel_cma`` (kernel/crash_reserve.c, 6.17+)."""
    if not cma_size:
        return
    page = 4096
    request = round_up(cma_size, page)
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
            request = round_up(request // 2, page)
            continue
        run.add("cma", base, size)
        count += 1
        reserved += request
    if cma_size > reserved:
        run.warn(f"crashkernel CMA reservation failed: {cma_size >> 20} MB requested, {reserved >> 20} MB reserved "
                 f"in {count} ranges")
        run.problem("CK307", Severity.WARNING if reserved else Severity.ERROR,
                    f"only {size_text(reserved)} of the {size_text(cma_size)} CMA request fits (at most "
                    f"{CRASHKERNEL_CMA_RANGES_MAX} ranges, halving on failure)",
                    "ask for less CMA, or free a larger contiguous block")
    else:
        run.info(f"crashkernel CMA reserved: {reserved >> 20} MB in {count} ranges")
    if count > 1:
        run.problem("CK308", Severity.INFO,
                    f"the CMA request was split into {count} ranges"
                    + (f" after {failures} failed attempt(s), which leave 'cma: Failed to reserve' lines in the log"
                       if failures else "")
                    + "; kernels 7.2/7.3 also log a harmless sysfs 'duplicate filename' warning for them")


def reserve_generic_flow(run: Replay, limits: tuple[int, int, int]) -> None:
    """The ``generic`` flow of x86, arm64, riscv and loongarch (``arch_reserve_crashkernel`` →
    ``reserve_crashkernel_generic``): ``,high`` without ``,low`` takes the default low size."""
    o = run.outcome
    low = o.low_size or 0
    if o.high and "low" not in o.tokens:
        low = run.default_low
    align, low_max, high_max = limits
    reserve_generic(run, o.crash_size, o.crash_base, low, bool(o.high), align=align, low_max=low_max,
                    high_max=high_max, guard=run.on("high_fallback_guard"))


class FixedMessages(NamedTuple):
    """What an architecture's pre-5.15 ``@offset`` checks print (arm64 and riscv word them apart)."""

    not_memory: str
    reserved: str
    misaligned: str
    done: str  # the success line, formatted with base, end and size in MiB


def reserve_fixed_checked(run: Replay, base: int, size: int, msgs: FixedMessages) -> None:
    """arm64 and riscv before 5.15: an ``@offset`` checked with ``memblock_is_region_memory``,
    ``memblock_is_region_reserved`` and ``IS_ALIGNED(crash_base, SZ_2M)``, each with its own message,
    then reserved with ``memblock_reserve``."""
    mb = run.mb
    window = f"the fixed window 0x{base:x}-0x{base + size:x}"
    if not any(m.contains(base, base + size) for m in mb.memory):
        run.warn(msgs.not_memory)
        run.problem("CK302", Severity.ERROR, f"{window} is not all RAM", "drop the @offset and let the kernel choose")
        return
    if mb.overlapping(base, base + size):
        run.warn(msgs.reserved)
        run.problem("CK302", Severity.ERROR, f"{window} {run.describe_conflict(base, base + size)}",
                    "drop the @offset and let the kernel choose")
        return
    if base % SZ_2M:
        run.warn(msgs.misaligned)
        run.problem("CK303", Severity.ERROR, f"@0x{base:x} is not 2 MiB-aligned, so the fixed reservation always fails",
                    f"use @0x{round_up(base, SZ_2M):x} or drop the @offset")
        return
    mb.reserved.append(Span(base, base + size, "Crash kernel"))
    run.info(msgs.done.format(base=base, end=base + size, mib=size >> 20))
    run.add_first("crashkernel", base, size)
