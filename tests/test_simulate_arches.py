"""reserve() on small synthetic machines: each architecture's and release's own rules."""

from __future__ import annotations

from crashplan.kernel import evaluate
from crashplan.memmap.model import Machine, MemoryMap, Span
from crashplan.simulate import Memblock, default_low_size, reserve

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


def test_memblock_top_down_bottom_up_and_page_zero():
    mb = Memblock((Span(0, 64 * M),), (Span(32 * M, 40 * M, "x"),))
    assert mb.find(16 * M, 2 * M, 0, 64 * M) == 48 * M
    assert mb.find(30 * M, 2 * M, 0, 64 * M) == 2 * M
    assert mb.find(31 * M, 2 * M, 0, 64 * M) == 0
    assert mb.find(8 * M, 2 * M, 0, 64 * M, bottom_up=True) == 2 * M  # start clamped to PAGE_SIZE, rounded up
    assert mb.find(4096, 4096, 0, 64 * M, bottom_up=True) == 4096


def test_x86_fixed_offset_alignment_1m_before_6_7_and_16m_after():
    _, old = run("crashkernel=128M@0x21100000", X86, "6.1", "x86_64")
    assert regions(old) == [("crashkernel", 0x21100000, 0x29100000)]
    assert old.messages[-1].text == "Reserving 128MB of memory at 529MB for crashkernel (System RAM: 6143MB)"
    _, new = run("crashkernel=128M@0x21100000", X86, "6.12", "x86_64")
    assert regions(new) == []
    assert [m.text for m in new.messages] == ["crashkernel reservation failed - memory is in use."]
    assert codes(new)[0] == "CK303"


def test_x86_fixed_offset_over_the_kernel_names_it():
    _, res = run("crashkernel=256M@16M", X86, "7.2", "x86_64")
    assert res.problems[0].code == "CK302"
    assert "Kernel code" in res.problems[0].text


def test_x86_plain_fallback_low_region_ignores_low_token_on_generic_but_not_before():
    cmd = "crashkernel=3G crashkernel=0,low"
    _, old = run(cmd, X86, "6.1", "x86_64")
    assert [r.kind for r in old.regions] == ["crashkernel"]
    _, new = run(cmd, X86, "6.12", "x86_64")
    assert [r.kind for r in new.regions] == ["crashkernel", "crashkernel-low"]
    assert new.regions[1].size == 256 * M
    assert "CK305" in codes(new)
    assert new.lost == 3 * G + 256 * M


def test_sev_guest_grows_the_default_low_region():
    sev = machine([(0x100000, 0x80000000), (0x100000000, 0x1080000000)], arch="x86_64", mem_encrypt="sev")
    # 6% of ~64 GiB is over 1 GiB: swiotlb is clamped to 1 GiB, the low region is 1 GiB + 8 MiB
    assert default_low_size(sev, "x86_64") == G + 8 * M
    assert default_low_size(sev, "x86_64", "swiotlb=65536") == 256 * M  # swiotlb= wins: 128 MiB + 8 < 256
    assert default_low_size(X86, "x86_64", "swiotlb=262144,force") == 512 * M + 8 * M


def test_cma_halves_keeps_the_request_and_stops_at_four_ranges():
    # above 4 GiB: five free 300 MiB blocks separated by reservations
    ram = [(0x100000, 0x20000000), (0x100000000, 0x100000000 + 5 * 320 * M)]
    res = [(0x100000000 + i * 320 * M + 300 * M, 0x100000000 + (i + 1) * 320 * M, f"r{i}") for i in range(5)]
    m = machine(ram, res, arch="x86_64", kaslr=False)
    _, out = run("crashkernel=128M crashkernel=2G,cma", m, "7.2", "x86_64")
    texts = [x.text for x in out.messages]
    assert texts[1:4] == ["cma: Failed to reserve 2048 MiB", "cma: Failed to reserve 1024 MiB",
                          "cma: Failed to reserve 512 MiB"]
    assert texts[-1] == "crashkernel CMA reservation failed: 2048 MB requested, 1024 MB reserved in 4 ranges"
    cma = [r for r in out.regions if r.kind == "cma"]
    assert [(r.start - 0x100000000) // M for r in cma] == [0, 320, 640, 960]
    assert all(r.size == 256 * M for r in cma)
    assert out.cma == G
    assert "CK307" in codes(out)


def test_arm64_6_1_high_has_no_low_and_6_2_searches_high_from_4g():
    rpi = machine([(0, 0x3B400000), (0x40000000, 0x200000000)], arch="arm64", dma_limit=0x40000000)
    _, old = run("crashkernel=512M,high", rpi, "6.1", "arm64")
    assert [r.kind for r in old.regions] == ["crashkernel"] and old.regions[0].start >= 4 * G
    assert "CK306" in codes(old)
    _, mid = run("crashkernel=512M,high", rpi, "6.6", "arm64")
    assert [r.kind for r in mid.regions] == ["crashkernel", "crashkernel-low"]
    assert mid.regions[0].start >= 4 * G and mid.regions[1].end <= 0x40000000
    # plain 1G does not fit under the 1 GiB DMA limit: 6.1 fails, 6.12 falls back high with 128M low
    _, p61 = run("crashkernel=1G", rpi, "6.1", "arm64")
    assert regions(p61) == [] and p61.messages[0].text == "cannot allocate crashkernel (size:0x40000000)"
    _, p612 = run("crashkernel=1G", rpi, "6.12", "arm64")
    assert [r.kind for r in p612.regions] == ["crashkernel", "crashkernel-low"]
    assert p612.regions[1].end <= 0x40000000


def test_riscv_6_1_prefers_below_4g_then_anywhere():
    m = machine([(0x80000000, 0x180000000)], arch="riscv64")
    _, res = run("crashkernel=256M", m, "6.1", "riscv64")
    assert regions(res) == [("crashkernel", 0xF0000000, 0x100000000)]
    assert res.messages[0].text == "crashkernel: reserved 0x00000000f0000000 - 0x0000000100000000 (256 MB)"


def test_s390_top_down_removes_the_region_from_memblock():
    m = machine([(0, 4 * G)], arch="s390x")
    _, res = run("crashkernel=262145K", m, "6.12", "s390x")  # rounded up to 257 MiB
    assert regions(res) == [("crashkernel", 4 * G - 257 * M, 4 * G)]
    assert res.messages[0].text == "setup: Reserving 257MB of memory at 3839MB for crashkernel (System RAM: 3839MB)"
    assert res.memblock.memory[-1].end == 4 * G - 257 * M


def test_powerpc_fixed_base_and_overlap_with_the_kernel():
    m = machine([(0, 8 * G)], [(0, 40 * M, "Kernel code")], arch="ppc64le")
    _, res = run("crashkernel=512M", m, "6.12", "ppc64le")
    assert regions(res) == [("crashkernel", 512 * M, 1024 * M)]
    assert res.messages[0].text == "Reserving 512MB of memory at 512MB for crashkernel (System RAM: 8192MB)"
    assert "CK313" in codes(res)
    _, bad = run("crashkernel=512M@16M", m, "6.17", "ppc64le")
    assert regions(bad) == [] and bad.messages[0].text == "Crash kernel can not overlap current kernel"


def test_unknown_layout_and_fadump():
    blind = Machine(memmap=MemoryMap(ram=(), layout_known=False), arch="x86_64", system_ram=8 * G)
    _, res = run("crashkernel=256M", blind, "6.12", "x86_64")
    assert regions(res) == [] and codes(res) == ["CK300"]
    ppc = machine([(0, 64 * G)], arch="ppc64le")
    o, fa = run("fadump=on crashkernel=4G", ppc, "6.12", "ppc64le")
    assert o.fadump and regions(fa) == [] and codes(fa) == ["CK314"]


def test_size_not_below_ram():
    small = machine([(0x100000, 0x40000000)], arch="x86_64", kaslr=False)
    _, res = run("crashkernel=2G", small, "6.12", "x86_64")
    assert regions(res) == [] and codes(res)[0] == "CK309"
    assert "without a message" in res.problems[0].text


def test_arm64_map_reaching_2_to_the_64_replays_without_listing_its_sections():
    # a machine file may claim RAM up to 16E: sparse_init's model must count sections per run, not
    # enumerate 2^37 of them (this ran out of memory before)
    from pathlib import Path

    from crashplan.memmap.machine import load_machine

    text = (Path(__file__).resolve().parent.parent / "examples" / "arm64-rpi4-4g.yaml").read_text(encoding="utf-8")
    assert "end: 0xfc000000," in text
    m = load_machine(text.replace("end: 0xfc000000,", "end: 16E,", 1), source="rpi4-16e.yaml")
    assert m.memmap.ram[-1].end == 1 << 64
    o = evaluate("crashkernel=512M", system_ram=m.ram_size(), kernel="6.12", arch="arm64")
    r = reserve(o, m, cmdline="crashkernel=512M")
    assert all(0 <= reg.start < reg.end <= 1 << 64 for reg in r.regions)


def test_sections_present_counts_each_section_once():
    from crashplan.simulate.arm64 import sections_present as _sections_present

    spans = [Span(0, 1, ""), Span(5 << 27, (7 << 27) + 1, ""), Span(6 << 27, 6 << 27, ""), Span(1 << 27, 3 << 27, ""),
             Span((2 << 27) + 5, (2 << 27) + 9, ""), Span(7 << 27, 9 << 27, "")]
    listed = {n for s in spans if s.end > s.start for n in range(s.start >> 27, ((s.end - 1) >> 27) + 1)}
    assert _sections_present(spans, 27) == len(listed) == 7
    assert _sections_present([Span(0, 1 << 64, "")], 27) == 1 << 37
