"""Two plans side by side — classic and CMA — each replayed through the kernel's parser and the
reservation simulator before it is offered.

``suggest()`` takes the model's inputs (``SizingInputs``), the facts that decide whether a CMA plan is
allowed (``CmaFacts``) and, optionally, the machine whose memory map the plans are replayed on.  A
plan whose command line the kernel would not accept, or whose regions the simulator cannot place,
is never offered as is: it is adjusted (``,high`` placement for the classic region; the CMA size the
map can hold) or refused with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from crashplan.sizing.model import (
    Budget,
    CmaBudget,
    SizingInputs,
    classic_budget,
    clean_size,
    cma_budget,
)
from crashplan.units import GiB, MiB

__all__ = [
    "CMA_CAVEATS",
    "CmaFacts",
    "Plan",
    "PlanReplay",
    "Portable",
    "Suggestion",
    "cma_refusal",
    "portable_table",
    "suggest",
]

SZ_4G = 1 << 32

CMA_CAVEATS = (
    ("After a panic the kernel waits 10 seconds before it starts the capture kernel, whether or not the CMA "
    "memory is used (kernel/crash_core.c crash_cma_clear_pending_dma(), CMA_DMA_TIMEOUT_SEC = 10; kdump-lab: "
    "11.6-14.6 s to the capture kernel's first line instead of 1.5-3.5 s)."),
    ("DMA the crashed kernel set up into pages of the CMA area can still land there and corrupt the capture "
    "kernel: drivers that pin memory without FOLL_LONGTERM, GPU/DRM buffers mapped through an IOMMU, RDMA "
    "registrations. Prefer the classic plan on machines with GPUs or RDMA NICs."),
    ("Pages in the CMA area are not in the dump: user memory, and movable kernel memory such as zswap/zsmalloc "
    "and balloon pages, which may also be dumped as garbage."),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CmaFacts:
    """What decides whether ``,cma`` may be offered; None = not known (the plan says what it assumed)."""

    kexec_mode: str | None = None  # "file", "load", "auto", "default"
    kexec_reason: str | None = None
    user_pages: tuple[bool, str] | None = None  # from KdumpConfig.keeps_user_pages()
    fadump: bool | None = None
    config_cma: bool | None = None
    config_kexec_file: bool | None = None
    config_source: str | None = None
    kdump_flavour: str | None = None
    release_known: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanReplay:
    """A plan's command line as the parser and the simulator took it: the ``replay`` of suggest's JSON."""

    cmdline: str  # the whole command line evaluated
    accepted: bool
    messages: tuple[tuple[str, str], ...]
    regions: tuple[tuple[str, int, int, int], ...] = ()  # (kind, start, end exclusive, size)
    problems: tuple[tuple[str, str, str], ...] = ()  # (code, severity, text)
    lost: int | None = None
    cma: int | None = None
    replayed: bool = False  # False: parsed only (no memory map)
    note: str | None = None
    reservation: Any = field(default=None, compare=False, repr=False)  # crashplan.simulate.Reservation

    def as_dict(self) -> dict[str, object]:
        return {
            "cmdline": self.cmdline, "accepted": self.accepted, "replayed": self.replayed,
            "messages": [{"level": lv, "text": t} for lv, t in self.messages],
            "regions": [{"kind": k, "start": s, "end": e, "size": z} for k, s, e, z in self.regions],
            "problems": [{"code": c, "severity": sv, "text": t} for c, sv, t in self.problems],
            "lost": self.lost, "cma": self.cma, "note": self.note,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    name: str  # "classic" or "cma"
    cmdline: str | None  # the crashkernel= parameters to put on the command line; None when refused
    refused: str | None = None
    crashkernel: int | None = None
    cma: int | None = None
    loses: int | None = None  # memory production loses (classic regions)
    keeps: int | None = None  # memory production keeps (RAM - loses; CMA included)
    borrowed: int = 0  # CMA: usable by production for movable memory only
    replay: PlanReplay | None = None
    adjustments: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "cmdline": self.cmdline, "refused": self.refused,
            "sizes": {"crashkernel": self.crashkernel, "cma": self.cma},
            "loses": self.loses, "keeps": self.keeps, "cma_borrowed": self.borrowed,
            "replay": self.replay.as_dict() if self.replay else None, "adjustments": list(self.adjustments),
            "notes": list(self.notes), "caveats": list(self.caveats),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Portable:
    cmdline: str
    ranges: tuple[tuple[int, int | None, int, int], ...]  # (start, end or None, size, required)
    checks: tuple[tuple[int, int, int, bool, str], ...]  # (ram, selected size, required, ok, why)
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "cmdline": self.cmdline,
            "ranges": [{"start": a, "end": b, "size": s, "required": r} for a, b, s, r in self.ranges],
            "checks": [{"ram": r, "selected": s, "required": q, "ok": ok, "why": w} for r, s, q, ok, w in self.checks],
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Suggestion:
    inputs: SizingInputs
    release: str  # the release the kernel rules were taken from
    budget: Budget
    cma_budget: CmaBudget | None
    plans: tuple[Plan, ...]
    portable: Portable | None = None
    notes: tuple[str, ...] = ()

    def plan(self, name: str) -> Plan:
        return next(p for p in self.plans if p.name == name)

    @property
    def recommended(self) -> bool:
        return any(p.refused is None for p in self.plans)


def _mib(n: int) -> str:
    from crashplan.units import format_size

    return format_size(n)


def _ksize(n: int) -> str:
    from crashplan.units import format_kernel_size

    return format_kernel_size(n)


def cma_refusal(arch: str, release: str, facts: CmaFacts) -> str | None:
    """The reason a CMA plan cannot be offered, or None (rules in the order a reader checks them)."""
    from crashplan.kernel import parse_release
    from crashplan.kernel.features import cma_supported, first_release
    from crashplan.kernel.versions import SWITCHES

    # the release from which the architecture reserves crashkernel=,cma: computed from the kernel's
    # architecture table (crashplan.kernel.features)
    rel = parse_release(release)
    since = first_release(arch, "cma")
    if since is None:
        return (f"{arch} never reserves crash kernel memory from CMA (no release has crashkernel=SIZE,cma there; "
                "the kernel ignores the token or rejects the command line)")
    if not facts.release_known:
        return (f"the kernel release is not known: {arch} reserves crashkernel=SIZE,cma only from Linux "
                f"{since} on (pass --kernel)")
    if not cma_supported(arch, rel):
        if SWITCHES["cma_suffix"].on(rel):
            how = "this release parses ,cma and ignores it"
        else:
            how = "this release does not know ,cma: a trailing X,cma token breaks the crashkernel= setting"
        return f"{arch} reserves crashkernel=SIZE,cma from Linux {since}; the kernel is {rel} ({how})"
    if facts.fadump:
        return ("fadump is active: crashkernel= sizes fadump's boot memory and ,cma is ignored "
                "(fadump has its own CMA use: fadump=on / fadump=nocma)")
    where = f" ({facts.config_source})" if facts.config_source else ""
    if facts.config_cma is False:
        return (f"the kernel is built without CONFIG_CMA{where}: it logs \"crashkernel CMA reservation not "
                "supported\" and reserves nothing from CMA")
    if facts.config_kexec_file is False:
        return (f"the kernel is built without CONFIG_KEXEC_FILE{where}: the capture kernel can only be loaded "
                "with kexec_load, which cannot use the CMA memory (kdump-lab: Debian's arm64 kernels)")
    if facts.kexec_mode == "load":
        why = f" ({facts.kexec_reason})" if facts.kexec_reason else ""
        return ("the capture kernel is loaded with kexec_load" + why + ": it sees only the classic region and "
                "fails as a classic reservation of that size would (kdump-lab: MemTotal 59.1 MiB at 112M)")
    if facts.user_pages is not None and facts.user_pages[0]:
        return (facts.user_pages[1] + "; pages in the CMA area are not in the vmcore, so this dump would lose "
                "the user memory that lived there")
    return None


def _base_cmdline(machine: Any) -> str | None:
    return getattr(machine, "cmdline", None) if machine is not None else None


def _replay(params: str, *, inputs: SizingInputs, release: str, machine: Any) -> PlanReplay:
    from crashplan.check import merge_cmdline
    from crashplan.kernel import evaluate

    cmdline = merge_cmdline(_base_cmdline(machine), params)
    outcome = evaluate(cmdline, system_ram=inputs.system_ram, kernel=release, arch=inputs.arch)
    msgs = tuple((m.level, m.text) for m in outcome.messages)
    layout = machine is not None and getattr(machine.memmap, "layout_known", True) and machine.memmap.ram
    if not outcome.accepted or not layout:
        note = None if outcome.accepted else "the kernel does not accept this command line"
        if outcome.accepted and not layout:
            note = "no memory map: the command line was parsed, the placement not replayed"
        return PlanReplay(cmdline=params, accepted=outcome.accepted, messages=msgs, note=note)
    from crashplan import simulate

    res = simulate.reserve(outcome, machine, cmdline=cmdline)
    regions = tuple((r.kind, r.start, r.end, r.size) for r in res.regions)
    problems = tuple((p.code, p.severity, p.text) for p in res.problems)
    messages = msgs + tuple((m[0], m[1]) for m in res.messages)
    return PlanReplay(cmdline=params, accepted=outcome.accepted, messages=messages, regions=regions,
                      problems=problems, lost=res.lost, cma=res.cma, replayed=True, reservation=res)


def _main_region(r: PlanReplay) -> tuple[str, int, int, int] | None:
    return next((x for x in r.regions if x[0] == "crashkernel"), None)


def _classic(inputs: SizingInputs, budget: Budget, release: str, machine: Any, ram: int) -> Plan:
    size = budget.recommended
    notes: list[str] = []
    adjustments: list[str] = []
    if size >= ram:
        return Plan(name="classic", cmdline=None, crashkernel=size,
                    refused=f"the capture kernel needs {_mib(size)}, not less than the machine's {_mib(ram)} of RAM")
    params = f"crashkernel={_ksize(size)}"
    rep = _replay(params, inputs=inputs, release=release, machine=machine)
    if not rep.accepted:
        return Plan(name="classic", cmdline=None, crashkernel=size, replay=rep,
                    refused="the kernel rejects " + params + ": " + "; ".join(t for _, t in rep.messages))
    if rep.replayed and _main_region(rep) is None and inputs.arch in ("x86_64", "arm64", "riscv64", "loongarch64"):
        tries = [(f"crashkernel={_ksize(size)},high", "places it above the low limit with the default low region")]
        if inputs.arch == "x86_64":
            # the default low region is max(swiotlb + 8M, 256M); SWIOTLB's 64 MiB + 8 MiB is what the
            # capture kernel needs from it (SUSE calibrate's MinLow is the same 72 MiB)
            tries.append((f"crashkernel={_ksize(size)},high crashkernel=72M,low",
                          "places it above 4 GiB with a 72M low region (64M SWIOTLB + 8M) instead of the 256M default"))
        for alt, how in tries:
            rep2 = _replay(alt, inputs=inputs, release=release, machine=machine)
            if rep2.accepted and _main_region(rep2) is not None:
                adjustments.append(f"{params} cannot be placed on this map; {alt} {how}")
                params, rep = alt, rep2
                break
    if rep.replayed and _main_region(rep) is None:
        why = "; ".join(t for _, _, t in rep.problems) or "the simulator placed nothing"
        return Plan(name="classic", cmdline=None, crashkernel=size, replay=rep,
                    refused=f"{params} cannot be reserved on this memory map: {why}")
    if rep.replayed and any(k == "crashkernel-low" for k, *_ in rep.regions):
        low = next(z for k, _, _, z in rep.regions if k == "crashkernel-low")
        notes.append(f"the region lands above the low limit, so the kernel adds a {_mib(low)} low region "
                     "(SWIOTLB and 32-bit DMA for the capture kernel)")
    loses = rep.lost if rep.replayed and rep.lost is not None else size
    return Plan(name="classic", cmdline=params, crashkernel=size, loses=loses, keeps=ram - loses, replay=rep,
                adjustments=tuple(adjustments), notes=tuple(notes))


def _cma_above_limit(inputs: SizingInputs, machine: Any, rep: PlanReplay | None) -> bool:
    limit = SZ_4G
    if inputs.arch == "arm64" and machine is not None and getattr(machine, "dma_limit", None):
        limit = machine.dma_limit
    if rep is not None and rep.replayed:
        cma = [r for r in rep.regions if r[0] == "cma"]
        if cma:
            return any(e > limit for _, _, e, _ in cma)
    return inputs.system_ram > limit + 512 * MiB


def _cma(inputs: SizingInputs, release: str, machine: Any, ram: int, facts: CmaFacts) -> tuple[Plan, CmaBudget | None]:
    caveats = list(CMA_CAVEATS)
    refusal = cma_refusal(inputs.arch, release, facts)
    if refusal is not None:
        return Plan(name="cma", cmdline=None, refused=refusal, caveats=tuple(caveats)), None
    notes: list[str] = []
    adjustments: list[str] = []
    if facts.kexec_mode in (None, "default", "auto"):
        why = f" ({facts.kexec_reason})" if facts.kexec_reason else ""
        notes.append("load the capture kernel with kexec_file_load (kexec -s)" + why +
                     ": with kexec_load the CMA memory is unusable")
    if facts.config_cma is None or facts.config_kexec_file is None:
        notes.append("the kernel configuration was not read: CONFIG_CMA=y and CONFIG_KEXEC_FILE=y are assumed")
    if facts.user_pages is None:
        notes.append("the dump level is not known: makedumpfile -d 31 (every distribution's default) is assumed; "
                     "with a level without bit 8 user pages would be lost from the dump")
    above = _cma_above_limit(inputs, machine, None)
    cb = cma_budget(inputs, cma_above_dma_limit=above)
    params = f"crashkernel={_ksize(cb.classic)} crashkernel={_ksize(cb.cma)},cma"
    rep = _replay(params, inputs=inputs, release=release, machine=machine)
    if rep.replayed and _cma_above_limit(inputs, machine, rep) != above:
        above = not above
        cb = cma_budget(inputs, cma_above_dma_limit=above)
        params = f"crashkernel={_ksize(cb.classic)} crashkernel={_ksize(cb.cma)},cma"
        rep = _replay(params, inputs=inputs, release=release, machine=machine)
    if not rep.accepted:
        return Plan(name="cma", cmdline=None, replay=rep, caveats=tuple(caveats),
                    refused="the kernel rejects " + params + ": " + "; ".join(t for _, t in rep.messages)), cb
    if rep.replayed:
        if _main_region(rep) is None:
            why = "; ".join(t for _, _, t in rep.problems) or "nothing placed"
            return Plan(name="cma", cmdline=None, replay=rep, caveats=tuple(caveats),
                        refused=f"the classic part cannot be reserved on this memory map: {why}"), cb
        got = rep.cma or 0
        if got < cb.cma:
            if got >= cb.cma_required and got > 0:
                smaller = (got // (2 * MiB)) * 2 * MiB
                adjustments.append(f"{_mib(cb.cma)} of CMA does not fit in 4 ranges on this map; "
                                   f"{_mib(smaller)} does and still covers the run-time need")
                cb = replace(cb, cma=smaller)
                params = f"crashkernel={_ksize(cb.classic)} crashkernel={_ksize(cb.cma)},cma"
                rep = _replay(params, inputs=inputs, release=release, machine=machine)
            else:
                return Plan(name="cma", cmdline=None, replay=rep, caveats=tuple(caveats),
                            refused=(f"the memory map has room for {_mib(got)} of CMA in at most 4 ranges; "
                                     f"the capture kernel needs {_mib(cb.cma_required)} there")), cb
        if any(k == "crashkernel-low" for k, *_ in rep.regions):
            notes.append("the classic part lands above the low limit and the kernel adds a low region: "
                         "most of the CMA plan's saving is lost on this map")
    if above:
        notes.append(f"the CMA ranges lie above the 32-bit DMA limit: {_mib(cb.low_needs)} of the classic part is "
                     "left for the capture kernel's SWIOTLB bounce buffer")
    loses = rep.lost if rep.replayed and rep.lost is not None else cb.classic
    return Plan(name="cma", cmdline=params, crashkernel=cb.classic, cma=cb.cma, loses=loses, keeps=ram - loses,
                borrowed=cb.cma, replay=rep, adjustments=tuple(adjustments), notes=tuple(notes),
                caveats=tuple(caveats)), cb


def _size_for(inputs: SizingInputs, ram: int) -> tuple[int, int]:
    b = classic_budget(replace(inputs, system_ram=ram))
    return b.recommended, b.required


DEFAULT_BOUNDARIES = (2 * GiB, 4 * GiB, 64 * GiB)


def portable_table(inputs: SizingInputs, release: str, boundaries: tuple[int, ...] = DEFAULT_BOUNDARIES) -> Portable:
    """``crashkernel=start-end:size,…`` for a fleet: each range sized at its upper boundary (the
    largest machine it covers), then checked with the kernel's own range selection (RAM rounded up
    to 128 MiB from 6.0, start inclusive, end exclusive) at the RAM sizes around every boundary."""
    from crashplan.kernel import evaluate, parse_release
    from crashplan.kernel.versions import SWITCHES

    b = sorted(set(boundaries))
    ranges: list[tuple[int, int | None, int, int]] = []
    for k, lo in enumerate(b):
        hi = b[k + 1] if k + 1 < len(b) else None
        at = hi if hi is not None else max(lo * 16, 1 << 40)
        size, req = _size_for(inputs, at)
        # the range selected by a machine just under ``lo`` (rounded up) is this one: cover it too
        size = max(size, _size_for(inputs, max(lo - 128 * MiB, 128 * MiB))[0])
        if size >= lo:
            size = clean_size(lo // 2)
        ranges.append((lo, hi, size, req))
    text = ",".join(f"{_ksize(lo)}-{_ksize(hi) if hi else ''}:{_ksize(s)}" for lo, hi, s, _ in ranges)
    cmdline = f"crashkernel={text}"
    rel = parse_release(release)
    roundup = SWITCHES["roundup_128m"].on(rel)
    probes: set[int] = set()
    for lo, hi, _, _ in ranges:
        probes.update({lo - 64 * MiB, lo, lo + 64 * MiB})
        if hi is not None:
            probes.update({hi - 128 * MiB - 1, hi - 1})
    checks: list[tuple[int, int, int, bool, str]] = []
    for ram in sorted(p for p in probes if p > 0):
        out = evaluate(cmdline, system_ram=ram, kernel=rel, arch=inputs.arch)
        selected = out.crash_size if out.accepted else 0
        need = _size_for(inputs, ram)[1]
        r = -(-ram // (128 * MiB)) * 128 * MiB if roundup else ram
        if selected == 0:
            ok = ram < b[0] and r < b[0]
            why = "below the first range: nothing reserved" if ok else "no range selected"
        else:
            ok = selected >= need
            why = f"RAM counts as {_mib(r)}" + ("" if ok else f": {_mib(selected)} < {_mib(need)} needed")
        checks.append((ram, selected, need, ok, why))
    notes = []
    if not roundup:
        notes.append(f"{rel} does not round RAM up to 128 MiB before choosing a range: a machine with slightly less "
                     f"than {_mib(b[0])} selects no range")
    notes.append(f"machines with less than {_mib(b[0])} of RAM get no reservation from this table")
    return Portable(cmdline=cmdline, ranges=tuple(ranges), checks=tuple(checks), notes=tuple(notes))


def suggest(
    inputs: SizingInputs,
    *,
    release: str,
    facts: CmaFacts | None = None,
    machine: Any = None,
    portable: bool = False,
    boundaries: tuple[int, ...] = DEFAULT_BOUNDARIES,
) -> Suggestion:
    """Size, plan and replay.  ``release`` is the kernel release whose rules apply (parseable by
    ``crashplan.kernel.parse_release``); ``machine`` a ``crashplan.memmap.model.Machine`` or None."""
    facts = facts or CmaFacts()
    ram = inputs.system_ram
    budget = classic_budget(inputs)
    classic = _classic(inputs, budget, release, machine, ram)
    cma, cb = _cma(inputs, release, machine, ram, facts)
    notes: list[str] = list(inputs.assumptions)
    port = portable_table(inputs, release, boundaries) if portable else None
    return Suggestion(inputs=inputs, release=release, budget=budget, cma_budget=cb, plans=(classic, cma),
                      portable=port, notes=tuple(notes))
