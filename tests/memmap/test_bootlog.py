"""parse_boot_log: the formats people paste, what is read from them, and clear errors."""

from __future__ import annotations

import pytest

from conftest import DATA
from crashplan.errors import InputError
from crashplan.memmap.bootlog import parse_boot_log, read_boot_log
from crashplan.memmap.model import Span

LOGS = DATA / "bootlogs"


def load(name: str):
    return parse_boot_log((LOGS / name).read_bytes().decode("utf-8"), source=name)


def spans(ss):
    return [(s.start, s.end) for s in ss]


def test_x86_dmesg_reads_release_arch_cmdline_and_memblock_memory():
    m = load("x86_64-6.12-dmesg.txt")
    assert m.kernel == "6.12.118+deb13-amd64"
    assert m.arch == "x86_64"
    assert m.cmdline == "console=ttyS0,115200 panic=-1 nokaslr quiet crashkernel=512M,high"
    assert m.kaslr is False
    # "Early memory node ranges": memblock.memory, page-trimmed, first page removed by "e820: update"
    assert spans(m.memmap.ram) == [(0x1000, 0x9F000), (0x100000, 0x7FFDF000), (0x100000000, 0x200000000)]
    assert m.system_ram == 0x9E000 + 0x7FEDF000 + 0x100000000
    assert m.memmap.other[:2] == (Span(0, 0x1000, "reserved"), Span(0x9FC00, 0xA0000, "reserved"))


def test_that_boots_crash_lines_are_results_not_reservations():
    m = load("x86_64-6.12-dmesg.txt")
    assert spans(m.memmap.crash) == [(0x6F000000, 0x7F000000), (0x1DF000000, 0x1FF000000)]
    assert [s.name for s in m.memmap.reserved] == ["initrd", "NODE_DATA(0)"]
    assert m.memmap.reserved[0] == Span(0x7FED4000, 0x7FFD0000, "initrd")
    assert m.memmap.reserved[1] == Span(0x1FFFD3680, 0x1FFFFE000, "NODE_DATA(0)")


def test_dmesg_without_timestamps_and_old_x86_messages():
    m = load("x86_64-6.1-dmesg-notime.txt")
    assert m.kernel == "6.1.0-57-amd64" and m.arch == "x86_64"
    # "Reserving 256MB of memory at 5120MB" and the low line: MB granularity, end exclusive
    assert spans(m.memmap.crash) == [(0x6F000000, 0x7F000000), (0x140000000, 0x150000000)]
    assert m.boot_facts["kernel_image"] == (14343 + 2338 + 9132 + 2824 + 17344) * 1024


def test_journalctl_with_user_defined_e820_map_and_a_crashkernel_cma_run():
    m = load("x86_64-7.2-journalctl.txt")
    assert m.kernel == "7.2.13+deb14-amd64"
    assert m.cmdline.endswith("crashkernel=256M crashkernel=1G,cma")
    holes = [0x30000000, 0x60000000, 0x130000000, 0x160000000, 0x190000000, 0x1C0000000, 0x1F0000000]
    for h in holes:
        assert not any(s.overlaps(h, h + (2 << 20)) for s in m.memmap.ram), hex(h)
    # the three cma: lines before "crashkernel CMA reserved" belong to that boot's crash reservation
    assert spans(m.crash_cma_ranges) == [(0x100000000, 0x120000000), (0x130200000, 0x150200000)]
    assert not any(s.name.startswith("cma") for s in m.memmap.reserved)
    assert m.swiotlb_size is None  # x86 maps swiotlb after the "Memory:" line where this copy ends


def test_serial_capture_with_crlf_and_ansi_equals_the_plain_log():
    m = load("arm64-6.12-serial.txt")
    assert m.arch == "arm64" and m.kernel == "6.12.118+deb13-arm64"
    assert spans(m.memmap.ram) == [(0x40000000, 0x1C0000000)]
    # the DMA CMA area (CONFIG_CMA_SIZE_MBYTES) comes before the crash lines: a reservation
    assert Span(0xFC000000, 0x100000000, "cma (DMA)") in m.memmap.reserved
    assert spans(m.memmap.crash) == [(0xF4000000, 0xFC000000), (0x199000000, 0x1B9000000)]
    assert m.dma_limit == 0x100000000
    assert m.boot_facts["machine_model"] == "linux,dummy-virt"
    assert m.boot_facts["va_bits"] == 52


def test_arm64_7_3_crash_cma_lines_after_the_dma_area():
    m = load("arm64-7.3-dmesg.txt")
    assert Span(0xFC000000, 0x100000000, "cma (DMA)") in m.memmap.reserved
    assert spans(m.crash_cma_ranges) == [(0x100000000, 0x140000000)]
    assert spans(m.memmap.crash) == [(0xEC000000, 0xFC000000), (0x100000000, 0x140000000)]


def test_memblock_debug_lines_give_the_reserved_list():
    text = "\n".join([
        "[    0.000000] Linux version 6.12.5-amd64 (x86_64-linux-gnu-gcc-14)",
        "[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable",
        "[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x00000000bfffffff] usable",
        "[    0.000000] memblock_reserve: [0x0000000001000000-0x0000000003bfffff] setup_arch+0x5c/0x870",
        "[    0.000000] memblock_reserve: [0x00000000bf000000-0x00000000bfffffff] memblock_alloc_range_nid+0xd0/0x150",
        "[    0.000000] memblock_phys_free: [0x00000000bf800000-0x00000000bfffffff] foo+0x1/0x2",
        "[    0.000000] crashkernel reserved: 0x00000000af000000 - 0x00000000bf000000 (256 MB)",
        "[    0.000000] memblock_reserve: [0x0000000000200000-0x00000000002fffff] later+0x1/0x2",
    ])
    m = parse_boot_log(text, source="t.log")
    assert [(s.start, s.end, s.name) for s in m.memmap.reserved] == [
        (0x1000000, 0x3C00000, "memblock: setup_arch"),
        (0xBF000000, 0xBF800000, "memblock: memblock_alloc_range_nid"),
    ]
    assert spans(m.memmap.ram) == [(0x0, 0x9F000), (0x100000, 0xC0000000)]


def test_sev_guest_and_prefixes():
    text = "\n".join([
        "<6>[    0.000000] Linux version 6.8.0-45-generic (buildd@lcy02-amd64-075) (x86_64-linux-gnu-gcc-13)",
        "<6>[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x000000007fffffff] usable",
        "<6>[    0.000000] Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP",
        "<6>[    0.000000] SWIOTLB bounce buffer size adjusted to 123MB",
    ])
    m = parse_boot_log(text)
    assert m.mem_encrypt == "sev"
    assert m.swiotlb_size == 123 << 20
    assert m.arch == "x86_64"


def test_binary_data_is_rejected_with_its_line():
    with pytest.raises(InputError) as e:
        parse_boot_log("Linux version 6.1.0\nabc\x00def\n", source="dump.bin")
    assert str(e.value) == "dump.bin:2: binary data (NUL byte): expected the text of a kernel log (dmesg, journalctl -k)"


def test_log_without_a_memory_map_names_what_was_expected():
    with pytest.raises(InputError) as e:
        parse_boot_log("[    1.000000] usb 1-1: new high-speed USB device\n", source="late.log")
    msg = str(e.value)
    assert msg.startswith("late.log:1: no memory map in this log: expected the firmware map ('BIOS-e820:")
    assert "Early memory node ranges" in msg


def test_malformed_memory_map_line_names_the_line():
    text = "Linux version 6.1.0-57-amd64\nBIOS-e820: [mem 0x0000000000100000-0x00000000zzzz] usable\n"
    with pytest.raises(InputError) as e:
        parse_boot_log(text, source="bad.log")
    assert str(e.value).startswith("bad.log:2: unreadable E820 entry ")


@pytest.mark.parametrize("line,expected", [
    ("  node   0: [mem 0x0000000000001000-" + "1" * 400 + "]",
     "0x11111111111111111111… does not fit in 64 bits: expected a physical address as the kernel prints it"),
    ("BIOS-e820: [mem 0x0000000000100000-0x10000000000000000] usable",
     "0x10000000000000000 does not fit in 64 bits: expected a physical address as the kernel prints it"),
    ("cma: Reserved 99999999999999999 MiB at 0x0000000100000000",
     "99999999999999999 MiB does not fit in 64 bits of bytes"),
    # past 4,300 decimal digits int() itself refuses (ValueError) unless the width is checked first
    ("cma: Reserved " + "9" * 5000 + " MiB at 0x0000000100000000",
     "99999999999999999999… MiB does not fit in 64 bits of bytes"),
    ("  node " + "1" * 5000 + ": [mem 0x0000000000001000-0x000000000009efff]",
     "11111111111111111111… does not fit in 64 bits"),
])
def test_numbers_past_64_bits_are_input_errors_with_their_line(line, expected):
    # the kernel prints 64-bit values; a wider one is a damaged log, and its size used to reach the
    # report (a float overflow while printing the RAM size)
    text = ("Linux version 7.3.4+deb13-amd64\nBIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
            "Early memory node ranges\n" + line + "\n")
    with pytest.raises(InputError) as e:
        parse_boot_log(text, source="wide.log")
    assert str(e.value) == f"wide.log:4: {expected}"


def test_read_boot_log_keeps_the_crash_lines():
    lg = read_boot_log((LOGS / "x86_64-7.2-journalctl.txt").read_text(encoding="utf-8"))
    assert lg.crash_lines == [
        "crashkernel reserved: 0x000000006f000000 - 0x000000007f000000 (256 MB)",
        "cma: Failed to reserve 1024 MiB",
        "cma: Reserved 512 MiB at 0x0000000100000000",
        "cma: Reserved 512 MiB at 0x0000000130200000",
        "crashkernel CMA reserved: 1024 MB in 2 ranges",
    ]


@pytest.mark.parametrize("prefix", [
    "[    0.000000] ",
    "[    0.000000] [    T0] ",
    "kernel: ",
    "Nov 29 21:14:01 host kernel: ",
    "Nov 29 21:14:01.123456 host kernel: [    0.000000] ",
    "2026-11-29T21:14:01+0000 host kernel: ",
    "2026-11-29T21:14:01,123456+00:00 ",
    "[Sun Nov 29 21:14:01 2026] ",
    "kern  :info  : [    0.000000] ",
    "<6>",
])
def test_prefixes_are_stripped(prefix):
    lines = ["Linux version 6.12.1-amd64 (x86_64-linux-gnu-gcc-14)",
             "BIOS-e820: [mem 0x0000000000100000-0x000000007fffffff] usable",
             "Command line: root=/dev/sda1 crashkernel=256M"]
    m = parse_boot_log("\n".join("\x1b[32m" + prefix + line + "\x1b[0m\r" for line in lines))
    assert m.kernel == "6.12.1-amd64"
    assert m.cmdline == "root=/dev/sda1 crashkernel=256M"
    assert [(s.start, s.end) for s in m.memmap.ram] == [(0x100000, 0x80000000)]


def test_kernel_layout_facts_for_the_x86_image_model():
    text = (LOGS / "x86_64-6.1-dmesg-notime.txt").read_text()
    m = parse_boot_log(text)
    assert m.boot_facts["kernel_parts"] == {"kernel code": 14343 << 10, "rwdata": 2338 << 10, "rodata": 9132 << 10,
                                            "init": 2824 << 10, "bss": 17344 << 10}
    assert "kernel_rodata_span" not in m.boot_facts
    # mark_rodata_ro() prints it late in boot: _text … the 2 MiB-aligned end of rodata
    m = parse_boot_log(text + "Write protecting the kernel read-only data: 26624k\n")
    assert m.boot_facts["kernel_rodata_span"] == 26 << 20


def test_relocated_initrd_is_where_the_kernel_moved_it():
    """x86 relocate_initrd(): qemu put the initrd above mem=1G; the kernel copies it to the top of
    usable RAM, reserves it page-aligned and frees the old place (a recorded qemu boot)."""
    from conftest import load_jsonl_gz

    boots = load_jsonl_gz(DATA / "boots" / "qemu-boots.jsonl.gz")
    b = next(b for b in boots if b["arch"] == "x86_64" and b["id"] == "memlow-256M@6.12")
    m = parse_boot_log(b["boot_log"])
    assert "Allocated new RAMDISK: [mem 0x3ff05000-0x3fffff6e]" in b["boot_log"]
    assert [s for s in m.memmap.reserved if s.name == "initrd"] == [Span(0x3FF05000, 0x40000000, "initrd")]
