"""reserve() on s390x: arch/s390/kernel/setup.c."""

from __future__ import annotations

from simhelp import G, M, machine, regions, run


def test_s390_top_down_removes_the_region_from_memblock():
    m = machine([(0, 4 * G)], arch="s390x")
    _, res = run("crashkernel=262145K", m, "6.12", "s390x")  # rounded up to 257 MiB
    assert regions(res) == [("crashkernel", 4 * G - 257 * M, 4 * G)]
    assert res.messages[0].text == "setup: Reserving 257MB of memory at 3839MB for crashkernel (System RAM: 3839MB)"
    assert res.memblock.memory[-1].end == 4 * G - 257 * M
