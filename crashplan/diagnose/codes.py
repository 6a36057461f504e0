"""Every diagnosis code: name, severity, summary, description and the examples that run as tests.

Texts that name the release of a kernel change are computed from the kernel's table
(``crashplan.kernel.features``), so that a release is written once.
"""

from __future__ import annotations

from crashplan.kernel.features import releases_text, switch_release

from .model import ERROR, INFO, WARNING, CodeInfo

__all__ = ["CODES"]

_r = switch_release
_SHORT = {"x86_64": "x86", "ppc64le": "powerpc", "riscv64": "riscv"}  # how the descriptions name architectures

def _x86(kernel: str = "7.2", ram: str = "16G") -> dict[str, str]:
    return {"kernel": kernel, "arch": "x86_64", "ram": ram}


def _arm(kernel: str = "7.2", ram: str = "16G") -> dict[str, str]:
    return {"kernel": kernel, "arch": "arm64", "ram": ram}


_CODES: list[CodeInfo] = [
    CodeInfo("CK101", "kernel-rejects-crashkernel", ERROR,
             "the kernel rejects the crashkernel= value: kdump is disabled",
             "The token the kernel picks does not parse; the kernel prints a warning and reserves nothing.",
             (("crashkernel=256M+64M", _x86(), ("CK101",)), ("crashkernel=256M", _x86(), ()))),
    CodeInfo("CK102", "cma-typo", ERROR, "crashkernel=X,cma=Y is one token the kernel rejects",
             "`crashkernel=256M,cma=1G` is read as one crashkernel= value: the simple parser stops at `,` "
             "(`unrecognized char: ,`), so nothing is reserved, no CMA is reserved, and the global cma= is not set "
             "either. Write two tokens.",
             (("crashkernel=256M,cma=1G", _x86(), ("CK102",)),
              ("crashkernel=256M crashkernel=1G,cma", _x86(), ("CK210",)))),
    CodeInfo("CK103", "cma-breaks-old-kernel", ERROR, f"a ,cma token breaks kdump on kernels before {_r('cma_suffix')}",
             f"Before {_r('cma_suffix')} `,cma` is not a known suffix, so `crashkernel=1G,cma` is a plain "
             "candidate; when it is the last one it wins and fails with `unrecognized char: ,`. Put the plain token "
             "last.",
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
             f"From {_r('size_ge_ram')} the kernel silently rejects a size >= system RAM; older kernels fail to "
             "allocate it.",
             (("crashkernel=4G", _x86(ram="4G"), ("CK107",)), ("crashkernel=256M", _x86(ram="4G"), ()))),
    CodeInfo("CK108", "range-size-ge-ram", ERROR, "a range entry's size is not smaller than RAM",
             f"Every range entry evaluated before the match must have size < RAM (rounded up to 128M on "
             f"{_r('roundup_128m')}+); otherwise `crashkernel: invalid size` and the whole parameter is rejected.",
             (("crashkernel=0-4G:192M,4G-8G:8G", _x86(ram="6G"), ("CK108",)),
              ("crashkernel=0-4G:192M,4G-8G:512M", _x86(ram="6G"), ()))),
    CodeInfo("CK109", "no-range-matches", ERROR, "no range entry matches this RAM size: nothing is reserved",
             f"`crashkernel size resulted in zero bytes`: RAM (rounded up to 128M on {_r('roundup_128m')}+) is "
             "outside every `start-end` entry (start inclusive, end exclusive). An error for a RAM size you declared "
             "(`--ram`, "
             "a lint profile, the machine's own); a warning for the RAM sizes of lint's built-in default profile.",
             (("crashkernel=2G-64G:256M", _x86(ram="1G"), ("CK109",)),
              ("crashkernel=1G-64G:256M", _x86(ram="1G"), ()))),
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
             "Any plain token, even an invalid one, means ,high is never read "
             f"({_r('generic_x86_arm64_riscv')}+; arm64 {_r('arm64_high_low')}+); old x86 fell back "
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
             (("crashkernel=128M,low", _x86(), ("CK117",)),
              ("crashkernel=512M,high crashkernel=128M,low", _x86(), ()))),
    CodeInfo("CK118", "high-zero", ERROR, "crashkernel=0,high reserves nothing",
             "A zero ,high size disables the reservation.",
             (("crashkernel=0,high", _x86(), ("CK118",)), ("crashkernel=512M,high", _x86(), ()))),
    CodeInfo("CK119", "crashkernel-unsupported", ERROR, "this kernel has no crashkernel= support on this architecture",
             f"loongarch kernels before {_r('loongarch_kdump')} cannot reserve crash kernel memory.",
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
             (("crashkernel=256M rd.kdump.crashkernel=64M", _x86(), ("CK201", "CK205")),
              ("crashkernel=256M", _x86(), ()))),
    CodeInfo("CK206", "high-ignored", WARNING, "crashkernel=,high is ignored when a plain crashkernel= exists",
             "A plain token takes precedence; ,high and ,low are never read.",
             (("crashkernel=256M crashkernel=512M,high", _x86(), ("CK206",)), ("crashkernel=512M,high", _x86(), ()))),
    CodeInfo("CK207", "low-ignored", WARNING, "crashkernel=,low is ignored here",
             f"From {_r('generic_x86_arm64_riscv')} `,low` is read only with `,high`; with a plain token the "
             "default low size is used when the reservation falls back above 4 GiB.",
             (("crashkernel=256M crashkernel=128M,low", _x86(), ("CK207",)),
              ("crashkernel=512M,high crashkernel=128M,low", _x86(), ()))),
    CodeInfo("CK208", "suffix-ignored-arch", WARNING, ",high/,low are silently ignored on this architecture",
             f"powerpc, s390 and arm64 before {_r('arm64_high_low')} read only plain and range syntax; the "
             "suffixed tokens are skipped. When that leaves nothing reserved on a declared target it is an error.",
             (("crashkernel=512M,high", {"kernel": "6.12", "arch": "ppc64le", "ram": "16G"}, ("CK208",)),
              ("crashkernel=512M", {"kernel": "6.12", "arch": "ppc64le", "ram": "16G"}, ()))),
    CodeInfo("CK209", "cma-ignored", WARNING, "crashkernel=,cma is silently ignored by this kernel",
             f"CMA crash memory is reserved by {releases_text('cma', names=_SHORT)}; elsewhere "
             "(and with fadump) the token is skipped.",
             (("crashkernel=256M crashkernel=1G,cma", _arm("7.2"), ("CK209",)),
              ("crashkernel=256M crashkernel=1G,cma", _arm("7.3"), ("CK210",)))),
    CodeInfo("CK210", "cma-caveats", INFO, "CMA crash memory: user pages are not dumped, a 10 s wait, kexec_file_load",
             "Pages production allocates from the CMA range are not in the vmcore; the kernel waits 10 seconds "
             "for DMA before starting the capture kernel; only kexec_file_load passes the CMA range to it; "
             "DMA/GPU/RDMA drivers that pin pages badly can corrupt the capture kernel.",
             (("crashkernel=256M crashkernel=1G,cma", _x86(), ("CK210",)), ("crashkernel=256M", _x86(), ()))),
    CodeInfo("CK211", "range-boundary", WARNING, "a range boundary sits on this RAM size",
             "Range starts are inclusive and ends exclusive, compared with RAM rounded up to 128 MiB "
             f"({_r('roundup_128m')}+): `1G-4G:…` does not match a 4 GiB machine, and a 3.9 GiB machine counts as "
             "4 GiB.",
             (("crashkernel=1G-4G:192M,4G-64G:256M", _x86(ram="4G"), ("CK211",)),
              ("crashkernel=1G-4G:192M,4G-64G:256M", _x86(ram="16G"), ()))),
    CodeInfo("CK212", "fractional-size", ERROR, "sizes cannot have fractions",
             "`1.5G` is read as 1 and then `.`: rejected in simple syntax, 1 byte in a matching range entry.",
             (("crashkernel=1G-:1.5G", _x86(), ("CK212",)), ("crashkernel=1G-:1536M", _x86(), ()))),
    CodeInfo("CK213", "fixed-offset", WARNING, "a fixed @offset must be free and aligned; prefer automatic placement",
             "The kernel reserves exactly `[offset, offset+size)` or nothing (`memory is in use`). "
             f"x86 {_r('generic_x86_arm64_riscv')}+ needs 16 MiB alignment (1 MiB before), arm64/riscv/loongarch "
             f"2 MiB; on {_r('generic_x86_arm64_riscv')}+ an offset at or above 4 GiB gets no low region.",
             (("crashkernel=256M@16M", _x86(), ("CK213",)), ("crashkernel=256M", _x86(), ()))),
    CodeInfo("CK214", "large-plain-x86", INFO, "a large plain size will probably fall back above 4 GiB",
             "If it does not fit below 4 GiB the kernel places it high and adds a low region "
             "(256 MiB or more on x86, 128 MiB elsewhere): production loses both.",
             (("crashkernel=3G", _x86(ram="64G"), ("CK214",)), ("crashkernel=512M", _x86(ram="64G"), ()))),
    CodeInfo("CK215", "arm64-no-fallback", WARNING,
             f"arm64 before {_r('arm64_fallback')} has no fallback above the DMA limit",
             "A plain size must fit below the DMA limit (1 GiB on a Raspberry Pi 4); `,high` without `,low` gets no "
             f"low region before {_r('arm64_fallback')}.",
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
