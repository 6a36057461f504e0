"""What a kernel does, per architecture, as a function of its release: the one table to read and change.

Each architecture is one row of ``ARCH_TABLE``.  A cell is a condition on the named release switches of
``crashplan.kernel.versions.SWITCHES`` (``When``: every switch named must be on, a ``!`` in front means
off), never a release number: the number lives once, in the switch, and distribution profiles
(``crashplan.kernel.distros``) override switches, so they override every cell that names one.

The parser (``crashplan.kernel.evaluate``), the simulator, sizing, diagnose and lint ask this module;
texts that name a release ("``,cma`` from 6.17 on x86_64") are computed from it (``first_release``,
``releases_text``), so a release is written down once.

Adding a release: a row in ``SWITCHES`` for each behaviour that changes, the cells below that name it,
and the code that differs (kernel/__init__.py for the parser, crashplan/simulate/ for placement).
"""

from __future__ import annotations

import bisect
import functools
from enum import Enum

from crashplan.records import NamedTuple

from .versions import SUPPORTED_SERIES, SWITCHES, KernelRelease

__all__ = [
    "ARCH_TABLE",
    "ArchRow",
    "Flow",
    "When",
    "cma_supported",
    "first_release",
    "flow",
    "has",
    "high_low_supported",
    "pointers",
    "releases_text",
]


class Flow(str, Enum):
    """Which architecture code decides what ``crashkernel=`` means (kernel-semantics §4.4, §5.4–§5.6).

    The values are what ``Outcome.flow`` and ``crashplan check --format json`` carry.
    """

    GENERIC = "generic"  # parse_crashkernel() with the pointers the architecture passes (6.7+)
    X86_LEGACY = "x86-legacy"  # arch/x86/kernel/setup.c reserve_crashkernel(), 4.14 … 6.6
    ARM64_LEGACY = "arm64-legacy"  # arch/arm64/mm/init.c reserve_crashkernel(), 5.19 … 6.6 (riscv 6.6 too)
    PLAIN = "plain"  # parse_crashkernel() for X[@Y] and ranges only; reserve when ret == 0 and size > 0
    NONE = "none"  # no crashkernel support (loongarch before 6.3, riscv before 5.13)

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class When(NamedTuple):
    """A condition on release switches: all of ``names`` on (``"!name"``: that switch off); ``When()`` is always."""

    names: tuple[str, ...] = ()

    def holds(self, release: KernelRelease) -> bool:
        for n in self.names:
            want = not n.startswith("!")
            if SWITCHES[n.lstrip("!")].on(release) is not want:
                return False
        return True


def _w(*names: str) -> When:
    return When(names)


ALWAYS = When()


class ArchRow(NamedTuple):
    """One architecture: each feature a condition on switches (None: the architecture never has it)."""

    # the flow of the first condition that holds, in this order (the last one is always ALWAYS)
    flows: tuple[tuple[When, Flow], ...]
    # the generic flow passes the low/high pointers (reads ,high and ,low)
    high_low: When | None = None
    # the generic flow passes a CMA pointer (reserves ,cma)
    cma: When | None = None
    # /proc/iomem shows a "Crash kernel" region for a reservation (kernel-semantics §5.7)
    crash_res_in_iomem: When | None = ALWAYS
    # a plain size that does not fit below the DMA limit falls back above it (arm64 only; CK215)
    dma_fallback: When | None = None


_GENERIC_CORE = _w("generic_x86_arm64_riscv")

# Sources: kernel-semantics §4.4 (which code runs), §5.4–§5.7 (pointers, iomem), §6.1 (,cma); the
# release of each switch, and how sure it is, in versions.SWITCHES.
ARCH_TABLE: dict[str, ArchRow] = {
    "x86_64": ArchRow(
        flows=((_GENERIC_CORE, Flow.GENERIC), (ALWAYS, Flow.X86_LEGACY)),
        high_low=ALWAYS, cma=_w("cma_x86"),
    ),
    "arm64": ArchRow(
        flows=((_GENERIC_CORE, Flow.GENERIC), (_w("arm64_high_low"), Flow.ARM64_LEGACY), (ALWAYS, Flow.PLAIN)),
        high_low=ALWAYS, cma=_w("cma_arm64_riscv"), dma_fallback=_w("arm64_fallback"),
    ),
    "riscv64": ArchRow(
        flows=((_w("!riscv_kdump"), Flow.NONE), (_GENERIC_CORE, Flow.GENERIC),
               (_w("riscv_high_low"), Flow.ARM64_LEGACY), (ALWAYS, Flow.PLAIN)),
        high_low=ALWAYS, cma=_w("cma_arm64_riscv"),
    ),
    "loongarch64": ArchRow(
        flows=((_w("generic_loongarch"), Flow.GENERIC), (_w("loongarch_kdump"), Flow.PLAIN), (ALWAYS, Flow.NONE)),
        high_low=ALWAYS,
    ),
    "ppc64le": ArchRow(
        flows=((_w("ppc_generic"), Flow.GENERIC), (ALWAYS, Flow.PLAIN)),
        cma=_w("cma_ppc"),
        # before 6.15 the powerpc code never added it; 6.15-6.17 the generic code did; 6.18+ the arch hook
        # arch_add_crash_res_to_iomem() returns false again
        crash_res_in_iomem=_w("ppc_generic", "!ppc_crash_res_hidden"),
    ),
}
# s390x, arm, mips …: parse_crashkernel() for the plain syntax only, on every release
_OTHER = ArchRow(flows=((ALWAYS, Flow.PLAIN),))

_FEATURES = ("high_low", "cma", "crash_res_in_iomem", "dma_fallback")


def row(arch: str) -> ArchRow:
    """The row of a normalized architecture name (``crashplan.kernel.arch.normalize_arch``)."""
    return ARCH_TABLE.get(arch, _OTHER)


def flow(arch: str, release: KernelRelease) -> Flow:
    """Which architecture code decides, for this release (see ``Flow``)."""
    for cond, f in row(arch).flows:
        if cond.holds(release):
            return f
    return Flow.PLAIN  # not reached: every row ends with ALWAYS


def has(arch: str, feature: str, release: KernelRelease) -> bool | None:
    """Whether ``feature`` (a field of ``ArchRow``) holds; None where the architecture never has it."""
    if feature not in _FEATURES:
        raise KeyError(feature)
    cond: When | None = getattr(row(arch), feature)
    return None if cond is None else cond.holds(release)


def pointers(arch: str, release: KernelRelease) -> tuple[bool, bool]:
    """(passes low/high pointers, passes a CMA pointer) for the generic flow."""
    return bool(has(arch, "high_low", release)), bool(has(arch, "cma", release))


def cma_supported(arch: str, release: KernelRelease) -> bool:
    """Whether this release reserves ``crashkernel=X,cma`` on ``arch`` (kernel-semantics §6.1)."""
    return flow(arch, release) is Flow.GENERIC and pointers(arch, release)[1]


def high_low_supported(arch: str, release: KernelRelease) -> bool:
    """Whether this release reads ``crashkernel=X,high`` / ``,low`` on ``arch``."""
    f = flow(arch, release)
    if f in (Flow.X86_LEGACY, Flow.ARM64_LEGACY):
        return True
    return f is Flow.GENERIC and pointers(arch, release)[0]


_CHECKS = {"cma": cma_supported, "high_low": high_low_supported}


def first_release(arch: str, feature: str) -> str | None:
    """The first mainline release (``"6.17"``) from which ``feature`` holds on ``arch``; None: none up to NEWEST.

    ``feature`` is ``"cma"`` or ``"high_low"`` (what a user can write and have reserved), or a field of
    ``ArchRow``.  Computed from the table, never typed: a release is written once, in its switch.
    """
    check = _CHECKS.get(feature)
    for major, minor in _breakpoints():
        rel = KernelRelease(major, minor)
        if (check(arch, rel) if check is not None else has(arch, feature, rel)):
            return f"{major}.{minor}"
    return None


@functools.cache
def _breakpoints() -> tuple[tuple[int, int], ...]:
    """The oldest modelled series and, for each switch, the first series it is on in: the only places a
    condition on switches can change.  Between two of them every feature holds or fails throughout, so
    the first release of a feature is one of these (tests compare with a walk over every series).  The
    diagnosis texts ask for a dozen first releases on every start."""
    series = list(SUPPORTED_SERIES)
    firsts = {series[0]}
    for sw in SWITCHES.values():
        i = bisect.bisect_left(series, sw.since)
        if i < len(series):
            firsts.add(series[i])
    return tuple(sorted(firsts))


def switch_release(name: str) -> str:
    """The release a switch turns on from, as text (``"6.17"``)."""
    major, minor = SWITCHES[name].since
    return f"{major}.{minor}"


def releases_text(feature: str, arches: tuple[str, ...] | None = None, *, names: dict[str, str] | None = None,
                  style: str = "from") -> str:
    """``feature``'s first release per architecture as a phrase, architectures with one release grouped.

    ``style="from"``: ``x86 from 6.17, powerpc from 6.19, arm64 and riscv from 7.3``;
    ``style="plus"``: ``6.17+ on x86_64, 6.19+ on ppc64le, 7.3+ on arm64 and riscv64``;
    ``style="paren"``: ``x86_64 6.17+, ppc64le 6.19+, arm64 and riscv64 7.3+``.
    ``arches`` defaults to every architecture of the table; those that never have it are left out.
    """
    groups: dict[str, list[str]] = {}
    for a in arches if arches is not None else tuple(ARCH_TABLE):
        first = first_release(a, feature)
        if first is not None:
            groups.setdefault(first, []).append((names or {}).get(a, a))
    parts = []
    for rel, group in sorted(groups.items(), key=lambda kv: tuple(int(x) for x in kv[0].split("."))):
        who = group[0] if len(group) == 1 else ", ".join(group[:-1]) + " and " + group[-1]
        parts.append({"from": f"{who} from {rel}", "plus": f"{rel}+ on {who}", "paren": f"{who} {rel}+"}[style])
    return ", ".join(parts)


__all__ += ["ALWAYS", "row", "switch_release"]
