"""A picture of physical memory, as data: bands of RAM, holes, reservations and the planned regions.

``build_layout(machine, reservation, width=…)`` cuts the address range into bands (free RAM, holes,
kernel image, initrd, other reserved memory, NOMAP, the planned ``crashkernel`` / ``crashkernel-low`` /
``cma`` regions) and gives each band a number of cells in a bar ``width`` cells wide.  The scale is not
linear: every band gets at least one cell and the rest is shared by the square root of the sizes, so
a 2 MiB hole between two 1 GiB blocks stays visible next to a 60 GiB stretch of RAM.  The renderer
(``crashplan.output.layout_text``) only draws what is here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

from crashplan.memmap.model import Machine, Span, merge_spans

TYPE_CHECKING = False  # read by mypy as typing.TYPE_CHECKING; typing itself is not imported at run time
if TYPE_CHECKING:
    from crashplan.simulate import Reservation

__all__ = ["KINDS", "Band", "Layout", "Mark", "build_layout", "classify_reserved"]

# drawing order: a later kind wins where spans overlap
KINDS = ("hole", "ram", "nomap", "reserved", "initrd", "kernel", "cma", "crashkernel-low", "crashkernel")

LABELS = {
    "hole": "no RAM",
    "ram": "free RAM",
    "nomap": "firmware (NOMAP)",
    "reserved": "reserved early",
    "initrd": "initrd",
    "kernel": "kernel image",
    "cma": "crashkernel CMA",
    "crashkernel-low": "crashkernel low",
    "crashkernel": "crashkernel",
}


@dataclass(frozen=True, slots=True)
class Band:
    kind: str
    start: int
    end: int  # exclusive
    cells: int
    names: tuple[str, ...] = ()  # what the source or the simulator called the spans in this band

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Mark:
    """An address worth pointing at under the bar (start, 4 GiB, the DMA limit, end)."""

    address: int
    cell: int
    label: str


@dataclass(frozen=True, slots=True)
class Layout:
    bands: tuple[Band, ...]
    marks: tuple[Mark, ...]
    width: int
    start: int
    end: int
    kinds: tuple[str, ...]  # kinds present, in legend order

    def cells(self) -> str:
        """One character per cell, the band kind's initial (for tests and plain-text fallbacks)."""
        key = {"hole": "_", "ram": ".", "nomap": "n", "reserved": "r", "initrd": "i", "kernel": "K",
               "cma": "M", "crashkernel-low": "L", "crashkernel": "C"}
        return "".join(key[b.kind] * b.cells for b in self.bands)


def classify_reserved(span: Span) -> str:
    n = span.name.lower()
    if "initrd" in n or "ramdisk" in n:
        return "initrd"
    if ("kernel" in n and "crash" not in n) or n.startswith("kernel"):
        return "kernel"
    return "reserved"


def _pieces(machine: Machine, reservation: Reservation | None) -> list[tuple[int, int, str, str]]:
    mm = machine.memmap
    state = reservation.memblock if reservation is not None else None
    memory = state.memory if state is not None else merge_spans(mm.ram + mm.nomap)
    nomap = state.nomap if state is not None else mm.nomap
    reserved = state.reserved if state is not None else mm.reserved
    pieces = [(s.start, s.end, "ram", "") for s in memory]
    pieces += [(s.start, s.end, "nomap", s.name) for s in nomap]
    pieces += [(s.start, s.end, classify_reserved(s), s.name) for s in reserved]
    if reservation is not None:
        pieces += [(r.start, r.end, r.kind, r.kind) for r in reservation.regions]
    return pieces


def _segments(pieces: list[tuple[int, int, str, str]], lo: int, hi: int) -> list[tuple[int, int, str, tuple[str, ...]]]:
    """Elementary intervals between all boundaries, each with the winning kind; equal neighbours merged."""
    bounds = sorted({lo, hi} | {p[0] for p in pieces if lo < p[0] < hi} | {p[1] for p in pieces if lo < p[1] < hi})
    rank = {k: i for i, k in enumerate(KINDS)}
    segs: list[tuple[int, int, str, tuple[str, ...]]] = []
    for a, b in pairwise(bounds):
        here = [(k, name) for s, e, k, name in pieces if s < b and a < e]
        kind = max((k for k, _ in here), key=rank.__getitem__, default="hole")
        names = [name for k, name in here if k == kind and name]
        if segs and segs[-1][2] == kind and segs[-1][1] == a:
            prev = segs[-1]
            merged = tuple(dict.fromkeys(prev[3] + tuple(names)))
            segs[-1] = (prev[0], b, kind, merged)
        else:
            segs.append((a, b, kind, tuple(dict.fromkeys(names))))
    return segs


def _allot(sizes: list[int], width: int) -> list[int]:
    """Cells per band: one each, the rest by sqrt(size) (largest remainders, ties to the left)."""
    n = len(sizes)
    if n == 0:
        return []
    spare = width - n
    weights = [math.sqrt(max(s, 1)) for s in sizes]
    total = sum(weights)
    exact = [spare * w / total for w in weights]
    cells = [1 + int(x) for x in exact]
    left = width - sum(cells)
    order = sorted(range(n), key=lambda i: (-(exact[i] - int(exact[i])), i))
    for i in order[:left]:
        cells[i] += 1
    return cells


def build_layout(machine: Machine, reservation: Reservation | None = None, *, width: int = 80) -> Layout:
    """The bands of ``machine``'s memory (as memblock saw it in ``reservation``, when given)."""
    width = max(width, 8)
    pieces = _pieces(machine, reservation)
    ram_like = [p for p in pieces if p[2] in ("ram", "nomap")]
    if not ram_like:
        return Layout(bands=(), marks=(), width=width, start=0, end=0, kinds=())
    lo = min(p[0] for p in ram_like)
    hi = max(p[1] for p in ram_like)
    segs = _segments(pieces, lo, hi)
    # too many bands for the width: fold the smallest free/reserved bands into their neighbours' kind
    while len(segs) > width:
        i = min(range(len(segs)), key=lambda j: (segs[j][1] - segs[j][0], j))
        a, b, _, names = segs[i]
        j = i - 1 if i > 0 else i + 1
        s2 = segs[j]
        merged = (min(a, s2[0]), max(b, s2[1]), s2[2], s2[3] + names)
        lo_i, hi_i = min(i, j), max(i, j)
        segs[lo_i:hi_i + 1] = [merged]
    cells = _allot([b - a for a, b, _, _ in segs], width)
    bands = tuple(Band(k, a, b, c, names) for (a, b, k, names), c in zip(segs, cells, strict=True))
    marks: list[Mark] = []

    def cell_of(addr: int) -> int:
        pos = 0
        for band in bands:
            if band.start <= addr < band.end:
                frac = (addr - band.start) / band.size
                return min(width - 1, pos + int(frac * band.cells))
            pos += band.cells
        return width - 1

    marks.append(Mark(lo, 0, _addr(lo)))
    four = 1 << 32
    if lo < four < hi:
        marks.append(Mark(four, cell_of(four), "4G"))
    dma = reservation.low_max if reservation is not None else None
    if dma and lo < dma < hi and dma != four:
        marks.append(Mark(dma, cell_of(dma), "DMA " + _addr(dma)))
    marks.append(Mark(hi, width - 1, _addr(hi)))
    present = tuple(k for k in reversed(KINDS) if any(b.kind == k for b in bands))
    return Layout(bands=bands, marks=tuple(marks), width=width, start=lo, end=hi, kinds=present)


def _addr(a: int) -> str:
    return f"0x{a:x}"
