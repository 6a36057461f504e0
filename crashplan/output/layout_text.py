"""Rich rendering of the memory picture (``crashplan.layout``) and of the planned regions.

Deterministic for a given console width: the bar is ``console.width - 2`` cells unless told, one
character and one style per band kind, then an address line, a legend and the region table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from crashplan.layout import LABELS, Layout, build_layout
from crashplan.units import format_size

if TYPE_CHECKING:
    from crashplan.memmap.model import Machine
    from crashplan.simulate import Region, Reservation

__all__ = ["STYLES", "layout_text", "region_table", "render_layout", "render_reservation"]

# (character, style) per band kind
STYLES: dict[str, tuple[str, str]] = {
    "hole": ("·", "dim"),
    "ram": ("─", "green"),
    "nomap": ("▒", "bright_black"),
    "reserved": ("▒", "white"),
    "initrd": ("i", "cyan"),
    "kernel": ("K", "bold blue"),
    "cma": ("█", "yellow"),
    "crashkernel-low": ("█", "magenta"),
    "crashkernel": ("█", "bold red"),
}


def layout_text(layout: Layout) -> list[Text]:
    """The bar, the address line under it and the legend, as rich ``Text`` lines."""
    bar = Text()
    for band in layout.bands:
        ch, style = STYLES[band.kind]
        bar.append(ch * band.cells, style=style)
    lines = [Text("[", style="dim") + bar + Text("]", style="dim")]
    axis = [" "] * (layout.width + 2)
    taken = [False] * (layout.width + 2)
    for mark in layout.marks:
        label = mark.label
        col = mark.cell + 1
        if mark is layout.marks[-1]:
            col = max(0, layout.width + 2 - len(label))
        elif col + len(label) > len(axis):
            col = len(axis) - len(label)
        if any(taken[col:col + len(label) + 1]):
            continue
        for k, ch in enumerate(label):
            axis[col + k] = ch
            taken[col + k] = True
        if col + len(label) < len(taken):
            taken[col + len(label)] = True
    lines.append(Text("".join(axis).rstrip(), style="dim"))
    # the legend, as many lines as it takes to stay within the bar's width
    legend = Text()
    for kind in layout.kinds:
        ch, style = STYLES[kind]
        if legend and len(legend) + 2 + 2 + len(LABELS[kind]) > layout.width + 2:
            lines.append(legend)
            legend = Text()
        if legend:
            legend.append("  ")
        legend.append(ch, style=style)
        legend.append(" " + LABELS[kind])
    lines.append(legend)
    return lines


def region_table(regions: tuple[Region, ...] | list[Region]) -> Table:
    """kind, start, end (exclusive), size, and whether the region sits below or above 4 GiB."""
    table = Table(box=None, pad_edge=False, show_edge=False)
    table.add_column("region")
    table.add_column("start", justify="right")
    table.add_column("end", justify="right")
    table.add_column("size", justify="right")
    table.add_column("where")
    for r in regions:
        where = "below 4 GiB" if r.end <= 1 << 32 else ("above 4 GiB" if r.start >= 1 << 32 else "across 4 GiB")
        table.add_row(Text(r.kind, style=STYLES.get(r.kind, ("", ""))[1]), f"0x{r.start:x}", f"0x{r.end:x}",
                      format_size(r.size), where)
    return table


def render_layout(console: Console, layout: Layout) -> None:
    for line in layout_text(layout):
        console.print(line, no_wrap=True, overflow="crop")


def render_reservation(console: Console, machine: Machine, reservation: Reservation | None = None, *,
                       width: int | None = None) -> Layout:
    """The picture and the region table; returns the layout drawn."""
    cells = (width if width is not None else console.width) - 2
    layout = build_layout(machine, reservation, width=max(cells, 8))
    render_layout(console, layout)
    if reservation is not None:
        console.print()
        if reservation.regions:
            console.print(region_table(reservation.regions))
        else:
            console.print(Text("nothing reserved", style="bold"))
    return layout
