"""Human output (rich): one line per finding, grouped by file, then a summary.  Imported only for ``text``."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from crashplan.lint.engine import Report

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["render", "render_rules"]

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _console(color: bool, width: int | None) -> tuple[Console, io.StringIO]:
    """A console writing to a string buffer, and the buffer."""
    from rich.console import Console

    buf = io.StringIO()
    con = Console(file=buf, force_terminal=color, no_color=not color, color_system="standard" if color else None,
                  width=width or 100, markup=False, highlight=False, emoji=False, soft_wrap=True)
    return con, buf


def render(report: Report, *, color: bool = False, width: int | None = None, verbose: bool = False,
           fixed: int = 0, **_: Any) -> str:
    from rich.text import Text

    con, buf = _console(color, width)
    last = None
    for f in report.findings:
        loc = f.location
        if loc.path != last and last is not None:
            con.print()
        last = loc.path
        line = Text()
        line.append(f"{loc.path}:{loc.line}:{loc.column}: ", style="bold")
        line.append(f"{f.code}", style=_STYLE[f.severity])
        line.append(f" [{f.severity}] ", style=_STYLE[f.severity])
        line.append(f.message)
        if f.fix is not None:
            line.append(" [*]", style="green")
        if f.context:
            line.append(f"  ({f.context})", style="dim")
        con.print(line)
        if verbose and f.targets:
            con.print(Text("    for " + ", ".join(f.targets), style="dim"))
    n_files = sum(1 for s in report.files if s.kind is not None)
    counts = [(report.count(s), s) for s in ("error", "warning", "info")]
    parts = [f"{n} {s}{'s' if n != 1 else ''}" for n, s in counts if n]
    summary = Text()
    if report.findings:
        con.print()
        summary.append(", ".join(parts), style="bold")
        summary.append(f" in {n_files} file{'s' if n_files != 1 else ''} checked")
        fixable = sum(1 for f in report.findings if f.fix is not None)
        if fixable:
            summary.append(f"; {fixable} marked [*] can be fixed with --fix", style="green")
    else:
        summary.append(f"No problems in {n_files} file{'s' if n_files != 1 else ''} checked", style="bold green")
    if fixed:
        summary.append(f"; {fixed} fixed", style="green")
    summary.append(f" (targets: {len(report.targets)} kernel/arch/RAM combinations)", style="dim")
    con.print(summary)
    return buf.getvalue()


def render_rules(rules: list[Any], *, color: bool = False, width: int | None = None) -> str:
    from rich.table import Table

    con, buf = _console(color, width)
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("code")
    table.add_column("name")
    table.add_column("severity")
    table.add_column("summary", overflow="fold")
    for r in rules:
        table.add_row(r.code, r.name, r.severity, r.summary)
    con.print(table)
    return buf.getvalue()
