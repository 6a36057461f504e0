"""Diagnoses of a kernel command line: what will go wrong with ``crashkernel=``, in plain words.

Pure: a command line and the targets it must work for (release, architecture, RAM) go in, a list of
``Diagnosis`` comes out.  ``crashplan check`` prints them for one target; ``crashplan lint`` turns them
into findings for every target of a profile.  Each code is one gotcha of kernel-semantics §9 that
needs no memory map; codes are stable and never reused:

* ``CK1xx`` the kernel rejects the value or reserves nothing: kdump is disabled;
* ``CK2xx`` the kernel accepts it, but not as the writer probably meant;
* ``CK3xx`` (from the simulator) the reservation does not fit the machine.

A diagnosis carries the span of the offending text (character offsets into the command line) and,
where one safe correction exists, the whole corrected command line (``fix``).
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections.abc import Sequence
from typing import NamedTuple

from crashplan.cmdline import Param, split_params
from crashplan.kernel import (
    Outcome,
    cma_first_release,
    cma_supported,
    evaluate,
    high_low_supported,
    normalize_arch,
    parse_release,
    to_bytes,
)
from crashplan.kernel._cmdline import memparse
from crashplan.kernel.arch import COMMAND_LINE_SIZE
from crashplan.kernel.versions import SWITCHES, KernelRelease

__all__ = ["Target", "Diagnosis", "CodeInfo", "CODES", "diagnose", "crash_tokens", "CrashToken"]

ERROR, WARNING, INFO = "error", "warning", "info"


class Target(NamedTuple):
    """One configuration the command line must work for."""

    kernel: str
    arch: str
    system_ram: int
    # build options known for this kernel, without the CONFIG_ prefix: (("KEXEC", False), …); empty when
    # not known.  A kernel without kexec or crash dump support gets CK130 (crashplan.readiness).
    build: tuple[tuple[str, bool], ...] = ()
    # the user named this target (``--ram``, a lint profile, the machine's own RAM); False only for lint's
    # built-in default profile.  A reservation that is nothing on a declared target is an error.
    declared: bool = True

    @classmethod
    def from_example(cls, t: dict[str, str]) -> Target:
        """A documented example's target: ``{"kernel", "arch", "ram"}`` and an optional ``"config"``
        such as ``"KEXEC=n KEXEC_FILE=n"``."""
        from crashplan.units import parse_size

        build = tuple((k, v == "y") for k, _, v in (w.partition("=") for w in t.get("config", "").split()))
        return cls(t["kernel"], t["arch"], parse_size(t["ram"]), build)

    def label(self) -> str:
        from crashplan.units import format_size

        return f"{self.kernel}/{normalize_arch(self.arch)}/{format_size(self.system_ram)}"


class Diagnosis(NamedTuple):
    code: str
    name: str
    severity: str  # "error", "warning", "info"
    message: str
    span: tuple[int, int] | None = None
    fix: str | None = None
    detail: str = ""
    targets: tuple[Target, ...] = ()


class CodeInfo(NamedTuple):
    code: str
    name: str
    severity: str
    summary: str
    description: str
    # (command line, target as {"kernel", "arch", "ram"}, codes expected) — PASS examples expect ()
    examples: tuple[tuple[str, dict[str, str], tuple[str, ...]], ...] = ()


def _x86(kernel: str = "7.2", ram: str = "16G") -> dict[str, str]:
    return {"kernel": kernel, "arch": "x86_64", "ram": ram}


def _arm(kernel: str = "7.2", ram: str = "16G") -> dict[str, str]:
    return {"kernel": kernel, "arch": "arm64", "ram": ram}


_CODES: list[CodeInfo] = [
    CodeInfo("CK101", "kernel-rejects-crashkernel", ERROR, "the kernel rejects the crashkernel= value: kdump is disabled",
             "The token the kernel picks does not parse; the kernel prints a warning and reserves nothing.",
             (("crashkernel=256M+64M", _x86(), ("CK101",)), ("crashkernel=256M", _x86(), ()))),
    CodeInfo("CK102", "cma-typo", ERROR, "crashkernel=X,cma=Y is one token the kernel rejects",
             "`crashkernel=256M,cma=1G` is read as one crashkernel= value: the simple parser stops at `,` "
             "(`unrecognized char: ,`), so nothing is reserved, no CMA is reserved, and the global cma= is not set "
             "either. Write two tokens.",
             (("crashkernel=256M,cma=1G", _x86(), ("CK102",)), ("crashkernel=256M crashkernel=1G,cma", _x86(), ("CK210",)))),
    CodeInfo("CK103", "cma-breaks-old-kernel", ERROR, "a ,cma token breaks kdump on kernels before 6.17",
             "Before 6.17 `,cma` is not a known suffix, so `crashkernel=1G,cma` is a plain candidate; when it is the "
             "last one it wins and fails with `unrecognized char: ,`. Put the plain token last.",
             (("crashkernel=256M crashkernel=1G,cma", _x86("6.12"), ("CK103",)),
              ("crashkernel=1G,cma crashkernel=256M", _x86("6.12"), ("CK209",)))),
    CodeInfo("CK104", "quoted-crashkernel", ERROR, "quotes are part of the crashkernel= value",
             "The crashkernel parser searches the raw command line; quotes are not special to it. "
             "`\"crashkernel=256M\"` ends in `\"` (`unrecognized char: \"`), `crashkernel=\"256M\"` is not a number.",
             (('"crashkernel=256M"', _x86(), ("CK104",)), ("crashkernel=256M", _x86(), ()))),
    CodeInfo("CK105", "tab-in-crashkernel", ERROR, "only a space ends a crashkernel= token",
             "A TAB or newline after the value becomes part of it: the kernel reports `unrecognized char` and "
             "reserves nothing.",
             (("crashkernel=256M\tquiet", _x86(), ("CK105",)), ("crashkernel=256M quiet", _x86(), ()))),
    CodeInfo("CK106", "crashkernel-auto", ERROR, "crashkernel=auto is a RHEL-only patch",
             "Mainline kernels print `memory value expected` and reserve nothing. Use an explicit size or a range. "
             "RHEL 8 kernels (4.18.0-*.el8*) expand it to a built-in table; RHEL 9 removed it, so a RHEL 8 line "
             "kept across an in-place upgrade disables kdump: the fix is RHEL's default table.",
             (("crashkernel=auto", _x86(), ("CK106",)), ("crashkernel=2G-64G:256M,64G-:512M", _x86(), ()),
              ("crashkernel=auto", _x86("5.14.0-503.11.1.el9_5.x86_64"), ("CK106", "CK219")),
              ("crashkernel=auto", _x86("4.18.0-553.el8_10.x86_64"), ("CK219",)))),
    CodeInfo("CK107", "size-ge-ram", ERROR, "the crashkernel size is not smaller than RAM",
             "From 6.11 the kernel silently rejects a size >= system RAM; older kernels fail to allocate it.",
             (("crashkernel=4G", _x86(ram="4G"), ("CK107",)), ("crashkernel=256M", _x86(ram="4G"), ()))),
    CodeInfo("CK108", "range-size-ge-ram", ERROR, "a range entry's size is not smaller than RAM",
             "Every range entry evaluated before the match must have size < RAM (rounded up to 128M on 6.0+); "
             "otherwise `crashkernel: invalid size` and the whole parameter is rejected.",
             (("crashkernel=0-4G:192M,4G-8G:8G", _x86(ram="6G"), ("CK108",)),
              ("crashkernel=0-4G:192M,4G-8G:512M", _x86(ram="6G"), ()))),
    CodeInfo("CK109", "no-range-matches", ERROR, "no range entry matches this RAM size: nothing is reserved",
             "`crashkernel size resulted in zero bytes`: RAM (rounded up to 128M on 6.0+) is outside every "
             "`start-end` entry (start inclusive, end exclusive). An error for a RAM size you declared (`--ram`, "
             "a lint profile, the machine's own); a warning for the RAM sizes of lint's built-in default profile.",
             (("crashkernel=2G-64G:256M", _x86(ram="1G"), ("CK109",)), ("crashkernel=1G-64G:256M", _x86(ram="1G"), ()))),
    CodeInfo("CK110", "zero-size", ERROR, "crashkernel=0 reserves nothing",
             "A zero size disables the reservation.",
             (("crashkernel=0", _x86(), ("CK110",)), ("crashkernel=128M", _x86(), ()))),
    CodeInfo("CK111", "cma-only", ERROR, "a ,cma reservation needs a standard crashkernel= as well",
             "Without a plain `crashkernel=` (or `,high`) the kernel returns before it reads `,cma` on x86, arm64 and "
             "riscv: nothing is reserved. On powerpc the CMA part is reserved but there is no room for the capture "
             "kernel and initrd.",
             (("crashkernel=1G,cma", _x86(), ("CK111",)), ("crashkernel=256M crashkernel=1G,cma", _x86(), ("CK210",)))),
    CodeInfo("CK112", "suffix-with-offset", ERROR, "@offset and ranges cannot be combined with ,high/,low/,cma",
             "Suffix syntax takes a plain size only: `512M@4G,high` fails with `unrecognized char: @`, a range "
             "with a suffix with `unrecognized char: -`.",
             (("crashkernel=512M@4G,high", _x86(), ("CK112",)), ("crashkernel=512M,high", _x86(), ()))),
    CodeInfo("CK113", "malformed-cma", ERROR, "the ,cma token is malformed; the kernel still reserves its first number",
             "The CMA parse ignores its own errors and keeps the number it read first: `crashkernel=512M-2G:64M,cma` "
             "reserves 512M of CMA and only warns.",
             (("crashkernel=256M crashkernel=512M-2G:64M,cma", _x86(), ("CK113", "CK210")),
              ("crashkernel=256M crashkernel=512M,cma", _x86(), ("CK210",)))),
    CodeInfo("CK114", "invalid-plain-hides-high", ERROR, "an invalid plain crashkernel= disables a valid ,high",
             "Any plain token, even an invalid one, means ,high is never read (6.7+; arm64 5.19+); old x86 fell back "
             "to ,high.",
             (("crashkernel=foo crashkernel=512M,high", _x86(), ("CK114",)), ("crashkernel=512M,high", _x86(), ()))),
    CodeInfo("CK115", "invalid-low", ERROR, "an invalid ,low disables the ,high reservation",
             "`crashkernel=Y,low` may be omitted but an invalid value is not allowed: nothing is reserved.",
             (("crashkernel=512M,high crashkernel=64MB,low", _x86(), ("CK115",)),
              ("crashkernel=512M,high crashkernel=64M,low", _x86(), ()))),
    CodeInfo("CK116", "no-crashkernel", INFO, "no crashkernel= parameter: kdump has no memory",
             "Nothing is reserved at boot, so a crash cannot be captured.",
             (("quiet", _x86(), ("CK116",)), ("quiet crashkernel=256M", _x86(), ()))),
    CodeInfo("CK117", "low-only", ERROR, "crashkernel=Y,low alone reserves nothing",
             "`,low` is only read together with `,high`.",
             (("crashkernel=128M,low", _x86(), ("CK117",)), ("crashkernel=512M,high crashkernel=128M,low", _x86(), ()))),
    CodeInfo("CK118", "high-zero", ERROR, "crashkernel=0,high reserves nothing",
             "A zero ,high size disables the reservation.",
             (("crashkernel=0,high", _x86(), ("CK118",)), ("crashkernel=512M,high", _x86(), ()))),
    CodeInfo("CK119", "crashkernel-unsupported", ERROR, "this kernel has no crashkernel= support on this architecture",
             "loongarch kernels before 6.3 cannot reserve crash kernel memory.",
             (("crashkernel=256M", {"kernel": "6.1", "arch": "loongarch64", "ram": "16G"}, ("CK119",)),
              ("crashkernel=256M", {"kernel": "6.12", "arch": "loongarch64", "ram": "16G"}, ()))),
    CodeInfo("CK120", "unit-text", ERROR, "the kernel knows K, M, G, T, P, E: not MB, GiB",
             "memparse() reads one unit letter; the `B` or `iB` after it is junk: rejected in simple syntax and in "
             "range bounds.",
             (("crashkernel=256MB", _x86(), ("CK120",)), ("crashkernel=256M", _x86(), ()))),
    CodeInfo("CK130", "kernel-without-kdump", ERROR, "the kernel is built without kexec or crash dump support",
             "Without CONFIG_KEXEC and CONFIG_KEXEC_FILE no capture kernel can be loaded; without CONFIG_CRASH_DUMP "
             "a 6.9+ kernel does not even read crashkernel= (CONFIG_CRASH_DUMP selects CONFIG_CRASH_RESERVE, "
             "kernel/Kconfig.kexec). Known from the kernel's configuration (/proc/config.gz, "
             "/boot/config-<release>, a machine file's kdump.kernel_config): boot a kernel built with them.",
             (("crashkernel=256M", {**_x86("6.18"), "config": "KEXEC=n KEXEC_FILE=n CRASH_DUMP=n"}, ("CK130",)),
              ("crashkernel=256M", {**_x86("6.18"), "config": "KEXEC=y KEXEC_FILE=y CRASH_DUMP=y"}, ()))),
    CodeInfo("CK121", "misspelt-crashkernel", ERROR, "a misspelt crashkernel parameter: the kernel ignores it",
             "The kernel looks for exactly `crashkernel=` (lower case, no `_` or `-`, with `=`): `crashkernal=`, "
             "`crashkenel=`, `crash_kernel=`, `CrashKernel=`, `crashkernel:256M` or `crashkernel 256M` reserve "
             "nothing. The fix renames the parameter, when the corrected one is accepted by the same kernel.",
             (("crashkenel=256M", _x86(), ("CK121",)), ("crash_kernel=256M", _x86(), ("CK121",)),
              ("CrashKernel=256M", _x86(), ("CK121",)), ("quiet crashkernel 256M", _x86(), ("CK121",)),
              ("crashkernal=auto", _x86(), ("CK121",)),
              ("crashkernel=256M crash_kexec_post_notifiers", _x86(), ()))),
    CodeInfo("CK122", "xen-syntax", ERROR, "Xen hypervisor crashkernel= syntax on a Linux command line",
             "Xen's `crashkernel=<size>[{@,<}<offset>]` accepts `<4G` (\\< in GRUB) and `,below=4G` as an upper "
             "bound (xen.git docs/misc/xen-command-line.pandoc; `<` from commit cd42ccb27f4e, `below=` from "
             "90288044a67a). Linux does not: it prints `unrecognized char` and reserves nothing. Put it on the "
             "hypervisor's line (GRUB_CMDLINE_XEN / multiboot2 `xen.gz`), or give Linux a plain size.",
             (("crashkernel=128M\\<4G", _x86(), ("CK122",)), ("crashkernel=512M,below=4G", _x86(), ("CK122",)),
              ("crashkernel=128M", _x86(), ()))),
    CodeInfo("CK201", "duplicate-crashkernel", WARNING, "several crashkernel= tokens of one kind: only the last counts",
             "The kernel silently ignores every earlier token of the same kind (plain, ,high, ,low, ,cma).",
             (("crashkernel=128M crashkernel=256M", _x86(), ("CK201",)), ("crashkernel=256M", _x86(), ()))),
    CodeInfo("CK202", "octal-number", WARNING, "a leading 0 makes the number octal",
             "memparse() uses base 0: `010M` is 8 MiB, `0256M` is 174 MiB, `08M` is 0 followed by junk.",
             (("crashkernel=0256M", _x86(), ("CK202",)), ("crashkernel=256M", _x86(), ()))),
    CodeInfo("CK203", "hex-suffix-digit", WARNING, "in a hex number E, B … are digits, not units",
             "`0x1E` is 30 bytes, not 1 EiB; `0x100M` is 256 MiB.",
             (("crashkernel=0x1E", _x86(), ("CK203",)), ("crashkernel=0x10000000", _x86(), ()))),
    CodeInfo("CK204", "trailing-garbage", WARNING, "text after the value is silently ignored",
             "The kernel accepts `…:256MB` (a matching range entry) and `256M@16Mjunk` and ignores the rest; "
             "it is probably a typo.",
             (("crashkernel=1G-:256MB", _x86(), ("CK204",)), ("crashkernel=1G-:256M", _x86(), ()))),
    CodeInfo("CK205", "embedded-crashkernel", WARNING, "the kernel also finds crashkernel= inside another parameter",
             "The search is a raw substring search: `foo.crashkernel=`, a quoted value or init's arguments after "
             "`--` count as crashkernel= tokens.",
             (("crashkernel=256M rd.kdump.crashkernel=64M", _x86(), ("CK201", "CK205")), ("crashkernel=256M", _x86(), ()))),
    CodeInfo("CK206", "high-ignored", WARNING, "crashkernel=,high is ignored when a plain crashkernel= exists",
             "A plain token takes precedence; ,high and ,low are never read.",
             (("crashkernel=256M crashkernel=512M,high", _x86(), ("CK206",)), ("crashkernel=512M,high", _x86(), ()))),
    CodeInfo("CK207", "low-ignored", WARNING, "crashkernel=,low is ignored here",
             "From 6.7 `,low` is read only with `,high`; with a plain token the default low size is used when the "
             "reservation falls back above 4 GiB.",
             (("crashkernel=256M crashkernel=128M,low", _x86(), ("CK207",)),
              ("crashkernel=512M,high crashkernel=128M,low", _x86(), ()))),
    CodeInfo("CK208", "suffix-ignored-arch", WARNING, ",high/,low are silently ignored on this architecture",
             "powerpc, s390 and arm64 before 5.19 read only plain and range syntax; the suffixed tokens are "
             "skipped. When that leaves nothing reserved on a declared target it is an error.",
             (("crashkernel=512M,high", {"kernel": "6.12", "arch": "ppc64le", "ram": "16G"}, ("CK208",)),
              ("crashkernel=512M", {"kernel": "6.12", "arch": "ppc64le", "ram": "16G"}, ()))),
    CodeInfo("CK209", "cma-ignored", WARNING, "crashkernel=,cma is silently ignored by this kernel",
             "CMA crash memory is reserved by x86 from 6.17, powerpc from 6.19, arm64 and riscv from 7.3; elsewhere "
             "(and with fadump) the token is skipped.",
             (("crashkernel=256M crashkernel=1G,cma", _arm("7.2"), ("CK209",)),
              ("crashkernel=256M crashkernel=1G,cma", _arm("7.3"), ("CK210",)))),
    CodeInfo("CK210", "cma-caveats", INFO, "CMA crash memory: user pages are not dumped, a 10 s wait, kexec_file_load",
             "Pages production allocates from the CMA range are not in the vmcore; the kernel waits 10 seconds "
             "for DMA before starting the capture kernel; only kexec_file_load passes the CMA range to it; "
             "DMA/GPU/RDMA drivers that pin pages badly can corrupt the capture kernel.",
             (("crashkernel=256M crashkernel=1G,cma", _x86(), ("CK210",)), ("crashkernel=256M", _x86(), ()))),
    CodeInfo("CK211", "range-boundary", WARNING, "a range boundary sits on this RAM size",
             "Range starts are inclusive and ends exclusive, compared with RAM rounded up to 128 MiB (6.0+): "
             "`1G-4G:…` does not match a 4 GiB machine, and a 3.9 GiB machine counts as 4 GiB.",
             (("crashkernel=1G-4G:192M,4G-64G:256M", _x86(ram="4G"), ("CK211",)),
              ("crashkernel=1G-4G:192M,4G-64G:256M", _x86(ram="16G"), ()))),
    CodeInfo("CK212", "fractional-size", ERROR, "sizes cannot have fractions",
             "`1.5G` is read as 1 and then `.`: rejected in simple syntax, 1 byte in a matching range entry.",
             (("crashkernel=1G-:1.5G", _x86(), ("CK212",)), ("crashkernel=1G-:1536M", _x86(), ()))),
    CodeInfo("CK213", "fixed-offset", WARNING, "a fixed @offset must be free and aligned; prefer automatic placement",
             "The kernel reserves exactly `[offset, offset+size)` or nothing (`memory is in use`). x86 6.7+ needs "
             "16 MiB alignment (1 MiB before), arm64/riscv/loongarch 2 MiB; on 6.7+ an offset at or above 4 GiB "
             "gets no low region.",
             (("crashkernel=256M@16M", _x86(), ("CK213",)), ("crashkernel=256M", _x86(), ()))),
    CodeInfo("CK214", "large-plain-x86", INFO, "a large plain size will probably fall back above 4 GiB",
             "If it does not fit below 4 GiB the kernel places it high and adds a low region "
             "(256 MiB or more on x86, 128 MiB elsewhere): production loses both.",
             (("crashkernel=3G", _x86(ram="64G"), ("CK214",)), ("crashkernel=512M", _x86(ram="64G"), ()))),
    CodeInfo("CK215", "arm64-no-fallback", WARNING, "arm64 before 6.2 has no fallback above the DMA limit",
             "A plain size must fit below the DMA limit (1 GiB on a Raspberry Pi 4); `,high` without `,low` gets no "
             "low region before 6.2.",
             (("crashkernel=512M,high", _arm("6.1"), ("CK215",)), ("crashkernel=512M,high", _arm("6.12"), ()))),
    CodeInfo("CK216", "fadump", INFO, "with fadump=on crashkernel= sizes fadump's boot memory",
             "@offset is ignored, the size is capped at RAM/4 and ,cma is ignored.",
             (("fadump=on crashkernel=4G", {"kernel": "6.12", "arch": "ppc64le", "ram": "64G"}, ("CK216",)),
              ("crashkernel=4G", {"kernel": "6.12", "arch": "ppc64le", "ram": "64G"}, ()))),
    CodeInfo("CK217", "cmdline-too-long", ERROR, "the command line is longer than the kernel's buffer",
             "Text beyond COMMAND_LINE_SIZE-1 bytes (2048 on x86/arm64/riscv/powerpc) is cut before parsing.",
             (("x" * 2100 + " crashkernel=256M", _x86(), ("CK217",)), ("crashkernel=256M", _x86(), ()))),
    CodeInfo("CK218", "range-list-cut", ERROR, "junk in a range entry ends the list before later entries",
             "Without a match, the first character that is not `,` ends the list silently: a later entry meant "
             "for this RAM size is never read. An `@offset` is such a character: the kernel reads it only after "
             "the last entry (`crashkernel=384M-2G:64M@16M,2G-:128M@16M` reserves nothing above 2 GiB).",
             (("crashkernel=512M-2G:64MB,2G-:256M", _x86(), ("CK218",)),
              ("crashkernel=384M-2G:64M@16M,2G-:128M@16M", _x86(), ("CK218",)),
              ("crashkernel=384M-2G:64M,2G-:128M@16M", _x86(), ("CK213",)),
              ("crashkernel=512M-2G:64M,2G-:256M", _x86(), ()))),
    CodeInfo("CK220", "misspelt-crashkernel-ignored", WARNING,
             "a misspelt crashkernel parameter next to a real one: the kernel ignores it",
             "A parameter that looks like a misspelt `crashkernel=` is ignored; the real `crashkernel=` is the one "
             "read. Remove the misspelt one so nobody edits it by mistake.",
             (("crashkernel=256M crashkernal=512M", _x86(), ("CK220",)), ("crashkernel=256M", _x86(), ()))),
    CodeInfo("CK219", "kernel-note", INFO, "this kernel differs from mainline or is uncertain here",
             "Distribution kernels carry patches that change crashkernel= handling; each fact of the release's "
             "distribution profile (crashplan.kernel.distros, docs/kernel-fidelity.md) is one note, and a "
             "release string that names no known profile says that the mainline base is modelled.",
             (("crashkernel=256M", _x86("6.12.0-55.el10.x86_64"), ("CK219",)), ("crashkernel=256M", _x86(), ()))),
]

CODES: dict[str, CodeInfo] = {c.code: c for c in _CODES}


# --------------------------------------------------------------------------------------------
# Tokens as the kernel's raw search sees them


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


def _kind(tok: CrashToken, release: KernelRelease) -> str:
    """plain/high/low/cma as this release's suffix table classifies the token."""
    if tok.suffix == "cma" and not SWITCHES["cma_suffix"].on(release):
        return "plain"
    return tok.suffix or "plain"


# --------------------------------------------------------------------------------------------


class _Collector:
    def __init__(self) -> None:
        self.items: dict[tuple[str, tuple[int, int] | None, str | None], Diagnosis] = {}
        self.order: list[tuple[str, tuple[int, int] | None, str | None]] = []

    def add(self, code: str, message: str, target: Target, *, span: tuple[int, int] | None = None,
            fix: str | None = None, detail: str = "", severity: str | None = None) -> None:
        # notes (CK219) differ per distribution and fact: one finding per text, not one per code
        key = (code, span, message if code == "CK219" else None)
        info = CODES[code]
        sev = severity or info.severity
        if fix is not None and not fix_accepted(fix, target):
            # a fix is offered only when the same kernel accepts it: say why there is none
            if sev == ERROR:
                message += (f" (no automatic fix: `{_crash_part(fix)}` would not be reserved by Linux "
                            f"{parse_release(target.kernel).label} on {format_ram(target.system_ram)} either)")
            fix = None
        if key in self.items:
            d = self.items[key]
            targets = d.targets + (target,)
            fix_all = d.fix if d.fix == fix else None
            message = d.message
            if d.fix != fix and d.fix is not None and fix is not None:
                # targets want different fixes: keep one that every target accepts, and say that one
                fix_all = next((c for c in (d.fix, fix) if all(fix_accepted(c, x) for x in targets)), None)
                if fix_all is not None and fix_all != d.fix:
                    message = message.replace(f"`{_crash_part(d.fix)}`", f"`{_crash_part(fix_all)}`")
            rank = {ERROR: 0, WARNING: 1, INFO: 2}
            worst = sev if rank[sev] < rank[d.severity] else d.severity
            self.items[key] = Diagnosis(d.code, d.name, worst, message, d.span, fix_all, d.detail, targets)
        else:
            self.items[key] = Diagnosis(code, info.name, sev, message, span, fix, detail or info.description,
                                        (target,))
            self.order.append(key)

    def result(self) -> list[Diagnosis]:
        rank = {ERROR: 0, WARNING: 1, INFO: 2}
        ds = [self.items[k] for k in self.order]
        return sorted(ds, key=lambda d: (rank[d.severity], d.span[0] if d.span else -1, d.code))


def format_ram(size: int) -> str:
    from crashplan.units import format_size

    return format_size(size)


@functools.lru_cache(maxsize=8192)
def _fix_accepted(fix: str, kernel: str, arch: str, system_ram: int) -> bool:
    a = normalize_arch(arch)
    o = evaluate(kernel_view(fix, a), system_ram=system_ram, kernel=kernel, arch=a)
    return o.accepted and (o.crash_size > 0 or bool(o.fadump_size))


def fix_accepted(fix: str, target: Target) -> bool:
    """Whether the kernel of ``target`` accepts the corrected command line ``fix`` and reserves memory.

    Every fix a diagnosis offers goes through this (``crashplan.kernel.evaluate``, the same parser port
    the diagnosis came from): a fix that the same kernel would reject is never offered.
    """
    return _fix_accepted(fix, target.kernel, target.arch, target.system_ram)


def _crash_part(cmdline: str) -> str:
    """The crashkernel= parameters of a command line, for messages (the whole line when it has none)."""
    toks = [p for p in cmdline.split(" ") if "crashkernel=" in p]
    return " ".join(toks) if toks else cmdline


def _replace(cmdline: str, start: int, end: int, new: str) -> str:
    return cmdline[:start] + new + cmdline[end:]


def _kmsg(o: Outcome) -> str:
    warns = [m.text for m in o.messages if m.level == "warn"]
    return f" (the kernel prints “{warns[-1]}”)" if warns else ""


_HEX = frozenset("0123456789abcdefABCDEF")


def _numbers(value: str) -> list[tuple[int, int, str]]:
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


def _strip_unit_text(value: str) -> str:
    """``256MB`` → ``256M``, ``1GiB-4GiB:…`` → ``1G-4G:…``: drop ``B``/``iB`` after a number's unit letter."""
    cuts = []
    for _, end, num in _numbers(value):
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


def _fraction(value: str) -> int:
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
    if name == _NAME or low in _REAL_NEAR or "." in low or not low.startswith(("cr", "kr", "ck")) and \
            "kern" not in low:
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
    return list(_misspellings(cmdline))


@functools.lru_cache(maxsize=1024)
def _misspellings(cmdline: str) -> tuple[Misspelt, ...]:
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


def _misspelt(cmdline: str, toks: list[CrashToken], t: Target, release: KernelRelease, col: _Collector) -> bool:
    """CK121/CK220; True when a misspelt parameter stands in for a missing crashkernel=."""
    found = _misspellings(cmdline)
    if not found:
        return False
    real = [tok for tok in toks if not tok.embedded]
    for m in found:
        if real:
            e = m.end
            while e < len(cmdline) and cmdline[e] == " ":
                e += 1
            s = m.start
            if e == len(cmdline):
                while s > 0 and cmdline[s - 1] == " ":
                    s -= 1
            col.add("CK220", f"`{m.text}` looks like a misspelt crashkernel= and is ignored; `{real[-1].text}` is "
                    "the one the kernel reads", t, span=(m.start, m.end), fix=cmdline[:s] + cmdline[e:])
            continue
        if m.corrected is None:
            col.add("CK121", f"`{m.text}` looks like a misspelt crashkernel=SIZE: the kernel ignores it and reserves "
                    "nothing for kdump", t, span=(m.start, m.end))
            continue
        fix = _replace(cmdline, m.start, m.end, m.corrected)
        ok = fix_accepted(fix, t)
        col.add("CK121", f"`{m.text}` looks like a misspelt `{m.corrected}`: the kernel ignores it and reserves "
                "nothing for kdump" + ("" if ok else f"; even spelt right, Linux {release.label} would not reserve "
                                       f"`{m.corrected}` (run `crashplan check '{m.corrected}'`)"),
                t, span=(m.start, m.end), fix=fix if ok else None)
    return not real


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


def diagnose(cmdline: str, targets: Sequence[Target]) -> list[Diagnosis]:
    """Every problem of ``cmdline`` for each target; merged across targets (``Diagnosis.targets``).

    Each target sees what its kernel keeps of the line (``kernel_view``): text beyond
    ``COMMAND_LINE_SIZE`` is cut before parsing, and ``CK217`` says so.
    """
    col = _Collector()
    views: dict[str, tuple[str, list[CrashToken]]] = {}
    for t in targets:
        release = parse_release(t.kernel)
        arch = normalize_arch(t.arch)
        seen = kernel_view(cmdline, arch)
        if seen not in (v[0] for v in views.values()):
            views[arch] = (seen, crash_tokens(seen))
        seen, toks = next(v for v in views.values() if v[0] == seen)
        cut = len(seen) < len(cmdline)
        if cut:
            _cut(cmdline, seen, t, arch, col)
        o = evaluate(seen, system_ram=t.system_ram, kernel=release, arch=arch)
        _per_target(seen, toks, t, release, arch, o, col, cut=cut)
        if t.build:
            _build(t, col)
    return col.result()


def _build(t: Target, col: _Collector) -> None:
    """CK130: the kernel's build options rule kdump out (crashplan.readiness.kdump_capability)."""
    from crashplan.readiness import OPTIONS, kdump_capability

    known = dict(t.build)
    cap = kdump_capability({k: known.get(k) for k in OPTIONS})
    if cap.can_kdump is False:
        col.add("CK130", "kdump cannot work with this kernel: " + "; ".join(cap.reasons), t)


def _cut(cmdline: str, seen: str, t: Target, arch: str, col: _Collector) -> None:
    limit = COMMAND_LINE_SIZE.get(arch, 2048) - 1
    msg = f"the command line is {len(to_bytes(cmdline))} bytes; {arch} keeps only the first {limit}"
    first = cmdline.find("crashkernel=", max(0, len(seen) - len("crashkernel=") + 1))
    if first >= 0:
        end = cmdline.find(" ", first)
        lost = cmdline[first:end if end >= 0 else len(cmdline)]
        msg += f": `{lost[:80]}` is cut off before the kernel reads it"
    col.add("CK217", msg, t, span=(len(seen), len(cmdline)))


def _per_target(cmdline: str, toks: list[CrashToken], t: Target, release: KernelRelease, arch: str,
                o: Outcome, col: _Collector, *, cut: bool = False) -> None:
    from crashplan.units import format_size

    by_start = {tok.start: tok for tok in toks}

    def chosen(kind: str) -> CrashToken | None:
        tk = o.tokens.get(kind)
        return by_start.get(tk.start) if tk else None

    plain = chosen("plain")
    kinds = {k: [tok for tok in toks if _kind(tok, release) == k] for k in ("plain", "high", "low", "cma")}
    for n in o.notes:
        col.add("CK219", n, t)

    if o.flow == "none":
        col.add("CK119", f"Linux {release.label} on {arch} has no crashkernel= support (loongarch from 6.3)", t)
        return

    stand_in = _misspelt(cmdline, toks, t, release, col)
    if not toks:
        if not cut and not stand_in:  # else CK217/CK121 already say where the parameter went
            col.add("CK116", "no crashkernel= parameter: nothing is reserved for kdump", t)
        return

    # ---- embedded matches, duplicates: independent of the outcome
    for tok in toks:
        if tok.embedded and tok.param is not None:
            where = ("after `--` (init's arguments)" if tok.param.after_dashdash
                     else f"inside the parameter `{tok.param.name}`")
            if cmdline[tok.param.start] == '"' and tok.param.name == "crashkernel":
                continue  # reported as quoting below
            col.add("CK205", f"`{tok.text}` {where} is still read by the kernel as crashkernel=", t,
                    span=(tok.start, tok.end))
    for kind, all_of_kind in kinds.items():
        # a ,cma token that an older kernel counts as plain is reported as CK103/CK209, not as a duplicate
        lst = [tok for tok in all_of_kind if kind != "plain" or tok.suffix != "cma"]
        if len(lst) > 1:
            last = lst[-1]
            fixed = cmdline
            next_start = {a.start: b.start for a, b in zip(toks, toks[1:])}
            for tok in reversed(lst[:-1]):
                s, e = tok.start, tok.end
                # a token that runs into the next one (a TAB is not a separator) cannot be cut out alone
                if tok.embedded or next_start.get(s, len(fixed) + 1) < e:
                    fixed = None  # type: ignore[assignment]
                    break
                while e < len(fixed) and fixed[e] == " ":
                    e += 1
                fixed = fixed[:s] + fixed[e:]
            label = "plain" if kind == "plain" else f",{kind}"
            for tok in lst[:-1]:
                col.add("CK201", f"`{tok.text}` is ignored: the last {label} token `{last.text}` wins", t,
                        span=(tok.start, tok.end), fix=fixed.rstrip() if fixed else None)

    # ---- fadump
    if o.fadump:
        col.add("CK216", f"fadump=on: crashkernel= sizes fadump's boot memory "
                f"({format_size(o.fadump_size or 0)}); @offset and ,cma are ignored", t)

    # ---- why nothing is reserved
    if not o.accepted:
        _rejected(cmdline, toks, kinds, t, release, arch, o, col, plain, chosen)
    else:
        _accepted(cmdline, toks, kinds, t, release, arch, o, col, plain, chosen)

    # ---- number-format surprises in the tokens the kernel reads
    for kind in ("plain", "high", "low", "cma"):
        tok = chosen(kind)
        if tok is None:
            continue
        base = tok.start + len("crashkernel=")
        for s, e, num in _numbers(tok.value):
            if len(num) > 1 and num[0] == "0" and num[1].isdigit():
                val, _ = memparse(num.encode() + to_bytes(tok.value[e:e + 1]), 0)
                col.add("CK202", f"`{num}{tok.value[e:e + 1]}` is octal: the kernel reads "
                        f"{format_size(val) if val else '0'}", t, span=(base + s, base + e))
            elif num[:2].lower() == "0x" and num[-1] in "eEbB":
                val = int(num, 16)
                col.add("CK203", f"`{num}` is hexadecimal: `{num[-1]}` is a digit, the kernel reads {val} bytes", t,
                        span=(base + s, base + e))
        fr = _fraction(tok.value)
        if fr >= 0:
            col.add("CK212", f"`{tok.text}`: sizes cannot have fractions; write e.g. 1536M for 1.5G", t,
                    span=(base + fr, base + fr + 3))


def _rejected(cmdline: str, toks: list[CrashToken], kinds: dict[str, list[CrashToken]], t: Target,
              release: KernelRelease, arch: str, o: Outcome, col: _Collector,
              plain: CrashToken | None, chosen) -> None:  # type: ignore[no-untyped-def]
    from crashplan.units import format_size

    cma_ok = cma_supported(arch, release)
    first_cma = cma_first_release(arch)
    kmsg = _kmsg(o)

    if plain is not None:
        span = (plain.start, plain.end)
        v = plain.value
        m = re.match(r"^([^ ,]+),cma=(\S+)$", v)
        if m:
            a, b = m.group(1), m.group(2)
            # the plain token last: every release reads it (before 6.17 the ,cma token counts as a plain
            # candidate, and the last one wins), and releases with ,cma read both
            two = f"crashkernel={a} crashkernel={b},cma" if cma_ok else f"crashkernel={b},cma crashkernel={a}"
            cma_note = (" (,cma needs Linux 6.17+ on x86_64, 6.19+ on ppc64le, 7.3+ on arm64)" if cma_ok else
                        f"; Linux {release.label} on {arch} ignores the ,cma part"
                        + (f" (CMA crash memory from {first_cma})" if first_cma else ""))
            col.add("CK102", f"`{plain.text}` is one token: the kernel rejects all of it{kmsg}; kdump is disabled, "
                    f"no CMA is reserved and cma= is not set. Write `{two}`{cma_note}", t, span=span,
                    fix=_replace(cmdline, plain.start, plain.end, two),
                    detail="Keep the plain token last: before 6.17 `,cma` is not a suffix, so the last plain-looking "
                    "token wins. `crashkernel=Y,cma crashkernel=X` reserves X everywhere and the CMA part where "
                    "supported (x86_64 6.17+, ppc64le 6.19+, arm64 and riscv64 7.3+).")
            return
        if re.search(r"\\?[<>]|,below=", v):
            xm = re.match(r"([^\\<>,]*)", v)
            size = xm.group(1) if xm else ""
            plain_fix = _replace(cmdline, plain.start, plain.end, f"crashkernel={size}") if size else None
            col.add("CK122", f"`{plain.text}` is Xen hypervisor syntax (an upper bound for the region): Linux "
                    f"rejects it{kmsg} and reserves nothing. If it is meant for Xen, put it on the hypervisor's line "
                    "(GRUB_CMDLINE_XEN); for Linux write a plain size"
                    + (f" (`crashkernel={size}` is placed below 4 GiB when it fits)" if size else ""),
                    t, span=span, fix=plain_fix)
            return
        if plain.suffix == "cma" and not SWITCHES["cma_suffix"].on(release):
            others = [tok for tok in kinds["plain"] if tok is not plain and tok.suffix != "cma"]
            if others:
                keep = others[-1]
                fix = _replace(cmdline, plain.start, plain.end, keep.text)
                fix = _replace(fix, keep.start, keep.end, plain.text) if keep.start < plain.start else fix
                col.add("CK103", f"Linux {release.label} does not know ,cma: `{plain.text}` is the last plain-looking "
                        f"token and is rejected{kmsg}; kdump is disabled. Put `{keep.text}` last", t, span=span,
                        fix=fix)
            else:
                col.add("CK103", f"Linux {release.label} does not know ,cma: `{plain.text}` is rejected{kmsg}; "
                        f"kdump is disabled (,cma needs {first_cma or 'a newer kernel'} on {arch})", t, span=span)
            return
        if '"' in v or (plain.start > 0 and cmdline[plain.start - 1] == '"'):
            unq = plain.text.replace('"', "")
            s = plain.start - 1 if plain.start > 0 and cmdline[plain.start - 1] == '"' else plain.start
            col.add("CK104", f"`{cmdline[s:plain.end]}`: quotes are part of the value for the crashkernel parser{kmsg}; "
                    "kdump is disabled", t, span=(s, plain.end), fix=_replace(cmdline, s, plain.end, unq))
            return
        ws = re.search(r"[\t\n\r\v\f]", v)
        if ws:
            pos = plain.start + len("crashkernel=") + ws.start()
            col.add("CK105", f"a {'TAB' if ws.group() == chr(9) else 'newline'} after `{plain.text[:pos - plain.start]}` "
                    f"is part of the value (only a space ends it){kmsg}; kdump is disabled", t, span=(pos, pos + 1),
                    fix=re.sub(r"[\t\n\r\v\f]", " ", cmdline))
            return
        if (v.strip() == "auto" or v.startswith("auto")) and release.profile is not None:
            from crashplan.kernel.distros import get

            prof = get(release.profile)
            if prof.auto_removed or prof.family == "rhel":
                from crashplan.sizing.distro_defaults import distribution_default

                dd = distribution_default(t.kernel, arch, t.system_ram)
                new = dd.cmdline if dd is not None and dd.cmdline else "crashkernel=2G-64G:256M,64G-:512M"
                col.add("CK106", f"`{plain.text}`: {prof.name} no longer has crashkernel=auto (RHEL 8 only); it "
                        f"rejects it{kmsg} and reserves nothing. A RHEL 8 line kept across an upgrade does this: "
                        f"use the RHEL default `{new}` (what `kdumpctl reset-crashkernel` writes)", t, span=span,
                        fix=_replace(cmdline, plain.start, plain.end, new))
                return
        if v.strip() == "auto" or v.startswith("auto"):
            example = next((c for c in ("crashkernel=2G-64G:256M,64G-:512M", "crashkernel=1G-64G:256M,64G-:512M",
                                        "crashkernel=256M", "crashkernel=128M")
                            if fix_accepted(_replace(cmdline, plain.start, plain.end, c), t)), None)
            col.add("CK106", f"`{plain.text}` is a RHEL-only patch; Linux {release.label} rejects it{kmsg} and "
                    "reserves nothing. Use a size or a range ("
                    + (f"e.g. `{example}`, or " if example else "") + "run `crashplan suggest`)", t, span=span)
            return
        if re.match(r"^[^ :]*[@]\S*,(high|low|cma)$", v) or (":" in v and re.search(r",(high|low)$", v)):
            col.add("CK112", f"`{plain.text}`{kmsg}: @offset and ranges cannot be combined with a suffix", t, span=span)
            return
        if any(m.text == "crashkernel: invalid size" for m in o.messages):
            col.add("CK108", f"`{plain.text}`: an entry's size is not below this RAM "
                    f"({format_size(t.system_ram)}, rounded up to 128M){kmsg}; the whole parameter is rejected", t,
                    span=span)
            return
        if any(m.text == "crashkernel size resulted in zero bytes" for m in o.messages):
            _range_miss(cmdline, plain, t, release, col)
            return
        unit_fixed = _strip_unit_text(v)
        if unit_fixed != v and any(m.level == "warn" for m in o.messages):
            col.add("CK120", f"`{plain.text}`: the kernel reads one unit letter (K, M, G…), not MB or GiB{kmsg}; "
                    "kdump is disabled", t, span=span,
                    fix=_replace(cmdline, plain.start, plain.end, "crashkernel=" + unit_fixed))
            return
        if any(m.level == "warn" for m in o.messages):
            if chosen("high") is not None or kinds["high"]:
                hi = kinds["high"][-1] if kinds["high"] else None
                col.add("CK114", f"`{plain.text}` is rejected{kmsg}; because a plain token exists, "
                        f"`{hi.text if hi else ',high'}` is never read: kdump is disabled", t, span=span)
                return
            if _fraction(v) >= 0:
                col.add("CK212", f"`{plain.text}`: sizes cannot have fractions{kmsg}; kdump is disabled", t, span=span)
                return
            col.add("CK101", f"the kernel rejects `{plain.text}`{kmsg}; kdump is disabled", t, span=span)
            return
        if o.crash_size == 0:
            col.add("CK110", f"`{plain.text}` is a zero size: nothing is reserved", t, span=span)
            return
        if o.crash_size >= t.system_ram:
            col.add("CK107", f"`{plain.text}` asks for {format_size(o.crash_size)}, not less than RAM "
                    f"({format_size(t.system_ram)}): nothing is reserved", t, span=span)
            return
        col.add("CK101", f"the kernel does not reserve `{plain.text}`{kmsg}", t, span=span)
        return

    # no plain token
    high = chosen("high")
    low = chosen("low")
    cma = kinds["cma"][-1] if kinds["cma"] and SWITCHES["cma_suffix"].on(release) else None
    if high is not None:
        span = (high.start, high.end)
        if any(m.level == "warn" for m in o.messages) and low is not None and o.crash_size > 0 \
                and not any(":" in x or "@" in x for x in (high.value,)):
            col.add("CK115", f"`{low.text}` is invalid{kmsg}: the ,high reservation is dropped too", t,
                    span=(low.start, low.end))
            return
        if "@" in high.value or ":" in high.value:
            col.add("CK112", f"`{high.text}`{kmsg}: @offset and ranges cannot be combined with a suffix", t, span=span)
            return
        if o.crash_size == 0 and not any(m.level == "warn" for m in o.messages):
            col.add("CK118", f"`{high.text}` is a zero size: nothing is reserved", t, span=span)
            return
        if o.crash_size >= t.system_ram and not any(m.level == "warn" for m in o.messages):
            col.add("CK107", f"`{high.text}` asks for {format_size(o.crash_size)}, not less than RAM "
                    f"({format_size(t.system_ram)}): nothing is reserved", t, span=span)
            return
        col.add("CK101", f"the kernel rejects `{high.text}`{kmsg}; kdump is disabled", t, span=span)
        return
    if kinds["high"] and not high_low_supported(arch, release):
        h = kinds["high"][-1]
        col.add("CK208", f"Linux {release.label} on {arch} ignores `{h.text}`: nothing is reserved", t,
                span=(h.start, h.end), severity=ERROR if t.declared else WARNING)
        return
    if cma is not None:
        if arch == "ppc64le" and o.cma_size:
            col.add("CK111", f"only `{cma.text}`: powerpc reserves the CMA part but no standard region for the "
                    "capture kernel and initrd; add a plain crashkernel= for them", t, span=(cma.start, cma.end))
        else:
            add = _replace(cmdline, cma.start, cma.end, f"{cma.text} crashkernel=256M")
            col.add("CK111", f"only `{cma.text}`: without a plain crashkernel= the kernel never reads ,cma and "
                    "reserves nothing; add one"
                    + (f" (e.g. `{cma.text} crashkernel=256M`)" if fix_accepted(add, t) else ""), t,
                    span=(cma.start, cma.end))
        return
    if kinds["low"]:
        lo = kinds["low"][-1]
        col.add("CK117", f"only `{lo.text}`: ,low is read only with ,high, nothing is reserved", t,
                span=(lo.start, lo.end))
        return
    col.add("CK116", "no crashkernel= token this kernel reads: nothing is reserved for kdump", t)


def _range_miss(cmdline: str, plain: CrashToken, t: Target, release: KernelRelease, col: _Collector) -> None:
    from crashplan.units import format_size

    ram = t.system_ram
    rounded = -(-ram // (128 << 20)) * (128 << 20) if SWITCHES["roundup_128m"].on(release) else ram
    v = plain.value
    # an @offset after an entry that is not the last one: parse_crashkernel_mem() (kernel/crash_reserve.c)
    # reads the list with `} while (*cur++ == ',');`, so the `@` after a size that did not match ends the
    # list; only after a matching entry does it scan on to the `@` and read the offset
    at = re.search(r"@((?:0[xX][0-9a-fA-F]+|\d+)[kKmMgGtTpPeE]?)(?=,)", v)
    if at and ":" in v[:at.start()]:
        before = v[:at.start()].split(",")[-1]
        rest = v[at.end() + 1:]
        offs = re.findall(r"@((?:0[xX][0-9a-fA-F]+|\d+)[kKmMgGtTpPeE]?)", v)
        moved = None
        if len(set(offs)) == 1:  # one offset written after several entries: it belongs after the last one
            moved = "crashkernel=" + re.sub(r"@((?:0[xX][0-9a-fA-F]+|\d+)[kKmMgGtTpPeE]?)", "", v) + "@" + offs[0]
        col.add("CK218", f"`@{at.group(1)}` after `{before}` ends the range list: the kernel reads an @offset only "
                f"after the last entry, so `{rest}` is never read and nothing is reserved on {format_size(ram)}"
                + (f". Write `{moved}`" if moved and fix_accepted(_replace(cmdline, plain.start, plain.end, moved), t)
                   else ""),
                t, span=(plain.start, plain.end),
                fix=_replace(cmdline, plain.start, plain.end, moved) if moved else None)
        return
    # did junk in a non-matching entry cut the list short?
    entries = v.split("@")[0].split(",")
    for i, ent in enumerate(entries[:-1]):
        if not re.fullmatch(r"\s*(0[xX][0-9a-fA-F]+|\d+)[kKmMgGtTpPeE]?-((0[xX][0-9a-fA-F]+|\d+)[kKmMgGtTpPeE]?)?:"
                            r"(0[xX][0-9a-fA-F]+|\d+)[kKmMgGtTpPeE]?", ent):
            col.add("CK218", f"`{ent}` in `{plain.text}` is not a clean range entry: the kernel stops reading there "
                    f"and never sees `{','.join(entries[i + 1:])}`; nothing is reserved on {format_size(ram)}", t,
                    span=(plain.start, plain.end))
            return
    col.add("CK109", f"no entry of `{plain.text}` matches {format_size(ram)} of RAM"
            + (f" (rounded up to {format_size(rounded)})" if rounded != ram else "")
            + ": the kernel reserves nothing (“crashkernel size resulted in zero bytes”)", t,
            span=(plain.start, plain.end), severity=ERROR if t.declared else WARNING)


def _accepted(cmdline: str, toks: list[CrashToken], kinds: dict[str, list[CrashToken]], t: Target,
              release: KernelRelease, arch: str, o: Outcome, col: _Collector,
              plain: CrashToken | None, chosen) -> None:  # type: ignore[no-untyped-def]
    from crashplan.units import format_size

    cma_ok = cma_supported(arch, release) and not o.fadump
    hl_ok = high_low_supported(arch, release)
    # ,high / ,low ignored
    if plain is not None:
        for hi in kinds["high"][-1:]:
            if hl_ok:
                col.add("CK206", f"`{hi.text}` is ignored because `{plain.text}` exists (a plain token wins)", t,
                        span=(hi.start, hi.end))
            else:
                col.add("CK208", f"Linux {release.label} on {arch} ignores `{hi.text}`", t, span=(hi.start, hi.end))
        for lo in kinds["low"][-1:]:
            if not hl_ok:
                col.add("CK208", f"Linux {release.label} on {arch} ignores `{lo.text}`", t, span=(lo.start, lo.end))
            elif o.flow != "x86-legacy":
                col.add("CK207", f"`{lo.text}` is ignored: with a plain crashkernel= the kernel never reads ,low "
                        "(on fallback above 4 GiB it uses its default low size)", t, span=(lo.start, lo.end))
    # ,cma
    cmas = [tok for tok in toks if tok.suffix == "cma"]
    if cmas:
        ct = cmas[-1]
        if not cma_ok:
            why = "fadump is active" if o.fadump else (
                f"Linux {release.label} does not reserve CMA crash memory on {arch}"
                + (f" (from {cma_first_release(arch)})" if cma_first_release(arch) else ""))
            col.add("CK209", f"`{ct.text}` is ignored: {why}", t, span=(ct.start, ct.end))
        else:
            if any(m.level == "warn" for m in o.messages) and o.tokens.get("cma") and chosen("cma") is ct:
                col.add("CK113", f"`{ct.text}` is malformed{_kmsg(o)}; the kernel still reserves "
                        f"{format_size(o.cma_size or 0)} of CMA from its first number", t, span=(ct.start, ct.end))
            col.add("CK210", "CMA crash memory: pages production allocates there are not in the dump (filter user "
                    "pages, dump level with bit 8), the kernel waits 10 s for DMA before starting the capture kernel, "
                    "and only kexec_file_load (kexec -s) gives the capture kernel the CMA memory", t,
                    span=(ct.start, ct.end))
    tok = plain or chosen("high")
    if tok is None:
        return
    span = (tok.start, tok.end)
    v = tok.value
    # trailing garbage that the kernel tolerates
    if ":" in v.split(" ")[0] and tok is plain:
        _range_checks(tok, t, release, o, col)
    elif "@" in v:
        off_part = v.split("@", 1)[1]
        mm = re.match(r"(0[xX][0-9a-fA-F]+|\d+)[kKmMgGtTpPeE]?", off_part)
        if mm and mm.end() < len(off_part):
            col.add("CK204", f"`{off_part[mm.end():]}` after the offset in `{tok.text}` is ignored by the kernel", t,
                    span=span)
    # fixed offset
    if o.crash_base:
        align = {"x86_64": (16 << 20) if o.flow == "generic" else (1 << 20), "arm64": 2 << 20,
                 "riscv64": 2 << 20, "loongarch64": 2 << 20}.get(arch)
        notes = []
        if align and o.crash_base % align:
            notes.append(f"{format_size(o.crash_base)} is not {format_size(align)}-aligned, so the kernel will fail "
                         "with “crashkernel reservation failed - memory is in use.”")
        if o.flow == "generic" and o.crash_base >= 1 << 32 and arch in ("x86_64", "arm64", "riscv64", "loongarch64"):
            notes.append("at or above 4 GiB no low region is reserved (6.7+)")
        if arch == "ppc64le" or arch == "s390x":
            notes.append("the kernel rounds the base up silently")
        msg = f"`{tok.text}` asks for a fixed base: the kernel reserves exactly there or nothing"
        if notes:
            msg += "; " + "; ".join(notes)
        msg += ". Prefer automatic placement (drop @offset)"
        col.add("CK213", msg, t, span=span)
    # large plain sizes on x86 and friends
    if tok is plain and not o.crash_base and arch == "x86_64" and o.crash_size >= (2 << 30):
        low = "256M" if o.flow == "generic" else "256M (or the ,low size)"
        col.add("CK214", f"{format_size(o.crash_size)} will probably not fit below 4 GiB: the kernel then places it "
                f"high and adds a {low} low region; production loses both", t, span=span)
    if arch == "arm64" and not release.at_least(6, 2):
        if o.high and not o.low_size:
            col.add("CK215", f"Linux {release.label} on arm64 reserves no low region for `{tok.text}` "
                    "(add crashkernel=…,low)", t, span=span)
        elif tok is plain and o.crash_size >= (1 << 30):
            col.add("CK215", f"Linux {release.label} on arm64 cannot fall back above the DMA limit: "
                    f"{format_size(o.crash_size)} must fit below it", t, span=span)


def _range_checks(tok: CrashToken, t: Target, release: KernelRelease, o: Outcome, col: _Collector) -> None:
    from crashplan.units import format_size

    span = (tok.start, tok.end)
    ram = t.system_ram
    roundup = SWITCHES["roundup_128m"].on(release)
    rounded = -(-ram // (128 << 20)) * (128 << 20) if roundup else ram
    entries = tok.value.split("@")[0].split(",")
    ent_re = re.compile(r"(0[xX][0-9a-fA-F]+|\d+[kKmMgGtTpPeE]?)-((?:0[xX][0-9a-fA-F]+|\d+)[kKmMgGtTpPeE]?)?:"
                        r"((?:0[xX][0-9a-fA-F]+|\d+)[kKmMgGtTpPeE]?)(.*)")
    for ent in entries:
        m = ent_re.fullmatch(ent)
        if not m:
            continue
        start = memparse(m.group(1).encode(), 0)[0]
        end = memparse(m.group(2).encode(), 0)[0] if m.group(2) else None
        size = memparse(m.group(3).encode(), 0)[0]
        matched = start <= rounded and (end is None or rounded < end)
        if matched and size == o.crash_size and m.group(4) and not re.match(r"\.\d", m.group(4)):
            col.add("CK204", f"`{m.group(4)}` after `{m.group(3)}` in `{tok.text}` is ignored by the kernel "
                    "(probably a typo)", t, span=span)
        if end is not None and end == rounded:
            col.add("CK211", f"`{ent}` ends at {format_size(end)}: the end is exclusive, so {format_size(ram)} of RAM"
                    + (f" (rounded up to {format_size(rounded)})" if rounded != ram else "")
                    + " does not match it", t, span=span)
        elif roundup and ram < start <= rounded:
            col.add("CK211", f"`{ent}` starts at {format_size(start)}: {format_size(ram)} of RAM is rounded up to "
                    f"{format_size(rounded)} and matches it", t, span=span)
        elif not roundup and start > ram and start - ram < (256 << 20):
            col.add("CK211", f"`{ent}` starts at {format_size(start)}: this kernel does not round RAM up, so "
                    f"{format_size(ram)} misses it", t, span=span)
