"""kernel/crash_reserve.c: reserve_crashkernel_cma."""

from __future__ import annotations

from simhelp import G, M, codes, machine, run


def test_cma_halves_keeps_the_request_and_stops_at_four_ranges():
    # above 4 GiB: five free 300 MiB blocks separated by reservations
    ram = [(0x100000, 0x20000000), (0x100000000, 0x100000000 + 5 * 320 * M)]
    res = [(0x100000000 + i * 320 * M + 300 * M, 0x100000000 + (i + 1) * 320 * M, f"r{i}") for i in range(5)]
    m = machine(ram, res, arch="x86_64", kaslr=False)
    _, out = run("crashkernel=128M crashkernel=2G,cma", m, "7.2", "x86_64")
    texts = [x.text for x in out.messages]
    assert texts[1:4] == ["cma: Failed to reserve 2048 MiB", "cma: Failed to reserve 1024 MiB",
                          "cma: Failed to reserve 512 MiB"]
    assert texts[-1] == "crashkernel CMA reservation failed: 2048 MB requested, 1024 MB reserved in 4 ranges"
    cma = [r for r in out.regions if r.kind == "cma"]
    assert [(r.start - 0x100000000) // M for r in cma] == [0, 320, 640, 960]
    assert all(r.size == 256 * M for r in cma)
    assert out.cma == G
    assert "CK307" in codes(out)
