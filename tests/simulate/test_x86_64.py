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
