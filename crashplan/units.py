"""Sizes as people write them in crashplan's own options and output.

This module is for crashplan's user interface (``--ram 16G``, tables, JSON).  It never emulates the
kernel: the kernel's own number rules (octal, hex, wrap-around) live in ``crashplan.kernel``.
"""

from __future__ import annotations

import re

__all__ = ["GiB", "KiB", "MiB", "TiB", "format_kernel_size", "format_size", "parse_size"]

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30
TiB = 1 << 40

_SHIFT = {"": 0, "K": 10, "M": 20, "G": 30, "T": 40, "P": 50, "E": 60}
_SIZE_RE = re.compile(
    r"\s*(?P<num>(?:0[xX][0-9a-fA-F]+)|(?:\d+(?:\.\d+)?))\s*"
    r"(?P<unit>[kKmMgGtTpPeE]?)(?:i?[bB])?\s*\Z"
)


def parse_size(text: str) -> int:
    """Parse ``16G``, ``1536M``, ``1.5GiB``, ``0x40000000`` or ``4294967296`` into bytes.

    Binary units throughout (``G`` = GiB), as the kernel uses them.  Raises ``ValueError`` with a
    message that says what was expected.
    """
    m = _SIZE_RE.match(text)
    if m is None:
        raise ValueError(f"{text!r} is not a size (expected a number with an optional K/M/G/T/P/E unit, e.g. 16G)")
    num, unit = m.group("num"), m.group("unit").upper()
    shift = _SHIFT[unit]
    if num[:2].lower() == "0x":
        value = int(num, 16) << shift
    elif "." in num:
        whole, frac = num.split(".")
        value = (int(whole) << shift) + (int(frac) << shift) // 10 ** len(frac)
    else:
        value = int(num) << shift
    return value


def format_kernel_size(n: int) -> str:
    """The shortest exact ``memparse`` spelling of ``n`` bytes: ``256M``, ``1G``, ``1536K``, ``7``."""
    if n == 0:
        return "0"
    for unit, shift in (("E", 60), ("P", 50), ("T", 40), ("G", 30), ("M", 20), ("K", 10)):
        if n % (1 << shift) == 0:
            return f"{n >> shift}{unit}"
    return str(n)


def format_size(n: int) -> str:
    """A human size: exact where short (``256M``, ``1G``), else two decimals (``3.84G``)."""
    if n < 0:
        return "-" + format_size(-n)
    for unit, shift in (("E", 60), ("P", 50), ("T", 40), ("G", 30), ("M", 20), ("K", 10)):
        if n >= 1 << shift:
            if n % (1 << shift) == 0:
                return f"{n >> shift}{unit}"
            # two decimals, rounded half to even, in integers: exact for any size (a float overflows past 2^1024)
            q, r = divmod(n * 100, 1 << shift)
            if 2 * r > 1 << shift or (2 * r == 1 << shift and q % 2):
                q += 1
            text = f"{q // 100}.{q % 100:02d}".rstrip("0").rstrip(".")
            return f"{text}{unit}"
    return f"{n}B"
