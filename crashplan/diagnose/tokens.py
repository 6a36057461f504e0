"""Tokens as the kernel's raw search sees them, number spelling, misspelt parameter names."""

from __future__ import annotations

import functools
import re
from bisect import bisect_right

from crashplan.cmdline import Param, split_params
from crashplan.kernel import to_bytes
from crashplan.kernel.arch import COMMAND_LINE_SIZE
from crashplan.kernel.versions import SWITCHES, KernelRelease
from crashplan.records import NamedTuple

__all__ = ["CrashToken", "Misspelt", "crash_tokens", "kernel_view", "looks_like_crashkernel", "misspellings"]



class CrashToken(NamedTuple):
    """One occurrence of ``crashkernel=`` in the command line, as get_last_crashkernel() sees it."""

    start: int  # offset of "crashkernel="
    end: int  # offset of the next ASCII space (or the end)
    text: str
    value: str  # after "crashkernel="
    suffix: str | None  # "high", "low", "cma" (by the suffix table of the newest kernels), or None
    param: Param | None  # the next_arg() parameter that contains it
    embedded: bool  # not a parameter of its own: foo.crashkernel=, inside quotes, after "--"


def crash_tokens(cmdline: str) -> list[CrashToken]:
    params = split_params(cmdline)
    starts = [p.start for p in params]
    out: list[CrashToken] = []
    end = -1
    i = cmdline.find("crashkernel=")
    while i >= 0:
        if end < i:
            end = cmdline.find(" ", i)
            end = len(cmdline) if end < 0 else end
        text = cmdline[i:end]
        suffix = next((s for s in ("high", "low", "cma") if text.endswith("," + s)), None)
        k = bisect_right(starts, i) - 1
        param = params[k] if k >= 0 and params[k].start <= i < params[k].end else None
        own = param is not None and not param.after_dashdash and param.name == "crashkernel" and (
            param.start == i or (cmdline[param.start] == '"' and param.start + 1 == i)
        )
        out.append(CrashToken(i, end, text, text[len("crashkernel="):], suffix, param, not own))
        i = cmdline.find("crashkernel=", i + 1)
    return out


def token_kind(tok: CrashToken, release: KernelRelease) -> str:
    """plain/high/low/cma as this release's suffix table classifies the token."""
    if tok.suffix == "cma" and not SWITCHES["cma_suffix"].on(release):
        return "plain"
    return tok.suffix or "plain"


# --------------------------------------------------------------------------------------------

_HEX = frozenset("0123456789abcdefABCDEF")


def numbers(value: str) -> list[tuple[int, int, str]]:
    """The numbers in a value as memparse() starts them: ``0x…`` hex, else decimal/octal digits."""
    out = []
    i, n = 0, len(value)
    while i < n:
        if value[i] in "0123456789":
            j = i + 1
            if value[i] == "0" and value[j:j + 1] in ("x", "X") and value[j + 1:j + 2] and value[j + 1] in _HEX:
                j += 1
                while j < n and value[j] in _HEX:
                    j += 1
            else:
                while j < n and value[j] in "0123456789":
                    j += 1
            out.append((i, j, value[i:j]))
            i = j
        else:
            i += 1
    return out


def strip_unit_text(value: str) -> str:
    """``256MB`` → ``256M``, ``1GiB-4GiB:…`` → ``1G-4G:…``: drop ``B``/``iB`` after a number's unit letter."""
    cuts = []
    for _, end, num in numbers(value):
        if num[:2].lower() == "0x" or value[end:end + 1] not in tuple("KMGTPEkmgtpe") or not value[end:end + 1]:
            continue
        after = end + 1
        if value[after:after + 2] in ("iB", "ib"):
            cuts.append((after, after + 2))
        elif value[after:after + 1] in ("B", "b"):
            cuts.append((after, after + 1))
    for a, b in reversed(cuts):
        value = value[:a] + value[b:]
    return value


def fraction(value: str) -> int:
    """Offset of a ``digit.digit`` fraction in ``value``, or -1."""
    i = value.find(".")
    while i >= 0:
        if 0 < i < len(value) - 1 and value[i - 1].isdigit() and value[i + 1].isdigit():
            return i - 1
        i = value.find(".", i + 1)
    return -1


# --------------------------------------------------------------------------------------------
# misspelt parameter names

_NAME = "crashkernel"
# real parameters that a loose match must never take for a misspelt crashkernel (Documentation/admin-guide/
# kernel-parameters.txt): none is within the distance below today; listed so that a new one stays out
_REAL_NEAR = frozenset({"crash_kexec_post_notifiers", "crashkernel_low", "kexec_load_disabled"})
_MAX_DISTANCE = 2  # edits (insert, delete, substitute, swap two neighbours) from "crashkernel"


def _distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance of ``a`` and ``b``, or ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def looks_like_crashkernel(name: str) -> bool:
    """``crashkernal``, ``crashkenel``, ``crash_kernel``, ``CrashKernel`` … but not ``crashkernel`` itself."""
    low = name.lower()
    if name == _NAME or low in _REAL_NEAR or "." in low or (not low.startswith(("cr", "kr", "ck")) and \
            "kern" not in low):
        return False
    if low.replace("_", "").replace("-", "") == _NAME:
        return True
    return len(low) >= 8 and _distance(low, _NAME, _MAX_DISTANCE) <= _MAX_DISTANCE


class Misspelt(NamedTuple):
    start: int
    end: int  # the parameter (and, for ``crashkernel 256M``, the value after it)
    text: str
    corrected: str | None  # ``crashkernel=VALUE``, or None when there is no value to keep


_SIZE_START = re.compile(r"(0[xX][0-9a-fA-F]|\d)")


def misspellings(cmdline: str) -> list[Misspelt]:
    """Parameters the kernel ignores that were probably meant as ``crashkernel=``."""
    return list(misspellings_of(cmdline))


@functools.lru_cache(maxsize=1024)
def misspellings_of(cmdline: str) -> tuple[Misspelt, ...]:
    out: list[Misspelt] = []
    params = split_params(cmdline)
    for k, p in enumerate(params):
        if p.after_dashdash or cmdline[p.start] == '"':
            continue
        name, value = p.name, p.value
        if value is None:
            m = re.match(r"([A-Za-z_-]+)[:]([^:].*)$", name)
            if m:  # crashkernel:256M
                name, value = m.group(1), m.group(2)
        if name == _NAME and value is None:
            nxt = params[k + 1] if k + 1 < len(params) else None
            if nxt is not None and nxt.value is None and _SIZE_START.match(nxt.name) and not nxt.after_dashdash:
                # crashkernel 256M
                out.append(Misspelt(p.start, nxt.end, cmdline[p.start:nxt.end], f"{_NAME}={nxt.name}"))
            else:
                out.append(Misspelt(p.start, p.end, cmdline[p.start:p.end], None))
            continue
        if name == _NAME and p.name != _NAME:  # crashkernel:256M
            out.append(Misspelt(p.start, p.end, cmdline[p.start:p.end], f"{_NAME}={value}"))
            continue
        if "crashkernel=" in cmdline[p.start:p.end] or not looks_like_crashkernel(name):
            continue  # the kernel finds crashkernel= inside it anyway (CK205)
        out.append(Misspelt(p.start, p.end, cmdline[p.start:p.end],
                            f"{_NAME}={value}" if value is not None else None))
    return tuple(out)



def kernel_view(cmdline: str, arch: str) -> str:
    """The part of ``cmdline`` the kernel keeps: at most ``COMMAND_LINE_SIZE - 1`` bytes (a prefix)."""
    limit = COMMAND_LINE_SIZE.get(arch, 2048) - 1
    if len(cmdline) <= limit // 4 or len(to_bytes(cmdline)) <= limit:
        return cmdline
    if cmdline.isascii():
        return cmdline[:limit]
    lo, hi = 0, min(len(cmdline), limit)  # the longest prefix that fits in ``limit`` bytes
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(to_bytes(cmdline[:mid])) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return cmdline[:lo]
