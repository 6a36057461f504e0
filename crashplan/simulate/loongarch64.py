"""loongarch64: ``arch/loongarch/kernel/setup.c`` and ``arch/loongarch/include/asm/crash_reserve.h``.

Timeline (release — change — source; switches in ``crashplan.kernel.versions.SWITCHES``):

* 6.3 — kdump support (``loongarch_kdump``): ``arch_parse_crashkernel`` reserves below 4 GiB from
  2 MiB up, or at the ``@offset``; the log lines are not verified on a real boot.
* 6.8 — ``reserve_crashkernel_generic`` (``generic_loongarch``; ``crashplan.simulate.generic``) with
  CRASH_ADDR_LOW_MAX 4 GiB and CRASH_ADDR_HIGH_MAX the end of DRAM; no ``,cma`` up to 7.3.

Which flow runs is ``crashplan.kernel.flow_for``: ``none`` before 6.3, ``plain`` 6.3–6.7, ``generic``
from 6.8.
"""

from __future__ import annotations

from crashplan.severity import Severity
from crashplan.simulate.generic import reserve_generic_flow
from crashplan.simulate.model import SZ_2M, SZ_4G, Replay, size_text

__all__ = ["limits", "reserve"]


def limits(run: Replay) -> tuple[int, int, int]:
    """(CRASH_ALIGN, CRASH_ADDR_LOW_MAX, CRASH_ADDR_HIGH_MAX): 2 MiB, 4 GiB, the end of DRAM."""
    return SZ_2M, SZ_4G, run.mb.end_of_dram()


def reserve(run: Replay, flow: str) -> None:
    """``flow`` is ``crashplan.kernel.flow_for("loongarch64", release)``."""
    if flow == "generic":
        reserve_generic_flow(run, limits(run))
    elif flow == "plain":
        _reserve_old(run)


def _reserve_old(run: Replay) -> None:
    """arch/loongarch/kernel/setup.c ``arch_parse_crashkernel``, 6.3 … 6.7 [messages unverified]."""
    o, mb = run.outcome, run.mb
    size, base = o.crash_size, o.crash_base
    if base <= 0:
        got = mb.alloc(size, SZ_2M, SZ_2M, SZ_4G, "Crash kernel")
        if not got:
            run.warn("crashkernel reservation failed - No suitable area found.")
            run.problem("CK301", Severity.ERROR, f"no free {size_text(size)} block (2 MiB-aligned) below 4 GiB",
                        "ask for less memory")
            return
    else:
        got = mb.alloc(size, SZ_2M, base, base + size, "Crash kernel")
        if not got:
            run.warn("Invalid memory region reserved for crash kernel")
            run.problem("CK302", Severity.ERROR,
                        f"the fixed window 0x{base:x}-0x{base + size:x} {run.describe_conflict(base, base + size)}",
                        "drop the @offset and let the kernel choose")
            return
    run.add("crashkernel", got, size)
