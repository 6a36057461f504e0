"""reserve() on x86_64: arch/x86/kernel/setup.c up to 6.6, the generic code from 6.7."""

from __future__ import annotations

from simhelp import X86, G, M, codes, machine, regions, run

from crashplan.simulate import default_low_size


def test_x86_fixed_offset_alignment_1m_before_6_7_and_16m_after():
    _, old = run("crashkernel=128M@0x21100000", X86, "6.1", "x86_64")
    assert regions(old) == [("crashkernel", 0x21100000, 0x29100000)]
    assert old.messages[-1].text == "Reserving 128MB of memory at 529MB for crashkernel (System RAM: 6143MB)"
    _, new = run("crashkernel=128M@0x21100000", X86, "6.12", "x86_64")
    assert regions(new) == []
    assert [m.text for m in new.messages] == ["crashkernel reservation failed - memory is in use."]
    assert codes(new)[0] == "CK303"


def test_x86_fixed_offset_over_the_kernel_names_it():
    _, res = run("crashkernel=256M@16M", X86, "7.2", "x86_64")
    assert res.problems[0].code == "CK302"
    assert "Kernel code" in res.problems[0].text


def test_x86_plain_fallback_low_region_ignores_low_token_on_generic_but_not_before():
    cmd = "crashkernel=3G crashkernel=0,low"
    _, old = run(cmd, X86, "6.1", "x86_64")
    assert [r.kind for r in old.regions] == ["crashkernel"]
    _, new = run(cmd, X86, "6.12", "x86_64")
    assert [r.kind for r in new.regions] == ["crashkernel", "crashkernel-low"]
    assert new.regions[1].size == 256 * M
    assert "CK305" in codes(new)
    assert new.lost == 3 * G + 256 * M


def test_sev_guest_grows_the_default_low_region():
    sev = machine([(0x100000, 0x80000000), (0x100000000, 0x1080000000)], arch="x86_64", mem_encrypt="sev")
    # 6% of ~64 GiB is over 1 GiB: swiotlb is clamped to 1 GiB, the low region is 1 GiB + 8 MiB
    assert default_low_size(sev, "x86_64") == G + 8 * M
    assert default_low_size(sev, "x86_64", "swiotlb=65536") == 256 * M  # swiotlb= wins: 128 MiB + 8 < 256
    assert default_low_size(X86, "x86_64", "swiotlb=262144,force") == 512 * M + 8 * M


# -- NODE_DATA where the source does not show it ---------------------------------------------------


def _without_node_data(log: str) -> str:
    return "".join(line for line in log.splitlines(keepends=True) if "NODE_DATA" not in line)


def test_nokaslr_node_data_is_modelled_at_the_top_of_ram_not_below_the_image():
    """``alloc_node_data`` → ``memblock_phys_alloc_try_nid`` runs top-down (``numa_init`` resets memblock
    with ``memblock_set_bottom_up(false)``) over node 0, which ``dummy_numa_init`` spans over all RAM:
    ``NODE_DATA`` is at the top of RAM whether or not KASLR moved the image (Debian 5.10.262 and 6.1.192
    ``arch/x86/mm/numa.c``, 6.12.118 ``mm/numa.c`` and ``mm/numa_memblks.c``; the order in
    ``arch/x86/kernel/setup.c`` ``setup_arch``).  A ``,high`` region is searched from the top, so it
    goes one 16 MiB step below it."""
    from crashplan.kernel import parse_release
    from crashplan.simulate import early_allocations

    top = 0x200000000
    m = machine([(0x1000, 0x9F000), (0x100000, 0x80000000), (0x100000000, top)], arch="x86_64", kaslr=False)
    spans, notes = early_allocations(m, "x86_64", parse_release("6.1"), m.memmap.ram, m.memmap.reserved)
    node = [s for s in spans if s.name.startswith("NODE_DATA")]
    assert [(s.start, s.end) for s in node] == [(top - 0x2D000, top)]
    assert "NODE_DATA is modelled at the top of RAM (the source does not show it)" in notes
    _, res = run("crashkernel=512M,high", m, "6.1", "x86_64")
    assert regions(res)[0] == ("crashkernel", top - 512 * M - 16 * M, top - 16 * M)


def test_recorded_nokaslr_boots_replay_exactly_from_logs_without_their_node_data_line():
    """Every recorded x86 boot without KASLR (tests/data/boots, Debian 5.10 … 7.3 under qemu), planned
    on its own log with the ``NODE_DATA(0) allocated`` line taken out: the modelled ``NODE_DATA`` at
    the top of RAM must put each region where the kernel did (``alloc_node_data``, top-down over node 0:
    Debian 5.10.262/6.1.192 ``arch/x86/mm/numa.c``, 6.12.118 ``mm/numa.c``)."""
    from conftest import DATA, load_jsonl_gz

    from crashplan.cmdline import split_params
    from crashplan.memmap.bootlog import parse_boot_log

    cases = [b for f in sorted((DATA / "boots").glob("*.jsonl.gz")) for b in load_jsonl_gz(f)
             if b["arch"] == "x86_64" and not b["qemu"]["kaslr"]]
    assert len(cases) >= 200
    wrong = []
    for case in cases:
        m = parse_boot_log(_without_node_data(case["boot_log"]), source=case["id"])
        assert m.kaslr is False and not any(s.name.startswith("NODE_DATA") for s in m.memmap.reserved)
        assert m.cmdline is not None
        cmdline = " ".join([m.cmdline[p.start:p.end] for p in split_params(m.cmdline) if p.name != "crashkernel"]
                           + [case["crashkernel"]])
        _, res = run(cmdline, m, m.kernel, "x86_64")
        want = [(r["kind"], r["start"], r["end"]) for r in case["reservations"]]
        if regions(res) != want:
            wrong.append(f"{case['id']}: {regions(res)} != {want}")
    assert not wrong, "; ".join(wrong)
