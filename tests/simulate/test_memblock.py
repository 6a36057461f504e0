"""memblock (mm/memblock.c): the searches the reservation code uses."""

from __future__ import annotations

from simhelp import M

from crashplan.memmap.model import Span
from crashplan.simulate import Memblock


def test_memblock_top_down_bottom_up_and_page_zero():
    mb = Memblock((Span(0, 64 * M),), (Span(32 * M, 40 * M, "x"),))
    assert mb.find(16 * M, 2 * M, 0, 64 * M) == 48 * M
    assert mb.find(30 * M, 2 * M, 0, 64 * M) == 2 * M
    assert mb.find(31 * M, 2 * M, 0, 64 * M) == 0
    assert mb.find(8 * M, 2 * M, 0, 64 * M, bottom_up=True) == 2 * M  # start clamped to PAGE_SIZE, rounded up
    assert mb.find(4096, 4096, 0, 64 * M, bottom_up=True) == 4096
