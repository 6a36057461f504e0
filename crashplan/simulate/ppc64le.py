"""ppc64le: ``arch/powerpc/kexec/core.c`` (kdump) and ``arch/powerpc/kernel/fadump.c`` (fadump).

Timeline (release — change — source; switches in ``crashplan.kernel.versions.SWITCHES``):

* 4.14 — ``reserve_crashkernel``: a fixed base, ``ppc64_rma_size / 2`` on an LPAR without ``@offset``
  (7c5ed82b800d, 5.18, carried by the stable branches from 4.14.y on; read in 5.10.262), page-aligned;
  it must not overlap the running kernel.
* 6.1 — that base capped at 512 MiB on an LPAR, 128 MiB elsewhere (``ppc_rma_cap``, Hari Bathini's
  patch on linuxppc-dev, inferred).
* 6.15 — ``arch_reserve_crashkernel`` + ``reserve_crashkernel_generic`` at the fixed base
  (``ppc_generic``, inferred: absent in 6.12, present in 6.17).
* 6.19 — ``crashkernel=,cma`` reserved from CMA, whatever the parse returned (``cma_ppc``).
* ``fadump=on``: ``crashkernel=`` sizes the firmware-assisted dump's boot memory instead
  (``fadump_calculate_reserve_size``); the kdump reservation does not run.

Which flow runs is ``crashplan.kernel.flow_for``: ``plain`` up to 6.14, ``generic`` from 6.15.
"""

from __future__ import annotations

from crashplan.memmap.model import Span
from crashplan.severity import Severity
from crashplan.simulate.generic import reserve_generic
from crashplan.simulate.model import (
    SZ_4G,
    SZ_128M,
    SZ_512M,
    Replay,
    fact_int,
    is_kernel_image,
    round_up,
    size_text,
)

__all__ = ["fadump", "limits", "reserve"]


def limits(run: Replay) -> tuple[int, int, int]:
    """(alignment, CRASH_ADDR_LOW_MAX, CRASH_ADDR_HIGH_MAX): the page size (64 KiB or 4 KiB), 4 GiB, the
    end of DRAM."""
    page = run.machine.page_size
    return 1 << 16 if page == 65536 else page, SZ_4G, run.mb.end_of_dram()


def reserve(run: Replay, flow: str) -> None:
    """``flow`` is ``crashplan.kernel.flow_for("ppc64le", release)``."""
    if flow in ("generic", "plain"):
        _reserve(run, generic=flow == "generic")


def fadump(run: Replay) -> None:
    """``fadump=on``: fadump places its boot memory itself; nothing of kdump's runs."""
    size = run.outcome.fadump_size or 0
    run.problem("CK314", Severity.INFO,
                f"fadump=on: crashkernel= sizes the firmware-assisted dump's boot memory ({size_text(size)}); "
                "fadump places it itself and the kdump reservation does not run", None)


def _base(run: Replay) -> int:
    """The fixed base powerpc uses without @offset (``reserve_crashkernel``, arch/powerpc/kexec/core.c).

    6.1+ (``ppc_rma_cap``): ``min(ppc64_rma_size / 2, 512M)`` on an LPAR (PowerVM), ``min(rma / 2,
    128M)`` otherwise; before: ``ppc64_rma_size / 2`` on an LPAR, uncapped (7c5ed82b800d, 5.18, carried
    by the stable branches from 4.14.y on; read in 5.10.262 — earlier stable releases used
    ``min(128M, rma / 2)`` everywhere).  The RMA size is not in the source: assume it is at least 1 GiB."""
    facts = run.machine.boot_facts or {}
    lpar = bool(facts.get("lpar", True))
    rma = fact_int(facts, "rma_size")
    run.problem("CK313", Severity.INFO,
                "powerpc places the crash kernel at a fixed base derived from the RMA size; crashplan assumes "
                + ("an LPAR with an RMA of at least 1 GiB (base 512 MiB)" if lpar else "a base of 128 MiB"))
    if lpar and not run.on("ppc_rma_cap"):
        return rma // 2 if rma else SZ_512M
    cap = SZ_512M if lpar else SZ_128M
    return min(rma // 2, cap) if rma else cap


def _reserve(run: Replay, generic: bool) -> None:
    """arch/powerpc/kexec/core.c: fixed base, ``reserve_crashkernel`` (≤ 6.14) or
    ``arch_reserve_crashkernel`` + ``reserve_crashkernel_generic`` (6.15+)."""
    o, mb = run.outcome, run.mb
    page = 65536 if run.machine.page_size == 65536 else run.machine.page_size
    size, base = o.crash_size, o.crash_base
    if not base:
        base = _base(run)
    aligned = round_up(base, page)
    if aligned != base:
        run.info(f"Crash kernel base must be aligned to 0x{page:x}")
        base = aligned
    size = round_up(size, page)
    kernel = [s for s in mb.reserved if is_kernel_image(s)]
    if any(k.overlaps(base, base + size) for k in kernel):
        run.warn("Crash kernel can not overlap current kernel")
        run.problem("CK302", Severity.ERROR, f"0x{base:x}-0x{base + size:x} overlaps the running kernel",
                    "choose another @offset")
        return
    if generic:
        reserve_generic(run, size, base, 0, False, align=page, low_max=SZ_4G, high_max=mb.end_of_dram())
        return
    ram = run.machine.ram_size()
    run.info(f"Reserving {size >> 20}MB of memory at {base >> 20}MB for crashkernel (System RAM: {ram >> 20}MB)")
    in_memory = any(m.contains(base, base + size) for m in mb.memory)
    if not in_memory:
        run.err("Failed to reserve memory for crashkernel!")
        run.problem("CK302", Severity.ERROR, f"0x{base:x}-0x{base + size:x} is not all RAM", "choose another @offset")
        return
    mb.reserved.append(Span(base, base + size, "Crash kernel"))
    run.add("crashkernel", base, size)
