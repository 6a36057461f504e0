"""Distribution kernels: what each one changes in ``crashkernel=`` handling relative to its mainline base.

A profile is chosen from what ``uname -r`` prints after ``MAJOR.MINOR[.PATCH]`` (``-553.el8_10.x86_64``,
``-150700.53.3-default``, ``-35-amd64``) and, when crashplan probes a host, from ``/etc/os-release``.
It is the mainline base release plus

* ``on`` / ``off``: release switches (``crashplan.kernel.versions.SWITCHES``) that the distribution's
  kernel has although its base predates them (backports), or lacks;
* ``auto``: the ``crashkernel=auto`` tables of RHEL 8's ``__parse_crashkernel()``;
* ``facts``: every statement with the source it was read from (repository, file, commit) and its
  certainty: ``"read"`` when the code or the build was read, otherwise ``"inferred: <why>"``.

Nothing here is a guess without saying so: where only the base release is known, the profile has no
switch overrides and its facts say that the mainline base is modelled.  An unknown suffix gets no
profile, and ``unknown_note()`` says that the mainline base is used.

This module is imported only when a release string carries a distribution suffix (cold start).
"""

from __future__ import annotations

from crashplan.records import NamedTuple

from .distro_id import DistroMark, identify

__all__ = ["AUTO_MESSAGE", "PROFILES", "Fact", "Profile", "for_mark", "from_os_release", "get", "match", "unknown_note"]

AUTO_MESSAGE = "Using crashkernel=auto, the size chosen is a best effort estimation."


class Fact(NamedTuple):
    what: str
    source: str  # repository, file, commit (or the document) it was read from
    certainty: str = "read"  # "read", or "inferred: <why>"
    # a parameter the fact is about (e.g. "crashkernel=auto"): noted only for command lines holding it
    about: str | None = None


class Profile(NamedTuple):
    key: str
    name: str  # "RHEL 8.10 (and rebuilds)"
    family: str  # rhel, oracle-uek, fedora, suse, debian, ubuntu, amazon, openeuler
    base: tuple[int, int]  # the mainline series it is built on
    on: frozenset[str] = frozenset()  # switches on although the base predates them
    off: frozenset[str] = frozenset()  # switches off although the base has them
    auto: dict[str, str] | None = None  # arch (and "ppc64le-fadump") -> crashkernel=auto table
    auto_removed: bool = False  # the family had crashkernel=auto and this release dropped it
    default_tool: str | None = None  # key of crashplan.sizing.distro_defaults
    facts: tuple[Fact, ...] = ()

    def notes(self) -> tuple[str, ...]:
        """One line per fact that changes or qualifies crashplan's answer, for ``check`` and ``lint``."""
        out = []
        for f in self.facts:
            tail = "" if f.certainty.startswith("read") else f" ({f.certainty})"
            out.append(f"{self.name}: {f.what}{tail} [{f.source}]")
        return tuple(out)


# ------------------------------------------------------------------------------------------------
# Sources (cited by the facts below)

SRC_RHEL8_AUTO_V2 = ("RHEL 8 kernel/crash_core.c __parse_crashkernel() as quoted on LKML by Red Hat "
                     "(Kairui Song, 'kernel/crash_core: Add crashkernel=auto', 2021-02) and in a SUSE "
                     "kdump blog of 2022-01-27; RHEL 8 'Memory requirements for kdump' table (docs.redhat.com)")
SRC_RHEL8_AUTO_V1 = ("earlier RHEL 8 kernel/crash_core.c __parse_crashkernel() as quoted in "
                     "yifengyou/crash docs/基础知识/crashkernel启动参数.md")
SRC_RHEL9_ROUNDUP = ("CentOS Stream 9 kernel-5.14.0-133.el9 changelog: 'kdump: round up the total memory size "
                     "to 128M for crashkernel reservation' (mainline 6.0)")
SRC_RHEL9_NOAUTO = ("RHEL 9 'Considerations in adopting RHEL 9', Kernel: 'the crashkernel=auto option in the boot "
                    "command line is no longer supported on RHEL 9 and later releases' (access.redhat.com); "
                    "ctrliq/kernel-src-tree kernel/crash_core.c has no auto branch")
SRC_SUSE_CMA = ("openSUSE/kernel-source patches.suse/kdump-add-crashkernel-cma-suffix.patch and "
                "kdump-implement-reserve_crashkernel_cma.patch (Git-commit 35c18f2933c5, Patch-mainline "
                "v6.17-rc1, jsc#PED-7249); their context is the 6.4 kernel/crash_core.c with the 6.7 "
                "generic parse_crashkernel(..., low_size, high) and x86 arch_reserve_crashkernel()")
SRC_OE_ARM64_HIGH = ("openeuler-mirror/kernel arch/arm64/mm/init.c @02d3d962aed113f55df9444d3e4d3b31c3504b5e: "
                     "reserve_crashkernel_high() parses crashkernel=X,high on arm64 (openEuler 5.10)")
SRC_UEK_AUTO = ("Oracle's 'kernel/crash_core: Add crashkernel=auto for vmcore creation' "
                "(CONFIG_CRASH_AUTO_STR, LKML 2021-02, not merged)")

# RHEL 8 crashkernel=auto tables.  v2: x86_64 and s390x share one table (read); ppc64le picks the fadump
# table unless the last fadump= is absent or starts with "off".
_RHEL8_AUTO_V2 = {
    "x86_64": "1G-4G:160M,4G-64G:192M,64G-1T:256M,1T-:512M",
    "s390x": "1G-4G:160M,4G-64G:192M,64G-1T:256M,1T-:512M",
    "arm64": "2G-:448M",
    "ppc64le": "2G-4G:384M,4G-16G:512M,16G-64G:1G,64G-128G:2G,128G-:4G",
    "ppc64le-fadump": "4G-16G:768M,16G-64G:1G,64G-128G:2G,128G-1T:4G,1T-2T:6G,2T-4T:12G,4T-8T:20G,"
                      "8T-16T:36G,16T-32T:64G,32T-64T:128G,64T-:180G",
}
_RHEL8_AUTO_V1 = {
    "x86_64": "1G-64G:160M,64G-1T:256M,1T-:512M",
    "s390x": "4G-64G:160M,64G-1T:256M,1T-:512M",
    "arm64": "2G-:448M",
    "ppc64le": "2G-4G:384M,4G-16G:512M,16G-64G:1G,64G-128G:2G,128G-:4G",
}

# RHEL 8 minor release -> first kernel build (4.18.0-N): GA builds of each minor release
_RHEL8_BUILDS = ((10, 553), (9, 513), (8, 477), (7, 425), (6, 372), (5, 348), (4, 305), (3, 240), (2, 193),
                 (1, 147), (0, 80))
_RHEL9_BUILDS = ((7, 611), (6, 570), (5, 503), (4, 427), (3, 362), (2, 284), (1, 162), (0, 70))
_RHEL10_BUILDS = ((1, 124), (0, 55))


def _minor_of(build: int, table: tuple[tuple[int, int], ...]) -> int:
    for minor, first in table:
        if build >= first:
            return minor
    return 0


def _mainline_fact(base: tuple[int, int], family: str, source: str) -> Fact:
    return Fact(f"modelled as mainline {base[0]}.{base[1]}", source,
                f"no {family} change to crashkernel= handling found")


def _rhel8(build: int, minor_text: str | None) -> Profile:
    minor = int(minor_text) if minor_text is not None else _minor_of(build, _RHEL8_BUILDS)
    early = build < 193
    table = _RHEL8_AUTO_V1 if early else _RHEL8_AUTO_V2
    facts = (
        Fact(f"crashkernel=auto expands to a built-in table (x86_64 {table['x86_64']})",
             SRC_RHEL8_AUTO_V1 if early else SRC_RHEL8_AUTO_V2,
             "table change assumed at 4.18.0-193 (8.2); not pinned", about="crashkernel=auto"),
        Fact("ranges do not round RAM up to 128M (mainline 4.18)", "not read",
             "no RHEL 8 backport of the 6.0 round-up found"),
    )
    return Profile(f"rhel8.{minor}{'-early' if early else ''}", f"RHEL 8.{minor}", "rhel", (4, 18),
                   auto=table, default_tool="rhel8-auto", facts=facts)


def _rhel9(build: int, minor_text: str | None) -> Profile:
    minor = int(minor_text) if minor_text is not None else _minor_of(build, _RHEL9_BUILDS)
    on = frozenset({"roundup_128m"}) if build >= 133 else frozenset()
    facts = [Fact("crashkernel=auto is gone (rejected, nothing reserved)", SRC_RHEL9_NOAUTO, about="crashkernel=auto")]
    if build >= 133:
        facts.append(Fact("ranges round RAM up to 128M (6.0 backport, 5.14.0-133+)", SRC_RHEL9_ROUNDUP))
    facts.append(Fact("6.7+ crashkernel code (generic reservation, ,cma) not modelled", "not read",
                      "no backport found; the 5.14 flows are used"))
    # without _M the build is a GA build of a minor release or a CentOS Stream build: both are named
    name = f"RHEL 9.{minor}" if minor_text is not None else f"RHEL 9.{minor} / CentOS Stream 9"
    # the key names everything the profile depends on (profiles are cached by key)
    key = f"rhel9.{minor}" + ("" if build >= 133 else "-pre133") + ("" if minor_text is not None else "-s")
    return Profile(key, name, "rhel", (5, 14), on=on, auto_removed=True,
                   default_tool="kexec-tools-el9", facts=tuple(facts))


def _rhel10(build: int, minor_text: str | None) -> Profile:
    minor = int(minor_text) if minor_text is not None else _minor_of(build, _RHEL10_BUILDS)
    facts = (Fact("crashkernel=auto is gone (rejected, nothing reserved)", SRC_RHEL9_NOAUTO, about="crashkernel=auto"),
             _mainline_fact((6, 12), "RHEL 10", "ctrliq/kernel-src-tree kernel/crash_reserve.c"))
    name = f"RHEL 10.{minor}" if minor_text is not None else f"RHEL 10.{minor} / CentOS Stream 10"
    key = f"rhel10.{minor}" + ("" if minor_text is not None else "-s")
    return Profile(key, name, "rhel", (6, 12), auto_removed=True, default_tool="kdump-utils",
                   facts=facts)


_UEK = {(5, 4): "UEK 6", (5, 15): "UEK 7", (6, 12): "UEK 8", (4, 14): "UEK 5"}


def _uek(series: tuple[int, int], el: str) -> Profile:
    name = f"Oracle Linux {el} {_UEK.get(series, 'UEK')}"
    facts = (_mainline_fact(series, "UEK", "Oracle UEK release notes"),
             Fact("crashkernel=auto treated as mainline (rejected)", SRC_UEK_AUTO,
                  "whether UEK carries Oracle's auto patch was not read", about="crashkernel=auto"))
    return Profile(f"uek-{series[0]}.{series[1]}-el{el}", name, "oracle-uek", series,
                   default_tool="kexec-tools-el9" if el == "9" else None, facts=facts)


_SUSE = {
    # code stream -> (name, base series)
    "150400": ("SLES 15 SP4 / Leap 15.4", (5, 14)),
    "150500": ("SLES 15 SP5 / Leap 15.5", (5, 14)),
    "150600": ("SLES 15 SP6 / Leap 15.6", (6, 4)),
    "150700": ("SLES 15 SP7", (6, 4)),
    "160000": ("SLES 16.0", (6, 12)),
}


def _suse(stream: str, series: tuple[int, int]) -> Profile | None:
    known = _SUSE.get(stream)
    if known is None or known[1] != series:
        return None
    name, base = known
    on: set[str] = set()
    facts: list[Fact] = []
    if stream in ("150600", "150700"):
        on.add("generic_x86_arm64_riscv")
        facts.append(Fact("x86_64/arm64 use the 6.7 generic reservation (backport)", SRC_SUSE_CMA,
                          "inferred from the ,cma patches' context"))
    if stream == "150700" or stream == "160000":
        on |= {"cma_suffix", "cma_x86"}
        facts.append(Fact("knows ,cma and x86_64 reserves it from CMA (6.17 backport)", SRC_SUSE_CMA,
                          "inferred: the patches target SLE 15 SP7, jsc#PED-7249"))
    if stream == "150600":
        facts.append(Fact(",cma is treated as unknown (put the plain token last)", SRC_SUSE_CMA,
                          "inferred: no evidence that SP6 carries the ,cma patches"))
    if stream in ("150400", "150500"):
        facts.append(_mainline_fact(base, "SUSE", "openSUSE/kernel-source"))
    return Profile(f"sles-{stream}", name, "suse", base, on=frozenset(on), default_tool="kdumptool",
                   facts=tuple(facts))


_DEBIAN = {(4, 19): "Debian 10", (5, 10): "Debian 11", (6, 1): "Debian 12", (6, 12): "Debian 13"}
_UBUNTU = {(4, 15): "Ubuntu 18.04", (5, 4): "Ubuntu 20.04", (5, 15): "Ubuntu 22.04", (6, 8): "Ubuntu 24.04",
           (5, 19): "Ubuntu 22.04 HWE", (6, 2): "Ubuntu 22.04 HWE", (6, 5): "Ubuntu 22.04 HWE",
           (6, 11): "Ubuntu 24.04 HWE", (6, 14): "Ubuntu 24.04 HWE", (6, 17): "Ubuntu 24.04 HWE",
           (6, 6): "Ubuntu 24.04"}
_AMAZON = {"amzn2": "Amazon Linux 2", "amzn2023": "Amazon Linux 2023"}
_OPENEULER = {(4, 19): "openEuler 20.03", (5, 10): "openEuler 22.03", (6, 6): "openEuler 24.03"}


def _debian(series: tuple[int, int], deb: str | None) -> Profile:
    name = f"Debian {deb}" if deb else _DEBIAN.get(series, "Debian")
    number = name.split()[1] if " " in name else ""
    facts = (_mainline_fact(series, "Debian", "Debian kernels are the stable mainline tree plus packaging patches"),)
    return Profile(f"debian{number}-{series[0]}.{series[1]}", name, "debian", series, default_tool="kdump-tools-debian",
                   facts=facts)


def _ubuntu(series: tuple[int, int]) -> Profile:
    name = _UBUNTU.get(series, "Ubuntu")
    facts = (_mainline_fact(series, "Ubuntu", "Ubuntu kernels follow the mainline stable series"),)
    return Profile(f"ubuntu-{series[0]}.{series[1]}", name, "ubuntu", series, default_tool="kdump-tools-ubuntu",
                   facts=facts)


def _amazon(tag: str, series: tuple[int, int]) -> Profile:
    name = _AMAZON[tag]
    facts = (_mainline_fact(series, name, "Amazon Linux kernels follow the mainline stable series"),)
    return Profile(f"{tag}-{series[0]}.{series[1]}", name, "amazon", series, facts=facts)


def _openeuler(series: tuple[int, int], tag: str) -> Profile:
    name = _OPENEULER.get(series, "openEuler")
    facts: list[Fact] = [_mainline_fact(series, "openEuler", "openeuler-mirror/kernel")]
    if series == (5, 10):
        facts.append(Fact("arm64 reads crashkernel=X,high (backport); not replayed: mainline 5.10 ignores it",
                          SRC_OE_ARM64_HIGH, "read; not modelled"))
    return Profile(f"openeuler-{tag}-{series[0]}.{series[1]}", name, "openeuler", series, facts=tuple(facts))


def _fedora(series: tuple[int, int], fc: str) -> Profile:
    facts = (_mainline_fact(series, "Fedora", "Fedora kernels follow the mainline stable series"),)
    return Profile(f"fedora-{fc}-{series[0]}.{series[1]}", f"Fedora {fc}", "fedora", series,
                   default_tool="kdump-utils", facts=facts)


def match(rest: str, series: tuple[int, int]) -> Profile | None:
    """The profile for the text after ``MAJOR.MINOR[.PATCH]`` of a ``uname -r``; None when it names none."""
    mark = identify(rest)
    return for_mark(mark, series) if mark is not None else None


def for_mark(mark: DistroMark, series: tuple[int, int]) -> Profile | None:
    """The profile of a suffix :func:`crashplan.kernel.distro_id.identify` has read, on ``series``; None when
    the distribution has no profile for it."""
    p = _build(mark, series)
    return remember(p) if p is not None else None


def _build(mark: DistroMark, series: tuple[int, int]) -> Profile | None:
    g = mark.groups
    if mark.family == "rhel":
        build, el, minor, uek = int(str(g[0])), g[1], g[2], g[3]
        if uek:
            return _uek(series, str(el))
        if el == "8" and series == (4, 18):
            return _rhel8(build, minor)
        if el == "9" and series == (5, 14):
            return _rhel9(build, minor)
        if el == "10" and series == (6, 12):
            return _rhel10(build, minor)
        return None
    if mark.family == "suse":
        return _suse(str(g[0]), series)
    if mark.family == "fedora":
        return _fedora(series, str(g[0]))
    if mark.family == "openeuler":
        return _openeuler(series, str(g[0]))
    if mark.family == "amazon":
        return _amazon(str(g[0]), series)
    if mark.family == "debian":
        return _debian(series, g[0])
    return _ubuntu(series)


def unknown_note(text: str, series: tuple[int, int]) -> str:
    return (f"{text}: no distribution profile matches this release string; crashplan models mainline "
            f"{series[0]}.{series[1]}")


_CACHE: dict[str, Profile] = {}


def remember(p: Profile) -> Profile:
    known = _CACHE.setdefault(p.key, p)
    if known != p:  # a key must name one profile: KernelRelease carries only the key
        raise AssertionError(f"two profiles share the key {p.key!r}")
    return p


def get(key: str) -> Profile:
    """The profile a ``KernelRelease.profile`` key names (filled by ``match``)."""
    return _CACHE[key]


_OS_RELEASE_FAMILY = {
    "rhel": "rhel", "centos": "rhel", "rocky": "rhel", "almalinux": "rhel", "ol": "rhel", "fedora": "fedora",
    "sles": "suse", "sled": "suse", "opensuse-leap": "suse", "debian": "debian", "ubuntu": "ubuntu",
    "amzn": "amazon", "openEuler": "openeuler", "openeuler": "openeuler",
}


def from_os_release(fields: dict[str, str]) -> str | None:
    """The distribution family ``/etc/os-release`` names (ID, then ID_LIKE), or None."""
    ids = [fields.get("ID", ""), *fields.get("ID_LIKE", "").split()]
    for i in ids:
        fam = _OS_RELEASE_FAMILY.get(i.strip().strip('"'))
        if fam:
            return fam
    return None


# Every profile crashplan knows, by a representative release (docs/kernel-fidelity.md and the tests)
PROFILES: tuple[tuple[str, str], ...] = (
    ("4.18.0-553.el8_10.x86_64", "RHEL 8.10 and rebuilds (Rocky, Alma, CentOS 8, Oracle RHCK)"),
    ("4.18.0-147.el8.x86_64", "RHEL 8.1 (first crashkernel=auto table)"),
    ("5.14.0-70.13.1.el9_0.x86_64", "RHEL 9.0"),
    ("5.14.0-503.11.1.el9_5.x86_64", "RHEL 9.5 and rebuilds"),
    ("5.14.0-611.el9.x86_64", "CentOS Stream 9"),
    ("6.12.0-55.el10.x86_64", "RHEL 10.0 / CentOS Stream 10"),
    ("5.4.17-2136.330.7.1.el8uek.x86_64", "Oracle Linux 8 UEK 6"),
    ("5.15.0-300.163.18.el9uek.x86_64", "Oracle Linux 9 UEK 7"),
    ("6.12.0-0.20.20.el9uek.x86_64", "Oracle Linux 9 UEK 8"),
    ("5.14.21-150400.24.150-default", "SLES 15 SP4"),
    ("5.14.21-150500.55.97-default", "SLES 15 SP5"),
    ("6.4.0-150600.23.47-default", "SLES 15 SP6"),
    ("6.4.0-150700.53.3-default", "SLES 15 SP7"),
    ("6.12.0-160000.5-default", "SLES 16.0"),
    ("4.15.0-213-generic", "Ubuntu 18.04"),
    ("5.4.0-216-generic", "Ubuntu 20.04"),
    ("5.15.0-140-generic", "Ubuntu 22.04"),
    ("6.8.0-60-generic", "Ubuntu 24.04"),
    ("6.14.0-24-generic", "Ubuntu 24.04 HWE"),
    ("4.19.0-27-amd64", "Debian 10"),
    ("5.10.0-35-amd64", "Debian 11"),
    ("6.1.0-37-amd64", "Debian 12"),
    ("6.12.38+deb13-amd64", "Debian 13"),
    ("4.14.355-275.572.amzn2.x86_64", "Amazon Linux 2 (4.14)"),
    ("5.10.238-234.956.amzn2.x86_64", "Amazon Linux 2 (5.10)"),
    ("6.1.141-155.222.amzn2023.x86_64", "Amazon Linux 2023"),
    ("4.19.90-2112.8.0.0131.oe1.x86_64", "openEuler 20.03"),
    ("5.10.0-136.12.0.86.oe2203sp1.x86_64", "openEuler 22.03"),
    ("6.6.0-28.0.0.34.oe2403.x86_64", "openEuler 24.03"),
)
