"""One crashkernel= line for a fleet: each machine replayed with its own kernel, architecture and map.

Pure: machines (already loaded :class:`~crashplan.memmap.model.Machine` objects) go in, verdicts and a
report come out.  Nothing here reads files or imports click, rich or yaml.

What each machine *needs* is suggest's sizing model, called exactly as ``crashplan suggest --machine
FILE`` calls it (:func:`crashplan.sizing.inputs.build_inputs` with no other sources, then
:func:`crashplan.sizing.plans.suggest` or, for the classic size alone, the same
:func:`crashplan.sizing.model.classic_budget` whose ``recommended`` size suggest's classic plan asks
for).  What a line *does* on a machine is ``crashplan check``'s :func:`crashplan.check.build_report`:
the parser port (:func:`crashplan.kernel.evaluate`) and the reservation simulator.

Identical machines (same architecture, release, command line, memory map and sizing inputs; the name,
provenance and notes aside) are sized and replayed once: :class:`Cache` keys on that content.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from crashplan.memmap.model import Machine

__all__ = [
    "SCHEMA", "STATUSES", "Entry", "Need", "Verdict", "Cache", "FleetError", "Group", "FleetReport",
    "kdump_refusal", "machine_need", "judge", "check", "plan", "band", "group_key", "range_line", "is_excluded",
    "excluded_name", "excluded_verdict",
]

SCHEMA = "crashplan/fleet@1"
GiB = 1 << 30
MiB = 1 << 20

# every status a machine can get, in the order the text report lists failures
STATUSES = ("ok", "reserves-nothing", "too-small", "placement-failed", "unplaced", "no-kdump", "unsized",
            "excluded")

# RAM bands of the groups: the boundaries of kdump-utils' tables (2G, 4G, 16G, 64G, 128G; anchors §1.1)
# and 1T
_BANDS = (2 * GiB, 4 * GiB, 16 * GiB, 64 * GiB, 128 * GiB, 1 << 40)


@dataclass(frozen=True, slots=True)
class Entry:
    """One machine of the fleet: its name, the file it came from, the machine."""

    name: str
    file: str
    machine: Machine


@dataclass(frozen=True, slots=True)
class FleetError:
    """A snapshot that could not be read (reported, never fatal for the rest of the fleet)."""

    file: str
    message: str
    line: int | None = None
    column: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        where = ":".join(str(x) for x in (self.file, self.line, self.column) if x is not None)
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Need:
    """What suggest's model says a machine's capture kernel needs (bytes; None = refused or unknown)."""

    rules: str  # the kernel release whose crashkernel= rules apply (suggest's)
    arch: str
    ram: int
    classic: int | None  # suggest's classic plan size (crashkernel=X)
    classic_refused: str | None = None
    cma_classic: int | None = None  # suggest's CMA plan: the classic part …
    cma: int | None = None  # … and the CMA part
    cma_refused: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    name: str
    file: str
    arch: str | None
    kernel: str | None
    ram: int
    reserves: bool
    size: int  # the crashkernel region (0 if none)
    low: int  # the low region the kernel adds (0 if none)
    cma: int
    needed: int | None
    cma_needed: int | None
    lost: int  # production loses: classic regions (crashkernel + low)
    ok: bool
    status: str
    reason: str | None
    default: int | None  # what kdump-utils' table gives this machine (None: no table for the arch)

    @property
    def group(self) -> str:
        return group_key(self.arch, self.kernel, self.ram)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "file": self.file, "arch": self.arch, "kernel": self.kernel, "ram": self.ram,
            "reserves": self.reserves, "size": self.size, "low": self.low, "cma": self.cma, "needed": self.needed,
            "cma_needed": self.cma_needed, "lost": self.lost, "ok": self.ok, "status": self.status,
            "reason": self.reason, "group": self.group, "default": self.default,
        }


@dataclass
class Cache:
    """Results by content: identical machines are sized and replayed once."""

    needs: dict[Any, Need | str] = field(default_factory=dict)
    verdicts: dict[Any, tuple[Any, ...]] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0
    limit: int = 8192  # entries kept per table (memory stays bounded for any fleet size); then it starts over

    def put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        if len(table) >= self.limit:
            table.clear()
        table[key] = value


def content_key(m: Machine) -> Machine:
    """The machine without what does not change a result (name, provenance, notes, map source).

    ``Machine`` hashes without its ``kdump``/``boot_facts`` mappings but compares them: a dict keyed
    on this is exact."""
    return replace(m, name="", provenance="", notes=(), memmap=replace(m.memmap, source=""))


# ---------------------------------------------------------------------------------------------
# a machine's kdump and its needs


def kdump_refusal(m: Machine) -> str | None:
    """Why this machine cannot run kdump at all, from its machine file's ``kdump.kernel_config``.

    One with neither ``CONFIG_KEXEC`` nor ``CONFIG_KEXEC_FILE`` cannot load a capture kernel (the
    kexec_load and kexec_file_load system calls are not built; kernel/Kconfig.kexec).  Without
    ``CONFIG_CRASH_DUMP`` a kernel has no /proc/vmcore when it boots as the capture kernel (the
    option's meaning before Linux 6.9), and from 6.9, where "crash: split crash dumping code out from
    kexec_core.c" moved crash kexec loading under it, it cannot load one either.  kdump boots the
    same kernel as the capture kernel by default, so either way it cannot save a dump (inferred from
    Kconfig.kexec; a setup with a separate capture kernel would escape this rule).  Options the file
    does not state are not held against a machine.
    """
    kd = m.kdump or {}
    cfg = kd.get("kernel_config") if isinstance(kd, dict) or hasattr(kd, "get") else None
    if not hasattr(cfg, "get"):
        return None

    def flag(name: str) -> bool | None:
        v = cfg.get(name)  # type: ignore[union-attr]
        if v is None:
            return None
        if isinstance(v, bool):
            return v
        return str(v) in ("y", "m")

    if flag("CONFIG_CRASH_DUMP") is False:
        return ("the kernel is built without CONFIG_CRASH_DUMP: it can neither load a capture kernel (Linux 6.9 "
                "on) nor, booted as the capture kernel, offer /proc/vmcore; kdump cannot run")
    if flag("CONFIG_KEXEC") is False and flag("CONFIG_KEXEC_FILE") is False:
        return ("the kernel is built without CONFIG_KEXEC and CONFIG_KEXEC_FILE: no capture kernel can be "
                "loaded, kdump cannot run")
    return None


def _inputs(m: Machine) -> tuple[Any, Any, str]:
    """suggest's inputs for ``crashplan suggest --machine FILE`` (no files, no overrides, no probe)."""
    from crashplan.sizing.inputs import Overrides, Sources, build_inputs

    inputs, facts, rules, _notes = build_inputs(machine=m, sources=Sources(), overrides=Overrides())
    return inputs, facts, rules


def machine_need(m: Machine, *, cma: bool = False, cache: Cache | None = None) -> Need | str:
    """suggest's needs for ``m``, or a string saying why they cannot be computed.

    ``cma=False`` computes the classic size only (:func:`classic_budget`'s ``recommended``, the size
    suggest's classic plan puts in ``crashkernel=``, refused like suggest when not below the RAM);
    ``cma=True`` runs suggest's planner itself for the CMA plan as well.
    """
    key = (content_key(m), cma)
    if cache is not None:
        hit = cache.needs.get(key)
        if hit is not None:
            return hit
    out: Need | str
    try:
        inputs, facts, rules = _inputs(m)
    except ValueError as e:
        out = f"cannot size its kdump: {e}"
    else:
        from crashplan.units import format_size

        ram = inputs.system_ram
        if cma:
            from crashplan.sizing.plans import suggest

            s = suggest(inputs, release=rules, facts=facts, machine=m)
            c, k = s.plan("classic"), s.plan("cma")
            out = Need(rules=rules, arch=inputs.arch, ram=ram, classic=c.crashkernel if c.crashkernel else None,
                       classic_refused=None if c.crashkernel and c.crashkernel < ram else c.refused,
                       cma_classic=k.crashkernel if k.refused is None else None,
                       cma=k.cma if k.refused is None else None, cma_refused=k.refused)
        else:
            from crashplan.sizing.model import classic_budget

            size = classic_budget(inputs).recommended
            refused = None
            if size >= ram:
                refused = (f"the capture kernel needs {format_size(size)}, not less than the machine's "
                           f"{format_size(ram)} of RAM")
            out = Need(rules=rules, arch=inputs.arch, ram=ram, classic=size, classic_refused=refused)
    if cache is not None:
        cache.put(cache.needs, key, out)
    return out


# ---------------------------------------------------------------------------------------------
# one line on one machine


def _has_cma(params: str) -> bool:
    from crashplan.cmdline import split_params

    return any(p.name == "crashkernel" and (p.value or "").endswith(",cma") for p in split_params(params))


def _default(arch: str | None, ram: int) -> int | None:
    if not arch:
        return None
    from crashplan.sizing.apply import kdump_utils_default

    return kdump_utils_default(arch, ram)


def judge(params: str, entry: Entry, *, cache: Cache | None = None, excluded: bool = False) -> Verdict:
    """Replay ``params`` on one machine and classify it (see STATUSES)."""
    m = entry.machine
    ram = m.ram_size()

    def verdict(**kw: Any) -> Verdict:
        base: dict[str, Any] = {
            "name": entry.name, "file": entry.file, "arch": m.arch, "kernel": m.kernel, "ram": ram,
            "reserves": False, "size": 0, "low": 0, "cma": 0, "needed": None, "cma_needed": None, "lost": 0,
            "ok": False, "status": "ok", "reason": None, "default": _default(m.arch, ram),
        }
        base.update(kw)
        return Verdict(**base)

    if excluded:
        return excluded_verdict(verdict())
    key = (params, content_key(m))
    if cache is not None:
        hit = cache.verdicts.get(key)
        if hit is not None:
            cache.hits += 1
            return verdict(**dict(zip(_FIELDS, hit, strict=True)))
        cache.misses += 1
    out = _judge(params, m, ram, cache)
    if cache is not None:
        cache.put(cache.verdicts, key, tuple(out[f] for f in _FIELDS))
    return verdict(**out)


def excluded_verdict(v: Verdict) -> Verdict:
    """``v``'s machine, left out with --exclude (what a line does there is not looked at)."""
    return replace(v, reserves=False, size=0, low=0, cma=0, needed=None, cma_needed=None, lost=0, ok=True,
                   status="excluded", reason="left out with --exclude")


_FIELDS = ("reserves", "size", "low", "cma", "needed", "cma_needed", "lost", "ok", "status", "reason")


def _judge(params: str, m: Machine, ram: int, cache: Cache | None) -> dict[str, Any]:
    from crashplan.units import format_size

    out: dict[str, Any] = {"reserves": False, "size": 0, "low": 0, "cma": 0, "needed": None, "cma_needed": None,
                           "lost": 0, "ok": False, "status": "ok", "reason": None}
    why = kdump_refusal(m)
    if why is not None:
        out.update(status="no-kdump", reason=why)
        return out
    line_cma = _has_cma(params)
    need = machine_need(m, cma=line_cma, cache=cache)
    if isinstance(need, str):
        out.update(status="unsized", reason=need)
        return out
    from crashplan.check import build_report
    from crashplan.kernel import cma_supported

    use_cma = line_cma and cma_supported(need.arch, need.rules) and need.cma is not None
    needed = need.cma_classic if use_cma else need.classic
    out["needed"] = needed
    out["cma_needed"] = need.cma if use_cma else None
    rep = build_report(params, kernel=need.rules, arch=need.arch, system_ram=ram, machine=m)
    o = rep.outcome
    if rep.reservation is None:  # no layout: parsed only
        size = o.crash_size if o.accepted else 0
        cma = (o.cma_size or 0) if o.accepted else 0
        out.update(reserves=bool(o.accepted and size), size=size, cma=cma, lost=size)
    else:
        main = next((r for r in rep.regions if r.kind == "crashkernel"), None)
        out.update(reserves=main is not None, size=main.size if main else 0,
                   low=sum(r.size for r in rep.regions if r.kind == "crashkernel-low"), cma=rep.cma,
                   lost=rep.lost)
    if need.classic_refused and not use_cma:
        out.update(status="too-small" if out["reserves"] else "reserves-nothing",
                   reason=f"no crashkernel= can serve it: {need.classic_refused}")
        return out
    if line_cma and not use_cma and need.cma_refused and out["reserves"]:
        note = f"; its CMA part is no use here: {need.cma_refused}"
    else:
        note = ""
    if not o.accepted or (o.crash_size or 0) == 0:
        msgs = "; ".join(dict.fromkeys(x.text for x in o.messages if x.level in ("err", "warn", "error", "warning")))
        if not msgs:
            msgs = "; ".join(dict.fromkeys(x.text for x in o.messages))
        if not msgs:
            msgs = "; ".join(dict.fromkeys(d.message for d in rep.diagnoses if d.severity == "error"))
        if not msgs and o.errno_name:
            msgs = f"the parser returns {o.errno_name}"
        sel = f" for {format_size(ram)} of RAM" if o.accepted else ""
        out.update(status="reserves-nothing",
                   reason=(f"the kernel reserves nothing{sel}" + (f" ({msgs})" if msgs else "")))
        return out
    if rep.reservation is not None and not out["reserves"]:
        probs = "; ".join(dict.fromkeys(p.text for p in rep.reservation.problems if p.severity == "error")) or \
            "; ".join(dict.fromkeys(p.text for p in rep.reservation.problems)) or "the simulator placed nothing"
        out.update(status="placement-failed", reason=f"{format_size(o.crash_size)} cannot be placed: {probs}")
        return out
    short = []
    if needed is not None and out["size"] < needed:
        short.append(f"{format_size(out['size'])} reserved, its kdump needs {format_size(needed)}")
    if use_cma and out["cma"] < (need.cma or 0):
        short.append(f"{format_size(out['cma'])} of CMA reserved, its kdump needs {format_size(need.cma or 0)}")
    if short:
        out.update(status="too-small", reason="; ".join(short) + note)
        return out
    if rep.reservation is None:
        out.update(status="unplaced",
                   reason="the memory layout is unknown (a snapshot taken without root): the size is right "
                          "but the placement could not be replayed" + note)
        return out
    out.update(ok=True, status="ok", reason=note[2:] if note else None)
    return out


# ---------------------------------------------------------------------------------------------
# the report


def band(ram: int) -> str:
    """The RAM band of a machine, RAM rounded up to 128 MiB first as kdump-utils' get_system_size does
    (anchors §1.2), so that a "2 GiB" guest with a little less RAM is in the 2G-4G band."""
    from crashplan.units import format_kernel_size as k

    ram = -(-ram // (128 * MiB)) * 128 * MiB
    lo = 0
    for b in _BANDS:
        if ram < b:
            return f"<{k(b)}" if lo == 0 else f"{k(lo)}-{k(b)}"
        lo = b
    return f"{k(lo)}-"


def group_key(arch: str | None, kernel: str | None, ram: int) -> str:
    return f"{arch or '?'} {kernel or '?'} {band(ram)}"


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    arch: str
    kernel: str
    band: str
    machines: int
    ok: int
    planned: int
    default: int | None
    default_short: int
    default_missing: int

    @property
    def saved(self) -> int | None:
        return None if self.default is None else self.default - self.planned

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "arch": self.arch, "kernel": self.kernel, "band": self.band,
                "machines": self.machines, "ok": self.ok, "planned": self.planned, "default": self.default,
                "saved": self.saved, "default_short": self.default_short, "default_missing": self.default_missing}


def groups(verdicts: Iterable[Verdict]) -> tuple[Group, ...]:
    acc: dict[str, list[Verdict]] = {}
    for v in verdicts:
        if v.status != "excluded":
            acc.setdefault(v.group, []).append(v)
    out = []
    for key, all_vs in acc.items():
        # compared over the machines that can run kdump (a need is known): the others take nothing
        vs = [v for v in all_vs if v.needed is not None]
        defaults = [v.default for v in vs]
        dflt = None if any(d is None for d in defaults) else sum(d for d in defaults if d is not None)
        short = [v for v in vs if v.needed is not None and v.default is not None and v.default < v.needed]
        first = all_vs[0]
        out.append(Group(key=key, arch=first.arch or "?", kernel=first.kernel or "?", band=band(first.ram),
                         machines=len(all_vs), ok=sum(v.ok for v in all_vs), planned=sum(v.lost for v in vs),
                         default=dflt, default_short=len(short),
                         default_missing=sum((v.needed or 0) - (v.default or 0) for v in short)))
    # largest memory first, then name: the text report reads top-down
    out.sort(key=lambda g: (g.arch, -_band_index(g.band), g.kernel))
    return tuple(out)


def _band_index(label: str) -> int:
    from crashplan.units import format_kernel_size as k

    labels = [band(b - 1) for b in _BANDS] + [f"{k(_BANDS[-1])}-"]
    return labels.index(label) if label in labels else -1


@dataclass(frozen=True, slots=True, kw_only=True)
class Variant:
    """A planned line and its replay on every machine."""

    name: str  # "classic" or "cma"
    cmdline: str | None
    ranges: tuple[tuple[int, int | None, int], ...] = ()
    refused: str | None = None
    verdicts: tuple[Verdict, ...] = ()

    @property
    def lost(self) -> int:
        return sum(v.lost for v in self.verdicts if v.status != "excluded")

    def as_dict(self) -> dict[str, object]:
        return {"cmdline": self.cmdline, "refused": self.refused,
                "ranges": [{"start": a, "end": b, "size": s} for a, b, s in self.ranges],
                "lost": self.lost if self.cmdline else None,
                "machines": [v.as_dict() for v in self.verdicts] if self.name == "cma" else None}


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetReport:
    command: str  # "plan" or "check"
    cmdline: str | None
    verdicts: tuple[Verdict, ...]
    errors: tuple[FleetError, ...] = ()
    classic: Variant | None = None  # plan only
    cma: Variant | None = None  # plan only
    notes: tuple[str, ...] = ()

    @property
    def failed(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if not v.ok)

    @property
    def exit_status(self) -> int:
        if self.errors:
            return 2
        if self.cmdline is None or self.failed:
            return 1
        return 0

    @property
    def groups(self) -> tuple[Group, ...]:
        return groups(self.verdicts)

    def causes(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for s in STATUSES:
            names = [v.name for v in self.verdicts if v.status == s and not v.ok]
            if names:
                out[s] = names
        return out

    def totals(self) -> dict[str, object]:
        gs = self.groups
        vs = [v for v in self.verdicts if v.status != "excluded"]
        dflt = None if any(g.default is None for g in gs) else sum(g.default or 0 for g in gs)
        planned = sum(g.planned for g in gs)
        return {"machines": len(vs), "ok": sum(v.ok for v in vs), "failed": len(self.failed),
                "excluded": len(self.verdicts) - len(vs), "errors": len(self.errors), "planned": planned,
                "default": dflt, "saved": None if dflt is None else dflt - planned,
                "default_short": sum(g.default_short for g in gs),
                "default_missing": sum(g.default_missing for g in gs)}

    def as_dict(self, *, machines: bool = True) -> dict[str, object]:
        """The ``crashplan/fleet@1`` document (``machines=False``: its machine list left empty, for a
        writer that streams it)."""
        plan_part = None
        if self.command == "plan":
            unserved = [{"name": v.name, "file": v.file, "status": v.status, "reason": v.reason or ""}
                        for v in self.failed]
            plan_part = {"classic": self.classic.as_dict() if self.classic else None,
                         "cma": self.cma.as_dict() if self.cma else None, "unserved": unserved}
        return {
            "schema": SCHEMA, "command": self.command, "cmdline": self.cmdline, "ok": self.exit_status == 0,
            "exit_status": self.exit_status, "machines": [v.as_dict() for v in self.verdicts] if machines else [],
            "groups": [g.as_dict() for g in self.groups], "totals": self.totals(), "causes": self.causes(),
            "errors": [e.as_dict() for e in self.errors], "plan": plan_part, "notes": list(self.notes),
        }


def is_excluded(entry: Entry, patterns: Sequence[str]) -> bool:
    return excluded_name(entry.name, entry.file, patterns)


def excluded_name(name: str, file: str, patterns: Sequence[str]) -> bool:
    """Whether --exclude PATTERN (shell patterns, fnmatch) matches the machine's name or its file."""
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(file, p) for p in patterns)


def check(params: str, entries: Iterable[Entry], *, exclude: Sequence[str] = (), errors: Sequence[FleetError] = (),
          cache: Cache | None = None, progress: Callable[[int], None] | None = None) -> FleetReport:
    """``crashplan fleet check``: replay ``params`` on every machine."""
    cache = cache if cache is not None else Cache()
    out = []
    for e in entries:
        out.append(judge(params, e, cache=cache, excluded=is_excluded(e, exclude)))
        if progress is not None:
            progress(1)
    return FleetReport(command="check", cmdline=params, verdicts=tuple(out), errors=tuple(errors))


# ---------------------------------------------------------------------------------------------
# planning


def _rounds(rules: str) -> bool:
    from crashplan.kernel import parse_release
    from crashplan.kernel.versions import SWITCHES

    return SWITCHES["roundup_128m"].on(parse_release(rules))


def effective_ram(ram: int, rules: str) -> int:
    """The RAM a range is matched against: rounded up to 128 MiB from Linux 6.0 (kernel/crash_reserve.c
    parse_crashkernel_mem(), "firmware reserves some memory"; SWITCHES['roundup_128m'])."""
    return -(-ram // (128 * MiB)) * 128 * MiB if _rounds(rules) else ram


_STEPS = tuple(1 << s for s in range(42, 26, -1))  # 4T down to 128M


def _boundary(a: int, b: int) -> int:
    """The roundest number x with a < x <= b."""
    for step in _STEPS:
        x = (a // step + 1) * step
        if x <= b:
            return x
    return b


def _start(k: int) -> int:
    for step in _STEPS:
        x = (k // step) * step
        if x > 0:
            return x
    return k


def segment(points: Sequence[tuple[int, int, int]], max_ranges: int) -> list[tuple[int, int]] | None:
    """Split sorted (effective RAM, count, need) points into at most ``max_ranges`` consecutive runs that
    minimise sum(count × max need); a run's size must be below the smallest RAM it serves.  Returns
    [(first index, last index)] or None when no split works."""
    n = len(points)
    if n == 0:
        return []
    inf = float("inf")
    # cost[i][j]: run i..j
    cost = [[inf] * n for _ in range(n)]
    for i in range(n):
        cnt = 0
        mx = 0
        for j in range(i, n):
            cnt += points[j][1]
            mx = max(mx, points[j][2])
            if mx >= points[i][0]:
                break  # a size not below the smallest RAM of the run: the kernel rejects it
            cost[i][j] = cnt * mx
    k_max = max(1, min(max_ranges, n))
    best = [[inf] * (n + 1) for _ in range(k_max + 1)]
    back = [[-1] * (n + 1) for _ in range(k_max + 1)]
    best[0][0] = 0
    for k in range(1, k_max + 1):
        for j in range(1, n + 1):
            for i in range(k - 1, j):
                c = best[k - 1][i] + cost[i][j - 1]
                if c < best[k][j]:
                    best[k][j], back[k][j] = c, i
    k_best = min(range(1, k_max + 1), key=lambda k: (best[k][n], k))
    if best[k_best][n] == inf:
        return None
    runs = []
    j, k = n, k_best
    while k > 0:
        i = back[k][j]
        runs.append((i, j - 1))
        j, k = i, k - 1
    return runs[::-1]


_MAX_POINTS = 240  # distinct RAM sizes planned exactly; beyond, neighbours are merged (O(points²) planner)


Ranges = tuple[tuple[int, int | None, int], ...]  # (start, end or None, size)


def range_line(pairs: Sequence[tuple[int, int]], max_ranges: int) -> tuple[str, Ranges] | None:
    """The crashkernel= value for (effective RAM, need) pairs: ``SIZE`` when one size serves all,
    else ``start-end:size,…,start-:size``."""
    from crashplan.units import format_kernel_size as k

    by: dict[int, list[int]] = {}
    for ram, need in pairs:
        by.setdefault(ram, []).append(need)
    pts = sorted((r, len(v), max(v)) for r, v in by.items())
    if len(pts) > 4 * _MAX_POINTS:  # first into 4 × _MAX_POINTS runs of neighbours (linear)
        step = -(-len(pts) // (4 * _MAX_POINTS))
        pts = [(run[0][0], sum(p[1] for p in run), max(p[2] for p in run))
               for run in (pts[i:i + step] for i in range(0, len(pts), step))]
    while len(pts) > _MAX_POINTS:  # merge the pair of neighbours whose merge costs least
        best_i, best_c = 0, None
        for i in range(len(pts) - 1):
            a, b = pts[i], pts[i + 1]
            c = (a[1] + b[1]) * max(a[2], b[2]) - a[1] * a[2] - b[1] * b[2]
            if best_c is None or c < best_c:
                best_i, best_c = i, c
        a, b = pts[best_i], pts[best_i + 1]
        pts[best_i:best_i + 2] = [(a[0], a[1] + b[1], max(a[2], b[2]))]
    runs = segment(pts, max_ranges)
    if not runs:
        return None
    if len(runs) == 1:
        size = max(p[2] for p in pts)
        start = _start(pts[0][0])
        return f"{k(start)}-:{k(size)}", ((start, None, size),)
    ranges: list[tuple[int, int | None, int]] = []
    for idx, (i, j) in enumerate(runs):
        size = max(p[2] for p in pts[i:j + 1])
        lo = _start(pts[i][0]) if idx == 0 else ranges[-1][1]
        hi = _boundary(pts[j][0], pts[runs[idx + 1][0]][0]) if idx + 1 < len(runs) else None
        ranges.append((lo, hi, size))  # type: ignore[arg-type]
    text = ",".join(f"{k(lo)}-{k(hi) if hi is not None else ''}:{k(s)}" for lo, hi, s in ranges)
    return text, tuple(ranges)


def _fails(vs: Sequence[Verdict]) -> int:
    return sum(1 for v in vs if not v.ok)


def plan(entries: Sequence[Entry], *, max_ranges: int = 6, exclude: Sequence[str] = (), cma: bool = True,
         errors: Sequence[FleetError] = (), cache: Cache | None = None,
         progress: Callable[[int], None] | None = None) -> FleetReport:
    """``crashplan fleet plan``: the line that serves every machine and loses the least memory.

    1. Each machine's needs come from suggest's model (classic and CMA plans, :func:`machine_need`).
    2. Machines that cannot kdump, or whose kdump cannot be sized or served (need not below RAM), are
       left out of the sizing and named.
    3. The others' (effective RAM, need) points are split into at most ``max_ranges`` ranges that
       minimise the memory reserved over the fleet (exact dynamic programme over the distinct RAM sizes).
    4. The line is replayed on every machine (:func:`judge`), and so are one size with ``,high`` and
       that size with ``crashkernel=72M,low`` (where every kernel reads them: range syntax takes no
       suffix); the line that fails on the fewest machines, then loses the least (the low region the
       kernel adds included), wins.  72M is suggest's low region (64M SWIOTLB + 8M; SUSE's MinLow).
    5. The CMA variant: the classic part planned the same way over the CMA plans' classic parts, plus
       one ``crashkernel=X,cma`` (``,cma`` takes no ranges: its value is parsed with RAM 0) of the
       largest CMA part; offered only when every served machine's kernel reserves ``,cma`` and suggest
       offers a CMA plan for it.
    """
    from crashplan.units import format_kernel_size as k

    cache = cache if cache is not None else Cache()
    notes: list[str] = []
    active = [e for e in entries if not is_excluded(e, exclude)]
    needs: dict[int, Need] = {}
    for e in active:
        if kdump_refusal(e.machine) is None:
            n = machine_need(e.machine, cma=cma, cache=cache)
            if isinstance(n, Need):
                needs[id(e)] = n
        if progress is not None:
            progress(1)
    served = [e for e in active if id(e) in needs and needs[id(e)].classic_refused is None
              and needs[id(e)].classic is not None]

    def replay(line: str) -> tuple[Verdict, ...]:
        return tuple(judge(line, e, cache=cache, excluded=is_excluded(e, exclude)) for e in entries)

    classic_v: Variant
    candidates: list[tuple[str, tuple[tuple[int, int | None, int], ...]]] = []
    pairs = [(effective_ram(needs[id(e)].ram, needs[id(e)].rules), needs[id(e)].classic or 0) for e in served]
    rl = range_line(pairs, max_ranges) if pairs else None
    if rl is not None:
        text, ranges = rl
        if len(ranges) == 1:
            candidates.append((f"crashkernel={k(ranges[0][2])}", ranges))
        else:
            candidates.append((f"crashkernel={text}", ranges))
    elif pairs:
        notes.append("no range table serves every machine within --max-ranges: try a larger --max-ranges")
    if served:
        from crashplan.kernel import high_low_supported

        top = max(needs[id(e)].classic or 0 for e in served)
        if all(high_low_supported(needs[id(e)].arch, needs[id(e)].rules) for e in served):
            candidates.append((f"crashkernel={k(top)},high", ((0, None, top),)))
            candidates.append((f"crashkernel={k(top)},high crashkernel=72M,low", ((0, None, top),)))
    tried = []
    for i, (line, ranges) in enumerate(candidates):
        vs = replay(line)
        tried.append((_fails(vs), sum(v.lost for v in vs if v.status != "excluded"), i, line, ranges, vs))
    if tried:
        _, _, i, line, ranges, vs = min(tried, key=lambda t: (t[0], t[1], t[2]))
        if i > 0 and tried[0][0] > min(t[0] for t in tried):
            notes.append(f"{candidates[0][0]} cannot be placed on every machine; {line} can be on more")
        elif i > 0:
            notes.append(f"{line} loses less than {candidates[0][0]}: the region lands above 4 GiB anyway "
                         "and 72M (64M SWIOTLB + 8M) is enough for the low region the kernel adds")
        classic_v = Variant(name="classic", cmdline=line, ranges=ranges, verdicts=vs)
    else:
        classic_v = Variant(name="classic", cmdline=None, refused="no machine can be served",
                            verdicts=tuple(_no_line(e, needs.get(id(e)), is_excluded(e, exclude), cache)
                                           for e in entries))
    cma_v = _plan_cma(entries, served, needs, exclude, max_ranges, cache) if cma else None
    return FleetReport(command="plan", cmdline=classic_v.cmdline, verdicts=classic_v.verdicts, errors=tuple(errors),
                       classic=classic_v, cma=cma_v, notes=tuple(notes))


def _no_line(e: Entry, need: Need | None, excluded: bool, cache: Cache) -> Verdict:
    if excluded:
        return judge("", e, excluded=True)
    m = e.machine
    why = kdump_refusal(m)
    status = "no-kdump"
    if why is None:
        n = machine_need(m, cache=cache) if need is None else need
        status = "unsized" if isinstance(n, str) else "reserves-nothing"
        why = n if isinstance(n, str) else f"no crashkernel= can serve it: {n.classic_refused or 'no line planned'}"
    ram = m.ram_size()
    return Verdict(name=e.name, file=e.file, arch=m.arch, kernel=m.kernel, ram=ram, reserves=False, size=0, low=0,
                   cma=0, needed=need.classic if need else None, cma_needed=None, lost=0, ok=False, status=status,
                   reason=why, default=_default(m.arch, ram))


def _plan_cma(entries: Sequence[Entry], served: Sequence[Entry], needs: dict[int, Need], exclude: Sequence[str],
              max_ranges: int, cache: Cache) -> Variant:
    from crashplan.kernel import cma_supported
    from crashplan.units import format_kernel_size as k

    if not served:
        return Variant(name="cma", cmdline=None, refused="no machine can be served")
    refusals = []
    for e in served:
        n = needs[id(e)]
        if not cma_supported(n.arch, n.rules):
            refusals.append(f"{e.name}: {n.arch} {e.machine.kernel or n.rules} does not reserve ,cma")
        elif n.cma_refused or n.cma is None:
            refusals.append(f"{e.name}: {n.cma_refused or 'no CMA plan'}")
    if refusals:
        more = f" (and {len(refusals) - 3} more)" if len(refusals) > 3 else ""
        return Variant(name="cma", cmdline=None,
                       refused="not every machine can use ,cma: " + "; ".join(refusals[:3]) + more)
    pairs = [(effective_ram(needs[id(e)].ram, needs[id(e)].rules), needs[id(e)].cma_classic or 0) for e in served]
    rl = range_line(pairs, max_ranges)
    if rl is None:
        return Variant(name="cma", cmdline=None, refused="no range table serves the classic parts")
    text, ranges = rl
    cma_size = max(needs[id(e)].cma or 0 for e in served)
    base = f"crashkernel={k(ranges[0][2])}" if len(ranges) == 1 else f"crashkernel={text}"
    line = f"{base} crashkernel={k(cma_size)},cma"
    vs = tuple(judge(line, e, cache=cache, excluded=is_excluded(e, exclude)) for e in entries)
    return Variant(name="cma", cmdline=line, ranges=ranges, verdicts=vs)
