"""Text rendering of ``crashplan check`` (rich; imported only when text output is asked for)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from crashplan.output.terminal import paragraph
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


def _field(con: Console, label: str, value: Text | str) -> None:
    """``  label         value`` with the value wrapped under itself (the columns of "What the kernel reads")."""
    t = value if isinstance(value, Text) else Text(value)
    for k, line in enumerate(t.wrap(con, max(20, con.width - 16), overflow="fold")):
        line.rstrip()
        con.print(Text(f"  {label if k == 0 else '':<13} ") + line, soft_wrap=True)


def render_check(report: CheckReport, *, width: int | None = None, console: Console | None = None,
                 color: str = "auto", verbosity: int = 0) -> None:
    """The answer first (what is reserved, whether anything is wrong), then what the kernel reads, what it
    reserves, its log, the diagnosis and the command line; printed on ``console``, else on the terminal
    ``width`` and ``color`` (``--width``, ``--color``) describe.

    ``verbosity`` 1 (``-v``) adds every crashkernel= of the line (read or not), the parser's rules of this
    release, the code path with the pointers it passes and the low limit of the replay; 2 (``-vv``) adds
    why: the release switches that decided the code path and the parser, with their certainty notes
    (``crashplan.kernel.explain``)."""
    from crashplan.check import headline, problem_line
    from crashplan.output.terminal import Terminal

    con = console or Terminal.from_options(color, width).console()
    o = report.outcome
    t = report.target
    # the answer first: what is reserved, how much and where; then whether anything is wrong
    paragraph(con, Text(headline(report), style="bold" if report.reserves else "bold red"), 0, 2)
    con.print(Text(problem_line(report), style="green" if not report.problem else "yellow"))
    con.print(Text(f"Linux {o.kernel} ({o.kernel.label} behaviour) on {o.arch}, {format_size(t.system_ram)} of RAM",
                   style="dim"))
    con.print()

    _reads(con, report)
    if verbosity >= 1:
        _tokens_and_rules(con, report)
    con.print()
    _reserves(con, report, verbosity)
    con.print()
    _log(con, report)
    con.print()
    _diagnosis(con, report)
    con.print()
    _command_line(con, report)
    if verbosity >= 2:
        con.print()
        _why(con, report)


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


def _reserves(con: Console, report: CheckReport, verbosity: int = 0) -> None:
    """What is reserved, where, and what production loses; the replayed map when there is one (-v: the code
    path before it)."""
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
    if verbosity >= 1:
        _code_path(con, report)
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
    paragraph(con, report.cmdline)
    fixes = [d.fix for d in report.diagnoses if d.fix and d.severity == "error"]
    if fixes:
        paragraph(con, Text(f"corrected: {fixes[0]}", style="green"), hang=2)
    dd = report.distribution_default
    if dd is not None:
        shown = dd.cmdline or "(size not computable here)"
        paragraph(con, f"distribution default: {shown}", hang=2)
        paragraph(con, Text(f"{dd.tool}: {dd.verdict}; {dd.detail}", style="dim"), 4, 2)
    for n in report.notes:
        paragraph(con, Text(f"note: {n}", style="dim"), hang=2)


def _print_placement(con: Console, report: CheckReport) -> None:
    """One line with the band when the region's place is uncertain (x86: crashplan.placement)."""
    p = report.placement
    if p is None or p.exact:
        return
    from crashplan.placement import unknowns

    con.print(Text(f"  placement uncertain: {p.band_start:#x}-{p.band_end:#x} (shown: {p.start:#x})",
                   style="yellow"))
    con.print(Text(f"    not shown: {', '.join(unknowns(p))}", style="dim"))


def _tokens_and_rules(con: Console, report: CheckReport) -> None:
    """-v: every crashkernel= of the line the kernel keeps, read or not; the parser's rules of this release."""
    from crashplan.diagnose.tokens import crash_tokens, kernel_view, token_kind
    from crashplan.kernel import dialect_for
    from crashplan.kernel._crash_reserve import ENOENT

    o = report.outcome
    read = {t.start for t in o.tokens.values()}
    label = "on the line"
    for tok in crash_tokens(kernel_view(report.cmdline, o.arch)):
        state = f"read ({token_kind(tok, o.kernel)})" if tok.start in read else "not read"
        inside = ", inside another parameter" if tok.embedded else ""
        _field(con, label, f"{tok.text}   (at column {tok.start + 1}{inside}): {state}")
        label = ""
    d = dialect_for(o.kernel, o.arch)
    suffixes = " ".join(s.decode() for s in d.suffix_tbl)
    rules = (f"suffixes {suffixes}; ranges {'round RAM up to 128M' if d.roundup else 'use RAM as it is'}; "
             f"numbers {'saturate' if d.saturate else 'do not saturate'} on overflow; a missing "
             f"crashkernel= is {'-ENOENT' if d.missing == ENOENT else '-EINVAL'}")
    _field(con, "parser", f"{o.kernel.label}: {rules}")


def _code_path(con: Console, report: CheckReport) -> None:
    """-v: the code that reserves, the pointers it passes, the low limit of the replay, a distribution profile."""
    from crashplan.kernel.explain import flow_text
    from crashplan.kernel.features import Flow, pointers

    o = report.outcome
    text = f"{o.flow}: {flow_text(o.flow)}"
    if o.flow == Flow.GENERIC:
        high_low, cma = pointers(o.arch, o.kernel)
        text += f"; reads ,high and ,low: {'yes' if high_low else 'no'}; reserves ,cma: {'yes' if cma else 'no'}"
    _field(con, "code path", text)
    low_max = getattr(report.reservation, "low_max", None)
    if low_max:
        _field(con, "low limit", f"{format_size(low_max)} ({low_max:#x}, CRASH_ADDR_LOW_MAX in the replay)")
    if o.kernel.profile is not None:
        from crashplan.kernel import distros

        p = distros.get(o.kernel.profile)
        forced = [f"{n} on" for n in sorted(p.on)] + [f"{n} off" for n in sorted(p.off)]
        _field(con, "profile", f"{p.name}, built on {p.base[0]}.{p.base[1]}"
               + (f"; sets {', '.join(forced)}" if forced else "; sets no switch"))


def _why(con: Console, report: CheckReport) -> None:
    """-vv: the release switches that decided the code path and the parser, with their certainty notes."""
    from crashplan.kernel.explain import decisions

    o = report.outcome
    con.print(_heading(f"Why: the switches of Linux {o.kernel} on {o.arch}"))
    for dec in decisions(o.arch, o.kernel):
        answer = dec.answer
        if dec.topic == "code path" and answer != o.flow:
            answer += f" (this kernel: {o.flow})"
        paragraph(con, Text.assemble((f"{dec.topic}: ", "bold"), answer), 2, 4)
        if not dec.switches:
            paragraph(con, "always on this architecture (no switch)" if dec.answer == "yes" else
                      "on every release (no switch)", 4, 4)
        for s in dec.switches:
            by = f"; set by {s.forced_by}" if s.forced_by else ""
            paragraph(con, Text.assemble((f"{'on ' if s.on else 'off'} {s.name}", "bold" if s.on else ""),
                                         f" (from {s.since}{by}): {s.what}"), 4, 4)
            paragraph(con, Text(f"certainty: {s.certainty}", style="dim"), 8, 2)
