"""One test per behavioural switch of the version matrix (kernel-semantics §8.2).

Each test shows the release just before and the release of the change; the switch table itself is
``crashplan.kernel.versions.SWITCHES``.  Switches that only show in the reservation (search bases,
alignment, the low region) are also exercised by the simulator's tests.
"""

from __future__ import annotations

import pytest

from crashplan.kernel import (
    cma_supported,
    crash_res_in_iomem,
    evaluate,
    flow_for,
    high_low_supported,
    kexec_crash_size,
    parse_release,
)
from crashplan.kernel.versions import SWITCHES

G = 1 << 30
M = 1 << 20


def ev(cmdline, kernel, arch="x86_64", ram=16 * G):
    return evaluate(cmdline, system_ram=ram, kernel=kernel, arch=arch)


def test_every_switch_is_tested_here():
    tested = {name[len("test_switch_"):] for name in globals() if name.startswith("test_switch_")}
    assert tested == set(SWITCHES)


def test_switch_roundup_128m():
    # 3993 MiB of memblock RAM: 5.19 matches [1G,4G) -> 192M; 6.0 rounds up to 4096M -> [4G,64G) -> 256M
    line = "crashkernel=1G-4G:192M,4G-64G:256M"
    assert ev(line, "5.19", ram=3993 * M).crash_size == 192 * M
    assert ev(line, "6.0", ram=3993 * M).crash_size == 256 * M


def test_switch_enoent():
    assert ev("quiet", "5.15", arch="s390x").ret == -22
    assert ev("quiet", "5.19", arch="s390x").ret == -2
    assert ev("quiet", "6.1", arch="s390x").ret == -2


def test_switch_arm64_high_low():
    # 5.15-5.18: ,high is skipped by the plain lookup and ignored; 5.19: read when no plain token exists
    assert ev("crashkernel=512M,high", "5.18", arch="arm64").accepted is False
    o = ev("crashkernel=512M,high", "5.19", arch="arm64")
    assert (o.accepted, o.high, o.crash_size, o.low_size) == (True, True, 512 * M, 0)


def test_switch_arm64_fallback():
    # 6.1: ,high without ,low gets no low region; 6.2: the 128M default
    assert ev("crashkernel=512M,high", "6.1", arch="arm64").low_size == 0
    assert ev("crashkernel=512M,high", "6.2", arch="arm64").low_size == 128 * M


def test_switch_riscv_high_low():
    assert ev("crashkernel=512M,high", "6.5", arch="riscv64").accepted is False
    o = ev("crashkernel=512M,high", "6.6", arch="riscv64")
    assert (o.accepted, o.high, o.low_size) == (True, True, 128 * M)


def test_switch_loongarch_kdump():
    assert flow_for("loongarch64", parse_release("6.2")) == "none"
    assert ev("crashkernel=256M", "6.2", arch="loongarch64").accepted is False
    assert ev("crashkernel=256M", "6.3", arch="loongarch64").accepted is True


def test_switch_generic_x86_arm64_riscv():
    # an invalid plain token: 6.6 x86 falls through to ,high, 6.7 generic gives up
    line = "crashkernel=foo crashkernel=512M,high"
    old, new = ev(line, "6.6"), ev(line, "6.7")
    assert (old.accepted, old.high, old.flow) == (True, True, "x86-legacy")
    assert (new.accepted, new.ret, new.flow) == (False, -22, "generic")
    for arch in ("arm64", "riscv64"):
        assert flow_for(arch, parse_release("6.7")) == "generic"


def test_switch_generic_loongarch():
    assert ev("crashkernel=512M,high", "6.7", arch="loongarch64").accepted is False
    o = ev("crashkernel=512M,high", "6.8", arch="loongarch64")
    assert (o.accepted, o.high, o.low_size) == (True, True, 128 * M)


def test_switch_prefix_messages():
    line = "crashkernel=0-:A"
    assert [m.text for m in ev(line, "6.8", arch="s390x").messages] == ["Memory value expected"]
    assert [m.text for m in ev(line, "6.9", arch="s390x").messages] == ["crashkernel: Memory value expected"]


def test_switch_typo_fixed():
    line = "crashkernel=2G-:512M@"
    assert ev(line, "6.8").messages[-1].text == "Memory value expected after '@'"
    assert ev(line, "6.12").messages[-1].text == "crahskernel: Memory value expected after '@'"
    assert ev(line, "6.16").messages[-1].text == "crashkernel: Memory value expected after '@'"


def test_switch_high_fallback_guard():
    # the guard lives in the reservation (LOW_MAX == HIGH_MAX, x86_32); here: the release it is on from
    assert not SWITCHES["high_fallback_guard"].on(parse_release("6.10"))
    assert SWITCHES["high_fallback_guard"].on(parse_release("6.11"))


def test_switch_size_ge_ram():
    assert (ev("crashkernel=16G", "6.10").ret, ev("crashkernel=16G", "6.10").accepted) == (0, True)
    o = ev("crashkernel=16G", "6.11")
    assert (o.ret, o.accepted, o.messages) == (-22, False, ())


def test_switch_ppc_generic():
    assert flow_for("ppc64le", parse_release("6.14")) == "plain"
    assert flow_for("ppc64le", parse_release("6.15")) == "generic"
    assert crash_res_in_iomem("ppc64le", "6.14") is False
    assert crash_res_in_iomem("ppc64le", "6.15") is True
    assert crash_res_in_iomem("ppc64le", "6.18") is False


def test_switch_cma_suffix():
    line = "crashkernel=256M crashkernel=1G,cma"
    old = ev(line, "6.16", arch="arm64")
    assert (old.accepted, [m.text for m in old.messages]) == (False, ["crashkernel: unrecognized char: ,"])
    new = ev(line, "6.17", arch="arm64")
    assert (new.accepted, new.crash_size, new.cma_size) == (True, 256 * M, None)


def test_switch_cma_x86():
    line = "crashkernel=256M crashkernel=1G,cma"
    assert ev(line, "6.16").accepted is False
    o = ev(line, "6.17")
    assert (o.accepted, o.crash_size, o.cma_size) == (True, 256 * M, G)
    assert cma_supported("x86_64", "6.17") and not cma_supported("x86_64", "6.16")


def test_switch_cma_ppc():
    line = "crashkernel=1G,cma"
    assert ev(line, "6.18", arch="ppc64le").cma_size is None
    o = ev(line, "6.19", arch="ppc64le")
    assert (o.accepted, o.cma_size) == (False, G)  # powerpc records the CMA size even without a plain token


def test_switch_memparse_saturates():
    assert ev("crashkernel=17E", "7.1", arch="s390x").crash_size == 1 << 60
    assert ev("crashkernel=17E", "7.2", arch="s390x").crash_size == (1 << 64) - 1
    assert ev("crashkernel=99999999999999999999", "7.1", arch="s390x").crash_size == 7766279631452241919
    # a bare suffix: a valid 0 before 7.2, "memory value expected" from 7.2
    assert ev("crashkernel=M", "7.1", arch="s390x").messages == ()
    assert [m.text for m in ev("crashkernel=M", "7.2", arch="s390x").messages] == [
        "crashkernel: memory value expected"]


def test_switch_cma_arm64_riscv():
    line = "crashkernel=256M crashkernel=1G,cma"
    assert ev(line, "7.2", arch="arm64").cma_size is None
    assert ev(line, "7.3", arch="arm64").cma_size == G
    assert ev(line, "7.3", arch="riscv64").cma_size == G
    assert high_low_supported("arm64", "7.3")


def test_switch_kexec_crash_size_low():
    assert kexec_crash_size(512 * M, 256 * M, "6.4") == 512 * M
    assert kexec_crash_size(512 * M, 256 * M, "6.5") == 768 * M


@pytest.mark.parametrize("text,series,distro", [
    ("6.12", (6, 12), None),
    ("6.12.107", (6, 12), None),
    ("6.12.0-55.el10.x86_64", (6, 12), "rhel"),
    ("7.2.13+deb14-amd64", (7, 2), "debian"),
    ("6.1.0-57-amd64", (6, 1), "debian"),
    ("6.8.0-45-generic", (6, 8), "ubuntu"),
])
def test_release_strings(text, series, distro):
    r = parse_release(text)
    assert (r.series, r.distro) == (series, distro)


@pytest.mark.parametrize("bad", ["", "six", "3.10.0-1160.el7.x86_64", "4.13", "5.20", "7.4", "6.20", "5"])
def test_release_strings_rejected(bad):
    with pytest.raises(ValueError):
        parse_release(bad)


# ---- 4.14 … 5.14: these switches act in the reservation (crashplan.simulate) --------------------


def _reserve(cmdline, kernel, arch, ram, reserved=(), **kw):
    from crashplan.memmap.model import Machine, MemoryMap, Span
    from crashplan.simulate import reserve

    m = Machine(memmap=MemoryMap(ram=tuple(Span(a, b, "System RAM") for a, b in ram),
                                 reserved=tuple(Span(a, b, n) for a, b, n in reserved)),
                arch=arch, kaslr=False, **kw)
    o = evaluate(cmdline, system_ram=m.ram_size(), kernel=kernel, arch=arch)
    return reserve(o, m, cmdline=cmdline)


# x86: 2 GiB below 4 GiB, 4 GiB above, the image at 16 MiB and NODE_DATA named
X86_RAM = [(0x1000, 0x9F000), (0x100000, 0x80000000), (0x100000000, 0x200000000)]
X86_RES = [(0x1000000, 0x3C00000, "Kernel code"), (0x1FFFD0000, 0x200000000, "NODE_DATA(0)")]


def _x86(cmdline, kernel, ram=X86_RAM):
    res = _reserve(cmdline, kernel, "x86_64", ram, X86_RES)
    return [(r.kind, r.start, r.end) for r in res.regions], [m.text for m in res.messages]


def test_switch_x86_low_4g():
    # 5.1: CRASH_ADDR_LOW_MAX is 896 MiB, so 256M goes to the top 16M-aligned block below it
    regions, _ = _x86("crashkernel=256M", "5.1")
    assert regions == [("crashkernel", 0x28000000, 0x38000000)]
    regions, _ = _x86("crashkernel=256M", "5.2")
    assert regions == [("crashkernel", 0x70000000, 0x80000000)]


def test_switch_x86_high_fallback():
    # 1G does not fit below 896 MiB: 5.1 gives up, 5.2 searches below 4 GiB (1G fits there)
    regions, msgs = _x86("crashkernel=1G", "5.1")
    assert regions == [] and msgs == ["crashkernel reservation failed - No suitable area found."]
    # 3G fits nowhere below 4 GiB: 5.2 falls back above 4 GiB and adds the 256M low region
    regions, _ = _x86("crashkernel=3G", "5.2")
    assert regions[0] == ("crashkernel", 0x13F000000, 0x1FF000000) and regions[1][0] == "crashkernel-low"


def test_switch_x86_low_ram_limit():
    # the figure reserve_crashkernel_low() passes and logs: 5.9 the RAM below 4 GiB (2047 MiB here),
    # 5.10 min(RAM, 4 GiB).  The ,low parse is a suffix parse, which never reads it: sizes are equal.
    line = "crashkernel=1G,high crashkernel=64M,low"
    regions9, msgs9 = _x86(line, "5.9")
    regions10, msgs10 = _x86(line, "5.10")
    assert regions9 == regions10 and regions9[1][2] - regions9[1][1] == 64 * M
    assert msgs9[0] == "Reserving 64MB of low memory at 1984MB for crashkernel (System low RAM: 2047MB)"
    assert msgs10[0] == "Reserving 64MB of low memory at 1984MB for crashkernel (low RAM limit: 4096MB)"


def test_switch_arm64_dma_zone_limit():
    # a 1 GiB ZONE_DMA (Raspberry Pi 4 style dma-ranges): 5.10 honours it, 5.9 uses the 32-bit window;
    # 5.9 also reserves before the page tables are allocated at the top of RAM
    ram = [(0x40000000, 0x140000000)]
    new = _reserve("crashkernel=256M", "5.10", "arm64", ram, dma_limit=0x80000000)
    old = _reserve("crashkernel=256M", "5.9", "arm64", ram, dma_limit=0x80000000)
    assert new.regions[0].end <= 0x80000000 and old.regions[0].end == 0x100000000
    assert old.low_max == 0x100000000 and new.low_max == 0x80000000


def test_switch_arm64_fixed_alloc():
    ram = [(0x40000000, 0x140000000)]
    old = _reserve("crashkernel=256M@0x50100000", "5.14", "arm64", ram)
    assert [m.text for m in old.messages] == ["cannot reserve crashkernel: base address is not 2MB aligned"]
    new = _reserve("crashkernel=256M@0x50100000", "5.15", "arm64", ram)
    assert [m.text for m in new.messages] == ["cannot allocate crashkernel (size:0x10000000)"]
    off = _reserve("crashkernel=256M@0x20000000", "5.14", "arm64", ram)
    assert [m.text for m in off.messages] == ["cannot reserve crashkernel: region is not memory"]


def test_switch_riscv_kdump():
    assert flow_for("riscv64", parse_release("5.12")) == "none"
    assert ev("crashkernel=256M", "5.12", arch="riscv64").accepted is False
    assert ev("crashkernel=256M", "5.13", arch="riscv64").accepted is True


def test_switch_zero_size_message():
    # a range with no match: 0 bytes, ret 0; 4.14 says nothing, 4.19 logs it
    line = "crashkernel=1G-2G:128M"
    assert ev(line, "4.14", ram=8 * G).messages == ()
    assert ev(line, "4.19", ram=8 * G).messages == (("info", "crashkernel size resulted in zero bytes"),)


def _ppc(kernel, rma):
    res = _reserve("crashkernel=256M", kernel, "ppc64le", [(0, 8 * G)], boot_facts={"rma_size": rma, "lpar": True})
    return res.regions[0].start if res.regions else None


def test_switch_ppc_rma_cap():
    # a 4 GiB RMA: 6.0 goes to 2 GiB, 6.1 stops at 512 MiB; 4.14 (late stable) like 6.0
    assert _ppc("4.14", 4 * G) == 2 * G
    assert _ppc("6.0", 4 * G) == 2 * G
    assert _ppc("6.1", 4 * G) == 512 * M


def test_switch_riscv_low_first():
    # 2 GiB below 4 GiB and 4 GiB above: 5.18 takes the top of DRAM, 5.19 the top below 4 GiB
    ram = [(0x80000000, 0x180000000)]
    old = _reserve("crashkernel=256M", "5.18", "riscv64", ram)
    new = _reserve("crashkernel=256M", "5.19", "riscv64", ram)
    assert old.regions[0].end == 0x180000000 and new.regions[0].end == 0x100000000
    # and before 5.15 an @offset is checked as arm64 did, with riscv's own messages
    odd = _reserve("crashkernel=256M@0x90100000", "5.14", "riscv64", ram)
    assert [m.text for m in odd.messages] == ["crashkernel: requested region is misaligned"]


# ---- simulator switches: where memblock stands and what the reservation logs ----------------------
# arm64: 2 GiB of RAM at 1 GiB, all of it below the 32-bit limit
ARM64_RAM = [(0x40000000, 0xC0000000)]


def test_switch_arm64_sparse_after_crash():
    # before 7.0 sparse_init's memmap buffer (2 MiB per 128 MiB section: 32 MiB here) sits at the top of
    # RAM when the crash region is placed, so the region lands below it; from 7.0 it comes later
    old = _reserve("crashkernel=256M", "6.12", "arm64", ARM64_RAM)
    new = _reserve("crashkernel=256M", "7.0", "arm64", ARM64_RAM)
    assert any(s.name.startswith("memmap buffer") for s in old.memblock.modelled)
    assert not any(s.name.startswith("memmap buffer") for s in new.memblock.modelled)
    assert new.regions[0].end - old.regions[0].end >= 32 * M


def test_switch_arm64_iomem_packed_top():
    # /proc/iomem's memblock dump: 2 MiB at the top of RAM, then 12 MiB lower the 32 MiB memmap buffer.
    # 5.10 leaves such a hole below the top allocations: the buffer belongs to the same run, which is
    # kept; from 5.15 the allocations are packed, so a 12 MiB hole ends the run and the top is modelled
    top = (0xBFE00000, 0xC0000000, "reserved")
    buf = (0xBF200000 - 32 * M, 0xBF200000, "reserved")
    old = _reserve("crashkernel=256M", "5.10", "arm64", ARM64_RAM, (buf, top))
    new = _reserve("crashkernel=256M", "5.15", "arm64", ARM64_RAM, (buf, top))
    modelled = "the allocations at the top of RAM are modelled"
    assert modelled not in old.notes and modelled in new.notes


def _cma_line(kernel):
    res = _reserve("crashkernel=256M crashkernel=256M,cma", kernel, "x86_64", X86_RAM, X86_RES)
    return next(m.text for m in res.messages if m.text.startswith("cma: Reserved"))


def test_switch_cma_msg_node():
    # x86 reserves ,cma from 6.17; SUSE carries it back to SLES 15 SP7 (6.4) and SLES 16.0 (6.12)
    assert _cma_line("6.12.0-160000.5-default").endswith(" on node -1")
    assert not _cma_line("6.4.0-150700.51-default").endswith(" on node -1")


def test_switch_cma_msg_no_node():
    assert _cma_line("6.12.0-160000.5-default").endswith(" on node -1")
    assert _cma_line("6.17").startswith("cma: Reserved 256 MiB at 0x") and not _cma_line("6.17").endswith("-1")


def test_switch_ppc_crash_res_hidden():
    # 6.15-6.17: the generic code inserts "Crash kernel" into /proc/iomem; 6.18: powerpc's hook says no
    assert crash_res_in_iomem("ppc64le", "6.17") is True
    assert crash_res_in_iomem("ppc64le", "6.18") is False
    assert crash_res_in_iomem("x86_64", "6.18") is True


def test_switch_parse_checks_all():
    # a zero size on the plain flow (s390x): accepted-but-empty before 6.7, -EINVAL from 6.7
    assert ev("crashkernel=0", "6.6", arch="s390x").ret == 0
    assert ev("crashkernel=0", "6.7", arch="s390x").ret == -22
    # the "any" architecture replays the 6.7+ parse_crashkernel() without pointers from 6.7
    assert ev("crashkernel=0", "6.6", arch="any").flow == "fn:parse_crashkernel"
    assert ev("crashkernel=0", "6.7", arch="any").flow == "none"


def test_switch_initramfs_options():
    from crashplan.sizing.inputs import _rootfs_cap

    assert _rootfs_cap("initramfs_options=size=90%", "6.17")[0] is None
    assert _rootfs_cap("initramfs_options=size=90%", "6.18") == (0.9, None)
