"""Architectures crashplan does not model further (arm, mips, …): a plain top-down search below 4 GiB.

Which flow runs is ``crashplan.kernel.flow_for``: ``plain``.
"""

from __future__ import annotations

from crashplan.simulate.model import SZ_1M, SZ_4G, Replay

__all__ = ["limits", "reserve"]


def limits(run: Replay) -> tuple[int, int, int]:
    """(alignment, low limit, high limit) assumed: 1 MiB, 4 GiB, the end of DRAM."""
    return SZ_1M, SZ_4G, run.mb.end_of_dram()


def reserve(run: Replay, flow: str) -> None:
    """arm, mips and other own-code arches: a plain top-down search below 4 GiB (not modelled further)."""
    o = run.outcome
    got = run.mb.alloc(o.crash_size, SZ_1M, o.crash_base, (o.crash_base + o.crash_size) if o.crash_base else SZ_4G,
                       "Crash kernel")
    if got:
        run.add("crashkernel", got, o.crash_size)
    run.notes.append(f"{run.arch}: the reservation code of this architecture is approximated")
