"""What ``crashplan suggest`` reports, and its JSON form (schema ``crashplan/suggest@1``, docs/sizing.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crashplan.sizing.answer import Current
from crashplan.sizing.apply import ApplyPlan, LiveShrink
from crashplan.sizing.inputs import Sources
from crashplan.sizing.plans import Suggestion

__all__ = ["SCHEMA", "SuggestReport", "report_json"]

SCHEMA = "crashplan/suggest@1"


@dataclass(frozen=True, slots=True, kw_only=True)
class SuggestReport:
    suggestion: Suggestion
    machine: Any  # crashplan.memmap.model.Machine or None
    sources: Sources
    apply: dict[str, ApplyPlan] = field(default_factory=dict)  # plan name -> how to apply it
    notes: tuple[str, ...] = ()
    current: Current | None = None  # what the machine's own crashkernel= gives, against the plans
    shrink: LiveShrink | None = None  # giving back part of the running reservation without a reboot
    fallback: str | None = None  # the example machine file planned for, when this machine's map was unreadable
    distribution_default: Any = None  # crashplan.sizing.distro_defaults.DistroDefault or None

    @property
    def exit_status(self) -> int:
        return 0 if self.suggestion.recommended else 1


def _machine(r: SuggestReport) -> dict[str, object]:
    m = r.machine
    s = r.suggestion
    return {
        "name": getattr(m, "name", "") or None,
        "arch": s.inputs.arch,
        "kernel": s.inputs.kernel,
        "rules_release": s.release,
        "system_ram": s.inputs.system_ram,
        "cpus": getattr(m, "cpus", None),
        "layout_known": bool(m is not None and getattr(m.memmap, "layout_known", True) and m.memmap.ram),
        "source": getattr(m.memmap, "source", None) if m is not None else None,
    }


def _inputs(r: SuggestReport) -> dict[str, object]:
    i = r.suggestion.inputs
    src = r.sources
    return {
        "kernel_image": src.kernel_image.as_dict() if src.kernel_image else None,
        "initrd": src.initrd.as_dict() if src.initrd else None,
        "kdump_config": _kdump(src),
        "kernel_config": src.kconfig.as_dict() if src.kconfig else None,
        "luks": ({"version": src.luks.version, "max_memory": src.luks.max_memory,
                  "keyslots": [{"slot": a, "pbkdf": b, "memory_kib": c} for a, b, c in src.luks.keyslots]}
                 if src.luks else None),
        "model": {
            "kernel_mem": i.kernel_mem, "kernel_mem_source": i.kernel_mem_source, "kernel_align": i.kernel_align,
            "initrd_size": i.initrd_size, "initrd_unpacked": i.initrd_unpacked,
            "initrd_features": sorted(i.initrd_features), "nr_cpus": i.nr_cpus, "network": i.network,
            "luks_memory": i.luks_memory, "mem_encrypt": i.mem_encrypt, "mlx5": i.mlx5, "smmu": i.smmu,
            "page_size": i.page_size, "rootfs_cap": i.rootfs_cap, "elfcorehdr": i.elfcorehdr,
        },
    }


def _kdump(src: Sources) -> dict[str, object] | None:
    c = src.kdump
    if c is None:
        return None
    up = c.keeps_user_pages()
    return {
        "flavour": c.flavour, "sources": list(c.sources), "collector": c.collector,
        "dump_levels": list(c.dump_levels), "dump_format": c.dump_format, "nr_cpus": c.nr_cpus,
        "kexec_mode": c.kexec_mode, "target": c.target, "network": c.network, "fadump": c.fadump,
        "capture_append": c.capture_append, "keeps_user_pages": None if up is None else up[0],
        "notes": list(c.notes),
    }


def report_json(r: SuggestReport) -> dict[str, object]:
    s = r.suggestion
    return {
        "schema": SCHEMA,
        "machine": _machine(r),
        "inputs": _inputs(r),
        "budget": s.budget.as_dict(),
        "cma_budget": s.cma_budget.as_dict() if s.cma_budget else None,
        "plans": [p.as_dict() for p in s.plans],
        "portable": s.portable.as_dict() if s.portable else None,
        "apply": {name: a.as_dict() for name, a in r.apply.items()},
        "distribution_default": r.distribution_default.as_dict() if r.distribution_default is not None else None,
        "notes": list(dict.fromkeys(s.notes + r.notes)),
        "current": (dict(r.current.as_dict(), live_shrink=r.shrink.as_dict() if r.shrink else None)
                    if r.current else None),
        "fallback_machine": r.fallback,
    }
