"""The sizing model against the kdump-lab measurements (/work docs kdump-lab.md) and its own rules.

The lab: Debian x86_64 7.3.4, bzImage init_size 65,331,200 B; initrd "small" 3,525,133 B packed /
7,767,988 B unpacked, "pad40" 45,481,776 / 49,711,148; 4G and 16G RAM; capture nr_cpus=1.  The classic
minimum was 96M (small) and 208M (pad40); the CMA plan's classic part loads at 72M and not at 68M (small),
loads at 112M and not at 96M (pad40).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from crashplan.sizing.model import SizingInputs, classic_budget, clean_size, cma_budget
from crashplan.sizing.segments import crash_segments, min_region, place_segments

MiB = 1 << 20
GiB = 1 << 30
INIT_SIZE = 65_331_200
SMALL = (3_525_133, 7_767_988)
PAD40 = (45_481_776, 49_711_148)
# Debian 7.3's kexec_file elfcorehdr with CONFIG_CRASH_HOTPLUG: (2 + NR_CPUS + CRASH_MAX_MEMORY_RANGES) phdrs
ELFCOREHDR = 64 + (2 + 8192 + 8192) * 56


def lab(initrd, ram, *, features=frozenset(), nr_cpus=1, **kw) -> SizingInputs:
    return SizingInputs(arch="x86_64", kernel="7.3.4", system_ram=ram, kernel_mem=INIT_SIZE, kernel_align=2 * MiB,
                        initrd_size=initrd[0], initrd_unpacked=initrd[1], elfcorehdr=ELFCOREHDR,
                        initrd_features=features, nr_cpus=nr_cpus, **kw)


@pytest.mark.parametrize("initrd,measured", [(SMALL, 96 * MiB), (PAD40, 208 * MiB)])
@pytest.mark.parametrize("ram", [4 * GiB, 16 * GiB])
@pytest.mark.parametrize("features", [frozenset(), frozenset({"busybox", "makedumpfile"})])
def test_classic_matches_the_lab(initrd, measured, ram, features):
    b = classic_budget(lab(initrd, ram, features=features))
    assert measured <= b.recommended <= measured * 5 // 4
    # and the model's own requirement stays above what failed 16M lower
    assert b.required > measured - 16 * MiB


def test_classic_numbers_and_binding_constraints():
    small = classic_budget(lab(SMALL, 4 * GiB, features=frozenset({"busybox"})))
    assert (small.binding, small.recommended) == ("run", 112 * MiB)
    pad = classic_budget(lab(PAD40, 4 * GiB))
    assert (pad.binding, pad.recommended) == ("rootfs cap", 232 * MiB)


def test_initramfs_options_90_percent():
    # lab (7.x): with initramfs_options=size=90% pad40 succeeds at 192M and runs out of memory at 176M
    b = classic_budget(lab(PAD40, 4 * GiB, rootfs_cap=0.9))
    assert 176 * MiB < b.required <= 192 * MiB
    assert b.binding == "boot"


def test_ram_and_cpus_of_the_crashed_machine_barely_matter():
    a = classic_budget(lab(SMALL, 4 * GiB))
    b = classic_budget(lab(SMALL, 16 * GiB))
    assert 0 < b.required - a.required < MiB  # makedumpfile's bitmaps: 2 bits per page
    c = classic_budget(lab(SMALL, 16 * GiB, possible_cpus=4))
    assert c.required == b.required or abs(c.required - b.required) < MiB


def test_segments_load_exactly_where_the_lab_says():
    for initrd, fails, loads in ((SMALL, 68, 72), (PAD40, 96, 112)):
        segs = crash_segments("x86_64", kernel=INIT_SIZE, kernel_align=2 * MiB, initrd=initrd[0], elfcorehdr=ELFCOREHDR)
        assert not place_segments(fails * MiB, segs).fits
        assert place_segments(loads * MiB, segs).fits
    small = crash_segments("x86_64", kernel=INIT_SIZE, kernel_align=2 * MiB, initrd=SMALL[0], elfcorehdr=ELFCOREHDR)
    assert min_region(small) == 71_655_424  # 68.34 MiB: the kernel at a 2 MiB boundary, the initrd below it
    failed = place_segments(68 * MiB, small)
    assert failed.failed == "initrd"


def test_arm64_segments_dtb_at_a_2m_boundary():
    segs = crash_segments("arm64", kernel=32 * MiB, kernel_align=2 * MiB, initrd=10 * MiB, elfcorehdr=8192)
    p = place_segments(48 * MiB, segs)
    assert p.fits
    where = {n: (s, e) for n, s, e in p.placed}
    assert where["kernel"][0] == 0 and where["initrd"][0] == 32 * MiB
    assert where["elfcorehdr"][0] == 48 * MiB - 64 * 1024  # top-down, 64 KiB aligned
    assert where["dtb"] == (46 * MiB, 46 * MiB + 69632)  # 64 KiB + the command line, at the 2 MiB boundary below


@pytest.mark.parametrize("initrd,load_min,measured", [(SMALL, 72 * MiB, 80 * MiB), (PAD40, 112 * MiB, 112 * MiB)])
def test_cma_classic_part_holds_the_segments(initrd, load_min, measured):
    cb = cma_budget(lab(initrd, 4 * GiB), cma_above_dma_limit=True)
    assert cb.classic >= load_min and cb.classic <= measured * 5 // 4
    assert cb.low_needs == 8 * MiB and cb.classic >= cb.load + cb.low_needs
    # everything else of the capture kernel's need comes from the CMA part
    assert cb.classic - cb.low_needs - cb.inner.elfcorehdr + cb.cma >= cb.inner.required


def test_cma_below_4g_needs_no_swiotlb_room():
    cb = cma_budget(lab(SMALL, 2 * GiB), cma_above_dma_limit=False)
    assert cb.low_needs == 0 and cb.classic == 72 * MiB


def test_terms_for_platform_facts():
    base = classic_budget(lab(SMALL, 4 * GiB))
    sev = classic_budget(lab(SMALL, 4 * GiB, mem_encrypt="sev"))
    assert {t.key: t.size for t in sev.terms}["swiotlb"] == 64 * MiB
    assert sev.required - base.required > 64 * MiB
    cpus = classic_budget(lab(SMALL, 4 * GiB, nr_cpus=4))
    assert {t.key: t.size for t in cpus.terms}["per_cpu"] == 4 * MiB
    luks = classic_budget(lab(SMALL, 4 * GiB, luks_memory=256 * MiB, luks=True))
    assert {t.key: t.size for t in luks.terms}["luks"] == 276 * MiB
    arm = classic_budget(replace(lab(SMALL, 4 * GiB, luks_memory=256 * MiB, luks=True), arch="arm64"))
    assert {t.key: t.size for t in arm.terms}["luks"] == 306 * MiB
    net = classic_budget(lab(SMALL, 4 * GiB, network=True))
    assert {t.key: t.size for t in net.terms}["network"] == 16 * MiB
    k64 = classic_budget(replace(lab(SMALL, 4 * GiB, mlx5=True, smmu=True, page_size=65536), arch="arm64"))
    sizes = {t.key: t.size for t in k64.terms}
    assert (sizes["pages_64k"], sizes["mlx5"], sizes["smmu"]) == (100 * MiB, 200 * MiB, 384 * MiB)
    assert sizes["memmap"] == k64.capture_ram * 64 // 65536  # 64 bytes per 64 KiB page


def test_no_tmpfs_rootfs_has_no_cap():
    b = classic_budget(lab(PAD40, 4 * GiB, rootfs_tmpfs=False))
    assert b.cap is None and b.binding == "boot"


def test_every_term_is_named_and_justified():
    b = classic_budget(lab(PAD40, 16 * GiB, network=True, luks_memory=MiB, luks=True))
    for t in b.terms:
        assert t.key and t.label and t.why and t.source in ("input", "kernel", "assumption", "derived")
        assert t.phase in ("boot", "run", "both", "low")


@pytest.mark.parametrize("n,clean", [(1, 8 * MiB), (101 * MiB, 104 * MiB), (256 * MiB, 256 * MiB),
                                     (257 * MiB, 272 * MiB), (1025 * MiB, 1088 * MiB), (5 * GiB, 5 * GiB),
                                     (5 * GiB + 1, 5 * GiB + 256 * MiB)])
def test_clean_size(n, clean):
    assert clean_size(n) == clean
