"""Diagnoses gathered across targets: one finding per code and span, the fix every target accepts."""

from __future__ import annotations

import functools
from collections.abc import Callable

from crashplan.kernel import Outcome, evaluate, normalize_arch, parse_release
from crashplan.severity import RANK, Severity, worst

from .codes import CODES
from .model import ERROR, Diagnosis, Target
from .tokens import CrashToken, kernel_view

__all__ = ["Chosen", "Collector", "fix_accepted", "format_ram", "kernel_says", "replace"]


# the token the kernel chose for a kind ("plain", "high", "low", "cma"), as the raw search saw it
Chosen = Callable[[str], "CrashToken | None"]


class Collector:
    """Diagnoses of every target, merged: one per (code, span), CK219 one per text."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, tuple[int, int] | None, str | None], Diagnosis] = {}
        self.order: list[tuple[str, tuple[int, int] | None, str | None]] = []

    def add(self, code: str, message: str, target: Target, *, span: tuple[int, int] | None = None,
            fix: str | None = None, detail: str = "", severity: Severity | None = None) -> None:
        # notes (CK219) differ per distribution and fact: one finding per text, not one per code
        key = (code, span, message if code == "CK219" else None)
        info = CODES[code]
        sev = severity or info.severity
        if fix is not None and not fix_accepted(fix, target):
            # a fix is offered only when the same kernel accepts it: say why there is none
            if sev == ERROR:
                message += (f" (no automatic fix: `{_crash_part(fix)}` would not be reserved by Linux "
                            f"{parse_release(target.kernel).label} on {format_ram(target.system_ram)} either)")
            fix = None
        if key in self.items:
            d = self.items[key]
            targets = (*d.targets, target)
            fix_all = d.fix if d.fix == fix else None
            message = d.message
            if d.fix != fix and d.fix is not None and fix is not None:
                # targets want different fixes: keep one that every target accepts, and say that one
                fix_all = next((c for c in (d.fix, fix) if all(fix_accepted(c, x) for x in targets)), None)
                if fix_all is not None and fix_all != d.fix:
                    message = message.replace(f"`{_crash_part(d.fix)}`", f"`{_crash_part(fix_all)}`")
            self.items[key] = Diagnosis(d.code, d.name, worst(d.severity, sev), message, d.span, fix_all, d.detail,
                                        targets)
        else:
            self.items[key] = Diagnosis(code, info.name, sev, message, span, fix, detail or info.description,
                                        (target,))
            self.order.append(key)

    def result(self) -> list[Diagnosis]:
        ds = [self.items[k] for k in self.order]
        return sorted(ds, key=lambda d: (RANK[d.severity], d.span[0] if d.span else -1, d.code))


def format_ram(size: int) -> str:
    from crashplan.units import format_size

    return format_size(size)


@functools.lru_cache(maxsize=8192)
def _fix_accepted(fix: str, kernel: str, arch: str, system_ram: int) -> bool:
    a = normalize_arch(arch)
    o = evaluate(kernel_view(fix, a), system_ram=system_ram, kernel=kernel, arch=a)
    return o.accepted and (o.crash_size > 0 or bool(o.fadump_size))


def fix_accepted(fix: str, target: Target) -> bool:
    """Whether the kernel of ``target`` accepts the corrected command line ``fix`` and reserves memory.

    Every fix a diagnosis offers goes through this (``crashplan.kernel.evaluate``, the same parser port
    the diagnosis came from): a fix that the same kernel would reject is never offered.
    """
    return _fix_accepted(fix, target.kernel, target.arch, target.system_ram)


def _crash_part(cmdline: str) -> str:
    """The crashkernel= parameters of a command line, for messages (the whole line when it has none)."""
    toks = [p for p in cmdline.split(" ") if "crashkernel=" in p]
    return " ".join(toks) if toks else cmdline


def replace(cmdline: str, start: int, end: int, new: str) -> str:
    return cmdline[:start] + new + cmdline[end:]


def kernel_says(o: Outcome) -> str:
    warns = [m.text for m in o.messages if m.level == "warn"]
    return f" (the kernel prints “{warns[-1]}”)" if warns else ""

