"""One crashkernel= line on one machine: what the machine needs (suggest's model), what the line does
there (check's parser port and simulator), and the verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from crashplan.fleet.report import (
    Cache,
    Entry,
    FleetError,
    FleetReport,
    Need,
    Verdict,
    content_key,
    excluded_verdict,
    is_excluded,
)
from crashplan.memmap.model import Machine

__all__ = ["check", "default_for", "judge", "kdump_refusal", "machine_need"]


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
        v = cfg.get(name)
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
            out = Need(rules=rules, arch=inputs.arch, ram=ram, classic=c.crashkernel or None,
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


def default_for(arch: str | None, ram: int) -> int | None:
    """What kdump-utils' table gives a machine (None: no table for the architecture)."""
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
            "ok": False, "status": "ok", "reason": None, "default": default_for(m.arch, ram),
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


def check(params: str, entries: Iterable[Entry], *, exclude: Sequence[str] = (), errors: Sequence[FleetError] = (),
          cache: Cache | None = None, progress: Callable[[int], None] | None = None,
          strict: bool = False) -> FleetReport:
    """``crashplan fleet check``: replay ``params`` on every machine (``strict``: machines that cannot
    be judged, NOT_JUDGED, count as failures)."""
    cache = cache if cache is not None else Cache()
    out = []
    for e in entries:
        out.append(judge(params, e, cache=cache, excluded=is_excluded(e, exclude)))
        if progress is not None:
            progress(1)
    return FleetReport(command="check", cmdline=params, verdicts=tuple(out), errors=tuple(errors), strict=strict)
