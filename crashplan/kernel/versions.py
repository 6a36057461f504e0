"""Kernel releases and the behaviour switches that depend on them.

A release is named by what ``uname -r`` prints (``6.12.0-55.el10.x86_64``, ``7.2.13+deb14-amd64``) or
by a plain ``6.12`` / ``6.12.107``.  Only the mainline series (major, minor) decides behaviour;
distribution patches that are known to change it are reported as notes, never guessed
(``KernelRelease.distro``).

Every switch is one entry of ``SWITCHES`` so that the version matrix can be reviewed in one place
(kernel-semantics §8.2).  Where the exact release of a change is not pinned down, the entry says so in
``certainty`` and ``crashplan check`` repeats it.
"""

from __future__ import annotations

from crashplan.records import NamedTuple

__all__ = [
    "NEWEST",
    "OLDEST",
    "SUPPORTED_SERIES",
    "SWITCHES",
    "KernelRelease",
    "Switch",
    "parse_release",
]

OLDEST = (4, 14)
NEWEST = (7, 3)

# 4.20 was the last 4.x release (5.0 followed it, March 2019); 5.19 the last 5.x, 6.19 the last 6.x.
_SERIES_4 = [(4, n) for n in range(14, 21)]
_SERIES_5 = [(5, n) for n in range(20)]
_SERIES_6 = [(6, n) for n in range(20)]
_SERIES_7 = [(7, n) for n in range(4)]
SUPPORTED_SERIES: tuple[tuple[int, int], ...] = tuple(_SERIES_4 + _SERIES_5 + _SERIES_6 + _SERIES_7)



class KernelRelease(NamedTuple):
    """A kernel release: the mainline series plus what the release string says about its origin."""

    major: int
    minor: int
    patch: int | None = None
    text: str = ""
    distro: str | None = None  # "rhel", "debian", "ubuntu", "suse", "fedora", "amazon", "openeuler", "oracle-uek"
    profile: str | None = None  # key of the distribution profile (crashplan.kernel.distros), if one matches

    @property
    def series(self) -> tuple[int, int]:
        return (self.major, self.minor)

    def at_least(self, major: int, minor: int) -> bool:
        return self.series >= (major, minor)

    @property
    def label(self) -> str:
        return f"{self.major}.{self.minor}"

    def __str__(self) -> str:
        return self.text or self.label


def _distro_of(rest: str) -> str | None:
    """The distribution family that what follows MAJOR.MINOR[.PATCH] in a release string names.

    Only the family (for notes); what the kernel does differently comes from the profile
    (``crashplan.kernel.distros.match``), which needs the whole suffix and the series.
    """
    low = rest.lower()
    if "uek" in low and ".el" in low:
        return "oracle-uek"
    if ".amzn2" in low:
        return "amazon"
    if ".oe1" in low or ".oe2" in low:
        return "openeuler"
    parts = low.replace("-", ".").replace("_", ".").split(".")
    if any(p.startswith("el") and p[2:3].isdigit() for p in parts):
        return "rhel"
    if any(p.startswith("fc") and p[2:].isdigit() for p in parts):
        return "fedora"
    if "deb" in low or low.endswith(("-amd64", "-arm64", "-ppc64el", "-s390x", "-loong64", "-riscv64")):
        return "debian"
    if low.endswith(("-generic", "-lowlatency", "-aws", "-gcp", "-oracle", "-kvm", "-raspi", "-azure", "-oem",
                     "-ibm", "-nvidia", "-gke")):
        return "ubuntu"
    if low.endswith(("-default", "-64kb")):
        return "suse"
    return None


def parse_release(text: str) -> KernelRelease:
    """Parse ``6.12``, ``6.12.107``, ``7.2.13+deb14-amd64``, ``6.12.0-55.el10.x86_64``.

    Raises ``ValueError`` naming what was expected, and when the series is outside the releases
    crashplan models (4.14 … 7.3).
    """
    t = text.strip()
    body = t[1:] if t[:1] == "v" else t
    nums: list[int] = []
    i = 0
    while len(nums) < 3:
        j = i
        while j < len(body) and body[j].isdigit() and body[j].isascii():
            j += 1
        if j == i:
            break
        nums.append(int(body[i:j]))
        i = j
        if len(nums) < 3 and body[i:i + 1] == "." and body[i + 1:i + 2].isdigit():
            i += 1
        else:
            break
    if len(nums) < 2 or any(c.isspace() for c in body):
        raise ValueError(
            f"{text!r} is not a kernel release (expected MAJOR.MINOR[.PATCH], e.g. 6.12 or 6.12.0-55.el10.x86_64)"
        )
    major, minor = nums[0], nums[1]
    patch = nums[2] if len(nums) > 2 else None
    if (major, minor) < OLDEST or (major, minor) > NEWEST:
        raise ValueError(
            f"kernel {major}.{minor} is outside the releases crashplan models "
            f"({OLDEST[0]}.{OLDEST[1]} … {NEWEST[0]}.{NEWEST[1]})"
        )
    if (major, minor) not in SUPPORTED_SERIES:
        raise ValueError(f"{major}.{minor} is not a Linux release series")
    rest = body[i:]
    profile = None
    if rest:
        from .distro_id import identify  # a plain "6.12" loads neither

        mark = identify(rest)
        if mark is not None:
            from . import distros  # only for a suffix that names a distribution

            p = distros.for_mark(mark, (major, minor))
            profile = p.key if p is not None else None
    return KernelRelease(major, minor, patch, t, _distro_of(rest), profile)


class Switch(NamedTuple):
    """One behaviour change: on from ``since`` (mainline series) onwards."""

    name: str
    since: tuple[int, int]
    what: str
    certainty: str = "verified"  # "verified" (read in the source or seen on a real kernel) or a reason

    def on(self, release: KernelRelease) -> bool:
        if release.profile is not None:
            forced = _forced(release.profile, self.name)
            if forced is not None:
                return forced
        return release.series >= self.since


def _forced(profile: str, name: str) -> bool | None:
    """Whether a distribution profile turns switch ``name`` on (True) or off (False); None: it does not say."""
    from . import distros

    try:
        p = distros.get(profile)
    except KeyError:
        return None
    if name in p.on:
        return True
    if name in p.off:
        return False
    return None


def _sw(name: str, since: tuple[int, int], what: str, certainty: str = "verified") -> Switch:
    return Switch(name, since, what, certainty)


SWITCHES: dict[str, Switch] = {
    s.name: s
    for s in (
        # 4.14 … 5.14 (docs/kernel-fidelity.md, "Releases before 5.15").  "verified" there means read in
        # the source named; stable branches carry backports, so a series behaves as its late stable
        # releases (what distributions ship) do.
        _sw("x86_low_4g", (5, 2), "x86 crashkernel=X is placed below 4 GiB (CRASH_ADDR_LOW_MAX was 896 MiB)",
            "commit 9ca5c8e632ce, x86-kdump pull for v5.2 (read in the pull's diff)"),
        _sw("x86_high_fallback", (5, 2), "x86 crashkernel=X falls back above 4 GiB when nothing fits below",
            "commit b9ac3849af41, x86-kdump pull for v5.2 (read in the pull's diff)"),
        _sw("x86_low_ram_limit", (5, 10),
            "x86 reserve_crashkernel_low() passes and logs min(RAM, 4 GiB) as 'low RAM limit' (was: the RAM "
            "below 4 GiB, 'System low RAM'); the ,low suffix parse never reads it",
            "commit 6120cdc01ef6 (x86/setup: simplify reserve_crashkernel()); present in 5.10.262 (Debian 11 "
            "source); the 5.10 merge inferred from the series"),
        _sw("arm64_dma_zone_limit", (5, 10),
            "arm64 places crashkernel= below the ZONE_DMA limit read from DT/IORT, after the zones are sized "
            "(before: below the 32-bit window, from arm64_memblock_init)",
            "mainline 5.11 (0a30c53573b0, 8424ecdde7df); read in 5.10.262 (Debian 11 source), where stable "
            "carries them; 5.9 and earlier inferred from the mainline history"),
        _sw("arm64_fixed_alloc", (5, 15),
            "arm64 and riscv reserve an @offset with memblock_phys_alloc_range (before: three checks with their "
            "own messages)",
            "commit a7259df76702 (memblock: make memblock_find_in_range method private), 5.15 inferred; the "
            "checks read in 5.10.262 (Debian 11 source)"),
        _sw("riscv_low_first", (5, 19),
            "riscv tries below 4 GiB before the rest of DRAM (before: the whole of DRAM, top-down)",
            "absent in the 5.13 (e53d28180d4d) and 5.15 (a7259df76702) code as posted; 5.19 inferred"),
        _sw("zero_size_message", (4, 19),
            "a range that matches no RAM size logs 'crashkernel size resulted in zero bytes'",
            "absent in 4.14.y (LineageOS android_kernel_oneplus_sm8150, kernel/crash_core.c at fdba62ff93e5), "
            "present in 5.4.32 (Tencent/TencentOS-kernel at 652208f69555) and 5.10.262 (Debian 11 source); "
            "4.19 inferred"),
        _sw("ppc_rma_cap", (6, 1),
            "powerpc caps that base at 512 MiB on an LPAR (and at 128 MiB elsewhere)",
            "patch by Hari Bathini on top of 7c5ed82b800d (linuxppc-dev, v2 late 2022); 6.1 inferred; absent in "
            "5.10.262, which has the uncapped ppc64_rma_size / 2 of 7c5ed82b800d (5.18, in the stable branches "
            "from 4.14.y on)"),
        _sw("riscv_kdump", (5, 13), "riscv reserves crashkernel=", "e53d28180d4d (RISC-V: Add kdump support), "
            "5.13 inferred from the merge window"),
        _sw("enoent", (5, 19), "a missing crashkernel= token returns -ENOENT instead of -EINVAL (arm64 ,high series)",
            "5.19 inferred from the arm64 series; 5.15 and 6.1 verified"),
        _sw("roundup_128m", (6, 0), "range syntax rounds system RAM up to a multiple of 128 MiB",
            "6.0 inferred from the merge window; absent in 5.15 and present in 6.1 verified"),
        _sw("arm64_high_low", (5, 19), "arm64 reads crashkernel=,high and ,low",
            "5.19 inferred; 6.1 verified"),
        _sw("arm64_fallback", (6, 2), "arm64 plain size falls back above the DMA limit with a 128M low region"),
        _sw("riscv_high_low", (6, 6), "riscv reads crashkernel=,high and ,low (own code)",
            "6.6 inferred from the pull"),
        _sw("loongarch_kdump", (6, 3), "loongarch reserves crashkernel= (own code, below 4 GiB)"),
        _sw("generic_x86_arm64_riscv", (6, 7), "x86, arm64 and riscv use reserve_crashkernel_generic()"),
        _sw("generic_loongarch", (6, 8), "loongarch uses reserve_crashkernel_generic()"),
        _sw("prefix_messages", (6, 9), "range messages carry the 'crashkernel:' prefix (and the 'crahskernel' typo)",
            "absent in 6.8 and present in 6.12 verified; 6.9 inferred"),
        _sw("high_fallback_guard", (6, 11), "the ,high -> low fallback is skipped when LOW_MAX == HIGH_MAX",
            "absent in 6.8 and present in 6.12 verified; 6.11 inferred"),
        _sw("size_ge_ram", (6, 11), "parse_crashkernel() rejects size >= system RAM without a message",
            "absent in 6.8 and present in 6.12 verified; 6.11 inferred"),
        _sw("ppc_generic", (6, 15), "powerpc uses the generic fixed-base reservation",
            "absent in 6.12 and present in 6.17 verified; 6.15 inferred"),
        _sw("typo_fixed", (6, 16), "'crahskernel' typo fixed", "fix posted April 2025; present in 6.17 verified"),
        _sw("cma_suffix", (6, 17), "',cma' is a known suffix (skipped by the plain lookup)"),
        _sw("cma_x86", (6, 17), "x86 reserves crashkernel=,cma from CMA"),
        _sw("cma_ppc", (6, 19), "powerpc reserves crashkernel=,cma from CMA; /sys/kernel/kexec/crash_cma_ranges"),
        _sw("ppc_crash_res_hidden", (6, 18),
            "powerpc arch_add_crash_res_to_iomem() returns false: /proc/iomem shows no 'Crash kernel' again",
            "absent in 6.17 and present in 6.18 verified (fix tagged for stable)"),
        _sw("parse_checks_all", (6, 7),
            "parse_crashkernel() itself rejects a zero size (and, with size_ge_ram, size >= RAM) for every caller",
            "the 6.7 generic crashkernel series (kernel/crash_reserve.c); present in 6.12 verified, 6.7 inferred from "
            "the series"),
        _sw("initramfs_options", (6, 18), "initramfs_options=size= sets the rootfs (tmpfs) size",
            "fs/namespace.c initramfs_options_setup(); 6.18 as kdump-utils' use of it gives it (docs/sizing.md), "
            "not re-read in 6.17"),
        _sw("memparse_saturates", (7, 2), "memparse saturates on overflow and no longer consumes a bare suffix",
            "absent in 7.1.8 and present in 7.2.6 verified"),
        _sw("cma_arm64_riscv", (7, 3), "arm64 and riscv reserve crashkernel=,cma from CMA",
            "arm64 verified by booting 7.3.4; riscv inferred from the same series"),
        _sw("kexec_crash_size_low", (6, 5), "/sys/kernel/kexec_crash_size includes the low region",
            "6.5 inferred; 6.1 and 6.12 verified"),
        # simulator switches: they act only in the reservation replay (crashplan.simulate), where memblock
        # stands when the architecture's code runs and what the code logs
        _sw("arm64_sparse_after_crash", (7, 0),
            "arm64 allocates the sparse memmap after the crash reservation (free_area_init runs later)",
            "6.1/6.12 allocate it before, 7.0.13/7.2.13/7.3.4 after (qemu boots: the crash lines precede "
            "'Zone ranges:'); 6.13-6.19 were not booted"),
        _sw("arm64_iomem_packed_top", (5, 15),
            "arm64 /proc/iomem shows the allocations at the top of RAM packed, 4 MiB apart at most",
            "5.10.223 leaves a ~12 MiB hole below them (qemu boots, 1G/2G); 6.1+ packed (qemu boots); 5.15 "
            "inferred"),
        _sw("cma_msg_node", (6, 10), "cma: 'Reserved %ld MiB at %pa on node %d'",
            "6.1 without and 6.12 with the suffix (boot vectors); 6.10 inferred"),
        _sw("cma_msg_no_node", (6, 15), "cma: the ' on node %d' suffix is gone again",
            "absent in 7.3 (boot vectors); 6.15 inferred from the multi-range CMA rework"),
    )
}
