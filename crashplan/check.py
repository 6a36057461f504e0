"""``crashplan check`` as data: what a kernel does with crashkernel= parameters on a machine.

Pure: the parameters, the target (release, architecture, RAM) and optionally a machine (memory map
and facts) go in; a ``CheckReport`` comes out.  The command line renders it as text or JSON.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from crashplan.cmdline import split_params
from crashplan.diagnose import Diagnosis, Target, diagnose, kernel_view
from crashplan.kernel import Message, Outcome, evaluate, normalize_arch

if TYPE_CHECKING:
    from crashplan.memmap.model import Machine

__all__ = ["CheckReport", "Region", "build_report", "merge_cmdline", "report_json", "SCHEMA"]

SCHEMA = "crashplan/check@1"


class Region(NamedTuple):
    kind: str  # "crashkernel", "crashkernel-low", "cma"
    start: int
    end: int  # exclusive

    @property
    def size(self) -> int:
        return self.end - self.start


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
    placement: Any = None  # crashplan.placement.Placement: the x86 band when the source hides the initrd/image

    @property
    def reserves(self) -> bool:
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
) -> CheckReport:
    """Evaluate ``params`` for the target and, when ``machine`` has a memory map, replay the reservation."""
    base = machine.cmdline if machine is not None else None
    cmdline = merge_cmdline(base, params)
    seen = kernel_view(cmdline, normalize_arch(arch))  # what the kernel keeps of it (COMMAND_LINE_SIZE)
    outcome = evaluate(seen, system_ram=system_ram, kernel=kernel, arch=arch)
    target = Target(kernel, arch, system_ram)
    diags = list(diagnose(cmdline, [target]))
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
        regions = tuple(Region(r.kind, r.start, r.end) for r in reservation.regions)
        from crashplan.placement import placement

        band = placement(outcome, machine, reservation, cmdline=seen)
        if outcome.low_messages and not any(r.kind == "crashkernel" and r.start >= 1 << 32 for r in regions):
            # x86 <= 6.6 parses ,low only when the region landed above 4 GiB
            parse_msgs = tuple(m for m in parse_msgs if m not in outcome.low_messages)
        messages = parse_msgs + tuple(Message(*m) for m in reservation.messages)
        have = {d.code for d in diags}
        same = {"CK309": "CK107", "CK306": "CK215"}  # the simulator's word for what diagnose already said
        for p in reservation.problems:
            if same.get(p.code) in have:
                continue
            diags.append(Diagnosis(p.code, _PROBLEM_NAMES.get(p.code, "placement"), p.severity, p.text, None, p.fix,
                                   "", (target,)))
    return CheckReport(
        params=params, cmdline=cmdline, target=target, outcome=outcome, diagnoses=tuple(diags), machine=machine,
        reservation=reservation, regions=regions, messages=messages, map_note=map_note,
        notes=outcome.notes + (tuple(machine.notes) if machine is not None else ()),
        placement=band,
    )


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
