"""Text rendering of ``crashplan suggest`` (rich; imported only when text output is asked for)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from crashplan.output.terminal import paragraph
from crashplan.units import format_size

if TYPE_CHECKING:
    from rich.console import Console

    from crashplan.sizing.plans import Plan
    from crashplan.sizing.report import SuggestReport

__all__ = ["render_suggest"]

_PHASE = {"both": "boot+run", "boot": "boot", "run": "run", "low": "low memory", "load": "load", "cap": "rootfs cap"}


def _h(text: str) -> Text:
    return Text(text, style="bold underline")


def _mb(n: int | None) -> str:
    return "-" if n is None else format_size(n)


def _offered(report: SuggestReport) -> list[Plan]:
    return [p for p in report.suggestion.plans if p.refused is None and p.cmdline]


def _keeps(p: Plan, ram: int) -> str:
    if p.name == "classic":
        return f"classic: production keeps {_mb(p.keeps)} of {format_size(ram)}"
    out = f"CMA: keeps {_mb(p.keeps)}"  # shorter: the line also holds two parameters
    if p.borrowed:
        out += f", {_mb(p.borrowed)} of it CMA"
    return out


def _answer(con: Console, report: SuggestReport) -> None:
    """The first lines: the fallback, the parameters to set, the current ones beside them, how to apply."""
    s = report.suggestion
    i = s.inputs
    if report.fallback:
        paragraph(con, Text.assemble(("planned for ", "bold"), (report.fallback, "bold yellow"),
                                 ": this machine's map needs root"), 0)
    offered = _offered(report)
    if not offered:
        con.print(Text("no plan: every plan is refused (reasons below)", style="bold red"))
    for k, p in enumerate(offered):
        line = Text("set " if k == 0 else "or  ", style="bold")
        line.append(p.cmdline or "", style="bold green")
        line.append(f"  ({_keeps(p, i.system_ram)})")
        paragraph(con, line, 0)
    if report.current is not None:
        verdict = report.current.verdict
        style = {"too small": "bold red", "nothing": "bold red", "none": "bold red", "tight": "yellow",
                 "more than needed": "yellow"}.get(verdict, "")
        paragraph(con, Text(report.current.text, style=style), 0)
    elif not report.fallback:
        paragraph(con, Text("current command line not known: nothing to compare with", style="dim"), 0)
    if offered:
        first = report.apply.get(offered[0].name)
        if first is not None and first.fits:
            cmd = first.commands[0] if len(first.commands) == 1 and "\n" not in first.commands[0] else None
            if cmd is not None:
                con.print(Text.assemble(("apply: ", "bold"), cmd), soft_wrap=True)
            else:
                con.print(Text.assemble(("apply: ", "bold"), f"{len(first.commands)} commands ({first.method}), "
                                                             "under 'To apply'"))
        elif first is not None:
            con.print(Text("apply: nothing here fits; add the parameters by hand (under 'To apply')",
                           style="yellow"))
    if report.shrink is not None and report.shrink.possible:
        con.print(Text(f"now: the running kernel can give back {format_size(report.shrink.frees)} without a "
                       "reboot (below)"))
    dd = report.distribution_default
    if dd is not None:  # what the distribution's own tool would set, beside the plan
        size = f" gives {format_size(dd.size)}" if dd.size is not None else ""
        paragraph(con, Text(f"distro: {dd.cmdline or '(not computable here)'}{size}: {dd.verdict} "
                        f"(the default of {dd.tool}; {dd.detail})"), 0)


def _plan_detail(con: Console, report: SuggestReport, verbosity: int) -> None:
    for p in report.suggestion.plans:
        if p.refused is not None:
            paragraph(con, Text.assemble((f"{p.name} plan refused: ", "bold red"), p.refused), 0)
            continue
        if verbosity >= 1:
            for a in p.adjustments:
                paragraph(con, f"{p.name}: adjusted: {a}", 0)
        for n in p.notes:
            paragraph(con, f"{p.name}: {n}", 0)
        if p.name == "cma":  # the caveats belong to an offered CMA plan only
            for c in p.caveats:
                paragraph(con, Text.assemble(("CMA caveat: ", "yellow"), c), 0)


def _budget(con: Console, report: SuggestReport, verbosity: int) -> None:
    s = report.suggestion
    b = s.budget
    con.print(_h("Budget (classic plan)"))
    t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    t.add_column("term", overflow="fold")
    t.add_column("size", justify="right", no_wrap=True)
    t.add_column("when", no_wrap=True)
    t.add_column("source", no_wrap=True)
    for term in b.terms:
        if term.size == 0 and term.key != "initrd_packed":
            continue
        t.add_row(term.label, format_size(term.size), _PHASE.get(term.phase, term.phase),
                  "estimate" if term.source == "assumption" else term.source)
    con.print(t)
    if verbosity >= 2:
        con.print()
        con.print(_h("Why each term"))
        for term in b.terms:
            if term.size == 0 and term.key != "initrd_packed":
                continue
            paragraph(con, Text.assemble((f"{term.label} ({format_size(term.size)}): ", "bold"), term.why), 2)
    rows = [("boot (kernel, initrd packed + unpacked, allocations)", b.boot + b.elfcorehdr),
            ("run (kernel, rootfs, userspace, makedumpfile)", b.run + b.elfcorehdr)]
    if b.cap is not None:
        rows.append(("rootfs cap (files + /tmp within the tmpfs limit)", b.cap + b.elfcorehdr))
    rows.append(("kexec segments load", b.load))
    paragraph(con, f"elfcorehdr (outside the capture kernel's RAM): {format_size(b.elfcorehdr)}")
    for label, v in rows:
        mark = "  <- decides" if v == b.required else ""
        paragraph(con, f"{label}: {format_size(v)}{mark}")
    paragraph(con, Text(f"required {format_size(b.required)} ({b.binding}) + margin {format_size(b.margin)} "
                    f"-> crashkernel={format_size(b.recommended)}", style="bold"))
    cb = s.cma_budget
    if cb is not None:
        con.print()
        con.print(_h("Budget (CMA plan)"))
        paragraph(con, f"classic part: kexec segments {format_size(cb.load)} + low-memory room "
                   f"{format_size(cb.low_needs)} = {format_size(cb.classic_required)} -> {format_size(cb.classic)}")
        paragraph(con, f"CMA part: run-time need beyond the classic part {format_size(cb.cma_required)} "
                   f"+ 25% -> {format_size(cb.cma)}")


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
                  Text(("ok " if ok else "NO ") + why, style="" if ok else "bold red"))
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


def _apply(con: Console, report: SuggestReport, verbosity: int) -> None:
    con.print(_h("To apply (printed, not run)"))
    if not report.apply:
        con.print("  nothing to apply")
    for name, a in report.apply.items():
        how = f"via {a.method}" if a.fits else "nothing on this machine fits"
        con.print(Text(f"  {name} plan, {how}:", style="bold"))
        for c in a.commands:
            for line in c.splitlines():
                # soft-wrapped: a command stays one line to copy, however narrow the terminal
                con.print(Text("    " + line), soft_wrap=True)
        for alt in a.alternatives:
            paragraph(con, f"or: {alt}", 4)
        for n in a.notes:
            paragraph(con, f"note: {n}", 4)
    sh = report.shrink
    if sh is not None:
        con.print()
        con.print(_h("Now, without a reboot" if sh.possible else "Not without a reboot"))
        for c in sh.commands:
            con.print(Text("    " + c), soft_wrap=True)
        for n in sh.notes:
            paragraph(con, f"note: {n}", 4)


def render_suggest(report: SuggestReport, *, width: int | None = None, verbosity: int = 0, color: str = "auto",
                   console: Console | None = None) -> None:
    """The answer first (the parameters, the current ones beside them, how to apply), then the detail:
    refusals, CMA caveats when a CMA plan is offered, the commands and assumptions; ``verbosity`` 1 adds
    the budget, the replayed layouts and the portable table, 2 the reason behind every budget term."""
    from crashplan.output.terminal import Terminal

    con = console or Terminal.from_options(color, width).console()
    s = report.suggestion
    i = s.inputs
    m = report.machine
    _answer(con, report)
    name = getattr(m, "name", "") or ""
    con.print()
    rules = f" ({s.release} rules)" if s.release != i.kernel else ""
    who = f"{name}: " if name else ""
    what = f"{who}Linux {i.kernel} on {i.arch}, {format_size(i.system_ram)} of RAM{rules}"
    paragraph(con, Text(what, style="dim"), 0)
    _plan_detail(con, report, verbosity)
    con.print()
    if verbosity >= 1:
        _budget(con, report, verbosity)
        con.print()
        _layouts(con, report, width)
        _portable(con, report)
    elif report.suggestion.portable is not None:
        paragraph(con, Text.assemble(("portable: ", "bold"), (report.suggestion.portable.cmdline, "bold green")), 0)
        con.print()
    _apply(con, report, verbosity)
    notes = list(dict.fromkeys(s.notes + report.notes))
    if notes:
        con.print()
        con.print(_h("Assumptions and notes"))
        for n in notes:
            paragraph(con, f"- {n}", hang=2)
    if verbosity == 0:
        con.print()
        con.print(Text("-v: the budget term by term and the replayed layout; -vv: why each term", style="dim"))
