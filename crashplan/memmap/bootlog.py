"""Read a kernel boot log (``dmesg``, ``journalctl -k``, a serial console capture) into a ``Machine``.

The kernel prints enough during early boot to rebuild what memblock looked like when the crash
reservation ran: the firmware memory map, the RAM memblock manages, the initrd, ``NODE_DATA``, the
DMA CMA area, and its own release, architecture and command line.  Each message used here, with the
kernel code that prints it (all unchanged 6.1 → 7.3 unless said otherwise):

=====================================================  ==============================================
``Linux version <release> (…)``                         ``init/version-timestamp.c`` (``linux_banner``)
``Command line: …`` (x86, early)                        ``arch/x86/kernel/setup.c``
``Kernel command line: …``                              ``init/main.c``
``BIOS-e820: [mem A-B] type``                           ``arch/x86/kernel/e820.c`` ``e820__print_table``;
                                                        7.x names ``System RAM``/``device reserved`` and
                                                        prints ``[gap …]`` lines
``user-defined physical RAM map:`` / ``user: […]``      the table after ``mem=``/``memmap=``
``modified physical RAM map:`` / ``modified: […]``      ``e820__update_table_print``
``e820: update [mem A-B] T1 ==> T2``, ``e820: remove``  ``e820__range_update``, ``e820__range_remove``
``efi: mem%02u: [type…] range=[A-B] (…)``               ``efi=debug`` (``drivers/firmware/efi/memmap.c``);
                                                        x86: Boot Code/Data stay reserved through the crash
                                                        reservation (``efi_reserve_boot_services``)
``Early memory node ranges`` / ``node N: [mem A-B]``    ``mm/mm_init.c`` ``free_area_init``: memblock.memory
                                                        exactly (page-trimmed, NOMAP included)
``Zone ranges:`` / ``DMA [mem A-B]``                    the DMA limit (``arm64_dma_phys_limit``,
                                                        riscv ``dma32_phys_limit``)
``RAMDISK: [mem A-B]``                                  x86 ``reserve_initrd``
``Allocated new RAMDISK: [mem A-B]``                    x86 ``relocate_initrd`` (the initrd was not in
                                                        usable RAM: ``mem=``, ``memmap=``); the old
                                                        place is freed, the new one page-aligned
``NODE_DATA(N) allocated [mem A-B]``,                   ``mm/numa.c``/``arch/x86/mm/numa.c``; arm64 6.1
``NUMA: NODE_DATA [mem A-B]``                           ``drivers/base/arch_numa.c``
``ACPI: Reserving T table memory at [mem A-B]``         ``drivers/acpi/tables.c``
``cma: Reserved N MiB at 0x…``                          ``mm/cma.c`` (``cma=``/``CONFIG_CMA_SIZE_MBYTES``)
``software IO TLB: mapped [mem A-B] (NMB)``             ``kernel/dma/swiotlb.c``
``SWIOTLB bounce buffer size adjusted to NMB``          ``swiotlb_adjust_size`` (SEV/TDX guests)
``Memory: …K/…K available (…K kernel code, …)``         ``mm/mm_init.c`` ``mem_init_print_info``
``Write protecting the kernel read-only data: Nk``       x86 ``mark_rodata_ro``: ``_text`` … the end of
                                                        rodata rounded up to 2 MiB (printed late)
``Memory Encryption Features active: …``                ``arch/x86/mm/mem_encrypt.c``
``memblock_reserve: [A-B] caller`` (``memblock=debug``) ``mm/memblock.c``
=====================================================  ==============================================

Lines printed by *that boot's* crash reservation (``crashkernel reserved: …``, ``Reserving …MB of
memory at …MB for crashkernel``, the ``cma:`` lines of the crashkernel CMA run, …) describe the
result of that boot's parameters.  They go to ``memmap.crash`` (and ``crash_cma_ranges``), never to
``reserved``: the simulator plans other parameters on the same machine and must not see them as taken.

All ``[mem A-B]`` ends are inclusive in the log; spans here are half-open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from crashplan.errors import InputError
from crashplan.memmap.model import Machine, MemoryMap, Span, merge_spans, subtract_spans

__all__ = ["parse_boot_log", "BootLog", "read_boot_log"]

PAGE_SIZE = 4096

# ---------------------------------------------------------------------------------------------
# Line cleaning: timestamps, syslog/journal prefixes, printk levels, ANSI, CRs
# ---------------------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_PRINTK_LEVEL = re.compile(r"^<\d{1,3}>")
_DMESG_X = re.compile(r"^(?:kern|user|mail|daemon|auth|syslog|lpr|news)\s*:\s*(?:emerg|alert|crit|err|warn|notice|info|debug)\s*:\s?")
_TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")
_TIMESTAMP_CALLER = re.compile(r"^\[\s*[TC]\d+\]\s?")
_DMESG_T = re.compile(r"^\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\]\s?")
# "Nov 29 21:14:01 host kernel: " (syslog, journalctl short), ISO variants (short-iso, -precise)
_SYSLOG = re.compile(
    r"^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?"
    r"|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
    r" \S+ kernel(?:\[\d+\])?: ?"
)
_DMESG_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[,.]\d+(?:Z|[+-]\d\d:?\d\d) ")  # dmesg --time-format iso
_MONOTONIC = re.compile(r"^\[\s*\d+\.\d+\] \S+ kernel: ?")  # journalctl -o short-monotonic
_KERNEL_COLON = re.compile(r"^kernel: ")


# every prefix above, tried in this order at the start of the line (one alternation: one regex call
# per prefix removed, instead of nine per round)
_PREFIX = re.compile("|".join(
    "(?:" + rx.pattern[1:] + ")"
    for rx in (_PRINTK_LEVEL, _SYSLOG, _MONOTONIC, _DMESG_T, _DMESG_ISO, _DMESG_X, _TIMESTAMP, _TIMESTAMP_CALLER,
               _KERNEL_COLON)
))
_MAX_PREFIXES = 27  # as many as three rounds of the nine kinds


def _clean(raw: str) -> str:
    s = _ANSI.sub("", raw) if "\x1b" in raw else raw
    if "\r" in s:
        # a serial console may redraw the line: keep what was written last
        parts = [p for p in s.split("\r") if p.strip()]
        s = parts[-1] if parts else ""
    s = _CTRL.sub("", s).rstrip()
    for _ in range(_MAX_PREFIXES):
        m = _PREFIX.match(s)
        if m is None or not m.end():
            break
        s = s[m.end():]
    return s


# ---------------------------------------------------------------------------------------------
# Patterns
# ---------------------------------------------------------------------------------------------

_H = r"(?:0x)?([0-9a-fA-F]+)"
_MEM = re.compile(r"\[mem " + _H + r"-" + _H + r"\]")
_LINUX_VERSION = re.compile(r"^Linux version (\S+)(.*)$")
_CMDLINE_EARLY = re.compile(r"^Command line: ?(.*)$")
_CMDLINE = re.compile(r"^Kernel command line: ?(.*)$")
_E820 = re.compile(r"^(BIOS-e820|BIOS-e801|BIOS-88|user|modified|e820|extended|reserve setup_data)\s*: ?\[(mem|gap) ")
_E820_ENTRY = re.compile(r"^(\S[^:]*?):\s*\[mem " + _H + r"-" + _H + r"\]\s*(.*?)\s*$")
_E820_GAP = re.compile(r"^\S[^:]*:\s*\[gap ")
_E820_UPDATE = re.compile(r"^e820: update \[mem " + _H + r"-" + _H + r"\] (.+?) ==> (.+?)\s*$")
_E820_REMOVE = re.compile(r"^e820: remove \[mem " + _H + r"-" + _H + r"\] ?(.*?)\s*$")
_EFI_MD = re.compile(
    r"^efi:\s+mem\d+: \[([^\]|]+?)\s*\|[^\]]*\] range=\[" + _H + r"-" + _H + r"\]"
)
_NODE_RANGE = re.compile(r"^\s*node\s+(\d+): \[mem " + _H + r"-" + _H + r"\]\s*$")
_ZONE = re.compile(r"^\s*(DMA|DMA32|Normal|HighMem|Movable|Device)\s+(?:\[mem " + _H + r"-" + _H + r"\]|empty)\s*$")
_RAMDISK = re.compile(r"^RAMDISK: \[mem " + _H + r"-" + _H + r"\]")
_RAMDISK_NEW = re.compile(r"^Allocated new RAMDISK: \[mem " + _H + r"-" + _H + r"\]")
_NODE_DATA = re.compile(r"^(?:NUMA: )?NODE_DATA(?:\((\d+)\))?(?: allocated)? \[mem " + _H + r"-" + _H + r"\]")
_ACPI_RESERVE = re.compile(r"^ACPI: Reserving (\S+) table memory at \[mem " + _H + r"-" + _H + r"\]")
_CMA_RESERVED = re.compile(r"^cma: Reserved (\d+) MiB at (?:0x)?([0-9a-fA-F]+)(?: on node (-?\d+))?\s*$")
_CMA_FAILED = re.compile(r"^cma: Failed to reserve (\d+) MiB")
_CMA_OTHER = re.compile(r"^cma: ")
_DT_CMA = re.compile(r"^Reserved memory: created CMA memory pool at (?:0x)?([0-9a-fA-F]+), size (\d+) MiB")
_SWIOTLB = re.compile(r"^software IO TLB: mapped \[mem " + _H + r"-" + _H + r"\] \((\d+)MB\)")
_SWIOTLB_ADJ = re.compile(r"^SWIOTLB bounce buffer size adjusted to (\d+)MB")
_MEMORY = re.compile(r"^Memory: (\d+)K/(\d+)K available \((.*)\)")
_MEM_PART = re.compile(r"(\d+)K (kernel code|rwdata|rodata|init|bss|data)")
_ENCRYPT = re.compile(r"^(?:AMD )?Memory Encryption Features active:? ?(.*)$")
_TDX = re.compile(r"^tdx: Guest detected")
_MEMBLOCK_OP = re.compile(r"^(memblock_reserve|memblock_phys_free|memblock_free|memblock_remove|memblock_add|memblock_mark_nomap):? \[" + _H + r"-" + _H + r"\]\s*(\S*)")
_KASLR_OFF = re.compile(r"^KASLR disabled")
_KASLR_ON = re.compile(r"^KASLR enabled")
_MACHINE_MODEL = re.compile(r"^Machine model: (.*)$")
_FREE_INITRD = re.compile(r"^Freeing initrd memory: (\d+)K")
_WP_RODATA = re.compile(r"^Write protecting the kernel read-only data: (\d+)k")

# Crash-reservation lines (the result of that boot's crashkernel= parameters)
_CK_GENERIC = re.compile(r"^crashkernel reserved: 0x([0-9a-fA-F]+) - 0x([0-9a-fA-F]+) \((\d+) MB\)")
_CK_LOW = re.compile(r"^crashkernel low memory reserved: 0x([0-9a-fA-F]+) - 0x([0-9a-fA-F]+) \((\d+) MB\)")
_CK_RISCV = re.compile(r"^crashkernel: reserved 0x([0-9a-fA-F]+) - 0x([0-9a-fA-F]+) \((\d+) MB\)")
_CK_OLD = re.compile(r"^(?:setup: )?Reserving (\d+)MB of memory at (\d+)MB for crashkernel")
_CK_OLD_LOW = re.compile(r"^Reserving (\d+)MB of low memory at (\d+)MB for crashkernel")
_CK_CMA_DONE = re.compile(r"^crashkernel CMA (?:reserved: |reservation failed: )")
_CK_ANY = re.compile(
    r"^(?:crashkernel|cannot allocate crashkernel|Cannot reserve \d+MB crashkernel|Crash kernel|"
    r"setup: crashkernel|Ignoring crashkernel|Failed to reserve memory for crashkernel)"
)


@dataclass
class BootLog:
    """Everything ``parse_boot_log`` read, before it is turned into a ``Machine`` (for tests and tools)."""

    source: str
    release: str | None = None
    arch: str | None = None
    cmdline: str | None = None
    e820: list[tuple[int, int, str]] = field(default_factory=list)  # final firmware table, half-open
    efi: list[tuple[int, int, str]] = field(default_factory=list)
    node_ranges: list[tuple[int, int, int]] = field(default_factory=list)  # (nid, start, end)
    zones: dict[str, tuple[int, int] | None] = field(default_factory=dict)
    initrd: Span | None = None
    node_data: list[Span] = field(default_factory=list)
    acpi: list[Span] = field(default_factory=list)
    dma_cma: list[Span] = field(default_factory=list)
    swiotlb_size: int | None = None
    swiotlb_adjusted: int | None = None
    memory_line: tuple[int, int, dict[str, int]] | None = None
    mem_encrypt: str | None = None
    kaslr: bool | None = None
    machine_model: str | None = None
    initrd_size: int | None = None
    rodata_span: int | None = None  # x86: _text … __end_rodata_hpage_align
    memblock_ops: list[tuple[str, int, int, str]] = field(default_factory=list)
    crash: list[Span] = field(default_factory=list)
    crash_cma: list[Span] = field(default_factory=list)
    crash_lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    va52: bool = False
    efi_boot: bool | None = None


def _arch_from_banner(release: str, rest: str) -> str | None:
    from crashplan.kernel.arch import normalize_arch

    text = release.lower()
    m = re.search(r"[-.+_](amd64|x86_64|arm64|aarch64|ppc64el|ppc64le|ppc64|s390x|riscv64|loong64|loongarch64)$", text)
    if m:
        return normalize_arch(m.group(1))
    m = re.search(r"\b(x86_64|aarch64|powerpc64le|powerpc64|s390x|riscv64|loongarch64)-[a-z0-9_]*-?linux", rest)
    if m:
        return normalize_arch(m.group(1))
    return None


def _guess_arch(lines: list[str]) -> str | None:
    for s in lines:
        if s.startswith(("BIOS-e820", "x86/fpu", "e820:", "x86/PAT")):
            return "x86_64"
        if s.startswith(("Machine model:", "psci:", "GICv3", "CPU features: detected")):
            return "arm64"
        if s.startswith(("SBI specification", "riscv:")):
            return "riscv64"
        if s.startswith(("setup: Linux is running", "setup: The maximum memory size")):
            return "s390x"
        if s.startswith(("hash-mmu:", "radix-mmu:", "ppc64_pft_size")):
            return "ppc64le"
    return None


class _Reader:
    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.log = BootLog(source=source)
        self.text = text

    def fail(self, lineno: int, message: str) -> InputError:
        return InputError(message, path=self.source, line=lineno)

    def _too_wide(self, digits: str, lineno: int, what: str, *, prefix: str = "", unit: str = "") -> InputError:
        shown = digits if len(digits) <= 24 else digits[:20] + "…"
        return self.fail(lineno, f"{prefix}{shown}{unit} does not fit in 64 bits{what}")

    def hex(self, digits: str, lineno: int) -> int:
        value = int(digits, 16)
        if value >> 64:
            raise self._too_wide(digits, lineno, ": expected a physical address as the kernel prints it", prefix="0x")
        return value

    def dec(self, digits: str, shift: int, lineno: int) -> int:
        """A decimal number: a count of KiB (``shift`` 10) or MiB (20) in bytes, or a node number (0)."""
        # more than 20 significant digits cannot fit, and int() refuses strings past 4,300 digits
        value = 1 << 64 if len(digits.lstrip("0")) > 20 else int(digits) << shift
        if value >> 64:
            unit = {10: " KiB", 20: " MiB"}.get(shift, "")
            raise self._too_wide(digits, lineno, " of bytes" if unit else "", unit=unit)
        return value

    def mem(self, m: re.Match[str], i: int, lineno: int) -> tuple[int, int]:
        a, b = self.hex(m.group(i), lineno), self.hex(m.group(i + 1), lineno)
        if b < a:
            raise self.fail(lineno, f"[mem {m.group(i)}-{m.group(i + 1)}] ends before it starts")
        return a, b + 1

    def run(self) -> BootLog:
        text = self.text
        if "\x00" in text:
            lineno = text[: text.index("\x00")].count("\n") + 1
            raise self.fail(lineno, "binary data (NUL byte): expected the text of a kernel log (dmesg, journalctl -k)")
        # lines end at "\n" only (as editors and error positions count them); a CR before it is noise
        raw_lines = text.split("\n")
        if raw_lines and raw_lines[-1] == "":
            raw_lines.pop()
        lg = self.log
        e820_table: list[tuple[int, int, str]] = []
        e820_section: str | None = None
        in_nodes = False
        in_zones = False
        cma_run: list[tuple[int, str, Span | None]] = []  # consecutive cma: lines
        crash_seen = False
        cleaned: list[str] = []
        for lineno, raw in enumerate(raw_lines, 1):
            s = _clean(raw)
            cleaned.append(s)
            if not s:
                continue
            # -- crash lines of that boot
            is_cma = bool(_CMA_OTHER.match(s))
            if not is_cma and cma_run:
                if _CK_CMA_DONE.match(s):
                    for _, _, span in cma_run:
                        if span is not None:
                            lg.crash_cma.append(Span(span.start, span.end, "crashkernel CMA"))
                    lg.crash_lines.extend(t for _, t, _ in cma_run)
                else:
                    for _, _, span in cma_run:
                        if span is not None:
                            lg.dma_cma.append(span)
                cma_run = []
            if is_cma:
                m = _CMA_RESERVED.match(s)
                span = None
                if m:
                    size = self.dec(m.group(1), 20, lineno)
                    base = self.hex(m.group(2), lineno)
                    span = Span(base, base + size, "cma")
                elif not _CMA_FAILED.match(s) and s.startswith("cma: Reserved"):
                    raise self.fail(lineno, f"unreadable CMA line {s[:60]!r}: expected 'cma: Reserved N MiB at 0xADDR'")
                cma_run.append((lineno, s, span))
                continue
            if _CK_CMA_DONE.match(s):
                lg.crash_lines.append(s)
                crash_seen = True
                continue
            if self._crash_line(s, lineno):
                crash_seen = True
                continue

            m = _LINUX_VERSION.match(s)
            if m and lg.release is None:
                lg.release = m.group(1)
                lg.arch = _arch_from_banner(m.group(1), m.group(2))
                continue
            m = _CMDLINE_EARLY.match(s)
            if m:
                lg.cmdline = m.group(1)
                continue
            m = _CMDLINE.match(s)
            if m:
                if lg.cmdline is None:
                    lg.cmdline = m.group(1)
                continue

            # -- e820
            if s.endswith("physical RAM map:"):
                e820_section = s.split()[0]
                if e820_section in ("user-defined", "modified", "extended"):
                    e820_table = []
                continue
            if _E820.match(s):
                if _E820_GAP.match(s):
                    continue
                m = _E820_ENTRY.match(s)
                if not m:
                    raise self.fail(lineno, f"unreadable E820 entry {s[:70]!r}: expected 'BIOS-e820: [mem 0xSTART-0xEND] TYPE'")
                who = m.group(1).strip()
                a, b = self.mem(m, 2, lineno)
                kind = m.group(4)
                if who in ("BIOS-e820", "BIOS-e801", "BIOS-88", "user", "modified", "extended", "reserve setup_data"):
                    if who == "BIOS-e820" and e820_section not in (None, "BIOS-provided"):
                        e820_table = []
                    e820_section = e820_section or "BIOS-provided"
                    e820_table.append((a, b, kind))
                continue
            m = _E820_UPDATE.match(s)
            if m and not crash_seen:
                a, b = self.mem(m, 1, lineno)
                e820_table = _e820_update(e820_table, a, b, m.group(3), m.group(4))
                continue
            m = _E820_REMOVE.match(s)
            if m and not crash_seen:
                a, b = self.mem(m, 1, lineno)
                e820_table = _e820_remove(e820_table, a, b)
                continue
            m = _EFI_MD.match(s)
            if m:
                a, b = self.mem(m, 2, lineno)
                lg.efi.append((a, b, m.group(1).strip()))
                continue

            # -- memblock.memory as free_area_init prints it
            if s.startswith("Early memory node ranges"):
                in_nodes = True
                lg.node_ranges = []
                continue
            if in_nodes:
                m = _NODE_RANGE.match(s)
                if m:
                    a, b = self.mem(m, 2, lineno)
                    lg.node_ranges.append((self.dec(m.group(1), 0, lineno), a, b))
                    continue
                if re.match(r"^\s*node\s+\d+:", s):
                    raise self.fail(lineno, f"unreadable node range {s[:70]!r}: expected 'node N: [mem 0xSTART-0xEND]'")
                in_nodes = False
            if s.startswith("Zone ranges:"):
                in_zones = True
                continue
            if in_zones:
                m = _ZONE.match(s)
                if m:
                    lg.zones[m.group(1)] = None if m.group(2) is None else self.mem(m, 2, lineno)
                    continue
                in_zones = False

            m = _RAMDISK.match(s)
            if m:
                a, b = self.mem(m, 1, lineno)
                lg.initrd = Span(a, b, "initrd")
                continue
            m = _RAMDISK_NEW.match(s)
            if m:
                a, b = self.mem(m, 1, lineno)
                # memblock_phys_alloc_range(PAGE_ALIGN(ramdisk_size), …); the log prints the unaligned end
                lg.initrd = Span(a, -(-b // PAGE_SIZE) * PAGE_SIZE, "initrd")
                continue
            m = _NODE_DATA.match(s)
            if m:
                a, b = self.mem(m, 2, lineno)
                nid = m.group(1) or "0"
                lg.node_data.append(Span(a, b, f"NODE_DATA({nid})"))
                continue
            m = _ACPI_RESERVE.match(s)
            if m:
                a, b = self.mem(m, 2, lineno)
                lg.acpi.append(Span(a, b, f"ACPI {m.group(1)}"))
                continue
            m = _DT_CMA.match(s)
            if m:
                base = self.hex(m.group(1), lineno)
                lg.dma_cma.append(Span(base, base + self.dec(m.group(2), 20, lineno), "cma"))
                continue
            m = _SWIOTLB.match(s)
            if m:
                a, b = self.mem(m, 1, lineno)
                lg.swiotlb_size = b - 1 - a  # swiotlb prints an exclusive end
                continue
            m = _SWIOTLB_ADJ.match(s)
            if m:
                lg.swiotlb_adjusted = self.dec(m.group(1), 20, lineno)
                continue
            m = _MEMORY.match(s)
            if m:
                parts = {k: int(v) << 10 for v, k in _MEM_PART.findall(m.group(3))}
                lg.memory_line = (self.dec(m.group(1), 10, lineno), self.dec(m.group(2), 10, lineno), parts)
                continue
            m = _ENCRYPT.match(s)
            if m:
                feats = m.group(1)
                if "TDX" in feats:
                    lg.mem_encrypt = "tdx"
                elif "SEV" in feats:
                    lg.mem_encrypt = "sev"
                elif "SME" in feats:
                    lg.mem_encrypt = lg.mem_encrypt or "sme"
                continue
            if _TDX.match(s):
                lg.mem_encrypt = "tdx"
                continue
            m = _MEMBLOCK_OP.match(s)
            if m:
                a, b = self.hex(m.group(2), lineno), self.hex(m.group(3), lineno) + 1
                if not crash_seen:
                    lg.memblock_ops.append((m.group(1), a, b, m.group(4)))
                continue
            if _KASLR_OFF.match(s):
                lg.kaslr = False
                continue
            if _KASLR_ON.match(s):
                lg.kaslr = True
                continue
            if "52-bit Virtual Addressing" in s and s.startswith("CPU features"):
                lg.va52 = True
                continue
            if s.startswith("efi: UEFI not found"):
                lg.efi_boot = False
                continue
            if s.startswith("efi: EFI v") or s.startswith("efi: ACPI="):
                lg.efi_boot = True
                continue
            m = _MACHINE_MODEL.match(s)
            if m:
                lg.machine_model = m.group(1).strip()
                continue
            m = _FREE_INITRD.match(s)
            if m:
                lg.initrd_size = self.dec(m.group(1), 10, lineno)
                continue
            m = _WP_RODATA.match(s)
            if m:
                lg.rodata_span = self.dec(m.group(1), 10, lineno)
                continue
        if cma_run:
            for _, _, span in cma_run:
                if span is not None:
                    lg.dma_cma.append(span)
        lg.e820 = e820_table
        if lg.arch is None:
            lg.arch = _guess_arch(cleaned)
        return lg

    def _crash_line(self, s: str, lineno: int) -> bool:
        lg = self.log
        for rx, kind in ((_CK_GENERIC, "Crash kernel"), (_CK_LOW, "Crash kernel (low)"), (_CK_RISCV, "Crash kernel")):
            m = rx.match(s)
            if m:
                a, b = self.hex(m.group(1), lineno), self.hex(m.group(2), lineno)
                if b <= a:
                    raise self.fail(lineno, f"{m.group(1)} - {m.group(2)} ends before it starts")
                lg.crash.append(Span(a, b, kind))
                lg.crash_lines.append(s)
                return True
        m = _CK_OLD_LOW.match(s)
        if m:
            size, at = self.dec(m.group(1), 20, lineno), self.dec(m.group(2), 20, lineno)
            lg.crash.append(Span(at, at + size, "Crash kernel (low)"))
            lg.crash_lines.append(s)
            return True
        m = _CK_OLD.match(s)
        if m:
            size, at = self.dec(m.group(1), 20, lineno), self.dec(m.group(2), 20, lineno)
            lg.crash.append(Span(at, at + size, "Crash kernel"))
            lg.crash_lines.append(s)
            return True
        if _CK_ANY.match(s):
            lg.crash_lines.append(s)
            return True
        return False


def _e820_update(table: list[tuple[int, int, str]], a: int, b: int, old: str, new: str) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for s, e, t in table:
        if e <= a or s >= b or t != old:
            out.append((s, e, t))
            continue
        if s < a:
            out.append((s, a, t))
        out.append((max(s, a), min(e, b), new))
        if e > b:
            out.append((b, e, t))
    return out


def _e820_remove(table: list[tuple[int, int, str]], a: int, b: int) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for s, e, t in table:
        if e <= a or s >= b:
            out.append((s, e, t))
            continue
        if s < a:
            out.append((s, a, t))
        if e > b:
            out.append((b, e, t))
    return out


_RAM_TYPES = {"usable", "system ram", "ram", "reserved_kern", "reserved-kern"}
# EFI memory types the kernel adds to memblock as ordinary RAM (efi_init / is_usable_memory)
_EFI_RAM = {"Conventional", "Loader Data", "Loader Code", "Boot Data", "Boot Code", "Persistent", "Conventional Memory",
            "Boot Services Code", "Boot Services Data"}
_EFI_BOOT_SERVICES = {"Boot Data", "Boot Code", "Boot Services Code", "Boot Services Data"}
_EFI_NOMAP = {"Runtime Data", "Runtime Code", "Runtime Services Data", "Runtime Services Code", "ACPI Reclaim", "ACPI Mem NVS",
              "ACPI NVS", "Reserved", "Unusable", "PAL Code", "MMIO", "MMIO Port"}


def _page_trim(spans: list[Span]) -> tuple[Span, ...]:
    out = []
    for s in merge_spans(spans):
        a = -(-s.start // PAGE_SIZE) * PAGE_SIZE
        b = s.end // PAGE_SIZE * PAGE_SIZE
        if b > a:
            out.append(Span(a, b, s.name))
    return tuple(out)


_KMSG_PREFIX = re.compile(r"^\d{1,3},\d+,\d+,[^;]*;")  # /dev/kmsg: "pri,seq,usec,flags;text"


def initrd_from_log(text: str) -> Span | None:
    """Where the initrd was when the crash region was reserved, from any boot log (or ``/dev/kmsg``
    records): x86 ``reserve_initrd`` prints ``RAMDISK: [mem A-B]``, and ``relocate_initrd``
    ``Allocated new RAMDISK: [mem A-B]`` when it moved it (the last one wins, as in
    :func:`parse_boot_log`).  None when neither line is there (a ring buffer that rotated)."""
    found: Span | None = None
    for raw in text.splitlines():
        if "RAMDISK" not in raw:
            continue
        s = _clean(_KMSG_PREFIX.sub("", raw, count=1))
        for rx, page in ((_RAMDISK, False), (_RAMDISK_NEW, True)):
            m = rx.match(s)
            if m is None or len(m.group(1)) > 16 or len(m.group(2)) > 16:
                continue
            a, b = int(m.group(1), 16), int(m.group(2), 16) + 1
            if b > a and b <= 1 << 64:
                found = Span(a, -(-b // PAGE_SIZE) * PAGE_SIZE if page else b, "initrd")
    return found


def read_boot_log(text: str, *, source: str = "<boot log>") -> BootLog:
    """The raw facts of a boot log (see ``parse_boot_log``)."""
    return _Reader(text, source).run()


def parse_boot_log(text: str, *, source: str = "<boot log>") -> Machine:
    """Read a kernel boot log into a ``Machine`` (memory map, release, architecture, command line …).

    Accepts ``dmesg`` with or without timestamps, ``dmesg -T``/``-x``, ``journalctl -k`` in its usual
    output formats, ``/var/log/kern.log`` and serial-console captures (carriage returns, ANSI colours,
    ``<6>`` levels).  Raises ``InputError`` naming ``source`` and the line for text that is not a
    kernel log, a malformed memory-map line, or a log without a memory map.
    """
    if not isinstance(text, str):
        raise InputError("expected the text of a kernel log", path=source)
    lg = read_boot_log(text, source=source)

    e820_ram = [Span(a, b, "System RAM") for a, b, t in lg.e820 if t.strip().lower() in _RAM_TYPES]
    e820_other = [Span(a, b, t) for a, b, t in lg.e820 if t.strip().lower() not in _RAM_TYPES]
    efi_ram = [Span(a, b, "System RAM") for a, b, t in lg.efi if t in _EFI_RAM]
    efi_nomap = [Span(a, b, t) for a, b, t in lg.efi if t in _EFI_NOMAP and t != "MMIO" and t != "MMIO Port"]

    nomap: tuple[Span, ...] = ()
    if lg.node_ranges:
        # memblock.memory exactly (page-trimmed by the kernel; NOMAP included)
        memory = merge_spans(Span(a, b, "System RAM") for _, a, b in lg.node_ranges)
        if efi_nomap and lg.arch == "arm64":
            nomap = tuple(Span(s.start, s.end, "nomap") for s in merge_spans(efi_nomap)
                          if any(m.overlaps(s.start, s.end) for m in memory))
    elif e820_ram:
        memory = _page_trim(e820_ram)
    elif efi_ram:
        memory = _page_trim(efi_ram + efi_nomap if lg.arch == "arm64" else efi_ram)
        if lg.arch == "arm64":
            nomap = _page_trim([Span(s.start, s.end, "nomap") for s in efi_nomap])
    else:
        raise InputError(
            "no memory map in this log: expected the firmware map ('BIOS-e820: [mem …] usable' lines), "
            "'Early memory node ranges' with 'node 0: [mem …]' lines, or 'efi: memNN:' lines (efi=debug); "
            "pass the complete log of a boot (dmesg, journalctl -k -b)",
            path=source, line=max(1, text.count("\n") + (0 if text.endswith("\n") else 1)),
        )
    # the part of memblock.memory that is not NOMAP: RAM in the model's sense
    ram = subtract_spans(memory, nomap) if nomap else memory

    reserved: list[Span] = []
    if lg.memblock_ops:
        state: list[Span] = []
        for op, a, b, caller in lg.memblock_ops:
            if b <= a:
                continue  # an empty or inverted memblock=debug range reserves nothing
            if op == "memblock_reserve":
                state.append(Span(a, b, "memblock: " + (caller.split("+")[0] if caller else "reserved")))
            elif op in ("memblock_phys_free", "memblock_free"):
                state = list(subtract_spans(state, [Span(a, b)]))
        reserved.extend(state)
    if lg.initrd is not None:
        reserved.append(lg.initrd)
    reserved.extend(lg.node_data)
    reserved.extend(s for s in lg.acpi if any(r.overlaps(s.start, s.end) for r in ram))
    reserved.extend(Span(s.start, s.end, "cma (DMA)") for s in lg.dma_cma)
    efi_boot_services = lg.arch == "x86_64" and bool(lg.efi)
    if efi_boot_services:
        # x86 efi_reserve_boot_services() (setup_arch, before reserve_initrd and the crash reservation)
        # keeps EFI boot-services code and data reserved until efi_free_boot_services; efi=debug lists them
        reserved.extend(merge_spans(Span(a, b, "EFI boot services (efi_reserve_boot_services)")
                                    for a, b, t in lg.efi if t in _EFI_BOOT_SERVICES))
    reserved_t = tuple(sorted({s for s in reserved if s.end > s.start}))  # an empty range reserves nothing

    other = tuple(merge_spans(e820_other)) if e820_other else ()
    crash = tuple(lg.crash) + tuple(lg.crash_cma)

    notes: list[str] = list(lg.notes)
    if lg.memblock_ops:
        notes.append("memblock=debug: the reserved list is memblock's own, up to the crash reservation")
    cmdline = lg.cmdline
    kaslr = lg.kaslr
    if cmdline is not None and kaslr is None:
        from crashplan.cmdline import split_params

        names = {p.name for p in split_params(cmdline)}
        if "nokaslr" in names:
            kaslr = False

    dma_limit = None
    if lg.arch in ("arm64", "riscv64"):
        zone = lg.zones.get("DMA") if lg.arch == "arm64" else None
        if zone is None:
            zone = lg.zones.get("DMA32")
        if zone is not None:
            dma_limit = zone[1]
    swiotlb = lg.swiotlb_adjusted or lg.swiotlb_size
    facts: dict[str, object] = {}
    if lg.memory_line is not None:
        parts = lg.memory_line[2]
        facts["kernel_image"] = sum(parts.get(k, 0) for k in ("kernel code", "rwdata", "rodata", "init", "bss", "data"))
        facts["kernel_parts"] = dict(parts)
    if lg.rodata_span is not None:
        facts["kernel_rodata_span"] = lg.rodata_span
    if lg.initrd_size is not None:
        facts["initrd_size"] = lg.initrd_size
    elif lg.initrd is not None:
        facts["initrd_size"] = lg.initrd.size
    if lg.machine_model:
        facts["machine_model"] = lg.machine_model
    if lg.va52:
        facts["va_bits"] = 52
    efi_boot = lg.efi_boot
    if efi_boot is None and lg.arch == "x86_64" and lg.e820:
        # an x86 EFI boot always prints "efi: EFI vX.Y by …" (efi_systab_report_header) before the
        # crash reservation; a log that holds the firmware's e820 map and no such line was booted by BIOS
        efi_boot = False
    facts["efi"] = efi_boot
    if efi_boot_services:
        facts["efi_memmap"] = True  # the boot-services memory is known (crashplan.placement)

    mm = MemoryMap(ram=ram, reserved=reserved_t, nomap=nomap, other=other, crash=crash, source=source)
    return Machine(
        memmap=mm,
        name=source,
        provenance=f"kernel boot log {source}",
        arch=lg.arch,
        kernel=lg.release,
        cmdline=cmdline,
        system_ram=sum(s.size for s in memory),
        swiotlb_size=swiotlb,
        mem_encrypt=lg.mem_encrypt,
        kaslr=kaslr,
        dma_limit=dma_limit,
        crash_cma_ranges=tuple(lg.crash_cma),
        notes=tuple(notes),
        boot_facts=facts,
    )
