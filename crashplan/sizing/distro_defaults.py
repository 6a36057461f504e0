"""What the distribution's own kdump tool would set for a machine, next to crashplan's plan.

Pure: a kernel release (its distribution profile names the tool), the architecture, the RAM and a few
machine facts go in; a ``DistroDefault`` comes out: the tool, the ``crashkernel=`` it writes, what this
kernel reserves for it on this machine (crashplan's own parser), and a verdict against what crashplan
found the capture kernel needs.

Sources (anchors of the tools, each read at the commit named):

* kdump-utils ``kdump-lib.sh`` ``kdump_get_arch_recommend_crashkernel`` (rhkdump/kdump-utils @63f248c9,
  2026-03-23) and its history: x86_64/s390x ``1G-4G:192M,4G-64G:256M,64G-:512M`` (34d27c4, 2021-11) ->
  ``2G-64G:256M,64G-:512M`` (fe18f933, v1.0.53, 2025-03); aarch64 ``2G-:448M`` -> ``1G-4G:256M,…``
  (b92bc6e0, 2022-06) -> ``2G-4G:…`` (ca42bd69, v1.0.54); SME/SEV +64M (4841bc6a, 2023); ppc64le
  +1M per capture CPU (0d389855, 2025-08); aarch64 64K pages +100M, SMMU +384M, mlx5 +150M (+200M with
  64K pages).  Which RHEL minor release ships which: see ``_KDUMP_UTILS`` (inferred where marked).
* RHEL 8: ``crashkernel=auto`` (the kernel's table; crashplan.kernel.distros).
* SUSE ``kdumptool calibrate`` (openSUSE/kdump calibrate.cc @34da4b8): needs constants measured per
  build (``/usr/lib/kdump/calibrate.conf``) that are not in git; ``suse_calibrate`` is the formula,
  and the default is reported as unknown without them.
* Debian kdump-tools (kaloronahuang/kdump-tools debian/latest @5ace24ee): amd64 ``384M-:128M``, from
  1:1.10 (2024-01, 4df8917d) ``512M-:192M``; arm64/ppc64el
  ``2G-4G:320M,4G-32G:512M,32G-64G:1024M,64G-128G:2048M,128G-:4096M``; s390x ``384M-:128M`` (zipl).
* Ubuntu (canonical/ubuntu-server-documentation kernel-crash-dump.md @080024d7): 24.10 and later use the
  arm64 table on amd64 too; earlier LTS releases ``512M-:192M`` on amd64 (seen in kdump-tools.cfg of
  18.04-22.04 hosts and the LTS server guide; Ubuntu's own packaging was not read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crashplan.records import NamedTuple

if TYPE_CHECKING:
    from crashplan.kernel.distros import Profile
    from crashplan.kernel.versions import KernelRelease

__all__ = ["DistroDefault", "MachineFacts", "distribution_default", "kdump_utils_table", "suse_calibrate",
           "verdict"]

M = 1 << 20
G = 1 << 30

_DEB_TABLE = "2G-4G:320M,4G-32G:512M,32G-64G:1024M,64G-128G:2048M,128G-:4096M"


class MachineFacts(NamedTuple):
    """What the tools look at besides the RAM (kdump-lib.sh: dmesg, /sys/bus/pci/drivers/mlx5_core, …)."""

    sme_sev: bool = False  # "Memory Encryption Features active: AMD SME|SEV"
    page_64k: bool = False  # "64k" in the kernel release
    smmu: bool = False  # /sys/devices/platform/arm-smmu-*
    mlx5: bool = False  # /sys/bus/pci/drivers/mlx5_core
    fadump: bool = False  # /sys/kernel/fadump/enabled
    capture_cpus: int = 1  # nr_cpus= of the capture kernel (ppc64le per-CPU addition)


_NO_FACTS = MachineFacts()  # the default: none of the additions apply


class DistroDefault(NamedTuple):
    tool: str  # "kdump-utils get-default-crashkernel (RHEL 10.0)"
    cmdline: str | None  # the crashkernel= parameter it writes; None when it cannot be computed here
    size: int | None  # what this kernel reserves for it on this machine (bytes); None: unknown
    verdict: str  # "fits", "too small", "wasteful", "reserves nothing", "unknown"
    detail: str  # one line: why
    source: str
    certainty: str = "read"

    def as_dict(self) -> dict[str, object]:
        return {"tool": self.tool, "cmdline": self.cmdline, "size": self.size, "verdict": self.verdict,
                "detail": self.detail, "source": self.source, "certainty": self.certainty}


def _add(table: str, delta_mib: int) -> str:
    """kdump-lib.sh _crashkernel_add for M/G sizes: every size + delta, re-normalised to M or G."""
    if not delta_mib:
        return table
    out = []
    for ent in table.split(","):
        rng, _, size = ent.rpartition(":")
        mib = int(size[:-1]) * (1024 if size[-1] == "G" else 1) + delta_mib
        new = f"{mib // 1024}G" if mib % 1024 == 0 else f"{mib}M"
        out.append(f"{rng}:{new}" if rng else new)
    return ",".join(out)


# (first RHEL/rebuild minor release, table era) per major release; eras below.  The release a commit
# first shipped in is inferred from the commit date and the next minor release's GA.
_KDUMP_UTILS_ERAS = {
    # era: (x86_64/s390x, aarch64, ppc64le per-CPU, SME/SEV, aarch64 extras)
    "2021": ("1G-4G:192M,4G-64G:256M,64G-:512M", "2G-:448M", False, False, False),
    "2022": ("1G-4G:192M,4G-64G:256M,64G-:512M", "1G-4G:256M,4G-64G:320M,64G-:576M", False, False, False),
    "2023": ("1G-4G:192M,4G-64G:256M,64G-:512M", "1G-4G:256M,4G-64G:320M,64G-:576M", False, True, True),
    "2025.03": ("2G-64G:256M,64G-:512M", "1G-4G:256M,4G-64G:320M,64G-:576M", False, True, True),
    "2025.08": ("2G-64G:256M,64G-:512M", "2G-4G:256M,4G-64G:320M,64G-:576M", True, True, True),
}
_PPC = "2G-4G:384M,4G-16G:512M,16G-64G:1G,64G-128G:2G,128G-:4G"
_PPC_FADUMP = ("4G-16G:768M,16G-64G:1G,64G-128G:2G,128G-1T:4G,1T-2T:6G,2T-4T:12G,4T-8T:20G,8T-16T:36G,"
               "16T-32T:64G,32T-64T:128G,64T-:180G")


def _era(family_key: str) -> tuple[str, str]:
    """(era, certainty) for a profile key (rhel9.N, rhel10.N, fedora-NN, uek-…-el9)."""
    if family_key.startswith("rhel9."):
        minor = int(family_key.split(".", 2)[1].split("-", 1)[0])
        if minor == 0:
            return "2021", "read: RHEL 9.0 boot entries carry 1G-4G:192M,4G-64G:256M,64G-:512M"
        if minor < 3:
            return "2022", "inferred: the 2022-06 aarch64 table first ships in RHEL 9.1"
        return "2023", ("inferred: SME/SEV and aarch64 additions (2023) first ship in RHEL 9.3; RHEL 9.6 boot "
                        "entries still carry 1G-4G:192M,4G-64G:256M,64G-:512M")
    if family_key.startswith("rhel10."):
        minor = int(family_key.split(".", 2)[1].split("-", 1)[0])
        if minor == 0:
            return "2025.03", "read: RHEL 10 documentation lists 2G-64G:256M (x86_64) and 1G-4G:256M (64-bit ARM)"
        return "2025.08", "inferred: kdump-utils v1.0.54 and later in RHEL 10.1+"
    if family_key.startswith("uek-") and family_key.endswith("-el9"):
        return "2023", "inferred: Oracle Linux 9 ships RHEL 9's kexec-tools"
    return "2025.08", "inferred: Fedora ships current kdump-utils"


def kdump_utils_table(era: str, arch: str, facts: MachineFacts = _NO_FACTS) -> str | None:
    """kdumpctl get-default-crashkernel for ``arch`` in a table era (see ``_KDUMP_UTILS_ERAS``)."""
    x86, arm, ppc_cpus, sev, arm_extras = _KDUMP_UTILS_ERAS[era]
    if arch in ("x86_64", "s390x"):
        return _add(x86, 64 if (sev and facts.sme_sev and arch == "x86_64") else 0)
    if arch == "arm64":
        delta = 0
        if arm_extras:
            if facts.page_64k:
                delta += 100 + (384 if facts.smmu else 0) + (200 if facts.mlx5 else 0)
            elif facts.mlx5:
                delta += 150
        return _add(arm, delta)
    if arch == "ppc64le":
        table = _PPC_FADUMP if facts.fadump else _PPC
        return _add(table, max(facts.capture_cpus, 1) if ppc_cpus else 0)
    return None


def suse_calibrate(*, ram_kib: int, constants: dict[str, int], cpus: int, network: bool, makedumpfile: bool,
                   luks_kib: int = 0, framebuffer_kib: int = 0, acpi_slab_kib: int = 0,
                   page_bytes: int = 4096, struct_page: int = 64) -> int:
    """kdumptool calibrate's required size in KiB (openSUSE/kdump calibrate.cc @34da4b8, anchors §2.2).

    ``constants`` are calibrate.conf's measured values (KiB): KERNEL_BASE, KERNEL_INIT, INIT_NET,
    INIT_CACHED, INIT_CACHED_NET, PERCPU, USER_BASE, USER_NET.
    """
    c = constants
    page_kib = page_bytes // 1024
    run = c["KERNEL_BASE"] + c["INIT_CACHED"] + framebuffer_kib + luks_kib + acpi_slab_kib
    run += cpus * (c["PERCPU"] + 100 + 3 * page_kib + 128 + 5)
    user = c["USER_BASE"] + (c["USER_NET"] if network else 0)
    if makedumpfile:
        user += min(-(-ram_kib // page_bytes // 4), 32 * 1024) + 96 * -(-ram_kib // (1 << 27))
    run += user
    run = run * 102400 // (102400 - 20480 - 20 * 64)  # dirty page cache and in-flight I/O
    run = run * 1048576 // (1048576 - 232 * 8)  # large kernel hashes
    run = run * page_bytes // (page_bytes - struct_page)  # memmap
    boot = c["KERNEL_BASE"] + c["KERNEL_INIT"] + c["INIT_CACHED"]
    if network:
        boot += c["INIT_NET"] + c["INIT_CACHED_NET"]
    required = max(run, boot)
    return (required - luks_kib) * 130 // 100 + 64 * 1024 + luks_kib


def verdict(size: int | None, need: int | None) -> tuple[str, str]:
    """(verdict, why) of a default reserving ``size`` where crashplan's plan reserves ``need``.

    "too small" below the plan; "wasteful" more than the plan plus half of it and at least 128 MiB over.
    """
    from crashplan.units import format_size

    if size is None:
        return "unknown", "the size could not be computed here"
    if size == 0:
        return "reserves nothing", "no entry of the table matches this RAM size"
    if need is None:
        return "unknown", "crashplan's plan has no size to compare with"
    if size < need:
        return "too small", f"{format_size(size)} is below the {format_size(need)} crashplan's plan needs"
    if size - need >= max(need // 2, 128 * M):
        return "wasteful", f"{format_size(size)} is {format_size(size - need)} more than crashplan's plan"
    return "fits", f"{format_size(size)} covers the {format_size(need)} crashplan's plan needs"


def _reserved(cmdline: str, release: KernelRelease, arch: str, ram: int) -> int:
    from crashplan.kernel import evaluate

    o = evaluate(cmdline, system_ram=ram, kernel=release, arch=arch)
    return o.crash_size + (o.low_size or 0) * bool(o.high) if o.accepted else 0


def _debian_table(profile_key: str, arch: str) -> tuple[str | None, str]:
    if arch == "s390x":
        return "384M-:128M", "read (zipl.conf preset, never bumped)"
    if arch in ("arm64", "ppc64le"):
        return _DEB_TABLE, "inferred: the arm64/ppc64el table of current kdump-tools"
    if arch != "x86_64":
        return None, ""
    number = profile_key[len("debian"):].split("-", 1)[0]  # "debian13-6.12" -> "13"; "" when not known
    if number.isdigit() and int(number) >= 13:
        return "512M-:192M", "inferred: Debian 13 ships kdump-tools 1:1.10 or later (512M-:192M from 2024-01)"
    if not number:
        return "384M-:128M", "inferred: the Debian release is not named; kdump-tools before 1:1.10 assumed"
    if number == "12":
        return "384M-:128M", "read: bookworm's kdump-tools ships crashkernel=384M-:128M in its grub.d drop-in"
    return "384M-:128M", "inferred: kdump-tools before 1:1.10 (Debian 10-11), the preset Debian 12 still ships"


def _ubuntu_table(profile_key: str, arch: str) -> tuple[str | None, str]:
    if arch in ("arm64", "ppc64le"):
        return _DEB_TABLE, "inferred: Ubuntu's arm64 table (assumed from Debian)"
    if arch == "s390x":
        return "384M-:128M", "inferred"
    if arch != "x86_64":
        return None, ""
    return "512M-:192M", ("read: /etc/default/grub.d/kdump-tools.cfg of Ubuntu 18.04-22.04 hosts and the Ubuntu "
                          "server guide; 24.04 assumed the same (24.10+ uses the arm64 table on amd64)")


def _host_profile(os_release: dict[str, str], series: tuple[int, int]) -> Profile | None:
    """A stand-in profile naming the tool of the distribution ``/etc/os-release`` describes, for a kernel
    whose release string names none (a custom kernel on that distribution)."""
    from crashplan.kernel.distros import Profile, from_os_release

    fam = from_os_release(os_release)
    ver = os_release.get("VERSION_ID", "")
    major = ver.split(".")[0]
    pretty = os_release.get("PRETTY_NAME") or f"{os_release.get('NAME', fam)} {ver}".strip()
    if fam == "debian":
        return Profile(f"debian{major}-host", pretty, fam, series, default_tool="kdump-tools-debian")
    if fam == "ubuntu":
        return Profile("ubuntu-host", pretty, fam, series, default_tool="kdump-tools-ubuntu")
    if fam == "rhel" and major in ("9", "10"):
        minor = ver.split(".")[1] if "." in ver else "0"
        return Profile(f"rhel{major}.{minor}", pretty, fam, series,
                       default_tool="kexec-tools-el9" if major == "9" else "kdump-utils")
    if fam == "fedora":
        return Profile(f"fedora-{major}", pretty, fam, series, default_tool="kdump-utils")
    if fam == "suse":
        return Profile("suse-host", pretty, fam, series, default_tool="kdumptool")
    return None


_CALIBRATE_KEYS = ("KERNEL_BASE", "KERNEL_INIT", "INIT_NET", "INIT_CACHED", "INIT_CACHED_NET", "PERCPU",
                   "USER_BASE", "USER_NET")


def _suse_default(p: Profile, a: str, system_ram: int, calibrate: dict[str, int] | None,
                  cpus: int | None, network: bool) -> tuple[str | None, int | None, str, str]:
    """(cmdline, size, detail, certainty) of kdumptool calibrate; the size is None without its constants."""
    if not calibrate or any(k not in calibrate for k in _CALIBRATE_KEYS):
        return (None, None, ("calibrate needs the constants measured for this kernel build "
                             "(/usr/lib/kdump/calibrate.conf); run `kdumptool calibrate` on the machine"),
                "read: the formula needs per-build constants that are not public")
    # KDUMP_CPUS defaults to 32 where the capture kernel's CPUs can be reduced (not on powerpc)
    n = cpus or 1
    if a != "ppc64le":
        n = min(n, 32)
    kib = suse_calibrate(ram_kib=system_ram // 1024, constants=calibrate, cpus=n, network=network,
                         makedumpfile=True, page_bytes=65536 if "64kb" in p.key else 4096)
    mib = -(-kib // 1024)
    return (f"crashkernel={mib}M", None, f"calibrate's total for {n} CPUs from this machine's calibrate.conf",
            ("inferred: calibrate's total; its x86_64 low/high split and the framebuffer, ACPI-slab and LUKS "
             "terms are not modelled"))


def distribution_default(release: str, arch: str, system_ram: int, *, need: int | None = None,
                         facts: MachineFacts = _NO_FACTS,
                         os_release: dict[str, str] | None = None, calibrate: dict[str, int] | None = None,
                         cpus: int | None = None, network: bool = False) -> DistroDefault | None:
    """The distribution tool's default for this machine, or None when the release names no distribution
    whose tool crashplan models (mainline, Amazon Linux, openEuler, Oracle Linux 8 UEK).

    ``os_release`` (the host's ``/etc/os-release``) names the distribution when the kernel's release
    string does not (a custom kernel): its tool's default is still what the distribution would set.
    ``calibrate`` (SUSE's ``/usr/lib/kdump/calibrate.conf``), ``cpus`` and ``network`` feed kdumptool's
    formula; without the constants the SUSE default is reported as unknown.
    """
    from crashplan.kernel import normalize_arch, parse_release
    from crashplan.kernel.distros import get

    rel = parse_release(release)
    p: Profile | None = None
    if rel.profile is not None:
        p = get(rel.profile)
    elif os_release:
        p = _host_profile(os_release, rel.series)
    if p is None:
        return None
    a = normalize_arch(arch)
    if "64k" in release.lower() and a == "arm64":  # kdump-lib.sh: a "64k" kernel release adds its delta
        facts = facts._replace(page_64k=True)
    tool = p.default_tool
    if tool is None:
        return None
    note = ""  # kdumptool: where its figure comes from, after the verdict's why
    if tool == "rhel8-auto":
        cmd = "crashkernel=auto"
        certainty = "read: the installer writes crashkernel=auto; the kernel expands its table"
        name = f"crashkernel=auto ({p.name} installer default)"
        source = "crashplan.kernel.distros (RHEL 8 __parse_crashkernel)"
        if facts.fadump and a == "ppc64le":
            cmd = "fadump=on crashkernel=auto"
    elif tool in ("kexec-tools-el9", "kdump-utils"):
        era, certainty = _era(p.key)
        if p.key.startswith("rhel9.0") and a not in ("x86_64", "s390x"):
            certainty = "inferred: kdump-lib.sh's table of that date; only the x86_64 value was seen on RHEL 9.0"
        table = kdump_utils_table(era, a, facts)
        if table is None:
            return None
        cmd = f"crashkernel={table}"
        name = f"kdumpctl get-default-crashkernel ({p.name})"
        source = f"rhkdump/kdump-utils kdump-lib.sh, table era {era}"
    elif tool == "kdumptool":
        cmd_or_none, _, detail, certainty = _suse_default(p, a, system_ram, calibrate, cpus, network)
        name = f"kdumptool calibrate ({p.name})"
        source = "openSUSE/kdump calibrate.cc @34da4b8"
        if cmd_or_none is None:
            return DistroDefault(name, None, None, "unknown", detail, source, certainty)
        cmd = cmd_or_none
        note = f" ({detail})"
    elif tool in ("kdump-tools-debian", "kdump-tools-ubuntu"):
        table, certainty = (_debian_table if tool.endswith("debian") else _ubuntu_table)(p.key, a)
        if table is None:
            return None
        cmd = f"crashkernel={table}"
        name = f"kdump-tools ({p.name})"
        source = ("kaloronahuang/kdump-tools debian/latest @5ace24ee" if tool.endswith("debian")
                  else "canonical/ubuntu-server-documentation kernel-crash-dump.md @080024d7")
    else:
        return None
    size = _reserved(cmd, rel, a, system_ram)
    v, why = verdict(size, need)
    return DistroDefault(name, cmd, size, v, why + note, source, certainty)
