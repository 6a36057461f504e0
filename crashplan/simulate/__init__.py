"""Replay the kernel's crash-memory reservation on a memory map, byte for byte.

``reserve(outcome, machine)`` takes what the parser decided (``crashplan.kernel.evaluate``) and a
``Machine`` (memory map plus the facts that matter), rebuilds memblock as it stood when the
architecture's reservation code ran, and runs that code: the same searches, alignments, fallbacks,
messages.  Pure: data in, data out.

One module per part of the kernel (function names are the kernel's; the releases are those read, see
docs/simulator.md and docs/kernel-fidelity.md):

* ``memblock`` — ``mm/memblock.c``: ``memblock_phys_alloc_range`` and the top-down/bottom-up searches;
* ``early`` — what memblock holds before the crash reservation that the source does not list;
* ``generic`` — ``kernel/crash_reserve.c``: ``reserve_crashkernel_generic``/``_low``/``_cma``;
* ``x86_64``, ``arm64``, ``riscv64``, ``loongarch64``, ``ppc64le``, ``s390x`` — each architecture's own
  code, its docstring the architecture's timeline (release, change, source); ``other`` for the
  architectures not modelled further;
* ``model`` — the results (``Reservation``, ``Region``, ``PlacementFinding``) and one replay's state.

Only the module of the architecture replayed is imported.  Which of its flows runs is
``crashplan.kernel.flow_for``: the table of what each release does lives in ``crashplan.kernel``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from crashplan.kernel import Outcome, flow_for
from crashplan.memmap.model import Machine, Span, merge_spans, paused_gc
from crashplan.severity import Severity
from crashplan.simulate.early import early_allocations
from crashplan.simulate.memblock import Memblock
from crashplan.simulate.model import (
    SIM_SWITCHES,
    SZ_128M,
    MemblockState,
    PlacementFinding,
    Region,
    Replay,
    Reservation,
    size_text,
)

if TYPE_CHECKING:
    from crashplan.kernel.versions import KernelRelease

__all__ = [
    "SIM_SWITCHES",
    "Memblock",
    "MemblockState",
    "PlacementFinding",
    "Region",
    "Reservation",
    "default_low_size",
    "early_allocations",
    "reserve",
]


class ArchCode(Protocol):
    """What each architecture's module provides (``crashplan.simulate.x86_64`` and the others)."""

    def limits(self, run: Replay) -> tuple[int, int, int]: ...

    def reserve(self, run: Replay, flow: str) -> None: ...


def arch_code(arch: str) -> ArchCode:
    """The module of ``arch``, imported on first use (a replay loads one architecture's code)."""
    if arch == "x86_64":
        from crashplan.simulate import x86_64

        return x86_64
    if arch == "arm64":
        from crashplan.simulate import arm64

        return arm64
    if arch == "riscv64":
        from crashplan.simulate import riscv64

        return riscv64
    if arch == "loongarch64":
        from crashplan.simulate import loongarch64

        return loongarch64
    if arch == "ppc64le":
        from crashplan.simulate import ppc64le

        return ppc64le
    if arch == "s390x":
        from crashplan.simulate import s390x

        return s390x
    from crashplan.simulate import other

    return other


def default_low_size(machine: Machine, arch: str, cmdline: str | None = None) -> int:
    """``DEFAULT_CRASH_KERNEL_LOW_SIZE``: x86 ``max(swiotlb_size_or_default() + 8M, 256M)``
    (``crashplan.simulate.x86_64.default_low_size``); 128 MiB elsewhere."""
    if arch != "x86_64":
        return SZ_128M
    from crashplan.simulate import x86_64

    return x86_64.default_low_size(machine, cmdline)


def reserve(outcome: Outcome, machine: Machine, *, cmdline: str | None = None) -> Reservation:
    """Replay the reservation stage for ``outcome`` (from ``crashplan.kernel.evaluate``) on ``machine``.

    ``cmdline`` is the command line ``outcome`` was evaluated from; it is read again where the kernel
    reads it during the reservation (x86 ≤ 6.6 parses ``,low`` only when the region lands above 4 GiB;
    ``swiotlb=``).  It defaults to ``machine.cmdline``.
    """
    with paused_gc():
        return _reserve(outcome, machine, cmdline)


def _memblock(machine: Machine, arch: str, release: KernelRelease) -> tuple[Memblock, list[Span], list[str]]:
    """memblock as the reservation finds it: (memblock, the spans the simulator added, notes)."""
    mm = machine.memmap
    memory = merge_spans(mm.ram + mm.nomap)
    reserved = tuple(mm.reserved)
    if arch == "arm64":  # arm64's /proc/iomem lists memblock itself, after boot: see arm64.memblock
        from crashplan.simulate import arm64

        return arm64.memblock(machine, release, memory, reserved)
    early, notes = early_allocations(machine, arch, release, memory, reserved)
    return Memblock(memory, reserved + tuple(early), mm.nomap, page_size=machine.page_size), list(early), notes


def _reserve(outcome: Outcome, machine: Machine, cmdline: str | None) -> Reservation:
    arch = outcome.arch
    release = outcome.kernel
    cmdline = cmdline if cmdline is not None else machine.cmdline
    mb, modelled, notes = _memblock(machine, arch, release)
    before = tuple(sorted(mb.reserved, key=lambda s: (s.start, s.end)))
    run = Replay(machine=machine, outcome=outcome, cmdline=cmdline, mb=mb, arch=arch, release=release, notes=notes)
    run.default_low = default_low_size(machine, arch, cmdline)

    if not machine.memmap.layout_known or not mb.memory:
        run.problem("CK300", Severity.ERROR,
                    "the memory layout is unknown (no RAM ranges in the source): nothing can be placed",
                    "read /proc/iomem as root, or give a boot log")
        return _finish(run, outcome, before, modelled)

    ram = machine.ram_size()
    if outcome.crash_size and outcome.crash_size >= ram:
        run.problem("CK309", Severity.ERROR, f"the requested {size_text(outcome.crash_size)} is not less than the RAM "
                    f"({size_text(ram)}): " + ("the allocation must fail" if outcome.accepted
                                               else "the kernel rejects it without a message"), "ask for less memory")

    if outcome.fadump:
        from crashplan.simulate import ppc64le

        ppc64le.fadump(run)
        return _finish(run, outcome, before, modelled)

    code = arch_code(arch)
    run.low_max = code.limits(run)[1]
    # the flow the parser ran (outcome.flow) is the kernel's flow_for, unless the outcome comes from a
    # single parse function (a variant), which reserves nothing
    flow = flow_for(arch, release)
    if outcome.accepted and outcome.flow == flow:
        code.reserve(run, flow)

    # crashkernel=,cma: x86 6.17+ (only when the parse succeeded), arm64/riscv 7.3+, powerpc 6.19+
    # (kdump_cma_reserve runs whatever the parse returned)
    cma_size = outcome.cma_size or 0
    if cma_size and (arch == "ppc64le" or outcome.accepted):
        from crashplan.simulate.generic import reserve_cma

        reserve_cma(run, cma_size)

    if machine.kaslr is not False and outcome.crash_base and arch in ("x86_64", "arm64"):
        run.problem("CK310", Severity.WARNING,
                    "KASLR may put the kernel image inside the fixed window, so the reservation can fail on some boots",
                    "drop the @offset, or boot with nokaslr")
    return _finish(run, outcome, before, modelled)


def _finish(run: Replay, outcome: Outcome, before: tuple[Span, ...], modelled: list[Span]) -> Reservation:
    regions = tuple(run.regions)
    lost = sum(r.size for r in regions if r.kind != "cma")
    cma = sum(r.size for r in regions if r.kind == "cma")
    if regions and run.machine.ram_size():
        share = 100 * (lost + cma) / run.machine.ram_size()
        if share >= 25:
            run.problem("CK311", Severity.WARNING, f"the reservation takes {share:.0f}% of RAM", None)
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
