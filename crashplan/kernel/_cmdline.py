"""Port of the number parsing the crashkernel= parser relies on.

Sources, ported side by side (pointers become integer offsets into a ``bytes`` buffer; the C string
ends at the first NUL, which callers guarantee by cutting the buffer there):

* ``lib/kstrtox.c``: ``_parse_integer_fixup_radix``, ``_parse_integer_limit``
  (6.1 … 7.1: wraps modulo 2^64; 7.2: saturates at ``ULLONG_MAX``);
* ``lib/vsprintf.c``: ``simple_strtoull`` (base 0 here: ``0x`` hex, leading ``0`` octal);
* ``lib/cmdline.c``: ``memparse`` (6.1 … 7.1: the suffix is consumed even without digits and
  shifted bits are lost; 7.2: a bare suffix is not consumed, the shift saturates).
"""

from __future__ import annotations

__all__ = ["ULLONG_MAX", "memparse", "simple_strtoull"]

ULLONG_MAX = (1 << 64) - 1

_SHIFT = {
    ord("E"): 60, ord("e"): 60,
    ord("P"): 50, ord("p"): 50,
    ord("T"): 40, ord("t"): 40,
    ord("G"): 30, ord("g"): 30,
    ord("M"): 20, ord("m"): 20,
    ord("K"): 10, ord("k"): 10,
}


def _char(s: bytes, i: int) -> int:
    """``s[i]`` with C's terminating NUL past the end."""
    return s[i] if i < len(s) else 0


def _isxdigit(c: int) -> bool:
    return 0x30 <= c <= 0x39 or 0x61 <= (c | 0x20) <= 0x66


def _parse_integer_fixup_radix(s: bytes, i: int, base: int) -> tuple[int, int]:
    """lib/kstrtox.c:_parse_integer_fixup_radix: returns (new offset, base)."""
    if base == 0:
        # '0', then _tolower(s[1]) == 'x' and a hex digit: 16; '0' alone: 8; else 10
        zero = _char(s, i) == 0x30
        hex_prefix = zero and (_char(s, i + 1) | 0x20) == 0x78 and _isxdigit(_char(s, i + 2))
        base = 16 if hex_prefix else 8 if zero else 10
    if base == 16 and _char(s, i) == 0x30 and (_char(s, i + 1) | 0x20) == 0x78:
        i += 2
    return i, base


def _parse_integer_limit(s: bytes, i: int, base: int, saturate: bool) -> tuple[int, int]:
    """lib/kstrtox.c:_parse_integer_limit with max_chars = INT_MAX: returns (value, digits consumed).

    Before 7.2 the accumulator wraps modulo 2^64 (the overflow flag is only reported, and
    ``simple_strtoull`` ignores it); from 7.2 it saturates at ``ULLONG_MAX``.
    """
    res = 0
    rv = 0
    n = len(s)
    while i < n:
        c = s[i]
        lc = c | 0x20  # _tolower()
        if 0x30 <= c <= 0x39:
            val = c - 0x30
        elif 0x61 <= lc <= 0x66:
            val = lc - 0x61 + 10
        else:
            break
        if val >= base:
            break
        res = res * base + val
        if res > ULLONG_MAX:
            res = ULLONG_MAX if saturate else res & ULLONG_MAX
        rv += 1
        i += 1
    return res, rv


def simple_strtoull(s: bytes, i: int, *, saturate: bool = False) -> tuple[int, int]:
    """lib/vsprintf.c:simple_strtoull(cp, &endp, 0): returns (value, end offset)."""
    i, base = _parse_integer_fixup_radix(s, i, 0)
    value, rv = _parse_integer_limit(s, i, base, saturate)
    return value, i + rv


def memparse(s: bytes, ptr: int, *, saturate: bool = False) -> tuple[int, int]:
    """lib/cmdline.c:memparse(ptr, &retptr): returns (value, retptr).

    ``saturate`` selects the 7.2 behaviour (see the module docstring).  As in C, the caller detects
    "no number" by ``retptr == ptr``.
    """
    ret, endptr = simple_strtoull(s, ptr, saturate=saturate)
    shl = _SHIFT.get(_char(s, endptr), 0)
    if not saturate:
        if shl:
            ret = (ret << shl) & ULLONG_MAX
            endptr += 1
    elif shl and ptr != endptr:
        # "Consume valid suffix even in case of overflow."
        shifted = ret << shl
        ret = min(shifted, ULLONG_MAX)
        endptr += 1
    return ret, endptr
