"""``crashplan check`` as data: what a kernel does with crashkernel= parameters on a machine.

Pure: the parameters, the target (release, architecture, RAM) and optionally a machine (memory map
and facts) go in; a ``CheckReport`` comes out.  The command line renders it as text or JSON.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crashplan.cmdline import split_params
from crashplan.diagnose import Diagnosis, Target, diagnose, kernel_view
from crashplan.kernel import Message, Outcome, distribution_facts, evaluate, normalize_arch
from crashplan.records import NamedTuple
from crashplan.severity import Severity

if TYPE_CHECKING:
    from crashplan.memmap.model import Machine
    from crashplan.simulate.model import Region

__all__ = ["SCHEMA", "CheckReport", "Region", "build_report", "merge_cmdline", "report_json"]

SCHEMA = "crashplan/check@1"


def __getattr__(name: str) -> Any:
    # Region is the simulator's (crashplan.simulate.model); imported only when asked for, so that a check
    # without a memory map does not load the simulator
    if name == "Region":
        from crashplan.simulate.model import Region

        return Region
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class CheckReport(NamedTuple):
    params: str
    cmdline: str  # the command line evaluated (the machine's, with its crashkernel= replaced by params)
    target: Target
    outcome: Outcome
    diagnoses: tuple[Diagnosis, ...]
    machine: Machine | None = None
    reservation: Any = None  # crashplan.simulate.Reservation when a memory map was replayed
    regions: tuple[Region, ...] = ()
    messages: tuple[Message, ...] = ()  # the kernel's log lines, parse stage then reservation stage
    map_note: str | None = None  # why no memory map was replayed
    notes: tuple[str, ...] = ()
    ignored: bool = False  # the kernel is built without the crashkernel= parser (CK130)
    # the machine's own line: what the distribution's tool would set (crashplan.sizing.distro_defaults)
    distribution_default: Any = None
    placement: Any = None  # crashplan.placement.PlacementBand: the x86 band when the source hides the initrd/image

    @property
    def reserves(self) -> bool:
        if self.ignored:
            return False
        if self.reservation is not None:
            return bool(self.regions)
        return self.outcome.accepted

    @property
    def lost(self) -> int:
        return sum(r.size for r in self.regions if r.kind != "cma")

    @property
    def cma(self) -> int:
        return sum(r.size for r in self.regions if r.kind == "cma")

    @property
    def problem(self) -> bool:
        return not self.reserves or any(d.severity in ("error", "warning") for d in self.diagnoses)

    @property
    def exit_status(self) -> int:
        return 1 if self.problem else 0


def _where(start: int, end: int) -> str:
    return "below 4 GiB" if end <= 1 << 32 else ("above 4 GiB" if start >= 1 << 32 else "across 4 GiB")


def headline(report: CheckReport) -> str:
    """The first line of ``crashplan check``: whether the parameters reserve, how much and where.

    ``crashkernel=256M reserves 256M at 0x46000000-0x55ffffff (below 4 GiB)``, or ``… reserves NOTHING:
    kdump is disabled``.  Addresses are the replayed ones (end inclusive, as /proc/iomem prints them);
    without a memory map, where the kernel looks first.
    """
    from crashplan.units import format_size

    o = report.outcome
    params = report.params or "(no crashkernel=)"
    if o.fadump:
        return f"{params} gives fadump {format_size(o.fadump_size or 0)} of boot memory (fadump=on)"
    if not report.reserves:
        return f"{params} reserves NOTHING: kdump is disabled"
    if report.reservation is not None:
        names = {"crashkernel": "", "crashkernel-low": "low ", "cma": "CMA "}
        if len(report.regions) == 1:
            r = report.regions[0]
            return (f"{params} reserves {names.get(r.kind, r.kind + ' ')}{format_size(r.size)} at "
                    f"{r.start:#x}-{r.end - 1:#x} ({_where(r.start, r.end)})")
        parts = [f"{names.get(r.kind, r.kind + ' ')}{format_size(r.size)} at {r.start:#x}" for r in report.regions]
        total = f"{format_size(report.lost)}" + (f" + {format_size(report.cma)} CMA" if report.cma else "")
        return f"{params} reserves {total}: " + ", ".join(parts)
    size = (o.crash_size or 0) + (o.low_size or 0)
    where = (f"at {o.crash_base:#x}" if o.crash_base else
             "high (above the low limit)" if o.high else "low memory first")
    out = f"{params} reserves {format_size(size)}"
    if o.cma_size:
        out += f" + {format_size(o.cma_size)} CMA"
    return out + f", {where} (not placed: no memory map)"


def problem_line(report: CheckReport) -> str:
    """The second line: how many problems, by severity, or that there are none."""
    counts = {sev: sum(1 for d in report.diagnoses if d.severity == sev) for sev in ("error", "warning", "info")}
    n = counts["error"] + counts["warning"]
    if n == 0:
        info = counts["info"]
        return "no problems found" + (f" ({info} note{'s' if info != 1 else ''} below)" if info else "")
    parts = [f"{c} {sev}{'s' if c != 1 else ''}" for sev, c in counts.items() if c and sev != "info"]
    notes = f"; {counts['info']} note{'s' if counts['info'] != 1 else ''}" if counts["info"] else ""
    return f"{n} problem{'s' if n != 1 else ''}: " + ", ".join(parts) + notes + " (Diagnosis below)"


def merge_cmdline(base: str | None, params: str) -> str:
    """``base`` with its own ``crashkernel=`` parameters replaced by ``params``.

    The first crashkernel= parameter of ``base`` is where ``params`` goes; without one, ``params``
    is appended.  Parameters that merely contain ``crashkernel=`` (``rd.kdump.crashkernel=…``) stay:
    the kernel reads them too, and ``check`` says so.
    """
    if not base or not base.strip():
        return params
    out: list[str] = []
    placed = False
    for p in split_params(base):
        if p.name in ("crashkernel", '"crashkernel') and not p.after_dashdash:
            if not placed:
                out.append(params)
                placed = True
            continue
        out.append(base[p.start:p.end])
    if not placed:
        # before "--": what follows it belongs to init
        idx = next((i for i, p in enumerate(split_params(base)) if p.name == "--" and p.value is None), None)
        if idx is None:
            out.append(params)
        else:
            out.insert(idx, params)
    return " ".join(x for x in out if x)


def build_report(
    params: str,
    *,
    kernel: str,
    arch: str,
    system_ram: int,
    machine: Machine | None = None,
    replay: bool = True,
    build: tuple[tuple[str, bool], ...] = (),
) -> CheckReport:
    """Evaluate ``params`` for the target and, when ``machine`` has a memory map, replay the reservation.

    ``build`` holds the kernel's known build options (``Target.build``): a kernel without kexec or
    crash dump support gets CK130, and one that does not read crashkernel= at all reserves nothing."""
    base = machine.cmdline if machine is not None else None
    cmdline = merge_cmdline(base, params)
    seen = kernel_view(cmdline, normalize_arch(arch))  # what the kernel keeps of it (COMMAND_LINE_SIZE)
    outcome = evaluate(seen, system_ram=system_ram, kernel=kernel, arch=arch)
    target = Target(kernel, arch, system_ram, build)
    diags = list(diagnose(cmdline, [target]))
    if build:
        from crashplan.capability import OPTIONS, kdump_capability

        known = dict(build)
        if kdump_capability({k: known.get(k) for k in OPTIONS}).reserves is False:
            return CheckReport(
                params=params, cmdline=cmdline, target=target, outcome=outcome, diagnoses=tuple(diags),
                machine=machine, map_note="this kernel does not read crashkernel= (built without "
                "CONFIG_CRASH_DUMP): nothing is reserved", ignored=True,
                notes=outcome.notes + (tuple(machine.notes) if machine is not None else ()))
    reservation = None
    regions: tuple[Region, ...] = ()
    parse_msgs = outcome.messages + outcome.fadump_messages
    messages: tuple[Message, ...] = parse_msgs
    map_note = None
    band = None
    if machine is None or not machine.memmap.ram or not getattr(machine.memmap, "layout_known", True):
        map_note = "no memory map: the reservation was not replayed"
    elif replay:
        from crashplan import simulate

        reservation = simulate.reserve(outcome, machine, cmdline=seen)
        regions = reservation.regions
        from crashplan.placement import placement

        band = placement(outcome, machine, reservation, cmdline=seen)
        if outcome.low_messages and not any(r.kind == "crashkernel" and r.start >= 1 << 32 for r in regions):
            # x86 <= 6.6 parses ,low only when the region landed above 4 GiB
            parse_msgs = tuple(m for m in parse_msgs if m not in outcome.low_messages)
        messages = parse_msgs + tuple(Message(*m) for m in reservation.messages)
        diags = [_replayed_fix(d, outcome, machine, kernel=kernel, arch=arch, system_ram=system_ram) for d in diags]
        have = {d.code for d in diags}
        same = {"CK309": "CK107", "CK306": "CK215"}  # the simulator's word for what diagnose already said
        for p in reservation.problems:
            if same.get(p.code) in have:
                continue
            diags.append(Diagnosis(p.code, _PROBLEM_NAMES.get(p.code, "placement"), Severity(p.severity), p.text,
                                   None, p.fix, "", (target,)))
    return CheckReport(
        params=params, cmdline=cmdline, target=target, outcome=outcome, diagnoses=tuple(diags), machine=machine,
        reservation=reservation, regions=regions, messages=messages, map_note=map_note,
        notes=outcome.notes + (tuple(machine.notes) if machine is not None else ()),
        placement=band,
    )


def _replayed_fix(d: Diagnosis, outcome: Outcome, machine: Machine, *, kernel: str, arch: str,
                  system_ram: int) -> Diagnosis:
    """``d`` with its fix kept only when the fix, replayed on this machine's map, reserves memory."""
    if not d.fix:
        return d
    from crashplan import simulate

    seen = kernel_view(d.fix, normalize_arch(arch))
    o = evaluate(seen, system_ram=system_ram, kernel=kernel, arch=arch)
    if o.accepted and any(r.kind != "cma" for r in simulate.reserve(o, machine, cmdline=seen).regions):
        return d
    msg = d.message + (f" (no automatic fix: `{d.fix}` would not be reserved on this machine's memory map either)"
                       if d.severity == "error" else "")
    return d._replace(fix=None, message=msg)
def with_distribution_default(r: CheckReport, facts: Any = None,
                              os_release: dict[str, str] | None = None) -> CheckReport:
    """``r`` with what the distribution's tool would set for this machine, compared with this line.

    The verdict says how the default compares with what this line reserves ("smaller than this line",
    "larger than this line", "same as this line"; "reserves nothing" when no entry matches).
    """
    from crashplan.sizing.distro_defaults import MachineFacts, distribution_default

    o = r.outcome
    dd = distribution_default(str(o.kernel), o.arch, r.target.system_ram,
                              facts=facts if facts is not None else MachineFacts(), os_release=os_release)
    if dd is None or dd.size is None:
        return r._replace(distribution_default=dd)
    current = (o.crash_size + (o.low_size or 0) * bool(o.high)) if r.reserves else 0
    from crashplan.units import format_size

    if dd.size == 0:
        v, why = "reserves nothing", "no entry of the default table matches this RAM size"
    elif dd.size == current:
        v, why = "same as this line", f"both reserve {format_size(current)}"
    elif dd.size < current:
        v, why = "smaller than this line", f"{format_size(dd.size)} against {format_size(current)} here"
    else:
        v, why = "larger than this line", f"{format_size(dd.size)} against {format_size(current)} here"
    return r._replace(distribution_default=dd._replace(verdict=v, detail=why))


# names of the simulator's placement codes (crashplan.simulate, docs/simulator.md)
_PROBLEM_NAMES = {
    "CK300": "layout-unknown", "CK301": "no-room", "CK302": "fixed-offset-in-use", "CK303": "fixed-offset-misaligned",
    "CK304": "low-region-impossible", "CK305": "fell-back-high", "CK306": "no-low-region", "CK307": "cma-short",
    "CK308": "cma-split", "CK309": "size-ge-ram", "CK310": "kaslr-window", "CK311": "large-share-of-ram",
    "CK312": "placement-approximate", "CK313": "ppc-base-assumed", "CK314": "fadump",
}


def _diag_json(d: Diagnosis) -> dict[str, Any]:
    return {
        "code": d.code, "name": d.name, "severity": d.severity, "message": d.message,
        "span": list(d.span) if d.span else None, "fix": d.fix, "detail": d.detail,
    }


def report_json(r: CheckReport) -> dict[str, Any]:
    """The JSON document of ``crashplan check --format json`` (schema ``crashplan/check@1``)."""
    o = r.outcome
    return {
        "schema": SCHEMA,
        "kernel": {"release": str(o.kernel), "series": o.kernel.label, "arch": o.arch, "flow": o.flow},
        "system_ram": r.target.system_ram,
        "params": r.params,
        "cmdline": r.cmdline,
        "parse": {
            "ret": o.ret, "errno": o.errno_name, "accepted": o.accepted, "crash_size": o.crash_size,
            "crash_base": o.crash_base, "low_size": o.low_size, "cma_size": o.cma_size, "high": o.high,
            "fadump": o.fadump, "fadump_size": o.fadump_size,
            "tokens": {k: {"start": t.start, "end": t.end, "text": t.text} for k, t in o.tokens.items()},
        },
        "reserves": r.reserves,
        "replayed": r.reservation is not None,
        "map_note": r.map_note,
        "reservations": [{"kind": g.kind, "start": g.start, "end": g.end, "size": g.size} for g in r.regions],
        "lost": r.lost if r.reservation is not None else None,
        "cma": r.cma if r.reservation is not None else None,
        "messages": [{"level": m.level, "text": m.text} for m in r.messages],
        "diagnoses": [_diag_json(d) for d in r.diagnoses],
        "notes": list(r.notes),
        "distribution": distribution_facts(o.kernel),
        "distribution_default": r.distribution_default.as_dict() if r.distribution_default is not None else None,
        "placement": _placement_json(r.placement),
        "exit_status": r.exit_status,
    }


def _placement_json(p: Any) -> dict[str, Any] | None:
    """``placement``: where the main x86 region lands, and the band it can land in when the source hides
    the initrd or the KASLR image (``crashplan.placement``); null where it does not apply."""
    if p is None:
        return None
    return {
        "exact": p.exact,
        "region": {"start": p.start, "end": p.end},
        "band": {"start": p.band_start, "end": p.band_end},
        "initrd_known": p.initrd_known,
        "kernel_known": p.kernel_known,
        "firmware": p.firmware,
        "boot_services_known": p.boot_services_known,
        "fails_somewhere": p.fails_somewhere,
        "assumptions": list(p.assumptions),
        "scenarios": [
            {"rule": c.rule, "firmware": c.firmware, "label": c.label,
             "initrd": {"start": c.initrd[0], "end": c.initrd[1]} if c.initrd else None,
             "start": c.start, "end": c.end}
            for c in p.scenarios if c.rule != "kaslr"
        ] + _kaslr_summary(p),
    }


def _kaslr_summary(p: Any) -> list[dict[str, Any]]:
    # one entry for the KASLR slots (there can be hundreds): the lowest and highest region they give
    slots = [c for c in p.scenarios if c.rule == "kaslr" and c.start is not None]
    if not slots:
        return []
    return [{"rule": "kaslr", "firmware": p.firmware, "label": f"KASLR: {len(slots)} image positions that overlap "
             "the region", "initrd": None, "start": min(c.start for c in slots), "end": max(c.end for c in slots)}]
