"""reserve() on ppc64le: arch/powerpc/kexec/core.c, the generic fixed base from 6.15."""

from __future__ import annotations

from simhelp import G, M, codes, machine, regions, run


def test_powerpc_fixed_base_and_overlap_with_the_kernel():
    m = machine([(0, 8 * G)], [(0, 40 * M, "Kernel code")], arch="ppc64le")
    _, res = run("crashkernel=512M", m, "6.12", "ppc64le")
    assert regions(res) == [("crashkernel", 512 * M, 1024 * M)]
    assert res.messages[0].text == "Reserving 512MB of memory at 512MB for crashkernel (System RAM: 8192MB)"
    assert "CK313" in codes(res)
    _, bad = run("crashkernel=512M@16M", m, "6.17", "ppc64le")
    assert regions(bad) == [] and bad.messages[0].text == "Crash kernel can not overlap current kernel"
