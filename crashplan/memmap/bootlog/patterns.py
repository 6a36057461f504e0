"""The lines of a kernel boot log crashplan reads: how a line is cleaned, and the pattern of each message.

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

PAGE_SIZE = 4096

# ---------------------------------------------------------------------------------------------
# Line cleaning: timestamps, syslog/journal prefixes, printk levels, ANSI, CRs
# ---------------------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_PRINTK_LEVEL = re.compile(r"^<\d{1,3}>")
_DMESG_X = re.compile(
    r"^(?:kern|user|mail|daemon|auth|syslog|lpr|news)\s*:\s*(?:emerg|alert|crit|err|warn|notice|info|debug)\s*:\s?"
)
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


def clean_line(raw: str) -> str:
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
LINUX_VERSION = re.compile(r"^Linux version (\S+)(.*)$")
CMDLINE_EARLY = re.compile(r"^Command line: ?(.*)$")
CMDLINE = re.compile(r"^Kernel command line: ?(.*)$")
E820 = re.compile(r"^(BIOS-e820|BIOS-e801|BIOS-88|user|modified|e820|extended|reserve setup_data)\s*: ?\[(mem|gap) ")
E820_ENTRY = re.compile(r"^(\S[^:]*?):\s*\[mem " + _H + r"-" + _H + r"\]\s*(.*?)\s*$")
E820_GAP = re.compile(r"^\S[^:]*:\s*\[gap ")
E820_UPDATE = re.compile(r"^e820: update \[mem " + _H + r"-" + _H + r"\] (.+?) ==> (.+?)\s*$")
E820_REMOVE = re.compile(r"^e820: remove \[mem " + _H + r"-" + _H + r"\] ?(.*?)\s*$")
EFI_MD = re.compile(
    r"^efi:\s+mem\d+: \[([^\]|]+?)\s*\|[^\]]*\] range=\[" + _H + r"-" + _H + r"\]"
)
NODE_RANGE = re.compile(r"^\s*node\s+(\d+): \[mem " + _H + r"-" + _H + r"\]\s*$")
ZONE = re.compile(r"^\s*(DMA|DMA32|Normal|HighMem|Movable|Device)\s+(?:\[mem " + _H + r"-" + _H + r"\]|empty)\s*$")
RAMDISK = re.compile(r"^RAMDISK: \[mem " + _H + r"-" + _H + r"\]")
RAMDISK_NEW = re.compile(r"^Allocated new RAMDISK: \[mem " + _H + r"-" + _H + r"\]")
NODE_DATA = re.compile(r"^(?:NUMA: )?NODE_DATA(?:\((\d+)\))?(?: allocated)? \[mem " + _H + r"-" + _H + r"\]")
ACPI_RESERVE = re.compile(r"^ACPI: Reserving (\S+) table memory at \[mem " + _H + r"-" + _H + r"\]")
CMA_RESERVED = re.compile(r"^cma: Reserved (\d+) MiB at (?:0x)?([0-9a-fA-F]+)(?: on node (-?\d+))?\s*$")
CMA_FAILED = re.compile(r"^cma: Failed to reserve (\d+) MiB")
CMA_OTHER = re.compile(r"^cma: ")
DT_CMA = re.compile(r"^Reserved memory: created CMA memory pool at (?:0x)?([0-9a-fA-F]+), size (\d+) MiB")
SWIOTLB = re.compile(r"^software IO TLB: mapped \[mem " + _H + r"-" + _H + r"\] \((\d+)MB\)")
SWIOTLB_ADJ = re.compile(r"^SWIOTLB bounce buffer size adjusted to (\d+)MB")
MEMORY = re.compile(r"^Memory: (\d+)K/(\d+)K available \((.*)\)")
MEM_PART = re.compile(r"(\d+)K (kernel code|rwdata|rodata|init|bss|data)")
ENCRYPT = re.compile(r"^(?:AMD )?Memory Encryption Features active:? ?(.*)$")
TDX = re.compile(r"^tdx: Guest detected")
MEMBLOCK_OP = re.compile(
    r"^(memblock_reserve|memblock_phys_free|memblock_free|memblock_remove|memblock_add|memblock_mark_nomap):? \["
    + _H + r"-" + _H + r"\]\s*(\S*)"
)
KASLR_OFF = re.compile(r"^KASLR disabled")
KASLR_ON = re.compile(r"^KASLR enabled")
MACHINE_MODEL = re.compile(r"^Machine model: (.*)$")
FREE_INITRD = re.compile(r"^Freeing initrd memory: (\d+)K")
WP_RODATA = re.compile(r"^Write protecting the kernel read-only data: (\d+)k")

# Crash-reservation lines (the result of that boot's crashkernel= parameters)
CK_GENERIC = re.compile(r"^crashkernel reserved: 0x([0-9a-fA-F]+) - 0x([0-9a-fA-F]+) \((\d+) MB\)")
CK_LOW = re.compile(r"^crashkernel low memory reserved: 0x([0-9a-fA-F]+) - 0x([0-9a-fA-F]+) \((\d+) MB\)")
CK_RISCV = re.compile(r"^crashkernel: reserved 0x([0-9a-fA-F]+) - 0x([0-9a-fA-F]+) \((\d+) MB\)")
CK_OLD = re.compile(r"^(?:setup: )?Reserving (\d+)MB of memory at (\d+)MB for crashkernel")
CK_OLD_LOW = re.compile(r"^Reserving (\d+)MB of low memory at (\d+)MB for crashkernel")
CK_CMA_DONE = re.compile(r"^crashkernel CMA (?:reserved: |reservation failed: )")
CK_ANY = re.compile(
    r"^(?:crashkernel|cannot allocate crashkernel|Cannot reserve \d+MB crashkernel|Crash kernel|"
    r"setup: crashkernel|Ignoring crashkernel|Failed to reserve memory for crashkernel)"
)

KMSG_PREFIX = re.compile(r"^\d{1,3},\d+,\d+,[^;]*;")  # /dev/kmsg: "pri,seq,usec,flags;text"
