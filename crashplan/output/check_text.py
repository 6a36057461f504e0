"""Text rendering of ``crashplan check`` (rich; imported only when text output is asked for)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from crashplan.units import format_size

if TYPE_CHECKING:
    from rich.console import Console

    from crashplan.check import CheckReport

__all__ = ["render_check"]

# keyed by crashplan.severity.Severity's values: that module is not imported here, so that check's text path
# imports nothing diagnose does not already
_SEV_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _heading(text: str) -> Text:
    return Text(text, style="bold underline")


def render_check(report: CheckReport, *, width: int | None = None, console: Console | None = None,
                 color: str = "auto") -> None:
    """The answer first (what is reserved, whether anything is wrong), then what the kernel reads, what it
    reserves, its log, the diagnosis and the command line; printed on ``console``, else on the terminal
    ``width`` and ``color`` (``--width``, ``--color``) describe."""
    from crashplan.check import headline, problem_line
    from crashplan.output.terminal import Terminal

    con = console or Terminal.from_options(color, width).console()
    o = report.outcome
    t = report.target
    # the answer first: what is reserved, how much and where; then whether anything is wrong
    con.print(Text(headline(report), style="bold" if report.reserves else "bold red"))
    con.print(Text(problem_line(report), style="green" if not report.problem else "yellow"))
    con.print(Text(f"Linux {o.kernel} ({o.kernel.label} behaviour) on {o.arch}, {format_size(t.system_ram)} of RAM",
                   style="dim"))
    con.print()

    _reads(con, report)
    con.print()
    _reserves(con, report)
    con.print()
    _log(con, report)
    con.print()
    _diagnosis(con, report)
    con.print()
    _command_line(con, report)


def _reads(con: Console, report: CheckReport) -> None:
    """The crashkernel= tokens the kernel picks, and what its parser returns."""
    o = report.outcome
    con.print(_heading("What the kernel reads"))
    if o.tokens:
        for kind in ("plain", "high", "low", "cma"):
            tok = o.tokens.get(kind)
            if tok:
                label = {"plain": "crashkernel=", "high": ",high", "low": ",low", "cma": ",cma"}[kind]
                con.print(Text(f"  {label:<13} {tok.text}   (at column {tok.start + 1})"))
    else:
        con.print("  no crashkernel= token")
    con.print(Text(f"  result        {o.errno_name} ({'accepted' if o.accepted else 'not accepted'}), "
                   f"code path: {o.flow}"))


def _reserves(con: Console, report: CheckReport) -> None:
    """What is reserved, where, and what production loses; the replayed map when there is one."""
    o = report.outcome
    con.print(_heading("What it reserves"))
    if report.ignored:  # CK130: the kernel has no crashkernel= parser
        con.print(Text("  NOTHING is reserved: this kernel does not read crashkernel=", style="bold red"))
    elif o.fadump:
        con.print(Text(f"  fadump boot memory: {format_size(o.fadump_size or 0)} (fadump=on)"))
    elif o.accepted:
        from crashplan.kernel.versions import SWITCHES

        low_only = o.arch == "x86_64" and not SWITCHES["x86_high_fallback"].on(o.kernel)  # before 5.2
        where = "at " + hex(o.crash_base) if o.crash_base else ("high (above the low limit)" if o.high else
                                                                "automatic (below 896M only)" if low_only else
                                                                "automatic (low memory first)")
        con.print(Text(f"  crash kernel  {format_size(o.crash_size)}, {where}"))
        if o.low_size:
            con.print(Text(f"  low region    {format_size(o.low_size)} (below 4 GiB, for DMA)"))
        if o.cma_size:
            con.print(Text(f"  CMA           {format_size(o.cma_size)} (production keeps using it until a crash)"))
    if o.arch == "ppc64le" and o.cma_size and not o.accepted:
        con.print(Text(f"  CMA           {format_size(o.cma_size)} only (no standard region)"))
    if report.reservation is not None:
        from crashplan.output.layout_text import render_reservation

        assert report.machine is not None
        render_reservation(con, report.machine, report.reservation, width=con.width)
        if report.regions:
            con.print(Text(f"  production loses {format_size(report.lost)}"
                           + (f"; keeps using {format_size(report.cma)} of CMA until a crash" if report.cma else "")))
        else:
            con.print(Text("  NOTHING is reserved: kdump is disabled", style="bold red"))
        _print_placement(con, report)
    elif not o.accepted and not o.fadump and not report.ignored:
        con.print(Text("  NOTHING is reserved: kdump is disabled", style="bold red"))
    if report.map_note and not report.ignored:
        con.print(Text(f"  ({report.map_note})", style="dim"))


def _log(con: Console, report: CheckReport) -> None:
    """The kernel's own messages."""
    con.print(_heading("Kernel log"))
    if report.messages:
        for m in report.messages:
            prefix = {"warn": "warn ", "info": "info ", "err": "err  "}.get(m.level, m.level)
            con.print(Text(f"  {prefix} {m.text}", style="yellow" if m.level in ("warn", "err") else ""))
    else:
        con.print("  (nothing printed)")


def _diagnosis(con: Console, report: CheckReport) -> None:
    """One row per finding, with its fix."""
    con.print(_heading("Diagnosis"))
    if report.diagnoses:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(ratio=1)
        for d in report.diagnoses:
            grid.add_row(Text(f"  {d.severity}", style=_SEV_STYLE.get(d.severity, "")), Text(d.code, style="bold"),
                         Text.assemble((f"{d.name}: ", "bold"), d.message))
            if d.fix:
                grid.add_row("", "", Text(f"fix: {d.fix}", style="green"))
        con.print(grid)
    else:
        con.print(Text("  no problems found", style="green"))


def _command_line(con: Console, report: CheckReport) -> None:
    """The command line, the corrected one, the distribution's default and the notes."""
    con.print(_heading("Command line"))
    con.print(Text(f"  {report.cmdline}"))
    fixes = [d.fix for d in report.diagnoses if d.fix and d.severity == "error"]
    if fixes:
        con.print(Text(f"  corrected: {fixes[0]}", style="green"))
    dd = report.distribution_default
    if dd is not None:
        shown = dd.cmdline or "(size not computable here)"
        con.print(Text(f"  distribution default: {shown}"))
        con.print(Text(f"    {dd.tool}: {dd.verdict}; {dd.detail}", style="dim"))
    for n in report.notes:
        con.print(Text(f"  note: {n}", style="dim"))


def _print_placement(con: Console, report: CheckReport) -> None:
    """One line with the band when the region's place is uncertain (x86: crashplan.placement)."""
    p = report.placement
    if p is None or p.exact:
        return
    from crashplan.placement import unknowns

    con.print(Text(f"  placement uncertain: {p.band_start:#x}-{p.band_end:#x} (shown: {p.start:#x})",
                   style="yellow"))
    con.print(Text(f"    not shown: {', '.join(unknowns(p))}", style="dim"))
