"""Human output (rich): one line per finding, grouped by file, then a summary.  Imported only for ``text``.

The console comes from ``crashplan.output.terminal.Terminal``: a finding stays one line however long
(soft wrap: editors and grep read it), on a 100-column page unless a width is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crashplan.lint.engine import Report
from crashplan.severity import Severity

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

__all__ = ["render", "render_rules"]

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_WIDTH = 100


def _capture(draw: Callable[[Console], None], color: bool, width: int | None) -> str:
    from crashplan.output.terminal import Terminal

    return Terminal(color=color, width=width).capture(draw, soft_wrap=True, default_width=_WIDTH)


def render(report: Report, *, color: bool = False, width: int | None = None, verbose: bool = False,
           fixed: int = 0, **_: Any) -> str:
    from rich.text import Text

    def draw(con: Console) -> None:
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
        counts = [(report.count(s), s) for s in Severity]
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

    return _capture(draw, color, width)


def render_rules(rules: list[Any], *, color: bool = False, width: int | None = None) -> str:
    from rich.table import Table

    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("code")
    table.add_column("name")
    table.add_column("severity")
    table.add_column("summary", overflow="fold")
    for r in rules:
        table.add_row(r.code, r.name, r.severity, r.summary)
    return _capture(lambda con: con.print(table), color, width)
