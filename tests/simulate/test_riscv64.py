"""reserve() on riscv64: arch/riscv/mm/init.c up to 6.6, the generic code from 6.7."""

from __future__ import annotations

from simhelp import machine, regions, run


def test_riscv_6_1_prefers_below_4g_then_anywhere():
    m = machine([(0x80000000, 0x180000000)], arch="riscv64")
    _, res = run("crashkernel=256M", m, "6.1", "riscv64")
    assert regions(res) == [("crashkernel", 0xF0000000, 0x100000000)]
    assert res.messages[0].text == "crashkernel: reserved 0x00000000f0000000 - 0x0000000100000000 (256 MB)"
