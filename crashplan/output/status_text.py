"""``crashplan status`` as text: the verdict and its reasons first, then one paragraph per fact.

Pure: a :class:`~crashplan.readiness.Status` in, a string out (no rich: plain wrapped text).
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from crashplan.units import format_size

if TYPE_CHECKING:
    from crashplan.readiness import Status

__all__ = ["render_status"]

_HEADS = {"ready": "kdump is READY", "not ready": "kdump is NOT READY", "at risk": "kdump is AT RISK"}


class _Paragraphs:
    """Lines of ``Label     text`` paragraphs wrapped to a width (the label column is 10 wide)."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.lines: list[str] = []

    def add(self, label: str, text: str) -> None:
        self.lines.extend(textwrap.wrap(text, width=self.width, initial_indent=f"{label:<10}",
                                        subsequent_indent=" " * 10, break_long_words=False,
                                        break_on_hyphens=False) or [label])


def render_status(s: Status, *, width: int | None = None) -> str:
    """The text report: the verdict and its reasons first, then one paragraph per fact."""
    if width is None:
        from crashplan.output.terminal import Terminal

        width = Terminal().columns(hi=100)
    out = _Paragraphs(width)
    first = s.reasons[0].text if s.reasons else _ready_line(s)
    out.lines.extend(textwrap.wrap(f"{_HEADS[s.verdict]}: {first}", width=width, subsequent_indent="  ",
                                   break_long_words=False))
    for reason in s.reasons[1:]:
        out.lines.extend(textwrap.wrap(f"- {reason.text}", width=width, initial_indent="  ",
                                       subsequent_indent="    ", break_long_words=False))
    out.lines.append("")
    _kernel(out, s)
    _reservation(out, s)
    _kdump(out, s)
    _prediction(out, s)
    _enough(out, s)
    f = s.facts
    for a in f.needed_assumptions:
        out.add("Assumed", a)
    for what, why in f.unreadable:
        out.add("Not read", f"{what}: {why}")
    for n in f.notes:
        out.add("Note", n)
    return "\n".join(out.lines) + "\n"


def _yn(v: bool | None) -> str:
    return "?" if v is None else "y" if v else "n"


def _kernel(out: _Paragraphs, s: Status) -> None:
    f = s.facts
    cap = f.capability
    flags = cap.flags
    who = " ".join(x for x in (f.release or "release not known", f.arch) if x)
    out.add("Kernel", f"{who}: KEXEC={_yn(flags.get('KEXEC'))} "
            f"KEXEC_FILE={_yn(flags.get('KEXEC_FILE'))} CRASH_DUMP={_yn(flags.get('CRASH_DUMP'))} "
            f"CMA={_yn(flags.get('CMA'))} ({cap.source or 'no kernel configuration read'})")


def _reservation(out: _Paragraphs, s: Status) -> None:
    """What the kernel reserved, and the boot log's crashkernel lines."""
    f = s.facts
    if s.reserved is None:
        res = "not known"
    elif s.reserved == 0 and not s.reserved_cma:
        res = "nothing"
    else:
        res = format_size(s.reserved)
        if s.reserved_low:
            res += f" + {format_size(s.reserved_low)} low"
        if s.reserved_cma:
            res += f" + {format_size(s.reserved_cma)} CMA"
    where = []
    if f.crash_regions:
        where.append("/proc/iomem " + ", ".join(f"{a:#x}-{b - 1:#x}" for a, b in f.crash_regions))
    if f.kexec_crash_size is not None:
        where.append(f"kexec_crash_size {f.kexec_crash_size}")
    out.add("Reserved", res + (f" ({'; '.join(where)})" if where else ""))
    if f.boot_lines is None:
        out.add("Boot log", "not read")
    elif not f.boot_lines:
        out.add("Boot log", "no crashkernel line in this boot's kernel log")
    else:
        for i, line in enumerate(f.boot_lines):
            out.add("Boot log" if i == 0 else "", line)


def _kdump(out: _Paragraphs, s: Status) -> None:
    """Whether a capture kernel is loaded, the kdump service and the tooling's configuration."""
    f = s.facts
    loaded = {True: "yes", False: "no", None: "not known"}[f.crash_loaded]
    if f.crash_loaded is False and f.capability.can_kdump is False and not f.capability.loaders:
        loaded += " (the kernel has no kexec syscall)"
    t = f.tooling
    if f.crash_loaded and t is not None and t.kexec_mode:
        loaded += f"; syscall inferred from the kdump configuration: {t.kexec_mode} ({t.kexec_reason})"
    out.add("Loaded", loaded)
    if f.services:
        out.add("Service", "; ".join(f"{x.unit} {x.enabled or '?'}" + (f", {x.active}" if x.active else "")
                                     for x in f.services))
    else:
        out.add("Service", "not known" + (" (a machine file does not record it)"
                                          if f.source == "machine file" else ""))
    if t is None and f.source == "machine file":
        out.add("Tooling", "not known (a machine file does not record it)")
    elif t is None:
        out.add("Tooling", "no kdump configuration found (/etc/kdump.conf, /etc/sysconfig/kdump, "
                "/etc/default/kdump-tools)")
    else:
        levels = ",".join(map(str, t.dump_levels)) or "not set"
        out.add("Tooling", f"{t.flavour}: target {t.target or '?'} {t.path or ''}, dump level {levels}, collector "
                f"{t.collector or '?'} ({', '.join(f.tooling_sources)})")


def _prediction(out: _Paragraphs, s: Status) -> None:
    """What crashplan predicts for the command line, against what the kernel did."""
    f = s.facts
    p = f.prediction
    if p is None:
        out.add("Predicted", "nothing (see the notes)")
    elif not p.sizes:
        out.add("Predicted", f"nothing reserved: {p.note or 'the kernel rejects ' + p.params}")
    else:
        got = "; the kernel reserved " + (format_size(s.reserved + (s.reserved_low or 0))
                                          if s.reserved is not None else "an unknown size")
        out.add("Predicted", f"{p.params} → " + ", ".join(f"{k} {format_size(z)}" for k, z in p.sizes) + got)
        if p.replayed and f.crash_regions:
            # the placement: where the simulator put it, where the kernel did (the bootloader's initrd and
            # KASLR are not in /proc/iomem, so the two can differ while the sizes agree)
            mine = ", ".join(f"{a:#x}" for k, a, _ in p.regions if k != "cma" and a is not None)
            theirs = ", ".join(f"{a:#x}" for a, _ in f.crash_regions)
            out.add("", f"placed at {mine} by crashplan, at {theirs} by the kernel")


def _enough(out: _Paragraphs, s: Status) -> None:
    f = s.facts
    if f.needed is None:
        out.add("Enough?", "not known: the sizing model did not run")
    elif not s.reserved:
        out.add("Enough?", f"nothing reserved; {format_size(f.needed)} needed (suggest recommends "
                f"{format_size(f.recommended or f.needed)})")
    else:
        verdict = "enough" if s.enough else "too small"
        out.add("Enough?", f"{format_size(s.reserved)} reserved, {format_size(f.needed)} needed: {verdict} "
                f"({s.ratio:.2f}×)")


def _ready_line(s: Status) -> str:
    if s.reserved and s.facts.needed:
        return f"{format_size(s.reserved)} reserved, {format_size(s.facts.needed)} needed: enough ({s.ratio:.2f}×)"
    return "a capture kernel is loaded and the reservation is in place"
