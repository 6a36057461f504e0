"""Properties of the reservation simulator (hypothesis, bounded budget; part of the normal run).

For any machine and any command line, ``reserve()``'s regions lie inside RAM, are aligned as the
architecture's code aligns them, overlap neither each other nor anything memblock held before, add
up to ``lost``/``cma``, and the same inputs give the same answer.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from crashplan.kernel import evaluate
from crashplan.memmap.bootlog import parse_boot_log
from crashplan.memmap.machine import load_machine
from crashplan.memmap.model import Machine, MemoryMap, Span, merge_spans, subtract_spans
from crashplan.simulate import reserve

pytestmark = pytest.mark.property

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MiB = 1 << 20
KNOWN = ([load_machine(p.read_text(encoding="utf-8"), source=p.name) for p in sorted((ROOT / "examples").glob("*.yaml"))]
         + [parse_boot_log(p.read_text(encoding="utf-8"), source=p.name)
            for p in sorted((ROOT / "tests" / "data" / "bootlogs").glob("*.txt"))])
KNOWN = [m for m in KNOWN if m.memmap.ram]

# CRASH_ALIGN of arch/*/include/asm/crash_reserve.h (kernel-semantics §5.3); s390 and others 1 MiB
ALIGN = {"x86_64": 16 * MiB, "arm64": 2 * MiB, "riscv64": 2 * MiB, "loongarch64": 2 * MiB, "s390x": MiB}
RELEASES = st.sampled_from(["4.14", "5.1", "5.4", "5.7", "5.10", "5.15", "6.1", "6.2", "6.6", "6.7", "6.12", "6.17", "6.19", "7.2", "7.3"])
ARCHES = st.sampled_from(["x86_64", "arm64", "riscv64", "loongarch64", "ppc64le", "s390x"])
SIZE = st.sampled_from(["64M", "128M", "256M", "512M", "1G", "4G", "3G", "255M", "1M", "0", "16E", "100000G"])
OFFSET = st.sampled_from(["", "", "", "@16M", "@0", "@64M", "@1M", "@3M", "@4G", "@0x80000000", "@512M"])
PARAM = st.one_of(
    st.tuples(SIZE, OFFSET).map(lambda t: f"crashkernel={t[0]}{t[1]}"),
    st.tuples(SIZE, st.sampled_from([",high", ",low", ",cma"])).map(lambda t: f"crashkernel={t[0]}{t[1]}"),
    st.sampled_from(["crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M", "crashkernel=0M-2G:128M,2G-:1G@16M",
                     "fadump=on", "swiotlb=262144", "nokaslr", "crashkernel=512M,high crashkernel=0,low",
                     "crashkernel=1G,high", "crashkernel=2G,high crashkernel=256M,low", "crashkernel=3G",
                     "crashkernel=1G,high crashkernel=1G,cma"]),
)
CMDLINE = st.lists(PARAM, min_size=1, max_size=3).map(" ".join)


@st.composite
def machines(draw: st.DrawFn) -> Machine:
    arch = draw(ARCHES)
    page = draw(st.sampled_from([4096, 65536])) if arch == "ppc64le" else 4096
    banks, cur = [], draw(st.sampled_from([0, 0x1000, 0x100000, 0x40000000, 0x80000000]))
    for _ in range(draw(st.integers(1, 4))):
        size = draw(st.integers(1, 1 << 16)) * page * draw(st.sampled_from([1, 16, 256]))
        banks.append(Span(cur, cur + size, "System RAM"))
        cur += size + draw(st.integers(0, 1 << 10)) * page * draw(st.sampled_from([0, 1, 1024]))
    ram = merge_spans(banks)
    reserved = []
    for bank in draw(st.lists(st.sampled_from(ram), max_size=4)):
        off = draw(st.integers(0, (bank.size - 1) // page)) * page
        end = min(bank.end, bank.start + off + draw(st.integers(1, 1 << 14)) * page)
        reserved.append(Span(bank.start + off, end, draw(st.sampled_from(["Kernel code", "initrd", "NODE_DATA(0)",
                                                                         "reserved", "memblock: setup_arch"]))))
    nomap: tuple[Span, ...] = ()
    if arch == "arm64" and draw(st.booleans()):
        nomap = (Span(ram[-1].start, ram[-1].start + min(ram[-1].size, 2 * MiB), "nomap"),)
    facts: dict[str, object] = {}
    if draw(st.booleans()):
        facts["kernel_image"] = draw(st.sampled_from([0, 30 * MiB, 60 * MiB]))
    if arch == "arm64" and draw(st.booleans()):
        facts.update(machine_model="linux,dummy-virt", initrd_size=draw(st.sampled_from([0, 8 * MiB])))
    return Machine(
        memmap=MemoryMap(ram=ram, reserved=tuple(sorted(reserved)), nomap=nomap),
        arch=arch, kernel=draw(RELEASES), page_size=page, boot_facts=facts,
        kaslr=draw(st.sampled_from([None, True, False])),
        dma_limit=draw(st.sampled_from([None, 1 << 30, 1 << 32])) if arch in ("arm64", "riscv64") else None,
        mem_encrypt=draw(st.sampled_from([None, "sev", "tdx"])) if arch == "x86_64" else None,
        swiotlb_size=draw(st.sampled_from([None, 64 * MiB, 1 << 30])),
    )


MACHINE = st.one_of(machines(), st.sampled_from(KNOWN))


def check(machine: Machine, cmdline: str, kernel: str) -> None:
    o = evaluate(cmdline, system_ram=machine.ram_size(), kernel=kernel, arch=machine.arch or "x86_64")
    res = reserve(o, machine, cmdline=cmdline)
    assert res == reserve(o, machine, cmdline=cmdline)  # deterministic
    mm = machine.memmap
    usable = subtract_spans(merge_spans(mm.ram + mm.nomap), mm.nomap)
    regions = sorted(res.regions, key=lambda r: r.start)
    for r in regions:
        assert r.kind in ("crashkernel", "crashkernel-low", "cma")
        assert r.size == r.end - r.start > 0
        assert any(u.start <= r.start and r.end <= u.end for u in usable), (r, usable)
        if r.kind == "cma":
            align = 2 * MiB  # CMA_MIN_ALIGNMENT_BYTES: one pageblock
        elif o.arch == "ppc64le":
            align = machine.page_size
        elif o.arch == "x86_64" and o.flow == "x86-legacy" and o.crash_base and r.kind == "crashkernel":
            align = MiB  # 6.1 setup.c: a fixed base is only asked to be 1 MiB aligned
        else:
            align = ALIGN[o.arch]
        assert r.start % align == 0, (o.arch, o.flow, r, hex(align))
    for a, b in zip(regions, regions[1:]):
        assert a.end <= b.start, (a, b)
    assert res.memblock is not None
    if not (o.arch == "ppc64le" and o.flow == "plain"):
        # powerpc <= 6.14 memblock_reserve()s its fixed window unchecked (only the kernel image counts)
        for r in regions:
            hit = [s for s in res.memblock.reserved if s.start < s.end and s.start < r.end and r.start < s.end]
            assert not hit, (r, hit)
    assert res.lost == sum(r.size for r in regions if r.kind != "cma")
    assert res.cma == sum(r.size for r in regions if r.kind == "cma")
    if not o.accepted and not (o.cma_size and o.arch == "ppc64le"):
        assert not [r for r in regions if r.kind != "cma"]


@SETTINGS
@given(MACHINE, CMDLINE, RELEASES)
@example(KNOWN[0], "crashkernel=512M,high crashkernel=128M,low", "6.1")
def test_reservations_lie_in_ram_aligned_and_apart(machine, cmdline, kernel):
    check(machine, cmdline, kernel)


def test_the_known_machines_are_many():
    assert len(KNOWN) >= 10


@SETTINGS
@given(st.lists(st.tuples(st.integers(1, 1 << 24), st.sampled_from([1, 64, 4096, 2 * MiB]),
                          st.booleans(), st.integers(0, 3)), max_size=40))
def test_memblock_free_ranges_after_allocations_equal_a_fresh_subtraction(steps):
    # Memblock.alloc carves its cached free ranges instead of subtracting everything again: the cache
    # must always equal memory minus reserved minus NOMAP, whatever mix of alloc/free/append came before
    from crashplan.simulate import Memblock

    mb = Memblock((Span(0, 96 * MiB), Span(128 * MiB, 512 * MiB)), (Span(40 * MiB, 41 * MiB, "r"),),
                  (Span(300 * MiB, 302 * MiB),))
    for size, align, bottom_up, other in steps:
        mb.free_ranges()
        base = mb.alloc(size, align, 0, 512 * MiB, "a", bottom_up=bottom_up)
        if base and other == 1:
            mb.free(base, size // 2 or 1)
        elif other == 2:
            mb.reserved.append(Span(size, size + 4096, "appended"))
        assert mb.free_ranges() == subtract_spans(mb.memory, tuple(mb.reserved) + mb.nomap)
