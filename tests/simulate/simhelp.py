"""Small synthetic machines and shortcuts for the simulator's per-architecture tests."""

from __future__ import annotations

from crashplan.kernel import evaluate
from crashplan.memmap.model import Machine, MemoryMap, Span
from crashplan.simulate import reserve

M = 1 << 20
G = 1 << 30


def machine(ram, reserved=(), **kw) -> Machine:
    return Machine(memmap=MemoryMap(ram=tuple(Span(a, b, "System RAM") for a, b in ram),
                                    reserved=tuple(Span(a, b, n) for a, b, n in reserved)), **kw)


def run(cmdline, m, kernel, arch):
    o = evaluate(cmdline, system_ram=m.ram_size(), kernel=kernel, arch=arch)
    return o, reserve(o, m, cmdline=cmdline)


def regions(res):
    return [(r.kind, r.start, r.end) for r in res.regions]


def codes(res):
    return [p.code for p in res.problems]


# a q35-like x86 box: 2 GiB below 4 GiB, 4 GiB above, kernel image and NODE_DATA named
X86 = machine([(0x1000, 0x9F000), (0x100000, 0x80000000), (0x100000000, 0x200000000)],
              [(0x1000000, 0x3C00000, "Kernel code"), (0x1FFFD0000, 0x200000000, "NODE_DATA(0)")],
              arch="x86_64", kaslr=False)
