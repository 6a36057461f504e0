"""Text rendering of ``crashplan suggest`` (rich; imported only when text output is asked for)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from crashplan.units import format_size

if TYPE_CHECKING:
    from crashplan.sizing.plans import Plan
    from crashplan.sizing.report import SuggestReport

__all__ = ["render_suggest"]

_PHASE = {"both": "boot+run", "boot": "boot", "run": "run", "low": "low memory", "load": "load", "cap": "rootfs cap"}


def _console(width: int | None) -> Console:
    return Console(width=width, markup=False, highlight=False, emoji=False, soft_wrap=False)


def _h(text: str) -> Text:
    return Text(text, style="bold underline")


def _mb(n: int | None) -> str:
    return "-" if n is None else format_size(n)


def _plans(con: Console, report: SuggestReport) -> None:
    s = report.suggestion
    ram = s.inputs.system_ram
    t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    t.add_column("plan")
    t.add_column("kernel command line")
    t.add_column("production loses", justify="right")
    t.add_column("keeps", justify="right")
    for p in s.plans:
        if p.refused is not None:
            t.add_row(p.name, Text("refused", style="bold red"), "-", "-")
            continue
        keeps = _mb(p.keeps)
        if p.borrowed:
            keeps += f" (incl. {_mb(p.borrowed)} CMA)"
        t.add_row(p.name, Text(p.cmdline or "", style="bold green"), _mb(p.loses), keeps)
    dd = report.distribution_default
    if dd is not None:
        t.add_row("distro", Text(dd.cmdline or "(not computable here)", overflow="fold"), _mb(dd.size),
                  _mb(ram - dd.size) if dd.size is not None else "-")
    con.print(t)
    for p in s.plans:
        _plan_detail(con, p)
    if dd is not None:
        con.print(Text(f"  distro: {dd.tool}: {dd.verdict}; {dd.detail}"))
    del ram


def _plan_detail(con: Console, p: Plan) -> None:
    if p.refused is not None:
        con.print(Text.assemble(("  " + p.name + " refused: ", "bold red"), p.refused))
    for a in p.adjustments:
        con.print(Text(f"  {p.name}: adjusted: {a}"))
    for n in p.notes:
        con.print(Text(f"  {p.name}: {n}"))
    if p.name == "cma":
        for c in p.caveats:
            con.print(Text.assemble(("  caveat: ", "yellow"), c))


def _budget(con: Console, report: SuggestReport) -> None:
    s = report.suggestion
    b = s.budget
    con.print(_h("Budget (classic plan)"))
    t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    t.add_column("term")
    t.add_column("size", justify="right")
    t.add_column("when")
    t.add_column("why")
    for term in b.terms:
        if term.size == 0 and term.key not in ("initrd_packed",):
            continue
        t.add_row(term.label, format_size(term.size), _PHASE.get(term.phase, term.phase),
                  Text(term.why + ("" if term.source != "assumption" else " [estimate]")))
    con.print(t)
    rows = [("boot (kernel, packed + unpacked initrd, kernel allocations)", b.boot + b.elfcorehdr),
            ("run (kernel, rootfs, userspace, makedumpfile …)", b.run + b.elfcorehdr)]
    if b.cap is not None:
        rows.append(("rootfs cap (unpacked files + /tmp within the tmpfs limit)", b.cap + b.elfcorehdr))
    rows.append(("kexec segments load", b.load))
    con.print(Text(f"  elfcorehdr (outside the capture kernel's RAM): {format_size(b.elfcorehdr)}"))
    for label, v in rows:
        mark = "  <- decides" if v == b.required else ""
        con.print(Text(f"  {label}: {format_size(v)}{mark}"))
    con.print(Text(f"  required {format_size(b.required)} ({b.binding}) + margin {format_size(b.margin)} "
                   f"-> crashkernel={format_size(b.recommended)}", style="bold"))
    cb = s.cma_budget
    if cb is not None:
        con.print()
        con.print(_h("Budget (CMA plan)"))
        con.print(Text(f"  classic part: kexec segments {format_size(cb.load)} + low-memory room "
                       f"{format_size(cb.low_needs)} = {format_size(cb.classic_required)} -> {format_size(cb.classic)}"))
        con.print(Text(f"  CMA part: run-time need beyond the classic part {format_size(cb.cma_required)} "
                       f"+ 25% -> {format_size(cb.cma)}"))


def _layouts(con: Console, report: SuggestReport, width: int | None) -> None:
    m = report.machine
    shown = False
    for p in report.suggestion.plans:
        rep = p.replay
        if p.refused is not None or rep is None:
            continue
        con.print(_h(f"Replayed: {p.name} plan ({p.cmdline})"))
        shown = True
        if not rep.replayed:
            con.print(Text(f"  {rep.note or 'not replayed'}"))
            for lv, text in rep.messages:
                con.print(Text(f"  [{lv}] {text}"))
            continue
        res = rep.reservation
        try:
            from crashplan.output.layout_text import render_reservation

            render_reservation(con, m, res, width=width)
        except ImportError:  # pragma: no cover - the layout renderer ships with crashplan
            for kind, start, end, size in rep.regions:
                con.print(Text(f"  {kind:<16} {start:#x}-{end:#x} {format_size(size)}"))
        for lv, text in rep.messages:
            con.print(Text(f"  [{lv}] {text}"))
        for code, sev, text in rep.problems:
            con.print(Text(f"  {code} {sev}: {text}"))
        con.print()
    if not shown:
        con.print(_h("Replayed"))
        con.print("  no plan to replay")


def _portable(con: Console, report: SuggestReport) -> None:
    port = report.suggestion.portable
    if port is None:
        return
    con.print(_h("Portable range table"))
    con.print(Text("  " + port.cmdline, style="bold green"))
    t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    t.add_column("RAM")
    t.add_column("kernel picks", justify="right")
    t.add_column("needed", justify="right")
    t.add_column("")
    for ram, sel, need, ok, why in port.checks:
        t.add_row(_ram(ram), format_size(sel) if sel else "nothing", format_size(need),
                  Text(("ok " if ok else "NO ") + why, style=None if ok else "bold red"))
    con.print(t)
    for n in port.notes:
        con.print(Text(f"  {n}"))
    con.print()


def _ram(n: int) -> str:
    """A probe RAM size: exact (``4G-1`` for one byte less than 4 GiB)."""
    for delta in (0, 1):
        text = format_size(n + delta)
        if "." not in text:
            return text + ("-1" if delta else "")
    return format_size(n)


def _apply(con: Console, report: SuggestReport) -> None:
    con.print(_h("To apply (printed, not run)"))
    if not report.apply:
        con.print("  nothing to apply")
    for name, a in report.apply.items():
        con.print(Text(f"  {name} plan, via {a.method}:", style="bold"))
        for c in a.commands:
            for line in c.splitlines():
                con.print(Text("    " + line), soft_wrap=True)
        for n in a.notes:
            con.print(Text(f"    note: {n}"))


def render_suggest(report: SuggestReport, *, width: int | None = None, console: Console | None = None) -> None:
    con = console or _console(width)
    s = report.suggestion
    i = s.inputs
    m = report.machine
    name = getattr(m, "name", "") or ""
    con.print(Text.assemble(("crashplan suggest", "bold"), "  ",
                            (f"{name}: " if name else "") + f"Linux {i.kernel} on {i.arch}, "
                            f"{format_size(i.system_ram)} of RAM" + (f" ({s.release} rules)" if s.release != i.kernel else "")))
    con.print()
    con.print(_h("Plans"))
    _plans(con, report)
    con.print()
    _budget(con, report)
    con.print()
    _layouts(con, report, width)
    _portable(con, report)
    _apply(con, report)
    notes = list(dict.fromkeys(s.notes + report.notes))
    if notes:
        con.print()
        con.print(_h("Assumptions and notes"))
        for n in notes:
            con.print(Text(f"  - {n}"))
