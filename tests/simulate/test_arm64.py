"""reserve() on arm64: arch/arm64/mm/init.c up to 6.6, the generic code from 6.7, sparse_init before 7.0."""

from __future__ import annotations

from simhelp import G, codes, machine, regions, run

from conftest import EXAMPLES
from crashplan.kernel import evaluate
from crashplan.memmap.model import Span
from crashplan.simulate import reserve


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


def test_arm64_map_reaching_2_to_the_64_replays_without_listing_its_sections():
    # a machine file may claim RAM up to 16E: sparse_init's model must count sections per run, not
    # enumerate 2^37 of them (this ran out of memory before)
    from crashplan.memmap.machine import load_machine

    text = (EXAMPLES / "arm64-rpi4-4g.yaml").read_text(encoding="utf-8")
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
