"""Port of the crashkernel= parser: ``kernel/crash_reserve.c`` (6.9+), ``kernel/crash_core.c`` (≤ 6.8).

Reviewable side by side with the C: the same function names, the same local names (``cur``,
``tmp``, ``ck_cmdline``, ``first_colon``), the same control flow.  C pointers are integer offsets
into a ``bytes`` buffer that ends where the C string would (at the first NUL).  The functions take a
``Dialect``: the few things that differ between releases (suffix table, 128 MiB round-up, number
rules, message texts, the return code for a missing token).  Messages are appended to ``log`` as
``(level, text)``, exactly as ``pr_warn``/``pr_info`` would print them, without the newline.
"""

from __future__ import annotations

from crashplan.records import NamedTuple

from ._cmdline import ULLONG_MAX, memparse

__all__ = [
    "EINVAL",
    "ENOENT",
    "SUFFIX_CMA",
    "SUFFIX_HIGH",
    "SUFFIX_LOW",
    "SZ_128M",
    "Dialect",
    "Log",
    "Result",
    "_parse_crashkernel",
    "get_last_crashkernel",
    "parse_crashkernel_mem",
    "parse_crashkernel_simple",
    "parse_crashkernel_suffix",
]

EINVAL = -22
ENOENT = -2
SZ_128M = 128 << 20

SUFFIX_HIGH = b",high"
SUFFIX_LOW = b",low"
SUFFIX_CMA = b",cma"

Log = list[tuple[str, str]]


class Dialect(NamedTuple):
    """What differs in this parser between releases (kernel-semantics §2.2, §3.2, §3.3, §4.3)."""

    suffix_tbl: tuple[bytes, ...]  # ,high ,low (≤ 6.16) / ,high ,low ,cma (≥ 6.17)
    roundup: bool  # total_mem = roundup(system_ram, SZ_128M) in parse_crashkernel_mem (≥ 6.0)
    saturate: bool  # memparse/_parse_integer_limit saturate (≥ 7.2)
    missing: int  # __parse_crashkernel's return for no token: -ENOENT (≥ 5.19) or -EINVAL (5.15)
    msg_size_expected: str  # parse_crashkernel_mem, size missing
    msg_after_at: str  # parse_crashkernel_mem, offset missing after '@'
    zero_msg: bool = True  # parse_crashkernel_mem logs "crashkernel size resulted in zero bytes" (not 4.14)
    # RHEL 8 only (crashplan.kernel.distros): crashkernel=auto -> (this arch's table, ppc64 fadump table)
    auto: tuple[bytes, bytes | None] | None = None


class Result:
    """The out-parameters of one call (``*crash_size``, ``*crash_base``) and the token chosen."""

    __slots__ = ("size", "base", "token")

    def __init__(self) -> None:
        self.size = 0
        self.base = 0
        self.token: int | None = None  # offset of the chosen "crashkernel=" in the buffer, if any


def _c(s: bytes, i: int) -> int:
    return s[i] if i < len(s) else 0


def _pr_char(c: int) -> str:
    """``%c`` of one byte, as the console shows it."""
    return chr(c) if c < 0x80 else bytes([c]).decode("latin-1")


def _strchr(s: bytes, i: int, ch: bytes) -> int | None:
    j = s.find(ch, i)
    return None if j < 0 else j


def parse_crashkernel_mem(
    s: bytes, cmdline: int, system_ram: int, out: Result, d: Dialect, log: Log
) -> int:
    """kernel/crash_reserve.c:parse_crashkernel_mem

    ``crashkernel=ramsize-range:size[,...][@offset]``
    """
    cur = cmdline
    total_mem = system_ram

    # "Firmware sometimes reserves some memory regions for its own use, so the system memory size
    # is less than the actual physical memory size." (6.0+)
    if d.roundup:
        total_mem = (total_mem + SZ_128M - 1) // SZ_128M * SZ_128M
        # C arithmetic: roundup() of a value near ULLONG_MAX wraps
        total_mem &= ULLONG_MAX

    # for each entry of the comma-separated list
    while True:
        end = ULLONG_MAX

        # get the start of the range
        start, tmp = memparse(s, cur, saturate=d.saturate)
        if cur == tmp:
            log.append(("warn", "crashkernel: Memory value expected"))
            return EINVAL
        cur = tmp
        if _c(s, cur) != 0x2D:  # '-'
            log.append(("warn", "crashkernel: '-' expected"))
            return EINVAL
        cur += 1

        # if no ':' is here, than we read the end
        if _c(s, cur) != 0x3A:  # ':'
            end, tmp = memparse(s, cur, saturate=d.saturate)
            if cur == tmp:
                log.append(("warn", "crashkernel: Memory value expected"))
                return EINVAL
            cur = tmp
            if end <= start:
                log.append(("warn", "crashkernel: end <= start"))
                return EINVAL

        if _c(s, cur) != 0x3A:
            log.append(("warn", "crashkernel: ':' expected"))
            return EINVAL
        cur += 1

        size, tmp = memparse(s, cur, saturate=d.saturate)
        if cur == tmp:
            log.append(("warn", d.msg_size_expected))
            return EINVAL
        cur = tmp
        if size >= total_mem:
            log.append(("warn", "crashkernel: invalid size"))
            return EINVAL

        # match ?
        if total_mem >= start and total_mem < end:
            out.size = size
            break

        # } while (*cur++ == ',');
        ch = _c(s, cur)
        cur += 1
        if ch != 0x2C:
            break

    if out.size > 0:
        while _c(s, cur) and _c(s, cur) != 0x20 and _c(s, cur) != 0x40:  # ' ', '@'
            cur += 1
        if _c(s, cur) == 0x40:
            cur += 1
            out.base, tmp = memparse(s, cur, saturate=d.saturate)
            if cur == tmp:
                log.append(("warn", d.msg_after_at))
                return EINVAL
    elif d.zero_msg:  # 4.14: no else branch
        log.append(("info", "crashkernel size resulted in zero bytes"))

    return 0


def parse_crashkernel_simple(s: bytes, cmdline: int, out: Result, d: Dialect, log: Log) -> int:
    """kernel/crash_reserve.c:parse_crashkernel_simple

    ``crashkernel=size[@offset]``
    """
    out.size, cur = memparse(s, cmdline, saturate=d.saturate)
    if cmdline == cur:
        log.append(("warn", "crashkernel: memory value expected"))
        return EINVAL

    if _c(s, cur) == 0x40:  # '@'
        out.base, cur = memparse(s, cur + 1, saturate=d.saturate)
    elif _c(s, cur) != 0x20 and _c(s, cur) != 0:
        log.append(("warn", f"crashkernel: unrecognized char: {_pr_char(_c(s, cur))}"))
        return EINVAL

    return 0


def parse_crashkernel_suffix(s: bytes, cmdline: int, out: Result, suffix: bytes, d: Dialect, log: Log) -> int:
    """kernel/crash_reserve.c:parse_crashkernel_suffix

    ``crashkernel=size,[high|low|cma]``.  The size is stored before the suffix is checked.
    """
    out.size, cur = memparse(s, cmdline, saturate=d.saturate)
    if cmdline == cur:
        log.append(("warn", "crashkernel: memory value expected"))
        return EINVAL

    # check with suffix
    if s[cur:cur + len(suffix)] != suffix:  # strncmp(cur, suffix, strlen(suffix))
        log.append(("warn", f"crashkernel: unrecognized char: {_pr_char(_c(s, cur))}"))
        return EINVAL
    cur += len(suffix)
    if _c(s, cur) != 0x20 and _c(s, cur) != 0:
        log.append(("warn", f"crashkernel: unrecognized char: {_pr_char(_c(s, cur))}"))
        return EINVAL

    return 0


_NAME = b"crashkernel="


def get_last_crashkernel(s: bytes, suffix: bytes | None, d: Dialect) -> int | None:
    """kernel/crash_reserve.c:get_last_crashkernel

    A raw ``strstr`` for ``crashkernel=`` (no word boundary, quotes not special); a token ends at
    the next ASCII space only.  The last token that ends with ``suffix`` wins; with no suffix, the
    last token that ends with none of the known suffixes.
    """
    ck_cmdline = None
    end_p = -1
    p = s.find(_NAME)
    while p >= 0:
        # strchr(p, ' '): the next space moves forward with p, so it is searched for only once
        if end_p < p:
            end_p = s.find(b" ", p)
            if end_p < 0:
                end_p = len(s)
        if suffix is None:
            # skip the one with any known suffix
            if not any(s.endswith(sfx, p, end_p) for sfx in d.suffix_tbl):
                ck_cmdline = p
        elif s.endswith(suffix, p, end_p):
            ck_cmdline = p
        p = s.find(_NAME, p + 1)
    return ck_cmdline


def _last_param(s: bytes, name: bytes, d: Dialect) -> int | None:
    """get_last_crashkernel(cmdline, name, NULL) of kernels whose search took the name (RHEL 8)."""
    found = None
    p = s.find(name)
    while p >= 0:
        end_p = s.find(b" ", p)
        end_p = len(s) if end_p < 0 else end_p
        if not any(s.endswith(sfx, p, end_p) for sfx in d.suffix_tbl):
            found = p
        p = s.find(name, p + 1)
    return found


def _parse_crashkernel(
    s: bytes, system_ram: int, out: Result, suffix: bytes | None, d: Dialect, log: Log
) -> int:
    """kernel/crash_reserve.c:__parse_crashkernel (a Python name cannot start with two underscores here)"""
    out.size = 0
    out.base = 0

    ck_cmdline = get_last_crashkernel(s, suffix, d)
    out.token = ck_cmdline
    if ck_cmdline is None:
        return d.missing

    ck_cmdline += len(_NAME)

    if suffix is not None:
        return parse_crashkernel_suffix(s, ck_cmdline, out, suffix, d, log)
    if d.auto is not None and s[ck_cmdline:ck_cmdline + 4] == b"auto":
        # RHEL 8's __parse_crashkernel(): strncmp(ck_cmdline, "auto", 4) == 0 -> ck_cmdline = the built-in
        # table (powerpc: the fadump table unless the last fadump= is absent or "off..."), then the range
        # parser reads the table (crashplan.kernel.distros cites the source)
        table, fadump_table = d.auto
        if fadump_table is not None:
            fa = _last_param(s, b"fadump=", d)
            if fa is not None and s[fa + 7:fa + 10] != b"off":
                table = fadump_table
        log.append(("info", "Using crashkernel=auto, the size chosen is a best effort estimation."))
        return parse_crashkernel_mem(table, 0, system_ram, out, d, log)
    # if the commandline contains a ':', then that's the extended syntax -- if not, it must be
    # the classic syntax
    first_colon = _strchr(s, ck_cmdline, b":")
    first_space = _strchr(s, ck_cmdline, b" ")
    if first_colon is not None and (first_space is None or first_colon < first_space):
        return parse_crashkernel_mem(s, ck_cmdline, system_ram, out, d, log)

    return parse_crashkernel_simple(s, ck_cmdline, out, d, log)
