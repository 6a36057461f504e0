"""The /proc/iomem reader against real captures (tests/data/iomem/PROVENANCE.md) and broken inputs."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DATA, ROOT, load_jsonl_gz
from crashplan.errors import InputError
from crashplan.memmap.iomem import NOT_ROOT_MESSAGE, addresses_hidden, iter_iomem, parse_iomem
from crashplan.memmap.model import Span

IOMEM = DATA / "iomem"
CAPTURES = sorted(p.name for p in IOMEM.glob("*.txt"))
CONSOLE = "arm64-tablet-t606-console.txt"  # pasted with the shell prompt around it
ORACLE = load_jsonl_gz(IOMEM / "oracle-boots.jsonl.gz")


def text(name: str) -> str:
    return (IOMEM / name).read_text(encoding="utf-8")


def arch_of(name: str) -> str:
    return name.split("-")[0]


def parse(name: str, **kw):  # type: ignore[no-untyped-def]
    return parse_iomem(text(name), source=name, arch=arch_of(name), **kw)


def without_prompt(t: str) -> str:
    return "\n".join(line for line in t.splitlines() if "Tab15Pro_NEU:/ #" not in line) + "\n"


# --- every real capture -------------------------------------------------------------------------


def test_all_captures_are_listed_in_provenance() -> None:
    listed = set(re.findall(r"^\| `([^`]+\.txt)` \|", (IOMEM / "PROVENANCE.md").read_text(), re.M))
    assert listed == set(CAPTURES)
    assert len(CAPTURES) == 19


@pytest.mark.parametrize("name", [n for n in CAPTURES if n != CONSOLE])
def test_every_capture_parses(name: str) -> None:
    m = parse(name)
    assert m.ram and m.layout_known and m.source == name
    # memblock regions: sorted, disjoint, page aligned
    for a, b in zip(m.ram, m.ram[1:]):
        assert a.end < b.start
    assert all(s.start % 4096 == 0 and s.end % 4096 == 0 for s in m.ram)
    # every kernel-image span lies inside RAM
    for s in m.reserved:
        if s.name.startswith("Kernel "):
            assert any(r.contains(s.start, s.end) for r in m.ram), s


def test_pasted_console_prompt_is_an_error_at_line_1() -> None:
    with pytest.raises(InputError) as e:
        parse(CONSOLE)
    assert (e.value.path, e.value.line, e.value.column) == (CONSOLE, 1, 4)
    assert "expected '-' after the start address" in e.value.message
    m = parse_iomem(without_prompt(text(CONSOLE)), arch="arm64")
    # 80000000-fff6ffff and fff80000-27fffefff, split by the pmem namespace0.0 at fff70000
    assert m.ram == (Span(0x80000000, 0xFFF70000, "System RAM"), Span(0xFFF80000, 0x27FFFF000, "System RAM"))
    assert Span(0xFFF70000, 0xFFF80000, "namespace0.0") in m.other
    assert m.system_ram() == 8 * 2**30 - 0x10000 - 0x1000


# --- exact sizes, worked out by hand from the texts ---------------------------------------------


def test_laptop_with_a_1g_crash_kernel() -> None:
    m = parse("x86_64-laptop-crashkernel.txt")
    assert [(s.start, s.end) for s in m.ram] == [
        (0x1000, 0xA0000), (0x100000, 0x9BFF000), (0xA001000, 0xA200000), (0xA20F000, 0xE6058000),
        (0xE614C000, 0xE868B000), (0xE868C000, 0xE9CDF000), (0xED1FF000, 0xEE000000),
        (0x100000000, 0x3EE300000),
    ]
    assert m.crash == (Span(0x9C000000, 0xDC000000, "Crash kernel"),)
    assert m.crash[0].size == 1 << 30
    assert [s.name for s in m.reserved] == ["Kernel code", "Kernel rodata", "Kernel data", "Kernel bss"]
    assert m.reserved[0] == Span(0x15000000, 0x15B252C2, "Kernel code")  # inclusive end + 1
    assert m.nomap == ()
    assert Span(0x410000000, 0x10000000000, "PCI Bus 0000:00") in m.other


def test_s390_crash_kernel_is_top_level_and_still_ram() -> None:
    m = parse("s390x-guest-crashkernel.txt")
    assert m.ram == (Span(0, 0x80000000, "System RAM"),)  # 00000000-6fffffff + the crash area
    assert m.crash == (Span(0x70000000, 0x80000000, "Crash kernel"),)
    assert m.system_ram() == 2 << 30
    assert [s.name for s in m.reserved] == ["Kernel code", "Kernel data", "Kernel bss"]


def test_qemu_guest_first_page_and_partial_page_trimmed() -> None:
    m = parse("x86_64-qemu-vangen.txt")
    # 00001000-0009fbff keeps whole pages only; 00100000-bffdffff is page aligned already
    assert m.ram == (Span(0x1000, 0x9F000, "System RAM"), Span(0x100000, 0xBFFE0000, "System RAM"))
    assert m.system_ram() == 0x9E000 + 0xBFEE0000 == 3220692992


def test_unaligned_setup_data_pieces_merge_before_trimming() -> None:
    m = parse("x86_64-vmware-avml-5.txt")
    # nine touching System RAM entries 00100000-0a6f3017 … 0a703058-0e655fff are one memblock region
    assert m.ram[1] == Span(0x100000, 0xE656000, "System RAM")
    assert m.ram[-1] == Span(0x100000000, 0x340000000, "System RAM")
    assert len(m.ram) == 9
    # the unset 00000000-00000000 children under "Reserved" are not RAM and break nothing
    assert m.ram[0] == Span(0x1000, 0xA0000, "System RAM")


def test_released_crash_area_nested_as_system_ram_is_not_counted_twice() -> None:
    m = parse("x86_64-vmware-avml-3.txt")
    assert m.ram == (Span(0x10000, 0x9E000, "System RAM"), Span(0x100000, 0x7FEE0000, "System RAM"),
                     Span(0x7FF00000, 0x80000000, "System RAM"))
    assert all(s.name != "System RAM" for s in m.reserved)
    assert m.crash == ()


def test_server_with_fragmented_low_memory() -> None:
    m = parse("x86_64-server-avml-4.txt")
    assert [(s.start, s.end) for s in m.ram] == [
        (0x1000, 0xA0000), (0x100000, 0x54D94000), (0x54DA3000, 0x5A12E000), (0x6A1AF000, 0x6C660000),
        (0x6C692000, 0x6DE35000), (0x7B792000, 0x7B800000), (0x100000000, 0x6080000000),
    ]
    assert m.end_of_dram() == 0x6080000000
    assert m.system_ram() == sum(e - s for s, e in [
        (0x1000, 0xA0000), (0x100000, 0x54D94000), (0x54DA3000, 0x5A12E000), (0x6A1AF000, 0x6C660000),
        (0x6C692000, 0x6DE35000), (0x7B792000, 0x7B800000), (0x100000000, 0x6080000000)])


def test_arm64_nomap_regions_count_as_memory_only_for_arm64() -> None:
    t = text("arm64-xring-phone.txt")
    m = parse_iomem(t, arch="aarch64")  # any spelling normalize_arch accepts
    assert len(m.nomap) == 12
    assert m.nomap[0] == Span(0, 0x200000, "reserved")
    assert m.system_ram() == 16 << 30  # RAM and NOMAP banks tile 0-c0000000, 4-10G, 32-33G
    plain = parse_iomem(t)
    assert plain.nomap == ()
    assert Span(0, 0x200000, "reserved") in plain.other
    assert plain.system_ram() == m.system_ram() - sum(s.size for s in m.nomap)


def test_jetson_nomap_between_ram_banks() -> None:
    m = parse("arm64-jetson-orin.txt")
    assert [(s.start, s.end) for s in m.nomap] == [
        (0xFFFE0000, 0x100000000), (0x10189E3000, 0x1018B60000), (0x1018B6B000, 0x1018B6C000),
        (0x1026050000, 0x1027F90000), (0x102C600000, 0x102C800000), (0x102D700000, 0x102D800000),
        (0x1032000000, 0x1034000000),
    ]
    assert m.reserved[0] == Span(0xFBFE0000, 0xFFFE0000, "reserved")
    assert Span(0x524BD0000, 0x526960000, "Kernel code") in m.reserved


def test_rpi4_low_bank_starts_at_zero() -> None:
    m = parse("arm64-rpi4-excerpt.txt")
    assert m.ram == (Span(0, 0x3B400000, "System RAM"), Span(0x40000000, 0xFC000000, "System RAM"))
    assert m.start_of_dram() == 0 and m.system_ram() == 0x3B400000 + 0xBC000000


def test_ppc64_and_arm32_and_host() -> None:
    assert parse("ppc64le-pseries-qemu-excerpt.txt").ram == (Span(0, 0x80000000, "System RAM"),)
    arm = parse("arm-msm8916-jmr540.txt")
    assert arm.ram == (Span(0x80000000, 0x82A00000, "System RAM"), Span(0x87500000, 0x87A00000, "System RAM"),
                       Span(0x88000000, 0x90000000, "System RAM"))
    # the development host: present pages in its /proc/zoneinfo were 3998 + 782336 + 5505024
    assert parse("x86_64-microvm-host.txt").system_ram() == (3998 + 782336 + 5505024) * 4096


def test_64k_pages_trim_further() -> None:
    m = parse("x86_64-qemu-vangen.txt", page_size=65536)
    assert m.ram == (Span(0x10000, 0x90000, "System RAM"), Span(0x100000, 0xBFFE0000, "System RAM"))


# --- the oracle boots: what the kernel itself counted -------------------------------------------


@pytest.mark.parametrize("boot", ORACLE, ids=[b["id"] + "-" + b["arch"] for b in ORACLE])
def test_oracle_boot_iomem_matches_the_kernel(boot: dict) -> None:
    m = parse_iomem(boot["iomem"], source=boot["id"], arch=boot["arch"])
    lines = boot["boot_log_memory_lines"]
    # "Memory: availK/totalK": total is get_num_physpages(), i.e. memblock.memory in pages
    total_k = [int(x) for line in lines for x in re.findall(r"Memory: \d+K/(\d+)K", line)]
    assert len(total_k) == 1
    assert m.system_ram() == total_k[0] * 1024
    # x86 6.1 prints memblock_phys_mem_size() >> 20 itself
    for line in lines:
        found = re.search(r"System RAM: (\d+)MB", line)
        if found:
            assert m.system_ram() >> 20 == int(found.group(1))
    # the Crash kernel entries are exactly the classic reservations the oracle recorded
    classic = sorted((r["start"], r["end"]) for r in boot["reservations"] if r["kind"] != "cma")
    assert [(s.start, s.end) for s in m.crash] == classic
    # kexec_crash_size counts crashk_res only up to 6.4, crashk_res + crashk_low_res from 6.5 (§7.2)
    counted = [r for r in boot["reservations"] if r["kind"] == "crashkernel"
               or (r["kind"] == "crashkernel-low" and boot["kernel"] != "6.1.192")]
    assert sum(s.size for s in m.crash if (s.start, s.end) in {(r["start"], r["end"]) for r in counted}) == (
        boot["kexec_crash_size"] or 0)
    # MemTotal is what is left after reservations: never more than memblock memory
    assert boot["mem_total_kb"] * 1024 < m.system_ram()


def test_oracle_covers_both_arches_and_all_kernels() -> None:
    assert {(b["arch"], b["kernel"]) for b in ORACLE} == {
        ("x86_64", "6.1.192"), ("x86_64", "6.12.118"), ("x86_64", "7.2.13"), ("x86_64", "7.3.4"),
        ("arm64", "6.1.192"), ("arm64", "6.12.118"), ("arm64", "7.3.4"),
    }
    assert len(ORACLE) == 63


# --- broken input: one InputError with a place ----------------------------------------------------


def zeroed(t: str) -> str:
    return re.sub(r"[0-9a-f]+-[0-9a-f]+ :", lambda m: "00000000-00000000 :", t)


@pytest.mark.parametrize("name", ["x86_64-microvm-host.txt", "arm64-qemu-virt-1g.txt"])
def test_read_without_root(name: str) -> None:
    t = zeroed(text(name))
    assert addresses_hidden(t)
    assert not addresses_hidden(text(name))
    with pytest.raises(InputError) as e:
        parse_iomem(t, source="/proc/iomem")
    assert str(e.value) == f"/proc/iomem:1: {NOT_ROOT_MESSAGE}"


@pytest.mark.parametrize(
    ("data", "line", "column", "expected"),
    [
        ("", 1, None, "empty input"),
        ("   \n\n", 1, None, "empty input"),
        ("00100000-bfffffff : System RAM\n  0100", 2, 7, "expected '-' after the start address"),
        ("00100000-bfffffff : System RAM\n00000000-0000", 2, 14, "expected ' : ' and a name"),
        ("00100000-bfffffff : System RAM\n00000000-", 2, 10, "expected a hexadecimal end address"),
        ("00100000-bfffffff", 1, 18, "truncated"),
        ("hello world\n", 1, 1, "expected a hexadecimal start address"),
        ("00100000-bfffffff : System RAM\n\t01000000-01ffffff : Kernel code\n", 2, 1, "indentation must be spaces"),
        ("00100000-bfffffff : System RAM\n   01000000-01ffffff : Kernel code\n", 2, 1, "odd indentation (3 spaces)"),
        ("00100000-bfffffff : System RAM\n    01000000-01ffffff : Kernel code\n", 2, 1, "2 levels deeper"),
        ("  00100000-bfffffff : System RAM\n", 1, 1, "the first entry is indented"),
        ("bfffffff-00100000 : System RAM\n", 1, 10, "is above the end address"),
        ("00100000-1ffffffffffffffff : System RAM\n", 1, 10, "does not fit in 64 bits"),
        ("00100000-bfffffgf : System RAM\n", 1, 16, "expected ' : ' and a name"),
        ("0000-0cf7 : PCI Bus 0000:00\n0cf8-0cff : PCI conf1\n", 1, None, "no top-level 'System RAM'"),
        ("00100000-bfffffff : System RAM\x00\x00\x01", 1, 31, "control character '\\x00'"),
        (b"00100000-bfffffff : System RAM\n00000000-00000fff : R\xe9serv\xff\n".decode("utf-8", "surrogateescape"),
         2, 22, "a byte that is not UTF-8"),
    ],
)
def test_bad_input(data: str, line: int, column: int | None, expected: str) -> None:
    with pytest.raises(InputError) as e:
        parse_iomem(data, source="iomem.txt")
    assert (e.value.path, e.value.line, e.value.column) == ("iomem.txt", line, column)
    assert expected in e.value.message
    str(e.value).encode("ascii")  # printable on any terminal


def test_binary_garbage_is_one_input_error() -> None:
    blob = bytes(range(256)) * 64
    with pytest.raises(InputError) as e:
        parse_iomem(blob.decode("utf-8", "surrogateescape"), source="blob")
    assert e.value.line == 1 and e.value.column == 1


def test_unknown_arch_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown architecture 'vax'"):
        parse_iomem(text("x86_64-qemu-vangen.txt"), arch="vax")


def test_crlf_and_blank_lines_are_tolerated() -> None:
    t = text("x86_64-qemu-vangen.txt")
    assert parse_iomem(t.replace("\n", "\r\n") + "\n\n") == parse_iomem(t)


def test_deep_nesting_and_many_lines_are_linear() -> None:
    # 3,000 levels (beyond Python's recursion limit), one per line: legal, and no recursion anywhere
    depth = 3_000
    lines = ["00000000-ffffffff : System RAM"]
    lines += ["  " * d + f"{d:08x}-{d:08x} : child" for d in range(1, depth)]
    m = parse_iomem("\n".join(lines))
    assert len(m.reserved) == depth - 1
    assert [e.depth for e in iter_iomem("\n".join(lines[:4]))] == [0, 1, 2, 3]


def test_100k_line_synthetic_map() -> None:
    lines = []
    for i in range(50_000):
        base = i << 24
        lines.append(f"{base:08x}-{base + (1 << 23) - 1:08x} : System RAM")
        lines.append(f"  {base:08x}-{base + 0xfff:08x} : reserved")
    m = parse_iomem("\n".join(lines), arch="arm64")
    assert len(m.ram) == 50_000 and len(m.reserved) == 50_000
    assert m.system_ram() == 50_000 << 23


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from("0123456789abcdefx- :\n\t\r\x00\udc80SystemRAMKernel"), max_size=300))
@pytest.mark.property
def test_anything_is_a_map_or_one_input_error(data: str) -> None:
    try:
        m = parse_iomem(data, source="fuzz")
    except InputError as e:
        assert e.path == "fuzz"
        str(e).encode("ascii")
    else:
        assert m.ram


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([n for n in CAPTURES if n != CONSOLE]), st.integers(min_value=1, max_value=2000))
@pytest.mark.property
def test_truncated_captures_never_crash(name: str, cut: int) -> None:
    t = text(name)[:cut]
    try:
        parse_iomem(t, source=name, arch=arch_of(name))
    except InputError as e:
        assert e.path == name and e.line is not None


def test_no_yaml_or_rich_imported() -> None:
    import subprocess
    import sys

    code = ("import sys; from crashplan.memmap.iomem import parse_iomem; "
            "parse_iomem(open(sys.argv[1]).read()); print(sorted(m for m in ('yaml', 'rich', 'click') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(IOMEM / "x86_64-qemu-vangen.txt")],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_parse_iomem_leaves_the_garbage_collector_as_it_found_it():
    # parsing pauses the cyclic collector (benchmarks/run.py: 13x -> 10.5x for 10x the lines)
    import gc

    from crashplan.errors import InputError
    from crashplan.memmap.iomem import parse_iomem

    assert gc.isenabled()
    parse_iomem("00000000-0009ffff : System RAM\n", arch="x86_64")
    assert gc.isenabled()
    with pytest.raises(InputError):
        parse_iomem("garbage\n", arch="x86_64")
    assert gc.isenabled()
    gc.disable()
    try:
        parse_iomem("00000000-0009ffff : System RAM\n", arch="x86_64")
        assert not gc.isenabled()
    finally:
        gc.enable()
