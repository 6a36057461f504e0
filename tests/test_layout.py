"""The memory picture: a pure model (crashplan.layout) and its rich rendering."""

from __future__ import annotations

from rich.console import Console

from conftest import DATA
from crashplan.kernel import evaluate
from crashplan.layout import build_layout
from crashplan.memmap.bootlog import parse_boot_log
from crashplan.memmap.model import Machine, MemoryMap, Span
from crashplan.output.layout_text import render_reservation
from crashplan.simulate import reserve

M = 1 << 20
G = 1 << 30


def planned(name: str):
    m = parse_boot_log((DATA / "bootlogs" / name).read_bytes().decode("utf-8"), source=name)
    o = evaluate(m.cmdline, system_ram=m.ram_size(), kernel=m.kernel, arch=m.arch)
    return m, reserve(o, m)


def test_bands_cover_the_width_and_keep_2m_holes_visible():
    m, res = planned("x86_64-7.2-journalctl.txt")
    lay = build_layout(m, res, width=98)
    assert sum(b.cells for b in lay.bands) == 98
    assert all(b.cells >= 1 for b in lay.bands)
    # the seven 2 MiB memmap= holes are bands of their own
    holes = [b for b in lay.bands if b.kind == "hole" and b.size == 2 * M]
    assert len(holes) == 7
    assert [b.kind for b in lay.bands if b.kind in ("crashkernel", "cma")] == ["crashkernel", "cma", "cma"]
    assert lay.kinds[:2] == ("crashkernel", "cma")
    assert [mk.label for mk in lay.marks] == ["0x1000", "4G", "0x200000000"]


def test_layout_without_a_reservation_shows_the_map():
    m = Machine(memmap=MemoryMap(ram=(Span(0, 4 * G),), reserved=(Span(G, G + 64 * M, "initrd"),)))
    lay = build_layout(m, width=20)
    assert lay.cells() == ".......ii..........."  # sqrt scale: 1G, 64M, 2.9G


def test_rendering_is_deterministic_at_width_100():
    m = Machine(memmap=MemoryMap(ram=(Span(0x100000, 0x80000000), Span(0x100000000, 0x180000000)),
                                 reserved=(Span(0x1000000, 0x3000000, "Kernel code"),
                                           Span(0x7F000000, 0x7F800000, "initrd"))),
                arch="x86_64", kaslr=False)
    o = evaluate("crashkernel=512M,high", system_ram=m.ram_size(), kernel="6.12", arch="x86_64")
    res = reserve(o, m)
    con = Console(width=100, record=True, color_system=None)
    render_reservation(con, m, res)
    text = con.export_text()
    lines = text.splitlines()
    assert len(lines[0]) == 100 and lines[0][0] == "[" and lines[0][-1] == "]"
    assert lines[1].split() == ["0x100000", "4G", "0x180000000"]
    assert lines[2] == ("█ crashkernel  █ crashkernel low  K kernel image  i initrd  ▒ reserved early  "
                        "─ free RAM  · no RAM")
    assert lines[4].split() == ["region", "start", "end", "size", "where"]
    assert lines[5].split() == ["crashkernel", "0x15f000000", "0x17f000000", "512M", "above", "4", "GiB"]
    assert lines[6].split() == ["crashkernel-low", "0x6f000000", "0x7f000000", "256M", "below", "4", "GiB"]
    con2 = Console(width=100, record=True, color_system=None)
    render_reservation(con2, m, res)
    assert con2.export_text() == text
