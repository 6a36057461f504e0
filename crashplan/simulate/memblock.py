"""memblock: ``memblock.memory``, ``.reserved`` and NOMAP, and the searches the reservation code uses.

A port of ``mm/memblock.c``: ``memblock_phys_alloc_range`` / ``memblock_alloc_range_nid`` /
``__memblock_find_range_top_down`` and ``_bottom_up`` (start clamped to ``PAGE_SIZE``, the highest —
or lowest — aligned fit), ``memblock_phys_free``, ``memblock_remove`` and ``memblock_mem_size``.
"""

from __future__ import annotations

from bisect import bisect_right

from crashplan.memmap.model import Span, merge_spans, subtract_spans
from crashplan.simulate.model import round_down, round_up

__all__ = ["Memblock"]


def _span_start(s: Span) -> int:
    return s.start


class Memblock:
    """memblock.memory, .reserved and NOMAP, with ``memblock_phys_alloc_range`` (``mm/memblock.c``)."""

    def __init__(self, memory: tuple[Span, ...], reserved: tuple[Span, ...] = (), nomap: tuple[Span, ...] = (),
                 page_size: int = 4096) -> None:
        self.memory = merge_spans(memory)
        self.nomap = merge_spans(nomap)
        self.reserved: list[Span] = list(reserved)
        self.page_size = page_size
        self._free: tuple[tuple[int, int, int], tuple[Span, ...]] | None = None

    def free_ranges(self) -> tuple[Span, ...]:
        # memblock.memory minus memblock.reserved and NOMAP; reserved only grows by appends or is replaced,
        # and memory only is replaced, so (identity, length) tells whether the cached answer still holds
        key = (id(self.reserved), len(self.reserved), id(self.memory))
        if self._free is None or self._free[0] != key:
            self._free = (key, subtract_spans(self.memory, tuple(self.reserved) + self.nomap))
        return self._free[1]

    def end_of_dram(self) -> int:
        return self.memory[-1].end if self.memory else 0

    def start_of_dram(self) -> int:
        return self.memory[0].start if self.memory else 0

    def phys_mem_size(self) -> int:
        return sum(s.size for s in self.memory)

    def mem_size_below(self, limit: int) -> int:
        """``memblock_mem_size(limit >> PAGE_SHIFT)`` (≤ 5.9): whole pages of memblock.memory below
        ``limit``."""
        page = 4096
        total = 0
        for m in self.memory:
            start = min(round_up(m.start, page), limit)
            end = min(round_down(m.end, page), limit)
            if end > start:
                total += end - start
        return total

    def find(self, size: int, align: int, start: int, end: int, *, bottom_up: bool = False) -> int:
        """``memblock_find_in_range_node``: the base, or 0."""
        if size <= 0:
            return 0
        start = max(start, self.page_size)
        end = max(start, end)
        ranges = self.free_ranges()
        if bottom_up:
            for r in ranges:
                this_start = min(max(r.start, start), end)
                this_end = min(max(r.end, start), end)
                cand = round_up(this_start, align)
                if cand < this_end and this_end - cand >= size:
                    return cand
            return 0
        for r in reversed(ranges):
            this_start = min(max(r.start, start), end)
            this_end = min(max(r.end, start), end)
            if this_end < size:
                continue
            cand = round_down(this_end - size, align)
            if cand >= this_start:
                return cand
        return 0

    def alloc(self, size: int, align: int, start: int, end: int, name: str, *, bottom_up: bool = False) -> int:
        """``memblock_phys_alloc_range``: find and reserve; 0 on failure."""
        base = self.find(size, align, start, end, bottom_up=bottom_up)
        if base:
            self.reserved.append(Span(base, base + size, name))
            self._carve(base, base + size)
        return base

    def _carve(self, start: int, end: int) -> None:
        # keep the cached free ranges valid after an allocation inside one of them, so that many small
        # allocations in a row (sparse_init's section arrays) cost one split each, not a full subtraction
        if self._free is None or self._free[0][0] != id(self.reserved):
            return
        ranges = self._free[1]
        i = bisect_right(ranges, start, key=_span_start) - 1
        if i < 0 or not ranges[i].contains(start, end):
            self._free = None
            return
        r = ranges[i]
        pieces = tuple(Span(a, b, r.name) for a, b in ((r.start, start), (end, r.end)) if b > a)
        key = (id(self.reserved), len(self.reserved), id(self.memory))
        self._free = (key, ranges[:i] + pieces + ranges[i + 1:])

    def is_free(self, start: int, end: int) -> bool:
        return any(r.contains(start, end) for r in self.free_ranges())

    def free(self, base: int, size: int) -> None:
        """``memblock_phys_free``."""
        self.reserved = list(subtract_spans(self.reserved, [Span(base, base + size)]))

    def remove(self, base: int, size: int) -> None:
        """``memblock_remove`` (s390 takes the crash region out of memblock.memory)."""
        self.memory = subtract_spans(self.memory, [Span(base, base + size)])

    def overlapping(self, start: int, end: int) -> list[Span]:
        return [s for s in self.reserved if s.overlaps(start, end)]
