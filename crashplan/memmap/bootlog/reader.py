"""The boot log reader: one pass over the lines, a small state machine (the e820 table being built, the
``Early memory node ranges``/``Zone ranges`` sections, the run of ``cma:`` lines, whether the crash
reservation was printed yet) and one reader per kind of line.  See :mod:`crashplan.memmap.bootlog.patterns`
for the messages and the kernel code printing them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from crashplan.errors import InputError
from crashplan.memmap.bootlog.patterns import (
    ACPI_RESERVE,
    CK_ANY,
    CK_CMA_DONE,
    CK_GENERIC,
    CK_LOW,
    CK_OLD,
    CK_OLD_LOW,
    CK_RISCV,
    CMA_FAILED,
    CMA_OTHER,
    CMA_RESERVED,
    CMDLINE,
    CMDLINE_EARLY,
    DT_CMA,
    E820,
    E820_ENTRY,
    E820_GAP,
    E820_REMOVE,
    E820_UPDATE,
    EFI_MD,
    ENCRYPT,
    FREE_INITRD,
    KASLR_OFF,
    KASLR_ON,
    LINUX_VERSION,
    MACHINE_MODEL,
    MEM_PART,
    MEMBLOCK_OP,
    MEMORY,
    NODE_DATA,
    NODE_RANGE,
    PAGE_SIZE,
    RAMDISK,
    RAMDISK_NEW,
    SWIOTLB,
    SWIOTLB_ADJ,
    TDX,
    WP_RODATA,
    ZONE,
    clean_line,
)
from crashplan.memmap.model import Span

__all__ = ["BootLog", "read_boot_log"]


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


# the prefixes of the lines that list a firmware table (e820__print_table and its callers)
_E820_TABLES = ("BIOS-e820", "BIOS-e801", "BIOS-88", "user", "modified", "extended", "reserve setup_data")


class _LogPass:
    """One pass over a log: :meth:`run` hands each cleaned line to the readers in turn until one takes it."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.log = BootLog(source=source)
        self.text = text
        # the state of the pass
        self.e820_table: list[tuple[int, int, str]] = []
        self.e820_section: str | None = None
        self.in_nodes = False
        self.in_zones = False
        self.cma_run: list[tuple[int, str, Span | None]] = []  # consecutive cma: lines
        self.crash_seen = False

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

    # -- the loop: one line at a time; each reader below takes the line (True) or leaves it to the next

    def run(self) -> BootLog:
        text = self.text
        if "\x00" in text:
            lineno = text[: text.index("\x00")].count("\n") + 1
            raise self.fail(lineno, "binary data (NUL byte): expected the text of a kernel log (dmesg, journalctl -k)")
        # lines end at "\n" only (as editors and error positions count them); a CR before it is noise
        raw_lines = text.split("\n")
        if raw_lines and raw_lines[-1] == "":
            raw_lines.pop()
        cleaned: list[str] = []
        readers = (self._cma_line, self._crash_line, self._banner, self._firmware_map, self._sections,
                   self._early_allocation, self._fact)
        for lineno, raw in enumerate(raw_lines, 1):
            s = clean_line(raw)
            cleaned.append(s)
            if not s:
                continue
            for read in readers:
                if read(s, lineno):
                    break
        lg = self.log
        self._end_cma_run(crash=False)
        lg.e820 = self.e820_table
        if lg.arch is None:
            lg.arch = _guess_arch(cleaned)
        return lg

    def _end_cma_run(self, *, crash: bool) -> None:
        """A run of ``cma:`` lines ended: the crashkernel CMA reservation's when the next line says so,
        else the DMA CMA area's."""
        lg = self.log
        for _, _, span in self.cma_run:
            if span is not None:
                if crash:
                    lg.crash_cma.append(Span(span.start, span.end, "crashkernel CMA"))
                else:
                    lg.dma_cma.append(span)
        if crash:
            lg.crash_lines.extend(t for _, t, _ in self.cma_run)
        self.cma_run = []

    def _cma_line(self, s: str, lineno: int) -> bool:
        if not CMA_OTHER.match(s):
            if self.cma_run:
                self._end_cma_run(crash=bool(CK_CMA_DONE.match(s)))
            return False
        m = CMA_RESERVED.match(s)
        span = None
        if m:
            size = self.dec(m.group(1), 20, lineno)
            base = self.hex(m.group(2), lineno)
            span = Span(base, base + size, "cma")
        elif not CMA_FAILED.match(s) and s.startswith("cma: Reserved"):
            raise self.fail(lineno, f"unreadable CMA line {s[:60]!r}: expected 'cma: Reserved N MiB at 0xADDR'")
        self.cma_run.append((lineno, s, span))
        return True

    def _banner(self, s: str, lineno: int) -> bool:
        """The release and architecture (``Linux version``) and the command line."""
        lg = self.log
        m = LINUX_VERSION.match(s)
        if m and lg.release is None:
            lg.release = m.group(1)
            lg.arch = _arch_from_banner(m.group(1), m.group(2))
            return True
        m = CMDLINE_EARLY.match(s)
        if m:
            lg.cmdline = m.group(1)
            return True
        m = CMDLINE.match(s)
        if m:
            if lg.cmdline is None:
                lg.cmdline = m.group(1)
            return True
        return False

    def _firmware_map(self, s: str, lineno: int) -> bool:
        """The e820 table (as printed, then as updated up to the crash reservation) and efi=debug's map."""
        if s.endswith("physical RAM map:"):
            self.e820_section = s.split(maxsplit=1)[0]
            if self.e820_section in ("user-defined", "modified", "extended"):
                self.e820_table = []
            return True
        if E820.match(s):
            if E820_GAP.match(s):
                return True
            m = E820_ENTRY.match(s)
            if not m:
                raise self.fail(lineno, f"unreadable E820 entry {s[:70]!r}: "
                                        "expected 'BIOS-e820: [mem 0xSTART-0xEND] TYPE'")
            who = m.group(1).strip()
            a, b = self.mem(m, 2, lineno)
            if who in _E820_TABLES:
                if who == "BIOS-e820" and self.e820_section not in (None, "BIOS-provided"):
                    self.e820_table = []
                self.e820_section = self.e820_section or "BIOS-provided"
                self.e820_table.append((a, b, m.group(4)))
            return True
        m = E820_UPDATE.match(s)
        if m and not self.crash_seen:
            a, b = self.mem(m, 1, lineno)
            self.e820_table = _e820_update(self.e820_table, a, b, m.group(3), m.group(4))
            return True
        m = E820_REMOVE.match(s)
        if m and not self.crash_seen:
            a, b = self.mem(m, 1, lineno)
            self.e820_table = _e820_remove(self.e820_table, a, b)
            return True
        m = EFI_MD.match(s)
        if m:
            a, b = self.mem(m, 2, lineno)
            self.log.efi.append((a, b, m.group(1).strip()))
            return True
        return False

    def _sections(self, s: str, lineno: int) -> bool:
        """memblock.memory as free_area_init prints it (``Early memory node ranges``) and the zones."""
        lg = self.log
        if s.startswith("Early memory node ranges"):
            self.in_nodes = True
            lg.node_ranges = []
            return True
        if self.in_nodes:
            m = NODE_RANGE.match(s)
            if m:
                a, b = self.mem(m, 2, lineno)
                lg.node_ranges.append((self.dec(m.group(1), 0, lineno), a, b))
                return True
            if re.match(r"^\s*node\s+\d+:", s):
                raise self.fail(lineno, f"unreadable node range {s[:70]!r}: expected 'node N: [mem 0xSTART-0xEND]'")
            self.in_nodes = False
        if s.startswith("Zone ranges:"):
            self.in_zones = True
            return True
        if self.in_zones:
            m = ZONE.match(s)
            if m:
                lg.zones[m.group(1)] = None if m.group(2) is None else self.mem(m, 2, lineno)
                return True
            self.in_zones = False
        return False

    def _early_allocation(self, s: str, lineno: int) -> bool:
        """What was allocated before the crash reservation: the initrd, NODE_DATA, ACPI tables, DMA CMA."""
        lg = self.log
        m = RAMDISK.match(s)
        if m:
            a, b = self.mem(m, 1, lineno)
            lg.initrd = Span(a, b, "initrd")
            return True
        m = RAMDISK_NEW.match(s)
        if m:
            a, b = self.mem(m, 1, lineno)
            # memblock_phys_alloc_range(PAGE_ALIGN(ramdisk_size), …); the log prints the unaligned end
            lg.initrd = Span(a, -(-b // PAGE_SIZE) * PAGE_SIZE, "initrd")
            return True
        m = NODE_DATA.match(s)
        if m:
            a, b = self.mem(m, 2, lineno)
            nid = m.group(1) or "0"
            lg.node_data.append(Span(a, b, f"NODE_DATA({nid})"))
            return True
        m = ACPI_RESERVE.match(s)
        if m:
            a, b = self.mem(m, 2, lineno)
            lg.acpi.append(Span(a, b, f"ACPI {m.group(1)}"))
            return True
        m = DT_CMA.match(s)
        if m:
            base = self.hex(m.group(1), lineno)
            lg.dma_cma.append(Span(base, base + self.dec(m.group(2), 20, lineno), "cma"))
            return True
        m = MEMBLOCK_OP.match(s)
        if m:
            a, b = self.hex(m.group(2), lineno), self.hex(m.group(3), lineno) + 1
            if not self.crash_seen:
                lg.memblock_ops.append((m.group(1), a, b, m.group(4)))
            return True
        return False

    def _fact(self, s: str, lineno: int) -> bool:
        """Single facts: SWIOTLB, the kernel's size, memory encryption, KASLR, VA bits, EFI, the model."""
        lg = self.log
        m = SWIOTLB.match(s)
        if m:
            a, b = self.mem(m, 1, lineno)
            lg.swiotlb_size = b - 1 - a  # swiotlb prints an exclusive end
            return True
        m = SWIOTLB_ADJ.match(s)
        if m:
            lg.swiotlb_adjusted = self.dec(m.group(1), 20, lineno)
            return True
        m = MEMORY.match(s)
        if m:
            parts = {k: int(v) << 10 for v, k in MEM_PART.findall(m.group(3))}
            lg.memory_line = (self.dec(m.group(1), 10, lineno), self.dec(m.group(2), 10, lineno), parts)
            return True
        m = ENCRYPT.match(s)
        if m:
            feats = m.group(1)
            if "TDX" in feats:
                lg.mem_encrypt = "tdx"
            elif "SEV" in feats:
                lg.mem_encrypt = "sev"
            elif "SME" in feats:
                lg.mem_encrypt = lg.mem_encrypt or "sme"
            return True
        if TDX.match(s):
            lg.mem_encrypt = "tdx"
            return True
        return self._flag(s) or self._size_fact(s, lineno)

    def _flag(self, s: str) -> bool:
        lg = self.log
        if KASLR_OFF.match(s):
            lg.kaslr = False
        elif KASLR_ON.match(s):
            lg.kaslr = True
        elif "52-bit Virtual Addressing" in s and s.startswith("CPU features"):
            lg.va52 = True
        elif s.startswith("efi: UEFI not found"):
            lg.efi_boot = False
        elif s.startswith(("efi: EFI v", "efi: ACPI=")):
            lg.efi_boot = True
        else:
            m = MACHINE_MODEL.match(s)
            if not m:
                return False
            lg.machine_model = m.group(1).strip()
        return True

    def _size_fact(self, s: str, lineno: int) -> bool:
        m = FREE_INITRD.match(s)
        if m:
            self.log.initrd_size = self.dec(m.group(1), 10, lineno)
            return True
        m = WP_RODATA.match(s)
        if m:
            self.log.rodata_span = self.dec(m.group(1), 10, lineno)
            return True
        return False

    def _crash_line(self, s: str, lineno: int) -> bool:
        """A line of that boot's crash reservation (``memmap.crash``, never ``reserved``)."""
        if CK_CMA_DONE.match(s):
            self.log.crash_lines.append(s)
        elif not self._crash_region(s, lineno):
            return False
        self.crash_seen = True
        return True

    def _crash_region(self, s: str, lineno: int) -> bool:
        lg = self.log
        for rx, kind in ((CK_GENERIC, "Crash kernel"), (CK_LOW, "Crash kernel (low)"), (CK_RISCV, "Crash kernel")):
            m = rx.match(s)
            if m:
                a, b = self.hex(m.group(1), lineno), self.hex(m.group(2), lineno)
                if b <= a:
                    raise self.fail(lineno, f"{m.group(1)} - {m.group(2)} ends before it starts")
                lg.crash.append(Span(a, b, kind))
                lg.crash_lines.append(s)
                return True
        m = CK_OLD_LOW.match(s)
        if m:
            size, at = self.dec(m.group(1), 20, lineno), self.dec(m.group(2), 20, lineno)
            lg.crash.append(Span(at, at + size, "Crash kernel (low)"))
            lg.crash_lines.append(s)
            return True
        m = CK_OLD.match(s)
        if m:
            size, at = self.dec(m.group(1), 20, lineno), self.dec(m.group(2), 20, lineno)
            lg.crash.append(Span(at, at + size, "Crash kernel"))
            lg.crash_lines.append(s)
            return True
        if CK_ANY.match(s):
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




def read_boot_log(text: str, *, source: str = "<boot log>") -> BootLog:
    """The raw facts of a boot log (see ``parse_boot_log``)."""
    return _LogPass(text, source).run()
