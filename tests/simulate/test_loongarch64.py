"""reserve() on loongarch64: arch/loongarch/kernel/setup.c 6.3–6.7, the generic code from 6.8."""

from __future__ import annotations

from simhelp import G, M, codes, machine, regions, run

# RAM from 2 MiB to 8 GiB, nothing reserved: the highest 2 MiB-aligned fit below 4 GiB is 4 GiB − size
LOONG = machine([(0x200000, 8 * G)], arch="loongarch64")


def test_loongarch_6_6_reserves_below_4g_without_a_message_and_6_8_logs_the_generic_line():
    _, old = run("crashkernel=256M", LOONG, "6.6", "loongarch64")
    assert old.flow == "plain"
    assert regions(old) == [("crashkernel", 4 * G - 256 * M, 4 * G)] and old.messages == ()
    _, new = run("crashkernel=256M", LOONG, "6.8", "loongarch64")
    assert new.flow == "generic"
    assert regions(new) == [("crashkernel", 4 * G - 256 * M, 4 * G)]
    assert [m.text for m in new.messages] == ["crashkernel reserved: 0x00000000f0000000 - 0x0000000100000000 (256 MB)"]


def test_loongarch_6_6_fixed_offset_outside_ram_and_too_large_below_4g():
    _, off = run("crashkernel=256M@16G", LOONG, "6.6", "loongarch64")
    assert regions(off) == [] and [m.text for m in off.messages] == ["Invalid memory region reserved for crash kernel"]
    assert codes(off)[0] == "CK302"
    # 5 GiB fits in 16 GiB of RAM but not below 4 GiB: 6.6 gives up, 6.8's generic code falls back above
    # it with the default 128 MiB low region (CRASH_ADDR_HIGH_MAX is the end of DRAM)
    big_ram = machine([(0x200000, 16 * G)], arch="loongarch64")
    _, big = run("crashkernel=5G", big_ram, "6.6", "loongarch64")
    assert regions(big) == [] and codes(big)[0] == "CK301"
    _, high = run("crashkernel=5G", big_ram, "6.8", "loongarch64")
    assert regions(high) == [("crashkernel", 11 * G, 16 * G), ("crashkernel-low", 4 * G - 128 * M, 4 * G)]


def test_before_6_3_loongarch_reserves_nothing():
    o, res = run("crashkernel=256M", LOONG, "6.1", "loongarch64")
    assert o.flow == "none" and not o.accepted and regions(res) == []
