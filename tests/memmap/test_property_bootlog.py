"""Properties of the boot-log reader (hypothesis, bounded budget; part of the normal run).

``parse_boot_log`` returns a Machine or raises ``InputError`` naming a line, for any text: binary,
NULs, invalid UTF-8, ANSI escapes, carriage returns, numbers past 2^64, huge logs.  On a firmware
map it reads, RAM is the usable E820 ranges merged and trimmed to pages; node ranges win over it.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import DATA
from crashplan.errors import InputError
from crashplan.memmap.bootlog import parse_boot_log
from crashplan.memmap.model import Span, merge_spans

pytestmark = pytest.mark.property

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
U64 = (1 << 64) - 1
PAGE = 4096
LOGS = [p.read_bytes().decode("utf-8", "surrogateescape")
        for p in sorted((DATA / "bootlogs").glob("*.txt"))]

ADDR = st.one_of(st.integers(0, 1 << 40), st.sampled_from([0, U64, 1 << 64, 1 << 72, 0xFFF, 0x9FBFF]))
PREFIX = st.sampled_from(["[    0.000000] ", "", "<6>", "kernel: ", "Nov 29 21:14:01 host kernel: ",
                          "\x1b[32m[    0.000000]\x1b[0m ", "[    0.000000] [    T0] ", "\r[    0.000000] "])
TYPE = st.sampled_from(["usable", "reserved", "ACPI data", "ACPI NVS", "soft reserved", "System RAM", ""])


def mem(a: int, b: int) -> str:
    return f"[mem {a:#018x}-{b:#018x}]"


LINE = st.one_of(
    st.builds(lambda a, b, t: f"BIOS-e820: {mem(a, b)} {t}", ADDR, ADDR, TYPE),
    st.builds(lambda n, a, b: f"  node   {n}: {mem(a, b)}", st.integers(0, 1 << 70), ADDR, ADDR),
    st.builds(lambda a, b: f"memblock_reserve: [{a:#x}-{b:#x}] setup_arch+0x1/0x2", ADDR, ADDR),
    st.builds(lambda a, b: f"RAMDISK: {mem(a, b)}", ADDR, ADDR),
    st.builds(lambda a, b: f"NODE_DATA(0) allocated {mem(a, b)}", ADDR, ADDR),
    st.builds(lambda n, a: f"cma: Reserved {n} MiB at {a:#018x}", st.integers(0, 1 << 70), ADDR),
    st.builds(lambda a, b, n: f"software IO TLB: mapped {mem(a, b)} ({n}MB)", ADDR, ADDR, st.integers(0, 1 << 70)),
    st.sampled_from(["Linux version 6.12.0-55.el10.x86_64 (mockbuild@) #1 SMP", "Early memory node ranges",
                     "Zone ranges:", "  DMA      [mem 0x0000000000001000-0x0000000000ffffff]", "KASLR disabled",
                     "Kernel command line: crashkernel=256M nokaslr", "BIOS-provided physical RAM map:",
                     "Memory Encryption Features active: AMD SEV", "Machine model: linux,dummy-virt",
                     "crashkernel reserved: 0x00000000ec000000 - 0x00000000fc000000 (256 MB)", "\x00", "\udcff"]),
    st.text(st.one_of(st.characters(), st.integers(0xDC80, 0xDCFF).map(chr)), max_size=40),
)
LOG = st.one_of(
    st.lists(st.tuples(PREFIX, LINE).map("".join), max_size=30).map("\n".join),
    st.tuples(st.sampled_from(LOGS), st.lists(st.tuples(st.integers(0, 1 << 20), LINE), max_size=3)).map(
        lambda t: _splice(*t)),
    st.binary(max_size=300).map(lambda b: b.decode("utf-8", "surrogateescape")),
)


def _splice(text: str, edits: list[tuple[int, str]]) -> str:
    lines = text.split("\n")
    for pos, line in edits:
        lines.insert(pos % (len(lines) + 1), "[    0.000000] " + line)
    return "\n".join(lines)


def check_error(e: InputError, text: str) -> None:
    """Every error names a line of the file, counted as editors and ``grep -n`` count them (``\n``)."""
    assert e.path == "dmesg.txt"
    assert e.line is not None, str(e)
    assert 1 <= e.line <= text.count("\n") + 1, (e.line, str(e))


@SETTINGS
@given(LOG)
@example("[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x1ffffffffffffffff] usable\n")  # past 2^64
@example("[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x000000007fffffff] usable\n\x00\n")  # a NUL
def test_parse_boot_log_returns_a_machine_or_an_input_error(text):
    try:
        m = parse_boot_log(text, source="dmesg.txt")
    except InputError as e:
        check_error(e, text)
        return
    prev = -1
    for s in m.memmap.ram:
        assert prev <= s.start < s.end, m.memmap.ram
        prev = s.end
    for kind in ("other", "crash", "nomap"):
        assert all(0 <= s.start < s.end for s in getattr(m.memmap, kind)), kind
    assert m == parse_boot_log(text, source="dmesg.txt")


BANKS = st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(1, 1 << 16), st.integers(0, 0xFFF)), min_size=1,
                 max_size=6)


@SETTINGS
@given(BANKS, PREFIX)
def test_ram_is_the_usable_e820_ranges_merged_and_page_trimmed(banks, prefix):
    lines = ["Linux version 6.12.0 (x@y) #1 SMP", "BIOS-provided physical RAM map:"]
    spans, cur = [], 0
    for gap, pages, skew in banks:
        start = cur + gap * PAGE + skew
        end = start + pages * PAGE
        spans.append(Span(start, end))
        lines.append(f"BIOS-e820: {mem(start, end - 1)} usable")
        lines.append(f"BIOS-e820: {mem(end, end + PAGE - 1)} reserved")
        cur = end + PAGE
    m = parse_boot_log("\n".join(prefix + ln for ln in lines) + "\n", source="dmesg.txt")
    expected = [(-(-s.start // PAGE) * PAGE, s.end // PAGE * PAGE) for s in merge_spans(spans)]
    assert [(s.start, s.end) for s in m.memmap.ram] == [(a, b) for a, b in expected if b > a]


def test_a_huge_log_is_read():
    text = LOGS[0] * 40  # ~1 MiB
    m = parse_boot_log(text, source="dmesg.txt")
    assert m.memmap.ram


def test_a_log_without_a_memory_map_names_a_line():
    with pytest.raises(InputError) as ei:
        parse_boot_log("[    0.000000] Linux version 6.12.0 (x@y) #1 SMP\n", source="dmesg.txt")
    assert ei.value.line is not None


def test_an_inverted_memblock_range_is_an_input_error():
    log = ("[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x000000007fffffff] usable\n"
           "[    0.000000] memblock_reserve: [0x00000000e7a663fd-0x000000006071426a] setup_arch+0x1/0x2\n")
    try:
        m = parse_boot_log(log, source="dmesg.txt")
    except InputError as e:
        assert e.line == 2
        return
    assert all(s.start < s.end for s in m.memmap.reserved), m.memmap.reserved


def test_an_inverted_crash_line_is_an_input_error():
    log = ("[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x00000000ffffffff] usable\n"
           "[    0.000000] crashkernel low memory reserved: 0xf4000000 - 0x0fc00000 (128 MB)\n")
    try:
        m = parse_boot_log(log, source="dmesg.txt")
    except InputError as e:
        assert e.line == 2
        return
    assert all(s.start < s.end for s in m.memmap.crash), m.memmap.crash


def test_the_line_named_is_the_files_line():
    log = ("[    0.000000] Linux version 6.12.0 (x@y) #1 SMP \x1e\x1e\n"
           "[    0.000000] BIOS-e820: [mem 0x0000000100000000-0x0000000080003233] usable\n")
    with pytest.raises(InputError) as ei:
        parse_boot_log(log, source="dmesg.txt")
    assert ei.value.line == 2
