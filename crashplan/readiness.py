"""Is kdump ready on a machine, and is its reservation enough?  Data in, a verdict out.

Pure: the facts read from a machine (kernel build options, the reservation ``/proc/iomem`` and
``/sys/kernel`` show, whether a capture kernel is loaded, the kdump service and its configuration,
the boot log's crashkernel lines, the sizing model's "needed") go in; a :class:`Status` with one
verdict — ``ready``, ``not ready`` or ``at risk`` — its reasons and the detail comes out.
``crashplan status`` (crashplan/cli/status_cmd.py) gathers the facts and prints the result.

:func:`kdump_capability` (crashplan.capability, re-exported here) answers "can this kernel kdump at
all?" from its build options; ``check`` and ``suggest`` ask it too, so that a kernel built without
crash dump support is refused everywhere.

Kernel facts, read from torvalds/linux ``kernel/Kconfig.kexec`` (commit 00c010e130e5, 6.16 era):

* ``CONFIG_KEXEC`` ("Enable kexec system call") and ``CONFIG_KEXEC_FILE`` ("Enable kexec file based
  system call") each ``select KEXEC_CORE``; they are the two ways a capture kernel is loaded
  (kexec_load, kexec_file_load).  Without both, nothing can be loaded.
* ``CONFIG_CRASH_DUMP`` ("kernel crash dumps") ``depends on KEXEC_CORE`` and ``select``\\ s
  ``VMCORE_INFO`` and ``CRASH_RESERVE``.  ``CRASH_RESERVE`` (a hidden option, split out in 6.9) is
  the code that parses ``crashkernel=`` and reserves the memory: without ``CRASH_DUMP`` a 6.9+
  kernel does not read ``crashkernel=`` at all.
* Before 6.9 (``kernel/Kconfig.kexec`` at commit 6b93f350e55f, the 6.7/6.8 file) the parser was
  ``CRASH_CORE``, selected by ``KEXEC_CORE``, and ``CRASH_DUMP`` selected ``KEXEC_CORE`` itself: a
  kernel with ``KEXEC`` but without ``CRASH_DUMP`` reserves memory yet cannot be its own capture
  kernel (a warning, not a refusal).  Either way kdump with a distribution's usual setup (the
  running kernel is also the capture kernel) needs ``CRASH_DUMP``.
* ``CONFIG_PROC_VMCORE`` (fs/proc/Kconfig, ``depends on CRASH_DUMP``, default y) is the capture
  kernel's ``/proc/vmcore``.
* ``CONFIG_CMA`` is what ``crashkernel=…,cma`` reserves from (else "crashkernel CMA reservation not
  supported", kernel/crash_reserve.c).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crashplan.capability import OPTIONS, Capability, build_options, config_flags, kdump_capability

TYPE_CHECKING = False  # read by mypy as typing.TYPE_CHECKING
if TYPE_CHECKING:
    from crashplan.memmap.model import Machine

__all__ = [
    "AT_RISK",
    "NOT_READY",
    "OPTIONS",
    "READY",
    "SCHEMA",
    "Capability",
    "Prediction",
    "Reason",
    "ServiceState",
    "Status",
    "StatusFacts",
    "assess",
    "build_options",
    "config_flags",
    "kdump_capability",
    "predict",
    "status_json",
]

SCHEMA = "crashplan/status@1"
READY, NOT_READY, AT_RISK = "ready", "not ready", "at risk"


# ---------------------------------------------------------------------------------------------
# the status of a machine


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceState:
    """A kdump service as systemd sees it (``systemctl is-enabled``/``is-active`` words), or None."""

    unit: str
    enabled: str | None = None  # "enabled", "disabled", "masked", "static", "not-found" …
    active: str | None = None  # "active", "inactive", "failed", "activating" …
    source: str = "systemctl"

    def as_dict(self) -> dict[str, object]:
        return {"unit": self.unit, "enabled": self.enabled, "active": self.active, "source": self.source}


@dataclass(frozen=True, slots=True, kw_only=True)
class Prediction:
    """What crashplan predicts for the machine's own crashkernel= parameters (``check``'s machinery)."""

    params: str  # the crashkernel= parameters of the command line ("" = none)
    accepted: bool
    # (kind, start, end exclusive); start and end are None when only parsed (no memory map to place on)
    regions: tuple[tuple[str, int | None, int | None], ...] = ()
    sizes: tuple[tuple[str, int], ...] = ()  # (kind, size), placed or not
    replayed: bool = False
    note: str | None = None

    @property
    def classic(self) -> int:
        return sum(z for k, z in self.sizes if k != "cma")

    @property
    def cma(self) -> int:
        return sum(z for k, z in self.sizes if k == "cma")


def predict(cmdline: str | None, *, kernel: str, arch: str, system_ram: int, machine: Machine | None = None,
            capability: Capability | None = None) -> Prediction:
    """Replay ``cmdline``'s crashkernel= parameters as ``crashplan check`` does."""
    from crashplan.check import build_report
    from crashplan.diagnose import crash_tokens, kernel_view
    from crashplan.kernel import normalize_arch

    a = normalize_arch(arch)
    params = " ".join(t.text for t in crash_tokens(kernel_view(cmdline or "", a)) if not t.embedded)
    if capability is not None and capability.reserves is False:
        return Prediction(params=params, accepted=False,
                          note="this kernel does not read crashkernel= (built without CONFIG_CRASH_DUMP)")
    if not params:
        return Prediction(params="", accepted=False, note="no crashkernel= on the command line")
    m = machine
    if m is not None and m.memmap.crash:
        m = m.replace(memmap=m.memmap.replace(crash=()))
    report = build_report(params, kernel=kernel, arch=a, system_ram=system_ram, machine=m)
    regions: tuple[tuple[str, int | None, int | None], ...]
    regions = tuple((r.kind, r.start, r.end) for r in report.regions)
    sizes = tuple((r.kind, r.size) for r in report.regions)
    if report.reservation is None:
        # parsed only: sizes without places
        o = report.outcome
        if o.accepted:
            sizes = tuple((k, z) for k, z in (("crashkernel", o.crash_size), ("crashkernel-low", o.low_size),
                                              ("cma", o.cma_size)) if z)
            regions = tuple((k, None, None) for k, _ in sizes)
    return Prediction(params=params, accepted=report.outcome.accepted, regions=regions, sizes=sizes,
                      replayed=report.reservation is not None, note=report.map_note)


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusFacts:
    """What was read from the machine; None = could not be read (``unreadable`` says why)."""

    source: str = "host"  # "host", "root" (a tree under --root) or "machine file"
    source_path: str | None = None
    release: str | None = None
    arch: str | None = None
    cmdline: str | None = None
    capability: Capability = field(default_factory=lambda: Capability(can_kdump=None))
    # the reservation: "Crash kernel" regions of /proc/iomem (None: not readable or addresses hidden)
    crash_regions: tuple[tuple[int, int], ...] | None = None
    cma_ranges: tuple[tuple[int, int], ...] | None = None  # /sys/kernel/kexec/crash_cma_ranges (6.19+)
    kexec_crash_size: int | None = None
    crash_loaded: bool | None = None
    boot_lines: tuple[str, ...] | None = None  # the kernel's crashkernel lines of this boot
    services: tuple[ServiceState, ...] = ()
    tooling: Any = None  # crashplan.sizing.kdumpconf.KdumpConfig (merged) or None
    tooling_sources: tuple[str, ...] = ()
    needed: int | None = None  # the sizing model's requirement for the classic region
    recommended: int | None = None
    needed_cma: int | None = None  # the CMA plan's run-time need, when CMA ranges are reserved
    needed_classic_cma: int | None = None  # the CMA plan's classic part
    needed_assumptions: tuple[str, ...] = ()
    prediction: Prediction | None = None
    unreadable: tuple[tuple[str, str], ...] = ()  # (path or command, why)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Reason:
    level: str  # "not ready", "at risk", "unknown"
    key: str  # stable identifier: "no-kexec", "nothing-reserved", "not-loaded", …
    text: str

    def as_dict(self) -> dict[str, object]:
        return {"level": self.level, "key": self.key, "text": self.text}


@dataclass(frozen=True, slots=True, kw_only=True)
class Status:
    verdict: str
    reasons: tuple[Reason, ...]
    facts: StatusFacts
    reserved: int | None  # the classic region's size (kexec_crash_size, else /proc/iomem)
    reserved_low: int | None
    reserved_cma: int | None
    enough: bool | None
    ratio: float | None

    @property
    def exit_status(self) -> int:
        """0 ready, 1 not ready, 4 at risk (docs/status.md)."""
        return {READY: 0, NOT_READY: 1, AT_RISK: 4}[self.verdict]


_SZ_4G = 1 << 32


def _mib(n: int) -> str:
    from crashplan.units import format_size

    return format_size(n)


def _reservation(f: StatusFacts) -> tuple[int | None, int | None, int | None]:
    """(main, low, cma) sizes; None where not known.  The "Crash kernel" entries of /proc/iomem say
    both (with ``,high`` the main region lies above 4 GiB, the low one below); without them
    ``kexec_crash_size`` is taken as the main size (kernel/crash_core.c crash_get_memory_size(): the
    main region up to 6.4, main + low from 6.5; docs/machine-format.md)."""
    regions = f.crash_regions
    main = f.kexec_crash_size
    low: int | None = None
    if regions is not None:
        high = [e - s for s, e in regions if s >= _SZ_4G]
        lows = [e - s for s, e in regions if s < _SZ_4G]
        if high and lows:
            main, low = sum(high), sum(lows)
        else:
            main = sum(e - s for s, e in regions)
    cma = sum(e - s for s, e in f.cma_ranges) if f.cma_ranges is not None else None
    return main, low, cma


_Add = Callable[[str, str, str], None]  # (level, key, text): one reason


def _service_reasons(f: StatusFacts, add: _Add) -> None:
    """The kdump service: installed, enabled, not failed (kdump-tools: USE_KDUMP)."""
    known = [s for s in f.services if s.enabled not in (None, "not-found")]
    if not known and f.services:
        add(AT_RISK, "no-service", "no kdump service is installed (" +
            ", ".join(s.unit for s in f.services) + "): nothing loads a capture kernel at boot")
    for s in known:
        if s.enabled in ("disabled", "masked") and f.crash_loaded:
            add(AT_RISK, "service-disabled", f"{s.unit} is {s.enabled}: the capture kernel loaded now will not "
                "be loaded again after a reboot")
        elif s.enabled in ("disabled", "masked"):
            add(NOT_READY, "service-disabled", f"{s.unit} is {s.enabled}")
        if s.active == "failed":
            add(NOT_READY if not f.crash_loaded else AT_RISK, "service-failed",
                f"{s.unit} failed (see journalctl -u {s.unit})")
    if getattr(f.tooling, "enabled", None) is False:
        add(NOT_READY, "kdump-disabled", "USE_KDUMP is 0 in /etc/default/kdump-tools: kdump-tools does nothing")


def _enough(f: StatusFacts, classic: int | None, cma: int | None, add: _Add) -> tuple[bool | None, float | None]:
    """Whether the reservation holds what the sizing model needs, and by what ratio."""
    enough: bool | None = None
    ratio: float | None = None
    if classic and f.needed:
        if cma and f.needed_classic_cma is not None and f.needed_cma is not None:
            enough = classic >= f.needed_classic_cma and cma >= f.needed_cma
            ratio = min(classic / f.needed_classic_cma, cma / f.needed_cma)
            if not enough:
                add(AT_RISK, "too-small", f"{_mib(classic)} classic + {_mib(cma)} CMA reserved, "
                    f"{_mib(f.needed_classic_cma)} + {_mib(f.needed_cma)} needed: the capture kernel may run out "
                    "of memory")
        else:
            enough = classic >= f.needed
            ratio = classic / f.needed
            if not enough:
                add(AT_RISK, "too-small", f"{_mib(classic)} reserved, {_mib(f.needed)} needed for the installed "
                    f"kdump kernel and initrd: the capture kernel may run out of memory ({ratio:.2f}×)")
    return enough, ratio


def assess(f: StatusFacts) -> Status:
    """The verdict.  Not ready: kdump cannot work now (no kexec/crash dump support, nothing reserved,
    no capture kernel loaded).  At risk: it may work now but something is off (the reservation is
    smaller than the model needs, the service will not load it at the next boot, what crashplan
    predicted differs from what the kernel did, a fact that decides readiness could not be read).
    Ready: everything that decides it was read and is fine."""
    reasons: list[Reason] = []

    def add(level: str, key: str, text: str) -> None:
        reasons.append(Reason(level=level, key=key, text=text))

    cap = f.capability
    if cap.can_kdump is False:
        for text in cap.reasons:
            add(NOT_READY, "kernel-cannot-kdump", text)
    elif cap.can_kdump is None:
        add(AT_RISK, "kernel-config-unknown", "cannot tell whether this kernel can kdump: " + "; ".join(cap.reasons))
    for w in cap.warnings:
        add(AT_RISK, "no-proc-vmcore" if "PROC_VMCORE" in w else "no-crash-dump", w)

    classic, low, cma = _reservation(f)
    if classic is None and cap.reserves is False:
        classic = 0  # the kernel has no crashkernel= parser: nothing can be reserved
    wants_cma = bool(f.prediction and f.prediction.cma)
    if classic == 0 and not cma:
        if cap.can_kdump is not False:  # already said why
            why = "no crashkernel= on the command line" if f.prediction and not f.prediction.params else \
                "the kernel reserved nothing for the crashkernel= on its command line"
            add(NOT_READY, "nothing-reserved", f"no memory is reserved for the capture kernel: {why}")
    elif classic is None and cap.can_kdump is not False:
        add(AT_RISK, "reservation-unknown", "cannot tell what is reserved (neither the Crash kernel entries of "
            "/proc/iomem, which need root, nor kexec_crash_size was read)")
    if wants_cma and cap.cma is False:
        add(AT_RISK, "cma-not-built", "the command line asks for crashkernel=…,cma but the kernel is built without "
            "CONFIG_CMA: nothing is reserved from CMA")

    kmode = getattr(f.tooling, "kexec_mode", None)
    if f.crash_loaded is False and cap.can_kdump is not False and classic != 0:
        add(NOT_READY, "not-loaded", "no capture kernel is loaded (kexec_crash_loaded is 0): a crash now "
            "would not be captured")
    elif f.crash_loaded is None and cap.can_kdump is not False:
        add(AT_RISK, "loaded-unknown", "cannot tell whether a capture kernel is loaded (kexec_crash_loaded was "
            "not read)")
    if f.crash_loaded and cma and kmode == "load":
        add(AT_RISK, "cma-with-kexec-load", "CMA ranges are reserved but the kdump configuration loads the capture "
            "kernel with kexec_load (" + (getattr(f.tooling, "kexec_reason", None) or "-c") + "): only "
            "kexec_file_load passes the CMA memory to it")

    if cap.can_kdump is not False:
        _service_reasons(f, add)

    enough, ratio = _enough(f, classic, cma, add)

    p = f.prediction
    if p is not None and p.accepted and p.sizes and classic is not None and cap.can_kdump is not False:
        if p.classic and classic and (p.classic != classic + (low or 0)) and (p.classic != classic):
            add(AT_RISK, "prediction-differs", f"crashplan predicts {_mib(p.classic)} for {p.params}, the kernel "
                f"reserved {_mib(classic + (low or 0))}: the kernel may not be the release crashplan modelled "
                "or the memory map changed")
        elif p.classic and classic == 0:
            add(AT_RISK, "prediction-differs", f"crashplan predicts {_mib(p.classic)} for {p.params}, the kernel "
                "reserved nothing: see the boot log")

    for line in f.boot_lines or ():
        words = line.lower()
        if "fail" in words or "cannot" in words or "not supported" in words:
            add(AT_RISK if (classic or cma) else NOT_READY, "boot-log-failure", f"the kernel logged: {line}")
    # what stops kdump first, then what puts it at risk
    reasons.sort(key=lambda r: r.level != NOT_READY)
    levels = {r.level for r in reasons}
    verdict = NOT_READY if NOT_READY in levels else AT_RISK if AT_RISK in levels else READY
    return Status(verdict=verdict, reasons=tuple(reasons), facts=f, reserved=classic, reserved_low=low,
                  reserved_cma=cma, enough=enough, ratio=ratio)


def status_json(s: Status) -> dict[str, object]:
    """The ``crashplan status --format json`` document (schema ``crashplan/status@1``)."""
    f = s.facts
    t = f.tooling
    p = f.prediction
    return {
        "schema": SCHEMA,
        "source": {"kind": f.source, "path": f.source_path},
        "verdict": s.verdict,
        "exit_status": s.exit_status,
        "reasons": [r.as_dict() for r in s.reasons],
        "kernel": {"release": f.release, "arch": f.arch, "cmdline": f.cmdline, "capability": f.capability.as_dict()},
        "reservation": {
            "crash_regions": None if f.crash_regions is None else [{"start": a, "end": b, "size": b - a}
                                                                   for a, b in f.crash_regions],
            "cma_ranges": None if f.cma_ranges is None else [{"start": a, "end": b, "size": b - a}
                                                             for a, b in f.cma_ranges],
            "kexec_crash_size": f.kexec_crash_size, "classic": s.reserved, "low": s.reserved_low,
            "cma": s.reserved_cma, "boot_log": None if f.boot_lines is None else list(f.boot_lines),
        },
        "loaded": {
            "crash_loaded": f.crash_loaded,
            "syscall": getattr(t, "kexec_mode", None),
            "syscall_source": (("inferred from the kdump configuration: " + (getattr(t, "kexec_reason", None) or ""))
                               if getattr(t, "kexec_mode", None) else None),
        },
        "service": {
            "units": [x.as_dict() for x in f.services],
            "tooling": None if t is None else {
                "flavour": t.flavour, "sources": list(f.tooling_sources or t.sources), "enabled": t.enabled,
                "target": t.target, "path": t.path, "dump_levels": list(t.dump_levels), "collector": t.collector,
                "kexec_mode": t.kexec_mode,
            },
        },
        "prediction": None if p is None else {
            "params": p.params, "accepted": p.accepted, "replayed": p.replayed, "note": p.note,
            "regions": [{"kind": k, "start": a, "end": b, "size": z} for (k, a, b), (_, z)
                        in zip(p.regions, p.sizes, strict=True)],
        },
        "sizing": {
            "needed": f.needed, "recommended": f.recommended, "needed_cma_classic": f.needed_classic_cma,
            "needed_cma": f.needed_cma, "enough": s.enough,
            "ratio": None if s.ratio is None else round(s.ratio, 3), "assumptions": list(f.needed_assumptions),
        },
        "unreadable": [{"what": w, "why": y} for w, y in f.unreadable],
        "notes": list(f.notes),
    }
